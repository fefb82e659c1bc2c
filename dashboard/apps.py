from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _housekeeping_schedule(sender, using="default", **kwargs):
    # After every migrate (each deployment, each `make run`): make sure a housekeeping run
    # and a worker heartbeat wait in the task queue, so clearing expired sessions never
    # depends on a cron job and /health can tell whether a worker runs.
    from dashboard.services.housekeeping import housekeeping_schedule
    from dashboard.services.worker import worker_heartbeat_schedule

    housekeeping_schedule(using=using)
    # Not due at once: a worker started to take one particular task (the tests' workers
    # with max_tasks=1) must find that task, not a heartbeat.
    worker_heartbeat_schedule(using=using)
    from dashboard.services.digests import mail_schedule

    mail_schedule(using=using)  # and the first check for digests and alerts


_BEAT_EVERY = 10.0  # seconds: a queue of quick tasks (the sync's ticks) writes at most this often
_last_beat: dict[str, float] = {}


def _worker_beat(sender, task_result=None, **kwargs):
    # Every task a worker starts is a sign of life for its queue (a worker busy with a queue
    # of bulk decisions may reach the heartbeat task late).
    import time

    from dashboard.services.worker import DEFAULT_QUEUE, worker_beat

    queue = getattr(getattr(task_result, "task", None), "queue_name", None) or DEFAULT_QUEUE
    now = time.monotonic()
    if now - _last_beat.get(queue, -_BEAT_EVERY) < _BEAT_EVERY:
        return
    try:
        worker_beat(queue=queue)
        _last_beat[queue] = now
    except Exception:  # the beat is bookkeeping: it never stops the task itself
        import logging

        logging.getLogger("dashboard.worker").exception("worker heartbeat not written")


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Layers Partner Dashboard"

    def ready(self):
        from django.tasks.signals import task_started

        from dashboard import security  # noqa: F401 - registers the deployment checks
        from dashboard.observability import record_factory_install, sentry_init

        post_migrate.connect(_housekeeping_schedule, sender=self)
        task_started.connect(_worker_beat, dispatch_uid="dashboard-worker-beat")
        record_factory_install()
        sentry_init()
