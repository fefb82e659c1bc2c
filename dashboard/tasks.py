"""Background tasks (Django's Tasks framework; `manage.py db_worker` runs them)."""

from django.tasks import task

from dashboard.services.bulk import bulk_decision_execute, bulk_decisions_abandoned
from dashboard.services.webhooks import webhook_event_process


@task
def bulk_decision_run(bulk_id: str) -> None:
    """One bulk decision. Each run also picks up bulk decisions whose worker died (the next
    worker to run any bulk is their watchdog; housekeeping and `manage.py bulk_recover` are
    others)."""
    for stale_id in bulk_decisions_abandoned():
        bulk_decision_run.enqueue(stale_id)
    bulk_decision_execute(bulk_id=bulk_id)


@task
def webhook_event_run(event_id: str) -> None:
    """One stored Layers webhook, acted on once (a second run finds it processed)."""
    webhook_event_process(event_id)


@task
def decision_hold_run(hold_id: str) -> None:
    """One held decision, sent when its window ends (queued to run then); undone or already
    sent, it does nothing. Each run is also the watchdog for holds whose task was lost or
    whose worker died mid-send."""
    from dashboard.services.holds import decision_hold_send, decision_holds_due

    decision_hold_send(hold_id)
    for other in decision_holds_due():
        if other != hold_id:
            decision_hold_send(other)


@task
def mail_run() -> None:
    """Digests and expiry alerts that are due (services/digests.py); then the next check."""
    from dashboard.services.digests import mail_due_run, mail_schedule

    try:
        mail_due_run()
    finally:
        mail_schedule()


@task
def audit_export_run(export_id: str) -> None:
    """One audit CSV export, read page by page inside its share of the read budget."""
    from dashboard.services.audit_export import audit_export_execute

    audit_export_execute(export_id=export_id)


@task
def housekeeping() -> None:
    """Expired sessions and tokens, long share-link logs, bulk decisions left without a
    worker; then the next run is queued."""
    from dashboard.services.digests import mail_schedule
    from dashboard.services.holds import decision_hold_send, decision_holds_due
    from dashboard.services.housekeeping import housekeeping_run, housekeeping_schedule
    from dashboard.services.sync.tick import sync_tick_schedule

    try:
        housekeeping_run()
        for stale_id in bulk_decisions_abandoned():  # bulk decisions whose worker died
            bulk_decision_run.enqueue(stale_id)
        sync_tick_schedule()  # the sync's ticks, if a crash ended their chain
        mail_schedule()  # the e-mail checks, likewise
        for hold_id in decision_holds_due():  # held decisions whose task or worker was lost
            decision_hold_send(hold_id)
    finally:
        housekeeping_schedule()


@task(queue_name="sync")
def sync_tick_run() -> None:
    """One tick of the sync engine (services/sync/tick.py); it queues the next one."""
    from django.utils import timezone

    from dashboard.services.sync.tick import sync_tick, sync_tick_schedule

    started = timezone.now()
    try:
        sync_tick(now=started)
    finally:
        sync_tick_schedule(after=started)  # every SYNC_TICK_SECONDS from this one's start


@task(queue_name="sync")
def sync_request_run() -> None:
    """A person's "refresh now": one tick that serves the requested lists first, inside the
    engine's budget (and does not queue another tick: the running chain does)."""
    from dashboard.services.sync.tick import sync_tick, sync_tick_schedule

    try:
        sync_tick()
    finally:
        sync_tick_schedule()  # only when no tick waits: it revives a chain a crash ended


@task(priority=-100)
def worker_heartbeat() -> None:
    """Proves a worker runs (see dashboard/services/worker.py), clears the records of old
    beats; then the next beat is queued. Lowest priority: any other task due first is taken
    first (and beats as it starts)."""
    from dashboard.services.worker import (
        worker_beat,
        worker_heartbeat_prune,
        worker_heartbeat_schedule,
    )

    try:
        worker_beat()
        worker_heartbeat_prune()
    finally:
        worker_heartbeat_schedule()
