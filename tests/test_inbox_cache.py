"""The inbox keeps what a page drew from the mirror in the cache under the mirror's version
stamp (services/mirror_stamp.py), shared by everyone with the same customers and roles. These
tests prove it is never shown stale: each loads the page first (so it is cached), changes
the mirror the way production does (a decision here, a sync from Layers, a refresh asked
for) and loads it again."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.models import ProjectGrant
from dashboard.models.mirror import MirrorStamp
from dashboard.services.mirror import mirror_refresh
from tests.conftest import (
    ACME,
    BRIGHTSIDE,
    CUSTOMERS,
    NORDLICHT,
    PASSWORD,
    manager_make,
    mirror_fill,
)
from tests.test_inbox import line_ids, pending, signed_in

pytestmark = pytest.mark.usefixtures("people")


@pytest.fixture
def mirrored(sandbox, people):
    manager_make()
    mirror_fill()
    return sandbox


def total_shown(html: str) -> int:
    found = re.search(r"of (\d+) pending", html)
    return int(found.group(1)) if found else 0


def action_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if "dashboard_mirroraction" in q["sql"]]


def test_a_page_seen_before_a_decision_no_longer_shows_the_decided_action(mirrored, client):
    signed_in(client)
    first = client.get(reverse("inbox")).content.decode()
    decided = line_ids(first)[0]
    action = pending(pending_id=decided).get()
    url = reverse("inbox-decide", args=[action.project_id, action.platform, decided])
    response = client.post(
        url, {"decision": "approve", "comment": "", "idempotency_key": str(uuid.uuid4())}
    )
    assert response.status_code == 302
    again = client.get(reverse("inbox")).content.decode()
    assert decided not in line_ids(again)
    assert total_shown(again) == total_shown(first) - 1


def test_a_page_seen_before_a_sync_shows_what_the_sync_brought_and_its_poll_counts_it(
    mirrored, client
):
    signed_in(client)
    arrived = {"sort": "arrived"}
    first = client.get(reverse("inbox"), arrived).content.decode()
    after = pending(project_id__in=CUSTOMERS).order_by("-first_seen_at").first().first_seen_at
    poll = {"after": after.isoformat(), "sort": "arrived"}
    assert "new action" not in client.get(reverse("inbox-fresh"), poll).content.decode()
    mirrored.control("pending-bulk", projectId=BRIGHTSIDE, platform="meta", count=3)
    mirror_refresh(BRIGHTSIDE, "meta")
    again = client.get(reverse("inbox"), arrived).content.decode()
    brought = set(
        pending(project_id=BRIGHTSIDE, first_seen_at__gt=after).values_list("pk", flat=True)
    )
    assert len(brought) == 3
    assert brought <= set(line_ids(again)[:3])
    assert total_shown(again) == total_shown(first) + 3
    assert "3 new actions" in client.get(reverse("inbox-fresh"), poll).content.decode()


def test_a_page_seen_before_a_sync_drops_an_action_decided_in_layers_meanwhile(mirrored, client):
    signed_in(client)
    first = client.get(reverse("inbox"), {"customer": ACME}).content.decode()
    gone = line_ids(first)[0]
    action = pending(pending_id=gone).get()
    decided = mirrored.api(
        "POST",
        f"/v1/projects/{ACME}/ads/{action.platform}/pending/{gone}/reject",
        json={"reason": "Decided in Layers itself"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert decided.status_code < 300, decided.text
    mirror_refresh(ACME, action.platform)
    again = client.get(reverse("inbox"), {"customer": ACME}).content.decode()
    assert gone not in line_ids(again)
    assert total_shown(again) == total_shown(first) - 1


def test_a_sync_that_finds_nothing_new_keeps_the_pages_drawn_and_a_change_does_not(
    mirrored, client
):
    rows = MirrorStamp.objects.get(name="rows").stamp
    mirror_refresh(ACME, "meta")
    assert MirrorStamp.objects.get(name="rows").stamp == rows
    mirrored.control("pending-bulk", projectId=ACME, platform="meta", count=1)
    mirror_refresh(ACME, "meta")
    assert MirrorStamp.objects.get(name="rows").stamp != rows


def test_a_second_person_with_the_same_customers_gets_the_page_without_reading_the_actions(
    mirrored, client
):
    twin = ProjectGrant.objects.get(user__username="manager", project_id=ACME).user
    other = type(twin).objects.create_user(username="twin", password=PASSWORD)
    for grant in ProjectGrant.objects.filter(user=twin):
        ProjectGrant.objects.create(user=other, project_id=grant.project_id, role=grant.role)
    first = signed_in(client).get(reverse("inbox")).content.decode()
    client.logout()
    signed_in(client, "twin")
    with CaptureQueriesContext(connection) as queries:
        second = client.get(reverse("inbox")).content.decode()
    assert action_reads(queries) == []
    assert line_ids(second) == line_ids(first)
    assert 'name="selected"' in second  # an approver's boxes, as the first person's


def test_a_person_with_other_customers_never_gets_anothers_cached_page(mirrored, client):
    signed_in(client).get(reverse("inbox"))
    client.logout()
    html = signed_in(client, "outsider").get(reverse("inbox")).content.decode()
    shown = set(pending(pending_id__in=line_ids(html)).values_list("project_id", flat=True))
    assert shown == {NORDLICHT}
    assert "Acme" not in html


def test_a_refresh_asked_for_shows_on_the_page_seen_before_it(mirrored, client):
    signed_in(client)
    assert "A refresh is on its way" not in client.get(reverse("inbox")).content.decode()
    client.post(reverse("inbox-refresh"), {"customer": NORDLICHT, "next": "/inbox/"})
    assert "A refresh is on its way" in client.get(reverse("inbox")).content.decode()


def test_with_the_cache_switched_off_the_page_is_the_same(mirrored, client, settings):
    signed_in(client)
    cached = client.get(reverse("inbox")).content.decode()
    settings.INBOX_CACHE_SECONDS = 0
    fresh = client.get(reverse("inbox")).content.decode()
    assert line_ids(fresh) == line_ids(cached)
    assert total_shown(fresh) == total_shown(cached)
