"""An admin assigns a customer's owner and a cover on the Projects page, in a real browser;
the customer left without an owner stays flagged."""

import datetime

import pytest

from dashboard.models import ProjectGrant
from tests.conftest import ACME, BRIGHTSIDE, browser_login, screenshot

pytestmark = pytest.mark.browser


def test_an_admin_assigns_an_owner_and_a_cover_and_the_other_customer_stays_flagged(
    sandbox, people, live_server, page
):
    ProjectGrant.objects.create(user=people["admin"], project_id=BRIGHTSIDE, role="admin")
    browser_login(page, live_server, "admin", home=True)
    acme = page.locator(f"#project-{ACME}")
    assert "No owner" in acme.inner_text()
    acme.get_by_role("link", name="Assign an owner").click()

    page.get_by_label("Owner", exact=True).select_option(label="approver")
    page.get_by_label("Cover", exact=True).select_option(label="viewer")
    today = datetime.date.today()
    page.get_by_label("First day").fill(today.isoformat())
    page.get_by_label("Last day").fill((today + datetime.timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Save owner").click()

    page.wait_for_url(f"{live_server.url}/")
    acme = page.locator(f"#project-{ACME}")
    text = acme.inner_text()
    assert "Owner: approver" in text and "Cover: viewer" in text and "covering now" in text
    brightside = page.locator(f"#project-{BRIGHTSIDE}")
    assert "No owner" in brightside.inner_text()
    assert "1 without an owner" in page.locator("#unowned-count").inner_text()
    screenshot(page, "projects-owners")
