from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _housekeeping_schedule(sender, using="default", **kwargs):
    # After every migrate (each deployment, each `make run`): make sure a housekeeping run
    # waits in the task queue, so clearing expired sessions never depends on a cron job.
    from dashboard.services.housekeeping import housekeeping_schedule

    housekeeping_schedule(using=using)
    from dashboard.services.digests import mail_schedule

    mail_schedule(using=using)  # and the first check for digests and alerts


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Layers Partner Dashboard"

    def ready(self):
        from dashboard import security  # noqa: F401 - registers the deployment checks

        post_migrate.connect(_housekeeping_schedule, sender=self)
