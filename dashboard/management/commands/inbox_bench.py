"""`manage.py inbox_bench`: the inbox at partner scale, measured against its floors.

Starts, on loopback only, the sandbox (gunicorn) with N generated customers (200 by
default: about 6,000 pending actions) and the dashboard as production runs it: gunicorn with
gunicorn.conf.py (WEB_CONCURRENCY processes x GUNICORN_THREADS threads, sharing Redis at
127.0.0.1:6379 under a key prefix of this run's own; without Redis, one process, as
production must), production settings and no task worker (nothing reads Layers in the
background while it is measured). The mirror is filled once the way the sync engine fills
it; then, with 150 ms of upstream latency:

1. the inbox page (50 lines of ~6,000) against one direct upstream list call;
2. its HTML per line, and the server time per line against a bare Django template line of
   the same cells, rendered from the same rows in the same process (`--probe`);
3. the page's p95 for 50 people using the inbox at once against one person's p95, each
   person doing the same thing (a page, 2.5 s, the live poll, 2.5 s, again) for the same
   time, from the same start (the pages they will ask for loaded once before each run);
   during these two runs the sync engine runs as in production (`db_worker --queue-name
   sync`, default share) and the sandbox counts every upstream read: the reads per minute
   at rest with 1 and with 50 people.

It asserts nothing (machines here are noisy): it prints figures and ratios.

    manage.py inbox_bench            # the full run (about two minutes)
    manage.py inbox_bench --tiny     # seconds; proves the harness still works (the sandbox
                                     # in the dashboard's one process)
"""

import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from django.core.management import BaseCommand

from dashboard.management.bench_schema import migrated_databases
from dashboard.management.commands._bench_figures import pct, timed
from dashboard.management.commands._bench_stack import ROOT, Stack

TARGETS = {"page": 0.25, "bytes": 1536, "row_ratio": 3.0, "row_us": 150, "concurrency": 1.5}
FILL = """
from dashboard.models.mirror import SyncState
from dashboard.services.mirror import mirror_projects_refresh, mirror_refresh
mirror_projects_refresh()
for project_id, platform in SyncState.objects.values_list("project_id", "platform"):
    mirror_refresh(project_id, platform)
from dashboard.models.mirror import MirrorAction
print(MirrorAction.objects.pending().count())
"""
# A bare Django template line of the inbox's cells: the floor a line is measured against.
FLOOR = (
    "{% load ui %}{% for r in rows %}<tr><td>{{ r.box }}</td><td>{{ r.customer }}</td>"
    "<td>{{ r.platform|platform }}</td><td><b>{{ r.action|words }}</b> {{ r.name }}</td>"
    "<td>{{ r.change }}</td><td>{% if r.spend %}{% amount r.spend r.currency r.locale %}"
    "{% endif %}</td><td>{{ r.axis }}</td><td>{{ r.expires|timeuntil }}</td>"
    '<td><a href="{{ r.url }}">Details</a></td></tr>{% endfor %}'
)


REDIS_DB = 14  # the suite's workers count up from CACHE_URL's database (0 by default)


class LeanStack(Stack):
    """The sandbox with N customers and one dashboard; no task worker."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Other runs (a bench, a soak, a suite) may share this Redis: this run's keys carry a
        # prefix of their own and are deleted at the end; no database is emptied.
        self.prefix = f"inbox-bench-{uuid.uuid4().hex[:12]}"

    def cache(self, name: str) -> dict:
        if not self.shared_cache:
            return {}
        return {"CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}?key_prefix={self.prefix}-{name}"}

    def start(self, customers: int):
        if self.together:
            return self.start_together(customers)
        self.sandbox_env = self.env(
            "sandbox.db",
            REDIS_DB,
            SANDBOX_ENABLED="true",
            SANDBOX_RATE_TIER="off",
            **self.cache("sandbox"),
        )
        migrated_databases(
            ROOT, self.sandbox_env, self.dir / "sandbox.db", self.dir / "dashboard.db"
        )
        self.warm_env = self.env(
            "dashboard.db",
            REDIS_DB,
            SANDBOX_ENABLED="false",
            LAYERS_API_BASE_URL=self.sandbox,
            LAYERS_API_KEY=self.demo_key,
            SYNC_ENABLED="false",
            **self.cache("dashboard"),
        )
        # gunicorn.conf.py decides processes and threads, as in production. Without Redis the
        # cache is per process, so one process (as settings.py demands); the tiny run proves
        # the harness with one.
        if not self.shared_cache or self.tiny:
            self.warm_env["WEB_CONCURRENCY"] = "1"
        else:
            self.warm_env.pop("WEB_CONCURRENCY", None)
        self.warm_env.pop("GUNICORN_THREADS", None)
        self.manage_together(
            (self.sandbox_env, ("sandbox_seed",)), (self.warm_env, ("collectstatic", "--noinput"))
        )
        self.sandbox_proc = self.gunicorn(
            self.sandbox_env, self.sandbox_port, "sandbox", workers=self.workers, threads="16"
        )
        self.warm_proc = self.dashboard_gunicorn()
        for port in (self.sandbox_port, self.warm_port):
            self.wait_up(f"http://127.0.0.1:{port}/health/live")
        self.control("customers", count=customers)
        filled = subprocess.run(
            # The bench's person is made in the same process (one Django start fewer).
            [sys.executable, "manage.py", "shell", "-c", self.person() + FILL],
            cwd=ROOT,
            env=self.warm_env,
            check=True,
            capture_output=True,
            text=True,
        )
        return int(filled.stdout.strip().splitlines()[-1])

    def start_together(self, customers: int):
        """The tiny run: the sandbox mounted in the one dashboard process (as `make run`
        does), set up by one `manage.py` run, filled (and probed) by another."""
        self.warm_env = self.env(
            "dashboard.db",
            REDIS_DB,
            SANDBOX_ENABLED="true",
            SANDBOX_RATE_TIER="off",
            LAYERS_API_BASE_URL=self.sandbox,
            LAYERS_API_KEY=self.demo_key,
            SYNC_ENABLED="false",
            WEB_CONCURRENCY="1",
            # The fill's and the sync engine's reads come back to the same process.
            GUNICORN_THREADS="8",
            **self.cache("dashboard"),
        )
        self.sandbox_env = self.warm_env
        migrated_databases(ROOT, self.warm_env, self.dir / "dashboard.db")
        seed = (
            "from django.core.management import call_command\n"
            "call_command('sandbox_seed')\n"
            "call_command('collectstatic', '--noinput', verbosity=0)\n"
        )
        self.manage(self.warm_env, "shell", "-c", seed)
        self.sandbox_proc = self.warm_proc = self.dashboard_gunicorn()
        self.wait_up(f"http://127.0.0.1:{self.warm_port}/health/live")
        self.control("customers", count=customers)
        probe = (
            "import json\n"
            "from dashboard.management.commands.inbox_bench import render_probe\n"
            "print(json.dumps(render_probe(repeat=20)))\n"
        )
        filled = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", self.person() + FILL + probe],
            cwd=ROOT,
            env=self.warm_env,
            check=True,
            capture_output=True,
            text=True,
        )
        *_, pending, probed = filled.stdout.strip().splitlines()
        self.probed = json.loads(probed)
        return int(pending)

    def dashboard_gunicorn(self):
        return self.spawn(
            self.warm_env,
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "dashboard.wsgi",
            "-b",
            f"127.0.0.1:{self.warm_port}",
            "--timeout",
            "120",
            name="dashboard",
        )

    def sync_worker_start(self):
        """The sync engine, as `make run` and production run it, from here on."""
        env = {**self.warm_env, "SYNC_ENABLED": "true"}
        worker = ("db_worker", "--no-reload", "--interval", "0.5", "--queue-name", "sync")
        if self.together:
            # One Django start: the engine's first run queued, then the worker, in one process.
            code = (
                "from django.core.management import call_command\n"
                f"call_command('sync_start')\ncall_command(*{worker!r})\n"
            )
            self.spawn(env, sys.executable, "manage.py", "shell", "-c", code, name="sync-worker")
            return
        started = subprocess.run(
            [sys.executable, "manage.py", "sync_start"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        self.out.write(f"  … {started.stdout.strip()}")
        self.spawn(env, sys.executable, "manage.py", *worker, name="sync-worker")

    def gets(self) -> int:
        return self.control("stats")["calls"].get("GET", 0)

    def engine_reads(self, since: str, until: str) -> int:
        """The sync engine's own reads between two instants, from its ledger (SyncRead)."""
        import sqlite3

        with sqlite3.connect(self.dir / "dashboard.db", timeout=30) as db:
            return db.execute(
                "SELECT count(*) FROM dashboard_syncread WHERE at >= ? AND at < ?", (since, until)
            ).fetchone()[0]

    def serving(self) -> str:
        """How the dashboard is served, as gunicorn.conf.py decided."""
        import multiprocessing

        workers = self.warm_env.get("WEB_CONCURRENCY") or min(
            2 * multiprocessing.cpu_count() + 1, 8
        )
        threads = self.warm_env.get("GUNICORN_THREADS") or 4
        cache = "Redis shared by the processes" if self.shared_cache else "no Redis"
        return f"{workers} gunicorn processes x {threads} threads, {cache}"

    def stop(self):
        super().stop()
        if self.shared_cache:
            import redis

            r = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
            for key in r.scan_iter(match=f"{self.prefix}-*", count=1000):
                r.delete(key)

    def person(self) -> str:
        return (
            "from django.contrib.auth.models import User\n"
            f"User.objects.create_superuser('bench', 'bench@example.com', '{self.password}')\n"
        )

    def probe(self) -> dict:
        if self.together:
            return self.probed  # measured by the fill's process, in the same database
        tiny = ("--tiny",) if self.tiny else ()
        done = subprocess.run(
            [sys.executable, "manage.py", "inbox_bench", "--probe", *tiny],
            cwd=ROOT,
            env=self.warm_env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])


class Command(BaseCommand):
    help = "Measure the inbox at partner scale against its floors (loopback only)."

    def add_arguments(self, parser):
        parser.add_argument("--tiny", action="store_true", help="seconds, to prove it runs")
        parser.add_argument("--customers", type=int, default=200)
        parser.add_argument("--keep", action="store_true", help="keep the logs folder")
        parser.add_argument("--probe", action="store_true", help=argparse_hidden())

    def handle(self, *args, tiny=False, customers=200, keep=False, probe=False, **options):
        if probe:
            self.stdout.write(json.dumps(render_probe(repeat=20 if tiny else 200)))
            return
        from django.conf import settings

        customers = 4 if tiny else customers
        workdir = Path(tempfile.mkdtemp(prefix="layers-inbox-bench-"))
        stack = LeanStack(workdir, tiny, self.stdout, together=tiny)
        stack.demo_key, stack.password = settings.SANDBOX_DEMO_KEY, "bench-password"
        started = time.monotonic()
        try:
            pending = stack.start(customers)
            self.stdout.write(f"  … {customers} customers, {pending} pending in the mirror")
            figures = {"customers": customers, "pending": pending, "serving": stack.serving()}
            figures["load_before"] = _load()
            figures |= self.page_vs_upstream(stack, tiny)
            figures |= stack.probe()
            figures |= self.concurrency(stack, tiny)
            figures["load_after"] = _load()
        finally:
            stack.stop()
            if not keep:
                shutil.rmtree(workdir, ignore_errors=True)
        self.print_table(figures, time.monotonic() - started)

    def page_vs_upstream(self, stack, tiny) -> dict:
        n = 3 if tiny else 20
        stack.control("latency", ms=150)
        project = stack.upstream_get("/v1/projects", limit=1).json()["items"][0]["id"]
        direct = timed(
            lambda: stack.upstream_get(f"/v1/projects/{project}/ads/meta/pending", limit=50), n
        )
        viewer = stack.session(stack.warm_port)
        url = f"{viewer.base}/inbox/"
        html = viewer.get(url, timeout=60).text  # warm-up
        calls_before = sum(stack.control("stats")["calls"].values())
        page = timed(lambda: viewer.get(url, timeout=60).raise_for_status(), n)
        calls = sum(stack.control("stats")["calls"].values()) - calls_before
        body = re.search(r"<tbody[^>]*>(.*?)</tbody>", html, re.S)
        lines = len(re.findall(r'<tr id="ix-', html))
        return {
            "direct_ms": statistics.median(direct) * 1000,
            "page_ms": statistics.median(page) * 1000,
            "page_p95_ms": pct(page, 95) * 1000,
            "page_upstream_calls": calls,
            "lines": lines,
            "bytes_per_line": len(body.group(1).encode()) / lines if body and lines else 0,
            "page_bytes": len(html.encode()),
        }

    def concurrency(self, stack, tiny) -> dict:
        """People using the inbox: each loads a page (a random sort and one of the first
        three pages), waits, polls for new actions, waits, and loads again. One person
        (three times, pooled: a person makes only a few loads in a run) and then 50 do exactly
        that for the same time. Before each run every page they may ask for is loaded by
        every gunicorn process (new connections, in parallel), so each run starts from warm
        processes and the same cache, and no cache entry runs out (INBOX_CACHE_SECONDS, 30 s)
        within a run."""
        seconds = 1 if tiny else 28
        people = 5 if tiny else 50
        think = 0.25 if tiny else 2.5
        template = stack.session(stack.warm_port)
        errors = []
        pages = [{"sort": sort, "page": n} for sort in ("", "spend", "newest") for n in (1, 2, 3)]
        reads, engine = {}, {}
        stack.sync_worker_start()
        # The fill's reads are in the engine's ledger: a minute for them to leave its window
        # (and for the engine to settle into its pace) before anything is measured.
        time.sleep(1 if tiny else 60)

        def warm():
            def one(n):
                url = f"{template.base}/inbox/"
                headers = {"Connection": "close"}  # a new connection: any process
                requests.get(
                    url,
                    params=pages[n % len(pages)],
                    cookies=template.cookies,
                    headers=headers,
                    timeout=60,
                )
                requests.get(
                    f"{url}fresh",
                    params={"after": "2020-01-01T00:00:00Z"},
                    cookies=template.cookies,
                    headers=headers,
                    timeout=60,
                )

            with ThreadPoolExecutor(10) as pool:
                # One process in the tiny run: each page once warms it.
                list(pool.map(one, range(len(pages) * (1 if tiny else 5))))

        def run(count) -> list:
            warm()
            times, lock, stop = [], threading.Lock(), time.monotonic() + seconds
            errors.clear()
            before, started, since = stack.gets(), time.monotonic(), _utc()

            def person(seed):
                rng = random.Random(seed)
                s = requests.Session()
                s.cookies.update(template.cookies)
                time.sleep(rng.uniform(0, think * 2))  # people do not arrive together
                while time.monotonic() < stop:
                    query = {"sort": rng.choice(["", "spend", "newest"]), "page": rng.randint(1, 3)}
                    start = time.perf_counter()
                    try:
                        s.get(f"{template.base}/inbox/", params=query, timeout=60)
                        with lock:
                            times.append(time.perf_counter() - start)
                        time.sleep(think)
                        poll = {"after": "2020-01-01T00:00:00Z"}
                        s.get(f"{template.base}/inbox/fresh", params=poll, timeout=60)
                    except requests.RequestException:
                        with lock:
                            errors.append(1)
                    time.sleep(think)

            threads = [threading.Thread(target=person, args=(n,)) for n in range(count)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            minutes = (time.monotonic() - started) / 60
            reads[count] = reads.get(count, 0) + (stack.gets() - before) / minutes
            engine[count] = engine.get(count, 0) + stack.engine_reads(since, _utc()) / minutes
            return times

        one, one_failed, repeats = [], 0, 1 if tiny else 3
        for _ in range(repeats):
            one += run(1)
            one_failed += len(errors)
        reads[1], engine[1] = reads[1] / repeats, engine[1] / repeats
        many = run(people)
        return {
            "people": people,
            "seconds": seconds,
            "one_p50_ms": pct(one, 50) * 1000,
            "one_p95_ms": pct(one, 95) * 1000,
            "one_loads": len(one),
            "one_failed": one_failed,
            "many_p50_ms": pct(many, 50) * 1000,
            "many_p95_ms": pct(many, 95) * 1000,
            "many_loads": len(many),
            "many_failed": len(errors),
            "one_reads_per_min": reads[1],
            "many_reads_per_min": reads[people],
            "one_engine_per_min": engine[1],
            "many_engine_per_min": engine[people],
            "one_runs": repeats,
        }

    def print_table(self, f, elapsed):
        from django.conf import settings

        w = self.stdout.write
        page_ratio = f["page_ms"] / f["direct_ms"]
        row_ratio = f["line_us"] / f["floor_us"]
        conc = f["many_p95_ms"] / f["one_p95_ms"]

        def met(ok):
            return "met" if ok else "NOT met"

        w("")
        w(
            f"Inbox bench: {f['customers']} customers, {f['pending']} pending in the mirror, "
            f"150 ms upstream latency ({elapsed:.0f} s)"
        )
        w(
            f"Served by {f['serving']}; load average {f['load_before']} before, "
            f"{f['load_after']} after"
        )
        w("measure                                   figure                 ratio   target")
        w(
            f"1. Inbox page (50 lines) vs one upstream  {f['page_ms']:.0f} ms vs "
            f"{f['direct_ms']:.0f} ms        {page_ratio:.2f}    ≤ {TARGETS['page']} "
            f"{met(page_ratio <= TARGETS['page'])}"
        )
        w(
            f"   upstream calls while serving the page  {f['page_upstream_calls']}; one viewer's "
            f"p95 {f['page_p95_ms']:.0f} ms"
        )
        w(
            f"2. HTML per line                          {f['bytes_per_line']:.0f} B "
            f"({f['lines']} lines, page {f['page_bytes'] / 1024:.1f} KB)   ≤ 1.5 KB "
            f"{met(f['bytes_per_line'] <= TARGETS['bytes'])}"
        )
        w(
            f"   server time per line vs bare template  {f['line_us']:.0f} µs vs "
            f"{f['floor_us']:.0f} µs      {row_ratio:.2f}    ≤ {TARGETS['row_ratio']} "
            f"{met(row_ratio <= TARGETS['row_ratio'])}; ≤ 0.15 ms "
            f"{met(f['line_us'] <= TARGETS['row_us'])}"
        )
        w(
            f"   a line as served from the cache        {f['line_cached_us']:.1f} µs "
            "(everyone after the first viewer since the mirror's last write)"
        )
        w(
            f"   the page's query and rows (service)    {f['service_ms']:.1f} ms computed, "
            f"{f['service_cached_ms']:.1f} ms from the cache"
        )
        w(
            f"3. p95, {f['people']} people vs 1 person         {f['many_p95_ms']:.0f} ms vs "
            f"{f['one_p95_ms']:.0f} ms      {conc:.2f}    ≤ {TARGETS['concurrency']} "
            f"{met(conc <= TARGETS['concurrency'])}"
        )
        w(
            f"   each run {f['seconds']} s: 1 person ({f['one_runs']} runs) "
            f"{f['one_loads']} page loads "
            f"(p50 {f['one_p50_ms']:.0f} ms, {f['one_failed']} failed), {f['people']} people "
            f"{f['many_loads']} (p50 {f['many_p50_ms']:.0f} ms, {f['many_failed']} failed)"
        )
        share = int(settings.SYNC_DEFAULT_READS_PER_MINUTE * settings.SYNC_READ_SHARE)
        flat = f["many_reads_per_min"] / f["one_reads_per_min"] if f["one_reads_per_min"] else 0
        w(
            f"4. upstream reads/min at rest, sync on     1 person {f['one_reads_per_min']:.1f}, "
            f"{f['people']} people {f['many_reads_per_min']:.1f} (ratio {flat:.2f})   "
            f"≤ {share} {met(max(f['one_reads_per_min'], f['many_reads_per_min']) <= share)}"
        )
        w(
            f"   of which the sync engine's (its ledger)  {f['one_engine_per_min']:.1f} and "
            f"{f['many_engine_per_min']:.1f}; the pages' the rest"
        )


def _utc() -> str:
    """Now as Django stores a time in SQLite (UTC), to compare with stored times."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _load() -> str:
    """The machine's load average over 1, 5 and 15 minutes (other work shares it)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def render_probe(repeat: int) -> dict:
    """In the dashboard's own process and database: the inbox's lines as it draws them
    against a bare Django template of the same cells, from the same 50 rows; the page's
    service and its lines when computed (a cache miss: the first viewer after a mirror
    write) and as everyone after gets them (from the cache)."""
    from django.contrib.auth import get_user_model
    from django.template import engines
    from django.test import override_settings
    from django.urls import reverse
    from django.utils import timezone

    from dashboard.services.inbox import InboxFilters, inbox_page
    from dashboard.templatetags.inbox import PLACE, _change, inbox_line, inbox_rows

    user = get_user_model().objects.get(username="bench")
    times = max(1, repeat // 10)
    with override_settings(INBOX_CACHE_SECONDS=0):
        service = _best(lambda: inbox_page(user=user, filters=InboxFilters()), times)
    page = inbox_page(user=user, filters=InboxFilters())
    service_cached = _best(lambda: inbox_page(user=user, filters=InboxFilters()), times)
    lines_cached = _best(lambda: inbox_rows({}, page), repeat)
    rows = page.rows
    detail = reverse("inbox-detail", args=[PLACE + "1", PLACE + "2", PLACE + "3"])
    now = timezone.now()
    floor_rows = [
        {
            "box": "",
            "customer": r.project_name,
            "platform": r.platform,
            "action": r.action_type,
            "name": r.entity_name,
            "change": _change(r),
            "spend": r.spend_change_minor,
            "currency": r.currency,
            "locale": r.locale,
            "axis": r.axis,
            "expires": r.expires_at,
            "url": f"/inbox/{r.project_id}/{r.platform}/{r.pending_id}/",
        }
        for r in rows
    ]
    template = engines["django"].from_string(FLOOR)
    ours = _best(lambda: "".join(inbox_line(r, detail, now) for r in rows), repeat)
    floor = _best(lambda: template.render({"rows": floor_rows}), repeat)
    count = max(1, len(rows))
    return {
        "line_us": ours / count * 1e6,
        "floor_us": floor / count * 1e6,
        "line_cached_us": lines_cached / count * 1e6,
        "service_ms": service * 1000,
        "service_cached_ms": service_cached * 1000,
    }


def _best(fn, repeat) -> float:
    """The median of `repeat` runs (seconds)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
