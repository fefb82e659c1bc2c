"""Campaigns, read: the list with each campaign's authority block, one campaign's row, and
the campaign page.

Changing an existing campaign is in campaign_writes.py, creating one in campaign_create.py,
following a write's job in jobs.py; what every write shares is in writes.py."""

from dataclasses import dataclass, field

from django.http import Http404

from dashboard.layers import PLATFORMS, LayersError
from dashboard.models import Role
from dashboard.money import currency_label, money_example, money_locale
from dashboard.services import access, pending
from dashboard.services.optimizer import optimizer_recent_runs
from dashboard.services.projects import (
    accounts_get,
    campaigns_get,
    defaults_reader,
    project_get,
    project_platforms,
)
from dashboard.services.upstream import cached_read, fan_out, layers
from dashboard.services.writes import (
    Outcome,
    consent_missing,
    new_key,
)
from dashboard.wording import platform_name

AXES = ("creative", "tactical", "structural")
MODES = ("off", "draft", "auto")
STATUSES = ("active", "paused", "archived", "deleted", "in_review", "rejected")
WRITES = ("budget", "pause", "resume", "delete")


@dataclass(frozen=True)
class Filters:
    platform: str = ""
    status: str = ""

    @classmethod
    def from_query(cls, query) -> "Filters":
        platform = (query.get("platform") or "").strip()
        status = (query.get("status") or "").strip()
        return cls(
            platform=platform if platform in PLATFORMS else "",
            status=status if status in STATUSES else "",
        )


@dataclass(frozen=True)
class AuthorityBlock:
    """One campaign's three axes as the gate sees them now."""

    values: dict  # axis -> mode
    source: str  # per_campaign | layer_defaults
    from_defaults: frozenset = frozenset()  # axes whose value is the layer default

    def axes(self):
        return [(axis, self.values.get(axis, "off"), axis in self.from_defaults) for axis in AXES]


@dataclass(frozen=True)
class PlatformPanel:
    platform: str
    defaults: object = None  # LayerDefaults
    consent_missing: bool = False
    error: LayersError | None = None
    run_key: str = field(default_factory=new_key)  # the optimizer forms' idempotency keys
    dry_key: str = field(default_factory=new_key)

    @property
    def kill_switch(self) -> bool:
        return bool(self.defaults and self.defaults.kill_switch_active)

    @property
    def writes_blocked(self) -> bool:
        return self.kill_switch or self.consent_missing

    @property
    def name(self) -> str:
        return platform_name(self.platform)

    @property
    def default_axes(self):
        if not self.defaults:
            return []
        return [(axis, self.defaults.defaults.axis(axis) or "off") for axis in AXES]


@dataclass(frozen=True)
class CampaignRow:
    campaign: object
    account: object  # AdAccount or None
    authority: AuthorityBlock | None
    authority_error: LayersError | None = None
    outcome: Outcome | None = None  # the last authority change's result, shown beside the control
    confirm: tuple | None = None  # (axis, mode) waiting for "yes, auto"
    key: str = field(default_factory=new_key)  # the authority form's idempotency key

    @property
    def currency(self) -> str:
        """The account's ISO code; "" when the account is not known (never a guess)."""
        return (self.account.currency if self.account else None) or ""

    @property
    def platform(self) -> str:
        return self.campaign.platform

    @property
    def external(self) -> bool:
        return not self.campaign.managed_by_layers

    @property
    def deleted(self) -> bool:
        return self.campaign.status == "deleted"


@dataclass(frozen=True)
class CampaignList:
    project: object
    role: str
    rows: tuple
    panels: tuple
    filters: Filters
    errors: tuple = ()
    runs: tuple = ()

    @property
    def locale(self) -> str:
        return money_locale(getattr(self.project, "primary_language", None))

    @property
    def can_write(self) -> bool:
        return access.role_allows(self.role, Role.APPROVER)

    @property
    def platforms(self):
        return tuple(p.platform for p in self.panels)

    def panel(self, platform):
        return next((p for p in self.panels if p.platform == platform), None)


def _ok(value, default):
    return default if isinstance(value, LayersError) else value


def _error(value) -> LayersError | None:
    return value if isinstance(value, LayersError) else None


def _authority_reader(project_id, platform, campaign_id):
    return lambda: cached_read(
        project_id,
        f"authority:{platform}:{campaign_id}",
        lambda: layers().authority_get(
            project_id=project_id, platform=platform, campaign_id=campaign_id
        ),
    )


def authority_block(authority) -> AuthorityBlock | None:
    """CampaignAuthority as an AuthorityBlock."""
    if authority is None:
        return None
    values = {axis: authority.authority.axis(axis) or "off" for axis in AXES}
    source = authority.source or "per_campaign"
    from_defaults = frozenset(AXES) if source == "layer_defaults" else frozenset()
    return AuthorityBlock(values=values, source=source, from_defaults=from_defaults)


def platform_panels(project_id, platforms, results) -> tuple:
    """One panel per platform from the fan-out's `defaults:<platform>` results."""
    return tuple(
        PlatformPanel(
            platform=platform,
            defaults=_ok(results.get(f"defaults:{platform}"), None),
            consent_missing=consent_missing(project_id, platform),
            error=_error(results.get(f"defaults:{platform}")),
        )
        for platform in platforms
    )


def campaign_list(*, user, project_id: str, filters: Filters) -> CampaignList:
    role = access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    platforms = project_platforms(project)
    calls = {
        "accounts": lambda: accounts_get(project_id),
        "campaigns": lambda: campaigns_get(project_id),
    }
    for platform in platforms:
        calls[f"defaults:{platform}"] = defaults_reader(project_id, platform)
    results = fan_out(calls)
    errors = [r for r in results.values() if isinstance(r, LayersError)]
    accounts = {a.ad_account_id: a for a in _ok(results["accounts"], [])}
    campaigns = [
        c
        for c in _ok(results["campaigns"], [])
        if (not filters.platform or c.platform == filters.platform)
        and (not filters.status or c.status == filters.status)
    ]
    campaigns.sort(
        key=lambda c: (
            c.status == "deleted",
            PLATFORMS.index(c.platform) if c.platform in PLATFORMS else 9,
            c.name.lower(),
        )
    )
    authorities = fan_out(
        {
            c.campaign_id: _authority_reader(project_id, c.platform, c.campaign_id)
            for c in campaigns
            if c.status != "deleted"
        }
    )
    rows = []
    for c in campaigns:
        found = authorities.get(c.campaign_id)
        rows.append(
            CampaignRow(
                campaign=c,
                account=accounts.get(c.ad_account_id),
                authority=authority_block(_ok(found, None)),
                authority_error=_error(found),
            )
        )
    return CampaignList(
        project=project,
        role=role,
        rows=tuple(rows),
        panels=platform_panels(project_id, platforms, results),
        filters=filters,
        errors=tuple(dict.fromkeys(errors)),
        runs=tuple(optimizer_recent_runs(project_id=project_id)),
    )


def _row_reads(project_id, platform, campaign_id) -> dict:
    return {
        "campaign": lambda: layers().campaign_get(
            project_id=project_id, platform=platform, campaign_id=campaign_id
        ),
        "authority": _authority_reader(project_id, platform, campaign_id),
        "accounts": lambda: accounts_get(project_id),
    }


def _row_from(results, **extra) -> CampaignRow:
    campaign = results["campaign"]
    if isinstance(campaign, LayersError):
        raise campaign  # the middleware turns it into a sentence page (404 for an unknown id)
    account = next(
        (a for a in _ok(results["accounts"], []) if a.ad_account_id == campaign.ad_account_id), None
    )
    found = results["authority"]
    return CampaignRow(
        campaign=campaign,
        account=account,
        authority=authority_block(_ok(found, None)),
        authority_error=_error(found),
        **extra,
    )


def campaign_may_write(*, user, project_id: str) -> bool:
    """Whether the person may change campaigns on the project now (approver or admin)."""
    return access.role_allows(access.role_get(user=user, project_id=project_id), Role.APPROVER)


def campaign_row(*, user, project_id: str, platform: str, campaign_id: str, **extra) -> CampaignRow:
    """One campaign's row (for the fragment an authority change returns)."""
    access.access_require(user=user, project_id=project_id)
    return _row_from(fan_out(_row_reads(project_id, platform, campaign_id)), **extra)


@dataclass(frozen=True)
class CampaignPage:
    project: object
    role: str
    row: CampaignRow
    panel: PlatformPanel
    queue: object  # pending.Queue filtered to this campaign
    audit: tuple = ()
    errors: tuple = ()
    keys: dict = field(default_factory=dict)  # form -> idempotency key
    outcome: Outcome | None = None
    confirm: str = ""  # "delete" while waiting for the second click
    typed: dict = field(default_factory=dict)

    @property
    def locale(self) -> str:
        return money_locale(getattr(self.project, "primary_language", None))

    @property
    def budget_label(self) -> str:
        """ "Japanese yen (¥)": the currency a typed budget is read in."""
        return currency_label(self.row.currency, locale=self.locale)

    @property
    def budget_example(self) -> str:
        return money_example(self.row.currency, locale=self.locale)

    @property
    def can_write(self) -> bool:
        return access.role_allows(self.role, Role.APPROVER)

    @property
    def campaign(self):
        return self.row.campaign

    @property
    def panels(self):
        return (self.panel,)

    @property
    def lifetime_budget(self) -> bool:
        """The budget form is for a lifetime budget: the campaign has one (and no daily
        one), or the person just tried to set one."""
        if self.typed.get("action") == "budget":
            return self.typed.get("budget_kind") == "lifetime"
        c = self.campaign
        return c.lifetime_budget_cents is not None and c.daily_budget_cents is None


def campaign_page(
    *, user, project_id: str, platform: str, campaign_id: str, **extra
) -> CampaignPage:
    role = access.access_require(user=user, project_id=project_id)
    if platform not in PLATFORMS:
        raise Http404("There is no such ad platform.")
    project = project_get(user=user, project_id=project_id)
    calls = _row_reads(project_id, platform, campaign_id)
    calls[f"defaults:{platform}"] = defaults_reader(project_id, platform)
    calls["audit"] = lambda: cached_read(
        project_id,
        "recent-audit",
        lambda: layers().audit_log_list(project_id=project_id, limit=50),
    )
    results = fan_out(calls)
    row = _row_from(results)
    errors = [r for r in results.values() if isinstance(r, LayersError)]
    queue = pending.pending_queue(
        user=user,
        project_id=project_id,
        filters=pending.QueueFilters(platform=platform, campaign=campaign_id),
    )
    recent = _ok(results["audit"], None)
    audit = tuple(e for e in (recent.items if recent else ()) if e.entity_id == campaign_id)[:10]
    keys = {name: new_key() for name in WRITES}
    keys.update(extra.pop("keys", {}))
    return CampaignPage(
        project=project,
        role=role,
        row=row,
        panel=platform_panels(project_id, [platform], results)[0],
        queue=queue,
        audit=audit,
        errors=tuple(dict.fromkeys(errors)),
        keys=keys,
        **extra,
    )
