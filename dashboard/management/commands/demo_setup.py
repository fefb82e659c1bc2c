"""Prepares the embedded demo, idempotently: seeds the sandbox and creates the demo logins
with roles on the demo customers' projects. Only in the demo (settings.DEMO_MODE)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, call_command

from dashboard.models import ProjectGrant, ProjectOwnership, Role, WebhookSecret

# The sandbox's seed projects. Like a real partner, we know our customers' project ids;
# we do not import them from the sandbox.
DEMO_PROJECT_IDS = [
    "prj_7d1c5e0a-0001-4c3b-9a51-000000000001",
    "prj_7d1c5e0a-0002-4c3b-9a51-000000000002",
    "prj_7d1c5e0a-0003-4c3b-9a51-000000000003",
]
DEMO_USERS = [  # username, password, role on every demo project
    ("demo", "demo-password", Role.ADMIN),
    ("approver", "approver-password", Role.APPROVER),
    ("viewer", "viewer-password", Role.VIEWER),
]


class Command(BaseCommand):
    help = "Seed the sandbox and create the demo logins (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **options):
        # The demo logins' passwords are published: never made outside the demo.
        if not settings.DEMO_MODE:
            raise CommandError(
                "demo_setup makes the demo's published logins, so it runs only in the demo: "
                "DJANGO_DEBUG=true with the built-in sandbox as the Layers API "
                "(LAYERS_API_BASE_URL unset). `make run` sets that up."
            )
        # The sandbox delivers its signed webhooks to our receiver, as Layers would.
        url = f"http://127.0.0.1:{options['port']}/webhooks/layers"
        secret, _ = WebhookSecret.objects.get_or_create(
            url=url, retired_at=None, defaults={"secret": "whsec_" + secrets.token_urlsafe(24)}
        )
        call_command("sandbox_seed", verbosity=0, webhook_url=url, webhook_secret=secret.secret)
        User = get_user_model()
        for username, password, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.email = f"{username}@demo.invalid"  # digests print in the worker's output
                user.save()
            for project_id in DEMO_PROJECT_IDS:
                ProjectGrant.objects.get_or_create(
                    user=user, project_id=project_id, defaults={"role": role}
                )
        # The approver owns two customers; the third has no owner yet (the Projects page
        # flags it). Set once: owners assigned in the demo afterwards are kept.
        approver = User.objects.get(username="approver")
        for project_id in DEMO_PROJECT_IDS[:2]:
            ProjectOwnership.objects.get_or_create(
                project_id=project_id, defaults={"owner": approver}
            )
