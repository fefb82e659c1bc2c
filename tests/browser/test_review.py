"""What a reviewer sees of issue 13's review features, in a real browser: the three values
when a campaign moved before an approval, proposals in words with the raw value one click
away, the selection's spend total, a bulk decision whose worker stopped, and the
lifetime-budget form."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import ACME, browser_login, screenshot, task_worker
from tests.test_queue import pending_items

pytestmark = pytest.mark.browser


def open_queue(page, live_server, query=""):
    page.goto(f"{live_server.url}/projects/{ACME}/queue/{query}")
    page.wait_for_selector("#queue-list")


def money(cents):
    return f"${cents / 100:,.2f}"


def test_approving_after_the_budget_moved_shows_what_you_saw_what_it_is_now_and_what_is_proposed(
    sandbox, people, live_server, page
):
    item = next(
        i
        for i in pending_items(sandbox, "meta")
        if i["actionType"] == "update_budget" and i["entityType"] == "campaign"
    )
    seen = item["currentValue"]["dailyBudgetCents"]
    browser_login(page, live_server, "approver")
    open_queue(page, live_server, "?platform=meta")
    # While the page is open, someone changes the campaign's budget through Layers.
    sandbox.control(
        "campaign-authority",
        projectId=ACME,
        platform="meta",
        campaignId=item["entityId"],
        authority={"tactical": "auto"},
    )
    sandbox.api(
        "PATCH",
        f"/v1/projects/{ACME}/ads/meta/campaigns/{item['entityId']}/budget",
        json={"dailyBudgetCents": seen + 2500},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    row = page.locator(f"#pa-{item['pendingId']}")
    row.get_by_placeholder("Comment (optional)").fill("Fine by the customer")
    row.get_by_role("button", name="Approve", exact=True).click()

    moved = page.locator(f"#pa-{item['pendingId']} .moved")
    moved.wait_for()
    assert "nothing was sent" in moved.inner_text()
    cells = moved.locator("td").all_inner_texts()
    assert cells == [money(seen), money(seen + 2500), money(item["newValue"]["dailyBudgetCents"])]
    assert page.locator(f"#pa-{item['pendingId']}").get_by_placeholder(
        "Comment (optional)"
    ).input_value() == ("Fine by the customer")
    screenshot(page, "queue-moved")

    page.locator(f"#pa-{item['pendingId']}").get_by_role("button", name="Approve anyway").click()
    page.locator(f"#pa-{item['pendingId']} .status-pill", has_text="approved").wait_for()
    assert sandbox.control("stats")["executedByRoute"].get("POST pending.approve") == 1


def test_targeting_and_schedules_read_in_words_with_the_raw_value_one_click_away(
    sandbox, people, live_server, page
):
    targeting = pending_items(sandbox, "meta")
    targeting = next(i for i in targeting if i["actionType"] == "update_targeting")
    browser_login(page, live_server, "approver")
    open_queue(page, live_server, "?platform=meta&action=update_targeting")
    row = page.locator(f"#pa-{targeting['pendingId']}")
    table = row.locator("table.changes")
    countries = table.locator("tr", has_text="Countries")
    assert countries.locator(".words").all_inner_texts() == [
        "United States",
        "United States, Canada",
    ]
    assert countries.locator(".list-delta").inner_text() == "(+ Canada)"
    assert "25–44" in table.inner_text() and "25–54" in table.inner_text()
    raw = table.locator("details.raw").nth(3)
    expect(raw.locator("code")).not_to_be_visible()
    raw.locator("summary").click()
    assert raw.locator("code").inner_text() == '{"max": 54, "min": 25}'
    screenshot(page, "queue-targeting")

    open_queue(page, live_server, "?platform=tiktok&action=update_schedule")
    schedule = page.locator("article.action").first.locator("table.changes")
    assert "All day, every day" in schedule.inner_text()
    assert "Mon–Fri 06:00–22:00" in schedule.inner_text()
    assert "dayOfWeek" not in schedule.inner_text()  # the raw JSON stays folded
    screenshot(page, "queue-schedule")


def test_selecting_budget_changes_shows_the_selections_daily_spend_change(
    sandbox, people, live_server, page
):
    budgets = [
        i
        for i in pending_items(sandbox, "meta") + pending_items(sandbox, "tiktok")
        if i["actionType"] == "update_budget"
    ][:2]
    assert len(budgets) == 2
    total = sum(
        i["newValue"]["dailyBudgetCents"] - i["currentValue"]["dailyBudgetCents"] for i in budgets
    )
    browser_login(page, live_server, "approver")
    open_queue(page, live_server)
    assert page.locator("#bulk-exposure").inner_text() == ""
    for item in budgets:
        page.locator(f"#pa-{item['pendingId']} input.select").check()
    assert page.locator("#bulk-count").inner_text() == "2 selected"
    assert page.locator("#bulk-exposure").inner_text() == (
        f"Daily budget change of the selection: +{money(total)}"
    )
    screenshot(page, "queue-selection")
    page.locator(f"#pa-{budgets[0]['pendingId']} input.select").uncheck()
    first = (
        budgets[1]["newValue"]["dailyBudgetCents"] - budgets[1]["currentValue"]["dailyBudgetCents"]
    )
    assert page.locator("#bulk-exposure").inner_text().endswith(f"+{money(first)}")


def test_a_bulk_decision_whose_worker_stopped_says_so_and_is_resumed_from_its_page(
    sandbox, people, live_server, page
):
    from django_tasks_db.models import DBTaskResult

    from dashboard.models import BulkDecision

    browser_login(page, live_server, "approver")
    open_queue(page, live_server, "?platform=tiktok")
    page.locator("input.select").nth(0).check()
    page.locator("input.select").nth(1).check()
    page.locator("#bulk-text").fill("Agreed on the call")
    page.get_by_role("button", name="Approve selected").click()
    page.wait_for_url("**/queue/bulk/**")
    # A worker took the task and died before deciding anything, ten minutes ago.
    DBTaskResult.objects.update(status="RUNNING")
    BulkDecision.objects.update(
        status="running", heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    page.reload()
    page.locator(".bulk-stopped").wait_for()
    assert page.locator("#bulk-status").inner_text() == "Stopped"
    screenshot(page, "bulk-stopped")

    with task_worker():
        page.get_by_role("button", name="Resume: 2 left to decide").click()
        page.locator("#bulk-status", has_text="Finished").wait_for(timeout=60_000)
    assert page.locator("tr.bulk-item.outcome-decided").count() == 2
    assert page.locator(".bulk-stopped").count() == 0
    assert sandbox.control("stats")["executedByRoute"].get("POST pending.approve") == 2


def test_a_lifetime_campaign_has_a_lifetime_budget_form(sandbox, people, live_server, page):
    items = sandbox.api("GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}).json()[
        "items"
    ]
    lifetime = next(c for c in items if c["name"] == "Holiday Gift Cards 2026")
    sandbox.control(
        "campaign-authority",
        projectId=ACME,
        platform="meta",
        campaignId=lifetime["campaignId"],
        authority={"tactical": "auto"},
    )
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/campaigns/meta/{lifetime['campaignId']}/")
    assert page.get_by_label("Budget type").input_value() == "lifetime"
    page.get_by_label("New lifetime budget, in US dollars ($)").fill("1,750")
    screenshot(page, "campaign-lifetime")
    page.get_by_role("button", name="Change lifetime budget").click()
    assert "Lifetime budget set to $1,750.00." in page.locator("#write-outcome").inner_text()
    assert "$1,750.00 for the campaign's lifetime" in page.locator("#campaign-budget").inner_text()


def test_switching_a_running_campaign_to_a_lifetime_budget_shows_the_platforms_refusal(
    sandbox, people, live_server, page
):
    items = sandbox.api("GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}).json()[
        "items"
    ]
    daily = next(c for c in items if c["name"] == "Retargeting — Cart Abandoners")
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/campaigns/meta/{daily['campaignId']}/")
    page.get_by_label("New daily budget, in US dollars ($)").fill("2,000")
    page.get_by_label("Budget type").select_option("lifetime")
    page.get_by_role("button", name="Change daily budget").click()
    outcome = page.locator("#write-outcome")
    assert outcome.inner_text().startswith("Refused by Meta.")
    assert "switch between a daily and a lifetime budget" in outcome.inner_text()
    assert "try again" not in outcome.inner_text()
    assert page.get_by_label("New lifetime budget, in US dollars ($)").input_value() == "2,000"
    screenshot(page, "campaign-refused-switch")
