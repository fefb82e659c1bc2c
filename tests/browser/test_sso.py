"""Sign-in with the partner's identity provider in a real browser, against the tests' own
stand-in provider: the button, the round trip, and a refused token's sentence."""

import pytest

from tests.conftest import screenshot
from tests.test_sso import provider  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_a_person_signs_in_with_the_partners_provider_and_a_tampered_token_is_refused(
    db,
    live_server,
    page,
    provider,  # noqa: F811 - the fixture
):
    provider.tamper = "edited"
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("link", name="Sign in with Partner SSO").click()
    refused = page.locator("#sso-refused")
    refused.wait_for()
    assert "could not be verified" in refused.inner_text()
    screenshot(page, "signin-sso-refused")

    provider.tamper = ""
    page.get_by_role("link", name="Sign in with Partner SSO").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "ana.lima" in page.locator("body").inner_text()
