"""Processes stored Layers webhooks that are not processed yet (after a crash, or after an
error that has been fixed). Safe to run any time: processing is idempotent."""

from django.core.management.base import BaseCommand

from dashboard.services import webhooks


class Command(BaseCommand):
    help = "Process stored Layers webhook events that are not processed yet."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, limit, **options):
        counts = webhooks.webhooks_process_pending(limit=limit)
        if not counts:
            self.stdout.write("Nothing to process: every stored webhook is processed.")
            return
        self.stdout.write(", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
