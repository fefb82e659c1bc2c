"""A bulk decision survives its worker dying: a bulk left running without a live worker is
queued again (by the next bulk task, `manage.py bulk_recover`, or its page) and finishes,
and no action is decided twice, because every item owns its idempotency key."""

import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from dashboard.models import BulkDecision, DecisionRecord
from tests.conftest import ACME, PASSWORD
from tests.test_bulk import executed, run_worker, start_bulk
from tests.test_queue import pending_items

ROOT = Path(__file__).resolve().parent.parent
APPLIED = ("approved", "rejected", "dispatched", "dispatch_failed")


def this_database_url() -> str:
    """DATABASE_URL for the database this test runs on (SQLite's file or PostgreSQL's
    test_… database), so a second process sees the rows the test writes."""
    given = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{given['NAME']}"
    user = quote(given["USER"] or "", safe="")
    password = f":{quote(given['PASSWORD'], safe='')}" if given["PASSWORD"] else ""
    port = f":{given['PORT']}" if given["PORT"] else ""
    login = f"{user}{password}@" if user else ""
    return f"postgres://{login}{given['HOST'] or 'localhost'}{port}/{given['NAME']}"


def worker_process(sandbox, settings):
    """`manage.py db_worker` as its own process on the test database, as `make run` starts
    it: the process the test kills."""
    env = {
        **os.environ,
        "DATABASE_URL": this_database_url(),
        "LAYERS_API_BASE_URL": sandbox.base_url,
        "LAYERS_API_KEY": sandbox.key,
        "DJANGO_DEBUG": "true",
        "DASHBOARD_LOG_LEVEL": "WARNING",
    }
    env.pop("CACHE_URL", None)
    # stderr goes to a file, not a pipe (a pipe could fill and block it); the file lives as
    # long as the worker.
    log = tempfile.TemporaryFile()  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    worker.log = log
    return worker


def test_a_bulk_whose_worker_was_killed_mid_way_is_finished_by_the_next_worker_deciding_each_action_once(  # noqa: E501 - the name is the test's sentence
    sandbox, people, client, settings, transactional_db
):
    assert client.login(username="approver", password=PASSWORD)
    items = pending_items(sandbox, "meta")[:5]
    start_bulk(client, "approve", [f"meta:{i['pendingId']}" for i in items], text="Plan")
    bulk = BulkDecision.objects.get()
    sandbox.control("latency", ms=1500)  # every Layers call takes 1.5 s: the kill lands mid-way

    worker = worker_process(sandbox, settings)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if bulk.items.exclude(outcome="").exists():
                break
            if worker.poll() is not None:  # it could not start: say why now, not in 4 minutes
                worker.log.seek(0)
                raise AssertionError(f"the worker exited: {worker.log.read().decode()}")
            time.sleep(0.2)
        else:
            raise AssertionError("the worker decided nothing in four minutes")
        time.sleep(0.7)  # the next item is on its way to Layers when the worker dies
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    sandbox.control("latency", ms=0)
    bulk.refresh_from_db()
    decided_by_the_dead = bulk.items.exclude(outcome="").count()
    assert bulk.status == "running" and decided_by_the_dead < 5

    settings.BULK_STALE_SECONDS = 1
    time.sleep(1.5)  # no heartbeat for longer than that: the worker is gone
    said = io.StringIO()
    call_command("bulk_recover", stdout=said)
    assert said.getvalue().startswith("1 bulk decision queued again")
    run_worker()

    bulk.refresh_from_db()
    assert bulk.status == "done"
    assert sorted(bulk.items.values_list("outcome", flat=True)) == ["decided"] * 5
    assert executed(sandbox, "approve") == 5  # each action once, the in-flight one included
    records = DecisionRecord.objects.filter(action="approve", outcome__in=APPLIED)
    assert sorted(records.values_list("entity_id", flat=True)) == sorted(
        i["pendingId"] for i in items
    )


def test_the_next_bulk_task_picks_up_one_left_running_and_leaves_a_live_one_alone(
    sandbox, people, client, settings
):
    assert client.login(username="approver", password=PASSWORD)
    meta = pending_items(sandbox, "meta")
    start_bulk(client, "approve", [f"meta:{meta[0]['pendingId']}"], text="Stuck")
    start_bulk(client, "approve", [f"meta:{meta[1]['pendingId']}"], text="Alive")
    stuck, alive = BulkDecision.objects.order_by("text").reverse()
    assert (stuck.text, alive.text) == ("Stuck", "Alive")
    old, now = timezone.now() - timedelta(minutes=10), timezone.now()
    # Their tasks were taken by workers: one died ten minutes ago, one is working now.
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.update(status="RUNNING", started_at=old)
    BulkDecision.objects.filter(id=stuck.id).update(status="running", heartbeat_at=old)
    BulkDecision.objects.filter(id=alive.id).update(status="running", heartbeat_at=now)

    start_bulk(
        client,
        "reject",
        [f"tiktok:{pending_items(sandbox, 'tiktok')[0]['pendingId']}"],
        text="Another bulk, later",
    )
    run_worker()

    stuck.refresh_from_db()
    alive.refresh_from_db()
    assert stuck.status == "done" and stuck.items.get().outcome == "decided"
    assert alive.status == "running" and alive.items.get().outcome == ""
    assert executed(sandbox, "approve") == 1


def test_a_stopped_bulk_says_so_on_its_page_and_can_be_resumed_from_there(
    sandbox, people, client, settings
):
    assert client.login(username="approver", password=PASSWORD)
    meta = pending_items(sandbox, "meta")[:2]
    response = start_bulk(client, "approve", [f"meta:{i['pendingId']}" for i in meta], text="Go")
    bulk = BulkDecision.objects.get()
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.update(status="RUNNING")  # taken by a worker that then died
    BulkDecision.objects.filter(id=bulk.id).update(
        status="running", heartbeat_at=timezone.now() - timedelta(minutes=10)
    )

    page = client.get(response.headers["Location"]).content.decode()
    assert "Stopped" in page and "The worker deciding these stopped" in page
    assert "Resume: 2 left to decide" in page
    resumed = client.post(reverse("queue-bulk-resume", args=[ACME, bulk.id]))
    assert resumed.headers["Location"] == response.headers["Location"]
    run_worker()

    bulk.refresh_from_db()
    assert bulk.status == "done" and executed(sandbox, "approve") == 2
    page = client.get(response.headers["Location"]).content.decode()
    assert "Finished" in page and "Stopped" not in page


def test_a_viewer_cannot_resume_a_bulk_decision(sandbox, people, client):
    assert client.login(username="approver", password=PASSWORD)
    start_bulk(client, "approve", [f"meta:{pending_items(sandbox, 'meta')[0]['pendingId']}"])
    bulk = BulkDecision.objects.get()
    assert client.login(username="viewer", password=PASSWORD)
    assert client.post(reverse("queue-bulk-resume", args=[ACME, bulk.id])).status_code == 403
