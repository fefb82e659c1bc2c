"""Every URL pattern of the dashboard against every kind of person, for GET and POST.

A new URL fails `test_every_url_pattern_is_in_the_matrix` until it is added here, so no
page can ship without saying who may see it and who may change things through it."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from dashboard.services.jobs import job_remember
from tests.conftest import ACME, PASSWORD

PEOPLE = ["anonymous", "viewer", "approver", "admin", "outsider"]
LOGIN = "login"  # a redirect to the login page
OK = "ok"  # 200, or a redirect that is not to the login page
DENIED = 403

# url name -> (kwargs builder name, {person: (GET outcome, POST outcome)})
MATRIX = {
    "home": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (OK, 405),
    },
    # No task worker runs beside this matrix, so /health says so to everyone (503);
    # /metrics refuses every caller without METRICS_TOKEN (none is set here).
    "health": {p: (503, 405) for p in PEOPLE},
    "health-live": {p: (OK, 405) for p in PEOPLE},
    "metrics": {p: (DENIED, 405) for p in PEOPLE},
    # The first-run page is for superusers, and nobody in this matrix is one.
    "first-run": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (DENIED, 405),
        "approver": (DENIED, 405),
        "admin": (DENIED, 405),
        "outsider": (DENIED, 405),
    },
    "favicon": {p: (OK, 405) for p in PEOPLE},
    "login": {p: (OK, OK) for p in PEOPLE},
    "logout": {p: (405, LOGIN) for p in PEOPLE},
    "mail-settings": {
        "anonymous": (LOGIN, LOGIN),
        **{p: (OK, 422) for p in PEOPLE[1:]},  # the matrix posts no choice: a sentence
    },
    # The unsubscribe link works for whoever holds it, signed in or not.
    "mail-unsubscribe": {p: (OK, OK) for p in PEOPLE},
    # Sign-in with an identity provider is off in the suite's settings (tests/test_sso.py).
    "oidc_authentication_init": {p: (404, 404) for p in PEOPLE},
    "oidc_authentication_callback": {p: (404, 404) for p in PEOPLE},
    "project": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "project-access": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (DENIED, DENIED),
        "approver": (DENIED, DENIED),
        "admin": (OK, OK),
        "outsider": (DENIED, DENIED),
    },
    "queue": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "queue-counts": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "queue-decide": {  # GET: a decision's address opened leads to the action's page
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, DENIED),
        "approver": (OK, OK),
        "admin": (OK, OK),
        "outsider": (DENIED, DENIED),
    },
    "queue-fresh": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "queue-bulk-start": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, OK),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    "queue-bulk-preview": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (DENIED, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "queue-bulk": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "queue-hold": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "queue-hold-undo": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, OK),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    "project-owner": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (DENIED, DENIED),
        "approver": (DENIED, DENIED),
        "admin": (OK, 422),  # the matrix posts no owner: the form says to choose one
        "outsider": (DENIED, DENIED),
    },
    "queue-bulk-retry": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, OK),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    "queue-bulk-resume": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, OK),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    # The inbox spans every customer a person may see, so everyone signed in opens it; a
    # detail or a decision is the project's own (its role), and a bulk started from it
    # needs the approver role on the customer it names.
    "inbox": {p: (OK, 405) for p in PEOPLE} | {"anonymous": (LOGIN, LOGIN)},
    "inbox-fresh": {p: (OK, 405) for p in PEOPLE} | {"anonymous": (LOGIN, LOGIN)},
    "inbox-refresh": {p: (405, OK) for p in PEOPLE} | {"anonymous": (LOGIN, LOGIN)},
    "inbox-bulk-start": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, OK),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    # Bulk decisions started from the inbox: those on customers the person may see.
    "inbox-bulk": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (404, 405),
    },
    "inbox-detail": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "inbox-decide": {  # GET: a decision's address opened leads to the action's page
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, DENIED),
        "approver": (OK, OK),
        "admin": (OK, OK),
        "outsider": (DENIED, DENIED),
    },
    "project-share": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (DENIED, DENIED),
        "approver": (DENIED, DENIED),
        "admin": (OK, OK),
        "outsider": (DENIED, DENIED),
    },
    "project-share-revoke": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, DENIED),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    "accounts": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "accounts-connect": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, DENIED),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    "accounts-connect-status": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (DENIED, 405),
        "approver": (DENIED, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    # The popup's first step and the OAuth callback need no session (a popup opened from an
    # iframe has none): a signed, single-use token or state stands in, and this matrix sends none.
    "accounts-connect-popup": {p: (DENIED, 405) for p in PEOPLE},
    "accounts-callback": {p: (400, 405) for p in PEOPLE},
    "campaigns": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "campaign": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    # An empty create form and an unreadable budget are refused with sentences (422).
    "campaign-new": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (DENIED, DENIED),
        "approver": (OK, 422),
        "admin": (OK, 422),
        "outsider": (DENIED, DENIED),
    },
    "campaign-authority": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, OK),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    "campaign-write": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, 422),
        "admin": (405, 422),
        "outsider": (405, DENIED),
    },
    "job": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "optimizer-start": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, DENIED),
        "approver": (405, OK),
        "admin": (405, OK),
        "outsider": (405, DENIED),
    },
    "optimizer-run": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    # The audit log, its CSV export and verdict pages: anyone who can see the project.
    "audit": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "audit-export": {  # GET: the start page; POST: starts a background export
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, OK),
        "approver": (OK, OK),
        "admin": (OK, OK),
        "outsider": (DENIED, DENIED),
    },
    "audit-export-progress": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "audit-export-download": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    "verdict": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (DENIED, 405),
    },
    # Notices are per person (filtered to the projects they can see), so everyone signed in.
    "notices": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (OK, 405),
    },
    "notices-read": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (405, OK),
        "approver": (405, OK),
        "admin": (405, OK),
        "outsider": (405, OK),
    },
    "notices-count": {
        "anonymous": (LOGIN, LOGIN),
        "viewer": (OK, 405),
        "approver": (OK, 405),
        "admin": (OK, 405),
        "outsider": (OK, 405),
    },
    # The webhook receiver is not session-authenticated: the HMAC signature is. This matrix
    # sends none, so every POST is refused as malformed (400) and nothing is stored.
    "webhooks-layers": {p: (405, 400) for p in PEOPLE},
    # A share link opens read-only for anyone who holds it, signed in or not; writes are refused.
    "share": {p: (OK, DENIED) for p in PEOPLE},
    # Without a valid token (this matrix sends none) the embed start refuses everyone.
    "embed-start": {p: (DENIED, 405) for p in PEOPLE},
    # The demo portal sends visitors on the wrong host to its own origin.
    "demo-portal": {p: (OK, 405) for p in PEOPLE},
}


def dashboard_patterns(resolver=None, prefix=""):
    """(name, route) of every named URL pattern outside the sandbox mount."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("sandbox/"):
                continue
            yield from dashboard_patterns(pattern, route)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, route


def test_every_url_pattern_is_in_the_matrix():
    names = {name for name, _ in dashboard_patterns()}
    assert names - set(MATRIX) == set()


def url_kwargs(name, sandbox):
    if name in ("share", "project-share-revoke"):
        return share_link_kwargs(name)
    if name == "mail-unsubscribe":
        return {"token": an_unsubscribe_token()}
    if name in CAMPAIGN_URLS:
        return campaign_kwargs(name, sandbox)
    if name in INBOX_URLS:
        return inbox_kwargs(name, sandbox)
    if name in ("queue-decide", "queue-hold", "queue-hold-undo"):  # only these name an action
        pending_id = first_pending(sandbox)
        if name == "queue-decide":
            return {"project_id": ACME, "platform": "meta", "pending_id": pending_id}
        return {"project_id": ACME, "hold_id": a_hold(pending_id)}
    return {
        "project": {"project_id": ACME},
        "project-access": {"project_id": ACME},
        "queue": {"project_id": ACME},
        "queue-counts": {"project_id": ACME},
        "queue-fresh": {"project_id": ACME},
        "queue-bulk-start": {"project_id": ACME},
        "queue-bulk-preview": {"project_id": ACME},
        "queue-bulk": {"project_id": ACME, "bulk_id": a_bulk_decision()}
        if name == "queue-bulk"
        else {},
        "queue-bulk-retry": {"project_id": ACME, "bulk_id": a_bulk_decision()}
        if name == "queue-bulk-retry"
        else {},
        "queue-bulk-resume": {"project_id": ACME, "bulk_id": a_bulk_decision()}
        if name == "queue-bulk-resume"
        else {},
        "project-owner": {"project_id": ACME},
        "project-share": {"project_id": ACME},
        "audit": {"project_id": ACME},
        "audit-export": {"project_id": ACME},
        "audit-export-progress": {"project_id": ACME, "export_id": an_export()}
        if name == "audit-export-progress"
        else {},
        "audit-export-download": {"project_id": ACME, "export_id": an_export()}
        if name == "audit-export-download"
        else {},
        "verdict": {"project_id": ACME, "verdict_id": first_verdict(sandbox)}
        if name == "verdict"
        else {},
    }.get(name, {})


def a_bulk_decision():
    """A finished bulk decision on Acme, made by its approver."""
    import uuid

    from django.contrib.auth import get_user_model

    from dashboard.models import BulkDecision

    approver = get_user_model().objects.get(username="approver")
    bulk = BulkDecision.objects.create(
        id=uuid.uuid4(), user=approver, project_id=ACME, decision="approve", status="done"
    )
    return str(bulk.id)


def an_unsubscribe_token():
    from django.contrib.auth import get_user_model

    from dashboard.models import MailPreference

    approver = get_user_model().objects.get(username="approver")
    return MailPreference.objects.get_or_create(user=approver)[0].unsubscribe_token


def a_hold(pending_id):
    """An approval of Acme's first pending action, held by its approver (any earlier one
    taken back first: an action has one live hold)."""
    import uuid
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dashboard.models import DecisionHold

    DecisionHold.objects.filter(status="held").update(status="undone")
    hold = DecisionHold.objects.create(
        user=get_user_model().objects.get(username="approver"),
        project_id=ACME,
        decision="approve",
        platform="meta",
        pending_id=pending_id,
        idempotency_key=str(uuid.uuid4()),
        send_after=timezone.now() + timedelta(hours=1),
    )
    return hold.id


def an_export():
    """A finished audit export of Acme, made by its approver (anyone on Acme may open it)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dashboard.models import AuditExport, AuditExportPart

    approver = get_user_model().objects.get(username="approver")
    export = AuditExport.objects.create(
        user=approver, project_id=ACME, status="done", finished_at=timezone.now()
    )
    AuditExportPart.objects.create(export=export, number=0, text="occurred_at\r\n")
    return str(export.id)


def first_verdict(sandbox):
    items = sandbox.api(
        "GET", "/v1/audit-log", params={"projectId": ACME, "eventType": "ads.write.denied"}
    ).json()["items"]
    return items[0]["data"]["verdictId"]


def share_link_kwargs(name):
    """A fresh queue link on Acme made by its admin (each revoke spends one)."""
    from django.contrib.auth import get_user_model

    from dashboard.services.sharing import share_link_create

    admin = get_user_model().objects.get(username="admin")
    link, token = share_link_create(actor=admin, project_id=ACME, scope="queue")
    return {"token": token} if name == "share" else {"project_id": ACME, "link_id": link.id}


CAMPAIGN_URLS = (
    "accounts",
    "accounts-connect",
    "accounts-connect-status",
    "accounts-connect-popup",
    "accounts-callback",
    "campaigns",
    "campaign",
    "campaign-new",
    "campaign-authority",
    "campaign-write",
    "job",
    "optimizer-start",
    "optimizer-run",
)


def campaign_kwargs(name, sandbox):
    """Acme's first active Meta campaign, or a running optimizer run (and its job) there."""
    if name in ("campaign", "campaign-authority", "campaign-write"):
        items = sandbox.api(
            "GET", f"/v1/projects/{ACME}/ads/campaigns", params={"platforms": "meta_ads"}
        ).json()["items"]
        campaign = next(c for c in items if c["status"] == "active")
        return {"project_id": ACME, "platform": "meta", "campaign_id": campaign["campaignId"]}
    if name in ("job", "optimizer-run"):
        layer = sandbox.api("GET", f"/v1/projects/{ACME}/ads/meta/defaults").json()["layerId"]
        started = sandbox.api(
            "POST",
            f"/v1/projects/{ACME}/ads/optimizer/run",
            json={"layerId": layer, "platform": "meta_ads"},
        )
        body = started.json()
        ids = (
            body if started.status_code == 202 else body["error"]["details"]
        )  # 409: already running
        # Started here, the dashboard would have recorded the job under Acme (finding 3).
        job_remember(project_id=ACME, job_id=ids["jobId"])
        return (
            {"project_id": ACME, "job_id": ids["jobId"]}
            if name == "job"
            else {"project_id": ACME, "run_id": ids["runId"]}
        )
    return {"project_id": ACME}


INBOX_URLS = ("inbox-bulk", "inbox-detail", "inbox-decide")


def inbox_kwargs(name, sandbox):
    """Acme's first pending Meta action, put in the mirror as the sync engine would; or a
    bulk decision an inbox form started on Acme."""
    import uuid

    from dashboard.services.inbox_actions import bulk_id_for
    from dashboard.services.mirror import mirror_refresh

    if name == "inbox-bulk":
        key = uuid.uuid4()
        from django.contrib.auth import get_user_model

        from dashboard.models import BulkDecision

        approver = get_user_model().objects.get(username="approver")
        BulkDecision.objects.create(
            id=bulk_id_for(key, ACME), user=approver, project_id=ACME, decision="approve"
        )
        return {"form_key": str(key)}
    mirror_refresh(ACME, "meta")
    return {"project_id": ACME, "platform": "meta", "pending_id": first_pending(sandbox)}


def first_pending(sandbox):
    response = sandbox.api("GET", f"/v1/projects/{ACME}/ads/meta/pending")
    return response.json()["items"][0]["pendingId"]


POST_DATA = {
    "project-access": {"username": "viewer", "role": "viewer"},
    "queue-decide": {"decision": "reject", "reason": "Matrix test", "idempotency_key": ""},
    "inbox-decide": {"decision": "reject", "reason": "Matrix test", "idempotency_key": ""},
    # Every action of Acme that the person may decide (none: a sentence, then the inbox).
    "inbox-bulk-start": {"decision": "approve", "select_all": "1", "customer": ACME},
    "queue-bulk-start": {
        "decision": "approve",
        "text": "",
        "bulk_key": "",
    },  # nothing selected: a sentence
    "login": {"username": "nobody", "password": "wrong"},
    "project-share": {"scope": "queue", "days": "3", "label": "Matrix test"},
    "accounts-connect": {"platform": "meta", "idempotency_key": ""},
    "campaign-write": {"action": "budget", "amount": "not money", "idempotency_key": ""},
}


def outcome_of(response):
    if response.status_code in (301, 302) and "/login/" in response.headers.get("Location", ""):
        return LOGIN
    if response.status_code in (200, 301, 302, 204):
        return OK
    return response.status_code


@pytest.mark.parametrize("person", PEOPLE)
def test_each_person_gets_exactly_what_their_role_allows_on_every_url(
    sandbox, people, client, person
):
    from django.urls import reverse

    if person != "anonymous":
        assert client.login(username=person, password=PASSWORD)
    seen = {}
    for name in MATRIX:
        url = reverse(name, kwargs=url_kwargs(name, sandbox))
        get_outcome = outcome_of(client.get(url))
        post_outcome = outcome_of(client.post(url, POST_DATA.get(name, {})))
        seen[name] = (get_outcome, post_outcome)
        if name == "logout" and person != "anonymous":
            assert client.login(username=person, password=PASSWORD)
    assert seen == {name: MATRIX[name][person] for name in MATRIX}


def embed_login(client, role, live_server_url=None):
    """Starts an embed session as a portal person with `role` on Acme, like an iframe would."""
    from django.conf import settings

    from dashboard.services.embedding import embed_token_mint

    token = embed_token_mint(
        issuer="matrix-portal",
        subject=f"embedded-{role}",
        name=f"Embedded {role}",
        role=role,
        projects=[ACME],
        parent_origin=settings.EMBED_ALLOWED_ORIGINS[0],
    )
    response = client.get("/embed/start", {"token": token})
    assert response.status_code == 302, response.content[:500]


@pytest.mark.parametrize("role", ["viewer", "approver"])
def test_an_embedded_person_gets_exactly_what_the_same_role_gets_and_every_page_may_be_framed_by_the_portal_only(  # noqa: E501 - the name is the test's sentence
    sandbox, people, client, role
):
    from django.conf import settings
    from django.urls import reverse

    portal = settings.EMBED_ALLOWED_ORIGINS[0]
    embed_login(client, role)
    seen = {}
    for name in MATRIX:
        url = reverse(name, kwargs=url_kwargs(name, sandbox))
        got = client.get(url)
        if got.status_code != 405 and name not in (
            "demo-portal",
            "share",
        ):  # share pages are never framed
            assert f"frame-ancestors {portal}" in got.headers["Content-Security-Policy"], name
            assert "X-Frame-Options" not in got.headers, name
        posted = client.post(url, POST_DATA.get(name, {}))
        seen[name] = (outcome_of(got), outcome_of(posted))
        if name == "logout":
            embed_login(client, role)
    assert seen == {name: MATRIX[name][role] for name in MATRIX}


@pytest.mark.parametrize("scope", ["queue", "audit"])
def test_a_share_link_holder_gets_nothing_beyond_the_link_itself_on_every_url(
    sandbox, people, client, scope
):
    """Opening a share link signs nobody in: afterwards every URL answers exactly as it does
    for an anonymous visitor, and the link itself stays read-only."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from dashboard.services.sharing import share_link_create

    admin = get_user_model().objects.get(username="admin")
    _link, token = share_link_create(actor=admin, project_id=ACME, scope=scope)
    opened = client.get(reverse("share", kwargs={"token": token}))
    assert opened.status_code == 200
    assert "_auth_user_id" not in client.session
    seen = {}
    for name in MATRIX:
        url = reverse(name, kwargs=url_kwargs(name, sandbox))
        seen[name] = (
            outcome_of(client.get(url)),
            outcome_of(client.post(url, POST_DATA.get(name, {}))),
        )
    assert seen == {name: MATRIX[name]["anonymous"] for name in MATRIX}
    assert client.post(reverse("share", kwargs={"token": token})).status_code == 403
