"""Partner scale: generated customers (sandbox/scale.py), the optimizer proposing over time
(sandbox/proposer.py), the org-wide audit feed that names what changed, and the rate limit
shared by every customer of one key."""

import io
import time
from collections import Counter

import pytest
from django.core.management import call_command

from dashboard.sandbox import proposer as proposer_module

from .support import (
    ACME,
    BRIGHTSIDE,
    NORDLICHT,
    READONLY_KEY,
    Receiver,
    ads,
    error_of,
    pending,
    start_of_a_fresh_minute,
    walk,
)

PLATFORMS = ("meta", "tiktok", "apple")


def generated(sandbox) -> list[dict]:
    items, _ = walk(sandbox, "/v1/projects", limit=200)
    return [p for p in items if p["customerExternalId"].startswith("scale-")]


def pending_count(sandbox, project, platform) -> int:
    return sandbox.api("GET", ads(project, f"/{platform}/pending/count")).json()["count"]


def feed(sandbox, since, **params) -> list[dict]:
    items, _ = walk(sandbox, "/v1/audit-log", since=since, limit=200, **params)
    return items


@pytest.fixture
def proposing(sandbox):
    """Switches the proposer off again whatever the test did."""
    yield sandbox
    sandbox.control("proposer", perMinute=0)


@pytest.fixture
def receiver():
    hooks = Receiver()
    yield hooks
    hooks.close()


# --- generated customers ---------------------------------------------------------------------


def test_each_generated_customer_has_three_platforms_and_ten_to_forty_pending_actions(sandbox):
    made = sandbox.control("customers", count=6)
    customers = generated(sandbox)
    assert made["customers"] == 6 == len(customers)
    assert len({c["name"] for c in customers}) == 6
    total = 0
    for customer in customers:
        accounts = sandbox.api("GET", ads(customer["id"], "/ad-accounts")).json()["items"]
        assert sorted(a["platform"] for a in accounts) == ["apple_ads", "meta_ads", "tiktok_ads"]
        assert len({a["currency"] for a in accounts}) == 1  # the customer's business currency
        campaigns = sandbox.api("GET", ads(customer["id"], "/campaigns")).json()["items"]
        assert {c["platform"] for c in campaigns} == {"meta_ads", "tiktok_ads", "apple_ads"}
        counts = [pending_count(sandbox, customer["id"], p) for p in PLATFORMS]
        assert 10 <= sum(counts) <= 40 and sum(1 for n in counts if n) >= 2
        total += sum(counts)
    assert total == made["pendingActions"]


def test_two_hundred_customers_make_about_six_thousand_pending_actions(sandbox):
    out = io.StringIO()
    demo = sandbox_state(sandbox)["pendingByStatus"]["pending"]
    call_command("sandbox_seed", "--customers", "200", stdout=out)
    made = sandbox_state(sandbox)["pendingByStatus"]["pending"] - demo
    assert 5_500 <= made <= 6_500, made
    assert f"Added 200 generated customers with {made} pending actions in " in out.getvalue()


def sandbox_state(sandbox) -> dict:
    import requests

    return requests.get(
        f"{sandbox.base_url}/_control/state",
        headers={"X-Sandbox-Control-Token": sandbox.control_token},
        timeout=30,
    ).json()


def test_customers_use_five_currencies_with_budgets_in_each_currencys_minor_unit(sandbox):
    sandbox.control("customers", count=5)
    budgets = {}
    for customer in generated(sandbox):
        accounts = sandbox.api("GET", ads(customer["id"], "/ad-accounts")).json()["items"]
        currency = accounts[0]["currency"]
        campaigns = sandbox.api("GET", ads(customer["id"], "/campaigns")).json()["items"]
        budgets[currency] = [c["dailyBudgetCents"] for c in campaigns if c["dailyBudgetCents"]]
    assert set(budgets) == {"USD", "EUR", "GBP", "JPY", "KRW"}
    # Sized as a business in that currency sets them: ¥3,000 or more, ₩27,000 or more.
    assert min(budgets["JPY"]) >= 3_000 and all(b % 100 == 0 for b in budgets["JPY"])
    assert min(budgets["KRW"]) >= 27_000 and all(b % 1000 == 0 for b in budgets["KRW"])
    assert max(budgets["USD"]) <= 25_000


def test_generated_pending_actions_spread_over_the_week_types_and_platforms(sandbox):
    sandbox.control("customers", count=12)
    now = sandbox.control("clock")["now"]
    rows = []
    for customer in generated(sandbox):
        for platform in PLATFORMS:
            rows += pending(sandbox, customer["id"], platform, limit=200)
    assert Counter(r["platform"] for r in rows).keys() == set(PLATFORMS)
    types = Counter(r["actionType"] for r in rows)
    assert len(types) == 8 and types.most_common(1)[0][0] == "update_budget"
    assert not any(
        r["actionType"] in ("pause_ad", "push_creative", "replace_creative", "prune_creative")
        for r in rows
        if r["platform"] == "apple"
    )
    expiring = [r for r in rows if r["expiresAt"] <= _plus_hours(now, 24)]
    assert 0.05 * len(rows) <= len(expiring) <= 0.3 * len(rows)
    assert all(r["status"] == "pending" and r["expiresAt"] > now for r in rows)
    budget = [r for r in rows if r["actionType"] == "update_budget"]
    for row in budget:
        (field, current), (new_field, new) = (
            *row["currentValue"].items(),
            *row["newValue"].items(),
        )
        assert field == new_field and current < new <= current * 1.5


def _plus_hours(iso: str, hours: int) -> str:
    from datetime import datetime, timedelta

    value = datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(hours=hours)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_seeding_customers_again_adds_only_the_missing_ones(sandbox):
    first = sandbox.control("customers", count=3)
    ids = {c["id"]: c["name"] for c in generated(sandbox)}
    again = sandbox.control("customers", count=5)
    assert first["customers"] == 3 and again["customers"] == 2
    now = {c["id"]: c["name"] for c in generated(sandbox)}
    assert len(now) == 5 and {k: now[k] for k in ids} == ids
    assert sandbox.control("customers", count=5) == {"customers": 0, "pendingActions": 0}


# --- the proposer ----------------------------------------------------------------------------


def test_the_proposer_queues_new_pending_actions_on_the_sandbox_clock(proposing):
    sandbox = proposing
    before = {p: pending_count(sandbox, ACME, p) for p in PLATFORMS}
    started = sandbox.control("clock")["now"]
    # One a minute: the seconds the test itself takes never add a proposal.
    state = sandbox.control("proposer", perMinute=1, projectIds=[ACME])
    assert state["active"] and state["perMinute"] == 1 and state["projectIds"] == [ACME]
    sandbox.control("clock", advanceSeconds=360)
    after = {p: pending_count(sandbox, ACME, p) for p in PLATFORMS}
    assert sum(after.values()) - sum(before.values()) == 6
    queued = feed(sandbox, started, eventType="ads.write.queued")
    assert len(queued) == 6 and {row["projectId"] for row in queued} == {ACME}
    new_rows = {
        r["pendingId"]: r
        for p in PLATFORMS
        for r in pending(sandbox, ACME, p, limit=200)
        if r["createdAt"] > started
    }
    assert {row["data"]["pendingId"] for row in queued} == set(new_rows)
    for row in queued:
        action = new_rows[row["data"]["pendingId"]]
        assert row["data"]["platform"] == action["platform"]
        assert row["data"]["actionType"] == action["actionType"]
        assert row["actor"] == "optimizer" and row["data"]["verdict"] == "queue"
        assert action["source"] == "optimizer"


def test_every_proposal_sits_on_a_draft_axis_of_a_layer_the_customer_has_not_frozen(proposing):
    sandbox = proposing
    sandbox.control("kill-switch", projectId=ACME, platform="meta", active=True)
    before = {p: {r["pendingId"] for r in pending(sandbox, ACME, p, limit=200)} for p in PLATFORMS}
    sandbox.control("proposer", perMinute=1, projectIds=[ACME])
    sandbox.control("clock", advanceSeconds=30 * 60)
    new = {
        p: [r for r in pending(sandbox, ACME, p, limit=200) if r["pendingId"] not in before[p]]
        for p in PLATFORMS
    }
    assert new["meta"] == [] and len(new["tiktok"]) + len(new["apple"]) == 30
    # Acme TikTok: structural off. Acme Apple: creative off, and Apple has no ads.
    assert not {r["actionType"] for r in new["tiktok"]} & {"pause_ad", "pause_adset"}
    assert {r["actionType"] for r in new["apple"]} <= {
        "update_budget",
        "update_schedule",
        "pause_adset",
    }
    assert new["tiktok"] and new["apple"]


def test_each_proposal_fires_the_webhooks_of_an_optimizer_run(proposing, receiver):
    sandbox = proposing
    sandbox.control("tick")  # settle the seeded story before listening
    sandbox.control("webhooks", url=receiver.url, secret="whsec_x", autoDeliver=False)
    sandbox.control("proposer", perMinute=1, projectIds=[ACME])
    sandbox.control("clock", advanceSeconds=180)
    sandbox.api("GET", "/v1/whoami")  # any request makes what is due
    sandbox.control("tick")
    receiver.wait_for(6)
    runs = receiver.events("ads.optimizer.run.completed")
    jobs = receiver.events("job.completed")
    assert len(runs) == 3 and len(jobs) == 3
    pending_ids = set()
    for event in runs:
        assert event["projectId"] == ACME
        data = event["data"]
        assert data["dryRun"] is False and data["summary"]["queued"] == len(data["changes"]) == 1
        pending_ids |= {c["pendingId"] for c in data["changes"] if c["outcome"] == "queued"}
        run = sandbox.api("GET", ads(ACME, f"/optimizer/runs/{data['runId']}")).json()
        assert run["status"] == "completed" and run["changes"] == data["changes"]
    assert {j["data"]["result"]["runId"] for j in jobs} == {r["data"]["runId"] for r in runs}
    listed = {r["pendingId"] for p in PLATFORMS for r in pending(sandbox, ACME, p, limit=200)}
    assert pending_ids <= listed


def test_the_proposer_keeps_proposing_with_nobody_calling_the_api(proposing):
    sandbox = proposing
    before = sandbox_state(sandbox)["pendingByStatus"]["pending"]
    sandbox.control("proposer", perMinute=240)  # one every quarter second
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # control reads never make proposals themselves
        if sandbox_state(sandbox)["pendingByStatus"]["pending"] >= before + 3:
            break
        time.sleep(0.2)
    assert sandbox_state(sandbox)["pendingByStatus"]["pending"] >= before + 3
    sandbox.control("proposer", perMinute=0)
    time.sleep(1.0)
    stopped = sandbox_state(sandbox)["pendingByStatus"]["pending"]
    time.sleep(1.5)
    assert sandbox_state(sandbox)["pendingByStatus"]["pending"] == stopped
    assert sandbox_state(sandbox)["proposer"]["active"] is False


def test_the_proposer_stops_by_itself_at_its_end_and_on_a_reset(proposing):
    sandbox = proposing
    before = sandbox_state(sandbox)["pendingByStatus"]["pending"]
    sandbox.control("proposer", perMinute=60, durationSeconds=20)
    sandbox.control("clock", advanceSeconds=600)
    sandbox.api("GET", "/v1/whoami")
    state = sandbox_state(sandbox)
    assert state["proposer"]["active"] is False
    assert before + 18 <= state["pendingByStatus"]["pending"] <= before + 20
    sandbox.control("proposer", perMinute=60)
    pacer = proposer_module._pacer[0]
    assert pacer.is_alive()
    sandbox.control("reset", seed=True)
    pacer.join(timeout=5)
    assert not pacer.is_alive()


def test_the_setting_turns_the_proposer_on_for_make_run(sandbox, settings):
    settings.SANDBOX_PROPOSER_PER_MINUTE = 1
    before = sandbox_state(sandbox)["pendingByStatus"]["pending"]
    sandbox.api("GET", "/v1/whoami")  # the first request starts the schedule
    assert sandbox_state(sandbox)["proposer"] | {"nextAt": None} == {
        "perMinute": 1,
        "active": True,
        "nextAt": None,
        "until": None,
        "maxPending": 10_000,
        "projectIds": [],
        "source": "setting",
    }
    sandbox.control("clock", advanceSeconds=360)
    sandbox.api("GET", "/v1/whoami")
    assert sandbox_state(sandbox)["pendingByStatus"]["pending"] == before + 6
    settings.SANDBOX_PROPOSER_PER_MINUTE = 0


def test_the_proposer_idles_at_its_pending_cap(proposing):
    sandbox = proposing
    have = sandbox_state(sandbox)["pendingByStatus"]["pending"]
    sandbox.control("proposer", perMinute=60, maxPending=have + 4)
    sandbox.control("clock", advanceSeconds=30)
    sandbox.api("GET", "/v1/whoami")
    assert sandbox_state(sandbox)["pendingByStatus"]["pending"] == have + 4


def test_the_proposer_control_refuses_what_would_never_stop(sandbox):
    import requests

    for body in (
        {"perMinute": 6, "durationSeconds": 10 * 86400},
        {"perMinute": -1},
        {"perMinute": 6, "projectIds": ["prj_nope"]},
    ):
        response = requests.post(
            f"{sandbox.base_url}/_control/proposer",
            json=body,
            headers={"X-Sandbox-Control-Token": sandbox.control_token},
            timeout=10,
        )
        assert response.status_code == 400, body


# --- one feed read tells which (project, platform) changed -----------------------------------


def test_the_audit_feed_names_the_project_and_platform_of_every_decision(proposing):
    sandbox = proposing
    since = sandbox.control("clock")["now"]
    first, second = pending(sandbox, ACME, "tiktok")[:2]
    sandbox.api("POST", ads(ACME, f"/tiktok/pending/{first['pendingId']}/approve"), json={})
    sandbox.api(
        "POST",
        ads(ACME, f"/tiktok/pending/{second['pendingId']}/reject"),
        json={"reason": "Not this week."},
    )
    sandbox.control("proposer", perMinute=1, projectIds=[BRIGHTSIDE])
    sandbox.control("clock", advanceSeconds=60)  # a proposer step is the optimizer's tick
    rows = feed(sandbox, since)
    changed = {
        (row["eventType"], row["projectId"], row["data"].get("platform"), row["data"]["pendingId"])
        for row in rows
        if row["eventType"].startswith("ads.pending.")
    }
    assert {
        ("ads.pending.approved", ACME, "tiktok", first["pendingId"]),
        ("ads.pending.dispatched", ACME, "tiktok", first["pendingId"]),
        ("ads.pending.rejected", ACME, "tiktok", second["pendingId"]),
    } <= changed
    queued = [r for r in rows if r["eventType"] == "ads.write.queued"]
    assert len(queued) == 1 and queued[0]["projectId"] == BRIGHTSIDE
    assert queued[0]["data"]["platform"] in ("meta", "apple")
    only = feed(sandbox, since, eventType="ads.pending.rejected", projectId=ACME)
    assert [r["data"]["pendingId"] for r in only] == [second["pendingId"]]


def test_expiry_shows_in_the_org_feed_without_reading_any_queue(sandbox):
    waiting = sandbox_state(sandbox)["pendingByStatus"]["pending"]
    since = sandbox.control("clock", advanceSeconds=7 * 86400)["now"]
    expired = feed(sandbox, since, eventType="ads.pending.expired")
    assert len(expired) == waiting  # every pending action of the demo story
    assert {(r["projectId"], r["data"]["platform"]) for r in expired} >= {
        (ACME, "meta"),
        (ACME, "tiktok"),
        (ACME, "apple"),
        (NORDLICHT, "meta"),
    }
    assert all(r["data"]["pendingId"].startswith("pa_") for r in expired)


# --- one key's rate limit across many customers ----------------------------------------------


def test_one_key_spends_one_read_budget_across_every_customer(sandbox):
    sandbox.control("customers", count=40)
    lists = [(c["id"], p) for c in generated(sandbox) for p in PLATFORMS]
    assert len(lists) == 120
    sandbox.control("rate-tier", tier="standard")
    start_of_a_fresh_minute(sandbox)
    remaining = []
    for project, platform in lists:
        response = sandbox.api("GET", ads(project, f"/{platform}/pending"), params={"limit": 1})
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "120"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == list(range(119, -1, -1))
    limited = sandbox.api("GET", ads(ACME, "/meta/pending"))
    assert limited.status_code == 429 and error_of(limited)["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert abs(int(limited.headers["X-RateLimit-Reset"]) - time.time()) <= 61
    # Another key has its own bucket; writes have theirs.
    assert sandbox.api("GET", "/v1/whoami", key=READONLY_KEY).status_code == 200
    write = sandbox.api("POST", ads(ACME, "/meta/pending/pa_missing/approve"), json={})
    assert write.status_code == 404 and write.headers["X-RateLimit-Remaining"] == "59"


def test_the_pilot_and_partner_tiers_report_their_own_numbers(sandbox):
    for tier, limit in (("pilot", "1200"), ("partner", "6000")):
        sandbox.control("rate-tier", tier=tier)
        response = sandbox.api("GET", ads(ACME, "/meta/pending"))
        assert response.headers["X-RateLimit-Limit"] == limit
        assert sandbox.api("GET", "/v1/whoami").json()["rateLimitTier"] == tier


def test_the_reset_header_is_on_the_callers_clock_even_before_the_key_is_known(sandbox):
    sandbox.control("clock", advanceSeconds=3 * 86400)
    for key in (None, "not-a-key"):
        response = sandbox.api("GET", "/v1/whoami", key=key)
        assert abs(int(response.headers["X-RateLimit-Reset"]) - time.time()) <= 61


def test_a_lifetime_campaign_gets_lifetime_budget_proposals(sandbox):
    sandbox.control("customers", count=20)
    rows = [
        r
        for c in generated(sandbox)
        for p in PLATFORMS
        for r in pending(sandbox, c["id"], p, limit=200, actionType="update_budget")
    ]
    kinds = Counter(next(iter(r["newValue"])) for r in rows)
    assert kinds["lifetimeBudgetCents"] > 0 and kinds["dailyBudgetCents"] > 0
    assert all(r["currentValue"].keys() == r["newValue"].keys() for r in rows)


def test_every_queued_and_decided_row_in_the_feed_names_its_project_and_platform(sandbox):
    sandbox.control("customers", count=3)
    rows, _ = walk(sandbox, "/v1/audit-log", limit=200)
    named = [
        r
        for r in rows
        if r["eventType"] == "ads.write.queued" or r["eventType"].startswith("ads.pending.")
    ]
    assert {r["eventType"] for r in named} >= {
        "ads.write.queued",
        "ads.pending.approved",
        "ads.pending.rejected",
        "ads.pending.expired",
        "ads.pending.dispatched",
    }
    for r in named:
        assert r["projectId"].startswith("prj_") and r["data"]["platform"] in PLATFORMS, r
        assert r["data"]["pendingId"].startswith("pa_") and r["data"]["actionType"], r
