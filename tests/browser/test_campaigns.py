"""The seed's path as a new person walks it in Chromium: connect an account through the
sandbox's consent page, set an authority, create a campaign and see its job finish, run the
optimizer and find its proposals in the queue. Screenshots land in test-artifacts/."""

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import ACME, NORDLICHT, browser_login, screenshot

pytestmark = pytest.mark.browser


def campaign_id(sandbox, name, project=ACME):
    items = sandbox.api(
        "GET", f"/v1/projects/{project}/ads/campaigns", params={"limit": 200}
    ).json()["items"]
    return next(c["campaignId"] for c in items if c["name"] == name)


def test_an_admin_connects_an_ad_account_through_the_consent_page(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server.url}/projects/{ACME}/")
    page.get_by_role("link", name="Accounts").click()
    page.wait_for_url(f"{live_server.url}/projects/{ACME}/accounts/")
    screenshot(page, "accounts")
    page.get_by_label("Platform").select_option("tiktok")
    page.get_by_role("button", name="Connect account").click()
    page.wait_for_url(re.compile(r".*/sandbox/oauth/consent\?t=.*"))
    screenshot(page, "accounts-consent")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(rf".*/projects/{ACME}/accounts/\?connected=.*"))
    assert "Connected: Acme Coffee — " in page.locator("#messages").inner_text()
    assert page.locator("tr.just-connected").count() == 1
    screenshot(page, "accounts-connected")


def test_a_denied_consent_says_nothing_was_connected(sandbox, people, live_server, page):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server.url}/projects/{ACME}/accounts/")
    page.get_by_role("button", name="Connect account").click()
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{live_server.url}/projects/{ACME}/accounts/")
    assert "nothing was connected" in page.locator("#messages").inner_text()


def test_changing_an_axis_under_the_kill_switch_shows_the_refusal_beside_the_control(
    sandbox, people, live_server, page
):
    browser_login(
        page, live_server, "outsider"
    )  # admin of Nordlicht Outdoor, whose customer froze Meta
    page.goto(f"{live_server.url}/projects/{NORDLICHT}/campaigns/?platform=meta")
    expect(page.locator("#kill-switch-meta")).to_be_visible()
    cid = campaign_id(sandbox, "Herbst Kollektion — Prospecting", NORDLICHT)
    block = page.locator(f"#authority-{cid}")
    block.locator(f"label[for='a-{cid}-creative-off']").click()
    refusal = block.locator(".outcome")
    refusal.wait_for()
    assert "kill switch" in refusal.inner_text()
    expect(block.locator(f"#a-{cid}-creative-draft")).to_be_checked()  # back to the real value
    screenshot(page, "campaigns-kill-switch")


def test_raising_an_axis_above_the_customers_setting_shows_the_refusal_and_the_real_value(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/campaigns/?platform=meta")
    cid = campaign_id(
        sandbox, "Q3 Prospecting — Cold Brew"
    )  # the Meta layer allows tactical draft at most
    page.locator(f"#authority-{cid} label[for='a-{cid}-tactical-auto']").click()
    page.get_by_role("button", name="Yes, set to auto").click()
    refusal = page.locator(f"#authority-{cid} .outcome-denied")
    refusal.wait_for()
    assert "cannot raise the tactical axis above what the customer allows" in refusal.inner_text()
    expect(page.locator(f"#a-{cid}-tactical-draft")).to_be_checked()
    screenshot(page, "authority-refused")


def test_raising_an_axis_to_auto_asks_first_then_saves(sandbox, people, live_server, page):
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/campaigns/?platform=meta")
    cid = campaign_id(sandbox, "Retargeting — Cart Abandoners")
    block = page.locator(f"#authority-{cid}")
    block.locator(f"label[for='a-{cid}-tactical-draft']").click()
    page.locator(f"#authority-{cid} .outcome").wait_for()
    assert "tactical is now draft" in page.locator(f"#authority-{cid} .outcome").inner_text()
    page.locator(f"#authority-{cid} label[for='a-{cid}-tactical-auto']").click()
    confirm = page.get_by_role("button", name="Yes, set to auto")
    confirm.wait_for()
    assert (
        "reach the platform unreviewed" in page.locator(f"#authority-{cid} .confirm").inner_text()
    )
    screenshot(page, "authority-confirm")
    confirm.click()
    page.locator(f"#authority-{cid} .outcome-applied").wait_for()
    expect(page.locator(f"#a-{cid}-tactical-auto")).to_be_checked()
    screenshot(page, "campaigns")


def test_a_new_campaign_is_created_and_its_job_followed_to_the_end(
    sandbox, people, live_server, page
):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/campaigns/")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Ad account").select_option(label="Acme Coffee — US — Meta (USD)")
    page.get_by_label("Name").fill("Winter Roast — Prospecting")
    page.get_by_label("What should it achieve?").select_option("conversions")
    page.get_by_label("Amount, in the account's currency").fill("45.00")
    screenshot(page, "campaign-new")
    page.get_by_role("button", name="Create campaign").click()
    assert "Created." in page.locator("#create-outcome").inner_text()
    page.locator("#create-job-link").click()
    page.locator("#job-campaign-link").wait_for(timeout=15_000)  # htmx polled until the job ended
    assert page.locator("#job-state").inner_text() == "completed"
    screenshot(page, "job")
    page.locator("#job-campaign-link").click()
    expect(page.get_by_role("heading", name="Winter Roast — Prospecting")).to_be_visible()
    assert "$45.00" in page.locator("#campaign-budget").inner_text()
    screenshot(page, "campaign")


def test_a_budget_change_under_the_kill_switch_is_denied_with_the_reason(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "outsider")
    cid = campaign_id(sandbox, "Herbst Kollektion — Prospecting", NORDLICHT)
    page.goto(f"{live_server.url}/projects/{NORDLICHT}/campaigns/meta/{cid}/")
    page.get_by_label("New daily budget, in euros (€)").fill("95")
    page.get_by_role("button", name="Change daily budget").click()
    assert "kill switch" in page.locator("#write-outcome").inner_text()
    screenshot(page, "campaign-denied")


def test_the_optimizer_runs_to_completion_and_its_proposals_are_in_the_queue(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/campaigns/")
    page.locator("#layer-meta").get_by_role("button", name="Run the optimizer on Meta").click()
    page.wait_for_url(re.compile(rf".*/projects/{ACME}/optimizer/runs/run_.*"))
    assert page.locator("#run-state").inner_text() == "running"
    screenshot(page, "optimizer-running")
    sandbox.control("clock", advanceSeconds=30)
    page.locator("#review-proposals").wait_for(timeout=15_000)  # the 2 s poll saw it finish
    assert page.locator("#run-state").inner_text() == "completed"
    screenshot(page, "optimizer-run")
    queued = int(
        re.search(r"\((\d+) new from this run\)", page.locator("#run-status").inner_text()).group(1)
    )
    page.locator("#review-proposals").click()
    page.wait_for_url(re.compile(rf".*/projects/{ACME}/queue/\?platform=meta.*"))
    assert page.locator("article.action.status-pending").count() > 0
    assert page.locator(".new-pill").count() == queued > 0  # the run's proposals are marked New
    screenshot(page, "queue-after-run")


def test_the_campaign_pages_fit_a_360_pixel_iframe(sandbox, people, live_server, page):
    page.set_viewport_size({"width": 360, "height": 800})
    browser_login(page, live_server, "approver")
    cid = campaign_id(sandbox, "Q3 Prospecting — Cold Brew")
    for path, name in (
        (f"/projects/{ACME}/campaigns/", "campaigns-360"),
        (f"/projects/{ACME}/campaigns/meta/{cid}/", "campaign-360"),
        (f"/projects/{ACME}/campaigns/new", "campaign-new-360"),
        (f"/projects/{ACME}/accounts/", "accounts-360"),
    ):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        screenshot(page, name)
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"


def test_pages_have_no_console_errors_or_csp_violations(sandbox, people, live_server, page):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    browser_login(page, live_server, "approver")
    for path in (
        f"/projects/{ACME}/campaigns/",
        f"/projects/{ACME}/accounts/",
        f"/projects/{ACME}/campaigns/new",
    ):
        page.goto(f"{live_server.url}{path}")
    assert problems == []
    assert requests.get(f"{live_server.url}/static/js/connect.js", timeout=10).status_code == 200


def test_a_new_admin_walks_the_whole_path_from_connecting_an_account_to_the_optimizers_proposals(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "admin", home=True)
    page.get_by_role("link", name="Acme Coffee").click()
    # 1. Connect an ad account through the platform's consent page.
    page.get_by_role("link", name="Accounts").click()
    page.get_by_label("Platform").select_option("apple")
    page.get_by_role("button", name="Connect account").click()
    page.get_by_role("button", name="Authorize").click()
    page.locator("tr.just-connected").wait_for()
    # 2. Set an authority: lower Q3's tactical axis to off.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    cid = campaign_id(sandbox, "Q3 Prospecting — Cold Brew")
    page.locator(f"#authority-{cid} label[for='a-{cid}-tactical-off']").click()
    page.locator(f"#authority-{cid} .outcome-applied").wait_for()
    # 3. Create a campaign and follow its job to the end (the customer allows structural auto).
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Ad account").select_option(label="Acme Coffee — US — Meta (USD)")
    page.get_by_label("Name").fill("Morning Rush")
    page.get_by_label("What should it achieve?").select_option("traffic")
    page.get_by_label("Amount, in the account's currency").fill("20")
    page.get_by_role("button", name="Create campaign").click()
    page.locator("#create-job-link").click()
    page.locator("#job-campaign-link").wait_for(timeout=15_000)
    # 4. Run the optimizer and find its proposals in the queue.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.locator("#layer-tiktok").get_by_role("button", name="Run the optimizer on TikTok").click()
    sandbox.control("clock", advanceSeconds=30)
    page.locator("#review-proposals").click(timeout=15_000)
    page.locator("article.action.status-pending").first.wait_for()  # count() would not wait
    screenshot(page, "whole-path-queue")
