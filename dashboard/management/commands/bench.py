"""`make bench`: the dashboard measured against its floor, Layers itself.

Starts, on loopback only, the sandbox as its own gunicorn process (with injected upstream
latency) and the dashboard under gunicorn with production settings, then measures and
prints a table of medians, p95s and ratios. Every loop is bounded and everything it started
is stopped at the end. It asserts nothing: machines here are noisy, so it reports.

    manage.py bench            # the full run (about seven minutes)
    manage.py bench --tiny     # seconds; proves the harness still works (the suite runs it)
"""

import gzip
import os
import re
import shutil
import signal
import socket
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
from django.conf import settings
from django.core.management import BaseCommand

from dashboard.management.bench_schema import migrated_databases

ROOT = Path(settings.BASE_DIR)
ACME = "prj_7d1c5e0a-0001-4c3b-9a51-000000000001"
PASSWORD = "bench-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


def ratio(part, whole) -> str:
    """part / whole to two places; a tiny run on a busy machine can measure 0 (no upstream
    read in its window): then there is nothing to compare, and it says so."""
    return f"{part / whole:.2f}" if whole else "– (nothing measured to compare with)"


def ms(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


class Stack:
    """The processes of one bench run: the sandbox, two dashboards (cold: no read cache;
    warm: the default cache window) and a task worker. All on 127.0.0.1."""

    def __init__(self, workdir: Path, tiny: bool, out):
        self.dir, self.tiny, self.out = workdir, tiny, out
        self.procs: list[subprocess.Popen] = []
        self.shared_cache = redis_available()
        # The tiny run (the suite's) proves the harness with one worker per server.
        self.workers = "2" if self.shared_cache and not tiny else "1"
        self.sandbox_port, self.cold_port, self.warm_port = free_port(), free_port(), free_port()
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}/sandbox"
        self.control_token = "bench-control"

    def env(self, db: str, cache_db: int, **extra) -> dict:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL"))
        }
        env.update(
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="bench-" + uuid.uuid4().hex * 2,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_SECURE_COOKIES="false",
            DJANGO_STATIC_ROOT=str(self.dir / "static"),
            DATABASE_URL=f"sqlite:///{self.dir / db}",
            SANDBOX_CONTROL_TOKEN=self.control_token,
            CACHE_URL=f"redis://127.0.0.1:6379/{cache_db}"
            if self.shared_cache
            else "locmemcache://bench",
            # Without Redis every server runs one worker (self.workers): a per-process cache
            # is then honest.
            DJANGO_ONE_WEB_PROCESS="false" if self.shared_cache else "true",
            DASHBOARD_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            # Decisions go at once: the measures time the send itself (and the soak
            # checks every decision one for one), not the hold before it.
            DECISION_HOLD_SECONDS="0",
        )
        env.update(extra)
        return env

    def manage(self, env, *args):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def manage_together(self, *runs):
        """Several `manage.py` runs (env, args) side by side: each one's Django start overlaps
        the others'. They must touch different databases (or none)."""
        procs = [
            subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for env, args in runs
        ]
        for proc, (_, args) in zip(procs, runs, strict=True):
            _, err = proc.communicate()
            if proc.returncode:
                raise subprocess.CalledProcessError(proc.returncode, args, stderr=err)

    def spawn(self, env, *args, name):
        # The child keeps its own copy of the file descriptor; ours is closed once it started.
        with open(self.dir / f"{name}.log", "w") as log:
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def gunicorn(self, env, port, name, workers=None, threads="8"):
        return self.spawn(
            env,
            sys.executable,
            "-m",
            "gunicorn",
            "dashboard.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            workers or self.workers,
            "-k",
            "gthread",
            "--threads",
            threads,
            "--timeout",
            "120",
            name=name,
        )

    def start(self):
        self.sandbox_env = self.env(
            "sandbox.db", 13, SANDBOX_ENABLED="true", SANDBOX_RATE_TIER="off"
        )
        # Both databases hold the same schema: migrated once, copied.
        migrated_databases(
            ROOT, self.sandbox_env, self.dir / "sandbox.db", self.dir / "dashboard.db"
        )
        common = dict(
            SANDBOX_ENABLED="false",
            LAYERS_API_BASE_URL=self.sandbox,
            LAYERS_API_KEY=settings.SANDBOX_DEMO_KEY,
        )
        self.cold_env = self.env("dashboard.db", 14, LAYERS_CACHE_SECONDS="0", **common)
        self.warm_env = self.env("dashboard.db", 15, **common)
        person = (
            "from django.contrib.auth.models import User; "
            f"User.objects.create_superuser('bench', 'bench@example.com', '{PASSWORD}')"
        )
        self.manage_together(
            (self.sandbox_env, ("sandbox_seed",)),
            (self.warm_env, ("collectstatic", "--noinput")),
            (self.warm_env, ("shell", "-c", person)),
        )
        if self.shared_cache:
            import redis

            for db in (13, 14, 15):
                redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
        self.sandbox_proc = self.gunicorn(
            self.sandbox_env, self.sandbox_port, "sandbox", workers=self.workers, threads="24"
        )
        self.cold_proc = self.gunicorn(self.cold_env, self.cold_port, "cold")
        self.warm_proc = self.gunicorn(self.warm_env, self.warm_port, "warm")
        self.spawn(
            self.warm_env,
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--interval",
            "0.2",
            name="worker",
        )
        for port in (self.sandbox_port, self.cold_port, self.warm_port):
            self.wait_up(f"http://127.0.0.1:{port}/health/live")

    def wait_up(self, url, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not come up; see the logs in {self.dir}")

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def control(self, action, **payload):
        response = requests.post(
            f"{self.sandbox}/_control/{action}",
            json=payload,
            headers={"X-Sandbox-Control-Token": self.control_token},
            timeout=120,
        )
        response.raise_for_status()
        return response.json()

    def upstream_get(self, path, **params):
        return requests.get(
            f"{self.sandbox}{path}",
            params=params,
            timeout=60,
            headers={"Authorization": f"Bearer {settings.SANDBOX_DEMO_KEY}"},
        )

    def session(self, port) -> requests.Session:
        """A person signed in through the login form."""
        s = requests.Session()
        base = f"http://127.0.0.1:{port}"
        html = s.get(f"{base}/login/", timeout=30).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        r = s.post(
            f"{base}/login/",
            data={"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/login/"},
            timeout=30,
            allow_redirects=False,
        )
        assert r.status_code == 302, "bench login failed"
        s.base = base
        return s


def wire_get(session, url) -> tuple[str, int]:
    """The page as text, and how many bytes it took on the wire (gzip included)."""
    response = session.get(url, timeout=120, stream=True)
    raw = response.raw.read(decode_content=False)
    body = gzip.decompress(raw) if response.headers.get("Content-Encoding") == "gzip" else raw
    return body.decode(), len(raw)


def run_each(fn, sessions) -> None:
    """fn(session) in a thread per session, all at once; returns when every one is done."""
    threads = [threading.Thread(target=fn, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def timed(fn, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


class Command(BaseCommand):
    help = "Measure the dashboard against direct upstream calls and print a table (loopback only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tiny", action="store_true", help="a few seconds per measure, to prove it runs"
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the temporary folder with the logs"
        )

    def handle(self, *args, tiny=False, keep=False, **options):
        workdir = Path(tempfile.mkdtemp(prefix="layers-bench-"))
        stack = Stack(workdir, tiny, self.stdout)
        rows = []
        started = time.monotonic()
        try:
            stack.start()
            for measure in (
                self.fan_out,
                self.shared_reads,
                self.rendering,
                self.decision,
                self.bulk,
                self.throughput,
            ):
                rows.extend(measure(stack, tiny))
                self.stdout.write(
                    f"  … {measure.__name__} done ({time.monotonic() - started:.0f} s)"
                )
        finally:
            stack.stop()
            if not keep:
                shutil.rmtree(workdir, ignore_errors=True)
        self.print_table(rows, stack, time.monotonic() - started)

    # --- the measures ----------------------------------------------------------------

    def fan_out(self, stack, tiny):
        stack.control("latency", ms=150)
        n = 2 if tiny else 15
        direct = timed(lambda: stack.upstream_get(f"/v1/projects/{ACME}/ads/meta/pending"), n)
        viewer = stack.session(stack.cold_port)
        url = f"{viewer.base}/projects/{ACME}/queue/"
        viewer.get(url, timeout=60)  # the project record (kept for minutes) and the session warm up
        page = timed(lambda: viewer.get(url, timeout=60).raise_for_status(), n)
        page_ratio = ratio(statistics.median(page), statistics.median(direct))
        # The same seven reads the page makes, sent at once straight to the sandbox: what the
        # sandbox itself needs to answer them side by side on these two cores.
        reads = [f"/v1/projects/{ACME}/ads/campaigns"] + [
            f"/v1/projects/{ACME}/ads/{p}/pending{suffix}"
            for p in ("meta", "tiktok", "apple")
            for suffix in ("", "/count")
        ]
        with ThreadPoolExecutor(max_workers=len(reads)) as pool:
            together = timed(lambda: list(pool.map(stack.upstream_get, reads)), n)
        of_together = ratio(statistics.median(page), statistics.median(together))
        return [
            (
                "1. Fan-out: queue page, 3 platforms, 150 ms per upstream call",
                f"page {ms(statistics.median(page))} (p95 {ms(pct(page, 95))}); "
                f"one direct call {ms(statistics.median(direct))}; "
                f"its 7 reads sent at once, direct {ms(statistics.median(together))}",
                f"{page_ratio} (×{of_together} of the 7 at once)",
                "≤ 1.25",
            )
        ]

    def shared_reads(self, stack, tiny):
        stack.control("latency", ms=150)
        seconds = 2 if tiny else 60
        many = 3 if tiny else 50

        def run(viewers):
            sessions = [stack.session(stack.warm_port) for _ in range(viewers)]
            before = stack.control("stats")["calls"]["GET"]
            times, stop = [], time.monotonic() + seconds

            def poll(s):
                while time.monotonic() < stop:
                    start = time.perf_counter()
                    s.get(f"{s.base}/projects/{ACME}/queue/", timeout=60)
                    times.append(time.perf_counter() - start)
                    time.sleep(1.0)

            run_each(poll, sessions)
            reads = stack.control("stats")["calls"]["GET"] - before
            return reads * 60 / seconds, times

        one_rate, one_times = run(1)
        many_rate, many_times = run(many)
        return [
            (
                f"2. Shared reads: 1 viewer polling {seconds} s",
                f"{one_rate:.0f} upstream GETs/min; "
                f"p50 {ms(pct(one_times, 50))}, p95 {ms(pct(one_times, 95))}",
                "",
                "",
            ),
            (
                f"2. Shared reads: {many} viewers polling {seconds} s",
                f"{many_rate:.0f} upstream GETs/min; "
                f"p50 {ms(pct(many_times, 50))}, p95 {ms(pct(many_times, 95))}",
                f"reads ×{ratio(many_rate, one_rate)}; "
                f"p95 ×{ratio(pct(many_times, 95), pct(one_times, 95))}",
                "reads ×1; p95 ≤ ×1.5",
            ),
        ]

    def rendering(self, stack, tiny):
        """Our own server time: the warm dashboard, its reads cached, upstream latency 0."""
        stack.control("latency", ms=0)
        viewer = stack.session(stack.warm_port)
        url = f"{viewer.base}/projects/{ACME}/queue/?platform=meta"
        have = stack.upstream_get(f"/v1/projects/{ACME}/ads/meta/pending/count").json()["count"]
        out = []
        for size in (50,) if tiny else (50, 500, 2000):
            if size > have:
                stack.control("pending-bulk", projectId=ACME, platform="meta", count=size - have)
                have = size
                time.sleep(
                    0 if tiny else settings.LAYERS_CACHE_SECONDS + 1
                )  # let the cached lists expire
            viewer.get(url, timeout=120)
            times = timed(lambda: viewer.get(url, timeout=120), 3 if tiny else 10)
            html, wire = wire_get(viewer, url)
            rows = html.count('<article class="action')
            per_row = statistics.median(times) / max(rows, 1)
            out.append(
                (
                    f"3. Rendering: queue of {size} pending (reads cached)",
                    f"{rows} rows on the page, {ms(statistics.median(times))}, "
                    f"{len(html) / 1024:.0f} KB of HTML, {wire / 1024:.0f} KB sent (gzip)",
                    f"{per_row * 1000:.2f} ms and {len(html) / max(rows, 1) / 1024:.2f} KB per row "
                    f"({wire / max(rows, 1) / 1024:.2f} KB sent)",
                    "< 1 ms, < 1.5 KB per row; a page stays a page",
                )
            )
        return out

    def decision(self, stack, tiny):
        stack.control("latency", ms=0)
        reviewer = stack.session(stack.warm_port)
        n = 2 if tiny else 15
        ids = [
            i["pendingId"]
            for i in stack.upstream_get(
                f"/v1/projects/{ACME}/ads/tiktok/pending", limit=200
            ).json()["items"]
        ]
        if len(ids) < 2 * n:
            stack.control("pending-bulk", projectId=ACME, platform="tiktok", count=2 * n)
            ids = [
                i["pendingId"]
                for i in stack.upstream_get(
                    f"/v1/projects/{ACME}/ads/tiktok/pending", limit=200
                ).json()["items"]
            ]
        reviewer.get(f"{reviewer.base}/projects/{ACME}/queue/?platform=tiktok", timeout=60)
        page = reviewer.get(
            f"{reviewer.base}/projects/{ACME}/queue/?platform=tiktok", timeout=60
        ).text
        csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        direct_ids, ours_ids = ids[:n], ids[n : 2 * n]
        headers = {"Authorization": f"Bearer {settings.SANDBOX_DEMO_KEY}"}
        direct = timed(
            lambda: requests.post(
                f"{stack.sandbox}/v1/projects/{ACME}/ads/tiktok/pending/{direct_ids.pop()}/approve",
                json={"comment": "bench"},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                timeout=60,
            ),
            n,
        )
        sizes, sent = [], []

        def approve():
            pid = ours_ids.pop()
            r = reviewer.post(
                f"{reviewer.base}/projects/{ACME}/queue/tiktok/{pid}/decide",
                data={
                    "decision": "approve",
                    "comment": "bench",
                    "idempotency_key": str(uuid.uuid4()),
                },
                headers={"HX-Request": "true", "X-CSRFToken": csrf},
                timeout=60,
            )
            sizes.append(len(r.content))
            sent.append(int(r.headers.get("Content-Length") or len(r.content)))  # gzip included

        ours = timed(approve, n)
        own = statistics.median(ours) - statistics.median(direct)
        return [
            (
                "4. A decision: htmx approve round trip",
                f"{ms(statistics.median(ours))} vs upstream approve "
                f"{ms(statistics.median(direct))}; "
                f"response {statistics.median(sizes) / 1024:.1f} KB "
                f"({statistics.median(sent) / 1024:.1f} KB sent)",
                f"{own * 1000:.1f} ms our own time",
                "< 10 ms, < 3 KB",
            )
        ]

    def bulk(self, stack, tiny):
        count = 5 if tiny else 200
        stack.control("latency", ms=0)
        if not tiny:
            # Start on a fresh minute so the earlier measures' reads do not count against it.
            time.sleep(60.5 - time.time() % 60)
            stack.control("rate-tier", tier="standard")
        try:
            stack.control("pending-bulk", projectId=ACME, platform="apple", count=count)
            before = stack.control("stats")["executedByRoute"]
            reviewer = stack.session(stack.warm_port)
            page = reviewer.get(
                f"{reviewer.base}/projects/{ACME}/queue/?platform=apple", timeout=60
            ).text
            csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
            start = time.monotonic()
            r = reviewer.post(
                f"{reviewer.base}/projects/{ACME}/queue/bulk",
                data={
                    "decision": "approve",
                    "text": "bench",
                    "bulk_key": str(uuid.uuid4()),
                    "select_all": "1",
                    "platform": "apple",
                    "status": "pending",
                    "csrfmiddlewaretoken": csrf,
                },
                headers={"Referer": reviewer.base + "/"},
                timeout=120,
                allow_redirects=False,
            )
            if r.status_code != 302:
                raise RuntimeError(
                    f"starting the bulk decision answered {r.status_code}: {r.text[:300]}"
                )
            progress_url = reviewer.base + r.headers["Location"]
            deadline = start + (60 if tiny else 600)
            while time.monotonic() < deadline:
                html = reviewer.get(progress_url, timeout=60).text
                if "Finished" in html:
                    break
                time.sleep(0.5)
            elapsed = time.monotonic() - start
            after = stack.control("stats")["executedByRoute"]
            executed = sum(v - before.get(k, 0) for k, v in after.items() if "approve" in k)
            failed = html.count("outcome-failed")
            # "Select all" takes every pending Apple action: the ones made above and any the
            # demo seed already had.
            found = re.search(r"(\d+) of (\d+)", html)
            items = int(found.group(2)) if found else count
            minimum = items / 60 * 60
            tier = "no limit (tiny run)" if tiny else "the standard tier (60 writes/min)"
            return [
                (
                    f"5. Bulk: {items} approvals on {tier}",
                    f"{ms(elapsed)}; executed {executed} of {items}, failed {failed}; "
                    f"theoretical minimum {ms(minimum)}",
                    ratio(elapsed, minimum),
                    "≤ 1.1, no 429 shown, exactly all executed",
                )
            ]
        finally:
            stack.control("rate-tier", tier="off")

    def throughput(self, stack, tiny):
        stack.control("latency", ms=150)
        seconds = 1 if tiny else 15
        sessions = [stack.session(stack.warm_port) for _ in range(2 if tiny else 8)]
        url = f"/projects/{ACME}/queue/"
        sessions[0].get(sessions[0].base + url, timeout=60)
        done, stop = [], time.monotonic() + seconds

        def hammer(s):
            while time.monotonic() < stop:
                if s.get(s.base + url, timeout=60).status_code == 200:
                    done.append(1)

        run_each(hammer, sessions)
        rss = worker_memory(stack.warm_proc.pid)
        return [
            (
                "6. Throughput: cached queue page, gunicorn "
                f"({stack.workers} workers × 8 threads, {os.cpu_count()} cores)",
                f"{len(done) / seconds:.0f} requests/s ({len(sessions)} clients); "
                f"memory per worker {rss}",
                "",
                "",
            )
        ]

    def print_table(self, rows, stack, total):
        width = max(len(r[0]) for r in rows)
        self.stdout.write("")
        self.stdout.write(
            f"Layers Partner Dashboard benchmark — {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}, "
            f"cache {'Redis' if stack.shared_cache else 'local memory'}, {total:.0f} s"
        )
        self.stdout.write("")
        self.stdout.write(f"| {'measure'.ljust(width)} | figures | ratio | target |")
        self.stdout.write(f"|{'-' * (width + 2)}|---|---|---|")
        for name, figures, ratio, target in rows:
            self.stdout.write(f"| {name.ljust(width)} | {figures} | {ratio} | {target} |")


def worker_memory(master_pid: int) -> str:
    """Resident memory of each gunicorn worker (children of the master)."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
            if match:
                sizes.append(int(match.group(1)) / 1024)
    return ", ".join(f"{s:.0f} MB" for s in sizes) or "unknown"
