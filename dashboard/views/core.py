from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def health(request):
    """Liveness for load balancers: the process answers and the database is reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:
        return JsonResponse({"status": "error", "detail": "database unreachable"}, status=503)


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
