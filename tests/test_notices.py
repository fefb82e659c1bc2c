"""The notices page's "About to expire" list comes from the mirror: one query however many
customers a person sees, no read of Layers."""

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from dashboard.models.mirror import MirrorAction
from tests.conftest import ACME, login, upstream_calls


def expiring_within_a_day(project_ids=None):
    """The mirror's pending actions expiring within 24 hours (of these projects, or all)."""
    now = timezone.now()
    due = MirrorAction.objects.pending().filter(
        expires_at__gt=now, expires_at__lte=now + timedelta(hours=24)
    )
    return due if project_ids is None else due.filter(project_id__in=project_ids)


def test_the_actions_about_to_expire_come_from_the_mirror_soonest_first_without_reading_layers(
    mirrored, client
):
    login(client, "manager")
    due = list(expiring_within_a_day().order_by("expires_at").values_list("pending_id", flat=True))
    assert due  # the demo seeds a few that expire within the day
    before = upstream_calls(mirrored)

    html = client.get(reverse("notices")).content.decode()

    assert upstream_calls(mirrored) == before
    shown = [pid for pid in due if f"#pa-{pid}" in html]
    assert shown == due
    assert sorted(due, key=html.index) == due  # soonest first


def badge_count(client) -> int:
    badge = client.get(reverse("notices-count")).content.decode()
    found = re.search(r'id="notices-badge"[^>]*>(\d+)', badge)
    return int(found.group(1)) if found else 0


def test_the_badge_counts_the_actions_about_to_expire_on_the_persons_customers(mirrored, client):
    login(client, "viewer")  # Acme Coffee only
    client.get(reverse("notices"))  # the page reads the mirror; the badge keeps its copy
    assert badge_count(client) == expiring_within_a_day([ACME]).count() > 0


def test_a_superusers_badge_counts_the_actions_about_to_expire_on_every_customer(mirrored, client):
    get_user_model().objects.create_superuser("root", "root@example.com", None)
    login(client, "root")
    client.get(reverse("notices"))
    everywhere, acme = expiring_within_a_day().count(), expiring_within_a_day([ACME]).count()
    assert badge_count(client) == everywhere > acme
