"""Pending actions and decisions on them, optimizer runs and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..wire import parse_time, platform_from_wire
from .base import _bool, _dict, _float, _list, _obj, _required, _str

# Contract §2.2: pending action type → the authority axis that gates it. Targeting follows
# the endpoint page (creative), not the concept table (tactical) — §9 #11. [C]
ACTION_AXIS = {
    "update_budget": "tactical",
    "update_schedule": "tactical",
    "update_bid": "tactical",
    "update_targeting": "creative",
    "push_creative": "creative",
    "replace_creative": "creative",
    "prune_creative": "creative",
    "disable_ad": "creative",
    "pause_ad": "structural",
    "pause_adset": "structural",
    "pause_campaign": "structural",
    "resume_ad": "structural",
    "resume_adset": "structural",
    "resume_campaign": "structural",
    "create_campaign": "structural",
    "delete_campaign": "structural",
    "delete_adset": "structural",
    "delete_ad": "structural",
}


@dataclass(frozen=True)
class Decision:
    pending_id: str
    status: str | None
    dispatched: bool = False
    dispatched_at: datetime | None = None
    verdict_id: str | None = None

    @classmethod
    def from_wire(cls, data: Any) -> Decision:
        data = _obj(data, "decision")
        return cls(
            pending_id=str(_required(data, "pendingId", "decision")),
            status=_str(_required(data, "status", "decision")),
            dispatched=_bool(data.get("dispatched")),
            dispatched_at=parse_time(data.get("dispatchedAt")),
            verdict_id=_str(data.get("verdictId")),
        )


@dataclass(frozen=True)
class PendingAction:
    pending_id: str
    action_type: str | None
    entity_type: str | None = None
    entity_id: str | None = None
    entity_name: str = ""
    platform: str | None = None
    current_value: dict = field(default_factory=dict)
    new_value: dict = field(default_factory=dict)
    rationale: str = ""
    detail: dict = field(default_factory=dict)
    status: str | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    dispatched_at: datetime | None = None
    dispatch_failure_reason: str | None = None
    source: str | None = None
    decided_at: datetime | None = None
    decided_by: dict | None = None
    verdict_id: str | None = None  # the gate's verdict that queued it (sandbox field) [I]
    # The item as the wire sent it, so a copy kept elsewhere (the mirror) reads back exactly:
    # PendingAction.from_wire(action.raw).
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def axis(self) -> str | None:
        return ACTION_AXIS.get(self.action_type or "")

    @classmethod
    def from_wire(cls, data: Any) -> PendingAction:
        data = _obj(data, "pending action")
        decided_by = data.get("decidedBy")
        return cls(
            pending_id=str(_required(data, "pendingId", "pending action")),
            action_type=_str(data.get("actionType")),
            entity_type=_str(data.get("entityType")),
            entity_id=_str(data.get("entityId")),
            entity_name=str(data.get("entityName") or ""),
            platform=platform_from_wire(data.get("platform")),
            current_value=_dict(data.get("currentValue")),
            new_value=_dict(data.get("newValue")),
            rationale=str(data.get("rationale") or ""),
            detail=_dict(_dict(data.get("proposedAction")).get("detail")),
            status=_str(data.get("status")),
            created_at=parse_time(data.get("createdAt")),
            expires_at=parse_time(data.get("expiresAt")),
            dispatched_at=parse_time(data.get("dispatchedAt")),
            dispatch_failure_reason=_str(data.get("dispatchFailureReason")),
            source=_str(data.get("source")),
            decided_at=parse_time(data.get("decidedAt")),
            decided_by=dict(decided_by) if isinstance(decided_by, dict) else None,
            verdict_id=_str(data.get("verdictId")),
            raw=data,
        )


@dataclass(frozen=True)
class OptimizerRunStart:
    run_id: str
    job_id: str | None
    status: str | None = None

    @classmethod
    def from_wire(cls, data: Any) -> OptimizerRunStart:
        data = _obj(data, "optimizer run")
        return cls(
            run_id=str(_required(data, "runId", "optimizer run")),
            job_id=_str(data.get("jobId")),
            status=_str(data.get("status")),
        )


@dataclass(frozen=True)
class RunStage:
    stage: str | None
    entered_at: datetime | None = None

    @classmethod
    def from_wire(cls, data: Any) -> RunStage:
        data = _dict(data)
        return cls(stage=_str(data.get("stage")), entered_at=parse_time(data.get("enteredAt")))


@dataclass(frozen=True)
class OptimizerRun:
    run_id: str
    job_id: str | None = None
    layer_id: str | None = None
    platform: str | None = None
    dry_run: bool = False
    status: str | None = None
    stage: str | None = None
    stages: tuple = ()  # tuple[RunStage]
    started_at: datetime | None = None
    finished_at: datetime | None = None
    summary: dict = field(default_factory=dict)
    changes: tuple = ()  # tuple[dict], the wire's camelCase rows as they are

    @classmethod
    def from_wire(cls, data: Any) -> OptimizerRun:
        data = _obj(data, "optimizer run")
        return cls(
            run_id=str(_required(data, "runId", "optimizer run")),
            job_id=_str(data.get("jobId")),
            layer_id=_str(data.get("layerId")),
            platform=platform_from_wire(data.get("platform")),
            dry_run=_bool(data.get("dryRun")),
            status=_str(data.get("status")),
            stage=_str(data.get("stage")),
            stages=tuple(
                RunStage.from_wire(s) for s in _list(data.get("stages")) if isinstance(s, dict)
            ),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
            summary=_dict(data.get("summary")),
            changes=tuple(dict(c) for c in _list(data.get("changes")) if isinstance(c, dict)),
        )


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str | None = None
    status: str | None = None
    stage: str | None = None
    progress: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict | None = None
    error: dict | None = None
    etag: str | None = None

    @property
    def done(self) -> bool:
        return self.status is not None and self.status != "running"

    @classmethod
    def from_wire(cls, data: Any, etag: str | None = None) -> Job:
        data = _obj(data, "job")
        result, error = data.get("result"), data.get("error")
        return cls(
            job_id=str(_required(data, "jobId", "job")),
            kind=_str(data.get("kind")),
            status=_str(data.get("status")),
            stage=_str(data.get("stage")),
            progress=_float(data.get("progress")),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
            result=dict(result) if isinstance(result, dict) else None,
            error=dict(error) if isinstance(error, dict) else None,
            etag=etag,
        )
