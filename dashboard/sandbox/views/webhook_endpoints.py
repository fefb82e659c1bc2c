"""Webhook endpoint management (contract §6.4): create, list, get, update, rotate the
signing secret, send a test ping, list an endpoint's deliveries. No scope is documented for
these routes, so any key may use them; `scope: "all_children"` needs `org:admin`.

Stand-in choices [I]: ids are bare UUIDs (as documented for endpoints and deliveries); the
event catalog is §6.3's, anything else is `422 VALIDATION` "unknown event type"; partners
may set `status` to `active` or `paused` (`auto_paused` is the sandbox's word after 20
failed attempts in a row); a `test` on an endpoint that is not active is `409 CONFLICT`.

Deliveries still go to one target at a time (sandbox/webhooks.py): creating an endpoint,
PATCHing it to `active` or rotating its secret (while active) makes it the target, and
pausing the target stops deliveries. The signing secret is shown on create and rotate only."""

import secrets
import uuid
from datetime import timedelta

from .. import clock, webhooks
from ..http import ApiError, Reply, endpoint, has_scope, not_found, validation
from ..models import Delivery, Project, WebhookEndpoint
from ..paging import page
from ..records import ORG_ID, delivery_row, webhook_endpoint_row

EVENT_TYPES = (
    "test.ping",
    "job.completed",
    "job.failed",
    "job.canceled",
    "ads.optimizer.run.completed",
    "approval.dispatched",
    "approval.approved",
    "approval.disapproved",
    "ads.write.denied",
    "ads.creative.flagged",
    "ads.creative.unlocked",
)
STATUSES = ("active", "paused", "auto_paused")
SETTABLE_STATUSES = ("active", "paused")
DELIVERY_STATUSES = ("pending", "delivering", "delivered", "failed", "abandoned")
SCOPES = ("own", "all_children")
MAX_EVENTS = 50
OVERLAP = timedelta(hours=24)  # the previous secret keeps signing this long after a rotation


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def get_endpoint(endpoint_id: str, lock: bool = False) -> WebhookEndpoint:
    qs = WebhookEndpoint.objects.select_for_update() if lock else WebhookEndpoint.objects
    found = qs.filter(pk=endpoint_id).first()
    if found is None:
        raise not_found("webhook endpoint")
    return found


# --- validation -----------------------------------------------------------------------------


def _url(value, errors: dict) -> str | None:
    problem = webhooks.url_problem(value)
    if problem:
        errors["url"] = problem
    return value.strip() if isinstance(value, str) else None


def _events(value, errors: dict, unknown: list) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        errors["events"] = f"must be a list of 1 to {MAX_EVENTS} event types"
        return None
    names = list(dict.fromkeys(e.strip() for e in value if e.strip()))
    if not 1 <= len(names) <= MAX_EVENTS:
        errors["events"] = f"must be a list of 1 to {MAX_EVENTS} event types"
        return None
    unknown += [name for name in names if name not in EVENT_TYPES]
    if unknown:
        errors["events"] = f"unknown event type: {', '.join(unknown)}"
    return names


def _description(value, errors: dict) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > 500):
        errors["description"] = "must be a string of at most 500 characters"
    return value or None


def _metadata(value, errors: dict) -> dict:
    if value is not None and not isinstance(value, dict):
        errors["metadata"] = "must be an object"
    return value if isinstance(value, dict) else {}


def _raise(errors: dict, unknown: list) -> None:
    if errors:
        raise validation(errors, "unknown event type" if unknown else "The request is not valid.")


# --- routes ---------------------------------------------------------------------------------


@endpoint("webhook_endpoints.create", "POST")
def endpoint_create(ctx):
    body, errors, unknown = ctx.body, {}, []
    url = _url(body.get("url"), errors)
    events = _events(body.get("events"), errors, unknown)
    description = _description(body.get("description"), errors)
    metadata = _metadata(body.get("metadata"), errors)
    scope = body.get("scope") or "own"
    if scope not in SCOPES:
        errors["scope"] = "must be own or all_children"
    project_id = ""
    if body.get("projectId") is not None:
        raw = body["projectId"]
        project_id = raw.removeprefix("prj_") if isinstance(raw, str) else ""
        if not project_id or not Project.objects.filter(pk=project_id).exists():
            errors["projectId"] = "is not a project of this organization"
    _raise(errors, unknown)
    if scope == "all_children" and not has_scope(ctx.key.scopes, "org:admin"):
        raise ApiError(
            403,
            "FORBIDDEN_SCOPE",
            "Only an org:admin key may create an all_children endpoint.",
            {"requiredScope": "org:admin"},
        )
    hook = WebhookEndpoint.objects.create(
        id=str(uuid.uuid4()),
        project_id=project_id,
        url=url,
        description=description,
        metadata=metadata,
        scope=scope,
        events=events,
        secret=new_secret(),
        api_key_id=ctx.key.key_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    webhooks.target(hook, ctx.now)
    return Reply(201, {"endpoint": webhook_endpoint_row(hook), "signingSecret": hook.secret})


@endpoint("webhook_endpoints.list")
def endpoints_list(ctx):
    qs = WebhookEndpoint.objects.all()
    get = ctx.request.GET
    if get.get("projectId"):
        qs = qs.filter(project_id=get["projectId"].removeprefix("prj_"))
    if get.get("status"):
        if get["status"] not in STATUSES:
            raise validation({"status": f"must be one of {', '.join(STATUSES)}"})
        qs = qs.filter(status=get["status"])
    rows, cursor = page(
        qs,
        order=("created_at", "id"),
        cursor=get.get("cursor"),
        limit=ctx.limit(25, 100),
        strict=True,
    )
    return Reply(200, {"items": [webhook_endpoint_row(w) for w in rows], "nextCursor": cursor})


@endpoint("webhook_endpoints.get")
def endpoint_get(ctx, endpoint_id):
    return Reply(200, webhook_endpoint_row(get_endpoint(endpoint_id)))


@endpoint("webhook_endpoints.update", "PATCH")
def endpoint_patch(ctx, endpoint_id):
    hook = get_endpoint(endpoint_id, lock=True)
    body, errors, unknown = ctx.body, {}, []
    fields = ("url", "events", "description", "metadata", "status")
    if not any(name in body for name in fields):
        raise validation({"body": f"send at least one of {', '.join(fields)}"})
    if "url" in body:
        hook.url = _url(body["url"], errors)
    if "events" in body:
        hook.events = _events(body["events"], errors, unknown)
    if "description" in body:
        hook.description = _description(body["description"], errors)
    if "metadata" in body:
        hook.metadata = _metadata(body["metadata"], errors)
    status = body.get("status")
    if "status" in body and status not in SETTABLE_STATUSES:
        errors["status"] = "must be active or paused"
    _raise(errors, unknown)
    if status == "active":
        hook.consecutive_failure_count = 0  # documented: reactivating resets the count
    if status:
        hook.status = status
    hook.updated_at = ctx.now
    hook.save()
    if status == "active":
        webhooks.target(hook, ctx.now)
    elif ctx.state.webhook_endpoint == hook.id:  # the target changed: follow it
        if hook.status == "active":
            webhooks.target(hook, ctx.now)
        else:
            webhooks.untarget(hook.id)
    return Reply(200, webhook_endpoint_row(hook))


@endpoint("webhook_endpoints.rotate_secret", "POST")
def endpoint_rotate(ctx, endpoint_id):
    hook = get_endpoint(endpoint_id, lock=True)
    hook.previous_secret, hook.secret = hook.secret, new_secret()
    hook.previous_secret_expires_at = ctx.now + OVERLAP
    hook.updated_at = ctx.now
    hook.save()
    if hook.status == "active":
        webhooks.target(hook, ctx.now)
    return Reply(
        200,
        {
            "endpointId": hook.id,
            "signingSecret": hook.secret,
            "previousSecretExpiresAt": clock.iso(hook.previous_secret_expires_at),
            "warning": (
                "Store the new signing secret now: it is not shown again. Until"
                " previousSecretExpiresAt deliveries carry a signature with each secret."
            ),
        },
    )


@endpoint("webhook_endpoints.test", "POST")
def endpoint_test(ctx, endpoint_id):
    hook = get_endpoint(endpoint_id)
    if hook.status != "active":
        raise ApiError(
            409,
            "CONFLICT",
            f"This endpoint is {hook.status}; PATCH its status to active first.",
            {"currentStatus": hook.status},
        )
    delivery = webhooks.enqueue(
        "test.ping",
        project_id=hook.public_project_id,
        at=ctx.now,
        data={
            "message": "This is a test event from Layers.",
            "endpointId": hook.id,
            "organizationId": ORG_ID,
        },
        endpoint=hook,
    )
    return Reply(
        202,
        {
            "eventId": delivery.event_id,
            "deliveryId": str(delivery.id),
            "scheduledAt": clock.iso(delivery.next_attempt_at),
        },
    )


@endpoint("webhook_endpoints.deliveries")
def endpoint_deliveries(ctx, endpoint_id):
    hook = get_endpoint(endpoint_id)
    qs = Delivery.objects.filter(endpoint_id=hook.id)
    status = ctx.request.GET.get("status")
    if status:
        if status not in DELIVERY_STATUSES:
            raise validation({"status": f"must be one of {', '.join(DELIVERY_STATUSES)}"})
        qs = qs.filter(status=status)
    rows, cursor = page(
        qs,
        order=("-created_at", "id"),
        cursor=ctx.request.GET.get("cursor"),
        limit=ctx.limit(25, 100),
        strict=True,
    )
    return Reply(200, {"items": [delivery_row(d) for d in rows], "nextCursor": cursor})
