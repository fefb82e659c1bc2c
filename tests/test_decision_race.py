"""Who decided, under load: a decision record gets an outcome only from Layers' answer to
its own idempotency key (or Layers' replay of it), never from what someone else's key did.

The race `make soak` found: a form is submitted twice at once, after someone else already
decided the action. The first send is still in flight at Layers when the twin arrives, so
the twin hears 409 IDEMPOTENCY_CONFLICT. The twin must not look the action up, see it
approved (by the other person) and credit its own key with that approval."""

import threading
import time
import uuid

from django.contrib.auth import get_user_model

from dashboard.models import DecisionRecord
from dashboard.services.pending_decisions import pending_decision_send
from tests.conftest import ACME

APPLIED = ("approved", "rejected", "dispatched", "dispatch_failed")


def first_pending(sandbox, platform="meta"):
    response = sandbox.api("GET", f"/v1/projects/{ACME}/ads/{platform}/pending")
    return response.json()["items"][0]["pendingId"]


def applied_records(pending_id):
    return list(
        DecisionRecord.objects.filter(entity_id=pending_id, outcome__in=APPLIED).values_list(
            "user__username", "idempotency_key"
        )
    )


def send(user, pending_id, key, decision="approve", text=""):
    return pending_decision_send(
        user=user,
        project_id=ACME,
        platform="meta",
        pending_id=pending_id,
        decision=decision,
        text=text,
        idempotency_key=key,
    )


def test_a_twin_that_meets_its_first_send_in_flight_never_takes_credit_for_someone_elses_decision(
    sandbox, transactional_db
):
    users = get_user_model().objects
    ana, ben = users.create_user("ana"), users.create_user("ben")
    pending_id = first_pending(sandbox)
    assert send(ana, pending_id, str(uuid.uuid4())).kind == "decided"

    # Ben opened the row before Ana decided and double-clicks Approve: his first send is
    # slow at Layers (still in flight) when the second one arrives with the same key.
    ben_key = str(uuid.uuid4())
    sandbox.control(
        "faults",
        faults=[{"kind": "slow", "delay": 2.0, "count": 1, "pathContains": pending_id}],
    )
    first = []
    twin = threading.Thread(target=lambda: first.append(send(ben, pending_id, ben_key)))
    twin.start()
    time.sleep(0.6)
    second = send(ben, pending_id, ben_key)
    credited_while_in_flight = applied_records(pending_id)
    twin.join(30)

    assert [name for name, _key in credited_while_in_flight] == ["ana"]
    assert second.kind not in ("decided", "earlier"), second.sentence
    assert "first attempt reached Layers" not in second.sentence
    assert first and first[0].kind == "conflict"
    assert [name for name, _key in applied_records(pending_id)] == ["ana"]
    assert DecisionRecord.objects.get(idempotency_key=ben_key).outcome == "conflict"
    executed = sandbox.control("stats")["executedByRoute"]
    assert executed.get("POST pending.approve") == 1


def test_a_conflict_names_the_colleague_who_decided_first_from_our_own_records(
    sandbox, transactional_db
):
    users = get_user_model().objects
    ana = users.create_user("ana", first_name="Ana", last_name="Lima")
    ben = users.create_user("ben")
    pending_id = first_pending(sandbox)
    assert send(ana, pending_id, str(uuid.uuid4())).kind == "decided"
    sandbox.control("extensions", on=False)  # the 409 says nothing of who (documented API)

    lost = send(ben, pending_id, str(uuid.uuid4()), decision="reject", text="Too much")

    assert lost.kind == "conflict"
    assert lost.sentence.startswith(
        "Someone else decided first: this action is already approved by Ana Lima here at "
    )


def test_a_conflict_won_outside_this_dashboard_says_another_tool_using_this_key(
    sandbox, transactional_db
):
    ben = get_user_model().objects.create_user("ben")
    pending_id = first_pending(sandbox)
    path = f"/v1/projects/{ACME}/ads/meta/pending/{pending_id}/approve"
    assert sandbox.api("POST", path, json={}).status_code == 200  # our key, not our dashboard

    lost = send(ben, pending_id, str(uuid.uuid4()))  # extensions on: the 409 has decidedBy

    assert lost.kind == "conflict"
    assert "already approved by another tool using this key" in lost.sentence
    assert "partner" not in lost.sentence  # never the sandbox-only decidedBy of the 409
    sandbox.control("extensions", on=False)
    again = send(ben, pending_id, str(uuid.uuid4()))
    assert again.sentence == lost.sentence
