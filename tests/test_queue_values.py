"""What a queue row draws for each kind of proposal: the current → proposed table, in words
a person reads (targeting, schedules, creatives), with the raw value one click away."""

import html as htmllib
import re

from django.urls import reverse

from tests.conftest import ACME, PASSWORD


def queue_html(client, **query):
    assert client.login(username="approver", password=PASSWORD)
    url = reverse("queue", args=[ACME]) + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.get(url).content.decode()


def first_item(sandbox, platform, action_type):
    items = sandbox.api(
        "GET",
        f"/v1/projects/{ACME}/ads/{platform}/pending",
        params={"actionType": action_type},
    ).json()["items"]
    return items[0]


def table_of(page, pending_id):
    """[(field, now, proposed)] of the row's changes table, as text a person reads."""
    row = re.search(rf'<article[^>]*id="pa-{pending_id}".*?</article>', page, re.S).group(0)
    table = re.search(r'<table class="changes">.*?</table>', row, re.S).group(0)
    rows = re.findall(
        r'<tr><th scope="row">(.*?)</th><td class="value">(.*?)</td>'
        r'<td class="value">(.*?)</td></tr>',
        table,
        re.S,
    )

    def text(cell):
        cell = re.sub(r"<details.*?</details>", "", cell, flags=re.S)
        return htmllib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()

    return [(text(f), text(now), text(new)) for f, now, new in rows], row


def test_a_budget_row_shows_the_current_and_proposed_money_with_the_change_in_percent(
    sandbox, people, client
):
    item = first_item(sandbox, "meta", "update_budget")
    page = queue_html(client, platform="meta")
    table, _row = table_of(page, item["pendingId"])
    before = item["currentValue"]["dailyBudgetCents"]
    after = item["newValue"]["dailyBudgetCents"]
    percent = round((after - before) * 100 / before, 1)
    assert table == [
        (
            "Daily budget",
            f"${before / 100:,.2f}",
            f"${after / 100:,.2f} (+{percent}%)",
        )
    ]
    assert '<th scope="col">Now</th><th scope="col">Proposed</th>' in page


def test_a_targeting_row_reads_as_countries_and_ages_with_what_changed_and_the_raw_value(
    sandbox, people, client
):
    item = first_item(sandbox, "meta", "update_targeting")
    page = queue_html(client, platform="meta", action="update_targeting")
    table, row = table_of(page, item["pendingId"])
    assert table == [
        ("Countries", "United States", "United States, Canada (+ Canada)"),
        ("Age", "25–44", "25–54"),
    ]
    raw = re.findall(
        r'<details class="raw"><summary>Raw value</summary><code[^>]*>(.*?)</code>', row
    )
    assert htmllib.unescape(raw[2]) == '{"max": 44, "min": 25}'
    assert htmllib.unescape(raw[3]) == '{"max": 54, "min": 25}'
    assert '{"max"' not in re.sub(r"<details.*?</details>", "", row, flags=re.S)


def test_a_schedule_row_reads_as_days_and_hours(sandbox, people, client):
    item = first_item(sandbox, "tiktok", "update_schedule")
    page = queue_html(client, platform="tiktok", action="update_schedule")
    table, row = table_of(page, item["pendingId"])
    assert table == [("Schedule", "All day, every day", "Mon–Fri 06:00–22:00")]
    assert "dayOfWeek" in htmllib.unescape(row)  # the raw value, one click away


def test_a_creative_row_names_the_new_creative_by_its_caption(sandbox, people, client):
    item = first_item(sandbox, "meta", "replace_creative")
    detail = item["proposedAction"]["detail"]
    page = queue_html(client, platform="meta", action="replace_creative")
    table, _row = table_of(page, item["pendingId"])
    assert table == [("Creative", item["currentValue"]["adsContentId"], detail["caption"])]
