"""Upstream trouble becomes a sentence on the page, never a traceback (and so does an
address with a value a view cannot read: QueryRefused, a 400).

Any LayersError a view lets through is rendered here: the full page keeps its frame and
navigation; an htmx request gets the sentence in the messages region instead."""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render, resolve_url
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from dashboard.services import UpstreamError
from dashboard.services.access import access_memo
from dashboard.views.params import QueryRefused

log = logging.getLogger("dashboard.upstream")

# What status we answer with when Layers could not serve the page.
STATUS = {"RATE_LIMITED": 429, "UNAUTHENTICATED": 503, "KILL_SWITCH": 503, "NOT_FOUND": 404}


def upstream_status(error: UpstreamError) -> int:
    if error.code in STATUS:
        return STATUS[error.code]
    if error.status in (403, 409, 422):
        return error.status
    return 502


class PageGZipMiddleware(GZipMiddleware):
    """Pages go out compressed (a 50-row queue: ~170 KB of HTML, ~13 KB sent; Django's
    GZip pads against BREACH). The sandbox's API answers do not: compressing would weaken
    their ETags (no more 304s) and blunt its "drop" fault, which must cut a plain body."""

    def process_response(self, request, response):
        if request.path.startswith("/sandbox/"):
            return response
        return super().process_response(request, response)


class HtmxLoginMiddleware:
    """A session that ended while a page was open: its next htmx request (a poll, a
    decision) would follow the redirect and swap the sign-in form into a row. Send the
    whole page to sign in instead, coming back to the page the person was on. Inside a
    partner's iframe that lands on the "session ended" page (see views/embed.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code != 302:
            return response
        login = resolve_url(settings.LOGIN_URL)
        if not response["Location"].startswith(login + "?") or request.user.is_authenticated:
            return response
        back = request.htmx.current_url_abs_path or "/"
        return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back})}")


class AccessMemoMiddleware:
    """One request reads the signed-in person's grants once, however many access checks its
    view, templates and context processors make (dashboard/services/access.py); the next
    request reads them afresh."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with access_memo():
            return self.get_response(request)


class UpstreamErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, QueryRefused):  # the address, not Layers: a 400 sentence
            return render(request, "400.html", {"sentence": exception.sentence}, status=400)
        if not isinstance(exception, UpstreamError):
            return None
        log.warning(
            "upstream error on %s %s: code=%s status=%s request_id=%s",
            request.method,
            request.path,
            exception.code,
            exception.status,
            exception.request_id,
        )
        status = upstream_status(exception)
        context = {"error": exception, "resubmit": _resubmit(request)}
        if getattr(request, "htmx", False):
            response = render(request, "core/_upstream_error.html", context, status=200)
            return reswap(retarget(response, "#messages"), "beforeend")
        response = render(request, "core/upstream_error.html", context, status=status)
        if exception.retry_after:
            response["Retry-After"] = str(int(exception.retry_after))
        return response


# Fields a person typed or chose, given back on the error page so nothing is lost and the
# same form (with its idempotency key, so it can never apply twice) can be sent again.
NEVER_RESUBMIT = {"csrfmiddlewaretoken", "password"}
TYPED_FIELDS = {
    "comment": "Comment",
    "reason": "Reason",
    "amount": "Amount",
    "name": "Name",
    "text": "Note",
}


def _resubmit(request):
    if request.method != "POST":
        return None
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in NEVER_RESUBMIT
        for value in values
    ]
    typed = [
        (TYPED_FIELDS[name], value)
        for name, value in fields
        if name in TYPED_FIELDS and value.strip()
    ]
    return {"fields": fields, "typed": typed}
