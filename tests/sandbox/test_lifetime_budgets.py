"""Lifetime budgets and the platform's refusal of a daily ↔ lifetime switch (contract §4.8:
PLATFORM_REJECTED for a mid-flight switch and for a lifetime budget past `endTime`)."""

from datetime import UTC, datetime, timedelta

import pytest

from .support import ACME, NORDLICHT, ads, campaigns, error_of, pending


def at(days: float) -> str:
    """An ISO time `days` from the sandbox clock's now (the clock starts at wall time)."""
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def autopilot(sandbox):
    """Acme's Meta layer lets structural writes through, so creates dispatch at once."""
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    return sandbox


def create(sandbox, *, start_days=-5, end_days=30, **budget) -> str:
    response = sandbox.api(
        "POST",
        ads(ACME, "/meta/campaigns"),
        json={
            "adAccountId": sandbox.api("GET", ads(ACME, "/ad-accounts")).json()["items"][0][
                "adAccountId"
            ],
            "name": "Lifetime test",
            "outcome": "conversions",
            "campaignManagementMode": "autopilot",  # tactical auto: budget writes dispatch
            "creativeMode": "draft",
            "startTime": at(start_days),
            "endTime": at(end_days),
            **budget,
        },
    )
    assert response.status_code == 202 and response.json()["status"] == "dispatched"
    return response.json()["campaignId"]


def budget(sandbox, campaign_id, **body):
    return sandbox.api("PATCH", ads(ACME, f"/meta/campaigns/{campaign_id}/budget"), json=body)


def row(sandbox, campaign_id) -> dict:
    return next(c for c in campaigns(sandbox) if c["campaignId"] == campaign_id)


def test_a_lifetime_campaign_has_a_lifetime_budget_an_end_and_no_daily_budget(autopilot):
    campaign = row(autopilot, create(autopilot, lifetimeBudgetCents=300_000))
    assert campaign["lifetimeBudgetCents"] == 300_000 and campaign["dailyBudgetCents"] is None
    assert campaign["endTime"]


def test_a_running_lifetime_budget_can_change(autopilot):
    campaign_id = create(autopilot, lifetimeBudgetCents=300_000)
    response = budget(autopilot, campaign_id, lifetimeBudgetCents=360_000)
    assert response.status_code == 202 and response.json()["status"] == "dispatched"
    assert row(autopilot, campaign_id)["lifetimeBudgetCents"] == 360_000


@pytest.mark.parametrize(
    ("start", "switch", "has", "wants"),
    [
        ({"dailyBudgetCents": 5000}, {"lifetimeBudgetCents": 150_000}, "daily", "lifetime"),
        ({"lifetimeBudgetCents": 150_000}, {"dailyBudgetCents": 5000}, "lifetime", "daily"),
    ],
)
def test_a_running_campaign_cannot_switch_budget_type(autopilot, start, switch, has, wants):
    campaign_id = create(autopilot, **start)
    before = row(autopilot, campaign_id)
    response = budget(autopilot, campaign_id, **switch)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "PLATFORM_REJECTED"
    assert error["details"]["platformCode"] == "budget_type_switch_not_allowed"
    assert f"from a {has} to a {wants} budget" in error["message"]
    after = row(autopilot, campaign_id)
    assert (after["dailyBudgetCents"], after["lifetimeBudgetCents"]) == (
        before["dailyBudgetCents"],
        before["lifetimeBudgetCents"],
    )
    # The gate allowed it and the platform refused: recorded, not rolled back.
    audit = autopilot.api("GET", "/v1/audit-log", params={"limit": 1}).json()["items"][0]
    assert audit["requestId"] == response.headers["X-Request-Id"]
    assert audit["eventType"] == "ads.write.dispatched"
    assert audit["data"]["status"] == "dispatch_failed"
    assert audit["data"]["verdictId"] == error["details"]["verdictId"]


def test_a_campaign_that_has_not_started_may_switch_budget_type(autopilot):
    campaign_id = create(autopilot, start_days=3, dailyBudgetCents=5000)
    response = budget(autopilot, campaign_id, lifetimeBudgetCents=200_000)
    assert response.status_code == 202 and response.json()["status"] == "dispatched"
    after = row(autopilot, campaign_id)
    assert after["lifetimeBudgetCents"] == 200_000 and after["dailyBudgetCents"] is None
    autopilot.control("clock", advanceSeconds=4 * 86400)  # now it has started
    refused = budget(autopilot, campaign_id, dailyBudgetCents=5000)
    assert refused.status_code == 422 and error_of(refused)["code"] == "PLATFORM_REJECTED"


def test_a_lifetime_budget_cannot_change_after_the_end_time(autopilot):
    campaign_id = create(autopilot, end_days=1, lifetimeBudgetCents=100_000)
    autopilot.control("clock", advanceSeconds=2 * 86400)
    response = budget(autopilot, campaign_id, lifetimeBudgetCents=120_000)
    assert response.status_code == 422
    assert error_of(response)["details"]["platformCode"] == "lifetime_budget_after_end_time"
    assert row(autopilot, campaign_id)["lifetimeBudgetCents"] == 100_000


def test_on_a_draft_axis_the_switch_queues_and_its_dispatch_fails_with_the_platforms_reason(
    autopilot,
):
    campaign_id = create(autopilot, lifetimeBudgetCents=150_000)
    autopilot.control(
        "campaign-authority",
        projectId=ACME,
        platform="meta",
        campaignId=campaign_id,
        authority={"tactical": "draft"},
    )
    queued = budget(autopilot, campaign_id, dailyBudgetCents=5000)
    assert queued.status_code == 202 and queued.json()["status"] == "pending"
    pending_id = queued.json()["pendingId"]
    action = next(r for r in pending(autopilot, limit=200) if r["pendingId"] == pending_id)
    assert action["currentValue"] == {"dailyBudgetCents": None}
    approve = autopilot.api("POST", ads(ACME, f"/meta/pending/{pending_id}/approve"), json={})
    assert approve.status_code == 200
    autopilot.control("tick")
    (failed,) = [
        r
        for r in pending(autopilot, status="dispatch_failed", limit=200)
        if r["pendingId"] == pending_id
    ]
    assert failed["dispatchFailureReason"].startswith("platform_rejected: Meta refused")
    assert "cannot switch from a lifetime to a daily budget" in failed["dispatchFailureReason"]
    assert row(autopilot, campaign_id)["lifetimeBudgetCents"] == 150_000


def test_the_customers_word_comes_before_the_platforms(sandbox):
    """Gate order (§2.6): a frozen layer denies before anything reaches the platform."""
    frozen = next(c for c in campaigns(sandbox, NORDLICHT) if c["platform"] == "meta_ads")
    response = sandbox.api(
        "PATCH",
        ads(NORDLICHT, f"/meta/campaigns/{frozen['campaignId']}/budget"),
        json={"lifetimeBudgetCents": 500_000},
    )
    assert response.status_code == 403
    assert error_of(response)["details"]["reason"] == "kill_switch_active"
