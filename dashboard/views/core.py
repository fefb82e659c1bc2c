from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
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
