"""How fresh the mirrored pages are, and what to say when Layers is not answering: from the
sync engine's state per (project, platform) list (SyncState), never from Layers, and
"refresh now" (one targeted refresh, which the engine serves inside its budget). The
Projects page's counts and order are in services/projects_page.py."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from dashboard.models.mirror import MirrorProject, SyncState
from dashboard.services import access
from dashboard.services.mirror import sync_refresh_request
from dashboard.services.mirror_campaigns import mirror_campaigns_stale
from dashboard.services.mirror_stamp import SYNC, mirror_stamps, stamp_cached, stamp_key


def ago(when, now=None) -> str:
    """ "40 s", "3 min", "2 h", "3 days": how long ago, in a few characters."""
    seconds = max(0, int(((now or timezone.now()) - when).total_seconds()))
    if seconds < 60:
        return f"{seconds}\xa0s"
    if seconds < 3600:
        return f"{seconds // 60}\xa0min"
    if seconds < 86400:
        return f"{seconds // 3600}\xa0h"
    days = seconds // 86400
    return f"{days}\xa0day{'s' if days != 1 else ''}"


def synced_words(seconds: float | None) -> str:
    if seconds is None:
        return "not synced yet"
    if seconds < 5:
        return "synced just now"
    if seconds < 90:
        return f"synced {int(seconds)} s ago"
    if seconds < 90 * 60:
        return f"synced {round(seconds / 60)} min ago"
    if seconds < 36 * 3600:
        return f"synced {round(seconds / 3600)} h ago"
    return f"synced {round(seconds / 86400)} days ago"


@dataclass(frozen=True)
class Freshness:
    """The sync state of the lists a page shows."""

    lists: int  # how many (project, platform) lists
    never: int  # of which never synced
    oldest: datetime | None  # the stalest list's last full refresh
    newest: datetime | None
    failing: int  # lists whose last read failed (consecutive_errors > 0)
    last_error: str = ""
    last_error_at: datetime | None = None
    requested: bool = False  # a "refresh now" waits to be served

    @property
    def synced(self) -> bool:
        return self.lists > 0 and self.never < self.lists

    @property
    def sentence(self) -> str:
        if not self.synced:
            return "Not synced yet."
        seconds = (timezone.now() - (self.oldest or self.newest)).total_seconds()
        text = synced_words(seconds).capitalize() + "."
        if self.never:
            text += f" {self.never} of {self.lists} lists not synced yet."
        return text

    @property
    def down(self) -> bool:
        """Layers is not answering the sync: the last reads failed."""
        return self.failing > 0 and bool(self.last_error)

    @property
    def down_sentence(self) -> str:
        since = timezone.localtime(self.last_error_at) if self.last_error_at else None
        when = f" since {since:%H:%M}" if since else ""
        lists = (
            "every list" if self.failing >= self.lists else f"{self.failing} of {self.lists} lists"
        )
        shown = (
            f"the last synced copy (synced {ago(self.newest)} ago)"
            if self.newest
            else "what was synced before"
        )
        return (
            f"The sync's last reads failed{when} ({lists}): {self.last_error} "
            f"You are seeing {shown}; approving or rejecting will fail until Layers is back."
        )


# A list's sync state as the pages read it: these columns of SyncState, in this order.
LIST_FIELDS = (
    "platform",
    "last_full_refresh_at",
    "last_change_seen_at",
    "consecutive_errors",
    "requested_at",
    "last_error",
    "last_error_at",
)


@dataclass(frozen=True)
class ListState:
    platform: str
    last_full_refresh_at: datetime | None
    last_change_seen_at: datetime | None
    consecutive_errors: int
    requested_at: datetime | None
    last_error: str
    last_error_at: datetime | None


def lists_read(states) -> tuple[ListState, ...]:
    """The lists of a SyncState queryset, as ListStates (one query)."""
    return tuple(ListState(*row) for row in states.values_list(*LIST_FIELDS))


def freshness_of(lists) -> Freshness:
    """The freshness of these lists (ListStates)."""
    refreshed = [s.last_full_refresh_at for s in lists if s.last_full_refresh_at]
    failing = [s for s in lists if s.consecutive_errors > 0]
    # the latest failure (one never stamped counts as the oldest)
    error = max(
        failing,
        key=lambda s: (s.last_error_at is not None, s.last_error_at or 0),
        default=None,
    )
    return Freshness(
        lists=len(lists),
        never=len(lists) - len(refreshed),
        oldest=min(refreshed, default=None),
        newest=max(refreshed, default=None),
        failing=len(failing),
        last_error=(error.last_error if error else "")[:300],
        last_error_at=error.last_error_at if error else None,
        requested=any(s.requested_at is not None for s in lists),
    )


def freshness_get(*, project_ids=None) -> Freshness:
    """The freshness of the given projects' lists (None: every project)."""
    states = SyncState.objects.all()
    if project_ids is not None:
        states = states.filter(project_id__in=list(project_ids))
    return freshness_of(lists_read(states))


def freshness_for(*, user, customer: str = "") -> Freshness:
    """The freshness of what this person's inbox shows (one customer, or all of theirs),
    shared by everyone with the same projects until a list's sync state changes."""
    stamp = mirror_stamps().get(SYNC)  # first: a write after it makes a new key
    if customer:
        access.access_require(user=user, project_id=customer)
        project_ids = {customer}
    else:
        project_ids = access.project_ids_visible(user=user)
    shown = None if project_ids is None else sorted(project_ids)
    key = stamp_key(stamp, "freshness", shown)
    return stamp_cached(key, lambda: freshness_get(project_ids=shown))


def refresh_now(*, user, customer: str = "") -> str:
    """One targeted refresh: the customer's lists (and its campaigns and their authority,
    which the queue's rows show: read after the lists at the sweep's pace), or else the
    stalest project this person may see. Returns the project asked for ("" when there is
    nothing to refresh)."""
    if customer:
        access.access_require(user=user, project_id=customer)
        sync_refresh_request(customer)
        mirror_campaigns_stale(customer, authority=True)
        return customer
    visible = access.project_ids_visible(user=user)
    states = SyncState.objects.all()
    if visible is not None:
        states = states.filter(project_id__in=list(visible))
    stalest = (
        states.order_by("last_full_refresh_at", "project_id")
        .values_list("project_id", flat=True)
        .first()
    )
    if stalest is None:
        projects = MirrorProject.objects.all()
        if visible is not None:
            projects = projects.filter(project_id__in=list(visible))
        stalest = projects.values_list("project_id", flat=True).first()
    if stalest:
        sync_refresh_request(stalest)
    return stalest or ""
