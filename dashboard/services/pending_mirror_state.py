"""What one view of the project queue knows of the project's mirror, read once: the project
row (its name, platforms, currencies, layer defaults, when its details and campaigns were
read) and the sync state of its lists. The first-view check (pending_mirror.queue_warm),
the change stamp, the platforms, which lists were synced (the counts) and the freshness
line all come from these two reads, instead of a read (or an aggregate) each.
queue_view_read draws the queue's pending view with them."""

from dataclasses import dataclass

from dashboard.layers import PLATFORMS
from dashboard.models import MirrorCampaign, MirrorProject, SyncState
from dashboard.services import access
from dashboard.services.inbox_sync import Freshness
from dashboard.services.upstream import project_stamp

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
    last_full_refresh_at: object
    last_change_seen_at: object
    consecutive_errors: int
    requested_at: object
    last_error: str
    last_error_at: object


@dataclass(frozen=True)
class QueueMirrorState:
    project_id: str
    project: MirrorProject | None
    lists: tuple[ListState, ...]

    @property
    def cold(self) -> bool:
        """Part of the project was never read: its details, a list, or its campaigns (asked
        to be read again is not "never": those wait for the engine)."""
        project = self.project
        if project is None or project.details_read_at is None:
            return True
        if project.campaigns_read_at is None and not _has_campaigns(self.project_id):
            return True
        return not self.lists or any(s.last_full_refresh_at is None for s in self.lists)

    @property
    def mark(self) -> str:
        """As pending_mirror.queue_mirror_mark: the lists' last refresh and last change."""
        refreshed = _latest(s.last_full_refresh_at for s in self.lists)
        changed = _latest(s.last_change_seen_at for s in self.lists)
        return "".join(f"{int(m.timestamp() * 1000):x}" if m else "0" for m in (refreshed, changed))

    @property
    def platforms(self) -> list[str]:
        """As pending_mirror.queue_platforms: its layers as last read, else its lists."""
        layers = set((self.project.platforms if self.project else None) or ())
        found = [p for p in PLATFORMS if p in layers]
        if found:
            return found
        lists = {s.platform for s in self.lists}
        return [p for p in PLATFORMS if p in lists] or list(PLATFORMS)

    @property
    def synced(self) -> set[str]:
        """The platforms whose list was read in full at least once."""
        return {s.platform for s in self.lists if s.last_full_refresh_at is not None}

    @property
    def freshness(self) -> Freshness:
        """As inbox_sync.freshness_get(project_ids=[the project])."""
        refreshed = [s.last_full_refresh_at for s in self.lists if s.last_full_refresh_at]
        failing = [s for s in self.lists if s.consecutive_errors > 0]
        # the latest failure first (one never stamped last), as ORDER BY -last_error_at
        error = max(
            failing,
            key=lambda s: (s.last_error_at is not None, s.last_error_at or 0),
            default=None,
        )
        return Freshness(
            lists=len(self.lists),
            never=len(self.lists) - len(refreshed),
            oldest=min(refreshed, default=None),
            newest=max(refreshed, default=None),
            failing=len(failing),
            last_error=(error.last_error if error else "")[:300],
            last_error_at=error.last_error_at if error else None,
            requested=any(s.requested_at is not None for s in self.lists),
        )


def queue_state_read(project_id: str) -> QueueMirrorState:
    """The project's mirror row and its lists' sync state: two queries."""
    project = next(iter(MirrorProject.objects.filter(pk=project_id)), None)
    lists = tuple(
        ListState(*row)
        for row in SyncState.objects.filter(project_id=project_id).values_list(*LIST_FIELDS)
    )
    return QueueMirrorState(project_id=project_id, project=project, lists=lists)


@dataclass(frozen=True)
class QueueView:
    queue: object  # pending.Queue
    stamp: str  # as pending.pending_stamp: read before the queue
    project: object  # pending_mirror.MirrorProjectView


def queue_view_read(*, user, project_id: str, filters) -> QueueView:
    """The queue's pending view as the page draws it (pending_warm, pending_stamp,
    pending_queue and pending_project in turn), reading the project's mirror once (twice
    on the first view of a project never synced: again after its targeted refresh)."""
    from dashboard.services.pending_mirror import MirrorProjectView, queue_mirrored, queue_warm

    role = access.access_require(user=user, project_id=project_id)
    state = queue_state_read(project_id)
    error = None
    if state.cold:
        error = queue_warm(project_id, cold=True)
        state = queue_state_read(project_id)
    stamp = f"{project_stamp(project_id)}.{state.mark}"
    return QueueView(
        queue=queue_mirrored(project_id, filters, role, error, state=state),
        stamp=stamp,
        project=MirrorProjectView(state.project, project_id),
    )


def _has_campaigns(project_id: str) -> bool:
    return MirrorCampaign.objects.filter(project_id=project_id).exists()


def _latest(values):
    return max((v for v in values if v is not None), default=None)
