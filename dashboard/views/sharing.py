from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.models import ShareLink
from dashboard.services import pending, sharing
from dashboard.services.projects import project_get


@login_required
@require_http_methods(["GET", "POST"])
def share_manage(request, project_id):
    """A project's share links: make one (admins), see them with their use, revoke."""
    links = sharing.share_link_list(actor=request.user, project_id=project_id)  # admins only
    form_error, new_url, typed = None, None, {}
    if request.method == "POST":
        typed = {k: request.POST.get(k, "") for k in ("scope", "target", "days", "label")}
        try:
            link, token = sharing.share_link_create(
                actor=request.user, project_id=project_id, **typed
            )
            new_url = request.build_absolute_uri(reverse("share", args=[token]))
            links = sharing.share_link_list(actor=request.user, project_id=project_id)
            typed = {}
        except ValueError as error:
            form_error = str(error)
    context = {
        "project": project_get(user=request.user, project_id=project_id),
        "links": links,
        "typed": typed,
        "form_error": form_error,
        "new_url": new_url,
        "scopes": ShareLink.Scope.choices,
        "now": timezone.now(),
        "campaigns": sharing.share_campaign_choices(actor=request.user, project_id=project_id),
        "default_days": settings.SHARE_LINK_DAYS,
        "max_days": settings.SHARE_LINK_MAX_DAYS,
    }
    response = render(request, "sharing/manage.html", context, status=422 if form_error else 200)
    if new_url:
        response["Cache-Control"] = "no-store"  # the token is on this page, once
    return response


@login_required
@require_POST
def share_revoke(request, project_id, link_id):
    try:
        sharing.share_link_revoke(actor=request.user, project_id=project_id, link_id=link_id)
        messages.success(
            request, "Link turned off. Anyone who opens it now sees that it was revoked."
        )
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("project-share", project_id=project_id)


@never_cache
@csrf_exempt  # it never writes: every write is answered 403 below, with a sentence
@vary_on_headers("HX-Request")
def share_open(request, token):
    """What a share link shows, to anyone holding it, read-only."""
    request.share_link = token  # the embed middleware never frames a share page
    if request.method not in ("GET", "HEAD"):
        return _share_page(
            request,
            "sharing/refused.html",
            {"sentence": sharing.READ_ONLY_SENTENCE, "heading": "Read-only link"},
            403,
        )
    try:
        link = sharing.share_link_open(
            token=token,
            ip=request.META.get("REMOTE_ADDR", ""),
            user_agent=request.headers.get("User-Agent", ""),
            path=request.path,
        )
    except sharing.ShareLinkGone as gone:
        return _share_page(request, "sharing/refused.html", {"sentence": gone.sentence}, 410)
    if link is None:
        return _share_page(
            request,
            "sharing/refused.html",
            {"sentence": "There is no share link at this address. Check that it was copied whole."},
            404,
        )
    context = {
        "link": link,
        "project": sharing.share_project(link=link),
        "expires_at": link.expires_at,
    }
    if link.scope == ShareLink.Scope.AUDIT:
        context["events"] = sharing.share_audit(link=link)
        return _share_page(request, "sharing/audit.html", context)
    filters = pending.QueueFilters.from_query(request.GET)
    context.update(
        queue=sharing.share_queue(link=link, filters=filters),
        statuses=pending.STATUSES,
        sorts=pending.SORTS,
        action_types=pending.ACTION_TYPES,
        campaign_name=(
            sharing.share_campaign_name(link=link) if link.scope == ShareLink.Scope.CAMPAIGN else ""
        ),
    )
    if request.htmx and filters.cursor:
        return _share_page(request, "pending/_page.html", context)  # "load more"
    return _share_page(request, "sharing/queue.html", context)


def _share_page(request, template, context, status=200):
    response = render(request, template, {**context, "share_mode": True}, status=status)
    response["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
