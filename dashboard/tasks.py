"""Background tasks (Django's Tasks framework; `manage.py db_worker` runs them)."""

from django.tasks import task

from dashboard.services.bulk import bulk_decision_execute


@task
def bulk_decision_run(bulk_id: str) -> None:
    bulk_decision_execute(bulk_id=bulk_id)
