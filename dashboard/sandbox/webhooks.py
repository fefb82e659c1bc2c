"""Signed webhook deliveries through an outbox (contract §6).

Events are written to `Delivery` in the same transaction as the change that caused them and
are sent by `deliver_due` — on control `tick`, or right after commit from a short background
thread when `autoDeliver` is on. A delivery is claimed with a conditional UPDATE, so a tick
and a background thread never send the same attempt twice.

There is one delivery target at a time (State.webhook_*): the control `webhooks {url, secret}`
sets it for every event, or an endpoint made through the API (views/webhook_endpoints.py)
becomes it when created, made active again or rotated. An API endpoint only gets the events
it subscribed to (and of its project, when it has one); `test.ping` always goes out, to the
endpoint it was sent for. A delivery remembers its endpoint and is sent to that endpoint's
URL with its secrets; 20 failed attempts in a row auto-pause the endpoint (contract §6.1).

Deliveries never follow redirects, and every target URL passes `url_problem` (https, or
http to a loopback host) whether the endpoint API or the control action set it.

The signature timestamp is wall time, not the sandbox clock: receivers check it against
their own clock (5-minute tolerance) and the sandbox clock may be days ahead."""

import hashlib
import hmac
import ipaddress
import json
import logging
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q

from . import clock, extensions
from .models import Delivery, State, WebhookEndpoint
from .records import ORG_ID

log = logging.getLogger(__name__)
LADDER = [0, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600]  # seconds before attempt n+1
AUTO_PAUSE_AFTER = 20  # consecutive failed attempts (contract §6.1)


def enqueue(
    event_type: str,
    *,
    project_id: str | None,
    data: dict,
    at,
    endpoint: WebhookEndpoint | None = None,
) -> Delivery | None:
    """Writes the event to the outbox for the current target; `endpoint` (a test ping) sends
    it to that endpoint whatever the target is."""
    state = State.objects.first()
    if endpoint is None:
        if state is None or not state.webhook_url:
            return None
        if state.webhook_endpoint:
            endpoint = WebhookEndpoint.objects.filter(pk=state.webhook_endpoint).first()
            if endpoint is None or not subscribed(endpoint, event_type, project_id):
                return None
    if endpoint is not None and endpoint.scope == "all_children":
        data = {**data, "organizationId": ORG_ID}  # firehose endpoints say whose event it is
    if not extensions.enabled(state):
        data = extensions.webhook_data(event_type, data)
    event_id = clock.new_id("evt", at)
    envelope = {
        "id": event_id,
        "type": event_type,
        "apiVersion": "v1",
        "createdAt": clock.iso(at),
        "organizationId": ORG_ID,
        "projectId": project_id,
        "data": data,
    }
    delivery = Delivery.objects.create(
        endpoint_id=endpoint.id if endpoint is not None else None,
        event_id=event_id,
        event_type=event_type,
        body=json.dumps(envelope),
        next_attempt_at=at,
        created_at=at,
    )
    if state is not None and state.auto_deliver:
        transaction.on_commit(_deliver_in_background)
    return delivery


def url_problem(value) -> str | None:
    """Why a webhook URL is refused, or None. The one check for the endpoint API and the
    control `webhooks` action: absolute https, or http only to a loopback host, judged on
    the parsed host (so `http://localhost.evil.example` and `http://127.0.0.1@evil.example`
    are refused), at most 500 characters."""
    if not isinstance(value, str) or not value.strip():
        return "is required"
    value = value.strip()
    if len(value) > 500:
        return "must be at most 500 characters"
    try:
        parts = urlsplit(value)
        scheme, host = parts.scheme, parts.hostname
        parts.port  # noqa: B018 — raises on a port that is not a number
    except ValueError:
        scheme = host = None
    if not host or scheme not in ("https", "http"):
        return "must be an absolute https URL"
    if scheme == "http" and not _loopback(host):
        return "must be https (http only for a loopback host such as localhost or 127.0.0.1)"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def subscribed(endpoint: WebhookEndpoint, event_type: str, project_id: str | None) -> bool:
    if endpoint.status != "active":
        return False
    if event_type != "test.ping" and event_type not in endpoint.events:
        return False
    return not endpoint.project_id or project_id == endpoint.public_project_id


def target(endpoint: WebhookEndpoint, now) -> None:
    """Makes an API endpoint the delivery target (its URL, its secret and, during a
    rotation's overlap, its previous secret)."""
    overlap = bool(
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    )
    State.objects.update(
        webhook_url=endpoint.url,
        webhook_secret=endpoint.secret,
        webhook_previous_secret=endpoint.previous_secret if overlap else "",
        webhook_previous_secret_expires_at=(
            endpoint.previous_secret_expires_at if overlap else None
        ),
        webhook_endpoint=endpoint.id,
    )


def untarget(endpoint_id: str) -> None:
    """The endpoint stops being the target (paused): no events go out until a new target."""
    State.objects.filter(webhook_endpoint=endpoint_id).update(
        webhook_url=None,
        webhook_secret="",
        webhook_previous_secret="",
        webhook_previous_secret_expires_at=None,
        webhook_endpoint="",
    )


def live_secrets(secret: str, previous: str, expires_at, now) -> list[str]:
    return [secret] + ([previous] if previous and (expires_at is None or expires_at > now) else [])


def signature(body: str, secrets: list[str], t: int) -> str:
    macs = [
        hmac.new(s.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
        for s in secrets
        if s
    ]
    return ",".join([f"t={t}"] + [f"v1={mac}" for mac in macs])


def deliver_due(now=None) -> dict:
    """Sends every delivery whose attempt is due; returns counts."""
    now = now or clock.now()
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    state = State.objects.first()
    if state is None:
        return counts
    # Held back: deliveries of a paused endpoint, and the control's when it set no URL.
    sendable = Q(endpoint_id__in=WebhookEndpoint.objects.filter(status="active").values("id"))
    if state.webhook_url:
        sendable |= Q(endpoint_id__isnull=True)
    due = Delivery.objects.filter(sendable, status="pending", next_attempt_at__lte=now)
    for delivery_id in list(due.order_by("created_at").values_list("id", flat=True)[:100]):
        if not Delivery.objects.filter(pk=delivery_id, status="pending").update(
            status="delivering"
        ):
            continue  # someone else claimed it
        delivery = Delivery.objects.get(pk=delivery_id)
        endpoint = (
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).first()
            if delivery.endpoint_id
            else None
        )
        if delivery.endpoint_id and (endpoint is None or endpoint.status != "active"):
            Delivery.objects.filter(pk=delivery_id).update(status="pending")  # paused meanwhile
            continue
        if endpoint is not None:
            url = endpoint.url
            secrets = live_secrets(
                endpoint.secret,
                endpoint.previous_secret,
                endpoint.previous_secret_expires_at,
                now,
            )
        else:
            url = state.webhook_url
            secrets = live_secrets(
                state.webhook_secret,
                state.webhook_previous_secret,
                state.webhook_previous_secret_expires_at,
                now,
            )
        outcome = _send(url, secrets, delivery) if url else None
        if endpoint is not None:
            _count_outcome(endpoint.id, outcome is not None and 200 <= outcome < 300, now)
        attempts = delivery.attempts + 1
        if outcome is not None and 200 <= outcome < 300:
            update = {"status": "delivered"}
        elif (
            outcome is not None and 400 <= outcome < 500 and outcome not in (408, 429)
        ) or attempts >= len(LADDER):
            update = {"status": "failed"}
        else:
            update = {
                "status": "pending",
                "next_attempt_at": now + timedelta(seconds=LADDER[attempts]),
            }
        Delivery.objects.filter(pk=delivery_id).update(
            attempts=attempts, last_status=outcome, **update
        )
        counts[
            {"delivered": "delivered", "failed": "failed", "pending": "retrying"}[update["status"]]
        ] += 1
    return counts


def _count_outcome(endpoint_id: str, ok: bool, now) -> None:
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint_id)
    if ok:
        endpoints.update(last_success_at=now, consecutive_failure_count=0)
        return
    endpoints.update(
        last_failure_at=now, consecutive_failure_count=F("consecutive_failure_count") + 1
    )
    tired = endpoints.filter(status="active", consecutive_failure_count__gte=AUTO_PAUSE_AFTER)
    if tired.update(status="auto_paused", updated_at=now):
        untarget(endpoint_id)


def _send(url: str, secrets: list[str], delivery: Delivery) -> int | None:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Layers-Webhooks/1",
        "X-Layers-Event-Id": delivery.event_id,
        "X-Layers-Event-Type": delivery.event_type,
        "X-Layers-Delivery-Id": str(delivery.id),
        "X-Layers-Signature": signature(delivery.body, secrets, clock.unix()),
    }
    try:
        # Never follow a redirect: a receiver must not be able to point the sandbox at
        # another host (a 3xx is a failed attempt, retried like any other non-2xx).
        response = requests.post(
            url, data=delivery.body.encode(), headers=headers, timeout=5, allow_redirects=False
        )
        return response.status_code
    except requests.RequestException as exc:
        log.info("webhook delivery %s failed: %s", delivery.id, exc)
        return None


def _deliver_in_background():
    def work():
        try:
            close_old_connections()
            deliver_due()
        except Exception:  # a delivery thread must never take anything down with it
            log.exception("background webhook delivery failed")
        finally:
            connection.close()

    threading.Thread(target=work, name="sandbox-webhooks", daemon=True).start()
