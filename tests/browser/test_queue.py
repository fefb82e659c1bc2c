import re

import pytest
from playwright.sync_api import expect

from tests.conftest import ACME, browser_login, screenshot, sync_next_tick, task_worker

pytestmark = pytest.mark.browser


def open_queue(page, live_server, query=""):
    page.goto(f"{live_server.url}/projects/{ACME}/queue/{query}")
    page.wait_for_selector("#queue-list")


def test_an_approver_approves_and_rejects_in_place_and_the_counts_follow(
    sandbox, people, live_server, page
):
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
    # htmx settles the swapped row's class a moment after its content: until then the
    # approved row still reads as pending and would be taken for the next one.
    page.locator(f"#{first_id}.status-pending").wait_for(state="detached")
    assert page.url.endswith("/queue/?platform=meta")  # not the decision's: Back and reload work

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


def test_filters_are_kept_in_the_address_so_a_view_can_be_shared(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "viewer")
    open_queue(page, live_server)
    page.get_by_label("Platform").select_option("tiktok")
    page.wait_for_url("**platform=tiktok**")
    page.reload()
    assert page.get_by_label("Platform").input_value() == "tiktok"
    platforms = set(
        page.locator("article.action").evaluate_all(
            "els => els.map(e => e.querySelector('header .pill:not(.axis-pill)').innerText)"
        )
    )
    assert platforms <= {"TikTok"}


def test_the_queue_fits_a_narrow_360_pixel_frame(sandbox, people, live_server, page):
    page.set_viewport_size({"width": 360, "height": 800})
    browser_login(page, live_server, "approver")
    open_queue(page, live_server)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, "queue-360")
    assert overflow <= 0


def test_a_reviewer_works_through_the_queue_with_the_keyboard_only(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "approver")
    open_queue(page, live_server, "?platform=meta")
    cards = page.locator("article.action")
    first_id, second_id, third_id = (cards.nth(i).get_attribute("id") for i in range(3))
    cards.nth(0).focus()
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.id") == second_id
    page.keyboard.press("a")
    page.locator(f"#{second_id} .status-pill", has_text="approved").wait_for()
    # The decided card hands the focus on to the next pending one.
    page.wait_for_function("id => document.activeElement?.id === id", arg=third_id)
    page.locator(f"#{first_id}").focus()
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.type("Customer paused this line")
    page.keyboard.press("Enter")
    page.locator(f"#{first_id} .status-pill", has_text="rejected").wait_for()


def test_two_reviewers_deciding_the_same_action_one_wins_and_the_other_sees_who(
    sandbox, people, live_server, browser
):
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    first, second = (context.new_page() for context in contexts)
    try:
        browser_login(first, live_server, "approver")
        browser_login(second, live_server, "admin")
        for page in (first, second):
            open_queue(page, live_server, "?platform=tiktok")
        row_id = first.locator("article.action").first.get_attribute("id")
        first.locator(f"#{row_id}").get_by_role("button", name="Approve", exact=True).click()
        first.locator(f"#{row_id} .status-pill", has_text="approved").wait_for()

        second.locator(f"#{row_id}").get_by_placeholder("Reason (required to reject)").fill(
            "Too aggressive"
        )
        second.locator(f"#{row_id}").get_by_role("button", name="Reject", exact=True).click()
        banner = second.locator(f"#{row_id} .conflict")
        banner.wait_for()
        assert (
            "Someone else decided first: this action is already approved by approver here at"
            in banner.inner_text()
        )
        assert "Too aggressive" in banner.inner_text()
        screenshot(second, "queue-conflict")
    finally:
        for context in contexts:
            context.close()


def test_a_bulk_approval_of_fifty_actions_shows_its_progress_and_a_result_per_row(
    sandbox, people, live_server, page
):
    sandbox.control("pending-bulk", projectId=ACME, platform="apple", count=50)
    with task_worker():
        browser_login(page, live_server, "approver")
        open_queue(page, live_server, "?platform=apple")
        boxes = page.locator("input.select")
        boxes.nth(0).check()
        boxes.nth(3).click(modifiers=["Shift"])
        assert page.locator("#bulk-count").inner_text() == "4 selected"
        page.locator("#bulk-select-all").check()
        # The bar says what select all takes once the server has counted it (the row moves
        # as it does): the approver reads it before deciding.
        page.locator("#bulk-count", has_text=re.compile(r"^All \d+ matching selected$")).wait_for()
        page.locator("#bulk-text").fill("Approved with the customer on the weekly call")
        page.get_by_role("button", name="Approve selected").click()
        page.wait_for_url("**/queue/bulk/**")
        page.locator("#bulk-status", has_text="Finished").wait_for(timeout=120_000)
        assert page.locator("tr.bulk-item.outcome-decided").count() >= 50
        screenshot(page, "bulk-progress")


def test_a_bulk_approval_that_failed_while_layers_was_down_is_tried_again_from_its_page(
    sandbox, people, live_server, page, monkeypatch
):
    monkeypatch.setattr("dashboard.services.bulk.TRANSIENT_PAUSE", 0.01)
    browser_login(page, live_server, "approver")
    open_queue(page, live_server, "?platform=tiktok")
    page.locator("input.select").nth(0).check()
    page.locator("input.select").nth(1).check()
    page.locator("#bulk-text").fill("Agreed on the call")
    sandbox.control(
        "faults",
        faults=[
            {
                "kind": "status",
                "status": 503,
                "count": 100,
                "method": "POST",
                "pathContains": "/approve",
            }
        ],
    )
    with task_worker():
        page.get_by_role("button", name="Approve selected").click()
        page.wait_for_url("**/queue/bulk/**")
        page.locator("#bulk-status", has_text="Finished").wait_for(timeout=60_000)
    assert page.locator("tr.bulk-item.outcome-failed").count() == 2
    retry = page.get_by_role("button", name="Try the 2 failed again")
    screenshot(page, "bulk-failed")

    sandbox.control("faults", faults=[])
    with task_worker():
        retry.click()
        page.locator("#bulk-status", has_text="Finished").wait_for(timeout=60_000)
    assert page.locator("tr.bulk-item.outcome-decided").count() == 2
    assert page.get_by_role("button", name="Try the 2 failed again").count() == 0
    assert sandbox.control("stats")["executedByRoute"].get("POST pending.approve") == 2


def test_the_open_queue_announces_new_actions_within_seconds_of_a_webhook_and_keeps_what_was_typed(
    sandbox, people, live_server, page, settings
):
    from django.test import Client

    from tests.test_bulk import run_worker
    from tests.test_webhooks import SECRET, deliver, envelope

    settings.LAYERS_WEBHOOK_SECRET = SECRET
    browser_login(page, live_server, "approver")
    open_queue(page, live_server, "?platform=meta")
    first = page.locator("article.action.status-pending").first
    first.get_by_placeholder("Reason (required to reject)").fill("Half-typed reason")
    first.locator("input.select").check()

    sandbox.control("clock", advanceSeconds=10)
    sandbox.control("pending-bulk", projectId=ACME, platform="meta", count=2)
    run = envelope(
        "ads.optimizer.run.completed",
        runId="run_01BROWSER",
        platform="meta",
        dryRun=False,
        summary={"proposed": 2, "queued": 2, "dispatched": 0},
        changes=[],
    )
    assert deliver(Client(), run, SECRET).status_code == 200
    run_worker()  # the worker acts on the stored event: the list is marked dirty
    sync_next_tick()  # the sync worker's next tick reads it into the mirror the page reads

    notice = page.locator("#queue-fresh .banner")
    notice.wait_for(timeout=15_000)  # the page polls every 5 s
    assert "2 new actions" in notice.inner_text()
    page.locator("#queue-counts", has_text="Meta 7").wait_for()  # the counts follow
    assert (
        first.get_by_placeholder("Reason (required to reject)").input_value() == "Half-typed reason"
    )
    expect(first.locator("input.select")).to_be_checked()
    screenshot(page, "queue-new-actions")
    notice.get_by_role("link", name="Show them").click()
    page.locator(".new-pill").first.wait_for()
    assert page.locator(".new-pill").count() == 2
