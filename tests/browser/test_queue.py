import pytest

from tests.conftest import ACME, browser_login, screenshot

pytestmark = pytest.mark.browser


def open_queue(page, live_server, query=""):
    page.goto(f"{live_server.url}/projects/{ACME}/queue/{query}")
    page.wait_for_selector("#queue-list")


def test_an_approver_approves_and_rejects_in_place_and_the_counts_follow(sandbox, people, live_server, page):
    browser_login(page, live_server, "approver")
    open_queue(page, live_server, "?platform=meta")
    counts_before = page.locator("#queue-counts").inner_text()
    screenshot(page, "queue")

    first = page.locator("article.action.status-pending").first
    first_id = first.get_attribute("id")
    first.get_by_placeholder("Comment (optional)").fill("Budget looks sensible")
    first.get_by_role("button", name="Approve", exact=True).click()
    approved = page.locator(f"#{first_id}")
    approved.locator(".status-pill", has_text="approved").wait_for()
    assert approved.locator("form").count() == 0

    second = page.locator("article.action.status-pending").first
    second_id = second.get_attribute("id")
    second.get_by_role("button", name="Budget change too large").click()
    page.locator(f"#{second_id} .status-pill", has_text="rejected").wait_for()

    page.wait_for_function(
        "before => document.querySelector('#queue-counts').innerText !== before", arg=counts_before
    )
    screenshot(page, "queue-after-decisions")


def test_rejecting_without_a_reason_keeps_the_row_and_says_why(sandbox, people, live_server, page):
    browser_login(page, live_server, "approver")
    open_queue(page, live_server)
    row = page.locator("article.action.status-pending").first
    row_id = row.get_attribute("id")
    row.get_by_role("button", name="Reject", exact=True).click()
    page.locator(f"#{row_id} [role=alert]", has_text="Say why you are rejecting it").wait_for()
    assert page.locator(f"#{row_id}.status-pending").count() == 1


def test_filters_are_kept_in_the_address_so_a_view_can_be_shared(sandbox, people, live_server, page):
    browser_login(page, live_server, "viewer")
    open_queue(page, live_server)
    page.get_by_label("Platform").select_option("tiktok")
    page.wait_for_url("**platform=tiktok**")
    page.reload()
    assert page.get_by_label("Platform").input_value() == "tiktok"
    platforms = set(page.locator("article.action").evaluate_all("els => els.map(e => e.querySelector('header .pill:not(.axis-pill)').innerText)"))
    assert platforms <= {"Tiktok"}


def test_the_queue_fits_a_narrow_360_pixel_frame(sandbox, people, live_server, page):
    page.set_viewport_size({"width": 360, "height": 800})
    browser_login(page, live_server, "approver")
    open_queue(page, live_server)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    screenshot(page, "queue-360")
    assert overflow <= 0
