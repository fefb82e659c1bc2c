"""The project queue's pending actions, from the mirror (dashboard/models/mirror.py) like
the inbox: rows, per-platform counts, the campaign filter, sorts, "load more", the "new
since" poll and every action "select all" takes. A page view asks nothing of Layers.

A row's campaign (name, budget, status: the "moved since" hint), its currency and its
authority matrix come from the mirrored campaigns (services/mirror_campaigns.py), which
the sync engine reads inside its budget; a decision, or a write made here, updates them.

A project never synced (a brand-new customer, or one the engine has not reached yet) gets
one targeted refresh on its first view, through the sync engine's own path and ledger
(`queue_warm`); afterwards its pages read the mirror only."""

import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dashboard.cursors import cursors_read, cursors_sign
from dashboard.layers import PLATFORMS, LayersError
from dashboard.layers.records import Authority, Campaign, CampaignAuthority, LayerDefaults
from dashboard.models import MirrorAction, MirrorCampaign, MirrorProject, SyncState
from dashboard.money import DEFAULT_LOCALE, money_locale
from dashboard.services import access
from dashboard.services.inbox import InboxFilters, inbox_matching
from dashboard.services.inbox_actions import mirror_pending_action
from dashboard.services.mirror import mirror_project_detail, mirror_refresh, sync_refresh_request
from dashboard.services.mirror_campaigns import (
    mirror_authority_due,
    mirror_authority_refresh,
    mirror_campaigns_refresh,
    mirror_key_scopes,
    mirror_whoami,
)
from dashboard.services.pending import Queue
from dashboard.services.pending_mirror_state import queue_state_read
from dashboard.services.pending_rows import RowContext
from dashboard.services.sync import budget

PAGE_SIZE = 50
RECORD_COPIES = ("current_value", "new_value", "detail")  # the record holds them too
COLD_LOCK_SECONDS = 60
COLD_WAIT_SECONDS = 15
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR = datetime(9999, 1, 1, tzinfo=UTC)


class MirrorProjectView:
    """What the queue's page shows of a project (its name in the header), from the mirror."""

    def __init__(self, mirrored: MirrorProject | None, project_id: str):
        self.id = project_id
        self.name = (mirrored.name if mirrored else "") or project_id
        self.primary_language = mirrored.primary_language if mirrored else ""
        self.platforms = list(mirrored.platforms or []) if mirrored else []


# --- the first view of a project never synced --------------------------------------------------


def pending_warm(*, user, project_id: str, filters):
    """A project never synced gets its one targeted refresh (pending_mirror.queue_warm)
    before the page reads its stamp; answers Layers' error, if a read failed."""
    access.access_require(user=user, project_id=project_id)
    if filters.status != "pending":
        return None
    return queue_warm(project_id)


def queue_cold(project_id: str) -> bool:
    """Part of this project was never read (QueueMirrorState.cold)."""
    return queue_state_read(project_id).cold


def queue_warm(project_id: str, *, cold: bool | None = None) -> LayersError | None:
    """A project never synced gets ONE targeted refresh now, through the sync engine's own
    reads (each in its ledger, counted in its share), of what was never read: the project's
    layers and currencies (2 reads), each list (1 read per 200 actions), its campaigns (1) and the
    authority of the campaigns its actions name (1 each, while the share has room), and the
    key's scopes if never read (1). Without room in the share, or while the engine backs
    off, the lists are only asked for ("refresh now") and the page says "not synced yet".
    Answers Layers' error when a read failed (the page says it), else None. `cold`: what
    the caller's own read of the mirror said (QueueMirrorState.cold), if it read it."""
    if not (queue_cold(project_id) if cold is None else cold):
        return None
    now = timezone.now()
    if budget.backoff_until(now) is not None:
        return None
    needed = 3 + len(PLATFORMS)
    if budget.reads_left(now) < needed:
        sync_refresh_request(project_id)
        return None
    lock = f"queue:warm:{project_id}"
    if not cache.add(lock, 1, timeout=COLD_LOCK_SECONDS):
        _wait_for(lock)  # someone else's first view is filling it: its rows, not an empty page
        return None
    client = budget.sync_client()
    try:
        project = MirrorProject.objects.filter(pk=project_id).first()
        if project is None or project.details_read_at is None:
            mirror_project_detail(project_id, now=now, client=client)
        for platform in SyncState.objects.filter(
            project_id=project_id, last_full_refresh_at__isnull=True
        ).values_list("platform", flat=True):
            mirror_refresh(project_id, platform, now=now, client=client, kind="first")
        if not MirrorProject.objects.filter(
            pk=project_id, campaigns_read_at__isnull=False
        ).exists():
            mirror_campaigns_refresh(project_id, now=now, client=client)
        left = budget.reads_left(now)  # read once: each authority below is one read
        for item in mirror_authority_due(now, project_id):
            if left < 2:
                break  # the rest follow at the sweep's pace
            mirror_authority_refresh(item, now=now, client=client)
            left -= 1
        if left > 0 and mirror_key_scopes() is None:
            mirror_whoami(now=now, client=client)
    except LayersError as error:
        budget.backoff_note(error, now)
        return error
    finally:
        cache.delete(lock)
    return None


def _wait_for(lock: str) -> None:
    """Until the first view filling the project is done (at most COLD_WAIT_SECONDS)."""
    deadline = time.monotonic() + COLD_WAIT_SECONDS
    while cache.get(lock) is not None and time.monotonic() < deadline:
        time.sleep(0.05)


# --- reading the mirror -------------------------------------------------------------------------


_READ = object()  # MirrorQueueContext reads the project itself


class MirrorQueueContext(RowContext):
    """A queue row's context from the mirror: the project's accounts' currencies, its
    mirrored campaigns (their values now, for the "moved since" hint) and the authority
    read for them; nothing is read from Layers."""

    def __init__(self, project_id: str, *, campaign_ids=None, project=_READ):
        """`project`: the MirrorProject (or None) when the caller already read it."""
        mirrored = (
            MirrorProject.objects.filter(pk=project_id).first() if project is _READ else project
        )
        locale = money_locale(mirrored.primary_language) if mirrored else DEFAULT_LOCALE
        campaigns = MirrorCampaign.objects.filter(project_id=project_id)
        if campaign_ids is not None:
            campaigns = campaigns.filter(campaign_id__in=list(campaign_ids))
        campaigns = list(campaigns)
        listed = [_campaign(c) for c in campaigns if c.listed and c.record]
        super().__init__(
            accounts=[],
            campaigns=[c for c in listed if c is not None],
            locale=locale or DEFAULT_LOCALE,
            authorities=_authorities(mirrored, campaigns),
            project_id=project_id,
        )
        if mirrored is not None:
            self.currency_by_account = dict(mirrored.currency_by_account or {})
            self.currency_by_platform = dict(mirrored.currency_by_platform or {})

    def row_of(self, mirrored: MirrorAction, **extra):
        """The row of a mirrored action (its mirrored currency when no account says one)."""
        self._fallback = mirrored.currency or ""
        try:
            return self.row(
                mirror_pending_action(mirrored), arrived_at=mirrored.first_seen_at, **extra
            )
        finally:
            self._fallback = ""

    def currency(self, action) -> str:
        return super().currency(action) or getattr(self, "_fallback", "")


def _campaign(mirrored: MirrorCampaign):
    try:
        return Campaign.from_wire({**mirrored.record, "campaignId": mirrored.campaign_id})
    except LayersError:
        return None


def _authorities(project, campaigns) -> dict:
    """The shapes RowContext.matrix reads, from the mirror."""
    found = {}
    for c in campaigns:
        if c.authority:  # kept while it is read again ("refresh now")
            found[("campaign", c.campaign_id)] = CampaignAuthority(
                campaign_id=c.campaign_id,
                platform=c.platform or None,
                authority=Authority.from_wire(c.authority),
                source=c.authority_source or None,
            )
    for platform, kept in ((project.layer_defaults if project else None) or {}).items():
        if isinstance(kept, dict) and kept.get("values"):
            found[("layer", platform)] = LayerDefaults(
                layer_id="", platform=platform, defaults=Authority.from_wire(kept["values"])
            )
    return found


def queue_matching(project_id: str, filters):
    """The mirror's pending actions of the project matching the queue's filters (the
    inbox's query, narrowed to one customer), unsorted."""
    narrowed = InboxFilters(
        customer=project_id, platform=filters.platform, action_type=filters.action_type
    )
    # Access was checked by the caller: the one project, as if the person were its admin.
    actions = inbox_matching(user=None, filters=narrowed, roles={project_id: "admin"}, mine=None)
    if filters.campaign:
        actions = actions.filter(campaign_id=filters.campaign)
    return actions


SORT_KEYS = {  # the queue's sort -> (the key, descending)
    "newest": (Coalesce("created_at", Value(EPOCH)), True),
    "expiring": (Coalesce("expires_at", Value(FAR)), False),
    # in each currency's major unit, like the inbox's (¥1,000 is not $10.00 x 100)
    "money": (F("spend_stake_major"), True),
    "arrived": (Coalesce("first_seen_at", Value(EPOCH)), True),  # the poll's "Show them"
}


def _keyed(actions, sort: str):
    key, descending = SORT_KEYS.get(sort, SORT_KEYS["newest"])
    actions = actions.annotate(sort_key=key)
    return actions.order_by("-sort_key" if descending else "sort_key", "pending_id"), descending


def _after(actions, cursor: dict, descending: bool):
    """The rows after the cursor's (a keyset: the sort key, then the id)."""
    value = cursor.get("k")
    if not isinstance(value, str):
        return actions.none()
    if (when := parse_datetime(value)) is not None:
        value = when
    else:
        try:
            value = Decimal(value)
        except InvalidOperation:
            return actions.none()
        if not value.is_finite():
            return actions.none()
    beyond = "sort_key__lt" if descending else "sort_key__gt"
    return actions.filter(
        Q(**{beyond: value}) | Q(sort_key=value, pending_id__gt=cursor.get("id", ""))
    )


def queue_page(project_id: str, filters) -> tuple[list, str | None]:
    """One page of pending actions (MirrorAction rows) and the signed cursor of the next."""
    scope = f"queue:{project_id}"
    actions, descending = _keyed(queue_matching(project_id, filters), filters.sort)
    cursor = cursors_read(filters.cursor, scope=scope)
    if filters.cursor:
        actions = _after(actions, cursor, descending)
    # The row is drawn from the record (mirror_pending_action): its copies of the values
    # are not decoded unless a row has no record.
    page = list(actions.defer(*RECORD_COPIES)[: PAGE_SIZE + 1])
    more = None
    if len(page) > PAGE_SIZE:
        page = page[:PAGE_SIZE]
        last = page[-1]
        key = last.sort_key
        key = key.isoformat() if isinstance(key, datetime) else str(key)
        more = cursors_sign({"k": key, "id": last.pending_id}, scope=scope)
    return page, more


def queue_counts(project_id: str, platforms, synced=None) -> dict:
    """platform -> pending actions in the mirror (None for a list never synced). `synced`:
    the platforms whose list was synced, when the caller knows (QueueMirrorState.synced)."""
    if synced is None:
        synced = set(
            SyncState.objects.filter(
                project_id=project_id, last_full_refresh_at__isnull=False
            ).values_list("platform", flat=True)
        )
    counted = dict(
        MirrorAction.objects.pending()
        .filter(project_id=project_id)
        .values_list("platform")
        .annotate(n=Count("pk"))
        .values_list("platform", "n")
    )
    return {p: counted.get(p, 0) if p in synced else None for p in platforms}


class CampaignChoice(NamedTuple):
    campaign_id: str
    name: str


def queue_campaigns(project_id: str) -> list[CampaignChoice]:
    """The campaign filter's choices: the project's mirrored campaigns, by name."""
    found = (
        MirrorCampaign.objects.filter(project_id=project_id, listed=True)
        .exclude(status="deleted")
        .values_list("campaign_id", "name")
    )
    return sorted(
        (CampaignChoice(*c) for c in found), key=lambda c: (c.name or c.campaign_id).lower()
    )


def queue_new_count(project_id: str, filters, since) -> int:
    """The live poll: matching actions that reached the mirror after `since` (by arrival,
    like the inbox's poll: one proposed earlier but synced since counts too)."""
    if since is None:
        return 0
    return queue_matching(project_id, filters).filter(first_seen_at__gt=since).count()


def queue_matching_actions(project_id: str, filters, limit: int) -> list:
    """Every pending action matching the filters (the soonest expiry first, as the inbox's
    select-all), as the PendingAction the bulk path reads; at most `limit`."""
    actions = queue_matching(project_id, filters).order_by("expires_at", "pending_id")
    return [mirror_pending_action(a) for a in actions.select_related("project")[:limit]]


def queue_key_may_decide() -> bool:
    """The key's scopes as the sync last read them (unknown: the controls stay on, and a
    refusal says why when it comes)."""
    scopes = mirror_key_scopes()
    return scopes is None or scopes.has_scope("ads:write:pending")


def queue_mirrored(project_id: str, filters, role, error, state=None) -> Queue:
    """The queue's pending view, from the mirror (`error`: what queue_warm answered;
    `state`: the caller's read of the project's mirror, QueueMirrorState, if it read it)."""
    state = state or queue_state_read(project_id)
    platforms = state.platforms
    page, more = queue_page(project_id, filters)
    context = MirrorQueueContext(
        project_id,
        campaign_ids={a.campaign_id for a in page if a.campaign_id},
        project=state.project,
    )
    return Queue(
        rows=tuple(context.row_of(action) for action in page),
        filters=filters,
        platforms=tuple(platforms),
        counts=queue_counts(project_id, platforms, synced=state.synced),
        next_cursor=more,
        campaigns=tuple(queue_campaigns(project_id)),
        errors=(error,) if error else (),
        role=role,
        key_may_decide=queue_key_may_decide(),
        locale=context.locale,
        freshness=state.freshness,
    )
