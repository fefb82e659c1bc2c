"""One tick of the sync engine. A Django Task runs it every SYNC_TICK_SECONDS in the worker
(dashboard/tasks.py: each tick queues the next); tests call `sync_tick(now=...)` directly.

A tick, when this worker holds the lease (lease.py) and the engine is not backing off:
1. discovery: the key's projects (every SYNC_DISCOVERY_SECONDS);
2. lists a person asked to refresh, then dirty lists (a webhook, the feed, a 409), oldest
   change first: these may use the whole share;
3. the audit feed (every SYNC_FEED_SECONDS), which marks lists dirty for the next tick;
4. lists never read (a new project's: every platform is assumed until its layers are
   read; a list it does not have answers 404 and goes), then projects whose layers and
   currencies are unknown or a day old (two reads each), then the campaigns the queue's
   rows need (services/mirror_campaigns.py: a project's campaign list, one read a page;
   each named campaign's authority, one read each), at the sweep's pace;
5. the reconciler: the lists read longest ago, paced by a token bucket at the sweep's
   rate (the share less the feed, a reserve, and the change-driven reads of the last
   minute) and never into the reserve, so every list is read at least every T minutes.
Every read is in the ledger before the next is allowed (budget.py). A 429 or 5xx backs
the whole engine off and ends the tick; a refusal of one list (404, 403) backs that list
off alone. All state is in the database, so a restart (or another worker) carries on."""

import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from dashboard.layers import LayersError
from dashboard.models import MirrorProject, SyncFeed, SyncState
from dashboard.services.mirror import (
    mirror_details_due,
    mirror_project_detail,
    mirror_projects_refresh,
    mirror_refresh,
)
from dashboard.services.mirror_campaigns import (
    mirror_authority_due,
    mirror_authority_refresh,
    mirror_campaigns_due,
    mirror_campaigns_refresh,
    mirror_whoami,
)
from dashboard.services.sync import budget
from dashboard.services.sync.feed import feed_due, feed_read
from dashboard.services.sync.lease import lease_acquire, owner_name

log = logging.getLogger("dashboard.sync")
LIST_BACKOFF_CAP = 3600  # seconds a list that keeps failing waits at most
DISCOVERY = "projects"


@dataclass
class Tick:
    """What one tick did."""

    ran: bool = False
    skipped: str = ""  # why it did nothing: disabled | not the owner | backing off | budget
    reads: int = 0
    refreshed: list = field(default_factory=list)  # (project_id, platform, why)
    marked: int = 0  # lists the feed marked dirty
    errors: list = field(default_factory=list)  # sentences


class _Stop(Exception):
    """The engine must stop reading for now (backing off, or out of budget)."""


def sync_tick(*, now=None, owner: str | None = None, client=None) -> Tick:
    now = now or timezone.now()
    owner = owner or owner_name()
    tick = Tick()
    if not settings.SYNC_ENABLED:
        tick.skipped = "disabled"
        return tick
    if not lease_acquire(owner, now):
        tick.skipped = "not the owner"
        return tick
    if budget.backoff_until(now) is not None:
        tick.skipped = "backing off"
        return tick
    if budget.reads_left(now) <= 0:
        tick.skipped = "budget"
        return tick
    tick.ran = True
    client = client or budget.sync_client()
    try:
        _discover(tick, now, client)
        _changed(tick, now, client)
        if feed_due(now) and _room(now, 1):
            tick.marked += _guarded(tick, now, lambda: feed_read(now=now, client=client))
            _changed(tick, now, client)  # what the feed named, at once
        _reconcile(tick, now, client, new=True)  # lists never read: the rows come first
        _details(tick, now, client)  # then layers and currencies
        _campaigns(tick, now, client)  # then the queue rows' campaigns and authority
        _reconcile(tick, now, client)
    except _Stop:
        pass
    budget.ledger_trim(now)
    return tick


def _room(now, reads: int, *, reserve: int = 0) -> bool:
    return budget.reads_left(now) - reserve >= reads


def _guarded(tick, now, read, *, state=None):
    """Runs one read; a failure backs the engine (or the list) off and is reported."""
    before = budget.reads_last_minute(now)
    try:
        result = read()
    except LayersError as error:
        tick.reads += budget.reads_last_minute(now) - before
        tick.errors.append(error.message)
        if budget.backoff_note(error, now):
            log.warning("sync backs off: %s", error.message)
            if state is not None:  # not the list's fault: it goes first after the back-off
                SyncState.objects.filter(pk=state.pk).update(next_due_at=None)
            raise _Stop from error
        if state is not None:
            wait = min(LIST_BACKOFF_CAP, 60 * 2 ** max(0, state.consecutive_errors))
            SyncState.objects.filter(pk=state.pk).update(next_due_at=now + timedelta(seconds=wait))
        return 0
    tick.reads += budget.reads_last_minute(now) - before
    budget.backoff_clear()
    return result


def _discover(tick, now, client) -> None:
    row = SyncFeed.objects.filter(name=DISCOVERY).first()
    due = (
        row is None
        or row.read_at is None
        or (now - row.read_at).total_seconds() >= settings.SYNC_DISCOVERY_SECONDS
        or not MirrorProject.objects.exists()
    )
    if not due or not _room(now, 1):
        return
    SyncFeed.objects.update_or_create(name=DISCOVERY, defaults={"read_at": now})
    _guarded(tick, now, lambda: mirror_projects_refresh(now=now, client=client, details=False))
    if _room(now, 1):  # the key's scopes (the queue's "may not decide" banner)
        _guarded(tick, now, lambda: mirror_whoami(now=now, client=client))


def _pages(state) -> int:
    """Reads a list is expected to take (a page holds 200)."""
    return max(1, math.ceil((state.pending_count or 0) / 200))


def _refresh(tick, now, client, state, why: str) -> None:
    kind = "sweep" if why == "sweep" else "change"

    def read():
        count = mirror_refresh(state.project_id, state.platform, now=now, client=client, kind=kind)
        SyncState.objects.filter(pk=state.pk).update(
            next_due_at=now + timedelta(seconds=settings.SYNC_RECONCILE_MIN_SECONDS)
        )
        tick.refreshed.append((state.project_id, state.platform, why))
        return count

    _guarded(tick, now, read, state=state)


def _changed(tick, now, client) -> None:
    """Requested lists first, then dirty ones, oldest change first."""
    waiting = (
        SyncState.objects.filter(Q(requested_at__isnull=False) | Q(dirty_since__isnull=False))
        .filter(Q(consecutive_errors=0) | Q(next_due_at__isnull=True) | Q(next_due_at__lte=now))
        .order_by(F("requested_at").asc(nulls_last=True), "dirty_since", "id")
    )
    for state in waiting[:200]:
        if not _room(now, _pages(state)):
            raise _Stop
        _refresh(tick, now, client, state, "requested" if state.requested_at else "changed")


def _details(tick, now, client) -> None:
    for project_id in mirror_details_due(now)[:20]:
        if not _room(now, 2, reserve=budget.reserve_per_minute()):
            return
        if not budget.sweep_take(now, 2):  # the sweep's pace: details are part of it
            return
        _guarded(tick, now, lambda p=project_id: mirror_project_detail(p, now=now, client=client))


def _campaigns(tick, now, client) -> None:
    """Campaign lists, then the authority the pending rows need, at the sweep's pace and
    never into the reserve (a few a tick; the rest wait for the next)."""
    reserve = budget.reserve_per_minute()
    if not _room(now, 1, reserve=reserve):
        return  # no read to spare: not even the queries that say what is due
    for project_id in mirror_campaigns_due(now)[:5]:
        if not _room(now, 1, reserve=reserve) or not budget.sweep_take(now, 1):
            return
        _guarded(
            tick, now, lambda p=project_id: mirror_campaigns_refresh(p, now=now, client=client)
        )
    for item in mirror_authority_due(now)[:20]:
        if not _room(now, 1, reserve=reserve) or not budget.sweep_take(now, 1):
            return
        _guarded(tick, now, lambda i=item: mirror_authority_refresh(i, now=now, client=client))


def _reconcile(tick, now, client, *, new: bool = False) -> None:
    """The sweep: the lists read longest ago (with `new`, those never read), at the sweep's
    pace (its token bucket) and never into the reserve kept for changes."""
    due = (
        SyncState.objects.filter(Q(next_due_at__isnull=True) | Q(next_due_at__lte=now))
        .filter(dirty_since__isnull=True, requested_at__isnull=True)
        .order_by(F("last_full_refresh_at").asc(nulls_first=True), "id")
    )
    if new:
        due = due.filter(last_full_refresh_at__isnull=True)
    for state in due[: math.ceil(budget.sweep_per_minute())]:
        pages = _pages(state)
        if not _room(now, pages, reserve=budget.reserve_per_minute()):
            return
        if not budget.sweep_take(now, pages):
            return
        _refresh(tick, now, client, state, "sweep")


def sync_tick_schedule(*, after=None, using: str = "default") -> bool:
    """Queues the next tick unless one is already waiting: SYNC_TICK_SECONDS after `after`
    (the last tick's start; now by default). Only the database task queue can hold a run
    for later."""
    from django.db import connections
    from django.tasks import TaskResultStatus, task_backends

    from dashboard.tasks import sync_tick_run

    if not settings.SYNC_ENABLED:
        return False
    if not type(task_backends["default"]).__module__.startswith("django_tasks_db"):
        return False
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult._meta.db_table not in connections[using].introspection.table_names():
        return False
    waiting = DBTaskResult.objects.using(using).filter(
        task_path=sync_tick_run.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return False
    # A tick every few seconds leaves a result row each: keep ten minutes of them.
    DBTaskResult.objects.using(using).filter(
        queue_name="sync",
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=timezone.now() - timedelta(minutes=10),
    ).delete()
    run_after = (after or timezone.now()) + timedelta(seconds=settings.SYNC_TICK_SECONDS)
    sync_tick_run.using(run_after=run_after).enqueue()
    return True
