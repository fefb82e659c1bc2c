from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dashboard.services import notices


@login_required
@require_GET
def notices_page(request):
    page = notices.notices_page(user=request.user)
    return render(request, "notices/page.html", {"page": page})


@login_required
@require_POST
def notices_read(request):
    notices.notices_mark_read(user=request.user)
    if request.htmx:
        return render(
            request,
            "notices/_badge.html",
            {"count": notices.notices_unread_count(user=request.user)},
        )
    messages.success(request, "Every notice is marked as read.")
    return redirect("notices")


@never_cache
@login_required
@require_GET
def notices_count(request):
    """The badge alone, for the navigation's 30-second refresh."""
    return render(
        request, "notices/_badge.html", {"count": notices.notices_unread_count(user=request.user)}
    )
