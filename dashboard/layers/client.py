"""The Layers Partner API client: the one place that knows the wire format.

Paths, the Bearer header, both platform vocabularies (`meta_ads` in bodies and query filters,
`meta` in path segments), cents, the error envelope, timestamps and cursors are handled here
and nowhere else. Every [I] (inferred) choice from the contract is marked where it is made.

Retries (stripe-python style, one `_request` path):
* GETs: connection errors, read timeouts, broken bodies, 502/503/504 (not 503 KILL_SWITCH)
  and 429 (honouring Retry-After) are retried with short exponential backoff and jitter.
* Writes: always carry the caller's `Idempotency-Key`; retried with the same key and body on
  the same transient failures, which is safe because Layers replays a key it has seen
  (contract §1.6). A 409 IDEMPOTENCY_CONFLICT on a *retry* means the first attempt is still
  in flight: wait a little and ask once more.

The calls, one method per endpoint, are grouped by what they act on in project_calls.py,
campaign_calls.py and pending_calls.py, mixed into LayersClient here; what goes on the wire
(path segments, times, cents, bodies) is written in sending.py."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from .campaign_calls import CampaignCalls
from .errors import (
    KillSwitch,
    LayersBadResponse,
    LayersConnectionError,
    LayersError,
    LayersTimeout,
    RateLimited,
    error_from_response,
)
from .pending_calls import PendingCalls
from .project_calls import ProjectCalls
from .records import Page, RateLimit
from .sending import _compact, _dumps, _seg
from .wire import route_template

log = logging.getLogger("dashboard.layers")

USER_AGENT = "layers-partner-dashboard/0.1"
RETRY_STATUSES = {502, 503, 504, 429}
BACKOFF_START = 0.2
BACKOFF_CAP = 2.0
IN_FLIGHT_WAIT = 0.5  # before the one extra retry after IDEMPOTENCY_CONFLICT on a retry [I]
DEFAULT_MAX_PAGES = 50


def _retry_after(response) -> float | None:
    raw = response.headers.get("Retry-After") if response is not None else None
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP-date form is not used by Layers [I]


class LayersClient(ProjectCalls, CampaignCalls, PendingCalls):
    """The calls themselves live in project_calls.py, campaign_calls.py and pending_calls.py;
    this class is what they share: the session, the one request path and pagination."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        max_get_retries: int = 3,
        max_retry_after: float = 10.0,
        on_response: Callable[[RateLimit], None] | None = None,
        on_attempt: Callable[..., None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_get_retries = max_get_retries
        self.max_write_retries = max_get_retries
        self.max_retry_after = max_retry_after
        self.on_response = on_response
        # Called after every attempt with method, route (a template: no ids), status (or the
        # failure's name) and attempt number: the metrics' hook (services/upstream.py).
        self.on_attempt = on_attempt
        self.last_rate_limit: RateLimit | None = None
        self.sleep: Callable[[float], None] = time.sleep  # injectable: tests count sleeps
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",  # [C #1] Bearer, never X-Api-Key
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )

    def __repr__(self) -> str:  # never the key
        return f"LayersClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    # --- the one request path ---------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        headers: dict | None = None,
    ) -> requests.Response:
        method = method.upper()
        write = method != "GET"
        if write and not idempotency_key:
            raise ValueError("every Layers write needs an idempotency_key")
        send_headers = dict(headers or {})
        if idempotency_key:
            send_headers["Idempotency-Key"] = idempotency_key
        if json is not None:
            send_headers["Content-Type"] = "application/json"
        body = None if json is None else _dumps(json)
        params = _compact(params or {})
        url = f"{self.base_url}{path}"
        max_retries = self.max_write_retries if write else self.max_get_retries
        attempt, retries, in_flight_retry_used = 0, 0, False
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params or None,
                    data=body,
                    headers=send_headers,
                    timeout=(self.connect_timeout, self.read_timeout),
                    allow_redirects=False,
                )
                _ = response.content  # read the whole body now: a cut-off body fails here
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                failure = self._transport_error(exc)
                self._log(method, path, None, started, None, attempt, type(failure).__name__)
                if retries < max_retries:
                    retries += 1
                    self.sleep(self._backoff(retries))
                    continue
                raise failure from exc

            self._log(
                method,
                path,
                response.status_code,
                started,
                response.headers.get("X-Request-Id"),
                attempt,
            )
            self._record_rate_limit(response)
            if response.status_code < 400 or response.status_code == 304:
                return response

            error = self._error(response)
            if response.status_code in RETRY_STATUSES and not isinstance(error, KillSwitch):
                if isinstance(error, RateLimited) and error.retry_after is not None:
                    if error.retry_after > self.max_retry_after or retries >= max_retries:
                        raise error
                    retries += 1
                    self.sleep(error.retry_after)  # the docs say: sleep exactly that long
                    continue
                if retries < max_retries:
                    retries += 1
                    self.sleep(self._backoff(retries))
                    continue
            if (
                write
                and attempt > 1
                and error.code == "IDEMPOTENCY_CONFLICT"
                and not in_flight_retry_used
            ):
                # Same key, same body: the conflict can only be our own first attempt still
                # running on the server. Wait for it to finish, then the server replays it.
                in_flight_retry_used = True
                self.sleep(IN_FLIGHT_WAIT)
                continue
            raise error

    def _backoff(self, retry: int) -> float:
        delay = min(BACKOFF_CAP, BACKOFF_START * (2 ** (retry - 1)))
        return delay * random.uniform(0.5, 1.0)

    def _transport_error(self, exc: Exception) -> LayersError:
        if isinstance(exc, requests.ConnectTimeout):
            return LayersConnectionError(
                "The Layers API could not be reached in time; try again shortly."
            )
        if isinstance(exc, requests.Timeout):
            return LayersTimeout()
        return LayersConnectionError()

    def _record_rate_limit(self, response) -> None:
        rate = RateLimit.from_headers(response.headers)
        self.last_rate_limit = rate
        if self.on_response is not None:
            try:
                self.on_response(rate)
            except Exception:  # bookkeeping must never break the call itself
                log.exception("layers on_response callback failed")

    def _error(self, response) -> LayersError:
        """The error envelope (contract §1.7) → the LayersError subclass for its code."""
        request_id = response.headers.get("X-Request-Id")
        code = message = None
        details: dict = {}
        try:
            data = response.json()
        except ValueError:
            data = None
        envelope = data.get("error") if isinstance(data, dict) else None
        if isinstance(envelope, dict):
            code = envelope.get("code") if isinstance(envelope.get("code"), str) else None
            message = envelope.get("message") if isinstance(envelope.get("message"), str) else None
            request_id = envelope.get("requestId") or request_id
            details = envelope.get("details") if isinstance(envelope.get("details"), dict) else {}
        return error_from_response(
            status=response.status_code,
            code=code,
            upstream_message=message,
            request_id=request_id,
            details=details,
            retry_after=_retry_after(response),
        )

    def _log(self, method, path, status, started, request_id, attempt, failure=None) -> None:
        # Path only: no query string (search terms, cursors) and never a header. Our own
        # request id is added to the record by the logging filter (dashboard/observability.py).
        route = route_template(path)
        ms = int((time.monotonic() - started) * 1000)
        log.info(
            "layers %s %s status=%s ms=%d layers_request_id=%s attempt=%d route=%s%s",
            method,
            path,
            status if status is not None else "-",
            ms,
            request_id or "-",
            attempt,
            route,
            f" error={failure}" if failure else "",
            extra={
                "layers_request_id": request_id,
                "route": route,
                "upstream_status": status,
                "ms": ms,
                "attempt": attempt,
            },
        )
        if self.on_attempt is not None:
            try:
                self.on_attempt(
                    method=method, route=route, status=status or failure, attempt=attempt
                )
            except Exception:  # bookkeeping must never break the call itself
                log.exception("layers on_attempt callback failed")

    def _json(self, response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise LayersBadResponse(
                status=response.status_code,
                request_id=response.headers.get("X-Request-Id"),
            ) from None

    def _call(self, method, path, record, **kwargs):
        response = self._request(method, path, **kwargs)
        try:
            return record(self._json(response))
        except LayersBadResponse as error:
            error.status = error.status or response.status_code
            error.request_id = error.request_id or response.headers.get("X-Request-Id")
            raise

    @staticmethod
    def _ads(project_id: str) -> str:
        return f"/v1/projects/{_seg(project_id)}/ads"

    # --- pagination -------------------------------------------------------------------------

    def iter_pages(
        self, fetch: Callable[..., Page], *, max_pages: int = DEFAULT_MAX_PAGES, **kwargs
    ) -> Iterator:
        """Every item of every page, following `nextCursor` to the end; stops after
        `max_pages` pages (a guard against a server that never ends its cursor chain)."""
        cursor = kwargs.pop("cursor", None)
        seen = set()
        for _ in range(max_pages):
            page = fetch(cursor=cursor, **kwargs)
            yield from page.items
            cursor = page.next_cursor
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
