"""How fresh the mirror is: "synced 40 s ago" for a page, the lists whose last read failed,
and whether the sync engine is backing off because Layers refuses or does not answer."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from dashboard.models import SyncBudget, SyncState


@dataclass(frozen=True)
class Freshness:
    """How fresh the mirror is (for one project, or for all)."""

    now: datetime
    lists: int = 0
    never_synced: int = 0
    dirty: int = 0
    oldest_synced_at: datetime | None = None
    newest_synced_at: datetime | None = None
    errors: tuple = ()  # (project_id, platform, sentence, at) of lists whose last read failed
    # While the engine backs off (Layers answered 429 or 5xx, or could not be reached):
    # until when, and Layers' last sentence. A page can say the data may be behind.
    backoff_until: datetime | None = None
    backoff_reason: str = ""

    @property
    def layers_down(self) -> bool:
        """Layers is refusing or not answering the engine right now."""
        return self.backoff_until is not None and self.backoff_until > self.now

    @property
    def age_seconds(self) -> float | None:
        """Age of the stalest list (None when nothing is synced yet)."""
        if self.oldest_synced_at is None:
            return None
        return max(0.0, (self.now - self.oldest_synced_at).total_seconds())

    @property
    def words(self) -> str:
        """ "synced 40 s ago" (of the stalest list shown), or "not synced yet"."""
        if self.lists == 0 or self.never_synced == self.lists:
            return "not synced yet"
        return synced_words(self.age_seconds)


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


def mirror_freshness(project_id: str | None = None, *, now=None) -> Freshness:
    now = now or timezone.now()
    states = SyncState.objects.all()
    if project_id:
        states = states.filter(project_id=project_id)
    figures = states.aggregate(
        lists=Count("id"),
        never=Count("id", filter=Q(last_full_refresh_at__isnull=True)),
        dirty=Count("id", filter=Q(dirty_since__isnull=False)),
        oldest=Min("last_full_refresh_at"),
        newest=Max("last_full_refresh_at"),
    )
    errors = tuple(
        states.filter(consecutive_errors__gt=0)
        .order_by("-last_error_at")
        .values_list("project_id", "platform", "last_error", "last_error_at")[:20]
    )
    backoff = SyncBudget.objects.filter(name="read-light").first()
    return Freshness(
        now=now,
        backoff_until=backoff.backoff_until if backoff else None,
        backoff_reason=backoff.backoff_reason if backoff else "",
        lists=figures["lists"],
        never_synced=figures["never"],
        dirty=figures["dirty"],
        oldest_synced_at=figures["oldest"],
        newest_synced_at=figures["newest"],
        errors=errors,
    )
