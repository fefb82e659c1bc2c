"""The three-way stale check at decision time: the approve form carries the campaign's
value as the reviewer saw it; at approve time the campaign is read once and, when it moved,
nothing is sent and the row shows what they saw, what it is now and what the proposal
sets, with the same form (same key) to approve again."""

import html as htmllib
import re
import uuid

from django.urls import reverse

from tests.conftest import ACME, PASSWORD

HTMX = {"HX-Request": "true"}


def budget_action(sandbox):
    """A pending daily-budget change on a Meta campaign, and its campaign id."""
    items = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/meta/pending", params={"actionType": "update_budget"}
    ).json()["items"]
    item = next(i for i in items if i["entityType"] == "campaign")
    return item, item["entityId"]


def row_form(page_html, pending_id):
    """The row's approve form fields, as the browser would send them."""
    row = re.search(rf'<article[^>]*id="pa-{pending_id}".*?</article>', page_html, re.S).group(0)
    form = re.search(r'<form[^>]*class="approve-form".*?</form>', row, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return {name: htmllib.unescape(value) for name, value in fields.items()}


def set_budget_elsewhere(sandbox, campaign_id, cents):
    """Someone changes the campaign's daily budget through Layers (tactical axis on auto)."""
    sandbox.control(
        "campaign-authority",
        projectId=ACME,
        platform="meta",
        campaignId=campaign_id,
        authority={"tactical": "auto"},
    )
    answer = sandbox.api(
        "PATCH",
        f"/v1/projects/{ACME}/ads/meta/campaigns/{campaign_id}/budget",
        json={"dailyBudgetCents": cents},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 202, answer.text


def approvals(sandbox):
    return sandbox.control("stats")["executedByRoute"].get("POST pending.approve", 0)


def test_approving_after_the_campaign_moved_sends_nothing_and_shows_the_three_values(
    sandbox, people, client
):
    assert client.login(username="approver", password=PASSWORD)
    item, campaign_id = budget_action(sandbox)
    queue = client.get(reverse("queue", args=[ACME]) + "?platform=meta").content.decode()
    form = row_form(queue, item["pendingId"])
    seen_cents = item["currentValue"]["dailyBudgetCents"]
    assert form["seen"] == f'{{"dailyBudgetCents":{seen_cents}}}'

    set_budget_elsewhere(sandbox, campaign_id, seen_cents + 1234)
    url = reverse("queue-decide", args=[ACME, "meta", item["pendingId"]])
    asked = client.post(url, {**form, "comment": "Go"}, headers=HTMX)

    html = asked.content.decode()
    assert approvals(sandbox) == 0
    assert "The campaign changed since you opened this row, so nothing was sent." in html
    table = re.search(r'<table class="changes moved-table">.*?</table>', html, re.S).group(0)
    cells = re.findall(r'<td class="mono[^"]*">([^<]*)</td>', table)
    assert cells == [
        f"${seen_cents / 100:,.2f}",
        f"${(seen_cents + 1234) / 100:,.2f}",
        f"${item['newValue']['dailyBudgetCents'] / 100:,.2f}",
    ]
    again = row_form(html, item["pendingId"])
    assert again["idempotency_key"] == form["idempotency_key"]  # the same form, the same key
    assert again["seen"] == f'{{"dailyBudgetCents":{seen_cents + 1234}}}'
    assert 'value="Go"' in html  # what they typed is kept
    assert "Approve anyway" in html

    approved = client.post(url, {**again, "comment": "Go"}, headers=HTMX)
    assert "status-approved" in approved.content.decode()
    assert approvals(sandbox) == 1


def test_approving_when_nothing_moved_reads_the_campaign_once_and_decides(sandbox, people, client):
    assert client.login(username="approver", password=PASSWORD)
    item, _campaign_id = budget_action(sandbox)
    queue = client.get(reverse("queue", args=[ACME]) + "?platform=meta").content.decode()
    form = row_form(queue, item["pendingId"])
    reads_before = sandbox.control("stats")["byRoute"].get("GET campaigns.get", 0)

    url = reverse("queue-decide", args=[ACME, "meta", item["pendingId"]])
    answer = client.post(url, form, headers=HTMX)

    assert "status-approved" in answer.content.decode()
    assert approvals(sandbox) == 1
    assert sandbox.control("stats")["byRoute"].get("GET campaigns.get", 0) == reads_before + 1


def test_a_row_for_an_adset_carries_nothing_to_check(sandbox, people, client):
    assert client.login(username="approver", password=PASSWORD)
    items = sandbox.api("GET", f"/v1/projects/{ACME}/ads/meta/pending").json()["items"]
    item = next(i for i in items if i["entityType"] != "campaign")
    queue = client.get(reverse("queue", args=[ACME]) + "?platform=meta").content.decode()
    assert "seen" not in row_form(queue, item["pendingId"])
