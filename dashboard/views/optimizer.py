from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.services import optimizer


@login_required
@require_POST
def run_start(request, project_id):
    start = optimizer.optimizer_start(
        user=request.user,
        project_id=project_id,
        platform=request.POST.get("platform", ""),
        dry_run=request.POST.get("dry_run") == "1",
        idempotency_key=request.POST.get("idempotency_key", ""),
    )
    if start.outcome is not None:
        (messages.info if start.outcome.ok else messages.error)(request, start.outcome.sentence)
    if start.run_id:
        return redirect("optimizer-run", project_id, start.run_id)
    return redirect("campaigns", project_id)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def run_page(request, project_id, run_id):
    view = optimizer.optimizer_run_get(user=request.user, project_id=project_id, run_id=run_id)
    context = {"view": view, "run": view.run, "project": view.project}
    return render(request, "optimizer/_run.html" if request.htmx else "optimizer/run.html", context)
