"""How services reach Layers: the client, shared cached reads with single-flight,
concurrent fan-out, and the key's shared rate budget.

Everything here is shared by every web worker through the configured cache, so N people
looking at the same page cost one upstream call, and the key's budget is seen by all."""

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.cache import cache

from dashboard import metrics
from dashboard.layers import LayersError, RateLimit, client_from_settings

_POOL = ThreadPoolExecutor(max_workers=12, thread_name_prefix="layers-fanout")
_MISSING = object()
LOCK_SECONDS = 15  # longer than any single upstream read with its retries
WAIT_SECONDS = 12


def layers():
    """The Layers client for this thread, reporting its rate budget to the shared cache."""
    client = client_from_settings()
    client.on_response = budget_record
    client.on_attempt = metrics.upstream_count
    return client


def _budget_key(endpoint_class: str) -> str:
    # Per API: two Layers (two test servers sharing one Redis) never read each other's bucket.
    return f"layers:budget:{settings.LAYERS_API_BASE_URL}:{endpoint_class}"


def budget_record(rate: RateLimit) -> None:
    if rate and rate.endpoint_class:
        cache.set(
            _budget_key(rate.endpoint_class),
            {"limit": rate.limit, "remaining": rate.remaining, "reset": rate.reset},
            timeout=120,
        )


def budget_get(endpoint_class: str) -> dict | None:
    """What the last response said about a bucket: {"limit", "remaining", "reset"}."""
    return cache.get(_budget_key(endpoint_class))


# Cached reads are keyed by generations, so a write makes them stale without having to
# know every key: a project-wide one, and one per area (a decision changes the pending
# lists and counts, not the campaigns or accounts that the queue's rows also need).
AREAS = ("pending",)


def _area(name: str) -> str:
    return next((area for area in AREAS if name.startswith(area)), "other")


def _generations(project_id: str, area: str) -> tuple[int, int]:
    keys = [f"layers:gen:{project_id}", f"layers:gen:{project_id}:{area}"]
    found = cache.get_many(keys)
    return tuple(found.get(key) or cache.get_or_set(key, 1, timeout=None) for key in keys)


def project_stamp(project_id: str, area: str = "pending") -> str:
    """Changes whenever our writes or a webhook make the project's reads of `area` stale:
    a poll that brings back the same stamp learns, from the cache alone, that nothing it
    knows of has changed."""
    generation, area_generation = _generations(project_id, area)
    return f"{generation:d}.{area_generation:d}"


def project_cache_bump(project_id: str, area: str | None = None) -> None:
    """Our own write changed the project upstream: its cached reads (of one area, or all)
    are stale."""
    key = f"layers:gen:{project_id}" + (f":{area}" if area else "")
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, timeout=None)


def cached_read(
    project_id: str, name: str, fetch: Callable[[], Any], ttl: int | None = None
) -> Any:
    """fetch() once per cache window for everyone; concurrent callers wait for the one
    that is already fetching instead of asking Layers again (single-flight)."""
    ttl = settings.LAYERS_CACHE_SECONDS if ttl is None else ttl
    generation, area_generation = _generations(project_id, _area(name))
    key = f"layers:read:{project_id}:{generation}.{area_generation}:{name}"
    value = cache.get(key, _MISSING)
    if value is not _MISSING:
        return value
    lock = f"{key}:lock"
    if cache.add(lock, 1, timeout=LOCK_SECONDS):
        try:
            value = fetch()
            cache.set(key, value, timeout=ttl)
            return value
        finally:
            cache.delete(lock)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.02)
        value = cache.get(key, _MISSING)
        if value is not _MISSING:
            return value
        if cache.get(lock) is None:
            # Either the fetcher finished between our two looks, or it failed.
            value = cache.get(key, _MISSING)
            if value is not _MISSING:
                return value
            break
    return fetch()


def fan_out(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Runs independent upstream reads at once. Each result is the value or the
    LayersError it raised, so one failing section does not blank the whole page."""
    # Each call runs in a copy of this context, so its log lines keep our request id.
    futures = {name: _POOL.submit(contextvars.copy_context().run, fn) for name, fn in calls.items()}
    results = {}
    for name, future in futures.items():
        try:
            results[name] = future.result()
        except LayersError as error:
            results[name] = error
    return results
