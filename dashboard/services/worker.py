"""The task worker's heartbeat: how /health and /metrics know that `manage.py db_worker`
runs.

A `worker_heartbeat` task waits in the database queue and, each time a worker runs it,
touches the heartbeat row and queues its own next run WORKER_HEARTBEAT_SECONDS later;
every other task a worker runs touches the row too (dashboard/apps.py connects the
signal). `migrate` queues the first run. A stopped worker touches nothing, so the row's age
grows past WORKER_STALE_SECONDS (90 s by default: three missed beats) and /health says so.
A worker busy with a long bulk decision still shows life through that bulk's own
heartbeat (see worker_last_seen).

One row per queue (`name` is the queue's name): a worker serving only another queue (the
sync's, say) never vouches for the default queue, where bulk decisions and webhooks wait.
/health watches the default queue's row."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from dashboard.models import BulkDecision, WorkerHeartbeat

DEFAULT_QUEUE = "default"


def worker_beat(*, queue: str = DEFAULT_QUEUE, using: str = "default") -> None:
    WorkerHeartbeat.objects.using(using).update_or_create(
        name=queue[:40], defaults={"beat_at": timezone.now()}
    )


def worker_last_seen(queue: str = DEFAULT_QUEUE) -> datetime | None:
    """The newest sign of a worker serving `queue`: its heartbeat row, or (for the default
    queue, where they run) a running bulk decision's."""
    beat = WorkerHeartbeat.objects.filter(name=queue).values_list("beat_at", flat=True).first()
    bulk = BulkDecision.objects.filter(status=BulkDecision.Status.RUNNING).aggregate(
        at=Max("heartbeat_at")
    )["at"]
    seen = [at for at in (beat, bulk) if at is not None]
    return max(seen) if seen else None


def worker_heartbeat_schedule(*, using: str = "default") -> bool:
    """Queues the next heartbeat, WORKER_HEARTBEAT_SECONDS from now, unless one already
    waits (database task queue only: with another backend there is no worker to watch)."""
    from dashboard.services.housekeeping import task_schedule_once
    from dashboard.tasks import worker_heartbeat

    return task_schedule_once(worker_heartbeat, settings.WORKER_HEARTBEAT_SECONDS, using=using)


def worker_heartbeat_prune(*, keep_seconds: int = 3600) -> int:
    """Deletes the queue's records of finished heartbeats older than `keep_seconds` (one
    every WORKER_HEARTBEAT_SECONDS would otherwise pile up: ~2,900 a day)."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from dashboard.tasks import worker_heartbeat

    deleted, _ = DBTaskResult.objects.filter(
        task_path=worker_heartbeat.module_path,
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=timezone.now() - timedelta(seconds=keep_seconds),
    ).delete()
    return deleted
