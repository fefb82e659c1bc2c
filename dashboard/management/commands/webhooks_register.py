"""Registers the dashboard's webhook receiver with Layers and keeps its signing secret."""

from django.core.management.base import BaseCommand, CommandError

from dashboard.services import webhooks


class Command(BaseCommand):
    help = (
        "Register https://<dashboard>/webhooks/layers with Layers "
        "(POST /v1/webhook-endpoints) and store the signing secret."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", required=True, help="The receiver's public URL, ending in /webhooks/layers."
        )
        parser.add_argument(
            "--project",
            default=None,
            help="Only this Layers project's events (default: the whole organization).",
        )

    def handle(self, *args, url, project, **options):
        result = webhooks.webhook_register(url=url, project_id=project)
        if not result.ok:
            raise CommandError(result.sentence)
        self.stdout.write(self.style.SUCCESS(result.sentence))
