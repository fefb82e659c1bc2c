"""Security defaults that are not a setting: middleware and the deployment's system checks.

* PrivatePagesMiddleware: a signed-in person's pages and share-link pages say
  `Cache-Control: private, no-store`, so no shared cache (a proxy, a CDN) keeps them and
  the browser does not keep them on disk for the next person at that computer.
* SessionIdleMiddleware: a session ends after SESSION_COOKIE_AGE without a request; while
  it is used it is renewed, at most once every SESSION_RENEW_SECONDS (not a write per
  request). An embed session keeps its fixed end (services/embedding.py sets a date).
* check_cache_shared: `manage.py check --deploy` says when the cache is per process.
* metrics_caller_allowed: who may read /metrics (METRICS_TOKEN, METRICS_ALLOWED_IPS)."""

import hmac
import ipaddress
import time

from django.conf import settings
from django.core import checks
from django.utils.cache import patch_cache_control

from dashboard.cookies import SHARE_REQUEST_ATTR

RENEWED_KEY = "_renewed"  # when this session's idle expiry was last pushed forward


class PrivatePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        shared = getattr(request, SHARE_REQUEST_ATTR, None) is not None
        if (user is not None and user.is_authenticated) or shared:
            patch_cache_control(response, private=True, no_store=True)
        return response


class SessionIdleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not user.is_authenticated:
            return response
        now = int(time.time())
        try:
            renewed = int(session.get(RENEWED_KEY, 0))
        except (TypeError, ValueError):
            renewed = 0
        if now - renewed >= settings.SESSION_RENEW_SECONDS:
            session[RENEWED_KEY] = now  # saved by SessionMiddleware, with a fresh expiry
        return response


@checks.register(checks.Tags.caches, deploy=True)
def check_cache_shared(app_configs=None, **kwargs):
    """The one deployment warning README.md explains ("Security defaults")."""
    backend = settings.CACHES["default"]["BACKEND"]
    if not backend.endswith(("LocMemCache", "DummyCache")):
        return []
    return [
        checks.Warning(
            "The cache is local memory: each process has its own sign-in throttle and "
            "Layers rate budget.",
            hint="Set CACHE_URL=redis://… when more than one web process serves.",
            id="dashboard.W001",
        )
    ]


def metrics_caller_allowed(request) -> bool:
    """A bearer METRICS_TOKEN, or a direct peer (REMOTE_ADDR, not a forwarded header anyone
    can write) inside METRICS_ALLOWED_IPS. With neither setting, nobody: metrics stay off."""
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer "):
        return hmac.compare_digest(sent.removeprefix("Bearer ").strip().encode(), token.encode())
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


def _networks(entries: tuple[str, ...]) -> list:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]
