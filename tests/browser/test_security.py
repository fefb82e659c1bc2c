"""Security defaults as a person meets them, in Chromium (issue 14): an embed link opened as
a page of its own, and an address with an impossible date."""

import pytest
from playwright.sync_api import expect

from dashboard.services.embedding import embed_token_mint
from tests.conftest import ACME, browser_login, screenshot

pytestmark = pytest.mark.browser


def test_an_embed_link_opened_outside_the_portals_frame_says_so_and_signs_no_one_in(
    sandbox, live_server, settings, page
):
    settings.EMBED_SECRET = "browser-test-embed-secret-0123456789abcdef"
    portal = "https://portal.partner.example"
    settings.EMBED_ALLOWED_ORIGINS = [portal]
    token = embed_token_mint(
        issuer="acme-portal",
        subject="u-7",
        name="Ana Souza",
        role="approver",
        projects=[ACME],
        parent_origin=portal,
    )
    response = page.goto(f"{live_server.url}/embed/start?token={token}")  # Sec-Fetch-Dest: document
    assert response.status == 403
    refusal = page.locator("#embed-refused")
    assert "only inside the partner portal's frame" in refusal.inner_text()
    screenshot(page, "security-embed-top-level-refused")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/")
    assert "/login/" in page.url  # nobody was signed in


def test_a_queue_address_with_an_impossible_date_says_which_value_is_wrong(
    sandbox, people, live_server, page
):
    browser_login(page, live_server, "approver")
    response = page.goto(f"{live_server.url}/projects/{ACME}/queue/?new_since=2024-02-30T09:00:00Z")
    assert response.status == 400
    alert = page.get_by_role("alert")
    assert "gives new_since as “2024-02-30T09:00:00Z”, which is not a real date" in (
        alert.inner_text()
    )
    expect(page.get_by_role("link", name="Back to projects")).to_be_visible()
    screenshot(page, "security-impossible-date")
