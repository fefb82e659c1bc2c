from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.services import first_run, projects


@login_required
@require_GET
def project_list(request):
    found = projects.project_list(user=request.user)
    context = {
        "projects": found,
        # Whom to ask, when there is nothing to see; where to start, for the first admin.
        "givers": [] if found else first_run.access_givers(),
        "first_run": request.user.is_superuser and not first_run.anyone_granted(),
    }
    return render(request, "projects/list.html", context)


@login_required
@require_GET
def project_overview(request, project_id):
    overview = projects.project_overview(user=request.user, project_id=project_id)
    return render(
        request, "projects/overview.html", {"overview": overview, "project": overview.project}
    )
