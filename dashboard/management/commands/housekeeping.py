"""`manage.py housekeeping`: clear expired sessions and one-time tokens and trim long
share-link logs, once (the worker does it every HOUSEKEEPING_SECONDS; this is for cron)."""

from django.core.management import BaseCommand

from dashboard.services.housekeeping import housekeeping_run


class Command(BaseCommand):
    help = "Clear expired sessions and one-time tokens; trim long share-link opening logs."

    def handle(self, *args, **options):
        done = housekeeping_run()
        self.stdout.write(
            f"housekeeping: expired sessions cleared, {done['spent_tokens']} spent tokens and "
            f"{done['share_link_openings']} share-link openings deleted"
        )
