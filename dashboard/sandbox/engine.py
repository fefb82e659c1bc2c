"""What happens after a decision: applying changes to the fake platform, the pending queue's
expiry and dispatch, job completion, optimizer runs and the `tick` that drives them.
Everything is evaluated lazily against the sandbox clock (on read) and on control `tick`."""

import random
from datetime import timedelta

from django.db import transaction

from . import clock, webhooks
from .http import PLATFORMS
from .models import Campaign, Job, Layer, OptimizerRun, PendingAction
from .records import audit, effective_authority, record_verdict

PENDING_TTL = timedelta(days=7)
STAGES = ["queued", "fetching_metrics", "evaluating", "proposing", "dispatching", "completed"]
STAGE_SECONDS = 2
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
OPTIMIZER_ACTIONS = [
    "update_budget",
    "pause_ad",
    "pause_adset",
    "push_creative",
    "replace_creative",
    "prune_creative",
    "update_targeting",
    "update_schedule",
]
SYSTEM = {"actorType": "system", "apiKeyId": None}
# The guardrail's "$100 absolute" budget move (contract §2.8) in each currency's minor unit,
# at a rough fixed rate [I]: the docs give dollars only.
MAX_BUDGET_MOVE = {"USD": 10_000, "EUR": 9_000, "GBP": 8_000, "JPY": 15_000, "KRW": 140_000}
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
    """Pending actions past `expiresAt` become rejected with reason "expired"."""
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


# --- jobs and optimizer runs ------------------------------------------------------------------


def complete_jobs(now, **filters) -> int:
    with transaction.atomic():
        due = list(
            Job.objects.select_for_update().filter(
                status="running", complete_at__isnull=False, complete_at__lte=now, **filters
            )
        )
        for job in due:
            job.status, job.stage, job.progress, job.finished_at = (
                "completed",
                "completed",
                1.0,
                job.complete_at,
            )
            job.save()
            webhooks.enqueue(
                "job.completed",
                project_id=job.project_id,
                at=now,
                data={"jobId": job.id, "kind": job.kind, "result": job.result or {}},
            )
    return len(due)


def advance_runs(now, **filters) -> int:
    """Moves running optimizer runs through their stages; a run finishing produces proposals."""
    finished = 0
    for run_id in list(
        OptimizerRun.objects.filter(status="running", **filters).values_list("id", flat=True)
    ):
        with transaction.atomic():
            run = (
                OptimizerRun.objects.select_for_update()
                .select_related("layer", "job")
                .get(pk=run_id)
            )
            if run.status != "running":
                continue
            reached = min(
                len(STAGES) - 1, int((now - run.started_at).total_seconds() // STAGE_SECONDS)
            )
            for index in range(len(run.stages), reached + 1):
                entered = run.started_at + timedelta(seconds=index * STAGE_SECONDS)
                run.stages.append({"stage": STAGES[index], "enteredAt": clock.iso(entered)})
            job = run.job
            job.stage, job.progress = STAGES[reached], round(reached / (len(STAGES) - 1), 2)
            if reached == len(STAGES) - 1:
                finish_run(run, now)
                finished += 1
            run.save()
            job.save()
    return finished


def finish_run(run: OptimizerRun, now) -> None:
    layer = run.layer
    finished_at = run.started_at + timedelta(seconds=STAGE_SECONDS * (len(STAGES) - 1))
    rng = random.Random(run.id)
    campaigns = list(
        Campaign.objects.filter(
            project_id=layer.project_id, platform=layer.platform, managed_by_layers=True
        )
        .select_related("ad_account")
        .exclude(status="deleted")
        .order_by("id")
    )
    changes = []
    for index, action_type in enumerate(OPTIMIZER_ACTIONS if campaigns else []):
        campaign = campaigns[index % len(campaigns)]
        proposal = propose(campaign, action_type, rng)
        changes.append(settle_proposal(run, layer, campaign, proposal, now))
    complete_run(run, changes, finished_at, now)


def complete_run(run: OptimizerRun, changes: list, finished_at, now) -> None:
    """Marks a run and its job completed (the caller saves both) and announces it with the
    webhooks a finished run sends: `ads.optimizer.run.completed` and `job.completed`."""
    layer = run.layer
    summary = {"proposed": len(changes)}
    for outcome in ("dispatched", "queued", "skipped"):
        summary[outcome] = sum(1 for c in changes if c["outcome"] == outcome)
    run.status, run.finished_at, run.summary, run.changes = (
        "completed",
        finished_at,
        summary,
        changes,
    )
    job = run.job
    job.status, job.stage, job.progress, job.finished_at = (
        "completed",
        "completed",
        1.0,
        finished_at,
    )
    job.result = {"runId": run.id, **summary}
    project_id = f"prj_{layer.project_id}"
    webhooks.enqueue(
        "ads.optimizer.run.completed",
        project_id=project_id,
        at=now,
        data={
            "runId": run.id,
            "jobId": job.id,
            "layerId": layer.id,
            "platform": PLATFORMS[layer.platform],
            "dryRun": run.dry_run,
            "summary": summary,
            "changes": changes,
        },
    )
    webhooks.enqueue(
        "job.completed",
        project_id=project_id,
        at=now,
        data={"jobId": job.id, "kind": job.kind, "result": job.result},
    )


def settle_proposal(run, layer, campaign, proposal, now) -> dict:
    """Guardrails, then the axis: auto dispatches, draft queues, off drops."""
    axis = AXIS_OF[proposal["actionType"]]
    authority, _ = effective_authority(campaign, layer)
    skip = proposal.pop("guardrail", None)
    if skip is None and layer.kill_switch:
        skip = "kill_switch_active"
    if skip is None and authority[axis] == "off":
        skip = "authority_axis_off"
    outcome = "skipped" if skip else {"draft": "queued", "auto": "dispatched"}[authority[axis]]
    change = {
        key: proposal[key]
        for key in (
            "actionType",
            "entityType",
            "entityId",
            "entityName",
            "currentValue",
            "newValue",
            "rationale",
        )
    }
    change.update(outcome=outcome, axis=axis, skipReason=skip)
    if run.dry_run or skip in ("guardrail_min_entity_age", "guardrail_max_budget_move"):
        return change
    project_id = f"prj_{layer.project_id}"
    decision = {"skipped": "deny", "queued": "queue", "dispatched": "allow"}[outcome]
    verdict = record_verdict(
        project_id=project_id,
        decision=decision,
        reason=skip or f"authority_axis_{authority[axis]}",
        axis=axis,
        authority=authority,
        request={"method": None, "path": None, "body": {"runId": run.id}},
        actor_type="optimizer",
        api_key_id=None,
        platform=layer.platform,
        entity_type=proposal["entityType"],
        entity_id=proposal["entityId"],
        at=now,
    )
    if outcome == "queued":
        pending = create_pending(
            layer.project_id, layer.platform, proposal, now, "optimizer", verdict.id
        )
        verdict.pending_id = change["pendingId"] = pending.id
        verdict.save()
    elif outcome == "dispatched":
        apply_action(
            project_id=layer.project_id,
            platform=layer.platform,
            action_type=proposal["actionType"],
            entity_id=proposal["entityId"],
            new_value=proposal["newValue"] or {},
            detail=proposal["proposedAction"]["detail"],
            now=now,
        )
    audit(
        {
            "queued": "ads.write.queued",
            "dispatched": "ads.write.dispatched",
            "skipped": "ads.write.denied",
        }[outcome],
        at=now,
        project_id=project_id,
        actor="optimizer",
        verdictId=verdict.id,
        verdict=decision,
        reason=verdict.reason,
        axis=axis,
        platform=layer.platform,
        entityType=proposal["entityType"],
        entityId=proposal["entityId"],
        actionType=proposal["actionType"],
        runId=run.id,
        **({"pendingId": change["pendingId"]} if "pendingId" in change else {}),
    )
    return change


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


def _child_id(prefix, rng) -> str:
    return f"{prefix}_{clock.ulid(rand=rng.getrandbits(80).to_bytes(10, 'big'))}"


def propose(campaign: Campaign, action_type: str, rng: random.Random, now=None) -> dict:
    """One realistic, deterministic (for a given rng) optimizer proposal on a campaign."""
    now = now or clock.now()
    audience = rng.choice(["Broad 25-44", "Lookalike 1%", "Retargeting 30d", "Interests: outdoors"])
    adset_name = f"{campaign.name} — {audience}"
    ad_name = f"{adset_name} — {rng.choice(['UGC video', 'Carousel', 'Static v3', 'Story 9:16'])}"
    content = _child_id("adc", rng)
    creative = {
        "adsContentId": content,
        "caption": rng.choice(
            [
                "Fresh roast, delivered before your alarm.",
                "Built for the trail, priced for the weekend.",
                "Level 40 is waiting. Play free today.",
            ]
        ),
        "creativeUrl": f"https://cdn.layers.example/creatives/{content}.mp4",
    }
    entity = {"entityType": "adset", "entityId": _child_id("adg", rng), "entityName": adset_name}
    detail = {"campaignId": campaign.id}
    guardrail = None
    if action_type == "update_budget":
        # A lifetime-budget campaign gets a lifetime proposal: never a daily/lifetime switch.
        lifetime = campaign.daily_budget_cents is None and campaign.lifetime_budget_cents
        kind, field = (
            ("lifetime", "lifetimeBudgetCents") if lifetime else ("daily", "dailyBudgetCents")
        )
        current = (
            campaign.lifetime_budget_cents if lifetime else campaign.daily_budget_cents
        ) or 5000
        pct = rng.choice([15, 20, 25, 30, 60])
        new = int(round(current * (1 + pct / 100) / 100) * 100)
        if pct > 50 or new - current > MAX_BUDGET_MOVE.get(_currency(campaign), 10_000):
            guardrail = "guardrail_max_budget_move"
        entity = {"entityType": "campaign", "entityId": campaign.id, "entityName": campaign.name}
        values = ({field: current}, {field: new})
        detail.update(platformField=f"{kind}_budget", value=new)
        why = (
            f"CPA is {rng.randint(12, 31)}% under target for 5 days; raise {kind} budget by {pct}%."
        )
    elif action_type in ("pause_ad", "pause_adset"):
        if action_type == "pause_ad":
            entity = {"entityType": "ad", "entityId": _child_id("ad", rng), "entityName": ad_name}
        values = ({"status": "active"}, {"status": "paused"})
        detail.update(platformField="status", value="PAUSED")
        why = (
            f"CTR fell {rng.randint(30, 55)}% over 7 days after {rng.randint(9, 40)}k impressions; "
            f"spend ${rng.randint(40, 180)} with {rng.randint(0, 2)} conversions."
        )
    elif action_type == "push_creative":
        entity = {"entityType": "ad", "entityId": _child_id("ad", rng), "entityName": ad_name}
        values = (
            {"adsContentIds": [_child_id("adc", rng)]},
            {"adsContentIds": [_child_id("adc", rng), content]},
        )
        detail.update(creative)
        why = (
            "Only one creative is live in this ad; "
            "add a fresh variant before fatigue sets in (frequency 3.4)."
        )
    elif action_type == "replace_creative":
        entity = {"entityType": "ad", "entityId": _child_id("ad", rng), "entityName": ad_name}
        values = ({"adsContentId": _child_id("adc", rng)}, {"adsContentId": content})
        detail.update(creative)
        why = (
            f"Hook rate dropped to {rng.randint(11, 19)}% (account median 27%); "
            "swap in the newest cut."
        )
    elif action_type == "prune_creative":
        entity = {"entityType": "ad", "entityId": _child_id("ad", rng), "entityName": ad_name}
        values = ({"adsContentId": content}, {"adsContentId": None})
        detail.update(creative)
        why = (
            f"This creative has spent ${rng.randint(25, 90)} "
            f"with a CPA 2.{rng.randint(1, 9)}x the ad's average."
        )
    elif action_type == "update_targeting":
        values = (
            {"geo": ["US"], "age": {"min": 25, "max": 44}},
            {"geo": ["US", "CA"], "age": {"min": 25, "max": 54}},
        )
        detail.update(platformField="targeting", value=values[1])
        why = (
            "45-54 converts at a 19% lower CPA in the breakdown; widen the age band and add Canada."
        )
    else:  # update_schedule
        dayparts = [{"dayOfWeek": d, "startMinute": 360, "endMinute": 1320} for d in range(1, 6)]
        values = ({"dayparts": []}, {"dayparts": dayparts})
        detail.update(platformField="schedule", value=dayparts)
        why = "Conversions between 22:00 and 06:00 cost 2.3x more; run weekdays 06:00–22:00 only."
    if (now - campaign.created_at) < timedelta(days=3):
        guardrail = "guardrail_min_entity_age"
    return {
        "actionType": action_type,
        **entity,
        "currentValue": values[0],
        "newValue": values[1],
        "rationale": why,
        "proposedAction": {"detail": detail},
        "guardrail": guardrail,
    }


def propose_within_guardrails(campaign: Campaign, action_type: str, rng, now) -> dict | None:
    """A proposal the guardrails let through (contract §2.8), as the optimizer would only
    queue those: drawn again while a budget move is too big, then a modest 25% (capped).
    None for a campaign too young for any proposal."""
    for _ in range(8):
        proposal = propose(campaign, action_type, random.Random(rng.random()), now)
        guardrail = proposal.pop("guardrail")
        if guardrail is None:
            return proposal
        if guardrail != "guardrail_max_budget_move":
            return None
    field = next(iter(proposal["currentValue"]))
    current = proposal["currentValue"][field] or 0
    raised = current + min(current // 4, MAX_BUDGET_MOVE.get(_currency(campaign), 10_000))
    proposal["newValue"] = {field: raised}
    proposal["proposedAction"]["detail"]["value"] = raised
    return proposal


def _currency(campaign: Campaign) -> str:
    account = campaign.ad_account if campaign.ad_account_id else None
    return account.currency if account is not None else "USD"


def tick(now=None) -> dict:
    now = now or clock.now()
    counts = {
        "expired": expire_pending(now),
        "dispatched": dispatch_approved(now),
        "jobsCompleted": complete_jobs(now),
        "runsCompleted": advance_runs(now),
    }
    counts["webhooks"] = webhooks.deliver_due(now)
    return counts
