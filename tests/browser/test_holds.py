"""A decision held before sending, in a real browser: "Approved — sending in N s · Undo",
Undo brings the decision forms back, a rejection instead is the one write Layers sees."""

import pytest

from dashboard.models import DecisionHold, ProjectGrant, ProjectOwnership
from dashboard.services.holds import decision_hold_send
from tests.conftest import ACME, BRIGHTSIDE, NORDLICHT, browser_login, screenshot
from tests.test_bulk import executed
from tests.test_holds import window_over
from tests.test_queue import pending_items

pytestmark = pytest.mark.browser


def test_an_approver_who_owns_three_customers_approves_undoes_and_rejects_instead_and_layers_sees_one_write(  # noqa: E501 - the name is the test's sentence
    sandbox, people, live_server, page, settings
):
    settings.DECISION_HOLD_SECONDS = 30
    approver = people["approver"]
    for project_id in (ACME, NORDLICHT, BRIGHTSIDE):  # the approver owns three customers
        ProjectGrant.objects.get_or_create(
            user=approver, project_id=project_id, defaults={"role": "approver"}
        )
        ProjectOwnership.objects.create(project_id=project_id, owner=approver)
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/?platform=meta")
    row = page.locator(f"#pa-{pending_id}")
    row.get_by_role("button", name="Approve", exact=True).click()

    held = page.locator(f"#pa-{pending_id} .held")
    held.wait_for()
    page.wait_for_function(
        "s => { const c = document.querySelector(s);"
        " return c && c.dataset.deadline && /sending in 2\\d s/.test(c.textContent); }",
        arg=f"#pa-{pending_id} .countdown",
    )
    assert "Approved — sending in" in held.inner_text()
    screenshot(page, "decision-held-undo")

    held.get_by_role("button", name="Undo").click()
    page.locator(f"#pa-{pending_id} .reject-form").wait_for()
    assert executed(sandbox, "approve") == 0

    row = page.locator(f"#pa-{pending_id}")
    row.get_by_placeholder("Reason (required to reject)").fill("Not before the launch")
    row.get_by_role("button", name="Reject").click()
    page.locator(f"#pa-{pending_id} .held").wait_for()
    assert "Rejected — sending in" in page.locator(f"#pa-{pending_id} .held").inner_text()

    # The window ends; the worker sends it; the row's poll shows what Layers did.
    hold = DecisionHold.objects.get(status="held")
    window_over(hold)
    assert decision_hold_send(hold.id) is not None
    page.goto(f"{live_server.url}/projects/{ACME}/queue/?platform=meta")
    page.wait_for_selector("#queue-list")
    assert page.locator(f"#pa-{pending_id}").count() == 0  # decided: off the pending queue
    assert executed(sandbox, "approve") == 0
    assert executed(sandbox, "reject") == 1


def test_a_held_decision_that_updates_later_never_takes_the_focus_from_a_reason_being_typed(
    sandbox, people, live_server, page, settings
):
    """Keys act only while a card has the focus; if the earlier card's update (its held
    window ending) moved the focus to the next card, the letters still being typed would
    act as keys there, and an "a" would approve it."""
    settings.DECISION_HOLD_SECONDS = 1
    first, second = (item["pendingId"] for item in pending_items(sandbox, "meta")[:2])
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/?platform=meta")
    page.locator(f"#pa-{first}").get_by_role("button", name="Approve", exact=True).click()
    page.locator(f"#pa-{first} .held").wait_for()
    reason = page.locator(f"#pa-{second}").get_by_placeholder("Reason (required to reject)")
    reason.click()
    with page.expect_response(lambda response: "/queue/holds/" in response.url):
        reason.press_sequentially("Wait")  # meanwhile the first card asks after its decision
    page.wait_for_timeout(200)  # its swap settles
    page.keyboard.type(" a day")  # were the focus on the card, "a" would approve it
    assert reason.input_value() == "Wait a day"
    assert page.evaluate("document.activeElement.name") == "reason"
    assert page.locator(f"#pa-{second}.status-pending .approve-form").count() == 1
