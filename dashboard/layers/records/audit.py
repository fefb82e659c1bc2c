"""Verdicts, audit-log rows and webhook endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..wire import parse_time, platform_from_wire
from .base import _dict, _list, _obj, _required, _str
from .campaigns import Authority


@dataclass(frozen=True)
class Verdict:
    verdict_id: str
    decision: str | None = None
    reason: str | None = None
    axis: str | None = None
    authority: Authority | None = None
    request: dict = field(default_factory=dict)
    actor_type: str | None = None
    platform: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    pending_id: str | None = None
    job_id: str | None = None
    created_at: datetime | None = None

    @classmethod
    def from_wire(cls, data: Any) -> Verdict:
        data = _obj(data, "verdict")
        authority = data.get("authority")
        return cls(
            verdict_id=str(_required(data, "verdictId", "verdict")),
            decision=_str(data.get("decision")),
            reason=_str(data.get("reason")),
            axis=_str(data.get("axis")),
            authority=Authority.from_wire(authority) if isinstance(authority, dict) else None,
            request=_dict(data.get("request")),
            actor_type=_str(data.get("actorType")),
            platform=platform_from_wire(data.get("platform")),
            entity_type=_str(data.get("entityType")),
            entity_id=_str(data.get("entityId")),
            pending_id=_str(data.get("pendingId")),
            job_id=_str(data.get("jobId")),
            created_at=parse_time(data.get("createdAt")),
        )


@dataclass(frozen=True)
class AuditEvent:
    """One audit row. Ads facts live in `data` on the wire (contract §7.2, camelCase keys
    plus `actor_type` in snake_case [C #21]); they are lifted to attributes here."""

    event_id: str
    event_type: str | None = None
    occurred_at: datetime | None = None
    request_id: str | None = None
    project_id: str | None = None
    api_key_id: str | None = None
    actor: str | None = None
    actor_type: str | None = None
    verdict_id: str | None = None
    verdict: str | None = None
    reason: str | None = None
    axis: str | None = None
    platform: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    data: dict = field(default_factory=dict)

    @classmethod
    def from_wire(cls, data: Any) -> AuditEvent:
        row = _obj(data, "audit event")
        extra = _dict(row.get("data"))

        def pick(*names):
            for name in names:
                if extra.get(name) is not None:
                    return _str(extra[name])
                if row.get(name) is not None:
                    return _str(row[name])
            return None

        return cls(
            event_id=str(_required(row, "eventId", "audit event")),
            event_type=_str(row.get("eventType")),
            occurred_at=parse_time(row.get("occurredAt")),
            request_id=_str(row.get("requestId")),
            project_id=_str(row.get("projectId")),
            api_key_id=_str(row.get("apiKeyId")),
            actor=_str(row.get("actor")),
            actor_type=pick("actor_type", "actorType"),
            verdict_id=pick("verdictId"),
            verdict=pick("verdict", "decision"),
            reason=pick("reason"),
            axis=pick("axis"),
            platform=platform_from_wire(pick("platform")),
            entity_type=pick("entityType"),
            entity_id=pick("entityId"),
            data=extra,
        )


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str | None = None
    events: tuple = ()
    status: str | None = None
    project_id: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    signing_secret: str | None = field(default=None, repr=False)  # shown once on create

    @classmethod
    def from_wire(cls, data: Any) -> WebhookEndpoint:
        data = _obj(data, "webhook endpoint")
        endpoint = data.get("endpoint") if isinstance(data.get("endpoint"), dict) else data
        return cls(
            id=str(_required(endpoint, "id", "webhook endpoint")),
            url=_str(endpoint.get("url")),
            events=tuple(str(e) for e in _list(endpoint.get("events"))),
            status=_str(endpoint.get("status")),
            project_id=_str(endpoint.get("projectId")),
            description=_str(endpoint.get("description")),
            created_at=parse_time(endpoint.get("createdAt")),
            signing_secret=_str(data.get("signingSecret")),
        )
