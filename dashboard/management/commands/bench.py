"""`make bench`: the dashboard measured against its floor, Layers itself.

Starts, on loopback only, the sandbox as its own gunicorn process (with injected upstream
latency) and the dashboard under gunicorn with production settings, then measures and
prints a table of medians, p95s and ratios. Every loop is bounded and everything it started
is stopped at the end. It asserts nothing: machines here are noisy, so it reports.

    manage.py bench            # the full run (about seven minutes)
    manage.py bench --tiny     # seconds; proves the harness still works (the suite runs it)

The tiny run starts the sandbox inside the one dashboard process (as `make run` does), and
its cold dashboard is the warm one: it proves the harness, not the figures.

The processes are _bench_stack.py (shared with the other benches and the soak); the
measuring tools (percentiles, ratios, timing) are _bench_figures.py.
"""

import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from django.conf import settings
from django.core.management import BaseCommand

from dashboard.management.commands._bench_figures import (
    ms,
    pct,
    ratio,
    run_each,
    timed,
    wire_get,
    worker_memory,
)
from dashboard.management.commands._bench_stack import Stack

ACME = "prj_7d1c5e0a-0001-4c3b-9a51-000000000001"


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
        stack = Stack(workdir, tiny, self.stdout, together=tiny)
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
        seconds = 1 if tiny else 60
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
                    time.sleep(0.3 if tiny else 1.0)

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
        for name, figures, ratio_text, target in rows:
            self.stdout.write(f"| {name.ljust(width)} | {figures} | {ratio_text} | {target} |")
