"""The notices page's "About to expire" list comes from the mirror: one query however many
customers a person sees, no read of Layers."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard.models.mirror import MirrorAction
from tests.conftest import login, upstream_calls


def test_the_actions_about_to_expire_come_from_the_mirror_soonest_first_without_reading_layers(
    mirrored, client
):
    login(client, "manager")
    now = timezone.now()
    due = list(
        MirrorAction.objects.pending()
        .filter(expires_at__gt=now, expires_at__lte=now + timedelta(hours=24))
        .order_by("expires_at")
        .values_list("pending_id", flat=True)
    )
    assert due  # the demo seeds a few that expire within the day
    before = upstream_calls(mirrored)

    html = client.get(reverse("notices")).content.decode()

    assert upstream_calls(mirrored) == before
    shown = [pid for pid in due if f"#pa-{pid}" in html]
    assert shown == due
    assert sorted(due, key=html.index) == due  # soonest first
