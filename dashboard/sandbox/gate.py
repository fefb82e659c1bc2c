"""The authority gate every partner write passes (contract §2.6, after scope, lookup and
validation, which the views do): layer kill switch → customer consent → the axis mode.
`off` denies (403, committed with its verdict and audit row), `draft` queues a pending
action, `auto` applies the change to the fake platform and starts a write job."""

from . import webhooks
from .changes import AXIS_OF, apply_action, budget_refusal, create_pending
from .http import Reply
from .records import audit, create_job, effective_authority, record_verdict, request_of

DENY_MESSAGES = {
    "kill_switch_active": "The customer has frozen ad writes on this layer (kill switch).",
    "partner_consent_missing": "The customer has not consented to partner writes on this layer.",
    "authority_axis_off": "The customer's authority for this axis is off.",
    "partner_escalation_forbidden": (
        "A partner cannot raise authority above the customer's setting."
    ),
}


def deny(
    ctx, *, project, layer, reason, axis, authority, entity_type=None, entity_id=None, change=None
) -> Reply:
    """Records a denial (verdict, audit row, webhook) and returns the 403 to send."""
    verdict = record_verdict(
        project_id=project.public_id,
        decision="deny",
        reason=reason,
        axis=axis,
        authority=authority,
        request=request_of(ctx),
        actor_type="partner",
        api_key_id=ctx.key.key_id,
        platform=layer.platform,
        entity_type=entity_type,
        entity_id=entity_id,
        at=ctx.now,
    )
    _audit(ctx, "ads.write.denied", verdict)
    webhooks.enqueue(
        "ads.write.denied",
        project_id=project.public_id,
        at=ctx.now,
        data={
            "verdictId": verdict.id,
            "reason": reason,
            "axis": axis,
            "platform": layer.platform,
            "entityType": entity_type,
            "entityId": entity_id,
            "requestedChange": change or ctx.body,
            "actorType": "partner",
        },
    )
    return Reply.error(
        403,
        "AUTHORITY_DENIED",
        DENY_MESSAGES[reason],
        {"reason": reason, "axis": axis, "verdictId": verdict.id},
    )


def gate_policy(ctx, *, project, layer, authority, entity_type=None, entity_id=None, change=None):
    """A partner's authority or defaults change is a write to the layer too: the layer kill
    switch and missing consent refuse it (contract §2.4, §2.5). Returns the 403, or None."""
    reason = (
        "kill_switch_active"
        if layer.kill_switch
        else None
        if layer.consented
        else "partner_consent_missing"
    )
    if reason is None:
        return None
    return deny(
        ctx,
        project=project,
        layer=layer,
        reason=reason,
        axis=None,
        authority=authority,
        entity_type=entity_type,
        entity_id=entity_id,
        change=change,
    )


def gate_write(
    ctx,
    *,
    project,
    layer,
    campaign,
    action_type,
    entity_type,
    entity_id,
    entity_name,
    current_value,
    new_value,
    detail,
    rationale,
    job_kind="ads_write",
    extra=None,
) -> Reply:
    axis = AXIS_OF[action_type]
    authority, _ = effective_authority(campaign, layer)
    entity = {"entity_type": entity_type, "entity_id": entity_id}
    if layer.kill_switch:
        return deny(
            ctx,
            project=project,
            layer=layer,
            reason="kill_switch_active",
            axis=axis,
            authority=authority,
            change=new_value,
            **entity,
        )
    if not layer.consented:
        return deny(
            ctx,
            project=project,
            layer=layer,
            reason="partner_consent_missing",
            axis=axis,
            authority=authority,
            change=new_value,
            **entity,
        )
    mode = authority[axis]
    if mode == "off":
        return deny(
            ctx,
            project=project,
            layer=layer,
            reason="authority_axis_off",
            axis=axis,
            authority=authority,
            change=new_value,
            **entity,
        )
    verdict = record_verdict(
        project_id=project.public_id,
        decision="queue" if mode == "draft" else "allow",
        reason=f"authority_axis_{mode}",
        axis=axis,
        authority=authority,
        request=request_of(ctx),
        actor_type="partner",
        api_key_id=ctx.key.key_id,
        platform=layer.platform,
        at=ctx.now,
        **entity,
    )
    extra = extra or {}
    if mode == "draft":
        proposal = {
            "actionType": action_type,
            "entityType": entity_type,
            "entityId": entity_id,
            "entityName": entity_name,
            "currentValue": current_value,
            "newValue": new_value,
            "rationale": rationale,
            "proposedAction": {"detail": detail},
        }
        pending = create_pending(
            project.uuid, layer.platform, proposal, ctx.now, "partner", verdict.id
        )
        verdict.pending_id = pending.id
        verdict.save()
        _audit(ctx, "ads.write.queued", verdict, pendingId=pending.id, actionType=action_type)
        return Reply(
            202,
            {
                **extra,
                "jobId": None,
                "verdictId": verdict.id,
                "status": "pending",
                "pendingId": pending.id,
            },
        )
    refusal = (
        budget_refusal(campaign, new_value, ctx.now) if action_type == "update_budget" else None
    )
    if refusal:
        return platform_rejected(ctx, verdict, refusal)
    apply_action(
        project_id=project.uuid,
        platform=layer.platform,
        action_type=action_type,
        entity_id=entity_id,
        new_value=new_value or {},
        detail=detail,
        now=ctx.now,
    )
    job = create_job(
        job_kind,
        project_id=project.public_id,
        at=ctx.now,
        result={
            "verdictId": verdict.id,
            "entityId": entity_id,
            "platformResponse": {"success": True},
        },
    )
    verdict.job_id = job.id
    verdict.save()
    _audit(ctx, "ads.write.dispatched", verdict, jobId=job.id)
    body = {
        **extra,
        "jobId": job.id,
        "verdictId": verdict.id,
        "status": "dispatched",
        "platformResponse": {"success": True},
    }
    if job_kind != "ads_write":
        body.update(kind=job_kind, locationUrl=f"/v1/jobs/{job.id}")
    return Reply(202, body)


def platform_rejected(ctx, verdict, refusal) -> Reply:
    """An `auto` write dispatches at once, so the platform's refusal is the answer
    (contract §4.8: 422 PLATFORM_REJECTED). Committed: the gate allowed it, the verdict and
    its audit row stand; nothing changed on the platform. A `draft` write that the platform
    refuses later ends `dispatch_failed` instead (changes.dispatch_approved)."""
    code, sentence = refusal
    _audit(
        ctx,
        "ads.write.dispatched",
        verdict,
        status="dispatch_failed",
        dispatchFailureReason=f"platform_rejected: {sentence}",
        platformCode=code,
    )
    return Reply.error(
        422, "PLATFORM_REJECTED", sentence, {"platformCode": code, "verdictId": verdict.id}
    )


def _audit(ctx, event_type, verdict, **more):
    audit(
        event_type,
        at=ctx.now,
        project_id=verdict.project_id,
        api_key_id=ctx.key.key_id,
        request_id=ctx.request_id,
        verdictId=verdict.id,
        verdict=verdict.decision,
        reason=verdict.reason,
        axis=verdict.axis,
        platform=verdict.platform,
        entityType=verdict.entity_type,
        entityId=verdict.entity_id,
        path=verdict.request["path"],
        method=verdict.request["method"],
        **more,
    )
