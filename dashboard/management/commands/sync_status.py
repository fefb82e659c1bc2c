"""`manage.py sync_status`: the sync engine's figures: lists, T, reads in the last minute,
lag, errors and the owner."""

from django.core.management import BaseCommand

from dashboard.services.sync.status import sync_status


class Command(BaseCommand):
    help = "Show the mirror's sync engine: lists, the sweep period T, reads, lag, errors, owner."

    def handle(self, *args, **options):
        for line in sync_status().lines():
            self.stdout.write(line)
