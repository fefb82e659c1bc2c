"""The Projects page draws from the mirror: the customers the sync engine discovered, narrowed
by each person's grants, with their pending counts, expiring counts and freshness. Once the
mirror has discovered the projects a page view asks nothing of Layers (the sandbox's call
counter proves it); on a fresh install the first view lists them once through the sync
engine's own path."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.layers import LayersError
from dashboard.models import MirrorProject, ProjectGrant, SyncRead
from dashboard.services.mirror import mirror_refresh, sync_refresh_request
from tests.conftest import (
    ACME,
    BRIGHTSIDE,
    NORDLICHT,
    PASSWORD,
    mirror_fill,
    upstream_calls,
)
from tests.test_inbox import pending, signed_in

NOWHERE = "http://127.0.0.1:9/nowhere"  # nothing listens there


def cards(html: str) -> list[str]:
    return re.findall(r'<li class="card project-line[^"]*" id="project-([^"]+)">', html)


def card(html: str, project_id: str) -> str:
    start = html.index(f'id="project-{project_id}"')
    return html[start : html.index("</li>", start)]


def pending_shown(html: str, project_id: str) -> int:
    return int(re.search(r'class="pending-count"[^>]*>(\d+) pending<', card(html, project_id))[1])


def test_once_synced_a_projects_page_view_reads_nothing_from_layers(
    sandbox, people, manager, client
):
    mirror_fill()
    signed_in(client)
    before = upstream_calls(sandbox)
    first = client.get(reverse("home")).content.decode()
    again = client.get(reverse("home")).content.decode()
    assert upstream_calls(sandbox) == before
    assert sorted(cards(first)) == sorted(cards(again)) == sorted([ACME, NORDLICHT, BRIGHTSIDE])
    assert "Pending counts: not synced yet" not in first


def test_the_projects_page_keeps_the_access_rules_a_person_sees_only_their_customers(
    sandbox, people, manager, client
):
    mirror_fill()
    assert cards(signed_in(client, "outsider").get(reverse("home")).content.decode()) == [NORDLICHT]
    html = signed_in(client, "admin").get(reverse("home")).content.decode()
    assert cards(html) == [ACME]
    assert "Assign an owner" in html  # the admin's card still offers the assignment


def test_on_a_fresh_install_the_first_view_lists_the_customers_through_the_sync_engine(
    sandbox, people, manager, client
):
    assert not MirrorProject.objects.exists()
    html = signed_in(client).get(reverse("home")).content.decode()
    assert sorted(cards(html)) == sorted([ACME, NORDLICHT, BRIGHTSIDE])
    assert "Pending counts: not synced yet." in html
    assert "Acme" in html and 'id="first-sync"' not in html
    # The read is the engine's: in its ledger (its budget), not a page's cached read.
    assert SyncRead.objects.filter(kind="projects").exists()
    before = upstream_calls(sandbox)
    client.get(reverse("home"))
    assert upstream_calls(sandbox) == before


def test_on_a_fresh_install_with_layers_down_the_page_says_why_the_customers_are_not_listed(
    sandbox, people, manager, client, settings
):
    settings.LAYERS_API_BASE_URL = NOWHERE
    response = signed_in(client).get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="first-sync"' in html and "could not be listed from Layers yet" in html
    assert not cards(html)
    assert "You have not been given access" not in html
    # The engine backs off, so the next view waits for it instead of reading again.
    again = client.get(reverse("home")).content.decode()
    assert "The first sync with Layers is under way" in again


def test_with_layers_down_the_projects_page_shows_the_mirrored_customers_under_the_banner(
    sandbox, people, manager, client, settings
):
    mirror_fill()
    settings.LAYERS_API_BASE_URL = NOWHERE
    with pytest.raises(LayersError):
        mirror_refresh(ACME, "meta")
    response = signed_in(client).get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="layers-down"' in html and "Layers is not answering" in html
    assert sorted(cards(html)) == sorted([ACME, NORDLICHT, BRIGHTSIDE])
    assert "Layers not answering" in html.split(f'id="project-{ACME}"')[1].split("</li>")[0]


# What every viewer shares is kept in the cache under the mirror's stamps
# (services/projects_page.py): each test below loads the page first, so it is cached, then
# changes the mirror or the ownership the way production does and loads it again.


def test_a_projects_page_seen_before_a_decision_shows_the_customers_new_count(mirrored, client):
    signed_in(client)
    first = client.get(reverse("home")).content.decode()
    action = pending(project_id=ACME).first()
    url = reverse("inbox-decide", args=[ACME, action.platform, action.pending_id])
    response = client.post(
        url, {"decision": "approve", "comment": "", "idempotency_key": str(uuid.uuid4())}
    )
    assert response.status_code == 302
    again = client.get(reverse("home")).content.decode()
    assert pending_shown(again, ACME) == pending_shown(first, ACME) - 1
    assert pending_shown(again, NORDLICHT) == pending_shown(first, NORDLICHT)


def test_a_projects_page_seen_before_a_sync_shows_what_the_sync_brought(mirrored, client):
    signed_in(client)
    first = client.get(reverse("home")).content.decode()
    mirrored.control("pending-bulk", projectId=BRIGHTSIDE, platform="meta", count=3)
    mirror_refresh(BRIGHTSIDE, "meta")
    again = client.get(reverse("home")).content.decode()
    assert pending_shown(again, BRIGHTSIDE) == pending_shown(first, BRIGHTSIDE) + 3


def test_a_projects_page_seen_before_a_failed_sync_says_layers_is_not_answering(
    mirrored, client, settings
):
    signed_in(client)
    assert "Layers not answering" not in client.get(reverse("home")).content.decode()
    settings.LAYERS_API_BASE_URL = NOWHERE
    with pytest.raises(LayersError):
        mirror_refresh(NORDLICHT, "meta")
    again = client.get(reverse("home")).content.decode()
    assert "Layers not answering" in card(again, NORDLICHT)
    assert "Layers not answering" not in card(again, ACME)


def test_an_owner_assigned_after_the_page_was_seen_shows_at_once(mirrored, client):
    assert client.login(username="admin", password=PASSWORD)
    assert "No owner" in card(client.get(reverse("home")).content.decode(), ACME)
    approver = ProjectGrant.objects.get(user__username="approver", project_id=ACME).user
    client.post(reverse("project-owner", args=[ACME]), {"owner": approver.id})
    again = card(client.get(reverse("home")).content.decode(), ACME)
    assert "No owner" not in again
    assert '<strong class="owner-name">approver</strong>' in again


def test_a_second_person_gets_the_counts_without_reading_the_actions_and_only_their_customers(
    mirrored, client
):
    sync_refresh_request(BRIGHTSIDE)  # any sync-state write: a new key, computed below
    first = signed_in(client).get(reverse("home")).content.decode()
    client.logout()
    assert client.login(username="outsider", password=PASSWORD)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("home")).content.decode()
    assert [q["sql"] for q in queries if "dashboard_mirroraction" in q["sql"]] == []
    assert cards(html) == [NORDLICHT]
    assert (
        card(html, NORDLICHT).split('class="owner"')[0]
        == (card(first, NORDLICHT).split('class="owner"')[0])
    )
    assert "Acme" not in html


def test_with_the_cache_switched_off_the_projects_page_is_the_same(mirrored, client, settings):
    signed_in(client)
    cached = client.get(reverse("home")).content.decode()
    settings.INBOX_CACHE_SECONDS = 0
    fresh = client.get(reverse("home")).content.decode()
    assert cards(fresh) == cards(cached)
    for project_id in cards(cached):
        assert pending_shown(fresh, project_id) == pending_shown(cached, project_id)
