"""/inbox/: every pending action across the customers a person may see, from the mirror."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from dashboard.models.mirror import MirrorAction, MirrorProject
from dashboard.services import bulk as bulk_service
from dashboard.services import inbox as inbox_service
from dashboard.services.inbox_actions import (
    inbox_bulk_start,
    inbox_bulks,
    inbox_decide,
    inbox_detail_row,
)
from dashboard.services.inbox_sync import freshness_for, refresh_now
from dashboard.views.decisions import (
    DecisionForm,
    decision_back,
    decision_opened,
    decision_row_render,
)
from dashboard.views.params import query_instant


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def inbox(request):
    filters = inbox_service.InboxFilters.from_query(request.GET)
    page = inbox_service.inbox_page(user=request.user, filters=filters)
    context = {
        "inbox": page,
        "freshness": freshness_for(user=request.user, customer=""),
        "sorts": inbox_service.SORTS,
        "axes": inbox_service.AXES,
        "platforms": inbox_service.PLATFORMS,
        "action_types": inbox_service.ACTION_TYPES,
        "reject_reasons": inbox_service.REJECT_REASONS,
        "new_since": query_instant(request.GET, "new_since"),
        "opened_at": timezone.now(),
    }
    if request.htmx and request.htmx.target == "inbox-list":
        return render(request, "inbox/_list.html", context)
    return render(request, "inbox/inbox.html", context)


@login_required
@require_GET
def fresh(request):
    """Polled by the inbox: how many matching actions reached the mirror since the page's
    newest one (the mirror only; nothing is asked of Layers)."""
    filters = inbox_service.InboxFilters.from_query(request.GET)
    after = query_instant(request.GET, "after")
    count = inbox_service.inbox_new_count(user=request.user, filters=filters, after=after)
    context = {
        "count": count,
        "after": after,
        "query": urlencode(filters.query(page=1)),
    }
    response = render(request, "inbox/_fresh.html", context)
    return trigger_client_event(response, "inbox-changed") if count else response


def _detail_context(request, row, project_id, **extra):
    return {
        "row": row,
        "project_id": project_id,
        "can_decide": bulk_service.bulk_may_decide(user=request.user, project_id=project_id),
        "decide_url_name": "inbox-decide",
        "reject_reasons": inbox_service.REJECT_REASONS,
        **extra,
    }


@login_required
@require_GET
def detail(request, project_id, platform, pending_id):
    try:
        row = inbox_detail_row(user=request.user, project_id=project_id, pending_id=pending_id)
    except MirrorAction.DoesNotExist:
        raise Http404("No such pending action in the inbox.") from None
    context = _detail_context(request, row, project_id, back=reverse("inbox"))
    if request.htmx:
        return render(request, "inbox/_detail.html", context)
    return render(request, "inbox/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def decide(request, project_id, platform, pending_id):
    if request.method == "GET":
        to = reverse("inbox-detail", args=[project_id, platform, pending_id])
        return decision_opened(request, project_id, to)
    try:
        outcome = inbox_decide(
            user=request.user,
            project_id=project_id,
            platform=platform,
            pending_id=pending_id,
            **DecisionForm.from_post(request.POST).fields(),
        )
    except MirrorAction.DoesNotExist:
        raise Http404("No such pending action in the inbox.") from None
    back = decision_back(request, reverse("inbox"))
    context = _detail_context(request, outcome.row, project_id, outcome=outcome, back=back)
    if request.htmx:
        response = decision_row_render(request, context)
        return trigger_client_event(response, "inbox-changed") if outcome.ok else response
    if not outcome.ok:
        conflict = outcome.row and (outcome.row.conflict or outcome.row.moved)
        return render(request, "pending/decide.html", context, status=409 if conflict else 422)
    messages.success(request, outcome.sentence)
    return redirect(back)


@login_required
@require_POST
def bulk(request):
    select_all = request.POST.get("select_all") == "1"
    filters = inbox_service.InboxFilters.from_query(request.POST)
    try:
        bulks = inbox_bulk_start(
            user=request.user,
            decision=request.POST.get("decision", ""),
            text=request.POST.get("text", ""),
            selected=request.POST.getlist("selected"),
            select_all_filters=filters if select_all else None,
            bulk_key=request.POST.get("bulk_key", ""),
        )
    except ValueError as error:
        messages.error(request, str(error))
        return redirect(reverse("inbox") + filters.url(page=1).rstrip("?"))
    if len(bulks) == 1:
        return redirect("queue-bulk", project_id=bulks[0].project_id, bulk_id=bulks[0].id)
    return redirect("inbox-bulk", form_key=request.POST.get("bulk_key", ""))


@login_required
@require_GET
def bulk_page(request, form_key):
    bulks = inbox_bulks(user=request.user, form_key=form_key)
    if not bulks:
        raise Http404("No such bulk decision.")
    names = dict(
        MirrorProject.objects.filter(project_id__in=[b.project_id for b in bulks]).values_list(
            "project_id", "name"
        )
    )
    items = [(b, bulk_service.bulk_progress(b), names.get(b.project_id)) for b in bulks]
    return render(request, "inbox/bulk.html", {"bulks": items, "form_key": form_key})


@login_required
@require_POST
def refresh(request):
    customer = (request.POST.get("customer") or "").strip()[:80]
    asked = refresh_now(user=request.user, customer=customer)
    if request.htmx:
        return HttpResponse(
            '<span class="muted" role="status">Refresh asked for; it runs within the key’s '
            "budget.</span>"
        )
    if asked:
        messages.success(request, "Refresh asked for: the list is read again within a few seconds.")
    else:
        messages.error(request, "There is nothing to refresh yet.")
    return redirect(decision_back(request, reverse("inbox")))
