"""The first hour, in Chromium: the first superuser is led from the empty home page to the
first-run page and on to a customer's Access page; a newcomer sees whom to ask."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.test_accessibility import severe_violations
from tests.conftest import ACME, PASSWORD, browser_login, screenshot

pytestmark = pytest.mark.browser


def test_the_first_superuser_goes_from_home_to_the_first_run_page_and_gives_someone_a_role(
    sandbox, live_server, page
):
    User = get_user_model()
    User.objects.create_superuser(username="root", password=PASSWORD, first_name="Rita")
    User.objects.create_user(username="maria", password=PASSWORD)
    browser_login(page, live_server, "root", home=True)
    page.get_by_role("link", name="Open the first-run page").click()
    page.wait_for_url(f"{live_server.url}/first-run/")
    expect(page.get_by_role("heading", name="First run", exact=True)).to_be_visible()
    customers = page.locator("#first-run-customers .stat-value").inner_text()
    assert int(customers) == len(sandbox.api("GET", "/v1/projects").json()["items"])
    assert "Not synced yet" in page.locator("#first-run-sync").inner_text()
    assert "Nobody has a role yet" in page.locator("#step-roles").inner_text()
    assert severe_violations(page) == []
    screenshot(page, "first-run")

    page.get_by_role("link", name="Access page of Acme Coffee").click()
    page.wait_for_url(f"{live_server.url}/projects/{ACME}/access/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Save access").click()
    expect(page.locator("#messages")).to_contain_text("maria is now admin.")  # the next page's

    page.get_by_role("link", name="First run").click()
    assert "Some people have roles already." in page.locator("#step-roles").inner_text()
    row = page.locator("#first-run-projects tr", has_text="Acme Coffee")
    assert row.locator("td").nth(1).inner_text() == "1"


def test_a_newcomer_without_any_role_sees_who_can_give_them_access(sandbox, live_server, page):
    User = get_user_model()
    User.objects.create_superuser(
        username="root", password=PASSWORD, first_name="Rita", last_name="Root"
    )
    User.objects.create_user(username="newcomer", password=PASSWORD)
    browser_login(page, live_server, "newcomer", home=True)
    empty = page.locator("#project-list-empty")
    assert "People who can give you access: Rita Root." in empty.inner_text()
    assert page.locator("#nav-first-run").count() == 0
    assert severe_violations(page) == []
    screenshot(page, "no-grants-who-to-ask")
