"""Issue 14, finding 9: what a person may do is checked at the moment it is done. A running
bulk decision checks its person's role again before every write and stops, saying so, when
it dropped below approver; a viewer who posts `cancel=1` to the authority form gets the form
back drawn read-only."""

import uuid

from django.db.models.signals import post_save
from django.urls import reverse

from dashboard.models import BulkDecision, DecisionRecord, ProjectGrant
from tests.conftest import ACME, PASSWORD
from tests.test_bulk import executed, run_worker, start_bulk
from tests.test_campaigns import campaign
from tests.test_queue import pending_items


def lower_to_viewer(people):
    ProjectGrant.objects.filter(user=people["approver"], project_id=ACME).update(role="viewer")


def test_a_bulk_decision_whose_person_became_a_viewer_before_it_ran_sends_nothing_and_says_why(
    sandbox, people, client
):
    assert client.login(username="approver", password=PASSWORD)
    items = pending_items(sandbox, "meta")[:3]
    response = start_bulk(client, "approve", [f"meta:{i['pendingId']}" for i in items])
    lower_to_viewer(people)
    run_worker()
    bulk = BulkDecision.objects.get()
    assert bulk.status == "done" and executed(sandbox, "approve") == 0
    assert set(bulk.items.values_list("outcome", flat=True)) == {"failed"}
    page = client.get(response.headers["Location"]).content.decode()
    assert "Stopped: approver’s access to this project is now viewer" in page
    assert "Try the 3 failed again" not in page  # a viewer is offered no retry


def test_a_running_bulk_decision_stops_before_the_next_write_once_the_role_drops(
    sandbox, people, client
):
    assert client.login(username="approver", password=PASSWORD)
    items = pending_items(sandbox, "meta")[:4]
    start_bulk(client, "approve", [f"meta:{i['pendingId']}" for i in items], text="Plan")

    def lower_after_the_first_decision(sender, instance, **kwargs):
        if instance.outcome:  # the first write came back: an admin lowers the role now
            lower_to_viewer(people)

    post_save.connect(lower_after_the_first_decision, sender=DecisionRecord)
    try:
        run_worker()
    finally:
        post_save.disconnect(lower_after_the_first_decision, sender=DecisionRecord)
    bulk = BulkDecision.objects.get()
    outcomes = list(bulk.items.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["decided", "failed", "failed", "failed"]
    assert executed(sandbox, "approve") == 1
    assert "approving or rejecting needs approver or admin" in bulk.stopped_sentence


def test_a_viewer_posting_cancel_to_the_authority_form_gets_it_back_read_only(
    sandbox, people, client
):
    assert client.login(username="viewer", password=PASSWORD)
    c = campaign(sandbox, "Retargeting — Cart Abandoners")
    url = reverse("campaign-authority", args=[ACME, "meta", c["campaignId"]])
    response = client.post(
        url, {"cancel": "1", "idempotency_key": str(uuid.uuid4())}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<fieldset") == html.count('<fieldset class="axis" disabled>') == 3
    assert "Save authority" not in html
