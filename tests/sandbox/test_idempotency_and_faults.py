"""Idempotent replay (contract §1.6) and the fault injector the client's resilience tests use."""

import threading
import time

import pytest
import requests

from .support import ACME, ads, campaign_named, error_of, pending


def approve(sandbox, pending_id, key_header=None, **body):
    headers = {"Idempotency-Key": key_header} if key_header else {}
    return sandbox.api(
        "POST", ads(ACME, f"/meta/pending/{pending_id}/approve"), json=body, headers=headers
    )


def test_a_replayed_request_returns_the_original_response_and_runs_once(sandbox):
    row = pending(sandbox)[0]
    first = approve(sandbox, row["pendingId"], "idem-1", comment="ok")
    second = approve(sandbox, row["pendingId"], "idem-1", comment="ok")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    stats = sandbox.control("stats")
    assert stats["executed"] == 1 and stats["replayed"] == 1
    assert stats["executedByRoute"] == {"POST pending.approve": 1}
    assert stats["byRoute"]["POST pending.approve"] == 2


def test_a_replayed_error_is_replayed_verbatim_too(sandbox):
    first = approve(sandbox, "pa_01HZX9ABCDEF0123456789ABCD", "idem-404")
    second = approve(sandbox, "pa_01HZX9ABCDEF0123456789ABCD", "idem-404")
    assert second.status_code == 404 and second.json() == first.json()


def test_reusing_a_key_with_a_different_body_is_a_conflict(sandbox):
    row = pending(sandbox)[0]
    approve(sandbox, row["pendingId"], "idem-2", comment="one")
    response = approve(sandbox, row["pendingId"], "idem-2", comment="two")
    assert response.status_code == 409 and error_of(response)["code"] == "IDEMPOTENCY_CONFLICT"


def test_keys_are_scoped_to_the_endpoint(sandbox):
    rows = pending(sandbox)
    assert approve(sandbox, rows[0]["pendingId"], "shared").status_code == 200
    assert approve(sandbox, rows[1]["pendingId"], "shared").status_code == 200
    assert sandbox.control("stats")["executed"] == 2


def test_the_replay_window_is_twenty_four_hours_on_the_sandbox_clock(sandbox):
    row = pending(sandbox, project=ACME, platform="apple")[0]
    path = ads(ACME, f"/apple/pending/{row['pendingId']}/reject")
    headers = {"Idempotency-Key": "idem-window"}
    sandbox.api("POST", path, json={"reason": "no"}, headers=headers)
    sandbox.control("clock", advanceSeconds=24 * 3600 + 1)
    again = sandbox.api("POST", path, json={"reason": "no"}, headers=headers)
    assert again.status_code == 409 and error_of(again)["code"] == "CONFLICT"  # executed anew


def test_concurrent_duplicates_execute_exactly_once(sandbox):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"tactical": "auto"})
    campaign_id = campaign_named(sandbox, "Q3 Prospecting — Cold Brew")["campaignId"]
    url = f"{sandbox.base_url}{ads(ACME, f'/meta/campaigns/{campaign_id}/budget')}"
    barrier, results = threading.Barrier(5), []

    def send():
        barrier.wait()
        response = requests.patch(
            url,
            json={"dailyBudgetCents": 6100},
            timeout=30,
            headers={"Authorization": f"Bearer {sandbox.key}", "Idempotency-Key": "idem-race"},
        )
        results.append((response.status_code, response.json()))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    successes = [body for status, body in results if status == 202]
    assert successes and all(body == successes[0] for body in successes)
    assert all(
        body["error"]["code"] == "IDEMPOTENCY_CONFLICT" for status, body in results if status != 202
    )
    assert sandbox.control("stats")["executedByRoute"] == {"PATCH campaigns.budget": 1}


# --- faults ------------------------------------------------------------------------------------


def fault(sandbox, **spec):
    sandbox.control("faults", faults=[spec])


def test_a_status_fault_answers_with_the_error_envelope_and_runs_nothing(sandbox):
    row = pending(sandbox)[0]
    fault(sandbox, kind="status", status=502, method="POST", pathContains="/approve")
    assert sandbox.api("GET", "/v1/whoami").status_code == 200  # does not match
    response = approve(sandbox, row["pendingId"])
    assert response.status_code == 502 and error_of(response)["code"] == "PLATFORM_ERROR"
    assert pending(sandbox)[0]["pendingId"] == row["pendingId"]  # still pending
    assert approve(sandbox, row["pendingId"]).status_code == 200  # the fault was used up


@pytest.mark.parametrize("status,code", [(500, "INTERNAL"), (503, "INTERNAL")])
def test_server_error_faults_use_the_internal_code(sandbox, status, code):
    fault(sandbox, kind="status", status=status)
    response = sandbox.api("GET", "/v1/projects")
    assert response.status_code == status and error_of(response)["code"] == code


def test_a_fault_applies_to_the_next_count_matching_calls(sandbox):
    fault(sandbox, kind="status", status=500, count=2, method="GET")
    assert [sandbox.api("GET", "/v1/whoami").status_code for _ in range(3)] == [500, 500, 200]
    sandbox.control("faults", faults=[{"kind": "status", "count": 5}])
    sandbox.control("faults", faults=[])
    assert sandbox.api("GET", "/v1/whoami").status_code == 200


def test_a_rate_limited_fault_sets_retry_after(sandbox):
    fault(sandbox, kind="rate_limited", retryAfter=7)
    response = sandbox.api("GET", "/v1/whoami")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert error_of(response)["code"] == "RATE_LIMITED"


def test_revoked_key_and_kill_switch_faults(sandbox):
    sandbox.control("faults", faults=[{"kind": "revoked_key"}, {"kind": "kill_switch"}])
    revoked = sandbox.api("GET", "/v1/whoami")
    killed = sandbox.api("GET", "/v1/whoami")
    assert (revoked.status_code, error_of(revoked)["code"]) == (401, "UNAUTHENTICATED")
    assert (killed.status_code, error_of(killed)["code"]) == (503, "KILL_SWITCH")
    assert error_of(killed)["details"] == {"scope": "key"}


def test_a_malformed_json_fault_sends_a_body_that_does_not_parse(sandbox):
    fault(sandbox, kind="malformed_json")
    response = sandbox.api("GET", ads(ACME, "/campaigns"))
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_a_missing_field_fault_drops_the_id_of_the_first_item(sandbox):
    fault(sandbox, kind="missing_field", pathContains="/pending")
    rows = sandbox.api("GET", ads(ACME, "/meta/pending")).json()["items"]
    assert "pendingId" not in rows[0] and "pendingId" in rows[1]
    fault(sandbox, kind="missing_field", pathContains="/campaigns/")
    campaign_id = campaign_named(sandbox, "Q3 Prospecting — Cold Brew")["campaignId"]
    assert (
        "campaignId" not in sandbox.api("GET", ads(ACME, f"/meta/campaigns/{campaign_id}")).json()
    )


def test_an_unknown_enum_fault_puts_a_future_value_in_status_and_action_type(sandbox):
    fault(sandbox, kind="unknown_enum")
    rows = sandbox.api("GET", ads(ACME, "/meta/pending")).json()["items"]
    assert {r["status"] for r in rows} == {"future_value"} and {r["actionType"] for r in rows} == {
        "future_value"
    }


def test_shape_faults_on_a_write_do_not_run_it(sandbox):
    row = pending(sandbox)[0]
    for kind in ("missing_field", "unknown_enum", "malformed_json"):
        fault(sandbox, kind=kind, method="POST")
        assert approve(sandbox, row["pendingId"]).status_code in (200, 202)
    assert sandbox.control("stats")["executed"] == 0
    assert pending(sandbox)[0]["pendingId"] == row["pendingId"]


def test_a_timeout_fault_runs_the_write_then_answers_late_and_the_retry_replays(sandbox):
    row = pending(sandbox)[0]
    fault(sandbox, kind="timeout", delay=1.0, method="POST")
    with pytest.raises(requests.Timeout):
        sandbox.api(
            "POST",
            ads(ACME, f"/meta/pending/{row['pendingId']}/approve"),
            json={},
            headers={"Idempotency-Key": "idem-timeout"},
            timeout=0.3,
        )
    time.sleep(0.1)
    retry = approve(sandbox, row["pendingId"], "idem-timeout")
    assert retry.status_code == 200 and retry.json()["status"] == "approved"
    stats = sandbox.control("stats")
    assert stats["executed"] == 1 and stats["replayed"] == 1


def test_a_drop_fault_runs_the_write_and_breaks_the_connection_and_the_retry_replays(sandbox):
    row = pending(sandbox)[0]
    fault(sandbox, kind="drop", method="POST")
    with pytest.raises(requests.exceptions.RequestException):
        approve(sandbox, row["pendingId"], "idem-drop")
    retry = approve(sandbox, row["pendingId"], "idem-drop")
    assert retry.status_code == 200 and retry.json()["status"] == "approved"
    assert sandbox.control("stats")["executed"] == 1


def test_latency_is_added_to_every_api_call(sandbox):
    sandbox.control("latency", ms=300)
    started = time.monotonic()
    sandbox.api("GET", "/v1/whoami")
    assert time.monotonic() - started >= 0.3
    sandbox.control("latency", ms=0)
