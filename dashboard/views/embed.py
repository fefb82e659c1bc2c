from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard.models import Role
from dashboard.services import embedding


@never_cache
@require_GET
def embed_start(request):
    """The partner's iframe lands here with a signed token; the person lands on their page."""
    try:
        embedding.embed_refuse_top_level(fetch_dest=request.headers.get("Sec-Fetch-Dest"))
        claims = embedding.embed_token_verify(token=request.GET.get("token", ""))
    except embedding.EmbedRefused as refused:
        response = render(request, "embed/refused.html", {"refused": refused}, status=403)
        response.embed_frame_origins = [refused.parent_origin]  # shown in the partner's frame
        response["Referrer-Policy"] = "no-referrer"
        return response
    user = embedding.embed_user_sync(claims=claims)
    login(
        request, user, backend="django.contrib.auth.backends.ModelBackend"
    )  # rotates the session key
    embedding.embed_session_mark(session=request.session, claims=claims)
    response = redirect(claims.next_path)
    response["Referrer-Policy"] = "no-referrer"  # the token is in this URL
    return response


def embed_session_ended(request):
    """Where a partner's frame lands once its embed session is gone (views/signin.py sends
    framed sign-in requests here): a sentence, and a message to the portal to renew."""
    next_path = request.GET.get("next", "")
    if not next_path.startswith("/") or not url_has_allowed_host_and_scheme(
        next_path, allowed_hosts=None
    ):
        next_path = ""
    origins = list(settings.EMBED_ALLOWED_ORIGINS)
    response = render(
        request, "embed/ended.html", {"next_path": next_path, "origins": origins}, status=401
    )
    response.embed_frame_origins = (
        origins  # any allowed portal: the session that knew which is gone
    )
    return response


def _origin_of(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


@never_cache
@require_GET
def demo_portal(request):
    """A stand-in partner portal, served only with the sandbox, on another origin than the
    dashboard: its "backend" (this view) mints a token and its page embeds the dashboard."""
    portal = settings.EMBED_DEMO_PORTAL_ORIGIN
    if _origin_of(request) != portal:  # a portal on the dashboard's own origin proves nothing
        return redirect(f"{portal}{request.get_full_path()}")
    projects = embedding.demo_projects()
    choice = {
        "person": request.GET.get("person")
        if request.GET.get("person") in embedding.DEMO_PEOPLE
        else "ana",
        "role": request.GET.get("role")
        if request.GET.get("role") in embedding.EMBED_ROLES
        else Role.APPROVER.value,
        "project": request.GET.get("project") or (projects[0][0] if projects else ""),
        "variant": request.GET.get("variant")
        if request.GET.get("variant") in embedding.DEMO_VARIANTS
        else "good",
    }
    dashboard = settings.EMBED_DEMO_DASHBOARD_ORIGIN
    frame_src = ""
    if choice["project"]:
        token = embedding.demo_token_mint(
            person=choice["person"],
            role=choice["role"],
            project_id=choice["project"][:80],
            variant=choice["variant"],
            next_path=request.GET.get("next", "")[:500],  # where a renewed session picks up
        )
        frame_src = f"{dashboard}/embed/start?{urlencode({'token': token})}"
    context = {
        "projects": projects,
        "choice": choice,
        "people": embedding.DEMO_PEOPLE,
        "roles": embedding.EMBED_ROLES,
        "variants": embedding.DEMO_VARIANTS,
        "frame_src": frame_src,
        "dashboard_origin": dashboard,
        "portal_origin": portal,
        "allowed": portal in settings.EMBED_ALLOWED_ORIGINS,
    }
    response = render(request, "embed/demo_portal.html", context)
    # The portal's own policy: its scripts, and frames from the dashboard only.
    response._csp_config = {**settings.SECURE_CSP, "frame-src": [dashboard]}
    return response
