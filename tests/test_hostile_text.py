"""Text from Layers is untrusted: hostile strings planted in the upstream fields the dashboard
shows (campaign and entity names, proposal details, audit reasons and comments) come back
escaped on every page, and `javascript:` / `data:` URLs never become links.

The strings reach the sandbox through its own API, as a partner or the optimizer would send
them: queued campaign creations (entity names and the proposal's detail), and reject
reasons and approve comments sent through the dashboard (the audit log's notes). Fields only
Layers sets (project and ad-account names, rationale, proposal detail and creative URLs) are
planted with the sandbox's `hostile` control action, as a compromised upstream would send them."""

import uuid

import pytest
from django.urls import reverse

from tests.conftest import ACME, login
from tests.test_audit_export import export_csv

PWN = "window.__pwned=1"
# Each fits a campaign name (1 to 128 characters); the long ones go where lengths are free.
CORPUS = [
    f"<script>{PWN}</script>",
    f"<img src=x onerror={PWN}>",
    f'"><svg onload={PWN}>',
    f"javascript:{PWN}",
    f"data:text/html,<script>{PWN}</script>",
    "</td></table></div><b>broken",
    "\u202eevil\u202c reversed \u2066name\u2069",
    "🔥☕️👩‍👩‍👧 emoji name",
    "{{ request.user }} {% now 'Y' %}",
    f"' onmouseover='{PWN}' x='",
]
LONG = "A" * 100_000
RAW_MARKERS = [
    "<script>window.__pwned",
    "<img src=x onerror",
    "<svg onload",
    "' onmouseover='window",
]


def plant(sandbox, client) -> dict:
    """Puts the corpus into Acme's upstream fields; returns ids the pages can be opened at."""
    accounts = sandbox.api("GET", f"/v1/projects/{ACME}/ads/ad-accounts").json()["items"]
    meta = next(a["adAccountId"] for a in accounts if a["platform"] == "meta_ads")
    queued = []
    for text in CORPUS:
        body = {
            "adAccountId": meta,
            "name": text,
            "outcome": "conversions",
            "campaignManagementMode": "draft",
            "creativeMode": "draft",
            "dailyBudgetCents": 5000,
        }
        r = sandbox.api(
            "POST",
            f"/v1/projects/{ACME}/ads/meta/campaigns",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code in (200, 201, 202), r.text[:300]
        queued.append(r.json().get("pendingId"))
    # Reasons and comments, through the dashboard (the person's words reach Layers' audit log).
    pending = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/meta/pending", params={"limit": 200}
    ).json()["items"]
    mine = [p for p in pending if p["pendingId"] not in queued]
    for n, text in enumerate(CORPUS[:4] + [LONG]):
        item = mine[n]
        decision, field = ("reject", "reason") if n % 2 else ("approve", "comment")
        client.post(
            reverse("queue-decide", args=[ACME, "meta", item["pendingId"]]),
            {"decision": decision, field: text, "idempotency_key": str(uuid.uuid4())},
            headers={"HX-Request": "true"},
        )
    sandbox.control("hostile", projectId=ACME, texts=CORPUS, longText=LONG)
    from django.core.cache import cache

    cache.clear()  # the names the dashboard read before the planting are not kept
    verdict = sandbox.api(
        "GET", "/v1/audit-log", params={"projectId": ACME, "eventType": "ads.write.queued"}
    )
    return {"verdict": verdict.json()["items"][0]["data"]["verdictId"]}


def pages(ids) -> dict:
    return {
        "queue": reverse("queue", args=[ACME]),
        "campaigns": reverse("campaigns", args=[ACME]),
        "accounts": reverse("accounts", args=[ACME]),
        "audit": reverse("audit", args=[ACME]),
        "verdict": reverse("verdict", args=[ACME, ids["verdict"]]),
        "overview": reverse("project", args=[ACME]),
    }


@pytest.fixture
def planted(sandbox, people, client):
    login(client, "admin")
    return plant(sandbox, client)


def test_hostile_upstream_text_is_escaped_on_every_page_and_never_becomes_a_link(planted, client):
    for name, url in pages(planted).items():
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, name
        for marker in RAW_MARKERS:
            assert marker not in html, f"{name}: {marker!r} came through unescaped"
        assert (
            'href="javascript:' not in html.lower() and "href='javascript:" not in html.lower()
        ), name
        assert 'href="data:' not in html.lower(), name
        assert "Traceback" not in html, name


def test_the_queue_shows_the_hostile_names_as_text(planted, client):
    html = client.get(reverse("queue", args=[ACME])).content.decode()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "{{ request.user }}" in html  # template syntax from upstream is shown, never run
    assert "🔥☕️" in html


def test_account_names_from_layers_are_escaped_on_the_accounts_page(planted, client):
    html = client.get(reverse("accounts", args=[ACME])).content.decode()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html or "&lt;img src=x" in html


def test_the_audit_log_shows_hostile_reasons_and_comments_as_text_and_cuts_a_huge_one(
    planted, client
):
    html = client.get(reverse("audit", args=[ACME])).content.decode()
    assert "&lt;img src=x onerror=window.__pwned=1&gt;" in html or "&lt;script&gt;" in html
    assert "A" * 100_000 not in html


def test_the_csv_export_defuses_hostile_cells(planted, client):
    text = export_csv(client)
    for line in text.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "@")), cell


def test_the_sandbox_plants_the_corpus_in_the_fields_only_layers_sets(sandbox):
    sandbox.control("hostile", projectId=ACME, texts=CORPUS, longText=LONG)
    accounts = sandbox.api("GET", f"/v1/projects/{ACME}/ads/ad-accounts").json()["items"]
    actions = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/meta/pending", params={"limit": 200}
    ).json()["items"]
    assert {a["name"] for a in accounts} <= set(CORPUS)
    assert any(a["rationale"] == LONG for a in actions) or any(
        a["rationale"] == LONG
        for p in ("tiktok", "apple")
        for a in sandbox.api("GET", f"/v1/projects/{ACME}/ads/{p}/pending").json()["items"]
    )
    assert actions and all(a["proposedAction"]["detail"]["creativeUrl"] in CORPUS for a in actions)
    assert all(a["entityName"] in CORPUS for a in actions)
    assert sandbox.api("GET", f"/v1/projects/{ACME}").json()["name"] == CORPUS[0]


def test_a_rationale_of_100_kb_is_shown_escaped_and_the_page_still_renders(planted, client):
    html = client.get(reverse("queue", args=[ACME])).content.decode()
    assert "A" * 1000 in html or "A" * 500 in html
    assert "&lt;svg onload=window.__pwned=1&gt;" in html
    assert 'href="javascript:' not in html
