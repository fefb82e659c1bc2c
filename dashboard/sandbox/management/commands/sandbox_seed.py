"""Seeds the sandbox with the demo story. Idempotent: does nothing when the sandbox already
has data, unless --force (which wipes and reseeds)."""

from django.core.management import BaseCommand

from dashboard.sandbox.control import reset, webhooks_
from dashboard.sandbox.models import Project


class Command(BaseCommand):
    help = "Seed the Layers sandbox with the demo story (only when empty; --force resets)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="wipe sandbox state and seed again"
        )
        parser.add_argument("--webhook-url", help="deliver the sandbox's webhooks here")
        parser.add_argument("--webhook-secret", default="", help="sign them with this secret")

    def handle(self, *args, force=False, webhook_url=None, webhook_secret="", **options):
        if Project.objects.exists() and not force:
            self.stdout.write("Sandbox already seeded; use --force to start over.")
        else:
            reset({"seed": True})
            self.stdout.write(self.style.SUCCESS("Sandbox seeded with the demo story."))
        if webhook_url:
            webhooks_({"url": webhook_url, "secret": webhook_secret, "autoDeliver": True})
