"""Gunicorn's settings for the dashboard, every one read from the environment.

`gunicorn -c gunicorn.conf.py dashboard.wsgi` (scripts/run-production does it). The web
process only serves pages: background work runs in `manage.py db_worker` beside it.
Gunicorn also reads this file when started from this directory without `-c` (as `make
bench` and `make soak` do): their command-line options win, and what they leave out keeps
gunicorn's own defaults here (keep-alive, no recycling)."""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Loopback unless told otherwise: a proxy (nginx, a load balancer) terminates HTTPS in front.
bind = os.environ.get("GUNICORN_BIND") or (
    f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# Processes x threads: pages wait on Layers (up to LAYERS_READ_TIMEOUT), so each process
# serves several requests at once with threads. Every process shares the cache (Redis).
workers = _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# Longer than a page's slowest honest path (an upstream read with its retries).
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 2)
# A process is replaced after this many requests (0 = never), staggered by the jitter.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)
# Only this proxy's X-Forwarded-* headers are believed (see DJANGO_BEHIND_PROXY too).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The dashboard logs one line per request itself, with its request id
# (dashboard/observability.py): gunicorn's access log would only repeat it.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "layers-dashboard"


def child_exit(server, worker):
    """prometheus-client's multiprocess mode: a dead process's live values are dropped (its
    counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
