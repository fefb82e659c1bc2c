"""An account manager works through the inbox across three customers in a real browser:
filter, open a detail, approve, reject, bulk; with Layers answering slowly, then not at all."""

import re

import pytest

from dashboard.models.mirror import MirrorAction
from tests.conftest import (
    ACME,
    BRIGHTSIDE,
    CUSTOMERS,
    NORDLICHT,
    browser_login,
    manager_make,
    mirror_fill,
    screenshot,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def inbox_ready(sandbox, people):
    manager_make()
    sandbox.control("pending-bulk", projectId=NORDLICHT, platform="meta", count=20)
    mirror_fill()
    return sandbox


def open_inbox(page, live_server, query=""):
    page.goto(f"{live_server.url}/inbox/{query}")
    page.wait_for_selector("#inbox-list")


def test_an_account_manager_filters_opens_approves_rejects_and_bulk_decides_across_three_customers_with_layers_slow_then_down(  # noqa: E501 - the name is the test's sentence
    inbox_ready, live_server, page, settings
):
    page.set_viewport_size({"width": 1280, "height": 800})
    browser_login(page, live_server, "manager")
    inbox_ready.control("latency", ms=700)  # Layers answers slowly from here on
    open_inbox(page, live_server)
    visible = page.evaluate(
        "[...document.querySelectorAll('tr.ix')].filter(r => r.getBoundingClientRect().bottom"
        " <= window.innerHeight).length"
    )
    screenshot_path = screenshot(page, "inbox")
    assert visible >= 15, f"only {visible} lines fit 1280x800 {screenshot_path}"
    customers = set(
        page.locator("tr.ix td.ix-cust").evaluate_all("els => els.map(e => e.textContent)")
    )
    assert len(customers) == 3
    assert page.locator("#freshness-line").inner_text().startswith("Synced")

    # Filter to one customer (htmx swaps the list; the address keeps the filter).
    page.get_by_label("Customer").select_option(ACME)
    page.wait_for_url(f"**customer={ACME}**")
    page.wait_for_function(
        "n => document.querySelectorAll('tr.ix').length === n",
        arg=MirrorAction.objects.pending().filter(project_id=ACME).count(),
    )

    # Open a detail in place, approve it there.
    first = page.locator("tr.ix").first
    first_id = first.get_attribute("id").removeprefix("ix-")
    first.get_by_role("link", name="Details").click()
    card = page.locator(f"#ixd-{first_id} article.action")
    card.wait_for()
    screenshot(page, "inbox-detail-open")
    card.get_by_placeholder("Comment (optional)").fill("Looks right")
    card.get_by_role("button", name="Approve", exact=True).click()
    page.locator(f"#ixd-{first_id} .status-pill", has_text="approved").wait_for()
    page.locator(f"#ix-{first_id}.decided").wait_for()
    assert MirrorAction.objects.get(pk=first_id).status == "approved"
    assert f"/inbox/?customer={ACME}" in page.url  # not the decision's address

    # Reject the next one from the keyboard: r opens it and puts the cursor in the reason.
    second = page.locator("tr.ix:not(.decided)").first
    second_id = second.get_attribute("id").removeprefix("ix-")
    second.focus()
    page.keyboard.press("r")
    page.wait_for_function("() => document.activeElement?.name === 'reason'")
    page.keyboard.type("Customer paused this line")
    page.keyboard.press("Enter")
    page.locator(f"#ixd-{second_id} .status-pill", has_text="rejected").wait_for()
    assert MirrorAction.objects.get(pk=second_id).status == "rejected"
    screenshot(page, "inbox-after-decisions")

    # Bulk: back to every customer, tick one line of each with x, reject them together.
    open_inbox(page, live_server)
    ticked = set()
    for line in page.locator("tr.ix").all():
        project = MirrorAction.objects.get(pk=line.get_attribute("id").removeprefix("ix-"))
        if project.project_id not in ticked:
            line.focus()
            page.keyboard.press("x")
            ticked.add(project.project_id)
        if len(ticked) == 3:
            break
    assert page.locator("#bulk-count").inner_text() == "3 selected"
    page.locator("#bulk-text").fill("Not this week")
    page.get_by_role("button", name="Reject selected").click()
    page.wait_for_url("**/inbox/bulk/**")
    assert page.locator("#inbox-bulks tbody tr").count() == 3
    screenshot(page, "inbox-bulk")

    # Layers goes away: the sync records it, the inbox keeps its rows under a banner, and a
    # decision fails with Layers' sentence, keeping what was typed.
    from dashboard.layers import LayersError
    from dashboard.services.mirror import mirror_refresh

    settings.LAYERS_API_BASE_URL = "http://127.0.0.1:9/nowhere"
    with pytest.raises(LayersError):
        mirror_refresh(BRIGHTSIDE, "meta")
    open_inbox(page, live_server, f"?customer={BRIGHTSIDE}")
    page.locator("#layers-down").wait_for()
    assert page.locator("tr.ix").count() > 0
    line = page.locator("tr.ix").first
    line_id = line.get_attribute("id").removeprefix("ix-")
    line.get_by_role("link", name="Details").click()
    card = page.locator(f"#ixd-{line_id} article.action")
    card.wait_for()
    card.get_by_placeholder("Reason (required to reject)").fill("Words worth keeping")
    card.get_by_role("button", name="Reject", exact=True).click()
    alert = page.locator(f"#ixd-{line_id} [role=alert]", has_text="What you typed is kept")
    alert.wait_for()
    assert page.locator(f"#ixd-{line_id} input[name=reason]").input_value() == "Words worth keeping"
    screenshot(page, "inbox-layers-down")
    assert set(CUSTOMERS) >= {BRIGHTSIDE}


def test_the_projects_page_lists_each_customer_with_counts_and_freshness(
    inbox_ready, live_server, page
):
    browser_login(page, live_server, "manager", home=True)
    rows = page.locator("#project-list li.project-line")
    assert rows.count() == 3
    assert "Synced" in page.locator("#project-list").inner_text()
    screenshot(page, "projects-urgency")


def test_an_owner_opens_the_inbox_on_mine_and_switches_to_everyone(inbox_ready, live_server, page):
    from django.contrib.auth import get_user_model

    from dashboard.models import ProjectOwnership

    manager = get_user_model().objects.get(username="manager")
    ProjectOwnership.objects.create(project_id=NORDLICHT, owner=manager)
    browser_login(page, live_server, "manager")
    open_inbox(page, live_server)
    assert page.locator("#scope-mine").get_attribute("aria-current") == "page"
    mine = MirrorAction.objects.pending().filter(project_id=NORDLICHT).count()
    assert page.locator("#inbox-list").get_by_text(f"of {mine} pending").count() >= 1
    screenshot(page, "inbox-mine")
    page.locator("#scope-everyone").click()
    page.wait_for_selector('#scope-everyone[aria-current="page"]')
    everyone = MirrorAction.objects.pending().filter(project_id__in=CUSTOMERS).count()
    assert page.locator("#inbox-list").get_by_text(f"of {everyone} pending").count() >= 1


def test_a_selection_in_the_inbox_totals_each_currency_the_way_its_rows_are_written(
    inbox_ready, live_server, page
):
    browser_login(page, live_server, "manager")
    open_inbox(page, live_server, "?scope=everyone&sort=spend")
    spend = {}
    for customer in (NORDLICHT, ACME):  # German euros, US dollars
        row = page.locator(
            f"tr.ix:has(input.select[value^='{customer}:']:not([data-change='0']))"
        ).first
        row.locator("input.select").check()
        spend[customer] = row.locator("td.num").inner_text()
    assert spend[NORDLICHT].endswith("\xa0€")  # "+16,00 €": the customer's own way
    assert spend[ACME].startswith("+$")
    assert page.locator("#bulk-exposure").inner_text() == (
        f"Daily budget change of the selection: {spend[NORDLICHT]}, {spend[ACME]}"  # EUR, USD
    )
    every = page.locator("#select-all-spend").inner_text()  # the server's totals, the same way
    assert re.fullmatch(r"\+[\d.]+,\d\d\xa0€, \+\$[\d,]+\.\d\d", every), every
    screenshot(page, "inbox-selection-locales")


def test_a_on_a_closed_line_approves_it_in_place_without_leaving_the_page(
    inbox_ready, live_server, page
):
    browser_login(page, live_server, "manager")
    open_inbox(page, live_server, f"?customer={ACME}")
    page.evaluate("window.stillThisPage = true")  # gone if the page were loaded again
    line = page.locator("tr.ix").first
    pending_id = line.get_attribute("id").removeprefix("ix-")
    line.focus()
    page.keyboard.press("a")
    page.locator(f"#ixd-{pending_id} .status-pill", has_text="approved").wait_for()
    page.locator(f"#ix-{pending_id}.decided").wait_for()
    assert page.evaluate("window.stillThisPage === true")
    assert MirrorAction.objects.get(pk=pending_id).status == "approved"
