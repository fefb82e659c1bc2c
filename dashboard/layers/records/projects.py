"""The key, projects with their layers, ad accounts and the OAuth connection link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..wire import parse_time, platform_from_wire
from .base import _bool, _list, _obj, _required, _str


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
