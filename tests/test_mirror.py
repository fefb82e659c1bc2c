"""The mirror: the dashboard's own copy of every customer's pending actions, read from the
sandbox over real HTTP."""

import uuid

import pytest

from dashboard.layers import LayersError, PendingAction
from dashboard.models import MirrorAction, MirrorProject, SyncRead, SyncState
from dashboard.services.inbox_sync import freshness_get, synced_words
from dashboard.services.mirror import (
    mirror_action,
    mirror_mark_dirty,
    mirror_projects_refresh,
    mirror_refresh,
)
from dashboard.services.pending_decisions import pending_decision_send
from tests.conftest import ACME, NORDLICHT

pytestmark = pytest.mark.django_db(transaction=True)


def pending_ids(sandbox, project, platform):
    response = sandbox.api(
        "GET", f"/v1/projects/{project}/ads/{platform}/pending", params={"status": "pending"}
    )
    return {item["pendingId"] for item in response.json()["items"]}


def test_discovery_mirrors_every_project_the_key_sees_with_one_sync_state_per_list(sandbox):
    count = mirror_projects_refresh()
    assert count == MirrorProject.objects.count() >= 3
    acme = MirrorProject.objects.get(pk=ACME)
    assert acme.name and acme.platforms
    assert SyncState.objects.filter(project=acme).count() == len(acme.platforms)
    assert SyncRead.objects.filter(kind="projects").count() >= 1


def test_a_refresh_copies_the_pending_list_and_drops_what_is_no_longer_pending(sandbox):
    mirror_projects_refresh()
    wanted = pending_ids(sandbox, ACME, "meta")
    assert mirror_refresh(ACME, "meta") == len(wanted)
    rows = MirrorAction.objects.filter(project_id=ACME, platform="meta")
    assert set(rows.values_list("pending_id", flat=True)) == wanted
    row = rows.first()
    assert row.axis in ("creative", "tactical", "structural")
    assert mirror_action(row) == PendingAction.from_wire(row.record)
    budget = rows.filter(action_type="update_budget").first()
    if budget is not None:
        assert budget.spend_change_minor == (
            budget.new_value["dailyBudgetCents"] - budget.current_value["dailyBudgetCents"]
        )
        assert budget.currency
    # A stray row the list no longer has goes on the next refresh.
    MirrorAction.objects.create(
        pending_id="pa_GONE", project_id=ACME, platform="meta", record={}, synced_at=row.synced_at
    )
    mirror_refresh(ACME, "meta")
    assert not MirrorAction.objects.filter(pk="pa_GONE").exists()
    state = SyncState.objects.get(project_id=ACME, platform="meta")
    assert state.last_full_refresh_at and state.pending_count == len(wanted)
    assert state.dirty_since is None and state.consecutive_errors == 0


def test_a_decision_made_here_shows_in_the_mirror_at_once(sandbox, people):
    mirror_projects_refresh()
    mirror_refresh(ACME, "meta")
    row = MirrorAction.objects.filter(project_id=ACME, platform="meta").first()
    sent = pending_decision_send(
        user=people["approver"],
        project_id=ACME,
        platform="meta",
        pending_id=row.pending_id,
        decision="approve",
        text="",
        idempotency_key=str(uuid.uuid4()),
    )
    assert sent.kind == "decided"
    row.refresh_from_db()
    assert row.status == "approved" and row.record["status"] == "approved"
    assert not MirrorAction.objects.pending().filter(pk=row.pk).exists()
    # The next refresh no longer lists it: the row goes.
    mirror_refresh(ACME, "meta")
    assert not MirrorAction.objects.filter(pk=row.pk).exists()


def test_an_action_someone_else_decided_first_leaves_the_pending_list_of_the_mirror(
    sandbox, people
):
    mirror_projects_refresh()
    mirror_refresh(ACME, "meta")
    row = MirrorAction.objects.filter(project_id=ACME, platform="meta").first()
    sandbox.api(
        "POST",
        f"/v1/projects/{ACME}/ads/meta/pending/{row.pending_id}/reject",
        json={"reason": "not now"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    ).raise_for_status()
    sent = pending_decision_send(
        user=people["approver"],
        project_id=ACME,
        platform="meta",
        pending_id=row.pending_id,
        decision="approve",
        text="",
        idempotency_key=str(uuid.uuid4()),
    )
    assert sent.kind == "conflict"
    row.refresh_from_db()
    assert row.status == "rejected"


def test_a_refresh_clears_a_change_noted_before_it_began_and_keeps_one_noted_while_it_read(
    sandbox,
):
    from datetime import timedelta

    from django.utils import timezone

    mirror_projects_refresh()
    lists = SyncState.objects.filter(project_id=ACME, platform="meta")
    lists.update(dirty_since=timezone.now() - timedelta(minutes=1))
    mirror_refresh(ACME, "meta")
    assert lists.get().dirty_since is None
    noted = timezone.now() + timedelta(minutes=1)  # as if a webhook came mid-read
    lists.update(dirty_since=noted)
    mirror_refresh(ACME, "meta")
    assert lists.get().dirty_since == noted and lists.get().last_full_refresh_at


def test_a_failed_refresh_is_recorded_on_the_list_and_keeps_the_rows(sandbox):
    mirror_projects_refresh()
    mirror_refresh(ACME, "meta")
    before = MirrorAction.objects.filter(project_id=ACME, platform="meta").count()
    fault = {"kind": "status", "status": 500, "pathContains": "/pending"}
    sandbox.control("faults", faults=[fault])
    with pytest.raises(LayersError):
        mirror_refresh(ACME, "meta")
    state = SyncState.objects.get(project_id=ACME, platform="meta")
    assert state.consecutive_errors == 1 and state.last_error
    assert MirrorAction.objects.filter(project_id=ACME, platform="meta").count() == before
    assert freshness_get(project_ids={ACME}).failing


def test_marking_dirty_names_the_list_and_a_project_not_discovered_yet_gets_a_stub(db):
    assert mirror_mark_dirty("prj_new", "tiktok") == 1
    state = SyncState.objects.get(project_id="prj_new", platform="tiktok")
    assert state.dirty_since is not None
    first = state.dirty_since
    mirror_mark_dirty("prj_new", "tiktok")
    state.refresh_from_db()
    assert state.dirty_since == first  # the oldest change is kept


def test_freshness_is_said_in_words(sandbox):
    assert freshness_get().sentence == "Not synced yet."
    mirror_projects_refresh()
    for platform in MirrorProject.objects.get(pk=NORDLICHT).platforms:
        mirror_refresh(NORDLICHT, platform)
    assert freshness_get(project_ids={NORDLICHT}).sentence == "Synced just now."
    assert synced_words(40) == "synced 40 s ago"
    assert synced_words(600) == "synced 10 min ago"


def test_a_new_projects_lists_are_assumed_on_every_platform_until_a_404_says_otherwise(sandbox):
    mirror_projects_refresh(details=False)
    assert SyncState.objects.filter(project_id=NORDLICHT, platform="apple").exists()
    assert mirror_refresh(NORDLICHT, "apple") == 0  # Nordlicht has no Apple layer
    assert not SyncState.objects.filter(project_id=NORDLICHT, platform="apple").exists()
    assert freshness_get(project_ids={NORDLICHT}).failing == 0


def test_a_refresh_keeps_when_the_mirror_first_saw_an_action(sandbox):
    mirror_projects_refresh()
    mirror_refresh(ACME, "meta")
    first = dict(
        MirrorAction.objects.filter(project_id=ACME, platform="meta").values_list(
            "pending_id", "first_seen_at"
        )
    )
    assert first and all(first.values())
    mirror_refresh(ACME, "meta")
    again = MirrorAction.objects.filter(project_id=ACME, platform="meta")
    assert dict(again.values_list("pending_id", "first_seen_at")) == first
    assert all(row.synced_at >= row.first_seen_at for row in again)


def test_a_list_read_before_its_currency_is_known_is_weighed_again_once_it_is(sandbox):
    from decimal import Decimal

    from dashboard.services.mirror import mirror_project_detail

    sandbox.control("customers", count=3)
    yen = "prj_5ca1e000-0000-4000-8000-000000000003"  # the third scale customer: JPY
    mirror_projects_refresh(details=False)
    mirror_refresh(yen, "meta")
    rows = MirrorAction.objects.filter(project_id=yen, spend_change_minor__isnull=False)
    assert rows.exists()
    for row in rows:  # currency unknown: CLDR's default exponent, 2
        assert row.currency is None
        assert row.spend_stake_major == Decimal(abs(row.spend_change_minor)).scaleb(-2)
    mirror_project_detail(yen)
    for row in rows.all():
        assert row.currency == "JPY"
        assert row.spend_stake_major == abs(row.spend_change_minor)
