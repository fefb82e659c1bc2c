from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.services import projects
from dashboard.services.inbox_sync import freshness_for, projects_urgency


@login_required
@require_GET
def project_list(request):
    """Each customer with its pending count, how many expire within 24 h and how fresh its
    copy is, most urgent first: from the mirror. Before the sync's first pass has found
    any project, the list comes from Layers (no counts yet)."""
    lines = projects_urgency(user=request.user)
    context = {"lines": lines, "freshness": freshness_for(user=request.user)}
    if not lines:
        context["projects"] = projects.project_list(user=request.user)
    return render(request, "projects/list.html", context)


@login_required
@require_GET
def project_overview(request, project_id):
    overview = projects.project_overview(user=request.user, project_id=project_id)
    return render(
        request, "projects/overview.html", {"overview": overview, "project": overview.project}
    )
