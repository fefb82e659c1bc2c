"""Typed, frozen records for what the Layers API returns.

A tolerant reader: unknown fields are ignored, unknown enum values are kept as the raw
string, missing optional fields take a default, timestamps parse with or without
milliseconds. A missing id (or another field we cannot do without), or an item that is not
a JSON object, raises LayersBadResponse. Platforms are turned into the dashboard's short
vocabulary (meta | tiktok | apple) whichever form the wire used."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import LayersBadResponse
from .wire import parse_time, platform_from_wire, reset_at

AXES = ("creative", "tactical", "structural")

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


# --- readers ------------------------------------------------------------------------------


def _a(noun: str) -> str:
    """ "a decision", "an optimizer run": the sentences people read are English."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _obj(data: Any, what: str) -> dict:
    if not isinstance(data, dict):
        raise LayersBadResponse(
            f"The Layers API sent {_a(what)} that is not an object; "
            "the dashboard could not read it.",
            details={"record": what},
        )
    return data


def _required(data: dict, key: str, what: str) -> Any:
    value = data.get(key)
    if value is None or value == "":
        raise LayersBadResponse(
            f"The Layers API sent {_a(what)} without its {key}; the dashboard could not read it.",
            details={"record": what, "missing": key},
        )
    return value


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any, default: bool = False) -> bool:
    return value if isinstance(value, bool) else default


def _dict(value: Any) -> dict:
    return dict(value) if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return list(value) if isinstance(value, list) else []


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    endpoint_class: str | None
    limit: int | None
    remaining: int | None
    reset: int | None  # epoch seconds, always absolute (wire.reset_at decides) [I]

    @classmethod
    def from_headers(cls, headers) -> RateLimit:
        return cls(
            endpoint_class=headers.get("X-RateLimit-Endpoint-Class"),
            limit=_int(headers.get("X-RateLimit-Limit")),
            remaining=_int(headers.get("X-RateLimit-Remaining")),
            reset=reset_at(_int(headers.get("X-RateLimit-Reset"))),
        )


@dataclass(frozen=True)
class Page[T]:
    items: tuple
    next_cursor: str | None = None

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    @classmethod
    def from_wire(cls, data: Any, item: type, what: str = "list") -> Page:
        data = _obj(data, what)
        raw = data.get("items")
        if not isinstance(raw, list):
            raise LayersBadResponse(
                f"The Layers API sent {_a(what)} without its items; "
                "the dashboard could not read it.",
                details={"record": what, "missing": "items"},
            )
        cursor = data.get("nextCursor")  # null or absent = last page [D/I]
        return cls(
            items=tuple(item.from_wire(row) for row in raw),
            next_cursor=str(cursor) if cursor else None,
        )


@dataclass(frozen=True)
class WhoAmI:
    organization_id: str
    organization_name: str | None
    api_key_id: str | None
    scopes: tuple = ()
    rate_limit_tier: str | None = None
    kill_switch: bool = False

    @classmethod
    def from_wire(cls, data: Any) -> WhoAmI:
        data = _obj(data, "key description")
        return cls(
            organization_id=str(_required(data, "organizationId", "key description")),
            organization_name=_str(data.get("organizationName")),
            api_key_id=_str(data.get("apiKeyId")),
            scopes=tuple(str(s) for s in _list(data.get("scopes"))),
            rate_limit_tier=_str(data.get("rateLimitTier")),
            kill_switch=_bool(data.get("killSwitch")) or _bool(data.get("apiAccessRevoked")),
        )

    def has_scope(self, scope: str) -> bool:
        """Contract §3: `*` grants all; a bare `ads:write` covers every `ads:write:*`;
        `ads:write:connect` (legacy) and `ads:write` are equivalent for the OAuth URL."""
        scopes = set(self.scopes)
        if "*" in scopes or scope in scopes:
            return True
        if scope.startswith("ads:write:") and "ads:write" in scopes:
            return True
        return scope == "ads:write" and "ads:write:connect" in scopes


@dataclass(frozen=True)
class Layer:
    layer_id: str
    platform: str | None
    template: str | None = None
    is_active: bool = True

    @classmethod
    def from_wire(cls, data: Any) -> Layer:
        data = _obj(data, "layer")
        return cls(
            layer_id=str(_required(data, "layerId", "layer")),
            platform=platform_from_wire(data.get("platform")),
            template=_str(data.get("template")),
            is_active=_bool(data.get("isActive"), True),
        )


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    status: str | None = None
    customer_external_id: str | None = None
    timezone: str | None = None
    layers: tuple = ()
    primary_language: str | None = None  # money is shown in this locale (dashboard.money)

    @classmethod
    def from_wire(cls, data: Any) -> Project:
        data = _obj(data, "project")
        return cls(
            id=str(_required(data, "id", "project")),
            name=str(data.get("name") or ""),
            status=_str(data.get("status")),
            customer_external_id=_str(data.get("customerExternalId")),
            timezone=_str(data.get("timezone")),
            layers=tuple(Layer.from_wire(layer) for layer in _list(data.get("layers"))),
            primary_language=_str(data.get("primaryLanguage")),
        )


@dataclass(frozen=True)
class AdAccount:
    ad_account_id: str
    platform: str | None
    external_id: str | None = None
    name: str = ""
    currency: str | None = None
    timezone: str | None = None
    token_status: str | None = None
    connected_at: datetime | None = None

    @classmethod
    def from_wire(cls, data: Any) -> AdAccount:
        data = _obj(data, "ad account")
        return cls(
            ad_account_id=str(_required(data, "adAccountId", "ad account")),
            platform=platform_from_wire(data.get("platform")),
            external_id=_str(data.get("externalId")),
            name=str(data.get("name") or ""),
            currency=_str(data.get("currency")),
            timezone=_str(data.get("timezone")),
            token_status=_str(data.get("tokenStatus")),
            connected_at=parse_time(data.get("connectedAt")),
        )


@dataclass(frozen=True)
class OAuthUrl:
    url: str
    expires_at: datetime | None = None

    @classmethod
    def from_wire(cls, data: Any) -> OAuthUrl:
        data = _obj(data, "connection link")
        return cls(
            url=str(_required(data, "url", "connection link")),
            expires_at=parse_time(data.get("expiresAt")),
        )


@dataclass(frozen=True)
class Authority:
    creative: str | None = None
    tactical: str | None = None
    structural: str | None = None

    def axis(self, name: str) -> str | None:
        return getattr(self, name) if name in AXES else None

    @property
    def values(self) -> dict:
        return {axis: getattr(self, axis) for axis in AXES}

    @classmethod
    def from_wire(cls, data: Any) -> Authority:
        data = _dict(data)
        return cls(**{axis: _str(data.get(axis)) for axis in AXES})


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    platform: str | None
    ad_account_id: str | None = None
    external_id: str | None = None
    name: str = ""
    status: str | None = None
    objective: str | None = None
    budget_mode: str | None = None
    daily_budget_cents: int | None = None
    lifetime_budget_cents: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    managed_by_layers: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    authority: Authority | None = None

    @classmethod
    def from_wire(cls, data: Any) -> Campaign:
        data = _obj(data, "campaign")
        authority = data.get("authority")
        return cls(
            campaign_id=str(_required(data, "campaignId", "campaign")),
            platform=platform_from_wire(data.get("platform")),
            ad_account_id=_str(data.get("adAccountId")),
            external_id=_str(data.get("externalId")),
            name=str(data.get("name") or ""),
            status=_str(data.get("status")),
            objective=_str(data.get("objective")),
            budget_mode=_str(data.get("budgetMode")),
            daily_budget_cents=_int(data.get("dailyBudgetCents")),
            lifetime_budget_cents=_int(data.get("lifetimeBudgetCents")),
            start_time=parse_time(data.get("startTime")),
            end_time=parse_time(data.get("endTime")),
            managed_by_layers=_bool(data.get("managedByLayers")),
            created_at=parse_time(data.get("createdAt")),
            updated_at=parse_time(data.get("updatedAt")),
            authority=Authority.from_wire(authority) if isinstance(authority, dict) else None,
        )


@dataclass(frozen=True)
class CampaignAuthority:
    campaign_id: str
    platform: str | None
    authority: Authority
    source: str | None = None
    last_modified_at: datetime | None = None
    last_modified_by_actor_type: str | None = None
    verdict_id: str | None = None  # only on PATCH responses

    @classmethod
    def from_wire(cls, data: Any) -> CampaignAuthority:
        data = _obj(data, "campaign authority")
        _obj(_required(data, "authority", "campaign authority"), "authority block")
        return cls(
            campaign_id=str(_required(data, "campaignId", "campaign authority")),
            platform=platform_from_wire(data.get("platform")),
            authority=Authority.from_wire(data.get("authority")),
            source=_str(data.get("source")),
            last_modified_at=parse_time(data.get("lastModifiedAt")),
            last_modified_by_actor_type=_str(_dict(data.get("lastModifiedBy")).get("actorType")),
            verdict_id=_str(data.get("verdictId")),
        )


@dataclass(frozen=True)
class LayerDefaults:
    layer_id: str
    platform: str | None
    defaults: Authority
    kill_switch_active: bool = False
    last_modified_at: datetime | None = None
    # [I] The customer's one-time consent to partner writes has no documented field; the
    # sandbox reports `partnerWritesConsented`. None = Layers did not say.
    partner_writes_consented: bool | None = None

    @classmethod
    def from_wire(cls, data: Any) -> LayerDefaults:
        data = _obj(data, "layer defaults")
        consented = data.get("partnerWritesConsented")
        return cls(
            layer_id=str(_required(data, "layerId", "layer defaults")),
            platform=platform_from_wire(data.get("platform")),
            defaults=Authority.from_wire(data.get("defaults")),
            kill_switch_active=_bool(data.get("killSwitchActive")),
            last_modified_at=parse_time(data.get("lastModifiedAt")),
            partner_writes_consented=consented if isinstance(consented, bool) else None,
        )


@dataclass(frozen=True)
class WriteResult:
    """202 answer of an ads write: `dispatched` (auto axis: a job runs it), `pending` (draft
    axis: a pending action waits for approval); other values are kept as they come."""

    status: str
    verdict_id: str | None = None
    job_id: str | None = None
    pending_id: str | None = None
    campaign_id: str | None = None

    @property
    def queued(self) -> bool:
        return self.status == "pending"

    @classmethod
    def from_wire(cls, data: Any) -> WriteResult:
        data = _obj(data, "write result")
        status = data.get("status")
        if not status:
            # DELETE is documented as `202 {jobId, verdictId}` without a status [D §4.10]:
            # a pending id means queued, a job id means dispatched. [I]
            status = (
                "pending" if data.get("pendingId") else "dispatched" if data.get("jobId") else None
            )
        if not status:
            _required(data, "status", "write result")
        status = str(status)
        if status == "pending":  # a queued write is useless without the pending action's id
            _required(data, "pendingId", "write result")
        _required(data, "verdictId", "write result")  # every gate decision has one [D]
        return cls(
            status=status,
            verdict_id=_str(data.get("verdictId")),
            job_id=_str(data.get("jobId")),
            pending_id=_str(data.get("pendingId")),
            campaign_id=_str(data.get("campaignId")),
        )


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
