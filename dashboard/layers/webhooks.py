"""Layers webhook deliveries (contract §6): the signature check and the typed envelope.

The dashboard's receiver hands the raw body and headers here and gets back either a
refusal (with the status to answer) or a `WebhookEnvelope` whose `event` is a typed record
for the events the dashboard acts on. The sandbox signs its deliveries with its own code
(dashboard/sandbox/webhooks.py), so a mistake cannot hide on both sides."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .wire import parse_time, platform_from_wire

TOLERANCE_SECONDS = 300  # contract §6.1: reject when more than 5 minutes from our clock


# --- the signature ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    status: int = 200  # what to answer when not ok: 400 malformed, 401 not ours
    reason: str = ""


def signature_verify(
    *, raw_body: bytes, header: str, secrets: list[str], now: float | None = None
) -> Verification:
    """`X-Layers-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`: HMAC-SHA256 over "<t>.<raw body>"
    with any of our secrets must equal any v1 value, and t must be within 5 minutes of now."""
    if not (header or "").isascii():  # compare_digest would raise on a non-ASCII value
        return Verification(False, 400, "the signature header is missing or malformed")
    timestamp, macs = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1" and value:
            macs.append(value.strip().lower())
    if not timestamp or not macs:
        return Verification(False, 400, "the signature header is missing or malformed")
    try:
        t = int(timestamp)
    except ValueError:
        return Verification(False, 400, "the signature timestamp is not a number")
    if not secrets:
        return Verification(False, 401, "no webhook signing secret is configured")
    now = time.time() if now is None else now
    if abs(now - t) > TOLERANCE_SECONDS:
        return Verification(
            False, 401, "the signature timestamp is more than 5 minutes from our clock"
        )
    signed = f"{t}.".encode() + raw_body
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        # Check every candidate (no early exit on the first match of a weaker secret).
        if any(hmac.compare_digest(expected, mac) for mac in macs):
            return Verification(True)
    return Verification(False, 401, "the signature does not match")


# --- the events the dashboard acts on -------------------------------------------------------


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _platform(value: Any) -> str:
    return (platform_from_wire(value) or "") if isinstance(value, str) else ""


@dataclass(frozen=True)
class ApprovalDispatched:
    """`approval.dispatched` [I §6.3]: an approved action reached the platform, or failed to."""

    pending_id: str
    platform: str
    action_type: str
    status: str  # dispatched | dispatch_failed
    dispatched_at: datetime | None
    failure_reason: str
    verdict_id: str

    @classmethod
    def from_wire(cls, data: dict) -> ApprovalDispatched:
        return cls(
            pending_id=_str(data.get("pendingId")),
            platform=_platform(data.get("platform")),
            action_type=_str(data.get("actionType")),
            status=_str(data.get("status")),
            dispatched_at=parse_time(data.get("dispatchedAt")),
            failure_reason=_str(data.get("dispatchFailureReason")),
            verdict_id=_str(data.get("verdictId")),
        )


@dataclass(frozen=True)
class RunCompleted:
    """`ads.optimizer.run.completed` [I §6.3]. The counts come from `summary`, or are counted
    from `changes` when the summary leaves them out."""

    run_id: str
    platform: str
    dry_run: bool
    proposed: int
    queued: int
    dispatched: int

    @classmethod
    def from_wire(cls, data: dict) -> RunCompleted:
        summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
        changes = data.get("changes") if isinstance(data.get("changes"), list) else []
        queued = _count(summary.get("queued"))
        if queued is None:
            queued = sum(1 for c in changes if isinstance(c, dict) and c.get("outcome") == "queued")
        proposed = _count(summary.get("proposed"))
        return cls(
            run_id=_str(data.get("runId")),
            platform=_platform(data.get("platform")),
            dry_run=data.get("dryRun") is True,
            proposed=len(changes) if proposed is None else proposed,
            queued=queued,
            dispatched=_count(summary.get("dispatched")) or 0,
        )


@dataclass(frozen=True)
class WriteDenied:
    """`ads.write.denied` [I §6.3]: the gate refused a write."""

    verdict_id: str
    reason: str
    axis: str
    platform: str
    entity_type: str

    @classmethod
    def from_wire(cls, data: dict) -> WriteDenied:
        return cls(
            verdict_id=_str(data.get("verdictId")),
            reason=_str(data.get("reason")),
            axis=_str(data.get("axis")),
            platform=_platform(data.get("platform")),
            entity_type=_str(data.get("entityType")),
        )


@dataclass(frozen=True)
class JobFinished:
    """`job.completed` / `job.failed` / `job.canceled` [D §6.3]."""

    job_id: str
    kind: str

    @classmethod
    def from_wire(cls, data: dict) -> JobFinished:
        return cls(job_id=_str(data.get("jobId")), kind=_str(data.get("kind")))


@dataclass(frozen=True)
class Ping:
    """`test.ping` [D §6.3]."""

    endpoint_id: str

    @classmethod
    def from_wire(cls, data: dict) -> Ping:
        return cls(endpoint_id=_str(data.get("endpointId")))


EVENT_RECORDS = {
    "approval.dispatched": ApprovalDispatched,
    "ads.optimizer.run.completed": RunCompleted,
    "ads.write.denied": WriteDenied,
    "job.completed": JobFinished,
    "job.failed": JobFinished,
    "job.canceled": JobFinished,
    "test.ping": Ping,
}


# --- the envelope -----------------------------------------------------------------------------


class EnvelopeUnreadable(ValueError):
    """The delivery is signed by Layers but is not an envelope we can store (answer 400)."""


@dataclass(frozen=True)
class WebhookEnvelope:
    """`{id, type, projectId, createdAt, data, replayOf}` (contract §6.2). `raw` is the JSON
    object as delivered, kept so a stored event can be read again later."""

    event_id: str
    event_type: str
    project_id: str = ""
    created_at: datetime | None = None
    replay_of: str = ""
    data: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def platform(self) -> str:
        """The platform the event names (meta | tiktok | apple), or "" when it names none."""
        return _platform(self.data.get("platform"))

    @property
    def event(self):
        """The typed record of this event, or None for an event the dashboard does not read."""
        record = EVENT_RECORDS.get(self.event_type)
        return record.from_wire(self.data) if record else None

    @classmethod
    def from_wire(cls, raw: Any, *, event_id: str = "") -> WebhookEnvelope:
        """Everything comes from the signed body: its `id` (what the receiver dedupes on) and
        its `type`. `event_id` is the unsigned `X-Layers-Event-Id` header: when sent it must
        equal the body's id (contract §6.2), or the delivery is refused; it never replaces it,
        so re-posting one captured body under new header ids cannot make it a new event."""
        if not isinstance(raw, dict):
            raise EnvelopeUnreadable("the body is not a JSON object")
        body_id, kind = raw.get("id"), raw.get("type")
        if not isinstance(body_id, str) or not body_id.strip():
            raise EnvelopeUnreadable("the signed body has no event id")
        if not isinstance(kind, str) or not kind.strip():
            raise EnvelopeUnreadable("the signed body has no event type")
        body_id = body_id.strip()
        if len(body_id) > 80:
            raise EnvelopeUnreadable("the event id is longer than 80 characters")
        header_id = (event_id or "").strip()
        if header_id and header_id != body_id:
            raise EnvelopeUnreadable(
                "the X-Layers-Event-Id header does not match the signed body's event id"
            )
        event_id = body_id
        data = raw.get("data")
        replay = raw.get("replayOf") or (data.get("replayOf") if isinstance(data, dict) else None)
        return cls(
            event_id=event_id,
            event_type=kind.strip()[:80],
            project_id=_str(raw.get("projectId"))[:80],
            created_at=parse_time(raw.get("createdAt")),
            replay_of=_str(replay),  # top level in newer docs, in data in older ones [C]
            data=data if isinstance(data, dict) else {},
            raw=raw,
        )

    @classmethod
    def from_body(cls, raw_body: bytes, headers) -> WebhookEnvelope:
        try:
            raw = json.loads(raw_body)
        except ValueError:
            raise EnvelopeUnreadable("the body is not JSON") from None
        return cls.from_wire(raw, event_id=headers.get("X-Layers-Event-Id") or "")
