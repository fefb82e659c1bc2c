"""The main pages in a browser against the documented API alone: the `sandbox` fixture is
overridden here to switch the sandbox's extensions off (docs/sandbox-extensions.md), a
focused set of the browser tests runs unchanged, and the verdict page built without the
sandbox's verdict endpoint is looked at."""

import pytest
import requests
from django.core.cache import cache

from tests.browser import test_audit, test_overview, test_queue, test_review
from tests.browser.test_audit import (  # noqa: F401
    test_an_unknown_verdict_shows_a_clear_not_found_page,
    test_audit_filters_live_in_the_address_and_a_verdict_opens_its_page,
)
from tests.browser.test_overview import (  # noqa: F401
    test_a_person_logs_in_picks_a_project_and_sees_its_overview,
    test_the_overview_says_when_a_platform_is_frozen_or_lacks_consent,
)
from tests.browser.test_queue import (  # noqa: F401
    test_an_approver_approves_and_rejects_in_place_and_the_counts_follow,
    test_two_reviewers_deciding_the_same_action_one_wins_and_the_other_sees_who,
)
from tests.browser.test_review import (  # noqa: F401
    test_approving_after_the_budget_moved_shows_what_you_saw_what_it_is_now_and_what_is_proposed,
)
from tests.conftest import ACME, browser_login, screenshot

pytestmark = pytest.mark.browser


def extensions_state(sandbox):
    answer = requests.get(
        f"{sandbox.base_url}/_control/state",
        headers={"X-Sandbox-Control-Token": sandbox.control_token},
        timeout=30,
    )
    return answer.json()["extensions"]


@pytest.fixture
def sandbox(sandbox, monkeypatch):
    """The suite's sandbox with its extensions off for this module's tests; the imported
    tests' screenshots are saved as documented-<name>, beside the originals."""
    sandbox.control("extensions", on=False)
    cache.clear()
    for module in (test_audit, test_overview, test_queue, test_review):
        monkeypatch.setattr(
            module, "screenshot", lambda page, name: screenshot(page, f"documented-{name}")
        )
    return sandbox


def test_without_extensions_a_verdict_from_the_audit_log_says_what_is_known_and_what_is_not(
    sandbox, people, live_server, page
):
    assert extensions_state(sandbox) is False
    browser_login(page, live_server, "viewer")
    page.goto(f"{live_server.url}/projects/{ACME}/audit/?decision=deny")
    link = page.locator("a.verdict-link").first
    verdict_id = link.inner_text()
    link.click()
    page.wait_for_selector("#verdict-decision")
    assert verdict_id in page.locator("h1").inner_text()
    decision = page.locator("#verdict-decision").inner_text()
    assert "Denied: Layers refused the change" in decision
    assert "Built from the audit log's rows carrying this verdict id" in decision
    assert "Not known:" in page.locator("#verdict-unknown").inner_text()
    assert page.locator("#verdict-timeline li").count() >= 1
    screenshot(page, "verdict-documented-api")
