"""Every query parameter and header the dashboard reads, fed values no page of ours would
send (issue 14, finding 7): never a 500, never a traceback. An impossible date (2024-02-30)
is a 400 with a sentence; so is a webhook header that cannot be read.

The inventory below is the code's: each `request.GET`, `request.headers` and
`from_query(...)` a view or middleware reads (grep for them when adding one)."""

import json
import time

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.services.sharing import share_link_create
from tests.conftest import ACME, PASSWORD

QUEUE_FILTERS = ["platform", "status", "action", "campaign", "sort", "cursor"]
AUDIT_FILTERS = ["actor", "event", "decision", "platform", "since", "until", "cursor"]

# path (built once the URLconf is loaded), the parameters it reads, and extra headers
QUERY_SURFACES = {
    "queue": (lambda: reverse("queue", args=[ACME]), [*QUEUE_FILTERS, "new_since"], {}),
    "queue-more": (lambda: reverse("queue", args=[ACME]), ["cursor"], {"HX-Request": "true"}),
    "queue-fresh": (
        lambda: reverse("queue-fresh", args=[ACME]),
        ["stamp", "full", "since", *QUEUE_FILTERS],
        {"HX-Request": "true"},
    ),
    "accounts": (lambda: reverse("accounts", args=[ACME]), ["connected", "result", "platform"], {}),
    "connect-popup": (
        lambda: reverse("accounts-connect-popup", args=[ACME]),
        ["t", "platform"],
        {},
    ),
    "connect-status": (lambda: reverse("accounts-connect-status", args=[ACME]), ["t"], {}),
    "connect-callback": (
        lambda: reverse("accounts-callback", args=[ACME]),
        ["state", "status", "accountId", "error"],
        {},
    ),
    "campaigns": (lambda: reverse("campaigns", args=[ACME]), ["platform", "status"], {}),
    "audit": (lambda: reverse("audit", args=[ACME]), AUDIT_FILTERS, {}),
    "audit-more": (lambda: reverse("audit", args=[ACME]), ["cursor"], {"HX-Request": "true"}),
    "audit-export": (lambda: reverse("audit-export", args=[ACME]), AUDIT_FILTERS, {}),
    "embed-start": (lambda: reverse("embed-start"), ["token"], {}),
    "login": (lambda: reverse("login"), ["next"], {}),
    "login-framed": (lambda: reverse("login"), ["next"], {"Sec-Fetch-Dest": "iframe"}),
    "demo-portal": (
        lambda: reverse("demo-portal"),
        ["person", "role", "project", "variant", "next"],
        {},
    ),
}

MALFORMED = [
    "",
    "2024-02-30",
    "2024-02-30T10:00:00Z",
    "2024-01-01T10:00:00",  # no time zone
    "-1",
    "1e309",
    "../..",
    "%",
    "\x00",
    "é\u202e😀",
    "<script>alert(1)</script>",
    "a" * 3000,
    "http://[::1",
    "//evil.example/",
]

# Values a header can carry over HTTP (no NUL, no line breaks), as a WSGI server hands them
# on: the bytes read as Latin-1.
MALFORMED_HEADERS = [v.encode().decode("latin-1") for v in MALFORMED if "\x00" not in v]


def survived(response, what: str) -> None:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code != 500, what
    assert b"Traceback" not in body, what
    if response.status_code >= 500:  # Layers refused what we passed on: a sentence, not a crash
        assert b'id="upstream-error"' in body or b"upstream" in body, what


@pytest.fixture
def admin_client(sandbox, people):
    client = Client(raise_request_exception=False)
    assert client.login(username="admin", password=PASSWORD)
    return client


@pytest.mark.parametrize("surface", list(QUERY_SURFACES))
def test_every_query_parameter_survives_malformed_values(surface, admin_client, settings):
    settings.EMBED_DEMO_PORTAL_ORIGIN = "http://testserver"  # serve the portal, not a redirect
    path, names, headers = QUERY_SURFACES[surface]
    for name in names:
        for value in MALFORMED:
            response = admin_client.get(path(), {name: value}, headers=headers)
            survived(response, f"{surface} ?{name}={value[:40]!r}")


def test_an_impossible_date_answers_400_with_a_sentence(admin_client):
    queue = admin_client.get(reverse("queue", args=[ACME]), {"new_since": "2024-02-30T10:00:00Z"})
    assert queue.status_code == 400
    assert "is not a real date and time" in queue.content.decode()
    fresh = admin_client.get(reverse("queue-fresh", args=[ACME]), {"since": "2024-02-30"})
    assert fresh.status_code == 400
    assert "gives since as “2024-02-30”, which is not a real date" in fresh.content.decode()


def test_a_date_without_a_time_zone_is_read_as_utc(admin_client):
    response = admin_client.get(
        reverse("queue-fresh", args=[ACME]), {"since": "2024-01-01T10:00:00"}
    )
    assert response.status_code == 200


HEADER_SURFACES = {
    # header names -> the requests that read them
    ("HX-Request", "HX-Current-URL", "HX-Target", "HX-Trigger", "HX-Boosted"): [
        ("admin", "GET", lambda: reverse("queue", args=[ACME]) + "?cursor=x"),
        ("admin", "GET", lambda: reverse("queue-fresh", args=[ACME])),
        ("nobody", "GET", lambda: reverse("queue", args=[ACME])),  # the session-ended path
    ],
    ("Referer", "Origin"): [
        ("admin", "POST", lambda: reverse("queue-decide", args=[ACME, "meta", "pa_none"])),
    ],
    ("Sec-Fetch-Dest",): [
        ("nobody", "GET", lambda: reverse("login")),
        ("nobody", "GET", lambda: reverse("embed-start") + "?token=x"),
    ],
    ("User-Agent",): [("nobody", "GET", lambda: "/s/{share}")],
    ("Host", "X-Forwarded-Proto", "X-Forwarded-For", "Cookie", "Accept-Language"): [
        ("admin", "GET", lambda: reverse("notices-count")),
    ],
}


@pytest.mark.parametrize("names", list(HEADER_SURFACES), ids=lambda names: names[0])
def test_every_header_survives_malformed_values(names, admin_client, people):
    _, share = share_link_create(actor=people["admin"], project_id=ACME, scope="queue")
    anonymous = Client(raise_request_exception=False)
    for who, method, path in HEADER_SURFACES[names]:
        client = admin_client if who == "admin" else anonymous
        url = path().replace("{share}", share)
        for name in names:
            for value in MALFORMED_HEADERS:
                if method == "POST":
                    data = {"decision": "bogus", "idempotency_key": "k"}
                    response = client.post(url, data, headers={name: value})
                else:
                    response = client.get(url, headers={name: value})
                survived(response, f"{method} {url} {name}: {value[:40]!r}")


WEBHOOK_HEADERS = ["X-Layers-Signature", "X-Layers-Event-Id", "X-Layers-Event-Type"]


@pytest.mark.parametrize("name", WEBHOOK_HEADERS)
def test_every_webhook_header_survives_malformed_values_with_a_4xx_sentence(
    name, transactional_db, settings
):
    from tests.test_webhooks import SECRET, envelope, sign

    settings.LAYERS_WEBHOOK_SECRET = SECRET
    client = Client(raise_request_exception=False)
    event = envelope()
    raw = json.dumps(event).encode()
    values = list(MALFORMED_HEADERS)
    if name == "X-Layers-Signature":  # inside an otherwise well-formed header too
        now = int(time.time())
        values += [f"t={now},v1={v}" for v in MALFORMED_HEADERS]
        values += [f"t={v},v1=00" for v in MALFORMED_HEADERS]
    for value in values:
        headers = {"X-Layers-Signature": sign(raw, SECRET), "X-Layers-Event-Id": event["id"]}
        headers[name] = value
        response = client.post(
            reverse("webhooks-layers"), data=raw, content_type="application/json", headers=headers
        )
        survived(response, f"webhook {name}: {value[:40]!r}")
        if response.status_code != 200:  # refused: a 4xx that says why, in words
            assert 400 <= response.status_code < 500 and response.json()["error"], value


@pytest.mark.parametrize(
    "name", ["X-CSRFToken", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-User"]
)
def test_the_csrf_and_fetch_metadata_headers_survive_malformed_values(name, admin_client):
    url = reverse("queue-decide", args=[ACME, "meta", "pa_none"])
    for value in MALFORMED_HEADERS:
        response = admin_client.post(url, {"decision": "bogus"}, headers={name: value})
        survived(response, f"POST {url} {name}: {value[:40]!r}")
