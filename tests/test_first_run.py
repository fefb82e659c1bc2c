"""The first hour: the first superuser is led somewhere, and a person without any role sees
whom to ask instead of a dead end."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import ACME, PASSWORD


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser(
        username="root",
        email="root@partner.example",
        password=PASSWORD,
        first_name="Rita",
        last_name="Root",
    )


def test_a_superuser_sees_how_many_customers_the_key_can_see_and_the_next_steps(
    sandbox, client, root
):
    customers = len(sandbox.api("GET", "/v1/projects", params={"limit": 100}).json()["items"])
    assert client.login(username="root", password=PASSWORD)
    response = client.get("/first-run/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<span class="stat-value">{customers}</span>' in html
    assert "Not synced yet" in html
    assert "Give people roles." in html and "Nobody has a role yet" in html
    assert "Give every customer an owner." in html
    assert f"{customers} customers have no admin yet" in html
    assert f"/projects/{ACME}/access/" in html  # each customer's Access page
    assert "manage.py webhooks_register" in html  # not registered yet


def test_the_first_run_page_counts_admins_once_people_have_roles(sandbox, client, root, people):
    assert client.login(username="root", password=PASSWORD)
    html = client.get("/first-run/").content.decode()
    assert "Some people have roles already." in html
    assert "1 customer has no admin yet" in html  # Acme and Nordlicht have admins; Brightside not


def test_the_first_superusers_home_points_to_the_first_run_page(sandbox, client, root):
    assert client.login(username="root", password=PASSWORD)
    html = client.get("/").content.decode()
    assert 'id="first-run-banner"' in html and 'href="/first-run/"' in html
    assert 'id="nav-first-run"' in html


def test_the_first_run_banner_goes_once_someone_has_a_role(sandbox, client, root, people):
    assert client.login(username="root", password=PASSWORD)
    html = client.get("/").content.decode()
    assert 'id="first-run-banner"' not in html
    assert 'id="nav-first-run"' in html  # the page stays reachable from the nav


def test_the_first_run_page_is_for_superusers_only(sandbox, client, people):
    assert client.login(username="admin", password=PASSWORD)
    assert client.get("/first-run/").status_code == 403
    assert 'id="nav-first-run"' not in client.get("/").content.decode()


def test_a_person_without_grants_sees_who_can_give_them_access_by_name_only(
    sandbox, client, root, people
):
    get_user_model().objects.create_user(
        username="newcomer", password=PASSWORD, email="new@partner.example"
    )
    assert client.login(username="newcomer", password=PASSWORD)
    html = client.get("/").content.decode()
    assert "No projects yet." in html
    assert 'id="access-givers"' in html
    # The superuser first, by name; then every project admin (Acme's, Nordlicht's).
    assert "<strong>Rita Root</strong>, <strong>admin</strong>, <strong>outsider</strong>" in html
    assert "root@partner.example" not in html and "@" not in html.split('id="access-givers"')[1]
    assert "<strong>viewer</strong>" not in html  # a viewer cannot give access


def test_a_person_with_projects_sees_no_list_of_givers(sandbox, client, people):
    assert client.login(username="viewer", password=PASSWORD)
    assert 'id="access-givers"' not in client.get("/").content.decode()


def test_the_first_run_page_says_in_a_sentence_when_layers_refuses_the_key(
    sandbox, client, root, settings
):
    settings.LAYERS_API_KEY = "lp_test_WRONGKEY000000001_not-the-sandbox-key-000000000000000"
    assert client.login(username="root", password=PASSWORD)
    response = client.get("/first-run/")
    assert response.status_code == 200
    html = response.content.decode()
    customers = html.split('id="first-run-customers"')[1].split("</section>")[0]
    assert 'role="alert"' in customers and "Traceback" not in html
    assert settings.LAYERS_API_KEY not in html
    assert "Give people roles." in html  # the next steps still show


def test_once_the_mirror_has_discovered_the_customers_the_first_run_page_lists_them_from_it(
    sandbox, client, root
):
    from dashboard.models import MirrorProject
    from dashboard.services.mirror import mirror_projects_refresh

    mirror_projects_refresh(details=False)
    customers = MirrorProject.objects.count()
    MirrorProject.objects.filter(project_id=ACME).update(name="Acme (as the mirror has it)")
    assert client.login(username="root", password=PASSWORD)
    html = client.get("/first-run/").content.decode()
    assert "Acme (as the mirror has it)" in html
    assert f'<span class="stat-value">{customers}</span>' in html
