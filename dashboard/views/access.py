from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dashboard.models import Role
from dashboard.services import access, projects


@login_required
@require_http_methods(["GET", "POST"])
def access_page(request, project_id):
    grants = access.grant_list(user=request.user, project_id=project_id)  # admins only
    form_error, typed = None, {}
    if request.method == "POST":
        typed = {"username": request.POST.get("username", ""), "role": request.POST.get("role", "")}
        try:
            if "revoke" in request.POST:
                access.grant_revoke(
                    actor=request.user, project_id=project_id, grant_id=int(request.POST["revoke"])
                )
                messages.success(request, "Access removed.")
            else:
                grant = access.grant_set(actor=request.user, project_id=project_id, **typed)
                messages.success(
                    request, f"{grant.user.username} is now {grant.get_role_display().lower()}."
                )
            return redirect("project-access", project_id=project_id)
        except (ValueError, KeyError) as error:
            form_error = (
                str(error) if isinstance(error, ValueError) else "Choose a person to remove."
            )
    project = projects.project_get(user=request.user, project_id=project_id)
    context = {
        "project": project,
        "grants": grants,
        "roles": Role.choices,
        "form_error": form_error,
        "typed": typed,
    }
    return render(request, "projects/access.html", context, status=422 if form_error else 200)
