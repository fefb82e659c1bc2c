"""The calls on ad accounts, campaigns, their authority and the layer's defaults. Mixed into
LayersClient (client.py), whose one request path (`_call`) sends them."""

from __future__ import annotations

from .records import (
    AdAccount,
    Campaign,
    CampaignAuthority,
    LayerDefaults,
    OAuthUrl,
    Page,
    WriteResult,
)
from .sending import _cents, _compact, _iso, _seg
from .wire import platform_to_path, platform_to_wire


class CampaignCalls:
    def _campaign_path(self, project_id, platform, campaign_id) -> str:
        return f"{self._ads(project_id)}/{platform_to_path(platform)}/campaigns/{_seg(campaign_id)}"

    # --- ad accounts ------------------------------------------------------------------------

    def ad_accounts_list(self, *, project_id, platforms=None) -> list[AdAccount]:
        # Multi-valued filters are sent as repeated keys (`platforms=meta_ads&platforms=…`). [I]
        params = {"platforms": [platform_to_wire(p) for p in platforms] if platforms else None}
        page = self._call(
            "GET",
            f"{self._ads(project_id)}/ad-accounts",
            lambda d: Page.from_wire(d, AdAccount, "ad-account list"),
            params=params,
        )
        return list(page.items)

    def ad_account_oauth_url(
        self, *, project_id, platform, return_url, state=None, idempotency_key
    ) -> OAuthUrl:
        body = _compact(
            {"platform": platform_to_wire(platform), "returnUrl": return_url, "state": state}
        )
        return self._call(
            "POST",
            f"{self._ads(project_id)}/ad-accounts/oauth-url",
            OAuthUrl.from_wire,
            json=body,
            idempotency_key=idempotency_key,
        )

    # --- campaigns --------------------------------------------------------------------------

    def campaigns_list(
        self,
        *,
        project_id,
        platforms=None,
        ad_account_id=None,
        statuses=None,
        cursor=None,
        limit=None,
    ) -> Page[Campaign]:
        # List path has no platform segment [C #7]; filters use the body vocabulary.
        params = {
            "platforms": [platform_to_wire(p) for p in platforms] if platforms else None,
            "adAccountId": ad_account_id,
            "status": list(statuses) if statuses else None,
            "cursor": cursor,
            "limit": limit,
        }
        return self._call(
            "GET",
            f"{self._ads(project_id)}/campaigns",
            lambda d: Page.from_wire(d, Campaign, "campaign list"),
            params=params,
        )

    def campaign_get(self, *, project_id, platform, campaign_id) -> Campaign:
        # Single GET is under the platform segment [I, §4.6].
        return self._call(
            "GET", self._campaign_path(project_id, platform, campaign_id), Campaign.from_wire
        )

    def campaign_create(
        self,
        *,
        project_id,
        platform,
        ad_account_id,
        name,
        outcome,
        campaign_management_mode,
        creative_mode,
        daily_budget_cents=None,
        lifetime_budget_cents=None,
        start_time=None,
        end_time=None,
        idempotency_key,
    ) -> WriteResult:
        body = _compact(
            {
                "adAccountId": ad_account_id,
                "name": name,
                "outcome": outcome,
                "campaignManagementMode": campaign_management_mode,
                "creativeMode": creative_mode,
                "dailyBudgetCents": _cents(daily_budget_cents),
                "lifetimeBudgetCents": _cents(lifetime_budget_cents),
                "startTime": _iso(start_time),
                "endTime": _iso(end_time),
            }
        )
        path = f"{self._ads(project_id)}/{platform_to_path(platform)}/campaigns"
        return self._call(
            "POST", path, WriteResult.from_wire, json=body, idempotency_key=idempotency_key
        )

    def campaign_budget_update(
        self,
        *,
        project_id,
        platform,
        campaign_id,
        daily_budget_cents=None,
        lifetime_budget_cents=None,
        idempotency_key,
    ) -> WriteResult:
        body = _compact(
            {
                "dailyBudgetCents": _cents(daily_budget_cents),
                "lifetimeBudgetCents": _cents(lifetime_budget_cents),
            }
        )
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/budget"
        return self._call(
            "PATCH", path, WriteResult.from_wire, json=body, idempotency_key=idempotency_key
        )

    def campaign_pause(self, *, project_id, platform, campaign_id, idempotency_key) -> WriteResult:
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/pause"
        return self._call(
            "POST", path, WriteResult.from_wire, json={}, idempotency_key=idempotency_key
        )

    def campaign_resume(self, *, project_id, platform, campaign_id, idempotency_key) -> WriteResult:
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/resume"
        return self._call(
            "POST", path, WriteResult.from_wire, json={}, idempotency_key=idempotency_key
        )

    def campaign_delete(self, *, project_id, platform, campaign_id, idempotency_key) -> WriteResult:
        path = self._campaign_path(project_id, platform, campaign_id)
        return self._call("DELETE", path, WriteResult.from_wire, idempotency_key=idempotency_key)

    # --- authority and defaults -------------------------------------------------------------

    def authority_get(self, *, project_id, platform, campaign_id) -> CampaignAuthority:
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/authority"
        return self._call("GET", path, CampaignAuthority.from_wire)

    def authority_update(
        self, *, project_id, platform, campaign_id, authority: dict[str, str], idempotency_key
    ) -> CampaignAuthority:
        path = f"{self._campaign_path(project_id, platform, campaign_id)}/authority"
        return self._call(
            "PATCH",
            path,
            CampaignAuthority.from_wire,
            json={"authority": dict(authority)},
            idempotency_key=idempotency_key,
        )

    def defaults_get(self, *, project_id, platform) -> LayerDefaults:
        path = f"{self._ads(project_id)}/{platform_to_path(platform)}/defaults"
        return self._call("GET", path, LayerDefaults.from_wire)

    def defaults_update(
        self, *, project_id, platform, defaults: dict, idempotency_key
    ) -> LayerDefaults:
        path = f"{self._ads(project_id)}/{platform_to_path(platform)}/defaults"
        return self._call(
            "PATCH",
            path,
            LayerDefaults.from_wire,
            json={"defaults": dict(defaults)},
            idempotency_key=idempotency_key,
        )
