"""Is the dashboard able to do its job? One check per part, for /health, and the state
/metrics reads at scrape time.

Each part answers a Part: its name, whether it is fine, and a sentence for the operator.
The sentences name no customer and show no secret. /health answers 200 only when every
part is fine (a part that cannot know yet — no Layers answer seen, nothing synced because
there is nothing to sync — counts as fine and says so).

The sync's part reads `dashboard.models.SyncState` (rows with `platform` and
`last_full_refresh_at`, one per project and platform) when that model exists; until then it
says the sync is not installed. `sync_lag_by_platform` is the one function to change when
the sync's tables do."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from dashboard.layers import LayersError, Unauthenticated
from dashboard.services.upstream import budget_get, layers
from dashboard.services.worker import worker_last_seen

LAYERS_CHECK_KEY = "health:layers"


@dataclass(frozen=True)
class Part:
    name: str
    ok: bool
    detail: str


def _database() -> Part:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Part("database", True, "answers")


def _cache() -> Part:
    cache.set("health:probe", 1, timeout=30)
    if cache.get("health:probe") != 1:
        return Part("cache", False, "does not keep what it is given")
    return Part("cache", True, "answers")


def _worker() -> Part:
    seen = worker_last_seen()
    limit = settings.WORKER_STALE_SECONDS
    if seen is None:
        return Part("worker", False, "no task worker has run yet (manage.py db_worker)")
    age = (timezone.now() - seen).total_seconds()
    if age > limit:
        return Part("worker", False, f"no sign of life for {age:.0f} s (limit {limit} s)")
    return Part("worker", True, f"seen {age:.0f} s ago")


def _sync() -> Part:
    lag = sync_lag_by_platform()
    if lag is None:
        return Part("sync", True, "not installed in this version")
    if not lag:
        return Part("sync", True, "nothing to sync yet")
    behind = sum(state["behind"] for state in lag.values())
    oldest = max((s["lag"] for s in lag.values() if s["lag"] is not None), default=None)
    oldest_text = "never synced" if oldest is None else f"oldest list {oldest:.0f} s old"
    if behind:
        return Part(
            "sync",
            False,
            f"{behind} list{'s' if behind != 1 else ''} behind ({oldest_text}; "
            f"limit {settings.SYNC_LAG_LIMIT_SECONDS} s)",
        )
    return Part("sync", True, oldest_text)


def _budget() -> Part:
    seen = {name: budget_get(name) for name in ("read-light", "write-light")}
    now = timezone.now().timestamp()
    empty = [
        name
        for name, state in seen.items()
        if state and state.get("remaining") == 0 and (state.get("reset") or 0) > now
    ]
    if empty:
        return Part("budget", False, f"{', '.join(empty)} used up until its reset")
    known = {name: state for name, state in seen.items() if state}
    if not known:
        return Part("budget", True, "no Layers answer seen yet")
    return Part(
        "budget",
        True,
        "; ".join(
            f"{name} {s.get('remaining')}/{s.get('limit')} left" for name, s in known.items()
        ),
    )


def _layers() -> Part:
    """Asks /v1/whoami at most once per HEALTH_LAYERS_SECONDS for every process (a load
    balancer's checks must not spend the key's budget)."""
    known = cache.get(LAYERS_CHECK_KEY)
    if known is None:
        client = layers()  # this thread's own client: one try, no retries, for a quick answer
        retries, client.max_get_retries = client.max_get_retries, 0
        try:
            client.whoami()
            known = (True, "answers")
        except Unauthenticated:
            known = (False, "refuses the key (check LAYERS_API_KEY)")
        except LayersError as error:
            known = (False, f"unreachable or failing ({error.code or type(error).__name__})")
        finally:
            client.max_get_retries = retries
        cache.set(LAYERS_CHECK_KEY, known, timeout=settings.HEALTH_LAYERS_SECONDS)
    return Part("layers", *known)


PARTS: dict[str, Callable[[], Part]] = {
    "database": _database,
    "cache": _cache,
    "worker": _worker,
    "sync": _sync,
    "budget": _budget,
    "layers": _layers,
}


def health_check() -> list[Part]:
    """Every part, in order; a part that raises is failing, with its exception's kind only
    (an exception's text may carry a host name or a password from a URL)."""
    parts = []
    for name, check in PARTS.items():
        try:
            parts.append(check())
        except Exception as error:
            parts.append(Part(name, False, f"failed ({type(error).__name__})"))
    return parts


# --- the sync's lag (the one place that reads the sync's tables) -------------------------


def sync_lag_by_platform(now: datetime | None = None) -> dict[str, dict] | None:
    """{platform: {"lag": seconds since its oldest full refresh (None if none yet),
    "behind": lists older than SYNC_LAG_LIMIT_SECONDS or never synced, "lists": n}}, or
    None when this version has no sync."""
    try:
        model = apps.get_model("dashboard", "SyncState")
    except LookupError:
        return None
    now = now or timezone.now()
    limit = settings.SYNC_LAG_LIMIT_SECONDS
    out: dict[str, dict] = {}
    for platform, refreshed in model.objects.values_list("platform", "last_full_refresh_at"):
        state = out.setdefault(platform, {"lag": None, "behind": 0, "lists": 0})
        state["lists"] += 1
        age = None if refreshed is None else (now - refreshed).total_seconds()
        if age is None or age > limit:
            state["behind"] += 1
        if age is not None and (state["lag"] is None or age > state["lag"]):
            state["lag"] = age
    return out


# --- what /metrics reads at scrape time --------------------------------------------------


def metrics_state() -> dict:
    from dashboard.models import BulkDecision, BulkDecisionItem, DecisionRecord, WebhookEvent

    unfinished = BulkDecision.objects.exclude(status=BulkDecision.Status.DONE)
    seen = worker_last_seen()
    return {
        "budget": {
            name: budget_get(name) or {} for name in ("read-light", "write-light", "long-running")
        },
        "decisions": _counts(DecisionRecord.objects.exclude(outcome=""), "outcome"),
        "bulk_decisions": _counts(unfinished, "status"),
        "bulk_items_waiting": BulkDecisionItem.objects.filter(
            bulk__in=unfinished, outcome=BulkDecisionItem.Outcome.WAITING
        ).count(),
        "tasks_waiting": _tasks_waiting(),
        "webhook_events": {
            (outcome or "waiting"): n
            for outcome, n in _counts(WebhookEvent.objects.all(), "outcome").items()
        },
        "worker_age": None if seen is None else (timezone.now() - seen).total_seconds(),
        "sync": sync_lag_by_platform(),
    }


def _counts(queryset, field: str) -> dict[str, int]:
    rows = queryset.order_by().values(field).annotate(n=Count("pk")).values_list(field, "n")
    return dict(rows)


def _tasks_waiting() -> int:
    if not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count()  # due now; scheduled runs are not waiting
