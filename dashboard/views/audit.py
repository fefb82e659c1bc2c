from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from dashboard.models import AuditExport
from dashboard.services import audit, holds
from dashboard.services.audit_export import (
    audit_export_get,
    audit_export_page,
    audit_export_parts,
    audit_export_progress,
    audit_export_start,
    export_filename,
)
from dashboard.services.projects import project_get


@login_required
@require_GET
@vary_on_headers("HX-Request")
def audit_page(request, project_id):
    filters = audit.AuditFilters.from_query(request.GET)
    log = audit.audit_log(user=request.user, project_id=project_id, filters=filters)
    context = {
        "log": log,
        "project": log.project,
        "actor_types": audit.ACTOR_TYPES,
        "decisions": audit.DECISIONS,
        "event_types": audit.EVENT_TYPES,
        "platforms": audit.PLATFORMS,
    }
    if request.htmx and filters.cursor:
        return render(request, "audit/_rows.html", context)  # "load more"
    context["holds"] = holds.holds_recent(user=request.user, project_id=project_id)
    return render(request, "audit/page.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def audit_export(request, project_id):
    """GET: the page to start an export of the filtered log (and this person's recent ones).
    POST: records the export and queues it; the progress page follows. Nothing is read from
    Layers in either request."""
    filters = audit.AuditFilters.from_query(request.POST or request.GET)
    if request.method == "POST":
        export, created = audit_export_start(
            user=request.user, project_id=project_id, filters=filters
        )
        if not created:
            messages.info(
                request,
                "Your earlier export is still being made: one export runs at a time for each "
                "person. Start the next one when it is done.",
            )
        return redirect("audit-export-progress", export.project_id, export.id)
    context = audit_export_page(user=request.user, project_id=project_id, filters=filters)
    return render(request, "audit/export.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def audit_export_progress_page(request, project_id, export_id):
    export = _export_or_404(request, project_id, export_id)
    context = {
        "export": export,
        "progress": audit_export_progress(export),
        "project": project_get(user=request.user, project_id=project_id),
    }
    if request.htmx:
        return render(request, "audit/_export_progress.html", context)
    return render(request, "audit/export_progress.html", context)


@login_required
@require_GET
def audit_export_download(request, project_id, export_id):
    """The finished file, streamed from the parts the worker kept."""
    export = _export_or_404(request, project_id, export_id)
    if not audit_export_progress(export)["finished"]:
        messages.info(request, "This export is not finished yet: it can be downloaded when done.")
        return redirect("audit-export-progress", project_id, export.id)
    response = StreamingHttpResponse(
        audit_export_parts(export), content_type="text/csv; charset=utf-8"
    )
    filename = export_filename(project_id, export.created_at)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _export_or_404(request, project_id, export_id):
    try:
        return audit_export_get(user=request.user, project_id=project_id, export_id=export_id)
    except AuditExport.DoesNotExist:
        raise Http404(
            "There is no such export in this project; exports are kept "
            f"{settings.AUDIT_EXPORT_KEEP_HOURS} hours after they finish."
        ) from None
