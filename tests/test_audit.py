"""The audit log, its CSV export and verdict pages, through the dashboard's URLs with the
sandbox answering over real HTTP."""

import csv
import io
import re
import uuid

from django.urls import reverse

from dashboard.models import AuditExport
from dashboard.services.audit_export import csv_cell
from tests.conftest import ACME, login
from tests.test_audit_export import export_csv


def audit_url(**query):
    url = reverse("audit", args=[ACME])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def upstream_rows(sandbox, **params):
    return sandbox.api(
        "GET", "/v1/audit-log", params={"projectId": ACME, "limit": 200, **params}
    ).json()["items"]


def shown_event_ids(html):
    return re.findall(r'data-event-id="([^"]+)"', html)


def approve(client, sandbox, comment):
    item = sandbox.api("GET", f"/v1/projects/{ACME}/ads/meta/pending").json()["items"][0]
    response = client.post(
        reverse("queue-decide", args=[ACME, "meta", item["pendingId"]]),
        {"decision": "approve", "comment": comment, "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    return item


def denied_verdict(sandbox):
    return upstream_rows(sandbox, eventType="ads.write.denied")[0]["data"]["verdictId"]


def test_the_log_lists_the_newest_events_first_with_every_verdict_linked(sandbox, people, client):
    login(client, "viewer")
    html = client.get(audit_url()).content.decode()
    expected = [row["eventId"] for row in upstream_rows(sandbox, limit=50)]
    assert shown_event_ids(html) == expected
    for verdict_id in {
        r["data"]["verdictId"]
        for r in upstream_rows(sandbox, limit=50)
        if r["data"].get("verdictId")
    }:
        assert f'href="{reverse("verdict", args=[ACME, verdict_id])}"' in html


def make_denials(sandbox, count):
    """Denied budget writes (each one an audit row) on Acme's first Meta campaign."""
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"tactical": "off"})
    items = sandbox.api("GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}).json()[
        "items"
    ]
    campaign = next(c for c in items if c["name"] == "Q3 Prospecting — Cold Brew")
    for n in range(count):
        sandbox.api(
            "PATCH",
            f"/v1/projects/{ACME}/ads/meta/campaigns/{campaign['campaignId']}/budget",
            json={"dailyBudgetCents": 9000 + n},
        )


def test_load_more_continues_where_the_first_screen_ended(sandbox, people, client):
    make_denials(sandbox, 50)
    login(client, "viewer")
    html = client.get(audit_url()).content.decode()
    more = re.search(r'id="audit-more" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    fragment = client.get(more, headers={"HX-Request": "true"}).content.decode()
    first, second = shown_event_ids(html), shown_event_ids(fragment)
    assert second and not set(first) & set(second)
    assert "<html" not in fragment


def test_the_decision_filter_shows_only_denied_rows_and_says_it_was_applied_here(
    sandbox, people, client
):
    login(client, "viewer")
    html = client.get(audit_url(decision="deny")).content.decode()
    denied = {r["eventId"] for r in upstream_rows(sandbox) if r["data"].get("verdict") == "deny"}
    assert denied and set(shown_event_ids(html)) == denied
    assert 'id="audit-filtered-here"' in html
    assert '<option value="deny" selected>' in html


def test_the_action_filter_is_asked_of_layers(sandbox, people, client):
    login(client, "viewer")
    html = client.get(audit_url(event="ads.defaults.updated")).content.decode()
    assert set(shown_event_ids(html)) == {
        r["eventId"] for r in upstream_rows(sandbox, eventType="ads.defaults.updated")
    }
    assert 'id="audit-filtered-here"' not in html


def test_platform_actor_and_date_filters_narrow_the_rows(sandbox, people, client):
    login(client, "viewer")
    rows = upstream_rows(sandbox)
    html = client.get(audit_url(platform="tiktok")).content.decode()
    assert set(shown_event_ids(html)) == {
        r["eventId"] for r in rows if r["data"].get("platform") in ("tiktok", "tiktok_ads")
    }
    html = client.get(audit_url(actor="system")).content.decode()
    assert set(shown_event_ids(html)) == {
        r["eventId"] for r in rows if r["data"].get("actor_type") == "system"
    }
    html = client.get(audit_url(since="2099-01-01")).content.decode()
    assert shown_event_ids(html) == [] and "No events match these filters" in html
    html = client.get(audit_url(until="2000-01-01")).content.decode()
    assert shown_event_ids(html) == []


def test_a_decision_made_here_shows_the_person_not_only_partner(sandbox, people, client):
    login(client, "approver")
    approve(client, sandbox, "Fine by me")
    html = client.get(audit_url(event="ads.pending.approved")).content.decode()
    row = html[html.index('class="audit-row') :]
    assert '<strong class="person">approver</strong>' in row
    assert "Fine by me" in row


def test_the_csv_export_walks_every_page_streams_and_never_includes_keys(
    sandbox, people, client, monkeypatch
):
    # Pages of 10 rather than 200: the same walk over several pages, 25 writes instead of 210.
    monkeypatch.setattr("dashboard.services.audit_export.SCAN_LIMIT", 10)
    make_denials(sandbox, 25)  # more than two pages of 10
    login(client, "viewer")
    body = export_csv(client)  # made by the background worker, then downloaded
    assert AuditExport.objects.get().pages >= 3
    rows = list(csv.DictReader(io.StringIO(body)))
    everything = []
    cursor = None
    while True:
        params = {"projectId": ACME, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = sandbox.api("GET", "/v1/audit-log", params=params).json()
        everything += page["items"]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert [r["event_id"] for r in rows] == [e["eventId"] for e in everything]
    assert "api_key" not in body and "key_" not in body and "lp_test_" not in body


def test_the_csv_export_keeps_the_filters(sandbox, people, client):
    login(client, "viewer")
    body = export_csv(client, decision="deny")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows and {r["decision"] for r in rows} == {"deny"}


def test_cells_that_a_spreadsheet_would_run_as_formulas_get_a_leading_apostrophe(
    sandbox, people, client
):
    assert [csv_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "plain", "", None)] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "plain",
        "",
        "",
    ]
    login(client, "approver")
    approve(client, sandbox, '=HYPERLINK("http://evil.example","click")')
    body = export_csv(client, event="ads.pending.approved")
    [row] = [r for r in csv.DictReader(io.StringIO(body)) if "HYPERLINK" in r["note"]]
    assert row["note"].startswith("'=HYPERLINK")
    assert row["person"] == "approver"


def test_the_verdict_page_says_what_was_decided_why_and_what_was_asked(sandbox, people, client):
    login(client, "viewer")
    verdict_id = denied_verdict(sandbox)
    verdict = sandbox.api("GET", f"/v1/projects/{ACME}/ads/verdicts/{verdict_id}").json()
    html = client.get(reverse("verdict", args=[ACME, verdict_id])).content.decode()
    assert "Denied: Layers refused the change" in html
    assert "authority was off" in html or "kill switch" in html or "not yet allowed" in html
    assert 'id="verdict-authority"' in html and 'id="verdict-request"' in html
    assert verdict["request"]["path"] in html
    assert "through the API key, not through this dashboard" in html
    platform = verdict["platform"].removesuffix("_ads")
    campaign_url = reverse("campaign", args=[ACME, platform, verdict["entityId"]])
    assert f'href="{campaign_url}"' in html
    assert verdict_id in html and 'id="verdict-timeline"' in html
    assert "lp_test_" not in html


def test_the_verdict_of_an_approval_names_the_person_and_links_the_pending_action(
    sandbox, people, client
):
    login(client, "approver")
    item = approve(client, sandbox, "Ok")
    row = upstream_rows(sandbox, eventType="ads.pending.approved")[0]
    html = client.get(reverse("verdict", args=[ACME, row["data"]["verdictId"]])).content.decode()
    assert '<strong class="person">approver</strong>' in html
    assert "status=approved" in html and f"#pa-{item['pendingId']}" in html


def test_an_unknown_verdict_is_a_clear_not_found_page(sandbox, people, client):
    login(client, "viewer")
    response = client.get(reverse("verdict", args=[ACME, "ver_01NOSUCHVERDICT0000000000"]))
    assert response.status_code == 404
    assert "No such verdict" in response.content.decode()


def test_the_sanitiser_drops_anything_key_or_token_like_at_any_depth():
    from dashboard.services.verdicts import sanitised

    cleaned = sanitised(
        {
            "body": {
                "dailyBudgetCents": 9000,
                "apiKey": "x",
                "nested": [{"accessToken": "y", "ok": 1}],
            },
            "headers": {"Authorization": "Bearer z"},
            "note": "lp_live_abc",
        }
    )
    assert cleaned == {
        "body": {
            "dailyBudgetCents": 9000,
            "apiKey": "[removed]",
            "nested": [{"accessToken": "[removed]", "ok": 1}],
        },
        "headers": {"Authorization": "[removed]"},
        "note": "[removed]",
    }
