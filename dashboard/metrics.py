"""/metrics in Prometheus' text format (prometheus-client).

Two kinds of numbers, so several gunicorn workers and the task worker add up to one answer:

* Counters of what a process did (upstream calls by route template and status, retries,
  429s, requests, webhook deliveries) live in prometheus-client's counters. With
  PROMETHEUS_MULTIPROC_DIR set (scripts/run-production sets it for every process) each
  process writes its own file there and a scrape adds them up (prometheus-client's
  multiprocess mode); without it, one process answers for itself.
* Everything that is state (the key's budget left, decisions by outcome, bulk and task work
  waiting, stored webhooks by outcome, the worker's heartbeat age, the sync's lag) is read
  from the database and the shared cache at scrape time, so it is the same whichever
  process answers and survives restarts.

Labels never carry a customer's name or id: upstream routes are templates
(`/v1/projects/{project}/ads/{platform}/pending`), see dashboard/layers/wire.py."""

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

disable_created_metrics()  # no `_created` twin for every counter

UPSTREAM_REQUESTS = Counter(
    "dashboard_layers_requests",
    "Requests to the Layers API (each attempt), by route template and status.",
    ["method", "route", "status"],
)
UPSTREAM_RETRIES = Counter(
    "dashboard_layers_retries", "Attempts that repeated an upstream request.", ["route"]
)
UPSTREAM_RATE_LIMITED = Counter(
    "dashboard_layers_rate_limited", "429 answers from the Layers API.", ["route"]
)
REQUESTS = Counter(
    "dashboard_requests", "Requests the dashboard answered, by status.", ["method", "status"]
)
WEBHOOK_DELIVERIES = Counter(
    "dashboard_webhook_deliveries",
    "Webhook deliveries from Layers, by how the receiver answered.",
    ["result"],
)
BUDGET_CLASSES = ("read-light", "write-light", "long-running")
WEBHOOK_RESULTS = {200: "accepted", 400: "malformed", 401: "bad_signature", 413: "too_large"}
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def upstream_count(*, method: str, route: str, status, attempt: int) -> None:
    """Called by the Layers client after every attempt (services/upstream.py wires it)."""
    UPSTREAM_REQUESTS.labels(method, route, str(status)).inc()
    if attempt > 1:
        UPSTREAM_RETRIES.labels(route).inc()
    if status == 429:
        UPSTREAM_RATE_LIMITED.labels(route).inc()


def request_count(*, method: str, status: int) -> None:
    REQUESTS.labels(method if method in METHODS else "other", str(status)).inc()


def webhook_delivery_count(status: int) -> None:
    WEBHOOK_DELIVERIES.labels(WEBHOOK_RESULTS.get(status, str(status))).inc()


class StateCollector(Collector):
    """The numbers read at scrape time (see the module's docstring)."""

    def collect(self):
        from dashboard.services.health import metrics_state

        readable = GaugeMetricFamily(
            "dashboard_state_readable",
            "1 when this scrape could read the state from the database and the cache.",
        )
        try:
            state = metrics_state()
        except Exception:  # the counters still answer when the database does not
            readable.add_metric([], 0)
            yield readable
            return
        readable.add_metric([], 1)
        yield readable
        budget = GaugeMetricFamily(
            "dashboard_layers_budget_remaining",
            "Requests left in the key's bucket, as the last Layers answer said.",
            labels=["endpoint_class"],
        )
        limit = GaugeMetricFamily(
            "dashboard_layers_budget_limit",
            "The bucket's size, as the last Layers answer said.",
            labels=["endpoint_class"],
        )
        for name, seen in state["budget"].items():
            if seen.get("remaining") is not None:
                budget.add_metric([name], seen["remaining"])
            if seen.get("limit") is not None:
                limit.add_metric([name], seen["limit"])
        yield budget
        yield limit
        yield _family(
            CounterMetricFamily,
            "dashboard_decisions",
            "Decisions made through the dashboard, by outcome.",
            "outcome",
            state["decisions"],
        )
        yield _family(
            GaugeMetricFamily,
            "dashboard_bulk_decisions",
            "Bulk decisions not finished, by status.",
            "status",
            state["bulk_decisions"],
        )
        yield GaugeMetricFamily(
            "dashboard_bulk_items_waiting",
            "Pending actions in unfinished bulk decisions still to decide.",
            value=state["bulk_items_waiting"],
        )
        yield GaugeMetricFamily(
            "dashboard_tasks_waiting",
            "Background tasks due and not yet taken by a worker.",
            value=state["tasks_waiting"],
        )
        yield _family(
            GaugeMetricFamily,
            "dashboard_webhook_events",
            "Stored Layers webhooks by outcome (waiting = not processed yet).",
            "outcome",
            state["webhook_events"],
        )
        if state["worker_age"] is not None:
            yield GaugeMetricFamily(
                "dashboard_worker_heartbeat_age_seconds",
                "Seconds since the task worker last showed life.",
                value=state["worker_age"],
            )
        if state["sync"] is not None:
            yield _family(
                GaugeMetricFamily,
                "dashboard_sync_lag_seconds",
                "Age of the oldest full refresh of a synced list, per platform.",
                "platform",
                {p: s["lag"] for p, s in state["sync"].items() if s["lag"] is not None},
            )
            yield _family(
                GaugeMetricFamily,
                "dashboard_sync_lists_behind",
                "Synced lists older than SYNC_LAG_LIMIT_SECONDS (or never synced), per platform.",
                "platform",
                {p: s["behind"] for p, s in state["sync"].items()},
            )


def _family(kind, name, documentation, label, values: dict):
    family = kind(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([str(key)], value)
    return family


def metrics_text() -> bytes:
    """The whole scrape: every process's counters, then the state read now."""
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    return generate_latest(counters) + generate_latest(state)
