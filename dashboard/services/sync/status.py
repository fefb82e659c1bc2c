"""The sync engine's figures, for `manage.py sync_status`, the bench and the pages: lists,
T, reads in the last minute, lag, errors, owner."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from dashboard.models import SyncBudget, SyncFeed, SyncRead, SyncState
from dashboard.services.sync import budget
from dashboard.services.sync.lease import lease_get


@dataclass(frozen=True)
class SyncStatus:
    now: object
    projects: int
    lists: int
    never_read: int
    dirty: int
    requested: int
    failing: int
    reads_per_minute: int  # the key's tier (learnt, or the fallback)
    share: int  # the engine's reads a minute
    reserve: int
    feed_per_minute: float
    sweep_per_minute: float
    sweep_minutes: float  # T
    reads_last_minute: int
    reads_by_kind: dict
    oldest_refresh_at: object
    lag_seconds: float | None  # age of the list read longest ago
    oldest_dirty_seconds: float | None
    owner: str
    lease_expires_at: object
    backoff_until: object
    backoff_reason: str
    feed_position: object
    errors: tuple  # (project_id, platform, sentence)

    def lines(self) -> list[str]:
        def seconds(value):
            return "—" if value is None else f"{value:.0f} s"

        return [
            f"lists            {self.lists} ({self.projects} projects; "
            f"{self.never_read} never read, {self.dirty} dirty, {self.requested} requested, "
            f"{self.failing} failing)",
            f"budget           {self.share} reads/min = {settings.SYNC_READ_SHARE:g} × "
            f"{self.reads_per_minute} (the key's tier); reserve {self.reserve}, "
            f"feed {self.feed_per_minute:g}, sweep {self.sweep_per_minute:g}",
            f"T (sweep period) {self.sweep_minutes:.1f} min = {self.lists} lists ÷ "
            f"{self.sweep_per_minute:g} reads/min"
            + (
                f" (no list is read again sooner than {settings.SYNC_RECONCILE_MIN_SECONDS} s)"
                if self.sweep_minutes * 60 < settings.SYNC_RECONCILE_MIN_SECONDS
                else ""
            ),
            f"reads last min   {self.reads_last_minute} "
            + " ".join(f"{k}={v}" for k, v in sorted(self.reads_by_kind.items())),
            f"lag              oldest list read {seconds(self.lag_seconds)} ago; "
            f"oldest change waiting {seconds(self.oldest_dirty_seconds)}",
            f"owner            {self.owner or '—'} (lease until {self.lease_expires_at or '—'})",
            f"back-off         {self.backoff_until or 'none'} {self.backoff_reason}".rstrip(),
            f"feed position    {self.feed_position or '—'}",
            *[f"error            {p} {pl}: {sentence}" for p, pl, sentence in self.errors],
        ]


def sync_status(*, now=None) -> SyncStatus:
    now = now or timezone.now()
    figures = SyncState.objects.aggregate(
        lists=Count("id"),
        projects=Count("project", distinct=True),
        never=Count("id", filter=Q(last_full_refresh_at__isnull=True)),
        dirty=Count("id", filter=Q(dirty_since__isnull=False)),
        requested=Count("id", filter=Q(requested_at__isnull=False)),
        failing=Count("id", filter=Q(consecutive_errors__gt=0)),
        oldest=Min("last_full_refresh_at"),
        oldest_dirty=Min("dirty_since"),
    )
    recent = SyncRead.objects.filter(at__gt=now - budget.WINDOW, at__lte=now)
    by_kind = dict(recent.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    lease = lease_get()
    budget_row = SyncBudget.objects.filter(name=budget.READ_CLASS).first()
    feed = SyncFeed.objects.filter(name="audit").first()
    errors = tuple(
        SyncState.objects.filter(consecutive_errors__gt=0)
        .order_by("-last_error_at")
        .values_list("project_id", "platform", "last_error")[:10]
    )

    def age(at):
        return None if at is None else max(0.0, (now - at).total_seconds())

    return SyncStatus(
        now=now,
        projects=figures["projects"],
        lists=figures["lists"],
        never_read=figures["never"],
        dirty=figures["dirty"],
        requested=figures["requested"],
        failing=figures["failing"],
        reads_per_minute=budget.reads_per_minute(),
        share=budget.share_per_minute(),
        reserve=budget.reserve_per_minute(),
        feed_per_minute=budget.feed_per_minute(),
        sweep_per_minute=budget.sweep_per_minute(),
        sweep_minutes=budget.sweep_minutes(figures["lists"]),
        reads_last_minute=sum(by_kind.values()),
        reads_by_kind=by_kind,
        oldest_refresh_at=figures["oldest"],
        lag_seconds=age(figures["oldest"]),
        oldest_dirty_seconds=age(figures["oldest_dirty"]),
        owner=lease.owner if lease and lease.expires_at and lease.expires_at > now else "",
        lease_expires_at=lease.expires_at if lease else None,
        backoff_until=budget.backoff_until(now),
        backoff_reason=budget_row.backoff_reason if budget_row else "",
        feed_position=feed.position if feed else None,
        errors=errors,
    )
