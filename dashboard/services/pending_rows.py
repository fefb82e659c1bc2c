"""One row of the pending-actions queue: the proposal's fields side by side in the
account's currency, the size of its money change, whether the campaign has moved on since
it was proposed, and its creative links (http(s) only)."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from dashboard import values
from dashboard.money import DEFAULT_LOCALE, cents_format
from dashboard.services.pending_stale import seen_dump, seen_values
from dashboard.services.projects import accounts_get, campaigns_get, project_locale


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

    def __init__(self, *, accounts, campaigns, locale=DEFAULT_LOCALE):
        self.locale = locale
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
    """One row on its own (after a decision), with the project's shared cached reads."""
    context = RowContext(
        accounts=accounts_get(project_id),
        campaigns=campaigns_get(project_id),
        locale=project_locale(project_id),
    )
    return context.row(action, **extra)


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
    for key in dict.fromkeys([*current, *new]):
        before, after = current.get(key), new.get(key)
        if key.endswith("Cents") and isinstance(before, int) and isinstance(after, int):
            percent = round((after - before) * 100 / before, 1) if before else None
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
