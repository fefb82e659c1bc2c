from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.services import projects


@login_required
@require_GET
def project_list(request):
    return render(
        request, "projects/list.html", {"projects": projects.project_list(user=request.user)}
    )


@login_required
@require_GET
def project_overview(request, project_id):
    overview = projects.project_overview(user=request.user, project_id=project_id)
    return render(
        request, "projects/overview.html", {"overview": overview, "project": overview.project}
    )
