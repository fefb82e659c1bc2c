"""`manage.py sync_bench`: the mirror's sync engine at partner scale, measured.

Starts on loopback only: the sandbox (its own gunicorn and database, the standard rate tier
enforced, `sandbox_seed --customers N`, webhooks signed to the dashboard, the optimizer
proposing over time) and a dashboard (gunicorn receiving the webhooks) with its sync worker
(`db_worker --queue-name sync`). Then it measures, from the sandbox's own call counter and
the dashboard's database, and prints figures and ratios:

* T, the sweep period: every list is read at least this often with no webhook and no feed;
* upstream reads a minute at rest (the engine's steady state) ÷ its share (target ≤ 1);
* webhook → row: from the moment the dashboard received the webhook of the optimizer run
  that proposed an action until its row is in the mirror, p50 and p95 (target p95 ≤ 10 s);
  and proposal → row, from the action's creation (which adds the sandbox's delivery).

    manage.py sync_bench                  # 200 customers, about five minutes
    manage.py sync_bench --tiny           # 3 customers, seconds; the sandbox in the
                                          # dashboard's process (the suite runs it)

`manage.py bench` can run it too: `call_command("sync_bench", tiny=tiny, stdout=...)`."""

import json
import math
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.core.management import BaseCommand

from dashboard.management.bench_schema import migrated_databases
from dashboard.management.commands._bench_figures import pct
from dashboard.management.commands._bench_stack import ROOT, Stack, free_port

SECRET = "whsec_sync_bench_" + uuid.uuid4().hex


class SyncStack(Stack):
    """The sandbox, a dashboard receiving its webhooks, and the dashboard's sync worker."""

    def start_sync(self, customers: int, tick: float, share: float):
        if self.together:
            return self.start_together(customers, tick, share)
        self.dashboard_port = free_port()
        self.sandbox_env = self.env(
            "sandbox.db", 12, SANDBOX_ENABLED="true", SANDBOX_RATE_TIER="standard"
        )
        migrated_databases(
            ROOT, self.sandbox_env, self.dir / "sandbox.db", self.dir / "dashboard.db"
        )
        self.manage(self.sandbox_env, "sandbox_seed", "--customers", str(customers))
        self.dash_env = self.env(
            "dashboard.db",
            11,
            SANDBOX_ENABLED="false",
            LAYERS_API_BASE_URL=self.sandbox,
            LAYERS_API_KEY=self.demo_key,
            LAYERS_WEBHOOK_SECRET=SECRET,
            SYNC_TICK_SECONDS=str(tick),
            SYNC_READ_SHARE=str(share),
        )
        if self.shared_cache:
            import redis

            for db in (11, 12):
                redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
        self.gunicorn(self.sandbox_env, self.sandbox_port, "sandbox", workers="1", threads="16")
        self.gunicorn(self.dash_env, self.dashboard_port, "dashboard", workers="1")
        for port in (self.sandbox_port, self.dashboard_port):
            self.wait_up(f"http://127.0.0.1:{port}/health/live")
        self.control(
            "webhooks", url=f"http://127.0.0.1:{self.dashboard_port}/webhooks/layers", secret=SECRET
        )
        self.manage(self.dash_env, "sync_start")
        worker = ("db_worker", "--no-reload", "--interval", "0.2", "--queue-name", "sync")
        self.spawn(self.dash_env, sys.executable, "manage.py", *worker, name="sync-worker")

    def start_together(self, customers: int, tick: float, share: float):
        """The tiny run: the sandbox mounted in the one dashboard process (as `make run`
        does) on one database; its seed, and then the sync engine's start and its worker,
        each in one `manage.py` run."""
        self.dashboard_port = self.sandbox_port
        self.sandbox_env = self.dash_env = self.env(
            "dashboard.db",
            11,
            SANDBOX_ENABLED="true",
            SANDBOX_RATE_TIER="standard",
            LAYERS_API_BASE_URL=self.sandbox,
            LAYERS_API_KEY=self.demo_key,
            LAYERS_WEBHOOK_SECRET=SECRET,
            SYNC_TICK_SECONDS=str(tick),
            SYNC_READ_SHARE=str(share),
        )
        migrated_databases(ROOT, self.dash_env, self.dir / "dashboard.db")
        self.manage(self.dash_env, "sandbox_seed", "--customers", str(customers))
        if self.shared_cache:
            import redis

            redis.Redis(host="127.0.0.1", port=6379, db=11).flushdb()
        # The webhooks and the engine's reads come back to the same process.
        self.gunicorn(self.dash_env, self.dashboard_port, "dashboard", workers="1", threads="16")
        self.wait_up(f"http://127.0.0.1:{self.dashboard_port}/health/live")
        self.control(
            "webhooks", url=f"http://127.0.0.1:{self.dashboard_port}/webhooks/layers", secret=SECRET
        )
        worker = ("db_worker", "--no-reload", "--interval", "0.2", "--queue-name", "sync")
        code = (
            "from django.core.management import call_command\n"
            f"call_command('sync_start')\ncall_command(*{worker!r})\n"
        )
        self.spawn(self.dash_env, sys.executable, "manage.py", "shell", "-c", code, name="sync")

    def db(self):
        return sqlite3.connect(self.dir / "dashboard.db", timeout=30)

    def gets(self) -> int:
        return self.control("stats")["calls"]["GET"]


def _when(text):
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _received(db) -> dict:
    """pendingId -> when its webhook (the optimizer run that proposed it) reached us."""
    found = {}
    for payload, received_at in db.execute(
        "SELECT payload, received_at FROM dashboard_webhookevent"
        " WHERE event_type = 'ads.optimizer.run.completed'"
    ):
        for change in json.loads(payload).get("data", {}).get("changes") or []:
            if isinstance(change, dict) and change.get("pendingId"):
                found[change["pendingId"]] = _when(received_at)
    return found


def sync_bench_run(
    *, tiny: bool, out, customers: int | None = None, proposals: int = 6
) -> list[tuple]:
    """Runs the measures; answers the table's rows (measure, figure, target, ratio)."""
    from django.conf import settings

    customers = customers or (3 if tiny else 200)
    warmup, window = (1, 6) if tiny else (60, 180)
    per_minute = 60 if tiny else proposals
    share = settings.SYNC_READ_SHARE
    workdir = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    stack = SyncStack(workdir, tiny, out, together=tiny)
    stack.demo_key = settings.SANDBOX_DEMO_KEY
    try:
        stack.start_sync(customers, tick=1.0 if tiny else 2.0, share=share)
        out.write(f"sync bench: {customers} customers; warming up {warmup} s\n")
        time.sleep(warmup)
        stack.control("proposer", perMinute=per_minute, durationSeconds=window + 30)
        before, started, since = stack.gets(), time.monotonic(), datetime.now(UTC)
        first_seen, created = {}, {}
        floor = since.strftime("%Y-%m-%d %H:%M:%S")  # how Django stores times in SQLite
        with stack.db() as db:
            while time.monotonic() - started < window:
                now = datetime.now(UTC)
                for pending_id, created_at in db.execute(
                    "SELECT pending_id, created_at FROM dashboard_mirroraction"
                    " WHERE created_at >= ?",
                    (floor,),
                ):
                    if pending_id not in first_seen and _when(created_at) >= since:
                        first_seen[pending_id], created[pending_id] = now, _when(created_at)
                time.sleep(0.25)
            elapsed = time.monotonic() - started
            reads = stack.gets() - before
            lists = db.execute("SELECT count(*) FROM dashboard_syncstate").fetchone()[0]
            limit = db.execute(
                "SELECT limit_per_minute FROM dashboard_syncbudget WHERE name='read-light'"
            ).fetchone()
            received = _received(db)
        stack.control("proposer", perMinute=0)
    finally:
        stack.stop()
    tier = (limit[0] if limit else None) or settings.SYNC_DEFAULT_READS_PER_MINUTE
    share_reads = max(1, int(tier * share))
    reserve = max(1, math.ceil(share_reads * settings.SYNC_CHANGE_RESERVE))
    feed = 60 / settings.SYNC_FEED_SECONDS if settings.SYNC_FEED else 0
    sweep = max(1.0, share_reads - reserve - feed)
    all_lists = max(lists, customers * 3)  # the discovery may still be under way
    t_minutes = all_lists / sweep
    per_min = reads * 60 / elapsed
    lags = [(first_seen[p] - created[p]).total_seconds() for p in first_seen]
    p50, p95 = pct(lags, 50), pct(lags, 95)
    hooked = [(first_seen[p] - received[p]).total_seconds() for p in first_seen if p in received]
    h50, h95 = pct(hooked, 50), pct(hooked, 95)
    rows = [
        (
            "T (sweep period)",
            f"{t_minutes:.1f} min = {all_lists} lists ÷ {sweep:g} reads/min",
            "—",
            "",
        ),
        (
            "reads/min at rest",
            f"{per_min:.1f} (share {share_reads} of {tier})"
            + (" [tiny: a 6 s sample, first fill included]" if tiny else ""),
            f"≤ {share_reads}",
            f"{per_min / share_reads:.2f}",
        ),
        (
            "webhook → row p95",
            f"{h95:.1f} s (p50 {h50:.1f} s; {len(hooked)} webhooks received)",
            "≤ 10 s",
            f"{h95 / 10:.2f}",
        ),
        (
            "proposal → row p95",
            f"{p95:.1f} s (p50 {p50:.1f} s; {len(lags)} new actions)",
            "",
            "",
        ),
    ]
    out.write(
        f"\nSync engine ({customers} customers, {lists} lists known, {per_minute} proposals/min,"
        f" {elapsed:.0f} s)\n"
    )
    for measure, figure, target, ratio in rows:
        out.write(f"  {measure:<20} {figure:<48} {target:<8} {ratio}\n")
    return rows


class Command(BaseCommand):
    help = "Measure the sync engine at partner scale: T, reads/min at rest, webhook → row."

    def add_arguments(self, parser):
        parser.add_argument("--tiny", action="store_true", help="3 customers, under a minute")
        parser.add_argument("--customers", type=int, default=None)
        parser.add_argument(
            "--proposals",
            type=int,
            default=6,
            help="new pending actions a minute across the customers (default 6: ten times "
            "the 0.6 a minute that 6,000 pending over a 7-day expiry implies)",
        )

    def handle(self, *args, tiny=False, customers=None, proposals=6, **options):
        sync_bench_run(tiny=tiny, out=self.stdout, customers=customers, proposals=proposals)
