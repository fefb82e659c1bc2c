"""Jobs completing and optimizer runs: a run walks its stages on the sandbox clock and, when
it finishes, settles each proposal through the guardrails and the authority axis (`auto`
applies it, `draft` queues it, `off` drops it) and announces itself with webhooks."""

import random
from datetime import timedelta

from django.db import transaction

from . import clock, webhooks
from .changes import AXIS_OF, apply_action, create_pending
from .http import PLATFORMS
from .models import Campaign, Job, OptimizerRun
from .proposals import OPTIMIZER_ACTIONS, propose
from .records import audit, effective_authority, record_verdict

STAGES = ["queued", "fetching_metrics", "evaluating", "proposing", "dispatching", "completed"]
STAGE_SECONDS = 2


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
