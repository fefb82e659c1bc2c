"""Writing the sandbox's records (verdicts, audit rows, jobs) and turning rows into the
contract's JSON. One serializer per entity, camelCase, ISO-Z timestamps, cents."""

from datetime import timedelta

from . import clock
from .http import PLATFORMS
from .models import AuditEvent, Campaign, Job, Layer, PendingAction, Verdict

ORG_ID = "org_2481fa5c-a404-44ed-a561-565392499abc"
ORG_NAME = "Northwind Partners"
MODES = ("off", "draft", "auto")
AXES = ("creative", "tactical", "structural")


def actor_of(ctx) -> dict:
    return {"actorType": "partner", "actorOrganizationId": ORG_ID, "actorApiKeyId": ctx.key.key_id}


def sanitized(body: dict) -> dict:
    """What a verdict keeps of a request body: no secrets, no novels."""
    clean = {}
    for name, value in (body or {}).items():
        if any(word in name.lower() for word in ("secret", "token", "password")):
            value = "[redacted]"
        elif isinstance(value, str) and len(value) > 500:
            value = value[:500] + "…"
        clean[name] = value
    return clean


def request_of(ctx) -> dict:
    return {
        "method": ctx.request.method,
        "path": ctx.request.path.removeprefix("/sandbox"),
        "body": sanitized(ctx.body),
    }


def record_verdict(
    *,
    project_id,
    decision,
    reason,
    axis,
    authority,
    request,
    actor_type,
    api_key_id,
    platform,
    entity_type,
    entity_id,
    at,
    pending_id=None,
    job_id=None,
) -> Verdict:
    return Verdict.objects.create(
        id=clock.new_id("ver", at),
        project_id=project_id,
        decision=decision,
        reason=reason,
        axis=axis,
        authority=authority,
        request=request,
        actor_type=actor_type,
        api_key_id=api_key_id,
        platform=platform,
        entity_type=entity_type,
        entity_id=entity_id,
        pending_id=pending_id,
        job_id=job_id,
        created_at=at,
    )


def audit(
    event_type,
    *,
    at,
    project_id=None,
    api_key_id=None,
    request_id=None,
    actor="partner_api",
    **data,
) -> AuditEvent:
    data.setdefault("actor_type", "partner" if actor == "partner_api" else actor)
    return AuditEvent.objects.create(
        event_type=event_type,
        occurred_at=to_millis(at),
        request_id=request_id,
        project_id=project_id,
        api_key_id=api_key_id,
        actor=actor,
        data=data,
    )


def to_millis(at):
    """Audit times are shown with milliseconds; storing them so keeps `until` inclusive."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


WRITE_JOB_SECONDS = 1.0  # a write's job completes this long after it started


def create_job(
    kind,
    *,
    project_id,
    at,
    complete_after=WRITE_JOB_SECONDS,
    stage="dispatching",
    result=None,
    **pointers,
) -> Job:
    return Job.objects.create(
        id=clock.new_id("job", at),
        kind=kind,
        project_id=project_id,
        stage=stage,
        started_at=at,
        complete_at=at + timedelta(seconds=complete_after) if complete_after is not None else None,
        result=result,
        pointers=pointers,
    )


def effective_authority(campaign: Campaign | None, layer: Layer) -> tuple[dict, str]:
    if campaign is not None and campaign.authority:
        return {
            axis: campaign.authority.get(axis, layer.defaults[axis]) for axis in AXES
        }, "per_campaign"
    return {axis: layer.defaults[axis] for axis in AXES}, "layer_defaults"


# --- serializers ----------------------------------------------------------------------------


def project_row(p) -> dict:
    return {
        "id": p.public_id,
        "name": p.name,
        "status": p.status,
        "customerExternalId": p.customer_external_id or None,
        "timezone": p.timezone,
        "primaryLanguage": p.primary_language,
        "ownerEmail": p.owner_email or None,
        "createdAt": clock.iso(p.created_at),
        "updatedAt": clock.iso(p.updated_at),
    }


def account_row(a) -> dict:
    return {
        "adAccountId": a.id,
        "platform": PLATFORMS[a.platform],
        "externalId": a.external_id,
        "name": a.name,
        "currency": a.currency,
        "timezone": a.timezone,
        "credentialMode": "byo",
        "tokenStatus": a.token_status,
        "tokenLastValidatedAt": None,
        "walletBalance": None,
        "connectedAt": clock.iso(a.connected_at),
    }


def campaign_row(c) -> dict:
    return {
        "campaignId": c.id,
        "platform": PLATFORMS[c.platform],
        "adAccountId": c.ad_account_id,
        "externalId": c.external_id,
        "name": c.name,
        "status": c.status,
        "objective": c.objective,
        "budgetMode": c.budget_mode,
        "dailyBudgetCents": c.daily_budget_cents,
        "lifetimeBudgetCents": c.lifetime_budget_cents,
        "startTime": clock.iso(c.start_time),
        "endTime": clock.iso(c.end_time),
        "managedByLayers": c.managed_by_layers,
        "createdAt": clock.iso(c.created_at),
        "updatedAt": clock.iso(c.updated_at),
        "metricsSnapshot7d": {},
    }


def authority_body(c: Campaign, layer: Layer) -> dict:
    authority, source = effective_authority(c, layer)
    return {
        "campaignId": c.id,
        "platform": c.platform,
        "authority": authority,
        "source": source,
        "lastModifiedAt": clock.iso(
            c.authority_modified_at if source == "per_campaign" else layer.modified_at
        ),
        "lastModifiedBy": c.authority_modified_by
        if source == "per_campaign"
        else layer.modified_by,
    }


def defaults_body(layer: Layer) -> dict:
    return {
        "layerId": layer.id,
        "platform": layer.platform,
        "defaults": dict(layer.defaults),
        "killSwitchActive": layer.kill_switch,
        "partnerWritesConsented": layer.consented,
        "lastModifiedAt": clock.iso(layer.modified_at),
        "lastModifiedBy": layer.modified_by,
    }


def pending_row(p: PendingAction) -> dict:
    return {
        "pendingId": p.id,
        "actionType": p.action_type,
        "entityType": p.entity_type,
        "entityId": p.entity_id,
        "entityName": p.entity_name,
        "platform": p.platform,
        "currentValue": p.current_value,
        "newValue": p.new_value,
        "rationale": p.rationale,
        "proposedAction": p.proposed_action,
        "status": p.status,
        "createdAt": clock.iso(p.created_at),
        "expiresAt": clock.iso(p.expires_at),
        "dispatchedAt": clock.iso(p.dispatched_at),
        "dispatchFailureReason": p.dispatch_failure_reason,
        "source": p.source,
        "verdictId": p.verdict_id,
        "decidedAt": clock.iso(p.decided_at),
        "decidedBy": p.decided_by,
        "decisionComment": p.decision_comment,
        "decisionReason": p.decision_reason,
    }


def verdict_body(v: Verdict) -> dict:
    return {
        "verdictId": v.id,
        "decision": v.decision,
        "reason": v.reason,
        "axis": v.axis,
        "authority": v.authority,
        "request": v.request,
        "actorType": v.actor_type,
        "apiKeyId": v.api_key_id,
        "platform": v.platform,
        "entityType": v.entity_type,
        "entityId": v.entity_id,
        "pendingId": v.pending_id,
        "jobId": v.job_id,
        "createdAt": clock.iso(v.created_at),
    }


def job_body(j: Job) -> dict:
    body = {
        "jobId": j.id,
        "kind": j.kind,
        "status": j.status,
        "stage": j.stage,
        "progress": j.progress,
        "startedAt": clock.iso(j.started_at),
        "finishedAt": clock.iso(j.finished_at),
        "projectId": j.project_id,
        "locationUrl": f"/v1/jobs/{j.id}",
        **j.pointers,
    }
    if j.status == "completed":
        body["result"] = j.result or {}
    return body


def audit_row(e) -> dict:
    return {
        "eventId": str(e.event_id),
        "eventType": e.event_type,
        "occurredAt": clock.iso(e.occurred_at, millis=True),
        "requestId": e.request_id,
        "organizationId": ORG_ID,
        "projectId": e.project_id,
        "apiKeyId": e.api_key_id,
        "actor": e.actor,
        "data": e.data,
    }


def run_body(r) -> dict:
    return {
        "runId": r.id,
        "jobId": r.job_id,
        "layerId": r.layer_id,
        "platform": PLATFORMS[r.layer.platform],
        "dryRun": r.dry_run,
        "status": r.status,
        "stage": r.stages[-1]["stage"],
        "stages": r.stages,
        "startedAt": clock.iso(r.started_at),
        "finishedAt": clock.iso(r.finished_at),
        "summary": r.summary,
        "changes": r.changes,
    }


def webhook_endpoint_row(w) -> dict:
    """The documented row (contract §6.4) plus `scope` and `metadata`, which create accepts.
    The signing secret is never part of it."""
    return {
        "id": w.id,
        "organizationId": ORG_ID,
        "projectId": w.public_project_id,
        "url": w.url,
        "description": w.description,
        "status": w.status,
        "events": w.events,
        "apiVersion": "v1",
        "scope": w.scope,
        "metadata": w.metadata,
        "createdAt": clock.iso(w.created_at),
        "updatedAt": clock.iso(w.updated_at),
        "lastSuccessAt": clock.iso(w.last_success_at),
        "lastFailureAt": clock.iso(w.last_failure_at),
        "consecutiveFailureCount": w.consecutive_failure_count,
    }


def delivery_row(d) -> dict:
    return {
        "id": str(d.id),
        "endpointId": d.endpoint_id,
        "eventId": d.event_id,
        "eventType": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "responseStatusCode": d.last_status,
        "nextAttemptAt": clock.iso(d.next_attempt_at) if d.status == "pending" else None,
        "createdAt": clock.iso(d.created_at),
    }
