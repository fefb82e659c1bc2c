"""Money in every currency, in Chromium: the selection's budget total keeps one total per
currency (yen are never added to pounds), and the queue and campaign pages of the yen
account read in whole yen. Also what a newcomer notices first: a favicon, headings in order,
and no sideways scrolling at 360 px with long names, on the queue and on a share link.
Screenshots land in test-artifacts/."""

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import ACME, ARTIFACTS, BRIGHTSIDE, SCREENSHOTS, browser_login, screenshot

pytestmark = pytest.mark.browser

LONG_NAMES = [  # no spaces to break at: the layout has to wrap or clip them itself
    "Puzzle_Quest_Lookalike_Audience_United_Kingdom_Spring_Campaign_Retargeting_2026_v12",
    "https://cdn.layers.example/creatives/" + "a1b2c3d4" * 10 + ".mp4",
    "SuperLongCampaignNameWithoutAnySpacesAtAllThatKeepsGoingAndGoingForeverAndEver",
]


def grant(people, role, project):
    from dashboard.models import ProjectGrant

    ProjectGrant.objects.update_or_create(
        user=people[role], project_id=project, defaults={"role": role}
    )


def budget_proposals(sandbox) -> dict:
    """currency -> the signed budget change of each pending budget proposal, by id."""
    accounts = sandbox.api("GET", f"/v1/projects/{BRIGHTSIDE}/ads/ad-accounts").json()["items"]
    currency = {a["adAccountId"]: a["currency"] for a in accounts}
    campaigns = sandbox.api(
        "GET", f"/v1/projects/{BRIGHTSIDE}/ads/campaigns", params={"limit": 200}
    ).json()["items"]
    of_campaign = {c["campaignId"]: currency[c["adAccountId"]] for c in campaigns}
    items = sandbox.api(
        "GET", f"/v1/projects/{BRIGHTSIDE}/ads/apple/pending", params={"limit": 200}
    ).json()["items"]
    found = {}
    for p in items:
        if p["actionType"] == "update_budget":
            change = p["newValue"]["dailyBudgetCents"] - p["currentValue"]["dailyBudgetCents"]
            found.setdefault(of_campaign[p["entityId"]], {})[p["pendingId"]] = change
    return found


def test_a_selection_in_three_currencies_shows_one_total_per_currency(
    sandbox, people, live_server, page
):
    grant(people, "approver", BRIGHTSIDE)
    proposals = budget_proposals(sandbox)
    assert set(proposals) == {"GBP", "JPY", "KRW"}
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{BRIGHTSIDE}/queue/?platform=apple")
    for changes in proposals.values():
        for pending_id in changes:
            page.locator(f"#pa-{pending_id} input.select").check()
    text = page.locator("#bulk-exposure").inner_text()
    pounds, yen, won = (sum(proposals[c].values()) for c in ("GBP", "JPY", "KRW"))
    assert text == (
        "Daily budget change of the selection: "
        f"+£{pounds / 100:,.2f}, +¥{yen:,}, +₩{won:,}"  # whole yen and won, pence for pounds
    )
    screenshot(page, "money-selection-three-currencies")
    # Only yen: one total, in whole yen.
    for currency in ("GBP", "KRW"):
        for pending_id in proposals[currency]:
            page.locator(f"#pa-{pending_id} input.select").uncheck()
    assert page.locator("#bulk-exposure").inner_text() == (
        f"Daily budget change of the selection: +¥{yen:,}"
    )


def test_the_queue_and_the_campaigns_of_the_yen_account_read_in_whole_yen(
    sandbox, people, live_server, page
):
    grant(people, "approver", BRIGHTSIDE)
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{BRIGHTSIDE}/queue/?platform=apple")
    queue = page.locator("#queue-list").inner_text()
    assert "¥5,000" in queue and "₩300,000" in queue
    assert "¥50.00" not in queue
    screenshot(page, "money-queue-yen")
    page.goto(f"{live_server.url}/projects/{BRIGHTSIDE}/campaigns/?platform=apple")
    campaigns = page.locator("#campaign-list").inner_text()
    assert "¥5,000 a day" in campaigns
    assert "¥300,000 lifetime" in campaigns
    assert "₩300,000 a day" in campaigns
    screenshot(page, "money-campaigns-yen")


def test_the_new_campaign_form_suggests_an_amount_in_the_chosen_accounts_currency(
    sandbox, people, live_server, page
):
    grant(people, "approver", BRIGHTSIDE)
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{BRIGHTSIDE}/campaigns/new")
    budget = page.get_by_label("Amount, in the account's currency")
    page.get_by_label("Ad account").select_option(
        label="Brightside Games — App Store JP — Apple Ads (JPY)"
    )
    assert budget.get_attribute("placeholder") == "for example 5,000"
    page.get_by_label("Ad account").select_option(label="Brightside Games — UK — Meta (GBP)")
    assert budget.get_attribute("placeholder") == "for example 50.00"


def test_every_page_links_a_favicon_that_loads_and_nothing_is_missing(
    sandbox, people, live_server, page
):
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/")
    page.wait_for_load_state("networkidle")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert requests.get(f"{live_server.url}{icon}", timeout=10).status_code == 200
    assert requests.get(f"{live_server.url}/favicon.ico", timeout=10).status_code == 200
    assert missing == []


def test_the_queues_headings_go_down_one_level_at_a_time(sandbox, people, live_server, page):
    browser_login(page, live_server, "approver")
    for path in (f"/projects/{ACME}/queue/", f"/projects/{ACME}/queue/?status=approved"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector("#queue-list")
        levels = page.evaluate(
            """() => Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6"))
                 .filter(h => !h.closest("[hidden]")).map(h => Number(h.tagName[1]))"""
        )
        assert levels[0] == 1
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels
        results = Axe().run(page, options={"runOnly": ["heading-order"]})
        assert results.response["violations"] == []


def plant_long_names(sandbox):
    sandbox.control("hostile", projectId=ACME, texts=LONG_NAMES)
    from django.core.cache import cache

    cache.clear()


def wider_than_360(page) -> list[str]:
    """The elements reaching past the right edge, to say which one when it fails."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll("body *"))
             .filter(e => e.getBoundingClientRect().right > 360.5)
             .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`).slice(0, 12)"""
    )


def test_the_queue_with_long_names_fits_360_pixels(sandbox, people, live_server, page):
    plant_long_names(sandbox)
    page.set_viewport_size({"width": 360, "height": 800})
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/")
    page.wait_for_selector("article.action")
    page.locator("article.action details").evaluate_all("ds => ds.forEach(d => d.open = true)")
    screenshot(page, "queue-360-long-names")
    if SCREENSHOTS:
        page.locator("article.action").first.screenshot(
            path=f"{ARTIFACTS}/queue-360-long-name-row.png"
        )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wider_than_360(page)


def test_a_share_link_with_long_names_fits_360_pixels(sandbox, people, live_server, page):
    from tests.test_access import share_link_kwargs

    plant_long_names(sandbox)
    token = share_link_kwargs("share")["token"]
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{live_server.url}/s/{token}")
    page.locator("#share-banner").wait_for()
    page.locator("article.action details").evaluate_all("ds => ds.forEach(d => d.open = true)")
    screenshot(page, "share-360-long-names")
    screenshot(page, "share-360-long-names-top", full_page=False)  # the first screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wider_than_360(page)
