from pathlib import Path

import pytest
from playwright.sync_api import expect

from dashboard.models import Notice
from tests.conftest import ACME, browser_login, screenshot

pytestmark = pytest.mark.browser


def test_audit_filters_live_in_the_address_and_a_verdict_opens_its_page(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "viewer")
    page.goto(f"{live_server.url}/projects/{ACME}/audit/")
    page.wait_for_selector("#audit-table")
    screenshot(page, "audit")

    page.get_by_label("Decision").select_option("deny")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**decision=deny**")
    page.reload()
    assert page.get_by_label("Decision").input_value() == "deny"
    expect(page.locator("#audit-filtered-here")).to_be_visible()
    decisions = set(page.locator("tr.audit-row").evaluate_all("rows => rows.map(r => r.className)"))
    assert decisions and all("decision-deny" in c for c in decisions)
    screenshot(page, "audit-denied")

    link = page.locator("a.verdict-link").first
    verdict_id = link.inner_text()
    link.click()
    page.wait_for_selector("#verdict-decision")
    assert verdict_id in page.locator("h1").inner_text()
    assert "Denied" in page.locator("#verdict-decision").inner_text()
    expect(page.locator("#verdict-authority")).to_be_visible()
    expect(page.locator("#verdict-timeline")).to_be_visible()
    screenshot(page, "verdict")


def test_an_unknown_verdict_shows_a_clear_not_found_page(sandbox, people, live_server, page):
    browser_login(page, live_server, "viewer")
    response = page.goto(
        f"{live_server.url}/projects/{ACME}/verdicts/ver_01NOSUCHVERDICT0000000000/"
    )
    assert response.status == 404
    expect(page.get_by_role("heading", name="No such verdict")).to_be_visible()


def test_notices_show_with_a_count_in_the_navigation_and_can_be_marked_read(
    sandbox, people, live_server, page
):
    Notice.objects.create(
        project_id=ACME,
        kind="denied",
        link=f"/projects/{ACME}/audit/?decision=deny",
        sentence=(
            "Layers refused a change to a campaign on Meta: The tactical authority was off, "
            "so partners may not make this kind of change."
        ),
    )
    Notice.objects.create(
        project_id=ACME,
        kind="run_completed",
        link=f"/projects/{ACME}/queue/?platform=meta",
        second_link=f"/projects/{ACME}/queue/",
        second_label="The run",
        sentence="Optimizer run finished on Meta: 3 proposals to review.",
    )
    browser_login(page, live_server, "approver", home=True)
    badge = page.locator("#nav-notices .badge")
    assert badge.inner_text().split()[0] == "2"  # the expiring actions join in once they were read
    page.locator("#nav-notices").click()
    page.wait_for_selector("#notices-list")
    assert page.locator("li.notice.unread").count() == 2
    expect(page.locator("#notices-expiring")).to_be_visible()
    screenshot(page, "notices")
    page.get_by_role("button", name="Mark all as read").click()
    page.wait_for_selector("text=Every notice is marked as read.")
    assert page.locator("li.notice.unread").count() == 0
    # What is left in the count are the actions about to expire: they need a decision, not a glance.
    expiring = page.locator("#notices-expiring li").count()
    badge_text = page.locator("#nav-notices .badge").inner_text()
    assert (badge_text.split()[0] if badge_text.strip() else "0") == str(expiring)


def test_the_audit_log_fits_a_narrow_360_pixel_frame(sandbox, people, live_server, page):
    page.set_viewport_size({"width": 360, "height": 800})
    browser_login(page, live_server, "viewer")
    page.goto(f"{live_server.url}/projects/{ACME}/audit/")
    page.wait_for_selector("#audit-table")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 362
    screenshot(page, "audit-narrow")


def test_the_csv_export_shows_its_progress_and_offers_the_file_when_the_worker_is_done(
    sandbox, people, live_server, page
):
    from tests.test_bulk import run_worker

    browser_login(page, live_server, "viewer")
    page.goto(f"{live_server.url}/projects/{ACME}/audit/?decision=deny")
    page.wait_for_selector("#audit-table")
    page.get_by_role("button", name="Export CSV").click()
    page.wait_for_url("**/audit/export/**")
    assert "Queued, starting soon…" in page.locator("#export-status").inner_text()
    screenshot(page, "audit-export-queued")
    run_worker()  # the background worker makes it; the page's polling notices
    page.locator("#export-status", has_text="Finished").wait_for(timeout=15_000)
    assert "row" in page.locator("#export-counts").inner_text()
    screenshot(page, "audit-export-finished")
    with page.expect_download() as download:
        page.locator("#export-download").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("occurred_at,") and ",deny," in text


def test_the_export_start_page_and_a_job_of_another_project_read_as_sentences_in_the_layout(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "viewer")
    page.goto(f"{live_server.url}/projects/{ACME}/audit/export/?decision=deny")
    page.locator("#audit-export-start").wait_for()
    screenshot(page, "audit-export-start")
    page.get_by_role("button", name="Start the export").click()
    page.wait_for_url("**/audit/export/*/")
    page.goto(f"{live_server.url}/projects/{ACME}/audit/export/?decision=deny")
    assert "is still being made" in page.locator("#audit-export-start").inner_text()
    assert page.locator("#audit-export-recent li").count() == 1

    page.goto(f"{live_server.url}/projects/{ACME}/jobs/job_01HZX9ABCDEF0123456789ABCD/")
    assert "There is no job with that id in this project" in page.locator("#not-found").inner_text()
    assert page.locator("nav").count() >= 1  # the site's own layout, not a bare error
    screenshot(page, "job-not-found")
