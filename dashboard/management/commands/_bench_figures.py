"""The benches' small measuring tools: percentiles and ratios, durations in words, timing a
call, running one call per session at once, a page's size on the wire and the memory of
gunicorn's workers."""

import gzip
import re
import threading
import time
from pathlib import Path


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
