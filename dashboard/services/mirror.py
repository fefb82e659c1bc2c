"""The mirror: this dashboard's own copy of every customer's pending actions (the tables in
dashboard/models/mirror.py), written by the sync engine (services/sync/) and by decisions
made here, read by the pages without ever waiting for Layers.

`mirror_refresh` reads one list (a project's pending actions on one platform, every page)
and makes the mirror match it; `mirror_projects_refresh` discovers the projects the key
sees; `mirror_action_decided` applies a decision made here at once; `mirror_mark_dirty`
says a list changed upstream (a webhook, the audit feed); `sync_refresh_request` is a
person's "refresh now" (how fresh the copy is: inbox_sync.freshness_get)."""

from dataclasses import replace
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, F, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from dashboard.layers import PLATFORMS, LayersError, NotFound, PendingAction, RateLimited
from dashboard.models import MirrorAction, MirrorProject, SyncState
from dashboard.money import stake_major
from dashboard.services.mirror_currency import currency_reader, mirror_currencies_apply
from dashboard.services.mirror_stamp import ROWS, SYNC, mirror_stamp_bump
from dashboard.services.pending_rows import campaign_of
from dashboard.services.projects import project_platforms
from dashboard.services.sync.budget import read_note, sync_client

PAGE_LIMIT = 200  # the largest page Layers serves
MAX_PAGES = 50
MAX_PROJECT_PAGES = 50
DETAILS_MAX_AGE = timedelta(hours=24)  # layers and currencies change rarely
UPDATED = (
    "project",
    "platform",
    "action_type",
    "entity_type",
    "entity_id",
    "entity_name",
    "campaign_id",
    "status",
    "current_value",
    "new_value",
    "rationale",
    "detail",
    "axis",
    "spend_change_minor",
    "spend_stake_major",
    "currency",
    "created_at",
    "expires_at",
    "record",
    "synced_at",
)
LISTED = ("name", "primary_language", "customer_external_id", "timezone", "seen_at")


def mirror_pages(fetch, *, note: dict, now, max_pages=MAX_PAGES, **kwargs):
    """Every item of every page (and whether the chain ended); each page is one read in the
    engine's ledger, described by `note` (kind, project_id, platform)."""
    cursor, seen, items, complete = None, set(), [], False
    for _ in range(max_pages):
        try:
            page = fetch(cursor=cursor, **kwargs)
        except LayersError as error:
            read_note(**note, at=now, status=error.status)
            raise
        read_note(**note, at=now)
        items.extend(page.items)
        cursor = page.next_cursor
        if not cursor or cursor in seen:
            complete = True
            break
        seen.add(cursor)
    return items, complete


def mirror_refresh(
    project_id: str, platform: str, *, now=None, client=None, kind: str = "list"
) -> int:
    """One read of the list (every page): upserts what is pending, deletes what no longer
    is, and records the list's state. Answers how many are pending; a LayersError is
    recorded on the list's state and raised. `kind` labels its reads in the engine's
    ledger (change, sweep; "list" outside the engine)."""
    now = now or timezone.now()
    started = timezone.now()
    client = client or sync_client()
    project, _ = MirrorProject.objects.get_or_create(project_id=project_id)
    state, _ = SyncState.objects.get_or_create(project=project, platform=platform)
    try:
        actions, complete = mirror_pages(
            client.pending_list,
            note={"kind": kind, "project_id": project_id, "platform": platform},
            now=now,
            project_id=project_id,
            platform=platform,
            statuses=["pending"],
            limit=PAGE_LIMIT,
        )
    except LayersError as error:
        if isinstance(error, NotFound) and project.details_read_at is None:
            # Its layers are not known yet, so every platform was assumed: this project has
            # no such list. It goes (its project's details say which lists there are).
            state.delete()
            mirror_stamp_bump(SYNC)
            return 0
        SyncState.objects.filter(pk=state.pk).update(
            last_error=error.message[:1000],
            last_error_at=now,
            consecutive_errors=state.consecutive_errors + 1,
        )
        mirror_stamp_bump(SYNC)
        raise
    currency_of = currency_reader(project, platform)
    with transaction.atomic():
        # A decision made here while the list was being read is newer than the list.
        mirrored = MirrorAction.objects.filter(project=project, platform=platform)
        fields = ("status", "record", "currency", "synced_at")
        before = {row[0]: row[1:] for row in mirrored.values_list("pending_id", *fields)}
        decided_meanwhile = {
            pid
            for pid, (status, _, _, at) in before.items()
            if status != "pending" and at is not None and at >= started
        }
        # An action new to the mirror is "first seen" now, as it is stored (not when the
        # read began: the live poll counts arrivals after a page opened by it, and `now` may
        # be older than a page opened while the list was read). A refresh keeps the old time
        # (first_seen_at is not in UPDATED).
        seen = timezone.now()
        rows = [
            _row(project, action, currency_of(campaign_of(action)), now, seen)
            for action in actions
            if action.pending_id not in decided_meanwhile
        ]
        # What a page shows changes only when an item, its status or its currency does.
        changed = any(
            before.get(r.pending_id, ())[:3] != (r.status, r.record, r.currency) for r in rows
        )
        MirrorAction.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["pending_id"],
            update_fields=UPDATED,
        )
        if complete:
            keep = {a.pending_id for a in actions} | decided_meanwhile
            changed = changed or bool(set(before) - keep)
            (
                MirrorAction.objects.filter(project=project, platform=platform)
                .exclude(pending_id__in=keep)
                .delete()
            )
        SyncState.objects.filter(pk=state.pk).update(
            last_full_refresh_at=now,
            last_error="",
            consecutive_errors=0,
            pending_count=len(actions),
            requested_at=None,
            # A change noted while the list was being read needs another read.
            dirty_since=Case(When(dirty_since__lte=started, then=None), default="dirty_since"),
        )
        mirror_stamp_bump(*((ROWS, SYNC) if changed else (SYNC,)))
    return len(actions)


def _row(project, action: PendingAction, currency, now, seen) -> MirrorAction:
    change = spend_change(action)
    return MirrorAction(
        pending_id=action.pending_id,
        project=project,
        platform=action.platform or "",
        action_type=action.action_type or "",
        entity_type=action.entity_type or "",
        entity_id=action.entity_id or "",
        entity_name=action.entity_name[:300],
        campaign_id=campaign_of(action),
        status=action.status or "pending",
        current_value=action.current_value,
        new_value=action.new_value,
        rationale=action.rationale,
        detail=action.detail,
        axis=action.axis or "",
        spend_change_minor=change,
        spend_stake_major=stake_major(change, currency),
        currency=currency,
        created_at=action.created_at,
        expires_at=action.expires_at,
        record=action.raw,
        synced_at=now,
        first_seen_at=seen,  # used on insert only
    )


def spend_change(action) -> int | None:
    """Proposed minus current daily budget (minor units a day); None when the action does
    not change a daily budget. A new campaign's budget counts in full."""
    new = (action.new_value or {}).get("dailyBudgetCents")
    if not isinstance(new, int) or isinstance(new, bool):
        return None
    current = (action.current_value or {}).get("dailyBudgetCents")
    if current is None:
        current = 0
    if not isinstance(current, int) or isinstance(current, bool):
        return None
    return new - current


def mirror_action(row: MirrorAction) -> PendingAction:
    """A mirrored row as the PendingAction the queue draws (from the raw item it keeps,
    with the status a decision made here gave it)."""
    action = PendingAction.from_wire({**row.record, "pendingId": row.pending_id})
    return action if action.status == row.status else replace(action, status=row.status)


def mirror_projects_refresh(*, now=None, client=None, details: bool = True) -> int:
    """Discovers every project the key sees (GET /v1/projects, all pages): upserts their
    names and locales (a new project gets a sync state on every platform until its layers
    are read), and forgets projects the key no longer sees. With `details`, each
    project whose details are unknown or a day old is read too (mirror_project_detail);
    the sync engine leaves that to its budgeted ticks. Answers how many projects there are."""
    now = now or timezone.now()
    client = client or sync_client()
    projects, complete = mirror_pages(
        client.projects_list,
        note={"kind": "projects"},
        now=now,
        max_pages=MAX_PROJECT_PAGES,
        limit=PAGE_LIMIT,
    )
    latest = {project.id: project for project in projects}  # a repeat: its last listing
    with transaction.atomic():
        read = dict(
            MirrorProject.objects.select_for_update()
            .filter(project_id__in=list(latest))
            .values_list("project_id", "details_read_at")
        )
        undetailed = [pid for pid in latest if not read.get(pid)]  # new, or layers unread
        # What the list says of the layers is kept, for the pages, until the project's own
        # read (which decides the lists) replaces it.
        listed = {pid for pid in undetailed if latest[pid].layers}
        for group, fields in ((listed, (*LISTED, "platforms")), (set(latest) - listed, LISTED)):
            MirrorProject.objects.bulk_create(
                [_project_row(latest[pid], now, "platforms" in fields) for pid in sorted(group)],
                batch_size=500,
                update_conflicts=True,
                unique_fields=["project_id"],
                update_fields=fields,
            )
        # Until its layers are read, every platform is assumed, so its lists can be read
        # first (a list it does not have answers 404 and goes).
        SyncState.objects.bulk_create(
            [SyncState(project_id=pid, platform=p) for pid in undetailed for p in PLATFORMS],
            batch_size=500,
            ignore_conflicts=True,
        )
        if complete:
            MirrorProject.objects.exclude(project_id__in=[p.id for p in projects]).delete()
        mirror_stamp_bump(ROWS, SYNC)
    if details:
        for project_id in mirror_details_due(now):
            mirror_project_detail(project_id, now=now, client=client)
    return len(projects)


def _project_row(project, now, with_platforms: bool) -> MirrorProject:
    return MirrorProject(
        project_id=project.id,
        name=project.name[:300],
        primary_language=(project.primary_language or "")[:35],
        customer_external_id=(project.customer_external_id or "")[:200],
        timezone=(project.timezone or "")[:64],
        seen_at=now,
        platforms=project_platforms(project) if with_platforms else [],
    )


def mirror_details_due(now):
    """Projects whose layers and currencies are unknown or a day old, the unknown first."""
    return list(
        MirrorProject.objects.filter(
            Q(details_read_at__isnull=True) | Q(details_read_at__lt=now - DETAILS_MAX_AGE)
        )
        .order_by(F("details_read_at").asc(nulls_first=True), "project_id")
        .values_list("project_id", flat=True)
    )


def mirror_project_detail(project_id: str, *, now=None, client=None) -> list[str]:
    """Two reads: the project (its layers say which platforms it has, one sync state
    each) and its ad accounts (a platform's currency, when all its accounts share one).
    Answers the project's platforms."""
    now = now or timezone.now()
    client = client or sync_client()
    note = {"kind": "project", "project_id": project_id}
    try:
        project = client.project_get(project_id=project_id)
    except LayersError as error:
        read_note(**note, at=now, status=error.status)
        raise
    read_note(**note, at=now)
    platforms = project_platforms(project)
    currencies = by_account = None
    try:
        accounts = client.ad_accounts_list(project_id=project_id)
    except RateLimited:
        read_note(kind="accounts", project_id=project_id, at=now, status=429)
        raise
    except LayersError as error:  # the currencies stay as they were
        read_note(kind="accounts", project_id=project_id, at=now, status=error.status)
    else:
        read_note(kind="accounts", project_id=project_id, at=now)
        found = {}
        for account in accounts:
            found.setdefault(account.platform, set()).add(account.currency)
        currencies = {p: c.pop() for p, c in found.items() if len(c) == 1 and None not in c}
        by_account = {a.ad_account_id: a.currency for a in accounts if a.currency}
    with transaction.atomic():
        mirrored, _ = MirrorProject.objects.get_or_create(project_id=project_id)
        mirrored.name = project.name[:300] or mirrored.name
        mirrored.primary_language = (project.primary_language or "")[:35]
        mirrored.platforms = platforms
        mirrored.details_read_at = now
        if currencies is not None:
            mirrored.currency_by_platform = currencies
            mirrored.currency_by_account = by_account
        mirrored.save()
        SyncState.objects.bulk_create(  # the lists it has and the mirror did not know
            [SyncState(project=mirrored, platform=p, next_due_at=now) for p in platforms],
            ignore_conflicts=True,
        )
        SyncState.objects.filter(project=mirrored).exclude(platform__in=platforms).delete()
        MirrorAction.objects.filter(project=mirrored).exclude(platform__in=platforms).delete()
        for platform in platforms:
            mirror_currencies_apply(mirrored, platform)
        mirror_stamp_bump(ROWS, SYNC)
    return platforms


def mirror_action_decided(pending_id: str, status: str | None) -> None:
    """A decision made here (or a 409 / 404 that says the action is no longer pending):
    the mirror shows it at once. `status` None means gone, status unknown: the row goes
    and its list is marked dirty so the next tick reads it again."""
    now = timezone.now()
    row = MirrorAction.objects.filter(pk=pending_id).first()
    if row is None:
        return
    if status is None or status == "pending":
        if status is None:
            row.delete()
        mirror_mark_dirty(row.project_id, row.platform, at=now)
        mirror_stamp_bump(ROWS, SYNC)
        return
    record = {**row.record, "status": status}
    MirrorAction.objects.filter(pk=pending_id).update(status=status, record=record, synced_at=now)
    SyncState.objects.filter(project_id=row.project_id, platform=row.platform).update(
        last_change_seen_at=now
    )
    mirror_stamp_bump(ROWS, SYNC)


def mirror_mark_dirty(project_id: str, platform: str | None = None, *, at=None) -> int:
    """The list changed upstream (a webhook, the audit feed): the next tick reads it again.
    A project not discovered yet gets a stub (its name comes with discovery). Answers how
    many lists were marked."""
    if not project_id:
        return 0
    at = at or timezone.now()
    platforms = [platform] if platform in PLATFORMS else []
    if not platforms:
        platforms = list(
            SyncState.objects.filter(project_id=project_id).values_list("platform", flat=True)
        ) or list(PLATFORMS)
    project, created = MirrorProject.objects.get_or_create(project_id=project_id)
    for name in platforms:
        SyncState.objects.get_or_create(project=project, platform=name)
    marked = SyncState.objects.filter(project=project, platform__in=platforms).update(
        dirty_since=Coalesce("dirty_since", at), last_change_seen_at=at
    )
    mirror_stamp_bump(*((ROWS, SYNC) if created else (SYNC,)))
    return marked


def sync_refresh_request(project_id: str, platform: str | None = None, *, now=None) -> bool:
    """A person's "refresh now": the lists are marked dirty and requested, and ONE sync
    task is queued to serve them (inside the engine's budget). A request already waiting
    is not queued again. Answers whether a task was queued."""
    now = now or timezone.now()
    mirror_mark_dirty(project_id, platform, at=now)
    lists = SyncState.objects.filter(project_id=project_id)
    if platform:
        lists = lists.filter(platform=platform)
    if not lists.filter(requested_at__isnull=True).update(requested_at=now):
        return False  # every one of them is already requested
    mirror_stamp_bump(SYNC)
    from dashboard.tasks import sync_request_run

    transaction.on_commit(lambda: sync_request_run.enqueue(), robust=True)
    return True
