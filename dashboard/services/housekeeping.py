"""Housekeeping: what piles up and must be cleared now and then.

Expired sessions (Django's `clearsessions`), spent one-time values whose tokens have
expired, share-link openings beyond SHARE_LINK_LOG_MAX per link, and audit exports
finished more than AUDIT_EXPORT_KEEP_HOURS ago. The background worker
runs it every HOUSEKEEPING_SECONDS (dashboard/tasks.py: each run queues the next one);
`manage.py housekeeping` runs it once, for a cron job where no worker runs."""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import connections
from django.db.models import Count
from django.utils import timezone

from dashboard.models import ShareLinkUse
from dashboard.services.audit_export import audit_exports_expire
from dashboard.services.nonces import nonce_expired_delete
from dashboard.services.sharing import share_link_log_trim


def housekeeping_run() -> dict:
    """Clears what expired; answers how many of each kind went."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()  # what `manage.py clearsessions` does
    crowded = (
        ShareLinkUse.objects.values("link_id")
        .annotate(n=Count("id"))
        .filter(n__gt=settings.SHARE_LINK_LOG_MAX)
        .values_list("link_id", flat=True)
    )
    trimmed = sum(share_link_log_trim(link_id=link_id) for link_id in crowded)
    return {
        "spent_tokens": nonce_expired_delete(),
        "share_link_openings": trimmed,
        "audit_exports": audit_exports_expire(),
    }


def task_schedule_once(task, seconds: float, *, using: str = "default") -> bool:
    """Queues `task` to run `seconds` from now unless a run of it already waits. Only the
    database task queue can hold a run for later (and be asked what waits); elsewhere the
    periodic work runs from cron through its command."""
    from django.tasks import TaskResultStatus, task_backends

    if not type(task_backends["default"]).__module__.startswith("django_tasks_db"):
        return False
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult._meta.db_table not in connections[using].introspection.table_names():
        return False  # a partial migrate: the queue's table is not there yet
    waiting = DBTaskResult.objects.using(using).filter(
        task_path=task.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return False
    task.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue()
    return True


def housekeeping_schedule(*, using: str = "default") -> bool:
    """Queues the next run unless one is already waiting."""
    from dashboard.tasks import housekeeping

    return task_schedule_once(housekeeping, settings.HOUSEKEEPING_SECONDS, using=using)
