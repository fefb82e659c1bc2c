"""Receiving a Layers webhook: check the signature, store the event once per event id,
and queue the task that acts on it (services/webhooks.py, run by the task worker).

Signing secrets: LAYERS_WEBHOOK_SECRET (comma-separated, so an old and a new secret can
overlap during a rotation) plus the secrets `manage.py webhooks_register` stored, because
Layers shows an endpoint's secret only once, in the answer that created it."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from dashboard.layers import EnvelopeUnreadable, WebhookEnvelope, signature_verify
from dashboard.models import WebhookEvent, WebhookSecret
from dashboard.services.mirror import mirror_mark_dirty
from dashboard.tasks import webhook_event_run

log = logging.getLogger("dashboard.webhooks")

MAX_BODY_BYTES = 1_000_000
# Events that say a project's pending list changed: the mirror's list is read again.
PENDING_EVENTS = ("ads.optimizer.run.", "approval.", "ads.pending.", "ads.write.queued")


def webhook_secrets() -> list[str]:
    """Every secret a delivery may be signed with right now."""
    configured = [s.strip() for s in (settings.LAYERS_WEBHOOK_SECRET or "").split(",") if s.strip()]
    stored = list(
        WebhookSecret.objects.filter(retired_at__isnull=True)
        .order_by("-created_at")
        .values_list("secret", flat=True)
    )
    return list(dict.fromkeys(configured + stored))


@dataclass(frozen=True)
class Receipt:
    status: int
    body: dict


def webhook_receive(*, raw_body: bytes, headers) -> Receipt:
    """Verify, dedupe, store, queue. Never acts on the event before answering: what it
    changes happens in the worker and cannot make Layers see an error. When the queue
    cannot take it, the stored event waits for `manage.py webhooks_process`."""
    if len(raw_body) > MAX_BODY_BYTES:
        return Receipt(413, {"error": "payload too large"})
    check = signature_verify(
        raw_body=raw_body, header=headers.get("X-Layers-Signature", ""), secrets=webhook_secrets()
    )
    if not check.ok:
        log.warning("webhook refused: %s", check.reason)
        return Receipt(check.status, {"error": check.reason})
    try:
        envelope = WebhookEnvelope.from_body(raw_body, headers)
    except EnvelopeUnreadable as error:
        return Receipt(400, {"error": str(error)})
    event_id = (
        envelope.event_id
    )  # the signed body's id: a re-post under a new header is a duplicate
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                event_id=event_id,
                event_type=envelope.event_type,
                project_id=envelope.project_id,
                payload=envelope.raw,
            )
            if envelope.project_id and envelope.event_type.startswith(PENDING_EVENTS):
                mirror_mark_dirty(envelope.project_id, envelope.platform or None)
            transaction.on_commit(lambda: webhook_event_run.enqueue(event_id), robust=True)
    except IntegrityError:
        return Receipt(200, {"received": event_id, "duplicate": True})
    return Receipt(200, {"received": event_id})
