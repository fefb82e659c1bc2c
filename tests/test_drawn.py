"""What pages draw that no test asserted before: the expiry warning and the axis pill on a
queue row, creating a campaign on TikTok and on Apple, a successful Meta connection, and
the verdict id shown after a create being the one Layers recorded."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.conftest import ACME, login
from tests.test_accounts import HOST, callback_path, consent, start_connection
from tests.test_campaigns import account_of, create


def pending(sandbox, platform, **params):
    return sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/{platform}/pending", params={"limit": 200, **params}
    ).json()["items"]


def row_html(page, pending_id):
    return re.search(rf'<article[^>]*id="pa-{pending_id}".*?</article>', page, re.S).group(0)


def queue(client, **query):
    url = reverse("queue", args=[ACME]) + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.get(url).content.decode()


def test_an_action_expiring_within_a_day_says_decide_today_and_one_with_days_left_does_not(
    sandbox, people, client
):
    login(client, "approver")
    items = pending(sandbox, "meta")
    # Seeded 158 hours ago: 10 hours of its 7 days are left.
    soon = next(i for i in items if i["actionType"] == "replace_creative")
    later = next(i for i in items if i["actionType"] == "update_budget")
    page = queue(client, platform="meta")
    assert re.search(
        r'<span class="expiring">expires (9|10)\xa0hours?(, \d+\xa0minutes?)? from now'
        r" — decide today</span>",
        row_html(page, soon["pendingId"]),
    )
    assert "decide today" not in row_html(page, later["pendingId"])
    assert '<span class="">expires 6\xa0days' in row_html(page, later["pendingId"])


@pytest.mark.parametrize(
    ("platform", "action_type", "axis"),
    [
        ("meta", "update_budget", "tactical"),
        ("meta", "update_targeting", "creative"),  # the targeting page's axis (contract §9 #11)
        ("meta", "pause_ad", "structural"),
        ("meta", "push_creative", "creative"),
        ("tiktok", "update_schedule", "tactical"),
        ("apple", "pause_adset", "structural"),
    ],
)
def test_each_row_names_the_authority_axis_that_gates_it(
    sandbox, people, client, platform, action_type, axis
):
    login(client, "approver")
    item = pending(sandbox, platform, actionType=action_type)[0]
    row = row_html(queue(client, platform=platform), item["pendingId"])
    assert f'<span class="pill axis-pill" title="Authority axis">{axis} axis</span>' in row


@pytest.mark.parametrize(
    ("platform", "wire", "name"),
    [("tiktok", "tiktok_ads", "Barista Tips — Spring"), ("apple", "apple_ads", "Brand — Spring")],
)
def test_a_campaign_is_created_on_tiktok_and_on_apple_and_its_verdict_is_the_one_layers_kept(
    sandbox, people, client, platform, wire, name
):
    sandbox.control("defaults", projectId=ACME, platform=platform, defaults={"structural": "auto"})
    login(client, "approver")
    html = create(
        client, ad_account=account_of(sandbox, wire), name=name, budget="35"
    ).content.decode()
    assert "Created." in html
    made = next(
        c
        for c in sandbox.api(
            "GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}
        ).json()["items"]
        if c["name"] == name
    )
    assert (made["platform"], made["dailyBudgetCents"]) == (wire, 3500)
    shown = re.search(r'Layers verdict <a class="mono" href="[^"]+">(ver_[0-9A-Z]{26})</a>', html)
    audit = sandbox.api(
        "GET", "/v1/audit-log", params={"eventType": "ads.write.dispatched", "limit": 200}
    ).json()["items"]
    kept = next(r for r in audit if r["data"].get("entityId") == made["campaignId"])
    assert shown and shown.group(1) == kept["data"]["verdictId"]


def test_an_admin_connects_a_meta_account_and_it_is_listed_as_just_connected(
    sandbox, people, client
):
    login(client, "admin")
    location = consent(start_connection(client, "meta"))
    query = parse_qs(urlsplit(location).query)
    assert query["status"] == ["connected"]
    done = client.get(callback_path(location), HTTP_HOST=HOST)
    html = client.get(done.headers["Location"]).content.decode()
    account_id = query["accountId"][0]
    assert f'id="account-{account_id}" class="just-connected"' in html
    listed = sandbox.api("GET", f"/v1/projects/{ACME}/ads/ad-accounts").json()["items"]
    meta = next(a for a in listed if a["adAccountId"] == account_id)
    assert meta["platform"] == "meta_ads" and meta["tokenStatus"] == "valid"
    row = re.search(rf'<tr id="account-{account_id}".*?</tr>', html, re.S).group(0)
    assert "Meta" in row and meta["externalId"] in row
