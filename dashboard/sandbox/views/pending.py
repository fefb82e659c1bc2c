"""The approval queue (contract §4.16) and the optimizer (§4.15). Expiry is evaluated
lazily on every pending read; approve/reject lock the row so exactly one decision wins."""

from .. import clock
from ..changes import expire_pending
from ..http import ApiError, Reply, body_platform, endpoint, not_found, validation
from ..models import Layer, OptimizerRun, PendingAction
from ..paging import page
from ..proposals import OPTIMIZER_ACTIONS
from ..records import audit, create_job, pending_row, record_verdict, request_of, run_body
from ..runs import STAGES, advance_runs
from . import get_layer, get_project

STATUSES = ("pending", "approved", "rejected", "dispatched", "dispatch_failed")
ACTION_TYPES = OPTIMIZER_ACTIONS + [
    "pause_campaign",
    "resume_campaign",
    "delete_campaign",
    "create_campaign",
]


def _queue(ctx, project_id, platform):
    project = get_project(project_id)
    layer = get_layer(project, platform)
    expire_pending(ctx.now, project_id=project.pk, platform=layer.platform)
    return project, PendingAction.objects.filter(project=project, platform=layer.platform)


@endpoint("pending.list", scope="ads:read")
def pending_list(ctx, project_id, platform):
    _, qs = _queue(ctx, project_id, platform)
    statuses = ctx.query_list("status") or ["pending"]
    if any(s not in STATUSES for s in statuses):
        raise validation({"status": f"must be among {', '.join(STATUSES)}"})
    qs = qs.filter(status__in=statuses)
    action_types = ctx.query_list("actionType")
    if any(a not in ACTION_TYPES for a in action_types):
        raise validation({"actionType": f"must be among {', '.join(ACTION_TYPES)}"})
    if action_types:
        qs = qs.filter(action_type__in=action_types)
    rows, cursor = page(
        qs,
        order=("created_at", "id"),
        cursor=ctx.request.GET.get("cursor"),
        limit=ctx.limit(50, 200),
        strict=True,
    )
    return Reply(200, {"items": [pending_row(p) for p in rows], "nextCursor": cursor})


@endpoint("pending.count", scope="ads:read")
def pending_count(ctx, project_id, platform):
    _, qs = _queue(ctx, project_id, platform)
    return Reply(200, {"count": qs.filter(status="pending").count()})


def _decide(ctx, project_id, platform, pending_id, *, approve: bool):
    project, qs = _queue(ctx, project_id, platform)
    pending = qs.select_for_update().filter(pk=pending_id).first()
    if pending is None:
        raise not_found("pending action")
    if approve:
        note = ctx.body.get("comment")
        if note is not None and not isinstance(note, str):
            raise validation({"comment": "must be a string"})
    else:
        note = ctx.body.get("reason")
        if not isinstance(note, str) or not note.strip():
            raise validation({"reason": "is required: say why the action is rejected"})
    if pending.status != "pending":
        raise ApiError(
            409,
            "CONFLICT",
            f"This action is already {pending.status}.",
            {
                "currentStatus": pending.status,
                "decidedAt": clock.iso(pending.decided_at),
                "decidedBy": pending.decided_by,
            },
        )
    status = "approved" if approve else "rejected"
    pending.status, pending.decided_at = status, ctx.now
    pending.decided_by = {"actorType": "partner", "apiKeyId": ctx.key.key_id}
    if approve:
        pending.decision_comment = note
    else:
        pending.decision_reason = note.strip()
    pending.save()
    verdict = record_verdict(
        project_id=project.public_id,
        decision="allow" if approve else "deny",
        reason=f"{status}_by_partner",
        axis=None,
        authority=None,
        request=request_of(ctx),
        actor_type="partner",
        api_key_id=ctx.key.key_id,
        platform=pending.platform,
        entity_type=pending.entity_type,
        entity_id=pending.entity_id,
        pending_id=pending.id,
        at=ctx.now,
    )
    audit(
        f"ads.pending.{status}",
        at=ctx.now,
        project_id=project.public_id,
        api_key_id=ctx.key.key_id,
        request_id=ctx.request_id,
        pendingId=pending.id,
        verdictId=verdict.id,
        platform=pending.platform,
        actionType=pending.action_type,
        entityType=pending.entity_type,
        entityId=pending.entity_id,
        **({"comment": note} if approve else {"reason": pending.decision_reason}),
    )
    return Reply(
        200,
        {
            "pendingId": pending.id,
            "status": status,
            "dispatched": False,
            "dispatchedAt": None,
            "verdictId": verdict.id,
        },
    )


@endpoint("pending.approve", "POST", scope="ads:write:pending")
def pending_approve(ctx, project_id, platform, pending_id):
    return _decide(ctx, project_id, platform, pending_id, approve=True)


@endpoint("pending.reject", "POST", scope="ads:write:pending")
def pending_reject(ctx, project_id, platform, pending_id):
    return _decide(ctx, project_id, platform, pending_id, approve=False)


@endpoint("optimizer.run", "POST", rate_class="long-running", scope="ads:write:optimizer_trigger")
def optimizer_run(ctx, project_id):
    project = get_project(project_id)
    body = ctx.body
    if not isinstance(body.get("layerId"), str):
        raise validation({"layerId": "is required"})
    if not isinstance(body.get("dryRun", False), bool):
        raise validation({"dryRun": "must be a boolean"})
    platform = body_platform(body.get("platform"))
    layer = Layer.objects.select_for_update().filter(project=project, pk=body["layerId"]).first()
    if layer is None:
        raise not_found("layer")
    if layer.platform != platform:
        raise validation({"platform": f"layer {layer.id} is a {layer.platform} layer"})
    advance_runs(ctx.now, layer=layer)
    running = OptimizerRun.objects.filter(layer=layer, status="running").first()
    if running:
        raise ApiError(
            409,
            "CONFLICT",
            "An optimizer run is already running for this layer.",
            {"runId": running.id, "jobId": running.job_id},
        )
    run_id = clock.new_id("run", ctx.now)
    job = create_job(
        "ads_optimizer_run",
        project_id=project.public_id,
        at=ctx.now,
        complete_after=None,
        stage=STAGES[0],
        runId=run_id,
        layerId=layer.id,
    )
    OptimizerRun.objects.create(
        id=run_id,
        job=job,
        project=project,
        layer=layer,
        dry_run=body.get("dryRun", False),
        stages=[{"stage": STAGES[0], "enteredAt": clock.iso(ctx.now)}],
        started_at=ctx.now,
        summary={"proposed": 0, "dispatched": 0, "queued": 0, "skipped": 0},
    )
    audit(
        "ads.optimizer.run_started",
        at=ctx.now,
        project_id=project.public_id,
        api_key_id=ctx.key.key_id,
        request_id=ctx.request_id,
        runId=run_id,
        jobId=job.id,
        layerId=layer.id,
        platform=layer.platform,
        dryRun=body.get("dryRun", False),
    )
    return Reply(
        202,
        {
            "jobId": job.id,
            "runId": run_id,
            "kind": "ads_optimizer_run",
            "status": "running",
            "locationUrl": f"/v1/jobs/{job.id}",
        },
    )


@endpoint("optimizer.run_get", scope="ads:read")
def optimizer_run_get(ctx, project_id, run_id):
    project = get_project(project_id)
    if not OptimizerRun.objects.filter(project=project, pk=run_id).exists():
        raise not_found("optimizer run")
    advance_runs(ctx.now, pk=run_id)
    return Reply(200, run_body(OptimizerRun.objects.select_related("layer").get(pk=run_id)))
