import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.services import first_run, ownership, projects
from dashboard.services.inbox_sync import freshness_for
from dashboard.services.projects_page import projects_page_get


@login_required
@require_GET
def project_list(request):
    """Each customer with its owner, and from the mirror its pending count, how many expire
    within 24 h and how fresh its copy is; most urgent first. No list is read from Layers
    (but once, on a fresh install: services/projects_page.py)."""
    page = projects_page_get(user=request.user)
    context = {
        "cards": page.cards,
        "unowned": page.unowned,
        "first_sync": page.first_sync,
        "freshness": freshness_for(user=request.user),
        # Whom to ask, when there is nothing to see; where to start, for the first admin.
        "givers": [] if page.cards else first_run.access_givers(),
        "first_run": request.user.is_superuser and not first_run.anyone_granted(),
    }
    return render(request, "projects/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def project_owner(request, project_id):
    """Assigning a customer's owner and, while they are away, a cover (admins only)."""
    people = ownership.ownership_candidates(user=request.user, project_id=project_id)
    form_error, typed = None, {}
    if request.method == "POST":
        typed = {
            k: request.POST.get(k, "") for k in ("owner", "cover", "cover_from", "cover_until")
        }
        try:
            ownership.ownership_set(
                actor=request.user,
                project_id=project_id,
                owner_id=typed["owner"],
                cover_id=typed["cover"] or None,
                cover_from=_day(typed["cover_from"], "first"),
                cover_until=_day(typed["cover_until"], "last"),
            )
            messages.success(request, "Owner saved.")
            return redirect("home")
        except ValueError as error:
            form_error = str(error)
    owners = ownership.ownership_get(user=request.user, project_id=project_id)
    if not typed:
        typed = {
            "owner": str(owners.owner.id) if owners.owner else "",
            "cover": str(owners.cover.id) if owners.cover else "",
            "cover_from": owners.cover_from.isoformat() if owners.cover_from else "",
            "cover_until": owners.cover_until.isoformat() if owners.cover_until else "",
        }
    context = {
        "project": projects.project_get(user=request.user, project_id=project_id),
        "people": people,
        "owners": owners,
        "typed": typed,
        "form_error": form_error,
    }
    return render(request, "projects/owner.html", context, status=422 if form_error else 200)


def _day(text: str, which: str) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"The cover's {which} day is not a date (YYYY-MM-DD).") from None


@login_required
@require_GET
def project_overview(request, project_id):
    overview = projects.project_overview(user=request.user, project_id=project_id)
    return render(
        request, "projects/overview.html", {"overview": overview, "project": overview.project}
    )
