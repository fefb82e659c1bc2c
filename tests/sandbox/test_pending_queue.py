"""The approval queue: listing, counting, deciding, expiry and dispatch (contract §4.16)."""

import threading

import requests

from .support import (
    ACME,
    BRIGHTSIDE,
    DEMO_KEY_ID,
    NORDLICHT,
    READONLY_KEY,
    REVIEWER_KEY,
    ads,
    campaign_named,
    error_of,
    has_id,
    pending,
    walk,
)

ROW_FIELDS = {
    "pendingId",
    "actionType",
    "entityType",
    "entityId",
    "entityName",
    "platform",
    "currentValue",
    "newValue",
    "rationale",
    "proposedAction",
    "status",
    "createdAt",
    "expiresAt",
    "dispatchedAt",
    "dispatchFailureReason",
    "source",
    "decidedAt",
    "decidedBy",
}


def decide(sandbox, pending_id, verb, project=ACME, platform="meta", key=None, **body):
    return sandbox.api(
        "POST", ads(project, f"/{platform}/pending/{pending_id}/{verb}"), json=body, key=key
    )


def test_the_queue_lists_pending_rows_with_the_documented_fields(sandbox):
    rows = pending(sandbox)
    assert len(rows) == 5 and {r["status"] for r in rows} == {"pending"}
    assert set(rows[0]) >= ROW_FIELDS
    assert all(has_id(r["pendingId"], "pa") and r["platform"] == "meta" for r in rows)
    creative = next(r for r in rows if r["actionType"] == "push_creative")
    assert set(creative["proposedAction"]["detail"]) >= {"adsContentId", "caption", "creativeUrl"}
    assert creative["proposedAction"]["detail"]["creativeUrl"].startswith("https://")


def test_the_seeded_story_has_every_action_type_waiting(sandbox):
    seen = set()
    for project, platforms in (
        (ACME, ("meta", "tiktok", "apple")),
        (BRIGHTSIDE, ("apple", "meta")),
    ):
        for platform in platforms:
            seen |= {r["actionType"] for r in pending(sandbox, project, platform)}
    assert seen == {
        "update_budget",
        "pause_ad",
        "pause_adset",
        "push_creative",
        "replace_creative",
        "prune_creative",
        "update_targeting",
        "update_schedule",
    }


def test_the_queue_filters_by_status_in_every_spelling_and_by_action_type(sandbox):
    repeated = sandbox.api(
        "GET", ads(ACME, "/meta/pending") + "?status=dispatched&status=rejected"
    ).json()["items"]
    comma = pending(sandbox, status="dispatched,rejected")
    assert repeated == comma and {r["status"] for r in comma} == {"dispatched", "rejected"}
    assert [r["actionType"] for r in pending(sandbox, actionType="pause_ad")] == ["pause_ad"]
    assert (
        sandbox.api("GET", ads(ACME, "/meta/pending"), params={"status": "maybe"}).status_code
        == 422
    )


def test_the_queue_walks_to_the_last_page(sandbox):
    ids = sandbox.control("pending-bulk", projectId=ACME, platform="meta", count=120)["pendingIds"]
    items, pages = walk(sandbox, ads(ACME, "/meta/pending"))
    assert pages == 3 and len(items) == 125 and set(ids) <= {r["pendingId"] for r in items}
    assert sandbox.api("GET", ads(ACME, "/meta/pending"), params={"limit": 201}).status_code == 422
    assert (
        sandbox.api("GET", ads(ACME, "/meta/pending"), params={"cursor": "%%%"}).status_code == 422
    )


def test_the_count_is_the_number_of_pending_rows(sandbox):
    assert sandbox.api("GET", ads(ACME, "/meta/pending/count")).json() == {"count": 5}
    assert sandbox.api("GET", ads(ACME, "/tiktok/pending/count")).json() == {"count": 3}


def test_approving_records_who_decided_and_a_verdict(sandbox):
    row = pending(sandbox)[0]
    response = decide(sandbox, row["pendingId"], "approve", comment="Go for it")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "pendingId": row["pendingId"],
        "status": "approved",
        "dispatched": False,
        "dispatchedAt": None,
        "verdictId": body["verdictId"],
    }
    after = next(
        r for r in pending(sandbox, status="approved") if r["pendingId"] == row["pendingId"]
    )
    assert after["decidedBy"] == {"actorType": "partner", "apiKeyId": DEMO_KEY_ID}
    assert after["decisionComment"] == "Go for it"
    log = sandbox.api(
        "GET", "/v1/audit-log", params={"eventType": "ads.pending.approved", "limit": 1}
    ).json()
    assert log["items"][0]["data"]["comment"] == "Go for it"


def test_rejecting_needs_a_reason(sandbox):
    row = pending(sandbox)[0]
    for body in ({}, {"reason": "   "}, {"reason": 7}):
        response = decide(sandbox, row["pendingId"], "reject", **body)
        assert response.status_code == 422
        assert "reason" in error_of(response)["details"]["fields"]
    rejected = decide(sandbox, row["pendingId"], "reject", reason="Budget is frozen until Q4.")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    after = next(
        r for r in pending(sandbox, status="rejected") if r["pendingId"] == row["pendingId"]
    )
    assert after["decisionReason"] == "Budget is frozen until Q4."


def test_approving_a_decided_action_returns_conflict_with_current_status(sandbox):
    row = pending(sandbox)[0]
    decide(sandbox, row["pendingId"], "reject", reason="No.")
    response = decide(sandbox, row["pendingId"], "approve")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "CONFLICT" and error["details"]["currentStatus"] == "rejected"
    assert (
        error["details"]["decidedAt"] and error["details"]["decidedBy"]["apiKeyId"] == DEMO_KEY_ID
    )


def test_deciding_an_unknown_action_is_not_found(sandbox):
    assert decide(sandbox, "pa_01HZX9ABCDEF0123456789ABCD", "approve").status_code == 404
    other_platform = pending(sandbox, platform="tiktok")[0]["pendingId"]
    assert decide(sandbox, other_platform, "approve", platform="meta").status_code == 404


def test_only_keys_with_the_pending_scope_decide(sandbox):
    row = pending(sandbox)[0]
    refused = decide(sandbox, row["pendingId"], "approve", key=READONLY_KEY)
    assert error_of(refused)["details"]["requiredScope"] == "ads:write:pending"
    assert decide(sandbox, row["pendingId"], "approve", key=REVIEWER_KEY).status_code == 200


def test_concurrent_approvals_of_one_action_let_exactly_one_win(sandbox):
    row = pending(sandbox)[0]
    url = f"{sandbox.base_url}{ads(ACME, f'/meta/pending/{row["pendingId"]}/approve')}"
    barrier, statuses = threading.Barrier(6), []

    def approve():
        barrier.wait()
        response = requests.post(
            url, json={}, headers={"Authorization": f"Bearer {sandbox.key}"}, timeout=30
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=approve) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 5


def test_pending_actions_expire_after_seven_days_on_the_sandbox_clock(sandbox):
    before = pending(sandbox)
    oldest = min(before, key=lambda r: r["expiresAt"])
    sandbox.control("clock", advanceSeconds=11 * 3600)  # the seed has one expiring within 11 h
    after = pending(sandbox)
    assert oldest["pendingId"] not in {r["pendingId"] for r in after}
    expired = next(
        r for r in pending(sandbox, status="rejected") if r["pendingId"] == oldest["pendingId"]
    )
    assert expired["decisionReason"] == "expired" and expired["decidedBy"] == {
        "actorType": "system",
        "apiKeyId": None,
    }
    log = sandbox.api(
        "GET", "/v1/audit-log", params={"eventType": "ads.pending.expired", "limit": 200}
    ).json()
    assert oldest["pendingId"] in {e["data"]["pendingId"] for e in log["items"]}
    sandbox.control("clock", advanceSeconds=7 * 86400)
    assert sandbox.control("tick")["expired"] > 0
    assert sandbox.api("GET", ads(ACME, "/meta/pending/count")).json() == {"count": 0}
    assert decide(sandbox, before[-1]["pendingId"], "approve").status_code == 409


def test_approved_actions_dispatch_on_the_tick_and_change_the_campaign(sandbox):
    row = next(
        r
        for r in pending(sandbox)
        if r["actionType"] == "update_budget" and r["entityType"] == "campaign"
    )
    decide(sandbox, row["pendingId"], "approve")
    counts = sandbox.control("tick")
    assert counts["dispatched"] >= 1
    done = next(
        r for r in pending(sandbox, status="dispatched") if r["pendingId"] == row["pendingId"]
    )
    assert done["dispatchedAt"] and done["dispatchFailureReason"] is None
    campaign = next(
        c
        for c in sandbox.api("GET", ads(ACME, "/campaigns")).json()["items"]
        if c["campaignId"] == row["entityId"]
    )
    assert campaign["dailyBudgetCents"] == row["newValue"]["dailyBudgetCents"]


def test_a_dispatch_the_platform_refuses_ends_as_dispatch_failed(sandbox):
    refused = campaign_named(sandbox, "Launch: Oat Milk Latte")
    row = next(
        r
        for r in pending(sandbox, platform="tiktok")
        if r["proposedAction"]["detail"]["campaignId"] == refused["campaignId"]
    )
    decide(sandbox, row["pendingId"], "approve", platform="tiktok")
    sandbox.control("tick")
    failed = next(
        r
        for r in pending(sandbox, platform="tiktok", status="dispatch_failed")
        if r["pendingId"] == row["pendingId"]
    )
    assert failed["dispatchFailureReason"].startswith("platform_rejected")


def test_a_dispatch_to_a_deleted_campaign_fails(sandbox):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    row = next(r for r in pending(sandbox) if r["actionType"] == "update_budget")
    decide(sandbox, row["pendingId"], "approve")
    campaign_id = row["proposedAction"]["detail"]["campaignId"]
    assert sandbox.api("DELETE", ads(ACME, f"/meta/campaigns/{campaign_id}")).status_code == 202
    sandbox.control("tick")
    failed = next(
        r for r in pending(sandbox, status="dispatch_failed") if r["pendingId"] == row["pendingId"]
    )
    assert failed["dispatchFailureReason"].startswith("entity_deleted")


def test_approved_actions_wait_while_the_customer_has_writes_frozen(sandbox):
    row = pending(sandbox, project=NORDLICHT)[0]
    assert decide(sandbox, row["pendingId"], "approve", project=NORDLICHT).status_code == 200
    sandbox.control("tick")
    assert [r["pendingId"] for r in pending(sandbox, project=NORDLICHT, status="approved")] == [
        row["pendingId"]
    ]
    sandbox.control("kill-switch", projectId=NORDLICHT, platform="meta", active=False)
    sandbox.control("tick")
    assert [r["pendingId"] for r in pending(sandbox, project=NORDLICHT, status="dispatched")] == [
        row["pendingId"]
    ]
