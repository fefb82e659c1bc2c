"""Campaigns (list, get, create, budget, pause/resume, delete), campaign authority and
layer defaults. Writes go through `gate.gate_write` after lookup and validation."""

from .. import clock
from ..gate import deny, gate_policy, gate_write
from ..http import PLATFORMS, Reply, body_platform, endpoint, validation
from ..models import AdAccount, Campaign
from ..paging import page
from ..records import (
    AXES,
    MODES,
    actor_of,
    audit,
    authority_body,
    campaign_row,
    defaults_body,
    effective_authority,
    record_verdict,
    request_of,
)
from . import get_campaign, get_layer, get_project

STATUSES = ("active", "paused", "archived", "deleted", "in_review", "rejected")
OUTCOMES = ("conversions", "traffic", "app_installs", "engagement", "lead_generation")
MODE_TO_AXIS = {"manual": "off", "draft": "draft", "autopilot": "auto"}
MIN_BUDGET = 100


@endpoint("campaigns.list", scope="ads:read")
def campaigns_list(ctx, project_id):
    project = get_project(project_id)
    qs = Campaign.objects.filter(project=project)
    platforms = ctx.query_list("platforms")
    if platforms:
        qs = qs.filter(platform__in=[body_platform(p, "platforms") for p in platforms])
    if ctx.request.GET.get("adAccountId"):
        qs = qs.filter(ad_account_id=ctx.request.GET["adAccountId"])
    statuses = ctx.query_list("status")
    if any(s not in STATUSES for s in statuses):
        raise validation({"status": f"must be among {', '.join(STATUSES)}"})
    if statuses:
        qs = qs.filter(status__in=statuses)
    if ctx.request.GET.get("since"):
        try:
            qs = qs.filter(created_at__gte=clock.parse_iso(ctx.request.GET["since"]))
        except ValueError:
            raise validation({"since": "must be an ISO 8601 timestamp with a timezone"}) from None
    rows, cursor = page(
        qs,
        order=("-created_at", "id"),
        cursor=ctx.request.GET.get("cursor"),
        limit=ctx.limit(100, 200),
        strict=False,
    )
    return Reply(200, {"items": [campaign_row(c) for c in rows], "nextCursor": cursor})


@endpoint("campaigns.get", scope="ads:read")
def campaign_get(ctx, project_id, platform, campaign_id):
    project = get_project(project_id)
    layer = get_layer(project, platform)
    campaign = get_campaign(project, platform, campaign_id)
    authority, source = effective_authority(campaign, layer)
    return Reply(200, {**campaign_row(campaign), "authority": authority, "authoritySource": source})


def _budget_fields(body: dict, errors: dict) -> dict:
    given = {
        k: body[k] for k in ("dailyBudgetCents", "lifetimeBudgetCents") if body.get(k) is not None
    }
    if len(given) != 1:
        errors["dailyBudgetCents"] = "send exactly one of dailyBudgetCents or lifetimeBudgetCents"
    for name, value in given.items():
        if not isinstance(value, int) or isinstance(value, bool):
            errors[name] = "must be an integer number of cents"
        elif value < MIN_BUDGET:
            errors[name] = f"must be at least {MIN_BUDGET} cents"
    return given


@endpoint("campaigns.create", "POST", rate_class="long-running", scope="ads:write:campaigns")
def campaign_create(ctx, project_id, platform):
    project = get_project(project_id)
    layer = get_layer(project, platform)
    body, errors = ctx.body, {}
    account = AdAccount.objects.filter(
        project=project, platform=platform, pk=body.get("adAccountId") or ""
    ).first()
    if account is None:
        errors["adAccountId"] = (
            f"must be a connected {PLATFORMS[platform]} ad account of this project"
        )
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 128:
        errors["name"] = "must be 1 to 128 characters"
    if body.get("outcome") not in OUTCOMES:
        errors["outcome"] = f"must be one of {', '.join(OUTCOMES)}"
    for field in ("campaignManagementMode", "creativeMode"):
        if body.get(field) not in MODE_TO_AXIS:
            errors[field] = "must be one of manual, draft, autopilot"
    budget = _budget_fields(body, errors)
    times = {}
    for field in ("startTime", "endTime"):
        if body.get(field) is not None:
            try:
                times[field] = clock.parse_iso(body[field])
            except (ValueError, TypeError, AttributeError):
                errors[field] = "must be an ISO 8601 UTC timestamp"
    if "startTime" in times and "endTime" in times and times["endTime"] <= times["startTime"]:
        errors["endTime"] = "must be after startTime"
    if platform == "tiktok" and "lifetimeBudgetCents" in budget and "endTime" not in times:
        errors["endTime"] = "is required for a TikTok lifetime budget"
    strategy = body.get("bidStrategy")
    if strategy is not None and (
        not isinstance(strategy, dict)
        or strategy.get("type") not in ("lowest_cost", "cost_cap", "bid_cap")
    ):
        errors["bidStrategy"] = "type must be lowest_cost, cost_cap or bid_cap"
    if errors:
        raise validation(errors)
    authority = {
        "creative": MODE_TO_AXIS[body["creativeMode"]],
        "tactical": MODE_TO_AXIS[body["campaignManagementMode"]],
        "structural": MODE_TO_AXIS[body["campaignManagementMode"]],
    }
    campaign_id = clock.new_id("cmp", ctx.now)
    spec = {
        "adAccountId": account.id,
        "name": name.strip(),
        "outcome": body["outcome"],
        **budget,
        "startTime": body.get("startTime"),
        "endTime": body.get("endTime"),
        "authority": authority,
        "actor": actor_of(ctx),
    }
    return gate_write(
        ctx,
        project=project,
        layer=layer,
        campaign=None,
        action_type="create_campaign",
        entity_type="campaign",
        entity_id=campaign_id,
        entity_name=spec["name"],
        current_value=None,
        new_value={"name": spec["name"], "status": "active", **budget},
        detail={"campaign": spec},
        rationale="Partner requested a new campaign.",
        job_kind="ads_campaign_create",
        extra={"campaignId": campaign_id, "authority": authority},
    )


def _live_campaign(project, platform, campaign_id):
    campaign = get_campaign(project, platform, campaign_id)
    if campaign.status == "deleted":
        raise validation({"campaignId": "the campaign is deleted"})
    return campaign


@endpoint("campaigns.budget", "PATCH", scope="ads:write:budgets")
def campaign_budget(ctx, project_id, platform, campaign_id):
    project = get_project(project_id)
    layer = get_layer(project, platform)
    campaign = _live_campaign(project, platform, campaign_id)
    errors = {}
    budget = _budget_fields(ctx.body, errors)
    if errors:
        raise validation(errors)
    field = next(iter(budget))
    current = {
        field: getattr(
            campaign,
            "daily_budget_cents" if field == "dailyBudgetCents" else "lifetime_budget_cents",
        )
    }
    return gate_write(
        ctx,
        project=project,
        layer=layer,
        campaign=campaign,
        action_type="update_budget",
        entity_type="campaign",
        entity_id=campaign.id,
        entity_name=campaign.name,
        current_value=current,
        new_value=budget,
        detail={
            "campaignId": campaign.id,
            "platformField": "daily_budget" if field == "dailyBudgetCents" else "lifetime_budget",
            "value": budget[field],
        },
        rationale="Partner requested a budget change.",
    )


def _lifecycle(ctx, project_id, platform, campaign_id, action_type, new_status):
    project = get_project(project_id)
    layer = get_layer(project, platform)
    campaign = _live_campaign(project, platform, campaign_id)
    comment = ctx.body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise validation({"comment": "must be a string"})
    return gate_write(
        ctx,
        project=project,
        layer=layer,
        campaign=campaign,
        action_type=action_type,
        entity_type="campaign",
        entity_id=campaign.id,
        entity_name=campaign.name,
        current_value={"status": campaign.status},
        new_value={"status": new_status},
        detail={"campaignId": campaign.id, "platformField": "status", "value": new_status.upper()},
        rationale=comment or f"Partner requested: {action_type.replace('_', ' ')}.",
    )


@endpoint("campaigns.pause", "POST", scope="ads:write:lifecycle")
def campaign_pause(ctx, project_id, platform, campaign_id):
    return _lifecycle(ctx, project_id, platform, campaign_id, "pause_campaign", "paused")


@endpoint("campaigns.resume", "POST", scope="ads:write:lifecycle")
def campaign_resume(ctx, project_id, platform, campaign_id):
    return _lifecycle(ctx, project_id, platform, campaign_id, "resume_campaign", "active")


@endpoint("campaigns.delete", "DELETE", scope="ads:write:lifecycle")
def campaign_delete(ctx, project_id, platform, campaign_id):
    return _lifecycle(ctx, project_id, platform, campaign_id, "delete_campaign", "deleted")


# --- authority and defaults -------------------------------------------------------------------


def _modes(body: dict, name: str) -> dict:
    block = body.get(name)
    if not isinstance(block, dict) or not block:
        raise validation({name: "must be an object with creative, tactical and/or structural"})
    errors = {
        f"{name}.{k}": "must be off, draft or auto"
        for k, v in block.items()
        if k not in AXES or v not in MODES
    }
    if errors:
        raise validation(errors)
    return block


def _escalation(changes: dict, ceiling: dict) -> str | None:
    """The first axis a partner tries to raise above the customer's ceiling."""
    for axis, mode in changes.items():
        if MODES.index(mode) > MODES.index(ceiling.get(axis, "off")):
            return axis
    return None


def _policy_verdict(ctx, project, layer, entity_type, entity_id, authority):
    return record_verdict(
        project_id=project.public_id,
        decision="allow",
        reason="policy_update",
        axis=None,
        authority=authority,
        request=request_of(ctx),
        actor_type="partner",
        api_key_id=ctx.key.key_id,
        platform=layer.platform,
        entity_type=entity_type,
        entity_id=entity_id,
        at=ctx.now,
    )


@endpoint("authority.get", scope="ads:read")
def authority_get(ctx, project_id, platform, campaign_id):
    project = get_project(project_id)
    layer = get_layer(project, platform)
    return Reply(200, authority_body(get_campaign(project, platform, campaign_id), layer))


@endpoint("authority.patch", "PATCH", scope="ads:write:policy")
def authority_patch(ctx, project_id, platform, campaign_id):
    project = get_project(project_id)
    layer = get_layer(project, platform)
    campaign = get_campaign(project, platform, campaign_id, lock=True)
    changes = _modes(ctx.body, "authority")
    current, _ = effective_authority(campaign, layer)
    refused = gate_policy(
        ctx,
        project=project,
        layer=layer,
        authority=current,
        entity_type="campaign",
        entity_id=campaign.id,
        change=changes,
    )
    if refused:
        return refused
    axis = _escalation(changes, campaign.ceiling or layer.ceiling)
    if axis:
        return deny(
            ctx,
            project=project,
            layer=layer,
            reason="partner_escalation_forbidden",
            axis=axis,
            authority=current,
            entity_type="campaign",
            entity_id=campaign.id,
            change=changes,
        )
    campaign.authority = {**current, **changes}
    campaign.authority_modified_at, campaign.authority_modified_by = ctx.now, actor_of(ctx)
    campaign.save()
    verdict = _policy_verdict(ctx, project, layer, "campaign", campaign.id, campaign.authority)
    audit(
        "ads.authority.updated",
        at=ctx.now,
        project_id=project.public_id,
        api_key_id=ctx.key.key_id,
        request_id=ctx.request_id,
        verdictId=verdict.id,
        platform=platform,
        entityType="campaign",
        entityId=campaign.id,
        authority=campaign.authority,
        previous=current,
    )
    return Reply(200, {**authority_body(campaign, layer), "verdictId": verdict.id})


@endpoint("defaults.get", scope="ads:read")
def defaults_get(ctx, project_id, platform):
    return Reply(200, defaults_body(get_layer(get_project(project_id), platform)))


@endpoint("defaults.patch", "PATCH", scope="ads:write:policy")
def defaults_patch(ctx, project_id, platform):
    project = get_project(project_id)
    layer = get_layer(project, platform, lock=True)
    block = ctx.body.get("defaults")
    if "killSwitchActive" in ctx.body or (isinstance(block, dict) and "killSwitchActive" in block):
        raise validation({"killSwitchActive": "only the customer can change the kill switch"})
    changes = _modes(ctx.body, "defaults")
    refused = gate_policy(
        ctx, project=project, layer=layer, authority=layer.defaults, change=changes
    )
    if refused:
        return refused
    axis = _escalation(changes, layer.ceiling)
    if axis:
        return deny(
            ctx,
            project=project,
            layer=layer,
            reason="partner_escalation_forbidden",
            axis=axis,
            authority=dict(layer.defaults),
            entity_type="layer",
            entity_id=layer.id,
            change=changes,
        )
    previous = dict(layer.defaults)
    layer.defaults = {**layer.defaults, **changes}
    layer.modified_at, layer.modified_by = ctx.now, actor_of(ctx)
    layer.save()
    verdict = _policy_verdict(ctx, project, layer, "layer", layer.id, layer.defaults)
    audit(
        "ads.defaults.updated",
        at=ctx.now,
        project_id=project.public_id,
        api_key_id=ctx.key.key_id,
        request_id=ctx.request_id,
        verdictId=verdict.id,
        platform=platform,
        entityType="layer",
        entityId=layer.id,
        defaults=layer.defaults,
        previous=previous,
    )
    return Reply(200, {**defaults_body(layer), "verdictId": verdict.id})
