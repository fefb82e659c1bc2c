"""What one view of the project queue knows of the project's mirror, read once: the project
row (its name, platforms, currencies, layer defaults, when its details and campaigns were
read) and the sync state of its lists. The first-view check (pending_mirror.queue_warm),
the change stamp (queue_stamp), the platforms, which lists were synced (the counts) and the
freshness line all come from these two reads, instead of a read (or an aggregate) each.
queue_view_read draws the queue's page with them."""

from dataclasses import dataclass

from dashboard.layers import PLATFORMS
from dashboard.models import MirrorCampaign, MirrorProject, SyncState
from dashboard.services import access
from dashboard.services.inbox_sync import Freshness, ListState, freshness_of, lists_read
from dashboard.services.upstream import project_stamp


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
    def platforms(self) -> list[str]:
        """The project's platforms: its layers as last read, else the lists it has."""
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
        return freshness_of(self.lists)


def queue_state_read(project_id: str) -> QueueMirrorState:
    """The project's mirror row and its lists' sync state: two queries."""
    project = next(iter(MirrorProject.objects.filter(pk=project_id)), None)
    lists = lists_read(SyncState.objects.filter(project_id=project_id))
    return QueueMirrorState(project_id=project_id, project=project, lists=lists)


def queue_stamp(project_id: str, lists=None) -> str:
    """The queue's change stamp: our writes and webhooks (upstream.project_stamp) and the
    mirror's last refresh or change of the project's lists (`lists`: when the caller read
    them; else one query, as the queue's poll asks every few seconds). Read before the rows."""
    if lists is None:
        lists = lists_read(SyncState.objects.filter(project_id=project_id))
    refreshed = _latest(s.last_full_refresh_at for s in lists)
    changed = _latest(s.last_change_seen_at for s in lists)
    mark = "".join(f"{int(m.timestamp() * 1000):x}" if m else "0" for m in (refreshed, changed))
    return f"{project_stamp(project_id)}.{mark}"


@dataclass(frozen=True)
class QueueView:
    queue: object  # pending.Queue
    stamp: str  # as pending.pending_stamp: read before the queue
    project: object  # pending_mirror.MirrorProjectView, or the project as Layers has it


def queue_view_read(*, user, project_id: str, filters) -> QueueView:
    """The queue's page: its rows, its change stamp (read before them) and its project.
    Pending actions come from the mirror, read once for all three (twice on the first view
    of a project never synced: again after its targeted refresh); decided ones from Layers."""
    from dashboard.services import pending
    from dashboard.services.pending_mirror import MirrorProjectView, queue_mirrored, queue_warm
    from dashboard.services.projects import project_get

    if filters.status != "pending":
        stamp = pending.pending_stamp(user=user, project_id=project_id)
        queue = pending.pending_queue(user=user, project_id=project_id, filters=filters)
        return QueueView(queue, stamp, project_get(user=user, project_id=project_id))
    role = access.access_require(user=user, project_id=project_id)
    state = queue_state_read(project_id)
    error = None
    if state.cold:
        error = queue_warm(project_id, cold=True)
        state = queue_state_read(project_id)
    stamp = queue_stamp(project_id, state.lists)
    return QueueView(
        queue=queue_mirrored(project_id, filters, role, error, state=state),
        stamp=stamp,
        project=MirrorProjectView(state.project, project_id),
    )


def _has_campaigns(project_id: str) -> bool:
    return MirrorCampaign.objects.filter(project_id=project_id).exists()


def _latest(values):
    return max((v for v in values if v is not None), default=None)
