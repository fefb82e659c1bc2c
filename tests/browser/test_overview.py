import pytest
from playwright.sync_api import expect

from tests.conftest import ACME, browser_login, screenshot

pytestmark = pytest.mark.browser


def test_a_person_logs_in_picks_a_project_and_sees_its_overview(sandbox, people, live_server, page):
    browser_login(page, live_server, "admin", home=True)
    page.get_by_role("link", name="Acme Coffee").click()
    page.wait_for_url(f"{live_server.url}/projects/{ACME}/")
    expect(page.get_by_role("heading", name="Acme Coffee")).to_be_visible()
    expect(page.locator("#platform-meta")).to_be_visible()
    expect(page.locator("#platform-tiktok")).to_be_visible()
    expect(page.locator("#platform-apple")).to_be_visible()
    assert "pending actions to review" in page.locator("#summary").inner_text()
    assert "Approve and reject pending actions" in page.locator("#capabilities").inner_text()
    screenshot(page, "overview")


def test_the_project_picker_shows_only_the_projects_granted_to_the_person(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "outsider", home=True)
    names = page.locator("#project-list .card-title").all_inner_texts()
    assert names == ["Nordlicht Outdoor"]
    screenshot(page, "project-picker")


def test_a_wrong_password_shows_a_clear_error(sandbox, people, live_server, page):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert (
        page.get_by_role("alert").inner_text().startswith("Your username and password didn't match")
    )
    screenshot(page, "login-error")


def test_the_overview_says_when_a_platform_is_frozen_or_lacks_consent(
    sandbox, people, live_server, page
):
    from dashboard.models import ProjectGrant
    from tests.conftest import BRIGHTSIDE, NORDLICHT

    for project in (NORDLICHT, BRIGHTSIDE):
        ProjectGrant.objects.get_or_create(
            user=people["admin"], project_id=project, defaults={"role": "admin"}
        )
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server.url}/projects/{NORDLICHT}/")
    assert "Kill switch on" in page.locator("#platform-meta").inner_text()
    assert "switched off partner writes for Meta" in page.locator("main").inner_text()
    page.goto(f"{live_server.url}/projects/{BRIGHTSIDE}/")
    assert (
        "has not yet consented to partner changes on Meta"
        in page.locator("#platform-meta").inner_text()
    )
    screenshot(page, "overview-no-consent")
