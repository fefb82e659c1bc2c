"""Applying a change: on the fake platform at once (an `auto` axis, or a pending action
dispatched), or through the pending queue (a `draft` axis): a pending action is created,
expires after `PENDING_TTL`, or is dispatched once approved. Also the ad platform's own
refusals of a budget change, and the axis that gates each kind of action."""

import random
from datetime import timedelta

from django.db import transaction

from . import clock, rows, webhooks
from .models import Campaign, Layer, PendingAction
from .records import audit

PENDING_TTL = timedelta(days=7)
AXIS_OF = {
    "update_budget": "tactical",
    "update_schedule": "tactical",
    "update_targeting": "creative",
    "push_creative": "creative",
    "replace_creative": "creative",
    "prune_creative": "creative",
    "pause_ad": "structural",
    "pause_adset": "structural",
    "pause_campaign": "structural",
    "resume_campaign": "structural",
    "delete_campaign": "structural",
    "create_campaign": "structural",
}
SYSTEM = {"actorType": "system", "apiKeyId": None}
PLATFORM_NAMES = {"meta": "Meta", "tiktok": "TikTok", "apple": "Apple Ads"}


def budget_refusal(campaign: Campaign, new_value: dict, now) -> tuple[str, str] | None:
    """The ad platform's word on a budget change (contract §4.8 PLATFORM_REJECTED): a campaign
    that has started cannot switch between a daily and a lifetime budget, and a lifetime
    budget cannot be set once the campaign's end time has passed. Returns (platformCode,
    sentence) or None."""
    wanted = "lifetime" if "lifetimeBudgetCents" in new_value else "daily"
    has = (
        "lifetime"
        if campaign.lifetime_budget_cents is not None
        else "daily"
        if campaign.daily_budget_cents is not None
        else None
    )
    started = campaign.start_time is None or campaign.start_time <= now
    name = PLATFORM_NAMES[campaign.platform]
    if has and wanted != has and started:
        return (
            "budget_type_switch_not_allowed",
            f"{name} refused the change: a campaign that has started cannot switch from a "
            f"{has} to a {wanted} budget.",
        )
    if wanted == "lifetime" and campaign.end_time is not None and campaign.end_time <= now:
        return (
            "lifetime_budget_after_end_time",
            f"{name} refused the change: the campaign's end time has passed, so its lifetime "
            "budget can no longer change.",
        )
    return None


# --- applying a change ------------------------------------------------------------------------


def apply_action(
    *, project_id, platform, action_type, entity_id, new_value, detail, now, honour_refusal=False
) -> str | None:
    """Makes the change on the fake platform; returns a failure reason or None."""
    if action_type == "create_campaign":
        spec = detail["campaign"]
        Campaign.objects.create(
            id=entity_id,
            project_id=project_id,
            ad_account_id=spec["adAccountId"],
            platform=platform,
            external_id=str(random.Random(entity_id).randrange(10**17, 10**18)),
            name=spec["name"],
            objective=spec["outcome"],
            status="active",
            budget_mode="CBO",
            daily_budget_cents=spec.get("dailyBudgetCents"),
            lifetime_budget_cents=spec.get("lifetimeBudgetCents"),
            start_time=clock.parse_iso(spec["startTime"]) if spec.get("startTime") else now,
            end_time=clock.parse_iso(spec["endTime"]) if spec.get("endTime") else None,
            authority=spec["authority"],
            authority_modified_at=now,
            authority_modified_by=spec["actor"],
            created_at=now,
            updated_at=now,
        )
        return None
    campaign = (
        Campaign.objects.select_for_update()
        .filter(pk=detail.get("campaignId") or entity_id)
        .first()
    )
    if campaign is None or campaign.status == "deleted":
        return "entity_deleted: the campaign no longer exists on the platform"
    if honour_refusal and campaign.platform_refuses:
        name = PLATFORM_NAMES[platform]
        return f"platform_rejected: {name} refused the change (error 100: invalid parameter)"
    if action_type == "update_budget" and campaign.id == entity_id:
        refusal = budget_refusal(campaign, new_value, now)
        if refusal:
            return f"platform_rejected: {refusal[1]}"
        if "dailyBudgetCents" in new_value:
            campaign.daily_budget_cents, campaign.lifetime_budget_cents = (
                new_value["dailyBudgetCents"],
                None,
            )
        else:
            campaign.lifetime_budget_cents, campaign.daily_budget_cents = (
                new_value["lifetimeBudgetCents"],
                None,
            )
    elif action_type in ("pause_campaign", "resume_campaign", "delete_campaign"):
        campaign.status = {
            "pause_campaign": "paused",
            "resume_campaign": "active",
            "delete_campaign": "deleted",
        }[action_type]
    campaign.updated_at = now
    campaign.save()
    return None


# --- pending queue ----------------------------------------------------------------------------


def expire_pending(now, **filters) -> int:
    """Pending actions past `expiresAt` become rejected with reason "expired". `filters` are
    plain field equalities by attname (`project_id=`, `platform=`). Most calls find nothing
    due: an uncompiled, unlocked probe says so before any lock or savepoint is taken."""
    if not rows.exists(PendingAction, status="pending", expires_at__lte=now, **filters):
        return 0
    with transaction.atomic():
        due = list(
            PendingAction.objects.select_for_update().filter(
                status="pending", expires_at__lte=now, **filters
            )
        )
        for p in due:
            p.status, p.decided_at, p.decided_by, p.decision_reason = (
                "rejected",
                p.expires_at,
                SYSTEM,
                "expired",
            )
            p.save()
            audit(
                "ads.pending.expired",
                at=now,
                project_id=f"prj_{p.project_id}",
                actor="system",
                pendingId=p.id,
                platform=p.platform,
                actionType=p.action_type,
                reason="expired",
            )
    return len(due)


def dispatch_approved(now) -> int:
    count = 0
    for pending_id in list(
        PendingAction.objects.filter(status="approved").values_list("id", flat=True)
    ):
        with transaction.atomic():
            p = (
                PendingAction.objects.select_for_update()
                .filter(pk=pending_id, status="approved")
                .first()
            )
            if (
                p is None
                or Layer.objects.filter(
                    project_id=p.project_id, platform=p.platform, kill_switch=True
                ).exists()
            ):
                continue  # decided elsewhere, or held while the customer has writes frozen
            failure = apply_action(
                project_id=p.project_id,
                platform=p.platform,
                action_type=p.action_type,
                entity_id=p.entity_id,
                new_value=p.new_value or {},
                detail=p.proposed_action.get("detail", {}),
                now=now,
                honour_refusal=True,
            )
            p.status = "dispatch_failed" if failure else "dispatched"
            p.dispatched_at, p.dispatch_failure_reason = now, failure
            p.save()
            project_id = f"prj_{p.project_id}"
            audit(
                "ads.pending.dispatched",
                at=now,
                project_id=project_id,
                actor="system",
                pendingId=p.id,
                platform=p.platform,
                actionType=p.action_type,
                status=p.status,
                verdictId=p.verdict_id,
                dispatchFailureReason=failure,
            )
            webhooks.enqueue(
                "approval.dispatched",
                project_id=project_id,
                at=now,
                data={
                    "pendingId": p.id,
                    "platform": p.platform,
                    "actionType": p.action_type,
                    "entityType": p.entity_type,
                    "entityId": p.entity_id,
                    "dispatchedAt": clock.iso(now),
                    "verdictId": p.verdict_id,
                    "status": p.status,
                    "dispatchFailureReason": failure,
                },
            )
            count += 1
    return count


def create_pending(
    project_uuid, platform, proposal, now, source, verdict_id, created_at=None
) -> PendingAction:
    created_at = created_at or now
    return PendingAction.objects.create(
        id=clock.new_id("pa", created_at),
        project_id=project_uuid,
        platform=platform,
        action_type=proposal["actionType"],
        entity_type=proposal["entityType"],
        entity_id=proposal["entityId"],
        entity_name=proposal["entityName"],
        current_value=proposal["currentValue"],
        new_value=proposal["newValue"],
        rationale=proposal["rationale"],
        proposed_action=proposal["proposedAction"],
        source=source,
        created_at=created_at,
        expires_at=created_at + PENDING_TTL,
        verdict_id=verdict_id,
    )
