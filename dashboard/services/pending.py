"""The pending-actions queue, read: one list per project across platforms, the counts, the
"new since" poll, every action matching a filter, and the copy of each action this
dashboard remembers (to re-render one row after a decision or a webhook).

What is pending comes from the mirror (pending_mirror.py): a page view, its poll, its
counts and "select all" ask nothing of Layers. The other statuses (approved, rejected,
dispatched, dispatch failed) are history the mirror does not keep: they are read from
Layers, shared through the cache (many reviewers, one upstream call per window).
Deciding is in pending_decisions.py, drawing a row in pending_rows.py."""

import dataclasses
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache

from dashboard.cursors import cursors_read, cursors_sign
from dashboard.layers import LayersError
from dashboard.models import Role
from dashboard.money import DEFAULT_LOCALE, browser_locale, money_locale
from dashboard.services import access
from dashboard.services.pending_rows import (
    QueueRow,
    RowContext,
    campaign_of,
    row_authorities,
    rows_sorted,
)
from dashboard.services.projects import (
    accounts_get,
    campaigns_get,
    project_get,
    project_platforms,
    whoami_get,
)
from dashboard.services.upstream import cached_read, fan_out, layers

STATUSES = ("pending", "approved", "rejected", "dispatched", "dispatch_failed")
ACTION_TYPES = (
    "update_budget",
    "pause_ad",
    "pause_adset",
    "push_creative",
    "replace_creative",
    "prune_creative",
    "update_targeting",
    "update_schedule",
)
SORTS = {
    "newest": "Newest first",
    "expiring": "Expiring soonest",
    "money": "Largest money change",
    "arrived": "Latest to arrive first",  # in the synced copy (pending); else as newest
}
REJECT_REASONS = (
    "Not aligned with the customer's goals",
    "Budget change too large",
    "Creative not approved by the customer",
    "Needs more data first",
)
PAGE_SIZE = 50
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RECORD_SECONDS = 3600  # how long a fetched action is remembered for re-rendering its row


@dataclass(frozen=True)
class QueueFilters:
    platform: str = ""  # "" = every platform of the project
    status: str = "pending"
    action_type: str = ""
    campaign: str = ""  # entity id of the campaign
    sort: str = "newest"
    cursor: str = ""

    @classmethod
    def from_query(cls, query) -> "QueueFilters":
        def pick(name, allowed, default=""):
            value = (query.get(name) or "").strip()
            return value if value in allowed else default

        return cls(
            platform=pick("platform", ("meta", "tiktok", "apple")),
            status=pick("status", STATUSES, "pending"),
            action_type=pick("action", ACTION_TYPES),
            # No id holds a control character, and PostgreSQL refuses a NUL in a query.
            campaign=CONTROL.sub("", query.get("campaign") or "").strip()[:80],
            sort=pick("sort", tuple(SORTS), "newest"),
            cursor=(query.get("cursor") or "").strip()[:4000],
        )

    def query(self, **changes) -> dict:
        """The query-string form of these filters (empty values left out)."""
        values = dataclasses.asdict(dataclasses.replace(self, **changes))
        values["action"] = values.pop("action_type")
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class Queue:
    rows: tuple[QueueRow, ...]
    filters: QueueFilters
    platforms: tuple[str, ...]
    counts: dict  # platform -> pending count (None when unknown)
    next_cursor: str | None
    campaigns: tuple = ()  # for the campaign filter
    errors: tuple[LayersError, ...] = ()
    role: str = "viewer"
    bulk_key: str = field(default_factory=lambda: str(uuid.uuid4()))  # the bulk form's own key
    key_may_decide: bool = True  # the Layers key holds ads:write:pending
    locale: str = DEFAULT_LOCALE  # the project's, for money (dashboard.money)
    freshness: object = None  # inbox_sync.Freshness of the mirrored lists (pending only)

    @property
    def mirrored(self) -> bool:
        """Drawn from the mirror (pending), not read from Layers (the history)."""
        return self.freshness is not None

    @property
    def browser_locale(self) -> str:
        """The locale the browser's selection total is written in (BCP 47)."""
        return browser_locale(self.locale)

    @property
    def total_pending(self) -> int:
        return sum(c for c in self.counts.values() if c)

    @property
    def can_decide(self) -> bool:
        return self.key_may_decide and access.role_allows(self.role, Role.APPROVER)

    @property
    def select_all_count(self) -> int | None:
        """How many pending actions match "select all", when the counts already read say
        it (no action or campaign filter); None otherwise (the bar asks when ticked). It
        takes at most bulk_cap of them (select_all_capped)."""
        f = self.filters
        if f.status != "pending" or f.action_type or f.campaign:
            return None
        counts = [self.counts.get(p) for p in ([f.platform] if f.platform else self.platforms)]
        if any(c is None for c in counts):
            return None
        return sum(counts)

    @property
    def select_all_capped(self) -> bool:
        f = self.filters
        platforms = [f.platform] if f.platform else self.platforms
        return sum(self.counts.get(p) or 0 for p in platforms) > self.bulk_cap

    @property
    def bulk_cap(self) -> int:
        from dashboard.services.bulk_start import bulk_cap

        return bulk_cap()

    @property
    def filters_query(self) -> str:
        return urlencode(self.filters.query(cursor=""))

    @property
    def more_query(self) -> str:
        return urlencode(self.filters.query(cursor=self.next_cursor or ""))


def pending_queue(*, user, project_id: str, filters: QueueFilters) -> Queue:
    """The queue's page: pending actions from the mirror (a project never synced warmed
    first), decided ones from Layers."""
    role = access.access_require(user=user, project_id=project_id)
    if filters.status == "pending":
        from dashboard.services.pending_mirror import pending_warm, queue_mirrored

        warmed = pending_warm(user=user, project_id=project_id, filters=filters)
        return queue_mirrored(project_id, filters, role, warmed)
    project = project_get(user=user, project_id=project_id)
    platforms = [filters.platform] if filters.platform else project_platforms(project)
    cursors = cursors_read(filters.cursor, scope=f"queue:{project_id}")
    calls = {
        "accounts": lambda: accounts_get(project_id),
        "campaigns": lambda: campaigns_get(project_id),
        "whoami": whoami_get,
    }
    for platform in platforms:
        if filters.cursor and platform not in cursors:
            continue  # this platform's list is exhausted
        calls[f"list:{platform}"] = _list_reader(
            project_id, platform, filters, cursors.get(platform)
        )
    results = fan_out(calls)

    errors = [r for r in results.values() if isinstance(r, LayersError)]
    campaigns = _ok(results["campaigns"], [])
    locale = money_locale(project.primary_language)
    actions, next_cursors = [], {}
    for platform in platforms:
        page = results.get(f"list:{platform}")
        if page is None or isinstance(page, LayersError):
            continue
        for action in page.items:
            if filters.campaign and campaign_of(action) != filters.campaign:
                continue
            actions.append(action)
        if page.next_cursor:
            next_cursors[platform] = page.next_cursor
    context = RowContext(
        accounts=_ok(results["accounts"], []),
        campaigns=campaigns,
        locale=locale,
        authorities=row_authorities(project_id, actions, campaigns),
        project_id=project_id,
    )
    rows = [context.row(action) for action in actions]
    from dashboard.services.pending_mirror import queue_counts  # pending: the mirror's

    counts = queue_counts(project_id, project_platforms(project))
    whoami = results["whoami"]
    return Queue(
        rows=tuple(rows_sorted(rows, filters.sort)),
        filters=filters,
        platforms=tuple(project_platforms(project)),
        counts=counts,
        next_cursor=cursors_sign(next_cursors, scope=f"queue:{project_id}"),
        campaigns=tuple(sorted(campaigns, key=lambda c: c.name.lower())),
        errors=tuple(errors),
        role=role,
        key_may_decide=isinstance(whoami, LayersError) or whoami.has_scope("ads:write:pending"),
        locale=locale,
    )


def pending_stamp(*, user, project_id: str) -> str:
    """The queue's change stamp: our writes and webhooks (upstream.project_stamp) and the
    mirror's last refresh or change of the project's lists. Read it before the queue."""
    from dashboard.services.pending_mirror_state import queue_stamp

    access.access_require(user=user, project_id=project_id)
    return queue_stamp(project_id)


def pending_new_count(*, user, project_id: str, filters: QueueFilters, since) -> int:
    """How many actions matching the filters were proposed after `since`. Reads the same
    shared cached first pages as the queue, so polling costs no extra upstream calls."""
    access.access_require(user=user, project_id=project_id)
    if filters.status == "pending":
        from dashboard.services.pending_mirror import queue_new_count

        return queue_new_count(project_id, filters, since)
    project = project_get(user=user, project_id=project_id)
    platforms = [filters.platform] if filters.platform else project_platforms(project)
    results = fan_out({p: _list_reader(project_id, p, filters, None) for p in platforms})
    return sum(
        1
        for page in results.values()
        if not isinstance(page, LayersError)
        for action in page.items
        if action.created_at
        and action.created_at > since
        and (not filters.campaign or campaign_of(action) == filters.campaign)
    )


def pending_counts(*, user, project_id: str) -> dict:
    """platform -> pending actions, from the mirror (None for a list never synced)."""
    from dashboard.services.pending_mirror import queue_counts
    from dashboard.services.pending_mirror_state import queue_state_read

    access.access_require(user=user, project_id=project_id)
    state = queue_state_read(project_id)
    return queue_counts(project_id, state.platforms, synced=state.synced)


def pending_matching(*, project_id: str, filters: QueueFilters, limit: int) -> list:
    """Every action matching the filters, across pages (for "select all N matching"):
    pending ones from the mirror (remembered, so each bulk item is named and decided
    without a list read), others from Layers."""
    if filters.status == "pending":
        from dashboard.services.pending_mirror import queue_matching_actions, queue_warm

        queue_warm(project_id)  # a project never synced: its one targeted refresh first
        found = queue_matching_actions(project_id, filters, limit)
        _remember_many(project_id, found)
        return found
    project = layers().project_get(project_id=project_id)
    platforms = [filters.platform] if filters.platform else project_platforms(project)
    client = layers()
    found = []
    for platform in platforms:
        for action in client.iter_pages(
            client.pending_list,
            project_id=project_id,
            platform=platform,
            statuses=[filters.status],
            action_type=filters.action_type or None,
            limit=100,
            max_pages=limit // 100 + 1,
        ):
            if filters.campaign and campaign_of(action) != filters.campaign:
                continue
            found.append(action)
            if len(found) >= limit:
                break
        if len(found) >= limit:
            break
    _remember_many(project_id, found)  # one cache write for up to 2,000, not one each
    return found


MISS_SECONDS = 60  # an id Layers does not list is not looked for again for a minute
FIND_LIMIT = 200


def pending_find(project_id: str, platform: str, pending_id: str, statuses=STATUSES):
    """Looks the action up upstream (there is no single-action GET) with one list read: the
    newest 200 actions in any of the statuses it can be in. An id not among them is
    remembered as missing for MISS_SECONDS, so a made-up id costs one read a minute however
    often it is posted (issue 14, finding 4), never a scan through every page."""
    miss_key = f"pending:miss:{project_id}:{platform}:{pending_id}"
    if cache.get(miss_key):
        return None
    client = layers()
    wanted = list(dict.fromkeys(s for s in statuses if s)) or ["pending"]
    page = client.pending_list(
        project_id=project_id, platform=platform, statuses=wanted, limit=FIND_LIMIT
    )
    for action in page.items:
        if action.pending_id == pending_id:
            pending_remember(project_id, action)
            return action
    cache.set(miss_key, True, timeout=MISS_SECONDS)
    return None


# --- the actions this dashboard remembers ------------------------------------------------------


def _record_key(project_id: str, pending_id) -> str:
    return f"pending:record:{project_id}:{pending_id}"


def pending_recall(project_id: str, pending_id: str):
    """The last version of an action this dashboard saw, if it still remembers it: the
    copy remembered in the cache, else the mirror's (the queue's pending rows come from
    it, so deciding one never needs a list read to find it)."""
    found = cache.get(_record_key(project_id, pending_id))
    if found is None and pending_id:
        from dashboard.models import MirrorAction
        from dashboard.services.inbox_actions import mirror_pending_action

        mirrored = MirrorAction.objects.filter(
            project_id=project_id, pk=pending_id, status__in=STATUSES
        ).first()  # a status this dashboard does not know: Layers is asked, as before
        if mirrored is not None:
            found = mirror_pending_action(mirrored)
            pending_remember(project_id, found)
    return found


def pending_remember(project_id: str, action) -> None:
    cache.set(_record_key(project_id, action.pending_id), action, timeout=RECORD_SECONDS)


def pending_remember_many(project_id: str, actions) -> None:
    """Many actions remembered in one cache write (the inbox hands over mirrored copies)."""
    _remember_many(project_id, actions)


def _remember_many(project_id, actions):
    cache.set_many(
        {_record_key(project_id, a.pending_id): a for a in actions}, timeout=RECORD_SECONDS
    )


# --- reading -----------------------------------------------------------------------------------


def _ok(value, default):
    return default if isinstance(value, LayersError) else value


def _list_reader(project_id, platform, filters, cursor):
    name = f"pending:{platform}:{filters.status}:{filters.action_type}:{cursor or ''}"

    def fetch():
        page = layers().pending_list(
            project_id=project_id,
            platform=platform,
            statuses=[filters.status],
            action_type=filters.action_type or None,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        _remember_many(project_id, page.items)  # once per fetch, not on every page view
        return page

    return lambda: cached_read(project_id, name, fetch)
