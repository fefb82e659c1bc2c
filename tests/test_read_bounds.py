"""Issue 14, finding 4: what one person's request may cost the team's shared read budget.
A decision on an unknown action id makes one list read and remembers the miss for a
minute; only "load more" cursors this server signed are used, so a made-up one is a 400
with a sentence that reads nothing and adds no cache entry; select-all reads no list inside
the request (the background task gathers the ids)."""

import html
import re
import uuid

from django.urls import reverse

from dashboard.models import BulkDecision
from tests.conftest import ACME, NORDLICHT, login
from tests.test_audit import make_denials
from tests.test_bulk import run_worker, start_bulk

UNKNOWN = "pa_01UNKNOWN0000000000000000X"


def reads(sandbox, route):
    return sandbox.control("stats")["byRoute"].get(f"GET {route}", 0)


def test_a_decision_on_an_unknown_action_id_makes_one_list_read_and_remembers_the_miss(
    sandbox, people, client
):
    login(client, "approver")
    url = reverse("queue-decide", args=[ACME, "meta", UNKNOWN])
    before = reads(sandbox, "pending.list")
    for decision in ("approve", "reject", "approve", "reject"):  # reject without a reason too
        data = {"decision": decision, "idempotency_key": str(uuid.uuid4())}
        response = client.post(url, data, headers={"HX-Request": "true"})
        assert response.status_code in (200, 400, 404, 422)
    assert reads(sandbox, "pending.list") - before == 1


def test_a_made_up_queue_cursor_is_a_400_sentence_that_reads_nothing(sandbox, people, client):
    login(client, "approver")
    client.get(reverse("queue", args=[ACME]))  # everything the first page needs, cached
    before = sandbox.control("stats")["calls"]["GET"]
    response = client.get(reverse("queue", args=[ACME]), {"cursor": "eyJtZXRhIjogIngifQ=="})
    assert response.status_code == 400
    assert "was not made by this dashboard" in response.content.decode()
    assert sandbox.control("stats")["calls"]["GET"] == before


def test_a_made_up_audit_cursor_is_a_400_sentence_and_never_reaches_layers(sandbox, people, client):
    login(client, "approver")
    before = reads(sandbox, "audit_log.list")
    response = client.get(reverse("audit", args=[ACME]), {"cursor": "made-up"})
    assert response.status_code == 400
    assert "was not made by this dashboard" in response.content.decode()
    assert reads(sandbox, "audit_log.list") == before


def test_the_load_more_link_carries_a_signed_cursor_that_works_only_in_its_own_project(
    sandbox, people, client
):
    make_denials(sandbox, 60)  # more than one screen
    login(client, "admin")
    page = client.get(reverse("audit", args=[ACME])).content.decode()
    more = html.unescape(re.search(r'id="audit-more" href="([^"]+)"', page).group(1))
    assert client.get(more, headers={"HX-Request": "true"}).status_code == 200
    from dashboard.models import ProjectGrant

    ProjectGrant.objects.create(user=people["admin"], project_id=NORDLICHT, role="admin")
    elsewhere = more.replace(ACME, NORDLICHT)
    assert client.get(elsewhere).status_code == 400


def test_select_all_reads_no_list_inside_the_request(sandbox, people, client):
    login(client, "approver")
    sandbox.control("pending-bulk", projectId=ACME, platform="apple", count=105)
    before = reads(sandbox, "pending.list")
    response = start_bulk(client, "approve", [], select_all="1", platform="apple", status="pending")
    assert response.status_code == 302
    assert reads(sandbox, "pending.list") == before  # gathered by the task, later
    run_worker()
    bulk = BulkDecision.objects.get()
    assert bulk.items.count() >= 105
    assert set(bulk.items.values_list("outcome", flat=True)) == {"decided"}
