from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from dashboard.services import pending


@login_required
@require_GET
@vary_on_headers("HX-Request")
def queue(request, project_id):
    filters = pending.QueueFilters.from_query(request.GET)
    queue = pending.pending_queue(user=request.user, project_id=project_id, filters=filters)
    context = {"queue": queue, "project": pending.project_get(user=request.user, project_id=project_id),
               "sorts": pending.SORTS, "statuses": pending.STATUSES, "action_types": pending.ACTION_TYPES,
               "reject_reasons": pending.REJECT_REASONS}
    if request.htmx and filters.cursor:
        return render(request, "pending/_page.html", context)  # "load more"
    return render(request, "pending/queue.html", context)


@login_required
@require_GET
def counts(request, project_id):
    counts = pending.pending_counts(user=request.user, project_id=project_id)
    return render(request, "pending/_counts.html", {"counts": counts, "project_id": project_id})


@login_required
@require_POST
def decide(request, project_id, platform, pending_id):
    decision = request.POST.get("decision", "")
    text = request.POST.get("comment") if decision == "approve" else (
        request.POST.get("quick_reason") or request.POST.get("reason"))
    outcome = pending.pending_decide(
        user=request.user, project_id=project_id, platform=platform, pending_id=pending_id,
        decision=decision, text=text or "", idempotency_key=request.POST.get("idempotency_key", ""),
    )
    context = {"row": outcome.row, "outcome": outcome, "project_id": project_id, "can_decide": True,
               "reject_reasons": pending.REJECT_REASONS, "next": request.POST.get("next", "")}
    if request.htmx:
        response = render(request, "pending/_row.html", context)
        return trigger_client_event(response, "queue-changed") if outcome.ok else response
    if not outcome.ok:
        return render(request, "pending/decide.html", context, status=409 if outcome.row and outcome.row.conflict else 422)
    messages.success(request, outcome.sentence)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("queue", args=[project_id])
    return redirect(next_url)
