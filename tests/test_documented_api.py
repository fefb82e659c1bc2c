"""The main pages with the sandbox's extensions off (docs/sandbox-extensions.md): the
dashboard against the documented API alone. Projects, overview, campaigns, the queue,
deciding, the audit log and every verdict link must still work."""

import re
import uuid

from django.urls import reverse

from dashboard.models import DecisionRecord
from tests.conftest import ACME, BRIGHTSIDE, login

HTMX = {"HX-Request": "true"}


def audit_rows(sandbox, project=ACME, **params):
    return sandbox.api(
        "GET", "/v1/audit-log", params={"projectId": project, "limit": 200, **params}
    ).json()["items"]


def verdict_links(html, project=ACME):
    return set(re.findall(rf'href="(/projects/{project}/verdicts/[^"/]+/)"', html))


def pending_items(sandbox, platform="meta"):
    return sandbox.api("GET", f"/v1/projects/{ACME}/ads/{platform}/pending").json()["items"]


def test_with_extensions_off_the_sandbox_really_hides_the_verdict_endpoint(sandbox_off):
    verdict_id = audit_rows(sandbox_off, eventType="ads.write.denied")[0]["data"]["verdictId"]
    answer = sandbox_off.api("GET", f"/v1/projects/{ACME}/ads/verdicts/{verdict_id}")
    assert answer.status_code == 404


def test_with_extensions_off_the_main_pages_answer_and_every_verdict_link_opens_a_page(
    sandbox_off, people, client
):
    login(client, "approver")
    pages = [
        reverse("home"),
        reverse("project", args=[ACME]),
        reverse("campaigns", args=[ACME]),
        reverse("queue", args=[ACME]),
        reverse("queue", args=[ACME]) + "?status=approved",
        reverse("queue", args=[ACME]) + "?status=rejected",
        reverse("audit", args=[ACME]),
    ]
    links = set()
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        links |= verdict_links(response.content.decode())
    assert len(links) >= 5
    for link in sorted(links)[:12]:
        response = client.get(link)
        html = response.content.decode()
        assert response.status_code == 200, link
        assert 'id="verdict-decision"' in html and "No such verdict" not in html


def test_with_extensions_off_a_denied_write_says_what_the_audit_row_knows_and_what_it_does_not(
    sandbox_off, people, client
):
    login(client, "viewer")
    row = audit_rows(sandbox_off, eventType="ads.write.denied")[0]
    data = row["data"]
    html = client.get(reverse("verdict", args=[ACME, data["verdictId"]])).content.decode()
    assert "Denied: Layers refused the change" in html
    assert data["path"] in html and data["method"] in html
    assert "Built from the audit log&#x27;s rows carrying this verdict id" in html
    assert 'id="verdict-unknown"' in html and "The request&#x27;s body" in html
    assert "Not known: Layers did not say which authority applied" in html
    campaign_url = reverse("campaign", args=[ACME, data["platform"], data["entityId"]])
    assert f'href="{campaign_url}"' in html


def test_with_extensions_off_an_approval_made_here_names_the_person_and_links_the_action(
    sandbox_off, people, client
):
    login(client, "approver")
    item = pending_items(sandbox_off)[0]
    response = client.post(
        reverse("queue-decide", args=[ACME, "meta", item["pendingId"]]),
        {"decision": "approve", "comment": "Fine by me", "idempotency_key": str(uuid.uuid4())},
        headers=HTMX,
    )
    assert "status-approved" in response.content.decode()
    record = DecisionRecord.objects.get(entity_id=item["pendingId"])
    assert record.verdict_id.startswith("ver_")
    html = client.get(reverse("verdict", args=[ACME, record.verdict_id])).content.decode()
    assert "Approved: a person approved the pending action" in html
    assert '<strong class="person">approver</strong>' in html
    assert "Fine by me" in html
    assert "status=approved" in html and f"#pa-{item['pendingId']}" in html


def test_with_extensions_off_a_write_outcome_links_a_verdict_page_built_from_our_records(
    sandbox_off, people, client
):
    login(client, "approver")
    c = next(
        c
        for c in sandbox_off.api(
            "GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}
        ).json()["items"]
        if c["name"] == "Q3 Prospecting — Cold Brew"
    )
    platform = c["platform"].removesuffix("_ads")
    url = reverse("campaign-authority", args=[ACME, platform, c["campaignId"]])
    response = client.post(
        url,
        {
            "creative": "auto",
            "tactical": "off",
            "structural": "draft",
            "idempotency_key": str(uuid.uuid4()),
        },
        headers=HTMX,
    )
    [link] = verdict_links(response.content.decode())
    html = client.get(link).content.decode()
    assert "No such verdict" not in html
    assert '<strong class="person">approver</strong>' in html
    assert c["campaignId"] in html


def test_with_extensions_off_an_unknown_verdict_still_says_it_is_not_known(
    sandbox_off, people, client
):
    login(client, "viewer")
    response = client.get(reverse("verdict", args=[ACME, "ver_01NOSUCHVERDICT0000000000"]))
    assert response.status_code == 404
    assert "Nothing we can read knows the verdict" in response.content.decode()


def test_with_extensions_off_the_overview_learns_missing_consent_from_the_audit_log(
    sandbox_off, people, client
):
    from dashboard.models import ProjectGrant

    ProjectGrant.objects.create(user=people["viewer"], project_id=BRIGHTSIDE, role="viewer")
    login(client, "viewer")
    defaults = sandbox_off.api("GET", f"/v1/projects/{BRIGHTSIDE}/ads/meta/defaults").json()
    assert "partnerWritesConsented" not in defaults
    html = client.get(reverse("project", args=[BRIGHTSIDE])).content.decode()
    meta = html.split('id="platform-meta"')[1].split("</section>")[0]
    assert "No consent yet" in meta and "consent-note" in meta


def test_with_extensions_off_the_overview_says_consent_is_not_known_rather_than_guess(
    sandbox_off, people, client
):
    login(client, "viewer")
    html = client.get(reverse("project", args=[ACME])).content.decode()
    meta = html.split('id="platform-meta"')[1].split("</section>")[0]
    assert "No consent yet" not in meta
    assert "Consent not known" in meta or "Writes allowed" in meta


def test_a_partner_write_that_went_through_tells_the_overview_that_consent_was_given(
    sandbox_off, people, client
):
    login(client, "approver")
    c = next(
        c
        for c in sandbox_off.api(
            "GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}
        ).json()["items"]
        if c["name"] == "Q3 Prospecting — Cold Brew"
    )
    client.post(
        reverse("campaign-write", args=[ACME, "meta", c["campaignId"]]),
        {"action": "pause", "idempotency_key": str(uuid.uuid4())},
    )
    from django.core.cache import cache

    cache.clear()
    html = client.get(reverse("project", args=[ACME])).content.decode()
    meta = html.split('id="platform-meta"')[1].split("</section>")[0]
    assert "Writes allowed" in meta


def test_with_extensions_off_a_campaign_layers_refuses_says_layers_sentence_not_a_blank(
    sandbox_off, people, client
):
    login(client, "approver")
    account = next(
        a["adAccountId"]
        for a in sandbox_off.api("GET", f"/v1/projects/{ACME}/ads/ad-accounts").json()["items"]
        if a["platform"] == "meta_ads"
    )
    response = client.post(
        reverse("campaign-new", args=[ACME]),
        {
            "ad_account": account,
            "name": "Tiny",
            "budget": "0.10",
            "budget_kind": "daily",
            "campaign_management_mode": "draft",
            "creative_mode": "draft",
            "outcome": "conversions",
            "idempotency_key": str(uuid.uuid4()),
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Layers did not accept the campaign: The request is not valid. (" in html
    assert "$1.00" in html  # "at least 100 cents" said as money


def test_with_extensions_off_a_budget_set_here_shows_its_amount_and_person_on_the_verdict(
    sandbox_off, people, client
):
    login(client, "approver")
    c = next(
        c
        for c in sandbox_off.api(
            "GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}
        ).json()["items"]
        if c["name"] == "Retargeting — Cart Abandoners"
    )
    platform = c["platform"].removesuffix("_ads")
    client.post(
        reverse("campaign-write", args=[ACME, platform, c["campaignId"]]),
        {"action": "budget", "amount": "$75.50", "idempotency_key": str(uuid.uuid4())},
    )
    record = DecisionRecord.objects.get(action="budget", entity_id=c["campaignId"])
    html = client.get(reverse("verdict", args=[ACME, record.verdict_id])).content.decode()
    assert "Allowed: the change went to the ad platform." in html
    assert '<strong class="person">approver</strong>' in html
    assert "Amount typed here" in html and "$75.50" in html
    assert 'href="/projects/' in html and "/jobs/job_" in html  # the job, from the audit row
