"""Ownership: each customer has an owner among the people with access, optionally a cover
with dates; the Projects page shows them and flags a customer without one; admins assign."""

import datetime

from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.models import ProjectGrant, ProjectOwnership
from dashboard.services.ownership import projects_owned_or_covered
from tests.conftest import ACME, BRIGHTSIDE, NORDLICHT, PASSWORD

TODAY = datetime.date(2026, 12, 2)


def assign(client, project_id=ACME, **data):
    return client.post(reverse("project-owner", args=[project_id]), data)


def card(html, project_id):
    start = html.index(f'id="project-{project_id}"')
    return html[start : html.index("</li>", start)]


def test_a_customer_without_an_owner_is_flagged_on_the_projects_page(sandbox, people, client):
    assert client.login(username="admin", password=PASSWORD)
    html = client.get(reverse("home")).content.decode()
    assert "No owner" in card(html, ACME)
    assert "1 without an owner" in html
    assert "Assign an owner" in card(html, ACME)


def test_an_admin_assigns_an_owner_and_a_cover_among_the_people_with_access(
    sandbox, people, client
):
    assert client.login(username="admin", password=PASSWORD)
    form = client.get(reverse("project-owner", args=[ACME])).content.decode()
    for name in ("viewer", "approver", "admin"):
        assert f">{name}</option>" in form
    assert ">outsider</option>" not in form
    response = assign(
        client,
        owner=people["approver"].id,
        cover=people["admin"].id,
        cover_from="2026-12-01",
        cover_until="2099-12-31",
    )
    assert response.status_code == 302
    row = ProjectOwnership.objects.get(project_id=ACME)
    assert (row.owner, row.cover, row.assigned_by) == (
        people["approver"],
        people["admin"],
        people["admin"],
    )
    html = card(client.get(reverse("home")).content.decode(), ACME)
    assert 'Owner: <strong class="owner-name">approver</strong>' in html
    assert "Cover: <strong>admin</strong>" in html and "No owner" not in html


def test_someone_without_access_cannot_be_made_owner_and_the_form_says_why(sandbox, people, client):
    assert client.login(username="admin", password=PASSWORD)
    response = assign(client, owner=people["outsider"].id)
    assert response.status_code == 422
    assert "among the people with access" in response.content.decode()
    assert not ProjectOwnership.objects.exists()


def test_a_cover_needs_both_days_in_order_and_is_not_the_owner(sandbox, people, client):
    assert client.login(username="admin", password=PASSWORD)
    owner, cover = people["approver"].id, people["viewer"].id
    said = [
        assign(client, owner=owner, cover=cover).content.decode(),
        assign(
            client, owner=owner, cover=cover, cover_from="2026-12-09", cover_until="2026-12-01"
        ).content.decode(),
        assign(
            client, owner=owner, cover=owner, cover_from="2026-12-01", cover_until="2026-12-09"
        ).content.decode(),
        assign(
            client, owner=owner, cover=cover, cover_from="next week", cover_until="2026-12-09"
        ).content.decode(),
    ]
    assert "Give the first and the last day" in said[0]
    assert "last day comes before its first day" in said[1]
    assert "someone other than the owner" in said[2]
    assert "is not a date" in said[3]
    assert not ProjectOwnership.objects.exists()


def test_only_a_project_admin_may_assign_its_owner(sandbox, people, client):
    assert client.login(username="approver", password=PASSWORD)
    assert client.get(reverse("project-owner", args=[ACME])).status_code == 403
    assert assign(client, owner=people["approver"].id).status_code == 403
    html = client.get(reverse("home")).content.decode()
    assert "Assign an owner" not in html


def test_mine_is_what_a_person_owns_and_what_they_cover_on_that_day(db, people):
    approver, admin = people["approver"], people["admin"]
    ProjectGrant.objects.create(user=approver, project_id=BRIGHTSIDE, role="approver")
    ProjectGrant.objects.create(user=admin, project_id=BRIGHTSIDE, role="admin")
    ProjectOwnership.objects.create(project_id=ACME, owner=approver)
    ProjectOwnership.objects.create(
        project_id=BRIGHTSIDE,
        owner=admin,
        cover=approver,
        cover_from=datetime.date(2026, 12, 1),
        cover_until=datetime.date(2026, 12, 5),
    )
    assert projects_owned_or_covered(approver, on=TODAY) == {ACME, BRIGHTSIDE}
    assert projects_owned_or_covered(approver, on=datetime.date(2026, 12, 6)) == {ACME}
    assert projects_owned_or_covered(admin, on=TODAY) == {BRIGHTSIDE}
    # Losing access to a customer takes it out of "Mine", even while still named owner.
    ProjectGrant.objects.filter(user=approver, project_id=ACME).delete()
    assert projects_owned_or_covered(approver, on=TODAY) == {BRIGHTSIDE}


def test_an_owner_who_lost_access_leaves_the_customer_flagged(sandbox, people, client):
    ProjectOwnership.objects.create(project_id=NORDLICHT, owner=people["approver"])
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    assert client.login(username="root", password=PASSWORD)
    html = card(client.get(reverse("home")).content.decode(), NORDLICHT)
    assert "No owner" in html and "approver no longer has access" in html
