"""Upstream trouble becomes a sentence on the page, never a traceback.

Any LayersError a view lets through is rendered here: the full page keeps its frame and
navigation; an htmx request gets the sentence in the messages region instead."""

import logging

from django.shortcuts import render
from django_htmx.http import reswap, retarget

from dashboard.services import UpstreamError

log = logging.getLogger("dashboard.upstream")

# What status we answer with when Layers could not serve the page.
STATUS = {"RATE_LIMITED": 429, "UNAUTHENTICATED": 503, "KILL_SWITCH": 503, "NOT_FOUND": 404}


def upstream_status(error: UpstreamError) -> int:
    if error.code in STATUS:
        return STATUS[error.code]
    if error.status in (403, 409, 422):
        return error.status
    return 502


class UpstreamErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UpstreamError):
            return None
        log.warning(
            "upstream error on %s %s: code=%s status=%s request_id=%s",
            request.method, request.path, exception.code, exception.status, exception.request_id,
        )
        status = upstream_status(exception)
        context = {"error": exception}
        if getattr(request, "htmx", False):
            response = render(request, "core/_upstream_error.html", context, status=200)
            return reswap(retarget(response, "#messages"), "beforeend")
        response = render(request, "core/upstream_error.html", context, status=status)
        if exception.retry_after:
            response["Retry-After"] = str(int(exception.retry_after))
        return response
