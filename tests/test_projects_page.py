"""The Projects page draws from the mirror: the customers the sync engine discovered, narrowed
by each person's grants, with their pending counts, expiring counts and freshness. Once the
mirror has discovered the projects a page view asks nothing of Layers (the sandbox's call
counter proves it); on a fresh install the first view lists them once through the sync
engine's own path."""

import re

import pytest
from django.urls import reverse

from dashboard.layers import LayersError
from dashboard.models import MirrorProject, SyncRead
from dashboard.services.mirror import mirror_refresh
from tests.conftest import ACME, BRIGHTSIDE, NORDLICHT
from tests.test_inbox import manager_make, mirror_fill, signed_in, upstream_calls

NOWHERE = "http://127.0.0.1:9/nowhere"  # nothing listens there


def cards(html: str) -> list[str]:
    return re.findall(r'<li class="card project-line[^"]*" id="project-([^"]+)">', html)


@pytest.fixture
def manager(db):
    return manager_make()


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
