from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from dashboard.metrics import metrics_text
from dashboard.security import metrics_caller_allowed
from dashboard.services.first_run import first_run_get
from dashboard.services.health import health_check


@never_cache
@require_safe
def health(request):
    """Readiness: 200 when every part of the dashboard can do its job, 503 naming the parts
    that cannot (see dashboard/services/health.py). No secrets, nothing about customers."""
    parts = health_check()
    failing = [part.name for part in parts if not part.ok]
    body = {
        "status": "failing" if failing else "ok",
        "failing": failing,
        "parts": {part.name: {"ok": part.ok, "detail": part.detail} for part in parts},
    }
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
@require_safe
def health_live(request):
    """Liveness: the process answers (for a harness waiting for a server to come up, or a
    supervisor). /health is the readiness check."""
    return JsonResponse({"status": "live"})


@never_cache
@require_GET
def metrics(request):
    """Prometheus' scrape: only for a caller with METRICS_TOKEN or from METRICS_ALLOWED_IPS."""
    if not metrics_caller_allowed(request):
        return HttpResponse("Refused.\n", status=403, content_type="text/plain")
    return HttpResponse(metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")


@login_required
@require_GET
def first_run(request):
    return render(request, "core/first_run.html", {"run": first_run_get(user=request.user)})


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico where a page names no icon (the sandbox's pages, a
    file): the icon every dashboard page links to."""
    return redirect(static("favicon.svg"), permanent=True)


def not_found(request, exception=None):
    """Every 404 as a sentence in the site's layout: the sentence our code raised with (a
    job of another project, a bulk decision that is not there), or a general one. The URL
    resolver's own message (the patterns it tried) is never shown."""
    sentence = ""
    if type(exception) is Http404 and exception.args and isinstance(exception.args[0], str):
        sentence = exception.args[0]
    return render(request, "404.html", {"sentence": sentence}, status=404)
