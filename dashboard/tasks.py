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
def audit_export_run(export_id: str) -> None:
    """One audit CSV export, read page by page inside its share of the read budget."""
    from dashboard.services.audit_export import audit_export_execute

    audit_export_execute(export_id=export_id)


@task
def housekeeping() -> None:
    """Expired sessions and tokens, long share-link logs, bulk decisions left without a
    worker; then the next run is queued."""
    from dashboard.services.housekeeping import housekeeping_run, housekeeping_schedule

    try:
        housekeeping_run()
        for stale_id in bulk_decisions_abandoned():  # bulk decisions whose worker died
            bulk_decision_run.enqueue(stale_id)
    finally:
        housekeeping_schedule()
