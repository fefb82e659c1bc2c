"""Signing in, in Chromium: the form, a wrong password, and the wait after too many."""

import pytest

from tests.conftest import PASSWORD, screenshot

pytestmark = pytest.mark.browser


def test_after_five_wrong_passwords_the_sign_in_page_says_to_wait_and_keeps_the_username(
    live_server, people, page, settings
):
    from django.core.cache import cache

    settings.SIGNIN_FAILURES_PER_NAME = 5
    cache.clear()
    page.goto(f"{live_server.url}/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("approver")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("alert").wait_for()
        assert "didn't match" in page.get_by_role("alert").inner_text()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#signin-throttled").wait_for()
    assert "Wait 15 minutes" in page.locator("#signin-throttled").inner_text()
    assert page.get_by_label("Username").input_value() == "approver"
    assert page.url.endswith("/login/")
    screenshot(page, "signin-throttled")
    cache.clear()
