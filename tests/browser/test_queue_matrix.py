"""In a browser: every queue row carries its campaign's authority matrix (three axes, the
gating one marked, a link to change it), and ticking "select all" says how many it takes,
the cap when it applies, and the daily spend change of everything it takes."""

import os

import pytest
from playwright.sync_api import expect

from dashboard.layers.records import ACTION_AXIS
from dashboard.money import cents_format
from tests.conftest import ACME, ARTIFACTS, SCREENSHOTS, browser_login, screenshot
from tests.test_bulk_select_all import every_pending
from tests.test_queue import pending_items

pytestmark = pytest.mark.browser


def screenshot_path(name):
    return os.path.abspath(os.path.join(ARTIFACTS, f"{name}.png"))


def test_each_row_shows_the_campaigns_three_axes_and_its_link_opens_the_authority_control(
    sandbox, people, live_server, page
):
    item = next(i for i in pending_items(sandbox, "meta") if i["entityType"] == "campaign")
    authority = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/meta/campaigns/{item['entityId']}/authority"
    ).json()["authority"]
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/?platform=meta")
    matrix = page.locator(f"#pa-{item['pendingId']} .authority-matrix")
    text = matrix.inner_text()
    for axis in ("creative", "tactical", "structural"):
        assert f"{axis.capitalize()} {authority[axis]}" in text
    gating = ACTION_AXIS[item["actionType"]]
    assert (
        matrix.locator(".axis-cell.gating")
        .inner_text()
        .strip()
        .startswith(f"▸{gating.capitalize()}")
    )
    assert page.locator(".action .authority-matrix").count() == page.locator(".action").count()
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size({"width": 1280, "height": 900})
    matrix.scroll_into_view_if_needed()
    screenshot(page, "queue-authority-matrix")
    matrix.get_by_role("link", name=f"Change the authority of {item['entityName']}").click()
    page.wait_for_url(f"**/campaigns/meta/{item['entityId']}/**")
    expect(page.locator(f"#authority-{item['entityId']}")).to_be_visible()


def test_ticking_select_all_says_how_many_the_cap_and_the_spend_of_everything_it_takes(
    sandbox, people, live_server, page, settings
):
    sandbox.control("pending-bulk", projectId=ACME, platform="meta", count=60)
    settings.BULK_MAX_ITEMS = 40
    items = every_pending(sandbox, "meta")[:40]
    total = 0
    for item in items:
        before, after = item.get("currentValue") or {}, item.get("newValue") or {}
        for key in set(before) & set(after):
            if key.endswith("Cents") and isinstance(before[key], int):
                total += after[key] - before[key]
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/?platform=meta")
    matching = len(every_pending(sandbox, "meta"))
    assert page.locator("#bulk-all-count").inner_text() == (
        f"({matching} match; one bulk decision takes the first 40)"
    )
    page.locator("#bulk-select-all").check()
    summary = page.locator("#bulk-all-summary[data-count]")
    summary.wait_for()
    assert "Select all takes the first 40 matching pending actions" in summary.inner_text()
    assert "capped at 40" in summary.inner_text()
    assert page.locator("#bulk-count").inner_text() == "All 40 matching selected"
    sign = "+" if total >= 0 else "−"
    assert page.locator("#bulk-exposure").inner_text() == (
        f"Daily budget change of what select all takes: {sign}{cents_format(abs(total), 'USD')}"
    )
    screenshot(page, "queue-select-all")
    if SCREENSHOTS:
        page.locator("#bulk-form").screenshot(path=screenshot_path("queue-select-all-bar"))
    page.locator("#bulk-select-all").uncheck()
    assert page.locator("#bulk-count").inner_text() == "None selected"
