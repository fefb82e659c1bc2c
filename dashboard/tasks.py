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
def housekeeping() -> None:
    """Expired sessions and tokens, long share-link logs, bulk decisions left without a
    worker; then the next run is queued."""
    from dashboard.services.housekeeping import housekeeping_run, housekeeping_schedule

    try:
        housekeeping_run()
        for stale_id in bulk_decisions_abandoned():  # bulk decisions whose worker died
            bulk_decision_run.enqueue(stale_id)
        from dashboard.services.holds import decision_hold_send, decision_holds_due

        for hold_id in decision_holds_due():  # held decisions whose task or worker was lost
            decision_hold_send(hold_id)
    finally:
        housekeeping_schedule()
