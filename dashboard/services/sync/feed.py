"""The change feed: the organisation-wide audit log read with `since` (one read covers
every customer). Its `ads.write.queued` and `ads.pending.*` rows name the project and
platform of a list that changed; the contract tags them as inferred, so they are a hint
that makes a list dirty, never the only way a list is read (the reconciler is).

The position is the newest `occurredAt` seen (Layers' clock, never ours) with the ids
already acted on at that instant, since `since` is inclusive."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from dashboard.layers import LayersError
from dashboard.models import MirrorAction, SyncFeed, SyncState, WebhookEvent
from dashboard.services.mirror import mirror_mark_dirty
from dashboard.services.sync.budget import read_note

NAME = "audit"
PAGE_LIMIT = 200
MAX_PAGES = 3
HINTS = ("ads.write.queued", "ads.pending.")
SKEW = timedelta(seconds=2)
WEBHOOKS_FLOWING = timedelta(minutes=2)  # how far Layers' clock and ours may differ


def feed_due(now) -> bool:
    """Every SYNC_FEED_SECONDS; once a minute while webhooks are arriving (they say the same
    sooner, and the feed is then only the net under them)."""
    if not settings.SYNC_FEED:
        return False
    feed = SyncFeed.objects.filter(name=NAME).first()
    if feed is None or feed.read_at is None:
        return True
    every = settings.SYNC_FEED_SECONDS
    if WebhookEvent.objects.filter(received_at__gte=now - WEBHOOKS_FLOWING).exists():
        every = max(every, 60)
    return (now - feed.read_at).total_seconds() >= every


def feed_read(*, now, client, pages: int = MAX_PAGES) -> int:
    """Reads what the audit log holds since the position (at most `pages` reads) and marks
    the lists it names dirty. The first read only finds the position: the first sweep reads
    every list anyway. Answers how many lists were marked."""
    feed, _ = SyncFeed.objects.get_or_create(name=NAME)
    first = feed.position is None
    seen = set(feed.seen_ids or [])
    events, cursor = [], None
    for _ in range(max(1, pages)):
        try:
            page = client.audit_log_list(since=feed.position, cursor=cursor, limit=PAGE_LIMIT)
        except LayersError as error:
            read_note(kind="feed", at=now, status=error.status)
            SyncFeed.objects.filter(pk=feed.pk).update(read_at=now, last_error=error.message)
            raise
        read_note(kind="feed", at=now)
        events.extend(page.items)
        cursor = page.next_cursor
        if first or not cursor:
            break
    marked = 0
    if not first:
        lists = {}
        for event in events:
            if event.event_id in seen or not event.project_id:
                continue
            if not (event.event_type or "").startswith(HINTS):
                continue
            if _decided_here(event):
                continue
            key = (event.project_id, event.platform or None)
            lists[key] = max(lists.get(key) or event.occurred_at, event.occurred_at)
        for (project_id, platform), occurred_at in sorted(
            lists.items(), key=lambda x: (x[0][0], x[0][1] or "")
        ):
            if _read_since(project_id, platform, occurred_at):
                continue  # a webhook got there first: the list was read after the event
            marked += mirror_mark_dirty(project_id, platform, at=now)
    newest = max((e.occurred_at for e in events if e.occurred_at), default=None)
    if newest is not None and (feed.position is None or newest >= feed.position):
        at_newest = [e.event_id for e in events if e.occurred_at == newest]
        feed.seen_ids = (at_newest + list(seen))[:500] if newest == feed.position else at_newest
        feed.position = newest
    feed.read_at, feed.last_error = now, ""
    feed.save()
    return marked


def _read_since(project_id, platform, occurred_at) -> bool:
    """The list was read after the event (by our clock, allowing SKEW for Layers')."""
    if occurred_at is None or platform is None:
        return False
    return SyncState.objects.filter(
        project_id=project_id,
        platform=platform,
        dirty_since__isnull=True,
        last_full_refresh_at__gte=occurred_at + SKEW,
    ).exists()


def _decided_here(event) -> bool:
    """An approval or rejection the mirror already shows (made here): nothing to read."""
    pending_id = event.data.get("pendingId") if isinstance(event.data, dict) else None
    if not pending_id or not event.event_type.endswith((".approved", ".rejected")):
        return False
    return MirrorAction.objects.filter(Q(pk=pending_id) & ~Q(status="pending")).exists()
