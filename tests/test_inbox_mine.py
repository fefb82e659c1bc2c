"""The inbox opens on "Mine" (the customers a person owns, or covers today) with
"Everyone" one click away; a person who owns nothing sees everyone."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard.models import ProjectOwnership
from dashboard.models.mirror import MirrorAction
from tests.conftest import ACME, BRIGHTSIDE, NORDLICHT, login
from tests.test_inbox import line_ids

HTMX = {"HX-Request": "true"}


def customers_listed(html: str) -> set[str]:
    ids = line_ids(html)
    return set(MirrorAction.objects.filter(pending_id__in=ids).values_list("project_id", flat=True))


def test_a_person_who_owns_a_customer_opens_the_inbox_on_mine_and_everyone_is_one_click_away(
    mirrored, client, manager
):
    ProjectOwnership.objects.create(project_id=ACME, owner=manager)
    login(client, "manager")
    html = client.get(reverse("inbox")).content.decode()
    assert customers_listed(html) == {ACME}
    assert 'id="scope-mine"' in html and 'aria-current="page" id="scope-mine"' in html
    everyone = client.get(reverse("inbox") + "?scope=everyone").content.decode()
    assert customers_listed(everyone) == {ACME, NORDLICHT, BRIGHTSIDE}


def test_a_cover_counts_as_mine_only_on_the_days_it_covers(mirrored, client, manager, people):
    today = timezone.localdate()
    ProjectOwnership.objects.create(
        project_id=NORDLICHT,
        owner=people["admin"],
        cover=manager,
        cover_from=today - timedelta(days=1),
        cover_until=today + timedelta(days=1),
    )
    ProjectOwnership.objects.create(
        project_id=BRIGHTSIDE,
        owner=people["admin"],
        cover=manager,
        cover_from=today + timedelta(days=3),
        cover_until=today + timedelta(days=9),
    )
    login(client, "manager")
    assert customers_listed(client.get(reverse("inbox")).content.decode()) == {NORDLICHT}


def test_a_person_who_owns_nothing_sees_everyone_and_mine_says_so_when_asked(
    mirrored, client, manager
):
    login(client, "manager")
    html = client.get(reverse("inbox")).content.decode()
    assert customers_listed(html) == {ACME, NORDLICHT, BRIGHTSIDE}
    assert 'aria-current="page" id="scope-everyone"' in html
    mine = client.get(reverse("inbox") + "?scope=mine").content.decode()
    assert customers_listed(mine) == set()
    assert "This is your customers only" in mine


def test_filters_and_select_all_keep_to_mine(mirrored, client, manager):
    ProjectOwnership.objects.create(project_id=ACME, owner=manager)
    login(client, "manager")
    html = client.get(reverse("inbox") + "?platform=meta", headers=HTMX).content.decode()
    assert customers_listed(html) == {ACME}
    assert (
        '<input type="hidden" name="scope" value="mine">'
        in client.get(reverse("inbox")).content.decode()
    )
    meta = MirrorAction.objects.pending().filter(project_id=ACME, platform="meta").count()
    assert f"of {meta} pending" in html
