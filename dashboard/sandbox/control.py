"""The control surface tests and the demo use to steer the sandbox: POST
/sandbox/_control/<action> with a JSON body and `X-Sandbox-Control-Token`, plus
GET /sandbox/_control/state. Control calls are never rate limited, faulted or counted."""

import hmac
import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import clock, control_data, engine, extensions, proposer, snapshot, tables, webhooks
from .control_data import BadControl, _layer
from .http import TIERS, get_state
from .models import (
    AdAccount,
    ApiKey,
    AuditEvent,
    Campaign,
    Counter,
    Delivery,
    IdempotencyRecord,
    Job,
    Layer,
    OAuthToken,
    OptimizerRun,
    PendingAction,
    Project,
    State,
    Verdict,
    WebhookEndpoint,
)
from .records import AXES, MODES, WRITE_JOB_SECONDS, audit

FAULT_KINDS = {
    "timeout",
    "drop",
    "slow",
    "status",
    "rate_limited",
    "malformed_json",
    "missing_field",
    "unknown_enum",
    "revoked_key",
    "kill_switch",
}
USER = {"actorType": "user", "actorOrganizationId": None}


def _modes(block) -> dict:
    if not isinstance(block, dict) or any(
        k not in AXES or v not in MODES for k, v in block.items()
    ):
        raise BadControl("modes must map creative/tactical/structural to off/draft/auto")
    return block


def reset(body):
    with transaction.atomic():
        tables.empty(
            (
                Delivery,
                WebhookEndpoint,
                IdempotencyRecord,
                OAuthToken,
                AuditEvent,
                Verdict,
                PendingAction,
                OptimizerRun,
                Job,
                Campaign,
                AdAccount,
                Layer,
                Project,
                ApiKey,
                Counter,
                State,
            )
        )
        # A fresh epoch orphans every cache key (rate buckets) of the previous life.
        state = State.objects.create(epoch=secrets.token_hex(8))
        if body.get("seed", True):
            snapshot.seed(state)  # the demo story, replayed from the first reset's rows
    return {"reset": True, "seeded": bool(body.get("seed", True))}


def kill_switch(body):
    layer = _layer(body)
    layer.kill_switch = bool(body.get("active"))
    layer.modified_at, layer.modified_by = clock.now(), USER
    layer.save()
    audit(
        "ads.kill_switch.updated",
        at=layer.modified_at,
        project_id=f"prj_{layer.project_id}",
        actor="user",
        platform=layer.platform,
        active=layer.kill_switch,
    )
    return {"layerId": layer.id, "killSwitchActive": layer.kill_switch}


def consent(body):
    layer = _layer(body)
    layer.consented = bool(body.get("consented"))
    layer.save()
    return {"layerId": layer.id, "partnerWritesConsented": layer.consented}


def defaults(body):
    layer = _layer(body)
    previous = dict(layer.defaults)
    layer.defaults = {**layer.defaults, **_modes(body.get("defaults"))}
    layer.ceiling = dict(layer.defaults)  # the customer's word is the partner's ceiling
    layer.modified_at, layer.modified_by = clock.now(), USER
    layer.save()
    audit(
        "ads.defaults.updated",
        at=layer.modified_at,
        project_id=f"prj_{layer.project_id}",
        actor="user",
        platform=layer.platform,
        defaults=layer.defaults,
        previous=previous,
    )
    return {"layerId": layer.id, "defaults": layer.defaults}


def campaign_authority(body):
    layer = _layer(body)
    campaign = (
        Campaign.objects.select_for_update()
        .filter(pk=body.get("campaignId"), project_id=layer.project_id, platform=layer.platform)
        .first()
    )
    if campaign is None:
        raise BadControl("no such campaign on that layer")
    block = body.get("authority")
    if block is None:  # unpin: back to the layer defaults
        campaign.authority = campaign.ceiling = None
    else:
        base = campaign.authority or dict(layer.defaults)
        campaign.authority = {**base, **_modes(block)}
        campaign.ceiling = dict(campaign.authority)
    campaign.authority_modified_at, campaign.authority_modified_by = clock.now(), USER
    campaign.save()
    audit(
        "ads.authority.updated",
        at=campaign.authority_modified_at,
        project_id=f"prj_{layer.project_id}",
        actor="user",
        platform=layer.platform,
        entityType="campaign",
        entityId=campaign.id,
        authority=campaign.authority,
    )
    return {"campaignId": campaign.id, "authority": campaign.authority}


def key(body):
    if body.get("state") not in ("active", "revoked", "killed"):
        raise BadControl("state must be active, revoked or killed")
    if not ApiKey.objects.filter(pk=body.get("apiKeyId")).update(state=body["state"]):
        raise BadControl("no such apiKeyId")
    return {"apiKeyId": body["apiKeyId"], "state": body["state"]}


def rate_tier(body):
    if body.get("tier") not in (*TIERS, "off"):
        raise BadControl("tier must be standard, pilot, partner or off")
    State.objects.update(rate_tier=body["tier"])
    return {"tier": body["tier"]}


def clock_(body):
    seconds = float(body.get("advanceSeconds", 0))
    if seconds < 0:
        raise BadControl("the sandbox clock only moves forward")
    state = get_state()
    State.objects.filter(pk=state.pk).update(clock_offset=state.clock_offset + seconds)
    return {"now": clock.iso(clock.now())}


def faults(body):
    items = body.get("faults")
    if not isinstance(items, list) or any(
        not isinstance(f, dict) or f.get("kind") not in FAULT_KINDS for f in items
    ):
        raise BadControl(f"faults must be a list of objects with kind in {sorted(FAULT_KINDS)}")
    items = [{**f, "count": int(f.get("count", 1))} for f in items]
    State.objects.update(faults=items)
    return {"faults": items}


def latency(body):
    State.objects.update(latency_ms=max(0, int(body.get("ms", 0))))
    return {"ms": max(0, int(body.get("ms", 0)))}


def webhooks_(body):
    """Points every event at `url` (no subscription filter): unlinks any API endpoint.
    The URL is checked as the endpoint API checks it; no `url` stops deliveries."""
    problem = webhooks.url_problem(body["url"]) if body.get("url") is not None else None
    if problem:
        raise BadControl(f"url {problem}")
    state = get_state()
    state.webhook_url = body.get("url")
    state.webhook_secret = body.get("secret") or ""
    state.webhook_previous_secret = body.get("previousSecret") or ""
    state.webhook_previous_secret_expires_at = None
    state.webhook_endpoint = ""
    if "autoDeliver" in body:
        state.auto_deliver = bool(body["autoDeliver"])
    state.save()
    return {
        "url": state.webhook_url,
        "autoDeliver": state.auto_deliver,
        "secrets": 1 + bool(state.webhook_previous_secret),
    }


def stats(body):
    counts = dict(Counter.objects.values_list("name", "count"))

    def grouped(prefix):
        return {k[len(prefix) :]: v for k, v in counts.items() if k.startswith(prefix)}

    calls = {m: 0 for m in ("GET", "POST", "PATCH", "DELETE")} | grouped("calls:")
    return {
        "calls": calls,
        "executed": counts.get("executed", 0),
        "replayed": counts.get("replayed", 0),
        "byRoute": grouped("route:"),
        "executedByRoute": grouped("executedRoute:"),
    }


def state_dump():
    state = get_state()
    layers = Layer.objects.order_by("project_id", "platform")
    pending = {}
    for status in PendingAction.objects.values_list("status", flat=True):
        pending[status] = pending.get(status, 0) + 1
    return {
        "now": clock.iso(clock.now()),
        "clockOffsetSeconds": state.clock_offset,
        "rateTier": state.rate_tier or settings.SANDBOX_RATE_TIER,
        "latencyMs": state.latency_ms,
        "faults": state.faults,
        "webhooks": {
            "url": state.webhook_url,
            "autoDeliver": state.auto_deliver,
            "deliveries": dict(_count(Delivery, "status")),
        },
        "layers": [
            {
                "projectId": f"prj_{layer.project_id}",
                "platform": layer.platform,
                "layerId": layer.id,
                "killSwitchActive": layer.kill_switch,
                "partnerWritesConsented": layer.consented,
                "defaults": layer.defaults,
            }
            for layer in layers
        ],
        "keys": dict(ApiKey.objects.values_list("key_id", "state")),
        "pendingByStatus": pending,
        "campaigns": Campaign.objects.count(),
        "jobs": dict(_count(Job, "status")),
        "proposer": proposer.describe(state),
        "extensions": extensions.enabled(state),
    }


def job_hold(body):
    """Keeps a write job running (`"hold": true`) until released (`"hold": false`: it
    completes on the next read, finished its usual second after it started), as a slow
    platform would: tests of a running job then need no race against its one-second life."""
    job = Job.objects.filter(id=body.get("jobId")).first()
    if job is None:
        raise BadControl("jobId must name an existing job")
    if body.get("hold", True):
        job.status, job.stage, job.progress = "running", "dispatching", 0.0
        job.finished_at = job.complete_at = None
    else:
        job.complete_at = job.started_at + timedelta(seconds=WRITE_JOB_SECONDS)
    job.save()
    return {"jobId": job.id, "status": job.status, "held": job.complete_at is None}


def _count(model, field):
    result = {}
    for value in model.objects.values_list(field, flat=True):
        result[value] = result.get(value, 0) + 1
    return result


def proposer_(body):
    rate = float(body.get("perMinute", 0)) if body.get("on", True) else 0.0
    duration = float(body.get("durationSeconds", proposer.DEFAULT_DURATION.total_seconds()))
    max_pending = int(body.get("maxPending", proposer.DEFAULT_MAX_PENDING))
    if not 0 <= rate <= 6000:
        raise BadControl("perMinute must be 0 (off) to 6000")
    if not 1 <= duration <= 7 * 86400:
        raise BadControl("durationSeconds must be 1 to 604800: the proposer always stops")
    if max_pending < 1:
        raise BadControl("maxPending must be at least 1")
    ids = body.get("projectIds") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadControl("projectIds must be a list of project ids")
    uuids = [i.removeprefix("prj_") for i in ids]
    if Project.objects.filter(uuid__in=uuids).count() != len(set(uuids)):
        raise BadControl("projectIds names a project the sandbox does not have")
    return proposer.switch(
        get_state(),
        rate=rate,
        duration=timedelta(seconds=duration),
        max_pending=max_pending,
        project_ids=uuids,
    )


def extensions_(body):
    if body.get("on") not in (True, False, None):
        raise BadControl("on must be true, false or null (back to SANDBOX_EXTENSIONS)")
    State.objects.update(extensions=body.get("on"))
    return {"extensions": extensions.enabled(get_state())}


ACTIONS = {
    "reset": reset,
    "kill-switch": kill_switch,
    "consent": consent,
    "defaults": defaults,
    "campaign-authority": campaign_authority,
    "key": key,
    "rate-tier": rate_tier,
    "clock": clock_,
    "faults": faults,
    "latency": latency,
    "webhooks": webhooks_,
    "pending-bulk": control_data.pending_bulk,
    "customers": control_data.customers,
    "proposer": proposer_,
    "extensions": extensions_,
    "stats": stats,
    "job-hold": job_hold,
    "hostile": control_data.hostile,
}


def token_ok(request) -> bool:
    """The control token, compared in constant time; an empty configured token opens
    nothing."""
    expected = settings.SANDBOX_CONTROL_TOKEN or ""
    given = request.headers.get("X-Sandbox-Control-Token") or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@csrf_exempt
def control(request, action):
    proposer.seen()
    if not token_ok(request):
        return JsonResponse({"error": "bad or missing X-Sandbox-Control-Token"}, status=403)
    if action == "state" and request.method == "GET":
        return JsonResponse(state_dump())
    if request.method != "POST" or (action not in ACTIONS and action != "tick"):
        return JsonResponse({"error": f"unknown control action {action!r}"}, status=404)
    try:
        body = json.loads(request.body or b"{}")
        if action == "tick":
            return JsonResponse(engine.tick())  # each step commits on its own; deliveries after
        with transaction.atomic():
            return JsonResponse(ACTIONS[action](body))
    except (BadControl, ValueError, TypeError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except Exception as exc:  # ApiError from a shared validator
        reply = getattr(exc, "reply", None)
        if reply is None:
            raise
        return JsonResponse(
            {"error": reply.body["error"]["message"], "details": reply.body["error"]["details"]},
            status=400,
        )
