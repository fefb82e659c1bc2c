"""`manage.py sync_start`: queues the sync engine's first tick unless one is waiting (make
run does this before starting the workers; every tick then queues the next). With
`--once`, runs one tick here instead, without a worker, and says what it did."""

from django.core.management import BaseCommand

from dashboard.services.sync.tick import sync_tick, sync_tick_schedule


class Command(BaseCommand):
    help = "Queue the sync engine's ticks (or run one with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one tick here and now")

    def handle(self, *args, once=False, **options):
        if once:
            tick = sync_tick()
            self.stdout.write(
                f"tick: {tick.skipped or 'ran'}, {tick.reads} reads, "
                f"{len(tick.refreshed)} lists refreshed, {len(tick.errors)} errors"
            )
            return
        queued = sync_tick_schedule()
        self.stdout.write("sync: first tick queued" if queued else "sync: a tick is already queued")
