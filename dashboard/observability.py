"""What an operator searches and is alerted by: one log line per request with our request
id, the id carried into every upstream call's line (dashboard/layers/client.py logs Layers'
own id beside it), JSON lines when LOG_FORMAT=json, and Sentry when SENTRY_DSN is set,
with the key, tokens and cookies scrubbed before anything leaves the process."""

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings

from dashboard import metrics

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
log = logging.getLogger("dashboard.request")

# An id a proxy or the partner's portal sent is kept only if it looks like an id: letters,
# digits and . _ : - (a UUID, a ULID, an AWS or Cloudflare trace id), 8 to 100 of them.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,99}")


def request_id_new(incoming: str | None) -> str:
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def record_factory_install() -> None:
    """Every log record gets the current request's id (`-` outside a request), whichever
    handler formats it (the console's, a test's, Sentry's breadcrumbs)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    factory.adds_request_id = True
    logging.setLogRecordFactory(factory)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (`-` outside a request)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class RequestLogMiddleware:
    """First in MIDDLEWARE: takes or makes the request id, echoes it as X-Request-ID, and
    writes one line per request (method, path, the URL pattern, status, duration). A path
    carrying a share-link token is logged with the token cut out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_new(request.headers.get("X-Request-ID"))
        token = request_id_var.set(request_id)
        request.request_id = request_id
        started = time.monotonic()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            # The built-in sandbox (mounted here in the demo) stands in for Layers and
            # answers with its own id: kept.
            if "X-Request-ID" not in response:
                response["X-Request-ID"] = request_id
            return response
        finally:
            route = _route(request)
            log.info(
                "request %s %s status=%s ms=%d route=%s",
                request.method,
                _safe_path(request),
                status,
                (time.monotonic() - started) * 1000,
                route,
                extra={"http_status": status, "route": route, "method": request.method},
            )
            metrics.request_count(method=request.method, status=status)
            request_id_var.reset(token)


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None else "-"


def _safe_path(request) -> str:
    match = getattr(request, "resolver_match", None)
    path = request.path
    if match is not None and "token" in match.kwargs:
        path = path.replace(str(match.kwargs["token"]), "…")
    return path


# --- Sentry -----------------------------------------------------------------------------

SCRUBBED = "[scrubbed]"
SECRET_NAMES = re.compile(
    r"authorization|cookie|token|secret|password|passwd|api[-_]?key|session|csrf|signature|dsn"
    r"|query_string",
    re.IGNORECASE,
)
# A Layers key anywhere in a text (lp_live_…, lp_test_…), a bearer credential, a share
# link's token in an address, and a token in a query string.
KEY_PATTERN = re.compile(
    r"lp_(?:live|test)_[A-Za-z0-9_-]+|Bearer\s+[A-Za-z0-9._~+/=-]+"
    r"|(?<=/s/)[^/?#\s]+|(?<=token=)[^&#\s]+"
)


def sentry_scrub(event: dict, hint: dict | None = None) -> dict:
    """Sentry's before_send: the Layers key, Authorization headers, cookies and every value
    under a secret-sounding name are replaced, wherever in the event they are."""
    secrets = [s for s in _known_secrets() if s]
    return _scrub(event, secrets)


def _known_secrets() -> list[str]:
    values = [
        getattr(settings, "LAYERS_API_KEY", ""),
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "EMBED_SECRET", ""),
        getattr(settings, "METRICS_TOKEN", ""),
        getattr(settings, "SANDBOX_CONTROL_TOKEN", ""),
    ]
    values += str(getattr(settings, "LAYERS_WEBHOOK_SECRET", "")).split(",")
    return [v for v in values if len(v) >= 8]


def _scrub(value, secrets, name: str = ""):
    if name and SECRET_NAMES.search(name):
        return SCRUBBED
    if isinstance(value, dict):
        return {k: _scrub(v, secrets, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Header lists come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and SECRET_NAMES.search(value[0]):
            return [value[0], SCRUBBED]
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, SCRUBBED)
        return KEY_PATTERN.sub(SCRUBBED, value)
    return value


def sentry_init() -> bool:
    """Error reporting, only when SENTRY_DSN is set; never personal data."""
    dsn = getattr(settings, "SENTRY_DSN", "")
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=settings.SENTRY_ENVIRONMENT,
        release=settings.SENTRY_RELEASE or None,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
        before_send=sentry_scrub,
        before_send_transaction=sentry_scrub,
        max_request_body_size="never",  # forms carry comments, reasons and passwords
        include_local_variables=False,  # a frame's locals may hold the key or a token
    )
    return True
