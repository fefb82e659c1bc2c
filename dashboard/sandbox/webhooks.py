"""Signed webhook deliveries through an outbox (contract §6).

Events are written to `Delivery` in the same transaction as the change that caused them and
are sent by `deliver_due` — on control `tick`, or right after commit from a short background
thread when `autoDeliver` is on. A delivery is claimed with a conditional UPDATE, so a tick
and a background thread never send the same attempt twice.

The signature timestamp is wall time, not the sandbox clock: receivers check it against
their own clock (5-minute tolerance) and the sandbox clock may be days ahead."""

import hashlib
import hmac
import json
import logging
import threading
from datetime import timedelta

import requests
from django.db import close_old_connections, connection, transaction

from . import clock
from .models import Delivery, State
from .records import ORG_ID

log = logging.getLogger(__name__)
LADDER = [0, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600]  # seconds before attempt n+1


def enqueue(event_type: str, *, project_id: str | None, data: dict, at) -> Delivery | None:
    state = State.objects.first()
    if state is None or not state.webhook_url:
        return None
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
        event_id=event_id,
        event_type=event_type,
        body=json.dumps(envelope),
        next_attempt_at=at,
        created_at=at,
    )
    if state.auto_deliver:
        transaction.on_commit(_deliver_in_background)
    return delivery


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
    if state is None or not state.webhook_url:
        return counts
    due = Delivery.objects.filter(status="pending", next_attempt_at__lte=now).order_by("created_at")
    for delivery_id in list(due.values_list("id", flat=True)[:100]):
        if not Delivery.objects.filter(pk=delivery_id, status="pending").update(
            status="delivering"
        ):
            continue  # someone else claimed it
        delivery = Delivery.objects.get(pk=delivery_id)
        outcome = _send(state, delivery)
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


def _send(state: State, delivery: Delivery) -> int | None:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Layers-Webhooks/1",
        "X-Layers-Event-Id": delivery.event_id,
        "X-Layers-Event-Type": delivery.event_type,
        "X-Layers-Delivery-Id": str(delivery.id),
        "X-Layers-Signature": signature(
            delivery.body, [state.webhook_secret, state.webhook_previous_secret], clock.unix()
        ),
    }
    try:
        response = requests.post(
            state.webhook_url, data=delivery.body.encode(), headers=headers, timeout=5
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
