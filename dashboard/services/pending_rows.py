"""One row of the pending-actions queue: the proposal's fields side by side in the
account's currency, the size of its money change, whether the campaign has moved on since
it was proposed, its creative links (http(s) only), and the campaign's authority on all
three axes with the one that gates the action marked."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard import values
from dashboard.layers import LayersError
from dashboard.layers.records import AXES
from dashboard.money import DEFAULT_LOCALE, cents_format, change_percent
from dashboard.services.pending_stale import seen_dump, seen_values
from dashboard.services.projects import (
    accounts_get,
    campaigns_get,
    defaults_reader,
    project_locale,
)
from dashboard.services.upstream import cached_read, fan_out, layers


@dataclass(frozen=True)
class AuthorityMatrix:
    """The campaign's mode on each axis (off | draft | auto; "" when not known), the axis
    that gates the action, where the modes come from, and where to change them."""

    values: dict
    gating: str | None = None
    source: str = ""  # per_campaign | layer_defaults | "" (not said)
    change_url: str = ""
    for_campaign: bool = True  # False: a layer's defaults (an action creating a campaign)

    @property
    def cells(self) -> list[tuple[str, str, bool]]:
        """(axis, mode, is the axis gating this action), in the usual axis order."""
        return [(axis, self.values.get(axis) or "", axis == self.gating) for axis in AXES]

    @property
    def gating_mode(self) -> str:
        return self.values.get(self.gating or "") or ""


@dataclass(frozen=True)
class Change:
    """One field of the proposal: what it is now and what the optimizer wants."""

    label: str
    current: str
    new: str
    percent: float | None = None
    delta: str = ""  # a list's change in words: "+ Canada, − United States"
    current_raw: str = ""  # the raw JSON, when the words are not the value itself
    new_raw: str = ""
    current_thumb: str = ""  # a creative's https thumbnail
    new_thumb: str = ""


@dataclass(frozen=True)
class QueueRow:
    action: object  # PendingAction
    currency: str
    campaign_id: str | None
    changes: tuple[Change, ...]
    money_delta_cents: int = 0  # size of the money change, for sorting
    budget_change_cents: int = 0  # signed budget change, for the selection's exposure
    stale_now: str | None = None  # the entity's value now, when it differs from the proposal's
    links: tuple[str, ...] = ()  # http(s) creative URLs found in the detail
    conflict: str | None = None  # a sentence when someone else decided first
    seen: dict = field(default_factory=dict)  # the campaign's values as shown (stale check)
    moved: tuple = ()  # pending_stale.Moved: what changed since the reviewer looked
    typed: dict = field(default_factory=dict)  # what the person typed, kept after a failure
    # Each decision form owns a key from the moment it is rendered, so a double click, a
    # retry or a resubmitted form never decides twice.
    approve_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    reject_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    locale: str = DEFAULT_LOCALE  # the project's, for money (dashboard.money)
    authority: AuthorityMatrix | None = None  # None when it could not be read
    arrived_at: object = None  # when the mirror first stored it (None: read from Layers)

    @property
    def expires_soon(self) -> bool:
        expires = self.action.expires_at
        return bool(
            expires
            and self.action.status == "pending"
            and expires - timezone.now() < timedelta(hours=24)
        )

    @property
    def seen_json(self) -> str:
        return seen_dump(self.seen)

    @property
    def detail_json(self) -> str:
        return json.dumps(self.action.detail, indent=2, sort_keys=True, ensure_ascii=False)


def campaign_of(action) -> str | None:
    """The campaign an action concerns: itself, or the campaign named in its detail."""
    if action.entity_type == "campaign":
        return action.entity_id
    detail_campaign = (action.detail or {}).get("campaignId")
    return detail_campaign if isinstance(detail_campaign, str) else None


class RowContext:
    """What a row needs beyond the action: currencies and the campaigns' values now."""

    def __init__(
        self, *, accounts, campaigns, locale=DEFAULT_LOCALE, authorities=None, project_id=""
    ):
        """`authorities` (from row_authorities) adds each row's authority matrix."""
        self.locale = locale
        self.project_id = project_id
        self.authorities = authorities or {}
        self.currency_by_account = {a.ad_account_id: a.currency for a in accounts}
        currencies = {}  # platform -> its accounts' currencies
        for a in accounts:
            currencies.setdefault(a.platform, set()).add(a.currency)
        # Without the campaign, a platform's currency is known only when all its accounts
        # share one (a yen account beside a pound one must not be guessed).
        self.currency_by_platform = {p: c.pop() for p, c in currencies.items() if len(c) == 1}
        self.campaigns = {c.campaign_id: c for c in campaigns}

    def currency(self, action) -> str:
        campaign = self.campaigns.get(campaign_of(action) or "")
        account_id = campaign.ad_account_id if campaign is not None else _account_of(action)
        if account_id in self.currency_by_account:
            return self.currency_by_account[account_id] or ""
        return self.currency_by_platform.get(action.platform) or ""

    def row(self, action, **extra) -> QueueRow:
        currency = self.currency(action)
        changes, delta, signed = _changes(action, currency, self.locale)
        if "seen" not in extra:
            extra["seen"] = seen_values(action, self.campaigns.get(action.entity_id or ""))
        if "authority" not in extra:
            extra["authority"] = self.matrix(action)
        return QueueRow(
            action=action,
            currency=currency,
            campaign_id=campaign_of(action),
            changes=changes,
            money_delta_cents=delta,
            budget_change_cents=signed,
            stale_now=self.stale(action, currency),
            links=tuple(_http_links(action.detail)),
            locale=self.locale,
            **extra,
        )

    def matrix(self, action) -> AuthorityMatrix | None:
        """The campaign's authority (GET …/authority, contract §4.6), or for an action on
        no known campaign (a campaign to create) the platform layer's defaults."""
        campaign_id = campaign_of(action) or ""
        platform = action.platform or ""
        found = self.authorities.get(("campaign", campaign_id)) if campaign_id else None
        if found is not None and campaign_id in self.campaigns:
            url = reverse("campaign", args=[self.project_id, platform, campaign_id])
            return AuthorityMatrix(
                values=found.authority.values,
                gating=action.axis,
                source=found.source or "",
                change_url=f"{url}#authority-{campaign_id}",
            )
        defaults = self.authorities.get(("layer", platform))
        if defaults is None or action.action_type != "create_campaign":
            return None  # a campaign not read: no matrix rather than a guess
        return AuthorityMatrix(
            values=defaults.defaults.values,
            gating=action.axis,
            source="layer_defaults",
            change_url=f"{reverse('campaigns', args=[self.project_id])}?platform={platform}",
            for_campaign=False,
        )

    def stale(self, action, currency) -> str | None:
        """The campaign's value now, when it no longer matches what the proposal assumed."""
        if action.entity_type != "campaign" or action.status != "pending":
            return None
        campaign = self.campaigns.get(action.entity_id)
        if campaign is None:
            return None
        assumed = action.current_value or {}
        if (
            "dailyBudgetCents" in assumed
            and assumed["dailyBudgetCents"] != campaign.daily_budget_cents
        ):
            now = cents_format(campaign.daily_budget_cents, currency, locale=self.locale)
            return f"daily budget is {now} now"
        if "status" in assumed and assumed["status"] != campaign.status:
            return f"status is {campaign.status} now"
        return None


def queue_row(project_id: str, action, **extra) -> QueueRow:
    """One row on its own (after a decision), with the project's shared cached reads; when
    Layers cannot be read, from the mirror if it knows the project (the row, and what the
    person typed in it, are never lost to a failed read)."""
    try:
        campaigns = campaigns_get(project_id)
        accounts = accounts_get(project_id)
    except LayersError:
        from dashboard.models import MirrorProject
        from dashboard.services.pending_mirror import MirrorQueueContext

        if not MirrorProject.objects.filter(pk=project_id, details_read_at__isnull=False).exists():
            raise
        mirrored = MirrorQueueContext(project_id, campaign_ids={campaign_of(action)})
        return mirrored.row(action, **extra)
    context = RowContext(
        accounts=accounts,
        campaigns=campaigns,
        locale=project_locale(project_id),
        authorities=row_authorities(project_id, [action], campaigns),
        project_id=project_id,
    )
    return context.row(action, **extra)


def row_authorities(project_id: str, actions, campaigns) -> dict:
    """The authority the rows' matrices need, read at once and cached (shared with the
    campaigns page): ("campaign", id) → CampaignAuthority for each campaign named, and
    ("layer", platform) → LayerDefaults for actions on no known campaign. A read that
    fails is left out: its rows show no matrix rather than a guess."""
    known = {c.campaign_id: c for c in campaigns}
    calls = {}
    for action in actions:
        campaign_id = campaign_of(action) or ""
        campaign = known.get(campaign_id)
        if campaign is not None and campaign.status != "deleted" and campaign.platform:
            calls[("campaign", campaign_id)] = _authority_reader(
                project_id, campaign.platform, campaign_id
            )
        elif action.action_type == "create_campaign" and action.platform:
            calls[("layer", action.platform)] = defaults_reader(project_id, action.platform)
    if not calls:
        return {}
    return {k: v for k, v in fan_out(calls).items() if not isinstance(v, LayersError)}


def _authority_reader(project_id, platform, campaign_id):
    """The same cached read as the campaigns page's (services.campaigns)."""
    return lambda: cached_read(
        project_id,
        f"authority:{platform}:{campaign_id}",
        lambda: layers().authority_get(
            project_id=project_id, platform=platform, campaign_id=campaign_id
        ),
    )


def rows_sorted(rows, sort: str) -> list:
    if sort == "expiring":
        far = timezone.now() + timedelta(days=3650)
        return sorted(rows, key=lambda r: r.action.expires_at or far)
    if sort == "money":
        return sorted(rows, key=lambda r: r.money_delta_cents, reverse=True)
    epoch = timezone.now() - timedelta(days=3650)
    return sorted(rows, key=lambda r: r.action.created_at or epoch, reverse=True)


def _account_of(action) -> str | None:
    """The ad account a proposal names in its detail (a campaign creation names one)."""
    detail = action.detail if isinstance(action.detail, dict) else {}
    inner = detail.get("campaign") if isinstance(detail.get("campaign"), dict) else detail
    account_id = inner.get("adAccountId")
    return account_id if isinstance(account_id, str) else None


def _changes(action, currency, locale) -> tuple[tuple[Change, ...], int, int]:
    """The fields side by side, in words, the size of the money change and its signed
    amount."""
    current, new = action.current_value or {}, action.new_value or {}
    creatives = values.creatives_from(action.detail)
    changes, delta, signed = [], 0, 0
    for key in values.in_field_order([*current, *new]):
        before, after = current.get(key), new.get(key)
        if key.endswith("Cents") and isinstance(before, int) and isinstance(after, int):
            percent = change_percent(before, after)
            delta += abs(after - before)
            signed += after - before
            changes.append(
                Change(
                    values.label(key),
                    cents_format(before, currency, locale=locale),
                    cents_format(after, currency, locale=locale),
                    percent,
                )
            )
            continue
        if key.endswith("Cents") and _money_or_none(before) and _money_or_none(after):
            # one side only (a new campaign's budget): money all the same, no percentage
            changes.append(
                Change(
                    values.label(key),
                    cents_format(before, currency, locale=locale),
                    cents_format(after, currency, locale=locale),
                )
            )
            continue
        was = values.shown(key, before, creatives=creatives)
        now = values.shown(key, after, creatives=creatives)
        changes.append(
            Change(
                values.label(key),
                was.text,
                now.text,
                delta=values.delta(key, before, after, creatives=creatives),
                current_raw=was.raw,
                new_raw=now.raw,
                current_thumb=was.thumb,
                new_thumb=now.thumb,
            )
        )
    return tuple(changes), delta, signed


def _money_or_none(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _http_links(detail, depth=0):
    """Creative URLs in the detail, only when they are http(s)."""
    if depth > 4:
        return
    if isinstance(detail, dict):
        items = detail.values()
    elif isinstance(detail, list):
        items = detail
    else:
        return
    for value in items:
        if (
            isinstance(value, str)
            and value.lower().startswith(("https://", "http://"))
            and len(value) < 2048
        ):
            yield value
        elif isinstance(value, (dict, list)):
            yield from _http_links(value, depth + 1)
