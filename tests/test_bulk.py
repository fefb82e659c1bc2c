"""Bulk decisions: recorded by the request, decided by the background worker."""

import uuid

from django.urls import reverse

from dashboard.models import BulkDecision, DecisionRecord
from tests.conftest import ACME, PASSWORD, worker_make
from tests.test_queue import REVIEWER_KEY, pending_items


def run_worker():
    """The real database worker, in this thread, until the queue is empty."""
    worker_make(interval=0, batch=True, max_tasks=None).run()


def start_bulk(client, decision, selected, text="", key=None, **extra):
    data = {
        "decision": decision,
        "text": text,
        "selected": selected,
        "bulk_key": key or str(uuid.uuid4()),
        **extra,
    }
    return client.post(reverse("queue-bulk-start", args=[ACME]), data)


def executed(sandbox, verb):
    return sum(
        n for route, n in sandbox.control("stats")["executedByRoute"].items() if verb in route
    )


def test_a_bulk_approval_decides_every_selected_action_once_in_the_background(
    sandbox, people, client
):
    assert client.login(username="approver", password=PASSWORD)
    items = pending_items(sandbox, "meta")[:4]
    response = start_bulk(
        client, "approve", [f"meta:{i['pendingId']}" for i in items], text="Quarter plan"
    )
    bulk = BulkDecision.objects.get()
    assert response.headers["Location"] == reverse("queue-bulk", args=[ACME, bulk.id])
    assert bulk.status == "queued" and executed(sandbox, "approve") == 0

    run_worker()

    bulk.refresh_from_db()
    assert bulk.status == "done"
    assert sorted(bulk.items.values_list("outcome", flat=True)) == ["decided"] * 4
    assert executed(sandbox, "approve") == 4
    assert DecisionRecord.objects.filter(action="approve", user__username="approver").count() == 4
    page = client.get(response.headers["Location"]).content.decode()
    assert "4 of 4" in page and "Finished" in page


def test_submitting_the_same_bulk_form_twice_starts_it_once(sandbox, people, client):
    assert client.login(username="approver", password=PASSWORD)
    selected = [f"tiktok:{i['pendingId']}" for i in pending_items(sandbox, "tiktok")[:2]]
    key = str(uuid.uuid4())
    first = start_bulk(client, "approve", selected, key=key)
    second = start_bulk(client, "approve", selected, key=key)
    assert first.headers["Location"] == second.headers["Location"]
    run_worker()
    run_worker()  # a worker restarted after a crash finds nothing left to decide
    assert BulkDecision.objects.count() == 1
    assert executed(sandbox, "approve") == 2


def test_a_bulk_decision_reports_each_row_when_some_fail_or_were_decided_elsewhere(
    sandbox, people, client
):
    assert client.login(username="approver", password=PASSWORD)
    first, second = pending_items(sandbox, "meta")[:2]
    taken = f"/v1/projects/{ACME}/ads/meta/pending/{first['pendingId']}/approve"
    assert sandbox.api("POST", taken, key=REVIEWER_KEY, json={}).status_code == 200
    selected = [
        f"meta:{first['pendingId']}",
        f"meta:{second['pendingId']}",
        "meta:pa_DOESNOTEXIST0000000000000",
    ]
    start_bulk(client, "reject", selected, text="Not this quarter")
    run_worker()
    outcomes = dict(BulkDecision.objects.get().items.values_list("pending_id", "outcome"))
    assert outcomes == {
        first["pendingId"]: "conflict",
        second["pendingId"]: "decided",
        "pa_DOESNOTEXIST0000000000000": "failed",
    }


def test_rejecting_in_bulk_without_a_reason_is_refused_with_a_sentence(sandbox, people, client):
    assert client.login(username="approver", password=PASSWORD)
    selected = [f"meta:{pending_items(sandbox, 'meta')[0]['pendingId']}"]
    response = start_bulk(client, "reject", selected, text="  ")
    assert response.status_code == 302
    assert BulkDecision.objects.count() == 0
    page = client.get(response.headers["Location"]).content.decode()
    assert "Say why you are rejecting them" in page


def test_select_all_takes_every_matching_action_on_every_page(sandbox, people, client):
    assert client.login(username="approver", password=PASSWORD)
    sandbox.control("pending-bulk", projectId=ACME, platform="apple", count=105)
    expected = (
        len(pending_items(sandbox, "apple")) + 0
    )  # first page only; the rest are on later pages
    start_bulk(client, "approve", [], select_all="1", platform="apple", status="pending")
    bulk = BulkDecision.objects.get()
    assert bulk.items.count() == 0  # gathered by the background task, not the request
    run_worker()
    assert bulk.items.count() >= 105 > expected
    assert set(bulk.items.values_list("outcome", flat=True)) == {"decided"}
    assert sandbox.api("GET", f"/v1/projects/{ACME}/ads/apple/pending/count").json()["count"] == 0


def test_a_viewer_cannot_start_a_bulk_decision(sandbox, people, client):
    assert client.login(username="viewer", password=PASSWORD)
    selected = [f"meta:{pending_items(sandbox, 'meta')[0]['pendingId']}"]
    assert start_bulk(client, "approve", selected).status_code == 403
    assert BulkDecision.objects.count() == 0


def test_items_that_failed_while_layers_was_down_are_sent_again_under_their_first_keys(
    sandbox, people, client, monkeypatch, settings
):
    settings.LAYERS_READ_TIMEOUT = 0.4
    monkeypatch.setattr("dashboard.services.bulk.TRANSIENT_PAUSE", 0.01)
    assert client.login(username="approver", password=PASSWORD)
    items = pending_items(sandbox, "meta")[:2]
    # The first approval reaches Layers but its answer is lost; the second never gets there.
    sandbox.control(
        "faults",
        faults=[
            {
                "kind": "timeout",
                "delay": 1.0,
                "count": 100,
                "method": "POST",
                "pathContains": items[0]["pendingId"],
            },
            {
                "kind": "status",
                "status": 503,
                "count": 100,
                "method": "POST",
                "pathContains": items[1]["pendingId"],
            },
        ],
    )
    response = start_bulk(
        client, "approve", [f"meta:{i['pendingId']}" for i in items], text="Agreed"
    )
    run_worker()
    bulk = BulkDecision.objects.get()
    keys = dict(bulk.items.values_list("pending_id", "idempotency_key"))
    assert sorted(bulk.items.values_list("outcome", flat=True)) == ["failed", "failed"]
    assert "Try the 2 failed again" in client.get(response.headers["Location"]).content.decode()

    sandbox.control("faults", faults=[])
    retried = client.post(reverse("queue-bulk-retry", args=[ACME, bulk.id]))
    assert retried.headers["Location"] == response.headers["Location"]
    run_worker()
    bulk.refresh_from_db()
    assert bulk.status == "done"
    assert sorted(bulk.items.values_list("outcome", flat=True)) == ["decided", "decided"]
    assert dict(bulk.items.values_list("pending_id", "idempotency_key")) == keys
    assert executed(sandbox, "approve") == 2  # the one that timed out was not decided twice


def test_a_viewer_cannot_send_a_bulk_decision_again(sandbox, people, client):
    assert client.login(username="viewer", password=PASSWORD)
    from tests.test_access import a_bulk_decision

    assert (
        client.post(reverse("queue-bulk-retry", args=[ACME, a_bulk_decision()])).status_code == 403
    )
