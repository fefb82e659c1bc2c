"""The main pages' own tests run a second time against the documented API alone: the
`sandbox` fixture is overridden here to switch the sandbox's extensions off
(docs/sandbox-extensions.md), and a focused set of tests of the projects, overview,
campaigns, queue, decide, audit and verdict pages is imported and run unchanged.

Tests that read an extension themselves (the sandbox's verdict endpoint) are not in the
set; tests/test_documented_api.py covers what the pages do without them."""

import pytest
import requests
from django.core.cache import cache

from tests.test_audit import (  # noqa: F401
    test_a_decision_made_here_shows_the_person_not_only_partner,
    test_an_unknown_verdict_is_a_clear_not_found_page,
    test_the_decision_filter_shows_only_denied_rows_and_says_it_was_applied_here,
    test_the_log_lists_the_newest_events_first_with_every_verdict_linked,
    test_the_verdict_of_an_approval_names_the_person_and_links_the_pending_action,
)
from tests.test_campaigns import (  # noqa: F401
    test_a_budget_change_on_a_draft_axis_is_queued_with_a_link_to_it_in_the_queue,
    test_a_budget_change_on_an_auto_axis_is_applied_and_shows_its_job,
    test_a_write_on_an_axis_that_is_off_is_denied_with_the_reason,
    test_a_write_without_consent_is_denied_and_the_consent_banner_appears,
    test_creating_on_an_auto_structural_axis_starts_a_job_that_ends_with_a_link_to_the_campaign,
    test_lowering_an_axis_applies_and_is_recorded_with_its_verdict,
    test_the_campaign_page_shows_authority_budget_status_pending_actions_and_activity,
    test_the_layer_defaults_and_the_kill_switch_are_shown_read_only,
    test_the_list_shows_every_platform_with_status_budget_in_the_account_currency_and_authority,
)
from tests.test_queue import (  # noqa: F401
    test_a_double_submitted_approval_is_decided_exactly_once,
    test_approving_through_htmx_rerenders_the_row_as_approved_and_announces_the_change,
    test_filters_live_in_the_url_and_narrow_the_queue,
    test_rejecting_without_a_reason_says_so_and_keeps_the_form,
    test_the_queue_lists_pending_actions_from_every_platform_of_the_project,
    test_when_someone_else_decided_first_the_row_shows_it_and_keeps_what_was_typed,
)
from tests.test_queue_values import (  # noqa: F401
    test_a_budget_row_shows_the_current_and_proposed_money_with_the_change_in_percent,
    test_a_targeting_row_reads_as_countries_and_ages_with_what_changed_and_the_raw_value,
)
from tests.test_stale_check import (  # noqa: F401
    test_approving_after_the_campaign_moved_sends_nothing_and_shows_the_three_values,
)


def extensions_state(sandbox):
    answer = requests.get(
        f"{sandbox.base_url}/_control/state",
        headers={"X-Sandbox-Control-Token": sandbox.control_token},
        timeout=30,
    )
    return answer.json()["extensions"]


@pytest.fixture
def sandbox(sandbox):
    """The suite's sandbox with its extensions off for this module's tests."""
    sandbox.control("extensions", on=False)
    cache.clear()
    return sandbox


def test_this_module_runs_with_the_sandbox_extensions_off(sandbox):
    assert extensions_state(sandbox) is False
