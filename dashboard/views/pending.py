from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from dashboard.services import bulk as bulk_service
from dashboard.services import hold_rows, holds, pending, pending_decisions
from dashboard.services.bulk_start import (
    bulk_decision_resume,
    bulk_decision_retry,
    bulk_decision_start,
    bulk_select_all_preview,
)
from dashboard.services.pending_mirror_state import queue_view_read
from dashboard.views.decisions import (
    DecisionForm,
    decision_back,
    decision_opened,
    decision_row_render,
)
from dashboard.views.params import query_instant


@login_required
@require_GET
@vary_on_headers("HX-Request")
def queue(request, project_id):
    filters = pending.QueueFilters.from_query(request.GET)
    view = queue_view_read(user=request.user, project_id=project_id, filters=filters)
    context = {
        "queue": view.queue,
        "stamp": view.stamp,
        "project": view.project,
        "freshness": view.queue.freshness,
        "sorts": pending.SORTS,
        "statuses": pending.STATUSES,
        "action_types": pending.ACTION_TYPES,
        "reject_reasons": pending.REJECT_REASONS,
        "opened_at": timezone.now(),
        "new_since": query_instant(request.GET, "new_since"),
        "holds": holds.holds_live(project_id=project_id),
    }
    if request.htmx and filters.cursor:
        return render(request, "pending/_page.html", context)  # "load more"
    return render(request, "pending/queue.html", context)


@login_required
@require_GET
def fresh(request, project_id):
    """Polled by the queue page every few seconds: a notice when new actions arrived since
    it was opened. While the queue's stamp is the one the page holds (no write, webhook or
    sync since) the answer is an empty 204 without a query. Pending ones are counted in
    the mirror (like the inbox's poll: no upstream read, "full" or not); for the history
    (other statuses, read from Layers) every sixth poll ("full") looks upstream anyway."""
    stamp = pending.pending_stamp(user=request.user, project_id=project_id)
    filters = pending.QueueFilters.from_query(request.GET)
    full = request.GET.get("full") and filters.status != "pending"
    if request.GET.get("stamp") == stamp and not full:
        return HttpResponse(status=204)
    since = query_instant(request.GET, "since") or timezone.now()
    count = pending.pending_new_count(
        user=request.user, project_id=project_id, filters=filters, since=since
    )
    context = {
        "count": count,
        "since": since,
        "arrived": filters.status == "pending",  # "Show them": latest to arrive first
        "query": urlencode(filters.query()),
        "project_id": project_id,
        "stamp": stamp,
    }
    response = render(request, "pending/_fresh.html", context)
    return (
        trigger_client_event(response, "queue-changed") if count else response
    )  # the counts follow


@login_required
@require_GET
def counts(request, project_id):
    counts = pending.pending_counts(user=request.user, project_id=project_id)
    return render(request, "pending/_counts.html", {"counts": counts, "project_id": project_id})


@login_required
@require_http_methods(["GET", "POST"])
def decide(request, project_id, platform, pending_id):
    if request.method == "GET":
        return decision_opened(request, project_id, reverse("queue", args=[project_id]))
    outcome = pending_decisions.pending_decide(
        user=request.user,
        project_id=project_id,
        platform=platform,
        pending_id=pending_id,
        **DecisionForm.from_post(request.POST).fields(),
    )
    # Without JavaScript, go back to the queue the form was on (its filters included).
    back = decision_back(request, reverse("queue", args=[project_id]))
    return _decided(request, project_id, outcome, back)


def _decided(request, project_id, outcome, back):
    """A decision's (or a hold's) row for htmx; without JavaScript, back to the queue."""
    context = {
        "row": outcome.row,
        # A held decision's row says it all ("Approved — sending in 10 s · Undo").
        "outcome": None if outcome.hold and outcome.ok and outcome.row else outcome,
        "holds": {outcome.hold.pending_id: outcome.hold} if outcome.hold else {},
        "project_id": project_id,
        "can_decide": True,
        "reject_reasons": pending.REJECT_REASONS,
        "back": back,
    }
    if request.htmx:
        response = decision_row_render(request, context)
        changed = outcome.ok and not outcome.hold  # a held decision changed nothing yet
        return trigger_client_event(response, "queue-changed") if changed else response
    if not outcome.ok:
        return render(
            request,
            "pending/decide.html",
            context,
            status=409 if outcome.row and (outcome.row.conflict or outcome.row.moved) else 422,
        )
    messages.success(request, outcome.sentence)
    return redirect(back)


@login_required
@require_GET
def hold_status(request, project_id, hold_id):
    """Polled by a held row when its window ends: the row as the worker left it."""
    outcome = _hold_or_404(hold_rows.hold_outcome, request, project_id, hold_id)
    return _decided(request, project_id, outcome, reverse("queue", args=[project_id]))


@login_required
@require_POST
def hold_undo(request, project_id, hold_id):
    outcome = _hold_or_404(hold_rows.hold_undo, request, project_id, hold_id)
    back = request.POST.get("next") or request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("queue", args=[project_id])
    if not request.htmx and outcome.ok:
        messages.success(request, outcome.sentence)
        return redirect(back)
    return _decided(request, project_id, outcome, back)


def _hold_or_404(service, request, project_id, hold_id):
    try:
        return service(user=request.user, project_id=project_id, hold_id=hold_id)
    except (holds.DecisionHold.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such decision.") from None


@login_required
@require_POST
def bulk_start(request, project_id):
    select_all = request.POST.get("select_all") == "1"
    try:
        bulk = bulk_decision_start(
            user=request.user,
            project_id=project_id,
            decision=request.POST.get("decision", ""),
            text=request.POST.get("text", ""),
            selected=request.POST.getlist("selected"),
            select_all_filters=pending.QueueFilters.from_query(request.POST)
            if select_all
            else None,
            bulk_key=request.POST.get("bulk_key", ""),
        )
    except ValueError as error:
        messages.error(request, str(error))
        query = pending.QueueFilters.from_query(request.POST).query()
        return redirect(
            reverse("queue", args=[project_id]) + ("?" + urlencode(query) if query else "")
        )
    return redirect("queue-bulk", project_id=project_id, bulk_id=bulk.id)


@login_required
@require_GET
def bulk_preview(request, project_id):
    """What "select all" takes with the queue's filters (how many, the cap, the spend)."""
    preview = bulk_select_all_preview(
        user=request.user,
        project_id=project_id,
        filters=pending.QueueFilters.from_query(request.GET),
    )
    return render(request, "pending/_select_all.html", {"preview": preview})


@login_required
@require_GET
def bulk_page(request, project_id, bulk_id):
    bulk = _bulk_or_404(bulk_service.bulk_decision_get, request, project_id, bulk_id)
    context = {
        "bulk": bulk,
        "progress": bulk_service.bulk_progress(bulk),
        "items": bulk.items.all(),
        "project": pending.project_get(user=request.user, project_id=project_id),
        "can_decide": bulk_service.bulk_may_decide(user=request.user, project_id=project_id),
        **holds.bulk_hold_context(bulk),
    }
    template = "pending/_bulk_progress.html" if request.htmx else "pending/bulk.html"
    return render(request, template, context)


@login_required
@require_POST
def bulk_retry(request, project_id, bulk_id):
    bulk = _bulk_or_404(bulk_decision_retry, request, project_id, bulk_id)
    return redirect("queue-bulk", project_id=project_id, bulk_id=bulk.id)


@login_required
@require_POST
def bulk_resume(request, project_id, bulk_id):
    bulk = _bulk_or_404(bulk_decision_resume, request, project_id, bulk_id)
    return redirect("queue-bulk", project_id=project_id, bulk_id=bulk.id)


def _bulk_or_404(service, request, project_id, bulk_id):
    try:
        return service(user=request.user, project_id=project_id, bulk_id=bulk_id)
    except bulk_service.BulkDecision.DoesNotExist:
        raise Http404("No such bulk decision.") from None
