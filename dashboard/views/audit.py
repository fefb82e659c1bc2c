from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from dashboard.services import audit, holds
from dashboard.services.audit_export import (
    audit_export_check,
    audit_export_lines,
    export_filename,
)


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
@require_GET
def audit_export(request, project_id):
    """The filtered log as CSV, streamed page by page (see services.audit_export)."""
    filters = audit.AuditFilters.from_query(request.GET)
    audit_export_check(user=request.user, project_id=project_id)
    response = StreamingHttpResponse(
        audit_export_lines(user=request.user, project_id=project_id, filters=filters),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(project_id, filters)}"'
    )
    response["Cache-Control"] = "no-store"
    return response
