"""Read-only share links: one view of one project (its queue, one campaign's actions, or
its audit log) for someone without an account, such as a customer-success colleague.

The token is 32 random bytes shown once; only its SHA-256 is stored, so a database leak
opens nothing. Links expire (SHARE_LINK_DAYS by default), can be revoked, and every
opening is logged (the newest SHARE_LINK_LOG_MAX per link are kept). What a link shows is
read through the access of the admin who made it (so a link dies with its maker's admin
role) and then stripped: viewer role, no decision forms, no idempotency keys, no raw
platform payloads."""

import dataclasses
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from dashboard.models import Role, ShareLink, ShareLinkUse
from dashboard.services import access, pending
from dashboard.services.projects import project_get
from dashboard.services.upstream import cached_read, layers

TOKEN_BYTES = 32
AUDIT_ROWS = 100
READ_ONLY_SENTENCE = "This is a read-only link: nothing can be changed through it."


class ShareLinkGone(Exception):
    """The link existed but can no longer be used (expired, revoked, maker lost access)."""

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_link_create(
    *,
    actor,
    project_id: str,
    scope: str,
    target: str = "",
    days: int | None = None,
    label: str = "",
) -> tuple[ShareLink, str]:
    """Makes a link; returns it and its token (the only time the token exists in clear)."""
    access.access_require(user=actor, project_id=project_id, action="admin")
    if scope not in ShareLink.Scope.values:
        raise ValueError("Choose what the link shows: the queue, one campaign or the audit log.")
    target = (target or "").strip()[:80]
    if scope == ShareLink.Scope.CAMPAIGN and not target:
        raise ValueError("Choose the campaign this link shows.")
    if scope != ShareLink.Scope.CAMPAIGN:
        target = ""
    days = settings.SHARE_LINK_DAYS if days in (None, "") else days
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValueError("Say in how many days the link expires.") from None
    if not 1 <= days <= settings.SHARE_LINK_MAX_DAYS:
        raise ValueError(f"A link lasts between 1 and {settings.SHARE_LINK_MAX_DAYS} days.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink.objects.create(
        token_hash=token_hash(token),
        project_id=project_id,
        scope=scope,
        target=target,
        label=(label or "").strip()[:120],
        expires_at=timezone.now() + timedelta(days=days),
        created_by=actor,
    )
    return link, token


def share_link_list(*, actor, project_id: str) -> list[ShareLink]:
    access.access_require(user=actor, project_id=project_id, action="admin")
    return list(
        ShareLink.objects.filter(project_id=project_id)
        .select_related("created_by", "revoked_by")
        .annotate(use_count=Count("uses"), last_used_at=Max("uses__at"))
        .order_by("-created_at")
    )


def share_link_revoke(*, actor, project_id: str, link_id: int) -> ShareLink:
    access.access_require(user=actor, project_id=project_id, action="admin")
    with transaction.atomic():
        link = (
            ShareLink.objects.select_for_update().filter(id=link_id, project_id=project_id).first()
        )
        if link is None:
            raise ValueError("That link does not exist on this project.")
        if link.revoked_at is None:
            link.revoked_at, link.revoked_by = timezone.now(), actor
            link.save(update_fields=["revoked_at", "revoked_by"])
    return link


def share_link_state(link: ShareLink) -> str:
    """active | expired | revoked"""
    if link.revoked_at:
        return "revoked"
    if link.expires_at <= timezone.now():
        return "expired"
    return "active"


def _ip_hash(ip: str) -> str:
    return (
        hmac.new(settings.SECRET_KEY.encode(), (ip or "").encode(), hashlib.sha256).hexdigest()
        if ip
        else ""
    )


def share_link_open(
    *, token: str, ip: str = "", user_agent: str = "", path: str = ""
) -> ShareLink | None:
    """The link a token opens, logging the use; None when no such link; ShareLinkGone when
    it was revoked, has expired, or its maker no longer administers the project."""
    if not token or len(token) > 200:
        return None
    link = (
        ShareLink.objects.filter(token_hash=token_hash(token)).select_related("created_by").first()
    )
    if link is None:
        return None
    state = share_link_state(link)
    maker_ok = link.created_by is not None and access.role_allows(
        access.role_get(user=link.created_by, project_id=link.project_id), Role.ADMIN
    )
    ShareLinkUse.objects.create(
        link=link,
        ip_hash=_ip_hash(ip),
        user_agent=(user_agent or "")[:200],
        path=(path or "")[:300],
        allowed=state == "active" and maker_ok,
    )
    share_link_log_trim(link_id=link.id)  # a link opened in a loop cannot fill the database
    if state == "revoked":
        raise ShareLinkGone(
            "This link was turned off by the people who shared it. Ask them for a new one."
        )
    if state == "expired":
        raise ShareLinkGone("This link has expired. Ask the people who shared it for a new one.")
    if not maker_ok:
        raise ShareLinkGone(
            "This link no longer works: the person who made it no longer manages this project."
        )
    return link


def share_link_log_trim(*, link_id: int) -> int:
    """Keeps the newest SHARE_LINK_LOG_MAX openings of one link; answers how many went."""
    keep = settings.SHARE_LINK_LOG_MAX
    uses = ShareLinkUse.objects.filter(link_id=link_id)
    oldest_kept = list(uses.order_by("-id").values_list("id", flat=True)[keep - 1 : keep])
    if not oldest_kept:
        return 0
    deleted, _ = uses.filter(id__lt=oldest_kept[0]).delete()
    return deleted


def _row_read_only(row: pending.QueueRow) -> pending.QueueRow:
    action = row.action
    if dataclasses.is_dataclass(action):
        action = dataclasses.replace(action, detail={})  # raw platform payload stays private
    return dataclasses.replace(
        row, action=action, links=(), typed={}, approve_key="", reject_key=""
    )


def share_queue(*, link: ShareLink, filters: pending.QueueFilters) -> pending.Queue:
    """The link's queue (the campaign's, for a campaign link), with every decision stripped."""
    if link.scope == ShareLink.Scope.CAMPAIGN:
        filters = dataclasses.replace(filters, campaign=link.target)
    queue = pending.pending_queue(user=link.created_by, project_id=link.project_id, filters=filters)
    return dataclasses.replace(
        queue, rows=tuple(_row_read_only(r) for r in queue.rows), role=Role.VIEWER.value
    )


def share_project(*, link: ShareLink):
    return project_get(user=link.created_by, project_id=link.project_id)


def share_audit(*, link: ShareLink) -> list:
    """The project's most recent audit rows (what happened, not the raw request data)."""
    access.access_require(user=link.created_by, project_id=link.project_id)
    page = cached_read(
        link.project_id,
        f"share-audit:{AUDIT_ROWS}",
        lambda: layers().audit_log_list(project_id=link.project_id, limit=AUDIT_ROWS),
    )
    return list(getattr(page, "items", page))


def share_link_uses(*, actor, project_id: str, link_id: int, limit: int = 50) -> list[ShareLinkUse]:
    access.access_require(user=actor, project_id=project_id, action="admin")
    return list(
        ShareLinkUse.objects.filter(link_id=link_id, link__project_id=project_id).order_by("-at")[
            :limit
        ]
    )


def share_campaign_choices(*, actor, project_id: str) -> list[tuple[str, str]]:
    """(campaign id, name) for the "one campaign" choice; empty when Layers cannot say."""
    from dashboard.layers import LayersError

    access.access_require(user=actor, project_id=project_id, action="admin")

    def fetch():
        client = layers()
        return list(
            client.iter_pages(client.campaigns_list, project_id=project_id, limit=200, max_pages=20)
        )

    try:
        campaigns = cached_read(project_id, "campaigns", fetch)
    except LayersError:
        return []
    return sorted(((c.campaign_id, c.name) for c in campaigns), key=lambda pair: pair[1].lower())


def share_campaign_name(*, link: ShareLink) -> str:
    for campaign_id, name in share_campaign_choices(
        actor=link.created_by, project_id=link.project_id
    ):
        if campaign_id == link.target:
            return name
    return link.target
