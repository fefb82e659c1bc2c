"""The create-campaign form in Chromium when it refuses: a sentence beside each field that is
wrong and what was typed kept (escaped); corrected, it reaches Layers, whose gate refuses it
in words (the seed's TikTok layer has its structural axis off), and the typing is still kept."""

import pytest
from playwright.sync_api import expect

from dashboard.models import DecisionRecord
from tests.conftest import ACME, browser_login, screenshot

pytestmark = pytest.mark.browser


def test_the_create_form_says_what_is_wrong_beside_each_field_and_keeps_what_was_typed(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/campaigns/new")
    tiktok = page.locator("#c-account option", has_text="TikTok").first.get_attribute("value")
    page.get_by_label("Ad account").select_option(tiktok)
    page.get_by_label("Name").fill("Spring <b>push</b>")
    page.get_by_label("Lifetime (whole campaign)").check()
    page.get_by_label("Amount, in the account's currency").fill("12,5x")
    page.get_by_role("button", name="Create campaign").click()

    assert page.locator("#e-budget").inner_text() == (
        "Enter the amount as a number, for example 50.00."
    )
    assert page.get_by_label("Amount, in the account's currency").get_attribute("aria-invalid") == (
        "true"
    )
    assert page.locator("#e-end").inner_text() == "TikTok needs an end time for a lifetime budget."
    assert page.locator("#e-outcome").inner_text() == "Choose what the campaign should achieve."
    assert page.get_by_label("Name").input_value() == "Spring <b>push</b>"  # kept, not markup
    assert page.locator("#c-name[aria-invalid]").count() == 0  # a good field is not marked
    expect(page.get_by_label("Lifetime (whole campaign)")).to_be_checked()
    assert page.get_by_label("Ad account").input_value() == tiktok
    screenshot(page, "campaign-new-refused")

    page.get_by_label("What should it achieve?").select_option("traffic")
    page.get_by_label("Amount, in the account's currency").fill("900")
    page.get_by_label("End time (UTC, optional)").fill("2031-12-31T18:00")
    page.get_by_role("button", name="Create campaign").click()
    outcome = page.locator("#create-outcome")
    assert outcome.inner_text().startswith(
        "Denied. The customer has set the structural axis to off, "
        "so partners cannot make this change."
    )
    assert page.locator(".field-error").count() == 0
    assert page.get_by_label("Name").input_value() == "Spring <b>push</b>"
    assert page.get_by_label("End time (UTC, optional)").input_value() == "2031-12-31T18:00"
    screenshot(page, "campaign-new-denied")
    record = DecisionRecord.objects.get(action="create")
    assert record.outcome == "denied" and record.platform == "tiktok" and record.verdict_id
