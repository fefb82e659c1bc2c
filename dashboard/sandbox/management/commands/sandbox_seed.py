"""Seeds the sandbox with the demo story. Idempotent: does nothing when the sandbox already
has data, unless --force (which wipes and reseeds).

`--customers N` also adds N generated customers at partner scale (sandbox/scale.py): about
30 pending actions each over Meta, TikTok and Apple. Customer n is always the same, so
running it again adds only the missing ones."""

import time

from django.core.management import BaseCommand, CommandError

from dashboard.sandbox.control import reset, webhooks_
from dashboard.sandbox.control_data import BadControl
from dashboard.sandbox.models import Project
from dashboard.sandbox.scale import seed_customers


class Command(BaseCommand):
    help = "Seed the Layers sandbox with the demo story (only when empty; --force resets)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="wipe sandbox state and seed again"
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=0,
            metavar="N",
            help="also seed N generated customers with 10-40 pending actions each",
        )
        parser.add_argument("--webhook-url", help="deliver the sandbox's webhooks here")
        parser.add_argument("--webhook-secret", default="", help="sign them with this secret")

    def handle(
        self, *args, force=False, customers=0, webhook_url=None, webhook_secret="", **options
    ):
        if Project.objects.exists() and not force:
            self.stdout.write("Sandbox already seeded; use --force to start over.")
        else:
            reset({"seed": True})
            self.stdout.write(self.style.SUCCESS("Sandbox seeded with the demo story."))
        if customers:
            started = time.monotonic()
            made = seed_customers(customers)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Added {made['customers']} generated customers with "
                    f"{made['pendingActions']} pending actions "
                    f"in {time.monotonic() - started:.1f} s."
                )
            )
        if webhook_url:
            try:
                webhooks_({"url": webhook_url, "secret": webhook_secret, "autoDeliver": True})
            except BadControl as exc:
                raise CommandError(f"--webhook-url: {exc}") from None
