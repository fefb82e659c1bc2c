""" "Select all" says what it takes before anyone submits: how many, the cap when it
applies, and the daily budget change of everything it takes (not only the boxes on the
screen)."""

import re
import uuid

from django.urls import reverse

from dashboard.models import BulkDecision
from dashboard.money import cents_format
from tests.conftest import ACME, PASSWORD, login
from tests.test_bulk import run_worker


def every_pending(sandbox, platform):
    items, cursor = [], None
    while True:
        page = sandbox.api(
            "GET",
            f"/v1/projects/{ACME}/ads/{platform}/pending",
            params={"status": "pending", "limit": 100, **({"cursor": cursor} if cursor else {})},
        ).json()
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


def preview(client, **query):
    url = reverse("queue-bulk-preview", args=[ACME])
    return client.get(url, query).content.decode()


def test_the_bulk_bar_says_how_many_select_all_takes_before_anything_is_submitted(
    sandbox, people, client
):
    login(client, "approver")
    sandbox.control("pending-bulk", projectId=ACME, platform="apple", count=120)
    count = sandbox.api("GET", f"/v1/projects/{ACME}/ads/apple/pending/count").json()["count"]
    assert count > 100  # more than one upstream page, more than the screen shows
    html = client.get(reverse("queue", args=[ACME]) + "?platform=apple").content.decode()
    assert f'<span id="bulk-all-count">({count})</span>' in html
    assert f"Select all takes {count} pending actions." in preview(
        client, platform="apple", status="pending"
    )


def test_with_an_action_filter_the_count_comes_from_the_preview_across_every_page(
    sandbox, people, client
):
    login(client, "approver")
    expected = sum(1 for i in every_pending(sandbox, "meta") if i["actionType"] == "update_budget")
    html = client.get(
        reverse("queue", args=[ACME]) + "?platform=meta&action=update_budget"
    ).content.decode()
    assert 'id="bulk-all-count"' not in html  # the page's counts cannot say it
    shown = preview(client, platform="meta", action="update_budget", status="pending")
    noun = "action" if expected == 1 else "actions"
    assert f"Select all takes {expected} pending {noun}." in shown


def test_select_all_says_the_cap_and_takes_exactly_what_it_said(sandbox, people, client, settings):
    settings.BULK_MAX_ITEMS = 3
    login(client, "approver")
    count = sandbox.api("GET", f"/v1/projects/{ACME}/ads/meta/pending/count").json()["count"]
    assert count > 3
    html = client.get(reverse("queue", args=[ACME]) + "?platform=meta").content.decode()
    assert f"({count} match; one bulk decision takes the first 3)" in html
    shown = preview(client, platform="meta", status="pending")
    assert "Select all takes the first 3 matching pending actions" in shown
    assert "capped at 3" in shown and 'data-count="3"' in shown
    client.post(
        reverse("queue-bulk-start", args=[ACME]),
        {
            "decision": "approve",
            "select_all": "1",
            "platform": "meta",
            "status": "pending",
            "bulk_key": str(uuid.uuid4()),
        },
    )
    run_worker()  # the background task gathers what select all takes
    assert BulkDecision.objects.get().items.count() == 3


def test_the_spend_total_counts_every_budget_change_select_all_takes(sandbox, people, client):
    login(client, "approver")
    sandbox.control("pending-bulk", projectId=ACME, platform="meta", count=60)
    items = every_pending(sandbox, "meta")
    assert len(items) > 50  # more than one screen
    accounts = sandbox.api("GET", f"/v1/projects/{ACME}/ads/ad-accounts").json()["items"]
    [currency] = {a["currency"] for a in accounts if a["platform"] == "meta_ads"}
    total = 0
    for item in items:
        before, after = item.get("currentValue") or {}, item.get("newValue") or {}
        for key in set(before) & set(after):
            if key.endswith("Cents") and isinstance(before[key], int):
                total += after[key] - before[key]
    assert total
    shown = preview(client, platform="meta", status="pending")
    sign = "+" if total >= 0 else "−"
    expected = f"{sign}{cents_format(abs(total), currency)}"
    assert f'data-exposure="Daily budget change of what select all takes: {expected}"' in shown
    assert re.search(rf'data-count="{len(items)}"', shown)


def test_a_viewer_cannot_ask_what_select_all_takes(sandbox, people, client):
    assert client.login(username="viewer", password=PASSWORD)
    url = reverse("queue-bulk-preview", args=[ACME])
    assert client.get(url, {"platform": "meta"}).status_code == 403
