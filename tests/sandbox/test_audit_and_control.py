"""The audit log (contract §7), the control surface and the seed command."""

import io
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from django.core.management import call_command

from .support import ACME, DEMO_KEY_ID, NORDLICHT, ads, campaign_named, error_of, pending, walk


def test_the_seeded_audit_history_reads_newest_first_with_the_documented_row_shape(sandbox):
    items = sandbox.api("GET", "/v1/audit-log").json()["items"]
    assert 30 <= len(items) <= 50
    assert [e["occurredAt"] for e in items] == sorted(
        (e["occurredAt"] for e in items), reverse=True
    )
    row = items[0]
    assert set(row) == {
        "eventId",
        "eventType",
        "occurredAt",
        "requestId",
        "organizationId",
        "projectId",
        "apiKeyId",
        "actor",
        "data",
    }
    assert uuid.UUID(row["eventId"]) and row["occurredAt"].endswith("Z")


def test_the_audit_log_walks_to_the_last_page(sandbox):
    everything, pages = walk(sandbox, "/v1/audit-log", limit=200)
    assert pages == 1 and len(everything) > 30
    walked, pages = walk(sandbox, "/v1/audit-log", limit=7)
    assert walked == everything and pages == -(-len(everything) // 7)


def test_the_audit_log_filters_by_type_project_key_and_time(sandbox):
    denied = sandbox.api("GET", "/v1/audit-log", params={"eventType": "ads.write.denied"}).json()[
        "items"
    ]
    assert denied and {e["eventType"] for e in denied} == {"ads.write.denied"}
    assert {e["data"]["reason"] for e in denied} >= {
        "kill_switch_active",
        "partner_consent_missing",
    }
    nordlicht = sandbox.api("GET", "/v1/audit-log", params={"projectId": NORDLICHT}).json()["items"]
    assert nordlicht and {e["projectId"] for e in nordlicht} == {NORDLICHT}
    mine = sandbox.api("GET", "/v1/audit-log", params={"apiKeyId": DEMO_KEY_ID}).json()["items"]
    assert mine and {e["apiKeyId"] for e in mine} == {DEMO_KEY_ID}
    middle = sorted(e["occurredAt"] for e in walk(sandbox, "/v1/audit-log", limit=200)[0])[20]
    recent = sandbox.api("GET", "/v1/audit-log", params={"since": middle, "limit": 200}).json()[
        "items"
    ]
    older = sandbox.api("GET", "/v1/audit-log", params={"until": middle, "limit": 200}).json()[
        "items"
    ]
    assert min(e["occurredAt"] for e in recent) == middle == max(e["occurredAt"] for e in older)


def test_the_audit_log_rejects_bad_cursors_limits_and_times(sandbox):
    for params in ({"cursor": "not-a-cursor"}, {"limit": 500}, {"since": "last tuesday"}):
        response = sandbox.api("GET", "/v1/audit-log", params=params)
        assert response.status_code == 422, params
        assert error_of(response)["code"] == "VALIDATION"


def test_a_partner_write_is_audited_with_its_request_id_and_actor(sandbox):
    campaign_id = campaign_named(sandbox, "Q3 Prospecting — Cold Brew")["campaignId"]
    response = sandbox.api(
        "PATCH", ads(ACME, f"/meta/campaigns/{campaign_id}/budget"), json={"dailyBudgetCents": 6000}
    )
    row = sandbox.api("GET", "/v1/audit-log", params={"limit": 1}).json()["items"][0]
    assert (
        row["eventType"] == "ads.write.queued"
        and row["requestId"] == response.headers["X-Request-Id"]
    )
    assert row["actor"] == "partner_api" and row["data"]["actor_type"] == "partner"
    assert row["data"]["method"] == "PATCH" and row["data"]["axis"] == "tactical"


def control(sandbox, action, token=None, **body):
    return requests.post(
        f"{sandbox.base_url}/_control/{action}",
        json=body,
        timeout=10,
        headers={"X-Sandbox-Control-Token": token or sandbox.control_token},
    )


def test_the_control_surface_needs_its_token(sandbox):
    assert control(sandbox, "reset", token="wrong").status_code == 403
    assert requests.get(f"{sandbox.base_url}/_control/state", timeout=10).status_code == 403
    assert control(sandbox, "nonsense").status_code == 404
    assert control(sandbox, "rate-tier", tier="platinum").status_code == 400


def test_reset_wipes_everything_and_can_leave_the_sandbox_empty(sandbox):
    # Its speed is the suite's (every test resets); a timing here only measured the machine.
    sandbox.control("clock", advanceSeconds=3600)
    sandbox.control("reset", seed=False)
    assert sandbox.api("GET", "/v1/whoami").status_code == 401  # no keys without the seed
    sandbox.control("reset", seed=True)
    state = requests.get(
        f"{sandbox.base_url}/_control/state",
        timeout=10,
        headers={"X-Sandbox-Control-Token": sandbox.control_token},
    ).json()
    assert state["clockOffsetSeconds"] == 0 and state["pendingByStatus"]["pending"] > 0
    state = sandbox.control("stats")
    assert state["calls"]["GET"] == 0 and state["executed"] == 0


def test_the_state_dump_shows_clock_switches_and_queue(sandbox):
    now = sandbox.control("clock", advanceSeconds=86400)["now"]
    state = requests.get(
        f"{sandbox.base_url}/_control/state",
        timeout=10,
        headers={"X-Sandbox-Control-Token": sandbox.control_token},
    ).json()
    assert state["now"] >= now and state["clockOffsetSeconds"] == 86400
    killed = [
        (layer["projectId"], layer["platform"])
        for layer in state["layers"]
        if layer["killSwitchActive"]
    ]
    assert killed == [(NORDLICHT, "meta")]
    assert state["pendingByStatus"]["pending"] > 0 and state["pendingByStatus"]["dispatched"] == 2


def test_stats_count_calls_by_method_and_route(sandbox):
    sandbox.api("GET", "/v1/whoami")
    sandbox.api("GET", "/v1/whoami")
    sandbox.api("DELETE", ads(ACME, "/meta/campaigns/cmp_missing"))
    stats = sandbox.control("stats")
    assert stats["calls"] == {"GET": 2, "POST": 0, "PATCH": 0, "DELETE": 1}
    assert stats["byRoute"] == {"GET whoami": 2, "DELETE campaigns.delete": 1}
    assert stats["executed"] == 0


def test_stats_miss_no_call_made_at_once_from_many_threads(sandbox):
    def calls(n):
        with requests.Session() as session:
            for _ in range(n):
                answer = session.get(
                    f"{sandbox.base_url}/v1/whoami",
                    headers={"Authorization": f"Bearer {sandbox.key}"},
                    timeout=30,
                )
                assert answer.status_code == 200

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(calls, [10] * 6))
    stats = sandbox.control("stats")
    assert stats["calls"]["GET"] == 60 and stats["byRoute"] == {"GET whoami": 60}


def test_pending_bulk_creates_rows_of_the_requested_type(sandbox):
    ids = sandbox.control(
        "pending-bulk", projectId=ACME, platform="tiktok", count=30, actionType="update_budget"
    )
    assert len(ids["pendingIds"]) == 30
    assert sandbox.api("GET", ads(ACME, "/tiktok/pending/count")).json() == {"count": 33}
    assert {
        r["actionType"]
        for r in pending(sandbox, platform="tiktok", actionType="update_budget", limit=200)
    } == {"update_budget"}


def test_the_seed_command_seeds_only_an_empty_sandbox_unless_forced(sandbox):
    out = io.StringIO()
    call_command("sandbox_seed", stdout=out)
    assert "already seeded" in out.getvalue()
    sandbox.control("reset", seed=False)
    call_command("sandbox_seed", stdout=out)
    assert sandbox.api("GET", "/v1/whoami").status_code == 200
    sandbox.control("clock", advanceSeconds=60)
    call_command("sandbox_seed", "--force", stdout=out)
    assert sandbox.control("clock")["now"]  # the forced reseed also reset the clock
    assert len(pending(sandbox)) == 5


def test_a_held_job_stays_running_until_released(sandbox):
    cart = campaign_named(sandbox, "Retargeting — Cart Abandoners")  # tactical: auto
    written = sandbox.api(
        "PATCH",
        ads(ACME, f"/meta/campaigns/{cart['campaignId']}/budget"),
        json={"dailyBudgetCents": cart["dailyBudgetCents"] + 100},
    )
    job_id = written.json()["jobId"]
    held = sandbox.control("job-hold", jobId=job_id)
    assert held == {"jobId": job_id, "status": "running", "held": True}
    sandbox.control("clock", advanceSeconds=3600)
    assert sandbox.api("GET", f"/v1/jobs/{job_id}").json()["status"] == "running"
    sandbox.control("job-hold", jobId=job_id, hold=False)
    assert sandbox.api("GET", f"/v1/jobs/{job_id}").json()["status"] == "completed"
