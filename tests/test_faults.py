"""Every fault Layers (or the network) can throw at us, on every page and every write.

One parametrised test: for each fault kind, each target (a page or a write) is opened with
the fault injected in the sandbox. The answer keeps the frame and navigation (or, for htmx,
is a message fragment), says in a sentence what went wrong, carries a sensible status and
logs Layers' request id when there was one, and never shows the Layers key (page or log).
A write is never applied twice: the same form is sent again once the fault is gone, and the
sandbox executed it exactly once. What the person typed is in the answer, ready to retry."""

import logging
import re
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import ACME, login

HTMX = {"HX-Request": "true"}

# name -> the fault to inject (None: the connection is refused, no sandbox involved)
FAULTS = {
    "read timeout": {"kind": "timeout", "delay": 0.75},
    "refused connection": None,
    "dropped connection": {"kind": "drop"},
    "500": {"kind": "status", "status": 500},
    "502": {"kind": "status", "status": 502},
    "503": {"kind": "status", "status": 503},
    "429 with Retry-After": {"kind": "rate_limited", "retryAfter": 30},
    "malformed JSON": {"kind": "malformed_json"},
    "missing field": {"kind": "missing_field"},
    "unknown enum": {"kind": "unknown_enum"},
    "revoked key": {"kind": "revoked_key"},
    "kill switch": {"kind": "kill_switch"},
}
# The dashboard's read timeout while the "read timeout" fault is on: short, so four attempts
# per read cost about a second at most, and well under the fault's delay. A page's every
# call is aimed at, so its timeout can be shorter still; a write's other calls are not, and
# keep enough for a busy machine. Every other moment (the other faults, the resend once
# healed) keeps a generous one, so a busy machine never looks like the fault.
FAULT_READ_TIMEOUT = 0.25
PAGE_FAULT_READ_TIMEOUT = 0.1
HEALED_READ_TIMEOUT = 10.0
NO_RESPONSE = {"read timeout", "refused connection", "dropped connection"}
PAGE_STATUSES = {200, 404, 429, 502, 503}
ERROR_MARKS = ('role="alert"', "message-error", 'class="error"', "partial-error")


def campaign_named(sandbox, name):
    items = sandbox.api("GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}).json()[
        "items"
    ]
    return next(c for c in items if c["name"] == name)


def pending_ids(sandbox, platform="meta"):
    items = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/{platform}/pending", params={"limit": 200}
    ).json()["items"]
    return [i["pendingId"] for i in items]


def first_verdict(sandbox):
    params = {"projectId": ACME, "eventType": "ads.write.denied"}
    return sandbox.api("GET", "/v1/audit-log", params=params).json()["items"][0]["data"][
        "verdictId"
    ]


def executed(sandbox) -> int:
    return sandbox.control("stats")["executed"]


@dataclass
class Target:
    """A page (GET) or a write (a form post) and what its answer must keep."""

    send: Callable  # (client, world) -> response
    write_path: str = ""  # for writes: the upstream path the fault is aimed at
    typed: str = ""  # for writes: what the person typed, to be found in the answer
    htmx: bool = False
    follow: bool = False  # the write answers with a redirect to a page that says what happened
    csv: bool = False
    resend: Callable | None = None  # how the person tries again, if not by sending the same form
    world: dict = field(default_factory=dict)


def _decide(decision, text_field, text, htmx):
    def send(client, world):
        pending_id = world["pending"][0 if decision == "approve" else 1]
        data = {"decision": decision, text_field: text, "idempotency_key": world["key"]}
        url = reverse("queue-decide", args=[ACME, "meta", pending_id])
        return client.post(url, data, headers=HTMX if htmx else {})

    return send


def _campaign_write(action, **data):
    def send(client, world):
        c = world["retargeting"]
        url = reverse("campaign-write", args=[ACME, "meta", c["campaignId"]])
        return client.post(url, {"action": action, "idempotency_key": world["key"], **data})

    return send


def _authority(client, world):
    c = world["prospecting"]
    url = reverse("campaign-authority", args=[ACME, "meta", c["campaignId"]])
    data = {
        "creative": "auto",
        "tactical": "off",
        "structural": "draft",
        "idempotency_key": world["key"],
        "next": reverse("campaigns", args=[ACME]),
    }
    return client.post(url, data)


def _create(client, world):
    data = {
        "ad_account": world["meta_account"],
        "name": "Fault matrix launch",
        "budget": "41.50",
        "budget_kind": "daily",
        "campaign_management_mode": "draft",
        "creative_mode": "draft",
        "outcome": "conversions",
        "idempotency_key": world["key"],
    }
    return client.post(reverse("campaign-new", args=[ACME]), data)


def _optimizer(client, world):
    data = {"platform": "meta", "idempotency_key": world["key"]}
    return client.post(reverse("optimizer-start", args=[ACME]), data)


def _bulk(client, world):
    """A bulk approval of one action, the worker run while the fault lasts; the answer is
    the bulk page the person is sent to."""
    from tests.test_bulk import run_worker

    data = {
        "decision": "approve",
        "text": "Fault matrix: bulk comment",
        "selected": [f"meta:{world['pending'][2]}"],
        "bulk_key": world["key"],
    }
    started = client.post(reverse("queue-bulk-start", args=[ACME]), data)
    run_worker()
    return client.get(started.headers["Location"])


def _bulk_retry(client, world):
    """What the person does after an outage: "Try the failed again" on the bulk page."""
    from tests.test_bulk import run_worker

    retried = client.post(reverse("queue-bulk-retry", args=[ACME, world["key"]]))
    run_worker()
    return client.get(retried.headers["Location"])


def _export(client, world):
    """Asked for, made by the background worker, then downloaded (or its progress page)."""
    from tests.test_bulk import run_worker

    progress = client.post(reverse("audit-export", args=[ACME])).headers["Location"]
    run_worker()
    return client.get(progress + "download")


def _get(name, **kwargs):
    def send(client, world):
        args = {k: (v(world) if callable(v) else v) for k, v in kwargs.items()}
        return client.get(reverse(name, kwargs={"project_id": ACME, **args}))

    return send


TARGETS = {
    "queue page": Target(_get("queue")),
    "approve": Target(
        _decide("approve", "comment", "Fault matrix: approve comment", True),
        write_path="/approve",
        typed="Fault matrix: approve comment",
        htmx=True,
    ),
    "reject": Target(
        _decide("reject", "reason", "Fault matrix: reject reason", False),
        write_path="/reject",
        typed="Fault matrix: reject reason",
    ),
    "bulk approve": Target(
        _bulk, write_path="/approve", typed="Fault matrix: bulk comment", resend=_bulk_retry
    ),
    "authority change": Target(_authority, write_path="/authority", follow=True),
    "budget change": Target(
        _campaign_write("budget", amount="61.25"), write_path="/budget", typed="61.25"
    ),
    "pause": Target(_campaign_write("pause"), write_path="/pause"),
    "create campaign": Target(_create, write_path="/meta/campaigns", typed="Fault matrix launch"),
    "optimizer run": Target(_optimizer, write_path="/optimizer/run", follow=True),
    "audit log": Target(_get("audit")),
    "CSV export": Target(_export, csv=True),
    "verdict page": Target(_get("verdict", verdict_id=lambda w: w["verdict"])),
    "campaigns list": Target(_get("campaigns")),
    "overview": Target(_get("project")),
    "campaign page": Target(
        _get("campaign", platform="meta", campaign_id=lambda w: w["retargeting"]["campaignId"])
    ),
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def inject(sandbox, settings, fault_name, target):
    fault = FAULTS[fault_name]
    if fault_name == "read timeout":
        short = FAULT_READ_TIMEOUT if target.write_path else PAGE_FAULT_READ_TIMEOUT
        settings.LAYERS_READ_TIMEOUT = short
    if fault is None:
        settings.LAYERS_API_BASE_URL = f"http://127.0.0.1:{closed_port()}/sandbox"
        return
    aim = (
        {
            "method": "PATCH" if target.write_path in ("/authority", "/budget") else "POST",
            "pathContains": target.write_path,
        }
        if target.write_path
        else {}
    )
    sandbox.control("faults", faults=[{**fault, "count": 400, **aim}])


def heal(sandbox, settings):
    settings.LAYERS_READ_TIMEOUT = HEALED_READ_TIMEOUT
    settings.LAYERS_API_BASE_URL = sandbox.base_url
    sandbox.control("faults", faults=[])


def _sentence(html):
    found = re.search(r'(?:role="alert"|message-error)[^>]*>(.{0,160})', html, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip() if found else html[:120]


def check_answer(name, target, response, client):
    """The answer keeps the frame (or is a fragment), says what happened, and no traceback."""
    if response.status_code == 302:  # a write that says what happened after a redirect
        response = client.get(response.headers["Location"])
    body = b"".join(response.streaming_content) if response.streaming else response.content
    html = body.decode(errors="replace")
    assert "Traceback" not in html and "Server Error" not in html, name
    if (
        target.csv
        and response.status_code == 200
        and response.get("Content-Type", "").startswith("text/csv")
    ):
        return html  # a file: trouble midway ends it with a line saying so (checked below)
    assert response.status_code in PAGE_STATUSES | {409, 422}, (name, response.status_code)
    if target.htmx:
        assert 'id="topbar"' not in html, name  # a fragment, not a page in a page
        assert any(mark in html for mark in ERROR_MARKS) or "message" in html, name
    else:
        assert 'id="topbar"' in html, (name, html[:300])
    return html


@pytest.mark.parametrize("fault_name", list(FAULTS))
def test_every_page_and_write_survives_the_fault_says_so_and_never_applies_twice(
    sandbox, people, client, settings, caplog, monkeypatch, fault_name
):
    # Retries really happen, with their real code path; only the pause between them is short.
    monkeypatch.setattr("dashboard.layers.client.BACKOFF_START", 0.01)
    monkeypatch.setattr("dashboard.layers.client.IN_FLIGHT_WAIT", 0.01)
    monkeypatch.setattr("dashboard.services.pending_decisions.REPLAY_PAUSES", (0.01,) * 3)
    monkeypatch.setattr("dashboard.services.bulk.TRANSIENT_PAUSE", 0.01)
    monkeypatch.setattr("dashboard.services.bulk.MAX_BUDGET_WAIT", 0.01)
    monkeypatch.setattr("dashboard.services.audit_export.MAX_SLEEP_SECONDS", 0.01)
    caplog.set_level(logging.INFO, logger="dashboard.layers")
    caplog.set_level(logging.INFO, logger="dashboard.upstream")
    login(client, "admin")
    world = {
        "pending": pending_ids(sandbox),
        "retargeting": campaign_named(sandbox, "Retargeting — Cart Abandoners"),
        "prospecting": campaign_named(sandbox, "Q3 Prospecting — Cold Brew"),
        "verdict": first_verdict(sandbox),
        "meta_account": next(
            a["adAccountId"]
            for a in sandbox.api("GET", f"/v1/projects/{ACME}/ads/ad-accounts").json()["items"]
            if a["platform"] == "meta_ads"
        ),
    }
    failures = []
    for name, target in TARGETS.items():
        world["key"] = str(uuid.uuid4())
        cache.clear()
        caplog.clear()
        before = executed(sandbox) if target.write_path else None  # only writes are counted
        inject(sandbox, settings, fault_name, target)
        try:
            response = target.send(client, world)
        finally:
            heal(sandbox, settings)
        try:
            html = check_answer(name, target, response, client)
        except AssertionError as error:
            failures.append(f"{name}: {str(error)[:200]}")
            continue
        status = response.status_code
        secret = settings.LAYERS_API_KEY.split("_", 3)[-1]  # the secret part of the key
        if secret in html or secret in caplog.text:
            failures.append(f"{name}: the Layers key shows in the answer or the log")
        if (
            fault_name not in NO_RESPONSE
            and status >= 400
            and not re.search(r"request_id=req_\w+", caplog.text)
        ):
            failures.append(f"{name}: no Layers request id logged")
        if target.write_path:
            if executed(sandbox) - before > 1:
                failures.append(f"{name}: applied twice under the fault")
            decided = any(
                word in html
                for word in (
                    "Approved.",
                    "Rejected.",
                    "Applied.",
                    "Queued for approval.",
                    "status-approved",
                    "status-rejected",
                    "status-dispatched",
                    "<strong>Sent.</strong>",
                )
            )
            kept_in_browser = target.htmx and response.headers.get("HX-Retarget") == "#messages"
            if target.typed and not decided and not kept_in_browser and target.typed not in html:
                failures.append(f"{name}: what was typed is lost ({status}: {_sentence(html)})")
            if (
                fault_name in ("read timeout", "dropped connection", "malformed JSON")
                and "Nothing was changed" in html
            ):
                failures.append(f"{name}: says nothing was changed, but Layers may have applied it")
            if fault_name == "unknown enum" and re.search(
                r"<strong>(Applied|Created)\.</strong>", html
            ):
                failures.append(f"{name}: calls an answer it cannot read applied")
            cache.clear()
            again = (target.resend or target.send)(
                client, world
            )  # the same form again, the fault gone
            if again.status_code not in (200, 302, 409, 422):
                failures.append(f"{name}: the retry answered {again.status_code}")
            if executed(sandbox) - before != 1:
                failures.append(
                    f"{name}: executed {executed(sandbox) - before} times after the retry"
                )
        elif status >= 400 and not target.csv and not any(mark in html for mark in ERROR_MARKS):
            failures.append(f"{name}: no sentence says what went wrong ({status})")
    assert not failures, "\n".join(failures)


def test_an_approval_whose_answer_was_lost_then_resent_with_edited_words_shows_the_truth_not_try_again(  # noqa: E501 - the name is the test's sentence
    sandbox, people, client, settings, monkeypatch
):
    settings.LAYERS_READ_TIMEOUT = FAULT_READ_TIMEOUT
    monkeypatch.setattr("dashboard.layers.client.BACKOFF_START", 0.01)
    login(client, "approver")
    pending_id = pending_ids(sandbox)[0]
    url = reverse("queue-decide", args=[ACME, "meta", pending_id])
    key = str(uuid.uuid4())
    sandbox.control(
        "faults",
        faults=[
            {
                "kind": "timeout",
                "delay": 0.75,
                "count": 10,
                "method": "POST",
                "pathContains": "/approve",
            }
        ],
    )
    lost = client.post(
        url, {"decision": "approve", "comment": "First words", "idempotency_key": key}, headers=HTMX
    )
    sandbox.control("faults", faults=[])
    settings.LAYERS_READ_TIMEOUT = HEALED_READ_TIMEOUT
    assert "First words" in lost.content.decode() or "status-approved" in lost.content.decode()
    edited = client.post(
        url,
        {"decision": "approve", "comment": "Edited words", "idempotency_key": key},
        headers=HTMX,
    )
    html = edited.content.decode()
    assert "Your first attempt reached Layers: this action is already approved" in html
    assert "try again" not in html
    assert sandbox.control("stats")["executedByRoute"].get("POST pending.approve") == 1


def test_a_decision_whose_reads_all_fail_keeps_the_typed_words_on_the_row_it_replaces(
    sandbox, people, client, monkeypatch
):
    monkeypatch.setattr("dashboard.layers.client.BACKOFF_START", 0.01)
    login(client, "approver")
    pending_id = pending_ids(sandbox)[0]
    url = reverse("queue-decide", args=[ACME, "meta", pending_id])
    from django.core.cache import cache

    cache.clear()  # nothing remembered: every read the decision makes goes to Layers
    sandbox.control(
        "faults", faults=[{"kind": "status", "status": 503, "count": 1000, "method": "GET"}]
    )
    answer = client.post(
        url,
        {
            "decision": "reject",
            "reason": "Words worth keeping",
            "idempotency_key": str(uuid.uuid4()),
        },
        headers=HTMX,
    ).content.decode()
    sandbox.control("faults", faults=[])
    assert "Words worth keeping" in answer
