"""Campaigns, their authority block and the layer's defaults, and the answer of an ads
write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..wire import parse_time, platform_from_wire
from .base import _bool, _dict, _int, _obj, _required, _str

AXES = ("creative", "tactical", "structural")


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
