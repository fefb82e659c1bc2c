import dataclasses

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.services import campaign_create, campaign_writes, campaigns, jobs, pending, writes
from dashboard.services.projects import project_get

OUTCOME_SESSION_KEY = "campaign-outcome"


@login_required
@require_GET
def campaign_list(request, project_id):
    filters = campaigns.Filters.from_query(request.GET)
    page = campaigns.campaign_list(user=request.user, project_id=project_id, filters=filters)
    return render(
        request,
        "campaigns/list.html",
        {"page": page, "project": page.project, "statuses": campaigns.STATUSES},
    )


@login_required
@require_POST
def authority(request, project_id, platform, campaign_id):
    """One campaign's authority block: htmx swaps the fragment, a plain post comes back."""
    if request.POST.get("cancel"):
        row = campaigns.campaign_row(
            user=request.user, project_id=project_id, platform=platform, campaign_id=campaign_id
        )
    else:
        wanted = {axis: request.POST.get(axis) for axis in campaigns.AXES if request.POST.get(axis)}
        row = campaign_writes.campaign_authority_set(
            user=request.user,
            project_id=project_id,
            platform=platform,
            campaign_id=campaign_id,
            wanted=wanted,
            confirmed=request.POST.get("confirm") == "1",
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    context = {
        "row": row,
        "project_id": project_id,
        # Drawn for the role the person has now: a viewer's cancel=1 comes back read-only.
        "can_write": campaigns.campaign_may_write(user=request.user, project_id=project_id),
        "next": request.POST.get("next", ""),
    }
    if request.htmx or (row.outcome and row.outcome.kind == "confirm"):
        return render(
            request,
            "campaigns/_authority.html" if request.htmx else "campaigns/authority_confirm.html",
            context,
        )
    if row.outcome:
        (messages.success if row.outcome.ok else messages.error)(request, row.outcome.sentence)
    return redirect(_next(request, reverse("campaign", args=[project_id, platform, campaign_id])))


def _next(request, default):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ) and target.startswith("/"):
        return target
    return default


@login_required
@require_GET
def campaign_page(request, project_id, platform, campaign_id):
    stashed = request.session.pop(f"{OUTCOME_SESSION_KEY}:{campaign_id}", None)
    outcome = writes.Outcome(**stashed) if stashed else None
    page = campaigns.campaign_page(
        user=request.user,
        project_id=project_id,
        platform=platform,
        campaign_id=campaign_id,
        outcome=outcome,
    )
    return render(request, "campaigns/detail.html", _detail_context(page))


def _detail_context(page):
    return {
        "page": page,
        "project": page.project,
        "row": page.row,
        "reject_reasons": pending.REJECT_REASONS,
    }


@login_required
@require_POST
def campaign_write(request, project_id, platform, campaign_id):
    """Budget, pause, resume, delete. Confirm steps and typing mistakes re-render the page
    with the same keys; real outcomes are shown after a redirect (reload-safe)."""
    action = request.POST.get("action", "")
    key = request.POST.get("idempotency_key", "")
    outcome, typed = campaign_writes.campaign_write(
        user=request.user,
        project_id=project_id,
        platform=platform,
        campaign_id=campaign_id,
        action=action,
        amount=request.POST.get("amount", ""),
        budget_kind=request.POST.get("budget_kind", "daily"),
        confirmed=request.POST.get("confirm") == "1",
        idempotency_key=key,
    )
    if outcome.kind in ("confirm", "invalid", "error", "refused"):
        page = campaigns.campaign_page(
            user=request.user,
            project_id=project_id,
            platform=platform,
            campaign_id=campaign_id,
            outcome=outcome,
            # The same form keeps its key until Layers gave a final answer (a refusal).
            keys={action: writes.key_clean(key)}
            if action in campaigns.WRITES and outcome.kind != "refused"
            else {},
            confirm=action if outcome.kind == "confirm" else "",
            typed={**typed, "action": action},
        )
        status = {"confirm": 200, "invalid": 422, "error": 502, "refused": 422}[outcome.kind]
        return render(request, "campaigns/detail.html", _detail_context(page), status=status)
    request.session[f"{OUTCOME_SESSION_KEY}:{campaign_id}"] = dataclasses.asdict(outcome)
    return redirect("campaign", project_id, platform, campaign_id)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request, project_id):
    if request.method == "GET":
        page = campaign_create.campaign_create_form(user=request.user, project_id=project_id)
    else:
        page = campaign_create.campaign_create(
            user=request.user,
            project_id=project_id,
            data=request.POST,
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    status = 422 if page.outcome and page.outcome.kind == "invalid" else 200
    context = {"page": page, "form": page.form, "project": page.project}
    return render(request, "campaigns/new.html", context, status=status)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def job_page(request, project_id, job_id):
    view = jobs.job_follow(user=request.user, project_id=project_id, job_id=job_id)
    context = {"view": view, "job": view.job, "project_id": project_id}
    if request.htmx:
        return render(request, "campaigns/_job.html", context)
    context["project"] = project_get(user=request.user, project_id=project_id)
    return render(request, "campaigns/job.html", context)
