"""Hold before sending: a decision waits DECISION_HOLD_SECONDS in the database before the
worker sends it, and Undo inside that window sends nothing to Layers.

The rest of the suite runs with the hold at 0 (pyproject.toml); these tests turn it on.
Writes are counted by the sandbox itself (its executedByRoute stats)."""

import os
import re
import signal
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import BulkDecision, DecisionHold, DecisionRecord
from dashboard.services.holds import decision_hold_send, decision_holds_due
from dashboard.services.pending_decisions import pending_decision_send
from tests.conftest import ACME
from tests.test_bulk import executed, run_worker, start_bulk
from tests.test_bulk_recovery import worker_process
from tests.test_queue import decide_url, login, pending_items

HTMX = {"HX-Request": "true"}


@pytest.fixture
def held(settings):
    settings.DECISION_HOLD_SECONDS = 10
    return settings


def approve(client, pending_id, key=None, platform="meta"):
    return client.post(
        decide_url(platform, pending_id),
        {"decision": "approve", "comment": "", "idempotency_key": key or str(uuid.uuid4())},
        headers=HTMX,
    )


def reject(client, pending_id, reason="Not this week", platform="meta"):
    return client.post(
        decide_url(platform, pending_id),
        {"decision": "reject", "reason": reason, "idempotency_key": str(uuid.uuid4())},
        headers=HTMX,
    )


def undo(client, hold):
    return client.post(reverse("queue-hold-undo", args=[ACME, hold.id]), headers=HTMX)


def window_over(hold=None):
    """The window ends now (the hold's time moves, not the test's clock)."""
    holds = DecisionHold.objects.filter(id=hold.id) if hold else DecisionHold.objects.all()
    holds.update(send_after=timezone.now() - timedelta(seconds=3))


def wait_until_due(settings):
    """The window ends now: the holds' time and their queued tasks' time move (not the
    test's clock, which a busy machine would make a race)."""
    from django_tasks_db.models import DBTaskResult

    window_over()
    DBTaskResult.objects.filter(status="READY").update(
        run_after=timezone.now() - timedelta(seconds=1)
    )


def test_an_approval_is_held_and_the_row_says_sending_in_so_many_seconds_with_undo(
    sandbox, people, client, held
):
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    response = approve(client, pending_id)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Approved — " in html and ">Undo</button>" in html
    # The window is 10 s; a slow machine may draw the row a second into it.
    seconds = re.search(r"sending in (\d+) s", html)
    assert seconds and 0 < int(seconds.group(1)) <= 10, html
    hold = DecisionHold.objects.get()
    assert (hold.status, hold.decision, hold.pending_id) == ("held", "approve", pending_id)
    assert DecisionRecord.objects.get().outcome == "held"
    assert executed(sandbox, "approve") == 0
    # A reload draws the row held too: the hold lives in the database, not in the page.
    page = client.get(reverse("queue", args=[ACME])).content.decode()
    assert f'queue/holds/{hold.id}/undo"' in page


def test_undo_inside_the_window_sends_nothing_upstream(sandbox, people, client, held):
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    approve(client, pending_id)
    hold = DecisionHold.objects.get()
    html = undo(client, hold).content.decode()
    assert "Undone: nothing was sent." in html
    assert 'class="approve-form"' in html  # the row is ready to decide again
    window_over(hold)
    assert decision_hold_send(hold.id) is None
    run_worker()
    assert executed(sandbox, "approve") == 0
    hold.refresh_from_db()
    assert hold.status == "undone" and hold.undone_at and hold.undone_by.username == "approver"
    assert DecisionRecord.objects.get().outcome == "undone"
    assert pending_id in {i["pendingId"] for i in pending_items(sandbox, "meta")}


def test_a_held_decision_is_sent_by_the_worker_once_its_window_ends(
    sandbox, people, client, settings
):
    settings.DECISION_HOLD_SECONDS = 60
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    approve(client, pending_id)
    run_worker()  # inside the window the task is not due: nothing happens
    assert executed(sandbox, "approve") == 0
    wait_until_due(settings)
    run_worker()
    hold = DecisionHold.objects.get()
    assert (hold.status, hold.outcome) == ("sent", "decided") and hold.sent_at
    assert executed(sandbox, "approve") == 1
    assert DecisionRecord.objects.get().outcome == "approved"
    # The row's poll at the end of the window shows it decided.
    html = client.get(reverse("queue-hold", args=[ACME, hold.id]), headers=HTMX).content
    assert b"status-approved" in html
    assert undo(client, hold).status_code == 200
    hold.refresh_from_db()
    assert hold.status == "sent"  # too late to undo: nothing changes


def test_approve_then_undo_then_reject_inside_the_window_spends_one_write(
    sandbox, people, client, held
):
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    approve(client, pending_id)
    undo(client, DecisionHold.objects.get())
    assert "Rejected — " in reject(client, pending_id).content.decode()
    window_over()
    for hold_id in decision_holds_due():
        decision_hold_send(hold_id)
    assert executed(sandbox, "approve") == 0
    assert executed(sandbox, "reject") == 1
    outcomes = dict(DecisionRecord.objects.values_list("action", "outcome"))
    assert outcomes == {"approve": "undone", "reject": "rejected"}
    # The audit page lists both: the undone approval (which Layers never saw) and the send.
    audit = client.get(reverse("audit", args=[ACME])).content.decode()
    held = audit[audit.index('id="holds-table"') :]
    assert "Undone</span>" in held and "by approver · nothing sent" in held
    assert "Sent</span>" in held and "Rejected. Verdict" in held


def test_a_colleague_deciding_a_held_action_sees_the_first_decision_and_sends_nothing(
    sandbox, people, client, held
):
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    approve(client, pending_id)
    login(client, "admin")
    html = reject(client, pending_id).content.decode()
    assert "approver decided this a moment ago: Approved — sending in" in html
    assert DecisionHold.objects.count() == 1
    assert executed(sandbox, "reject") == 0


def test_two_workers_at_once_send_a_held_decision_once(sandbox, people, client, held):
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    approve(client, pending_id)
    hold = DecisionHold.objects.get()
    window_over(hold)
    start, taken = threading.Barrier(2), []

    def worker():
        start.wait()
        taken.append(decision_hold_send(hold.id))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(1 for t in taken if t is not None) == 1
    assert executed(sandbox, "approve") == 1
    hold.refresh_from_db()
    assert hold.status == "sent"


@pytest.mark.parametrize("reached_layers", [True, False], ids=["after", "before"])
def test_a_hold_whose_worker_died_while_sending_is_sent_again_and_decided_once(
    sandbox, people, client, held, reached_layers
):
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    approve(client, pending_id)
    hold = DecisionHold.objects.get()
    # The worker took it (and, in one case, reached Layers), then the machine restarted.
    gone = timezone.now() - timedelta(seconds=held.DECISION_HOLD_STALE_SECONDS + 5)
    DecisionHold.objects.filter(id=hold.id).update(status="sending", claimed_at=gone)
    if reached_layers:
        pending_decision_send(
            user=hold.user,
            project_id=ACME,
            platform="meta",
            pending_id=pending_id,
            decision="approve",
            text="",
            idempotency_key=hold.idempotency_key,
        )
    assert decision_holds_due() == [str(hold.id)]
    assert decision_hold_send(hold.id) is not None
    assert decision_hold_send(hold.id) is None  # sent now: nothing left to take
    hold.refresh_from_db()
    assert hold.status == "sent" and hold.outcome in ("decided", "earlier")
    assert executed(sandbox, "approve") == 1
    assert DecisionRecord.objects.get().outcome == "approved"


def test_an_action_that_would_expire_inside_the_window_is_sent_at_once(
    sandbox, people, client, settings
):
    settings.DECISION_HOLD_SECONDS = 8 * 24 * 3600  # longer than any proposal lives
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    html = approve(client, pending_id).content.decode()
    assert "status-approved" in html
    assert not DecisionHold.objects.exists()
    assert executed(sandbox, "approve") == 1


def test_a_bulk_decision_is_held_as_one_and_one_undo_takes_back_the_whole_batch(
    sandbox, people, client, held
):
    login(client, "approver")
    items = pending_items(sandbox, "meta")[:3]
    start_bulk(client, "approve", [f"meta:{i['pendingId']}" for i in items], text="Plan")
    bulk = BulkDecision.objects.get()
    hold = DecisionHold.objects.get()
    assert bulk.status == "held" and hold.bulk_id == bulk.id
    page = client.get(reverse("queue-bulk", args=[ACME, bulk.id])).content.decode()
    assert "Approving 3 actions" in page and "sending in" in page and ">Undo</button>" in page
    queue = client.get(reverse("queue", args=[ACME])).content.decode()
    assert queue.count("Undo on its page") == 3
    response = client.post(
        reverse("queue-hold-undo", args=[ACME, hold.id]),
        {"next": reverse("queue-bulk", args=[ACME, bulk.id])},
    )
    assert response.status_code == 302
    window_over(hold)
    run_worker()
    assert decision_hold_send(hold.id) is None
    bulk.refresh_from_db()
    assert bulk.status == "undone"
    assert executed(sandbox, "approve") == 0
    page = client.get(reverse("queue-bulk", args=[ACME, bulk.id])).content.decode()
    assert "Undone: nothing was sent" in page


def test_a_held_bulk_decision_is_sent_by_the_worker_when_its_window_ends(
    sandbox, people, client, settings
):
    settings.DECISION_HOLD_SECONDS = 60
    login(client, "approver")
    items = pending_items(sandbox, "tiktok")[:2]
    start_bulk(client, "approve", [f"tiktok:{i['pendingId']}" for i in items], text="Plan")
    wait_until_due(settings)
    run_worker()
    bulk = BulkDecision.objects.get()
    assert bulk.status == "done"
    assert sorted(bulk.items.values_list("outcome", flat=True)) == ["decided"] * 2
    assert executed(sandbox, "approve") == 2


def test_a_real_db_worker_process_sends_a_held_decision_once(sandbox, people, client, settings):
    settings.DECISION_HOLD_SECONDS = 1
    login(client, "approver")
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    approve(client, pending_id)
    worker = worker_process(sandbox, settings)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if DecisionHold.objects.filter(status="sent").exists():
                break
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    hold = DecisionHold.objects.get()
    assert hold.status == "sent", "the worker process did not send the hold in two minutes"
    assert executed(sandbox, "approve") == 1
