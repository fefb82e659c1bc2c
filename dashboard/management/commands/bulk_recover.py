from django.core.management.base import BaseCommand

from dashboard.services.bulk_start import bulk_decisions_recover


class Command(BaseCommand):
    help = (
        "Queues again every bulk decision whose worker is gone (running or queued with no "
        "heartbeat for five minutes). Safe at any time: nothing is decided twice."
    )

    def handle(self, *args, verbosity=1, **options):
        taken = bulk_decisions_recover()
        if verbosity == 0 and not taken:
            return
        self.stdout.write(
            f"{len(taken)} bulk decision{'s' if len(taken) != 1 else ''} queued again"
            + "".join(f"\n  {bulk_id}" for bulk_id in taken)
        )
