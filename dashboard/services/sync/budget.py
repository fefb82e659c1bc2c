"""The sync engine's read budget: a share (SYNC_READ_SHARE) of the key's reads per minute,
the tier learnt from Layers' X-RateLimit-Limit (SYNC_DEFAULT_READS_PER_MINUTE until it is
known). Every upstream read the engine makes is a SyncRead row, so the ledger is in the
database: every worker and every test sees the same one, and a restart forgets nothing.

People's reads go through services/upstream.py and are not counted here: the engine counts
its own and leaves the rest. It also stands aside when the key's bucket (as any response
last reported it) is nearly empty, and backs off after a 429 (until its reset) or a 5xx."""

import math
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from dashboard.layers import LayersClient, LayersError, RateLimited, client_from_settings
from dashboard.models import SyncBudget, SyncRead
from dashboard.services.upstream import budget_get, budget_record

READ_CLASS = "read-light"
WINDOW = timedelta(seconds=60)
BACKOFF_START = 5  # seconds after the first 5xx or unreachable Layers; doubles, capped
BACKOFF_CAP = 300
SWEEP_BURST = 3  # reads the sweep may make at once, at least
RESERVE = 0.1  # stand aside when the key's bucket has less than this share left


def sync_client() -> LayersClient:
    """The engine's own client: no retries inside (a failure backs the engine off instead
    of sleeping in a tick), reporting the rate headers like every other client. A client
    lives for one tick or one first view; the tier it has confirmed is not read again in
    that time (a tick's dozen reads cost one query for it, not twelve)."""
    kept = None  # the tier (reads a minute) this client last made sure was learnt

    def on_response(rate) -> None:
        nonlocal kept
        budget_record(rate)
        if rate and rate.endpoint_class == READ_CLASS and rate.limit and rate.limit != kept:
            _tier_learn(rate.limit)
            kept = rate.limit

    return client_from_settings("sync", max_get_retries=0, on_response=on_response)


def _tier_learn(limit: int) -> None:
    """Keeps the tier Layers reported (X-RateLimit-Limit of a read): one read when it is
    the one already learnt, no write."""
    row = _row()
    if row is not None and row.limit_per_minute == limit:
        return
    if row is None:
        SyncBudget.objects.get_or_create(name=READ_CLASS)
    SyncBudget.objects.filter(name=READ_CLASS).exclude(limit_per_minute=limit).update(
        limit_per_minute=limit, learnt_at=timezone.now()
    )


def _row() -> SyncBudget | None:
    return SyncBudget.objects.filter(name=READ_CLASS).first()


def read_note(*, kind: str, at, project_id: str = "", platform: str = "", status=None) -> None:
    """One upstream read made by the engine (one page), for the ledger."""
    SyncRead.objects.create(
        at=at, kind=kind, project_id=project_id, platform=platform, status=status
    )


def reads_per_minute(row: SyncBudget | None = None) -> int:
    """The key's reads per minute: learnt from Layers, else the configured fallback (`row`:
    the budget's row, when the caller has just read it)."""
    row = row or _row()
    if row is not None and row.limit_per_minute:
        return row.limit_per_minute
    return settings.SYNC_DEFAULT_READS_PER_MINUTE


def share_per_minute(row: SyncBudget | None = None) -> int:
    """How many reads a minute the engine may make."""
    return max(1, math.floor(reads_per_minute(row) * settings.SYNC_READ_SHARE))


def reads_last_minute(now) -> int:
    return SyncRead.objects.filter(at__gt=now - WINDOW, at__lte=now).count()


def reads_left(now) -> int:
    """Reads the engine may still make in the minute ending at `now` (0 while it backs off
    or while the key's bucket is nearly empty)."""
    row = _row()  # the back-off and the tier from one read
    if _backoff_of(row, now) is not None or _key_nearly_empty():
        return 0
    return max(0, share_per_minute(row) - reads_last_minute(now))


def _key_nearly_empty() -> bool:
    seen = budget_get(READ_CLASS)
    if not seen or seen.get("remaining") is None or not seen.get("limit"):
        return False
    reset = seen.get("reset")
    if reset is not None and reset <= timezone.now().timestamp():
        return False
    return seen["remaining"] < max(2, seen["limit"] * RESERVE)


def backoff_until(now):
    """When the engine may read again, or None when it is not backing off."""
    return _backoff_of(_row(), now)


def _backoff_of(row: SyncBudget | None, now):
    if row is None or row.backoff_until is None or row.backoff_until <= now:
        return None
    return row.backoff_until


def backoff_note(error: LayersError, now) -> bool:
    """A 429, 5xx or unreachable Layers backs the engine off; answers whether it did."""
    if isinstance(error, RateLimited):
        wait = error.retry_after or 60
    elif error.status is None or error.status >= 500:
        row = _row()
        count = row.backoff_count if row else 0
        wait = min(BACKOFF_CAP, BACKOFF_START * 2**count)
    else:
        return False
    SyncBudget.objects.get_or_create(name=READ_CLASS)
    SyncBudget.objects.filter(name=READ_CLASS).update(
        backoff_until=now + timedelta(seconds=wait),
        backoff_reason=error.message[:300],
        backoff_count=F("backoff_count") + 1,
    )
    return True


def backoff_clear() -> None:
    SyncBudget.objects.filter(name=READ_CLASS, backoff_count__gt=0).update(
        backoff_count=0, backoff_until=None, backoff_reason=""
    )


def feed_per_minute() -> float:
    """Reads a minute the audit feed takes (0 when it is off)."""
    return 60 / settings.SYNC_FEED_SECONDS if settings.SYNC_FEED else 0.0


def reserve_per_minute(row: SyncBudget | None = None) -> int:
    """Reads a minute the reconciler leaves for change-driven reads (webhooks, the feed's
    hints, "refresh now"), so a change is read within seconds even mid-sweep."""
    return max(1, math.ceil(share_per_minute(row) * settings.SYNC_CHANGE_RESERVE))


def sweep_per_minute(row: SyncBudget | None = None) -> float:
    """Reads a minute the reconciler's sweep gets at rest: the share less the feed and the
    reserve."""
    row = row or _row()  # read once for the share and the reserve
    return max(1.0, share_per_minute(row) - reserve_per_minute(row) - feed_per_minute())


def sweep_rate(now, row: SyncBudget | None = None) -> float:
    """The sweep's reads a minute now: what it gets at rest, less the change-driven reads of
    the last minute (changes come first; the sweep slows down while they come)."""
    changes = SyncRead.objects.filter(at__gt=now - WINDOW, at__lte=now, kind="change").count()
    return max(1.0, sweep_per_minute(row) - changes)


def sweep_take(now, reads: int) -> bool:
    """Takes `reads` from the sweep's token bucket (refilled at sweep_rate, holding at most
    a quarter of a minute's worth, so the sweep never bursts into the window the changes
    need); answers whether they were there."""
    row, _ = SyncBudget.objects.get_or_create(name=READ_CLASS)
    rate = sweep_rate(now, row)
    cap = max(SWEEP_BURST, rate / 4)
    if row.credit_at is None:
        credit = cap
    else:
        elapsed = max(0.0, (now - row.credit_at).total_seconds())
        credit = min(cap, row.sweep_credit + elapsed * rate / 60)
    taken = credit >= reads
    SyncBudget.objects.filter(pk=row.pk).update(
        sweep_credit=credit - reads if taken else credit, credit_at=now
    )
    return taken


def sweep_minutes(lists: int) -> float:
    """T: every list is read again at least this often (minutes) with no webhook and no
    feed: lists ÷ the sweep's reads a minute (a list of up to 200 actions is one read)."""
    return lists / sweep_per_minute()


def ledger_trim(now) -> int:
    """Reads older than an hour are no longer needed."""
    return SyncRead.objects.filter(at__lt=now - timedelta(hours=1)).delete()[0]
