"""The sync engine: ticks driven one at a time with `now=` (no worker, no sleeping), reading
the sandbox over real HTTP."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from dashboard.models import MirrorAction, MirrorProject, SyncLease, SyncRead, SyncState
from dashboard.services.mirror import sync_refresh_request
from dashboard.services.sync import budget
from dashboard.services.sync.lease import lease_acquire
from dashboard.services.sync.status import sync_status
from dashboard.services.sync.tick import sync_tick
from tests.conftest import ACME, worker_make

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def engine(sandbox, settings):
    """The engine with the whole standard tier to itself and no feed, unless a test says."""
    settings.SYNC_READ_SHARE = 1.0
    settings.SYNC_FEED = False
    settings.SYNC_FEED_SECONDS = 10
    return sandbox


def sandbox_gets(sandbox) -> int:
    return sandbox.control("stats")["calls"]["GET"]


def synced(now, owner="w1", *, step=2, ticks=10, campaigns=False):
    """Ticks until every list has been read once (with `campaigns`, the campaigns and the
    authority the queue's rows need too: mirror_campaigns.py); answers the time it got to."""
    from dashboard.services.mirror_campaigns import mirror_authority_due, mirror_campaigns_due

    for _ in range(ticks):
        sync_tick(now=now, owner=owner)
        if (
            SyncState.objects.exists()
            and not SyncState.objects.filter(last_full_refresh_at__isnull=True)
            and not (campaigns and (mirror_campaigns_due(now) or mirror_authority_due(now)))
        ):
            return now
        now += timedelta(seconds=step)
    raise AssertionError("the lists were never all read")


def pending_ids(sandbox, platform, project=ACME):
    answer = sandbox.api(
        "GET", f"/v1/projects/{project}/ads/{platform}/pending", params={"limit": 200}
    )
    return {item["pendingId"] for item in answer.json()["items"]}


def test_one_tick_discovers_the_projects_and_reads_every_list(engine):
    tick = sync_tick(now=timezone.now(), owner="w1")
    assert tick.ran and not tick.errors
    states = SyncState.objects.all()
    lists = sum(len(p.platforms) for p in MirrorProject.objects.all())
    assert states.count() == lists >= 7 and not states.filter(last_full_refresh_at__isnull=True)
    mirrored = set(
        MirrorAction.objects.filter(project_id=ACME, platform="meta").values_list(
            "pending_id", flat=True
        )
    )
    assert mirrored == pending_ids(engine, "meta")
    assert tick.reads == SyncRead.objects.count()


def test_a_webhook_marks_its_list_dirty_and_the_next_tick_reads_only_that_list(engine, settings):
    from tests.test_webhooks import SECRET, deliver, envelope

    settings.LAYERS_WEBHOOK_SECRET = SECRET
    now = synced(timezone.now(), campaigns=True, ticks=40)
    engine.control("clock", advanceSeconds=10)
    engine.control("pending-bulk", projectId=ACME, platform="meta", count=2)  # no webhook
    run = envelope("ads.optimizer.run.completed", runId="run_01TEST", platform="meta", changes=[])
    assert deliver(Client(), run, SECRET).status_code == 200
    assert SyncState.objects.get(project_id=ACME, platform="meta").dirty_since is not None

    tick = sync_tick(now=now + timedelta(seconds=2), owner="w1")
    assert tick.refreshed == [(ACME, "meta", "changed")]
    # One list read; beside it only the authority of a campaign the new actions name that
    # the mirror had not read yet (their rows' matrices).
    kinds = list(
        SyncRead.objects.filter(at=now + timedelta(seconds=2)).values_list("kind", flat=True)
    )
    assert kinds.count("change") == 1 and set(kinds) <= {"change", "authority"}
    assert tick.reads == len(kinds)
    mirrored = set(
        MirrorAction.objects.pending()
        .filter(project_id=ACME, platform="meta")
        .values_list("pending_id", flat=True)
    )
    assert mirrored == pending_ids(engine, "meta")
    assert SyncState.objects.get(project_id=ACME, platform="meta").dirty_since is None


def test_the_audit_feed_marks_the_list_it_names_and_the_same_tick_reads_it(engine, settings):
    settings.SYNC_FEED = True
    now = synced(timezone.now())  # the first feed read only finds the position
    gone = sorted(pending_ids(engine, "tiktok"))[0]
    engine.api(  # another tool with the same key decides: no webhook reaches us
        "POST",
        f"/v1/projects/{ACME}/ads/tiktok/pending/{gone}/reject",
        json={"reason": "not now"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    ).raise_for_status()
    tick = sync_tick(now=now + timedelta(seconds=11), owner="w1")
    assert tick.marked == 1
    assert (ACME, "tiktok", "changed") in tick.refreshed
    assert not MirrorAction.objects.filter(pk=gone).exists()


def test_the_reconciler_never_spends_more_than_its_share(engine, settings):
    settings.SYNC_READ_SHARE = 0.1  # 12 reads a minute of the standard tier's 120
    settings.SYNC_RECONCILE_MIN_SECONDS = 1
    start = timezone.now()
    before = sandbox_gets(engine)
    for second in range(0, 180, 2):
        sync_tick(now=start + timedelta(seconds=second), owner="w1")
    made = sandbox_gets(engine) - before
    share = budget.share_per_minute()
    assert share == 12
    assert made == SyncRead.objects.count()  # every read the engine made is in its ledger
    assert made <= 3 * share
    reads = sorted(SyncRead.objects.values_list("at", flat=True))
    for at in reads:  # no 60-second window holds more than the share
        assert sum(1 for other in reads if at <= other < at + timedelta(seconds=60)) <= share
    assert not SyncState.objects.filter(last_full_refresh_at__isnull=True)


def test_a_429_backs_the_engine_off_until_layers_says_it_may_read_again(engine):
    now = synced(timezone.now())
    SyncState.objects.filter(project_id=ACME).update(dirty_since=now)
    engine.control("faults", faults=[{"kind": "rate_limited", "retryAfter": 30}])
    tick = sync_tick(now=now + timedelta(seconds=2), owner="w1")
    assert tick.errors and budget.backoff_until(now + timedelta(seconds=3)) is not None
    assert sync_tick(now=now + timedelta(seconds=20), owner="w1").skipped == "backing off"
    tick = sync_tick(now=now + timedelta(seconds=40), owner="w1")
    assert tick.ran and not tick.errors
    assert not SyncState.objects.filter(dirty_since__isnull=False)
    assert budget.backoff_until(now + timedelta(seconds=40)) is None


def test_a_crashed_owners_lease_runs_out_and_another_worker_carries_on(engine, settings):
    settings.SYNC_READ_SHARE = 0.05  # 6 reads a minute: the first owner cannot finish
    now = timezone.now()
    first = sync_tick(now=now, owner="crashed")
    assert first.ran and SyncState.objects.filter(last_full_refresh_at__isnull=True).exists()
    # "crashed" never ticks again; its lease still holds for a while.
    assert sync_tick(now=now + timedelta(seconds=5), owner="w2").skipped == "not the owner"
    later = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS + 1)
    done = synced(later, owner="w2", step=10, ticks=30)
    assert SyncLease.objects.get().owner == "w2"
    # Back from the dead while w2 holds the lease: it does not run.
    assert sync_tick(now=done + timedelta(seconds=1), owner="crashed").skipped == "not the owner"


def test_of_two_workers_ticking_at_once_only_one_owns_the_sync(engine):
    now = timezone.now()
    lease_acquire("setup", now - timedelta(hours=1))  # the row exists; its lease ran out
    barrier = threading.Barrier(2)
    won = {}

    def worker(name):
        from django.db import connection

        try:
            barrier.wait()
            won[name] = lease_acquire(name, now)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won.values()) == [False, True]
    winner = next(n for n, ok in won.items() if ok)
    assert SyncLease.objects.get().owner == winner


def test_refresh_now_queues_one_task_however_often_it_is_asked(engine):
    from django_tasks_db.models import DBTaskResult

    from dashboard.tasks import sync_request_run

    synced(timezone.now())
    assert sync_refresh_request(ACME, "meta") is True
    assert sync_refresh_request(ACME, "meta") is False
    queued = DBTaskResult.objects.filter(task_path=sync_request_run.module_path)
    assert queued.count() == 1 and queued.get().queue_name == "sync"
    state = SyncState.objects.get(project_id=ACME, platform="meta")
    assert state.requested_at and state.dirty_since
    tick = sync_tick(now=timezone.now() + timedelta(seconds=1), owner="w1")
    assert tick.refreshed[0] == (ACME, "meta", "requested")
    state.refresh_from_db()
    assert state.requested_at is None and state.dirty_since is None


def test_t_is_the_lists_divided_by_the_sweeps_reads_a_minute(engine, settings, capsys):
    settings.SYNC_READ_SHARE = 0.25
    settings.SYNC_FEED = True
    settings.SYNC_FEED_SECONDS = 15
    synced(timezone.now())
    # 30 of the standard tier's 120 reads a minute; 5 kept for changes, 4 for the feed.
    assert budget.share_per_minute() == 30
    assert budget.sweep_per_minute() == 21
    lists = SyncState.objects.count()
    assert sync_status().sweep_minutes == pytest.approx(lists / 21)
    assert budget.sweep_minutes(600) == pytest.approx(28.57, abs=0.01)  # 200 customers × 3
    call_command("sync_status")
    out = capsys.readouterr().out
    assert f"T (sweep period) {lists / 21:.1f} min" in out and "owner" in out


def test_two_workers_ticking_at_the_same_moment_never_both_read(engine):
    now = timezone.now()
    barrier = threading.Barrier(2)
    ticks = {}

    def worker(name):
        from django.db import connection

        try:
            barrier.wait()
            ticks[name] = sync_tick(now=now, owner=name)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(t.skipped for t in ticks.values()) == ["", "not the owner"]
    ran = next(name for name, t in ticks.items() if t.ran)
    assert SyncRead.objects.count() == ticks[ran].reads


def test_the_worker_runs_a_queued_tick_on_the_sync_queue_and_queues_the_next(engine):
    from django_tasks_db.models import DBTaskResult

    from dashboard.services.sync.tick import sync_tick_schedule
    from dashboard.tasks import sync_tick_run

    assert sync_tick_schedule() is True
    assert sync_tick_schedule() is False  # one is waiting already
    DBTaskResult.objects.update(run_after=timezone.now())  # due now, not in two seconds
    worker_make(queue_names=["sync"], interval=0, batch=True, worker_id="test-sync-worker").run()
    ticks = DBTaskResult.objects.filter(task_path=sync_tick_run.module_path)
    assert ticks.filter(status="SUCCESSFUL").count() == 1
    assert ticks.filter(status="READY").count() == 1  # the next tick
    assert not SyncState.objects.filter(last_full_refresh_at__isnull=True)


def test_while_changes_come_the_sweep_slows_down_to_leave_them_the_budget(engine, settings):
    settings.SYNC_READ_SHARE = 0.25
    now = timezone.now()
    at_rest = budget.sweep_rate(now)
    for _ in range(5):
        budget.read_note(kind="change", at=now - timedelta(seconds=10))
    assert budget.sweep_rate(now) == at_rest - 5
    assert budget.sweep_rate(now + timedelta(seconds=61)) == at_rest  # a minute later


def test_when_peoples_reads_have_nearly_emptied_the_keys_bucket_the_engine_stands_aside(
    engine,
):
    import time

    from dashboard.layers import RateLimit
    from dashboard.services.upstream import budget_record

    now = synced(timezone.now())
    SyncState.objects.update(dirty_since=now)
    # What the last answer to a person's read said: 5 of 120 left until the minute ends.
    budget_record(RateLimit("read-light", limit=120, remaining=5, reset=int(time.time()) + 30))
    before = SyncRead.objects.count()
    assert sync_tick(now=now + timedelta(seconds=2), owner="w1").skipped == "budget"
    assert SyncRead.objects.count() == before


def test_a_server_error_backs_the_engine_off_a_little_longer_each_time(engine):
    now = synced(timezone.now())
    SyncState.objects.filter(project_id=ACME).update(dirty_since=now)
    fault = {"kind": "status", "status": 503, "pathContains": "/pending", "count": 2}
    engine.control("faults", faults=[fault])
    sync_tick(now=now + timedelta(seconds=2), owner="w1")
    first = budget.backoff_until(now + timedelta(seconds=2))
    assert first == now + timedelta(seconds=2 + budget.BACKOFF_START)
    sync_tick(now=first, owner="w1")
    assert budget.backoff_until(first) == first + timedelta(seconds=2 * budget.BACKOFF_START)
    later = first + timedelta(seconds=11)
    tick = sync_tick(now=later, owner="w1")
    assert tick.ran and not tick.errors and budget.backoff_until(later) is None


def test_the_engine_learns_the_keys_tier_from_the_rate_limit_headers(engine, settings):
    settings.SYNC_DEFAULT_READS_PER_MINUTE = 60
    settings.SYNC_READ_SHARE = 0.25
    assert budget.share_per_minute() == 15  # nothing learnt yet: the fallback
    engine.control("rate-tier", tier="pilot")
    sync_tick(now=timezone.now(), owner="w1")
    assert budget.reads_per_minute() == 1200
    assert budget.share_per_minute() == 300
