"""Ad accounts: the list, and connecting one through the platform's OAuth consent.

The dashboard asks Layers for a consent URL whose `returnUrl` is our callback and whose
`state` we sign (django.core.signing: project, platform, person, a nonce; 10 minutes). The
callback checks the signature and age and spends the nonce in the database (a unique row,
atomic across web processes), so a state cannot be forged, replayed or used after it expired.

Inside a partner's iframe the consent page opens in a popup, which is a top-level window
where the iframe's partitioned session cookie does not exist. So the popup's two steps
need no session: it starts from a signed single-use "go" token rendered into the page, and
the callback trusts only the signed state."""

import contextlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dashboard.layers import PLATFORMS, LayersError
from dashboard.models import DecisionRecord, Role
from dashboard.services import access, nonces
from dashboard.services.projects import accounts_get, project_get, project_platforms
from dashboard.services.upstream import layers, project_cache_bump
from dashboard.services.writes import key_clean, new_key, refusal_sentence
from dashboard.wording import platform_name

STATE_SALT = "dashboard.accounts.oauth-state"
GO_SALT = "dashboard.accounts.oauth-go"
STATE_MAX_AGE = 600  # seconds, like the consent URL Layers hands out


def _spend(kind: str, nonce: str) -> bool:
    """Spends a connection nonce once (kept past STATE_MAX_AGE, after which it is refused
    as expired anyway)."""
    until = timezone.now() + timedelta(seconds=STATE_MAX_AGE + 60)
    return nonces.nonce_spend(kind=kind, value=str(nonce), expires_at=until)


SENTENCES = {
    "connected": "Connected: {name} ({platform}) can now be managed from this project.",
    "connected_unknown": (
        "The {platform} account was connected. It will appear in the list in a moment."
    ),
    "access_denied": (
        "The connection was cancelled on the {platform} consent page, so nothing was connected."
    ),
    "expired": (
        "The {platform} consent page was open for too long and the link expired. "
        "Start the connection again."
    ),
    "platform_error": "{platform} could not complete the connection. Try again in a few minutes.",
    "error": "The connection did not complete ({code}). Start it again.",
    "missing": (
        "This page was opened without the connection's signed state, so nothing can be "
        "confirmed. Start the connection from the accounts page."
    ),
    "forged": (
        "This connection link was not made by this dashboard (its signature does not match), "
        "so it was ignored."
    ),
    "state_expired": (
        "This connection link is older than 10 minutes and has expired. Start the connection again."
    ),
    "reused": (
        "This connection link was already used. Each link works once: "
        "start a new connection if you need another account."
    ),
    "other_person": "This connection was started by someone else, so it cannot be finished here.",
    "go_used": "This connect button was already used. Reload the accounts page and try again.",
}


@dataclass(frozen=True)
class AccountsPage:
    project: object
    role: str
    accounts: tuple
    platforms: tuple
    error: LayersError | None = None
    highlight: str = ""  # the account id just connected
    key: str = ""  # the connect form's idempotency key
    go_token: str = ""  # for the popup path (no session in a top-level popup)

    @property
    def can_connect(self) -> bool:
        return access.role_allows(self.role, Role.ADMIN)

    def platform_names(self):
        return [(p, platform_name(p)) for p in self.platforms]


def account_list(*, user, project_id: str, highlight: str = "") -> AccountsPage:
    role = access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    error, accounts = None, []
    try:
        accounts = accounts_get(project_id)
    except LayersError as failure:
        error = failure
    accounts = sorted(
        accounts,
        key=lambda a: (
            PLATFORMS.index(a.platform) if a.platform in PLATFORMS else 9,
            (a.name or "").lower(),
        ),
    )
    can = access.role_allows(role, Role.ADMIN)
    return AccountsPage(
        project=project,
        role=role,
        accounts=tuple(accounts),
        platforms=tuple(project_platforms(project)),
        error=error,
        highlight=highlight,
        key=new_key() if can else "",
        go_token=go_token_make(user=user, project_id=project_id) if can else "",
    )


def go_token_make(*, user, project_id: str) -> str:
    return signing.dumps(
        {"p": project_id, "u": user.pk, "n": secrets.token_urlsafe(12)}, salt=GO_SALT
    )


def account_connect_start(
    *,
    user,
    project_id: str,
    platform: str,
    callback_url: str,
    idempotency_key: str,
    popup: bool = False,
    go_nonce: str = "",
) -> str:
    """The platform's consent URL to send the person to. Admins only."""
    access.access_require(user=user, project_id=project_id, action="admin")
    if platform not in PLATFORMS:
        raise ValueError("Choose Meta, TikTok or Apple Ads.")
    key = key_clean(idempotency_key)
    state = signing.dumps(
        {
            "p": project_id,
            "pl": platform,
            "u": user.pk,
            "n": secrets.token_urlsafe(16),
            "w": int(popup),
            "g": go_nonce,
            "k": key,
        },
        salt=STATE_SALT,
    )
    oauth = layers().ad_account_oauth_url(
        project_id=project_id,
        platform=platform,
        return_url=callback_url,
        state=state,
        idempotency_key=key,
    )
    DecisionRecord.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "user": user,
            "project_id": project_id,
            "platform": platform,
            "action": "connect",
            "entity_id": platform,
            "outcome": "started",
        },
    )
    return oauth.url


def account_connect_go(*, token: str, project_id: str, platform: str, callback_url: str) -> str:
    """The popup's start: a signed, single-use token stands in for the session."""
    try:
        data = signing.loads(token or "", salt=GO_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise PermissionDenied(SENTENCES["state_expired"]) from None
    except signing.BadSignature:
        raise PermissionDenied(SENTENCES["forged"]) from None
    if data.get("p") != project_id:
        raise PermissionDenied(SENTENCES["forged"])
    user = get_user_model().objects.filter(pk=data.get("u")).first()
    if user is None:
        raise PermissionDenied(SENTENCES["forged"])
    access.access_require(user=user, project_id=project_id, action="admin")
    if not _spend(nonces.Kind.CONNECT_GO, data["n"]):
        raise PermissionDenied(SENTENCES["go_used"])
    # The nonce doubles as the idempotency key: one token, one consent URL.
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, data["n"]))
    return account_connect_start(
        user=user,
        project_id=project_id,
        platform=platform,
        callback_url=callback_url,
        idempotency_key=key,
        popup=True,
        go_nonce=data["n"],
    )


@dataclass(frozen=True)
class ConnectResult:
    ok: bool
    sentence: str
    code: str  # connected | access_denied | expired | platform_error | missing | forged | ...
    project_id: str = ""
    platform: str = ""
    account_id: str = ""
    popup: bool = False
    extra: dict = field(default_factory=dict)


def account_connect_finish(*, user, query, project_id: str) -> ConnectResult:
    """Reads the platform's redirect. Never raises for a bad state: every case is a sentence."""
    raw = query.get("state") or ""
    if not raw:
        return ConnectResult(False, SENTENCES["missing"], "missing", project_id=project_id)
    try:
        data = signing.loads(raw, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        return ConnectResult(
            False, SENTENCES["state_expired"], "state_expired", project_id=project_id
        )
    except signing.BadSignature:
        return ConnectResult(False, SENTENCES["forged"], "forged", project_id=project_id)
    popup = bool(data.get("w"))
    platform = data.get("pl") if data.get("pl") in PLATFORMS else ""
    if data.get("p") != project_id or not platform:
        return ConnectResult(
            False, SENTENCES["forged"], "forged", project_id=project_id, popup=popup
        )
    if user is not None and user.is_authenticated and user.pk != data.get("u"):
        return ConnectResult(
            False, SENTENCES["other_person"], "other_person", project_id=project_id, popup=popup
        )
    if not _spend(nonces.Kind.CONNECT_STATE, data["n"]):
        return ConnectResult(
            False, SENTENCES["reused"], "reused", project_id=project_id, popup=popup
        )
    result = _finish(query, project_id=project_id, platform=platform, popup=popup)
    DecisionRecord.objects.filter(idempotency_key=data.get("k") or "-", action="connect").update(
        outcome=result.code,
        entity_id=result.account_id or platform,
    )
    if data.get("g"):  # the iframe that opened the popup is polling for this
        cache.set(f"oauth:result:{data['g']}", result, timeout=STATE_MAX_AGE * 2)
    return result


def _finish(query, *, project_id, platform, popup) -> "ConnectResult":
    name = platform_name(platform)
    common = dict(project_id=project_id, platform=platform, popup=popup)
    status = query.get("status") or ""
    if status == "connected":
        account_id = (query.get("accountId") or "").strip()[:80]
        project_cache_bump(project_id)
        account = None
        with contextlib.suppress(LayersError):
            account = next(
                (a for a in accounts_get(project_id) if a.ad_account_id == account_id), None
            )
        sentence = (
            SENTENCES["connected"].format(name=account.name, platform=name)
            if account
            else SENTENCES["connected_unknown"].format(platform=name)
        )
        return ConnectResult(True, sentence, "connected", account_id=account_id, **common)
    code = (query.get("error") or "error").strip()[:40]
    template = (
        SENTENCES.get(code)
        if code in ("access_denied", "expired", "platform_error")
        else SENTENCES["error"]
    )
    return ConnectResult(
        False, template.format(platform=name, code=code.replace("_", " ")), code, **common
    )


def connect_status(*, user, project_id: str, go_token: str) -> "ConnectResult | None":
    """What the popup started with this page's go token ended with, once it has ended."""
    access.access_require(user=user, project_id=project_id, action="admin")
    try:
        data = signing.loads(go_token or "", salt=GO_SALT, max_age=STATE_MAX_AGE * 2)
    except signing.BadSignature:
        return None
    if data.get("p") != project_id or data.get("u") != user.pk:
        return None
    return cache.get(f"oauth:result:{data['n']}")


def connect_result_sentence(*, code: str, platform: str = "") -> str:
    """The sentence for a result passed back from the popup (never trusted text)."""
    name = platform_name(platform) if platform in PLATFORMS else "the platform"
    if code in ("access_denied", "expired", "platform_error"):
        return SENTENCES[code].format(platform=name)
    if code in SENTENCES and code not in ("connected", "error"):
        return SENTENCES[code]
    return ""


def connect_refusal(error: LayersError, platform: str) -> str:
    if error.code == "RETURN_URL_NOT_ALLOWED":
        return (
            "Layers refused our return address for the consent page: "
            "this dashboard's address must be on "
            "the Layers key's list of allowed return URLs."
        )
    return refusal_sentence(error, platform)
