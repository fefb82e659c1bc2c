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
  in flight: wait a little and ask once more."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any
from urllib.parse import quote

import requests

from .errors import (
    KillSwitch,
    LayersBadResponse,
    LayersConnectionError,
    LayersError,
    LayersTimeout,
    NotFound,
    RateLimited,
    error_from_response,
)
from .records import (
    AdAccount,
    AuditEvent,
    Campaign,
    CampaignAuthority,
    Decision,
    Job,
    LayerDefaults,
    OAuthUrl,
    OptimizerRun,
    OptimizerRunStart,
    Page,
    PendingAction,
    Project,
    RateLimit,
    Verdict,
    WebhookEndpoint,
    WhoAmI,
    WriteResult,
)
from .wire import platform_to_path, platform_to_wire, route_template

log = logging.getLogger("dashboard.layers")

USER_AGENT = "layers-partner-dashboard/0.1"
RETRY_STATUSES = {502, 503, 504, 429}
BACKOFF_START = 0.2
BACKOFF_CAP = 2.0
IN_FLIGHT_WAIT = 0.5  # before the one extra retry after IDEMPOTENCY_CONFLICT on a retry [I]
DEFAULT_MAX_PAGES = 50


def _seg(value: str) -> str:
    """An id in a path segment: opaque, so quoted (never trusted to be URL-safe). `.`, `..`
    and nothing at all survive quoting and would change which path is asked for (an HTTP
    library resolves dot segments), so they are refused before any request is sent."""
    text = str(value)
    if text in ("", ".", ".."):
        raise NotFound(f"{text!r} is not an id, so there is no such item.", code="NOT_FOUND")
    return quote(text, safe="")


def _iso(value) -> str | None:
    """datetime → ISO-8601 UTC with Z; strings pass through."""
    if value is None:
        return None
    if isinstance(value, str):
        return value

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _compact(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None}


def _retry_after(response) -> float | None:
    raw = response.headers.get("Retry-After") if response is not None else None
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP-date form is not used by Layers [I]


class LayersClient:
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

    def _campaign_path(self, project_id, platform, campaign_id) -> str:
        return f"{self._ads(project_id)}/{platform_to_path(platform)}/campaigns/{_seg(campaign_id)}"

    # --- key and projects -------------------------------------------------------------------

    def whoami(self) -> WhoAmI:
        return self._call("GET", "/v1/whoami", WhoAmI.from_wire)

    def projects_list(self, *, cursor=None, limit=None, status=None, search=None) -> Page[Project]:
        params = {"cursor": cursor, "limit": limit, "status": status, "search": search}
        return self._call(
            "GET",
            "/v1/projects",
            lambda d: Page.from_wire(d, Project, "project list"),
            params=params,
        )

    def project_get(self, *, project_id) -> Project:
        return self._call("GET", f"/v1/projects/{_seg(project_id)}", Project.from_wire)

    # --- ad accounts ------------------------------------------------------------------------

    def ad_accounts_list(self, *, project_id, platforms=None) -> list[AdAccount]:
        # Multi-valued filters are sent as repeated keys (`platforms=meta_ads&platforms=…`). [I]
        params = {"platforms": [platform_to_wire(p) for p in platforms] if platforms else None}
        page = self._call(
            "GET",
            f"{self._ads(project_id)}/ad-accounts",
            lambda d: Page.from_wire(d, AdAccount, "ad-account list"),
            params=params,
        )
        return list(page.items)

    def ad_account_oauth_url(
        self, *, project_id, platform, return_url, state=None, idempotency_key
    ) -> OAuthUrl:
        body = _compact(
            {"platform": platform_to_wire(platform), "returnUrl": return_url, "state": state}
        )
        return self._call(
            "POST",
            f"{self._ads(project_id)}/ad-accounts/oauth-url",
            OAuthUrl.from_wire,
            json=body,
            idempotency_key=idempotency_key,
        )

    # --- campaigns --------------------------------------------------------------------------

    def campaigns_list(
        self,
        *,
        project_id,
        platforms=None,
        ad_account_id=None,
        statuses=None,
        cursor=None,
        limit=None,
    ) -> Page[Campaign]:
        # List path has no platform segment [C #7]; filters use the body vocabulary.
        params = {
            "platforms": [platform_to_wire(p) for p in platforms] if platforms else None,
            "adAccountId": ad_account_id,
            "status": list(statuses) if statuses else None,
            "cursor": cursor,
            "limit": limit,
        }
        return self._call(
            "GET",
            f"{self._ads(project_id)}/campaigns",
            lambda d: Page.from_wire(d, Campaign, "campaign list"),
            params=params,
        )

    def campaign_get(self, *, project_id, platform, campaign_id) -> Campaign:
        # Single GET is under the platform segment [I, §4.6].
        return self._call(
            "GET", self._campaign_path(project_id, platform, campaign_id), Campaign.from_wire
        )

    def campaign_create(
        self,
        *,
        project_id,
        platform,
        ad_account_id,
        name,
        outcome,
        campaign_management_mode,
        creative_mode,
        daily_budget_cents=None,
        lifetime_budget_cents=None,
        start_time=None,
        end_time=None,
        idempotency_key,
    ) -> WriteResult:
        body = _compact(
            {
                "adAccountId": ad_account_id,
                "name": name,
                "outcome": outcome,
                "campaignManagementMode": campaign_management_mode,
                "creativeMode": creative_mode,
                "dailyBudgetCents": _cents(daily_budget_cents),
                "lifetimeBudgetCents": _cents(lifetime_budget_cents),
                "startTime": _iso(start_time),
                "endTime": _iso(end_time),
            }
        )
        path = f"{self._ads(project_id)}/{platform_to_path(platform)}/campaigns"
        return self._call(
            "POST", path, WriteResult.from_wire, json=body, idempotency_key=idempotency_key
        )

    def campaign_budget_update(
        self,
        *,
        project_id,
        platform,
        campaign_id,
        daily_budget_cents=None,
        lifetime_budget_cents=None,
        idempotency_key,
    ) -> WriteResult:
        body = _compact(
            {
                "dailyBudgetCents": _cents(daily_budget_cents),
                "lifetimeBudgetCents": _cents(lifetime_budget_cents),
            }
        )
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/budget"
        return self._call(
            "PATCH", path, WriteResult.from_wire, json=body, idempotency_key=idempotency_key
        )

    def campaign_pause(self, *, project_id, platform, campaign_id, idempotency_key) -> WriteResult:
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/pause"
        return self._call(
            "POST", path, WriteResult.from_wire, json={}, idempotency_key=idempotency_key
        )

    def campaign_resume(self, *, project_id, platform, campaign_id, idempotency_key) -> WriteResult:
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/resume"
        return self._call(
            "POST", path, WriteResult.from_wire, json={}, idempotency_key=idempotency_key
        )

    def campaign_delete(self, *, project_id, platform, campaign_id, idempotency_key) -> WriteResult:
        path = self._campaign_path(project_id, platform, campaign_id)
        return self._call("DELETE", path, WriteResult.from_wire, idempotency_key=idempotency_key)

    # --- authority and defaults -------------------------------------------------------------

    def authority_get(self, *, project_id, platform, campaign_id) -> CampaignAuthority:
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/authority"
        return self._call("GET", path, CampaignAuthority.from_wire)

    def authority_update(
        self, *, project_id, platform, campaign_id, authority: dict[str, str], idempotency_key
    ) -> CampaignAuthority:
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/authority"
        return self._call(
            "PATCH",
            path,
            CampaignAuthority.from_wire,
            json={"authority": dict(authority)},
            idempotency_key=idempotency_key,
        )

    def defaults_get(self, *, project_id, platform) -> LayerDefaults:
        path = f"{self._ads(project_id)}/{platform_to_path(platform)}/defaults"
        return self._call("GET", path, LayerDefaults.from_wire)

    def defaults_update(
        self, *, project_id, platform, defaults: dict, idempotency_key
    ) -> LayerDefaults:
        path = f"{self._ads(project_id)}/{platform_to_path(platform)}/defaults"
        return self._call(
            "PATCH",
            path,
            LayerDefaults.from_wire,
            json={"defaults": dict(defaults)},
            idempotency_key=idempotency_key,
        )

    # --- optimizer and jobs -----------------------------------------------------------------

    def optimizer_run(
        self, *, project_id, layer_id, platform, dry_run=False, idempotency_key
    ) -> OptimizerRunStart:
        body = {
            "layerId": layer_id,
            "platform": platform_to_wire(platform),
            "dryRun": bool(dry_run),
        }
        return self._call(
            "POST",
            f"{self._ads(project_id)}/optimizer/run",
            OptimizerRunStart.from_wire,
            json=body,
            idempotency_key=idempotency_key,
        )

    def optimizer_run_get(self, *, project_id, run_id) -> OptimizerRun:
        # Path documented, body shape [I] (§4.15).
        return self._call(
            "GET", f"{self._ads(project_id)}/optimizer/runs/{_seg(run_id)}", OptimizerRun.from_wire
        )

    def job_get(self, *, job_id, etag=None) -> Job | None:
        """None means 304 Not Modified for the `etag` given (contract §5)."""
        headers = {"If-None-Match": etag} if etag else None
        response = self._request("GET", f"/v1/jobs/{_seg(job_id)}", headers=headers)
        if response.status_code == 304:
            return None
        data = self._json(response)
        return Job.from_wire(data, etag=response.headers.get("ETag"))

    # --- pending actions --------------------------------------------------------------------

    def _pending(self, project_id, platform) -> str:
        return f"{self._ads(project_id)}/{platform_to_path(platform)}/pending"

    def pending_list(
        self, *, project_id, platform, statuses=None, action_type=None, cursor=None, limit=None
    ) -> Page[PendingAction]:
        params = {
            "status": list(statuses) if statuses else None,
            "actionType": action_type,
            "cursor": cursor,
            "limit": limit,
        }
        return self._call(
            "GET",
            self._pending(project_id, platform),
            lambda d: Page.from_wire(d, PendingAction, "pending list"),
            params=params,
        )

    def pending_count(self, *, project_id, platform) -> int:
        # Shape undocumented ("no body"); we chose `{"count": n}` [C #14].
        def read(data):
            if (
                not isinstance(data, dict)
                or isinstance(data.get("count"), bool)
                or not isinstance(data.get("count"), int)
            ):
                raise LayersBadResponse(
                    "The Layers API sent a pending count the dashboard could not read."
                )
            return data["count"]

        return self._call("GET", f"{self._pending(project_id, platform)}/count", read)

    def pending_approve(
        self, *, project_id, platform, pending_id, comment=None, idempotency_key
    ) -> Decision:
        path = f"{self._pending(project_id, platform)}/{_seg(pending_id)}/approve"
        return self._call(
            "POST",
            path,
            Decision.from_wire,
            json=_compact({"comment": comment}),
            idempotency_key=idempotency_key,
        )

    def pending_reject(
        self, *, project_id, platform, pending_id, reason, idempotency_key
    ) -> Decision:
        path = f"{self._pending(project_id, platform)}/{_seg(pending_id)}/reject"
        return self._call(
            "POST",
            path,
            Decision.from_wire,
            json={"reason": reason},
            idempotency_key=idempotency_key,
        )

    # --- verdicts, audit, webhooks ----------------------------------------------------------

    def verdict_get(self, *, project_id, verdict_id) -> Verdict:
        # [I] sandbox extension, not in the Layers docs: GET …/ads/verdicts/:verdictId.
        return self._call(
            "GET", f"{self._ads(project_id)}/verdicts/{_seg(verdict_id)}", Verdict.from_wire
        )

    def audit_log_list(
        self, *, project_id=None, event_type=None, since=None, until=None, cursor=None, limit=None
    ) -> Page[AuditEvent]:
        params = {
            "projectId": project_id,
            "eventType": event_type,
            "since": _iso(since),
            "until": _iso(until),
            "cursor": cursor,
            "limit": limit,
        }
        return self._call(
            "GET",
            "/v1/audit-log",
            lambda d: Page.from_wire(d, AuditEvent, "audit log"),
            params=params,
        )

    def webhook_endpoint_create(
        self, *, url, events, project_id=None, description=None, idempotency_key
    ) -> WebhookEndpoint:
        body = _compact(
            {
                "url": url,
                "events": list(events),
                "projectId": project_id,
                "description": description,
            }
        )
        return self._call(
            "POST",
            "/v1/webhook-endpoints",
            WebhookEndpoint.from_wire,
            json=body,
            idempotency_key=idempotency_key,
        )

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


def _cents(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("money is sent to Layers as integer cents")
    return value


def _dumps(data) -> str:
    # Canonical bytes: the same logical body always serialises the same way, so an
    # idempotent retry is byte-for-byte the original.
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
