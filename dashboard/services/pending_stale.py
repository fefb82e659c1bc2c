"""The three-way stale check at decision time.

A row shows the campaign's value as the reviewer's page knew it (the proposal's own
"current" value, or the campaign's value from the shared list when that moved on); the
approve form carries that value back. At approve time the campaign is read once, on its
own (no cache), and compared: if it moved since the reviewer looked, nothing is sent and
the row shows the three values side by side (what they saw, what it is now, what the
proposal sets) with the same form, now carrying the new value, to approve again.

Only campaign-level values can be read back on their own (`GET …/campaigns/:id`, §4.6);
adsets, ads and creatives have no single read in the contract, so their rows carry
nothing to check."""

import json
from dataclasses import dataclass

from dashboard.money import DEFAULT_LOCALE, cents_format
from dashboard.services.upstream import layers
from dashboard.wording import status_words

# Proposal fields a campaign read gives back: wire key -> Campaign attribute.
CHECKED = {
    "dailyBudgetCents": "daily_budget_cents",
    "lifetimeBudgetCents": "lifetime_budget_cents",
    "status": "status",
}
LABELS = {"dailyBudgetCents": "Daily budget", "lifetimeBudgetCents": "Lifetime budget"}


@dataclass(frozen=True)
class Moved:
    """One field that changed since the reviewer looked."""

    label: str
    seen: str
    now: str
    proposed: str


def checked_keys(action) -> list[str]:
    if action.entity_type != "campaign" or action.status != "pending":
        return []
    return [key for key in CHECKED if key in (action.current_value or {})]


def seen_values(action, campaign) -> dict:
    """What the row shows as the campaign's value now, for the fields a read can check:
    the campaign's own value when the list has it, else what the proposal assumed."""
    values = {}
    for key in checked_keys(action):
        if campaign is not None:
            values[key] = getattr(campaign, CHECKED[key])
        else:
            values[key] = action.current_value.get(key)
    return values


def seen_dump(values: dict) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":")) if values else ""


def seen_parse(text: str | None) -> dict:
    """The form's values, kept only where they are a checked field with a plain value; a
    missing or hand-made field gives {} (nothing to compare, nothing refused)."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        key: value
        for key, value in data.items()
        if key in CHECKED
        and (value is None or isinstance(value, (int, str)))
        and not isinstance(value, bool)
    }


def stale_check(
    *, project_id: str, action, seen: dict, currency: str, locale: str = DEFAULT_LOCALE
) -> tuple[tuple, dict]:
    """(the fields that moved since the reviewer looked, the campaign's values now), with
    one read of the campaign. Raises LayersError when it cannot be read."""
    keys = [key for key in checked_keys(action) if key in seen]
    if not keys:
        return (), {}
    campaign = layers().campaign_get(
        project_id=project_id, platform=action.platform, campaign_id=action.entity_id
    )
    now = {key: getattr(campaign, CHECKED[key]) for key in keys}
    moved = tuple(
        Moved(
            label=LABELS.get(key, key.capitalize()),
            seen=_shown(key, seen[key], currency, locale),
            now=_shown(key, now[key], currency, locale),
            proposed=_shown(key, (action.new_value or {}).get(key), currency, locale),
        )
        for key in keys
        if now[key] != seen[key]
    )
    return moved, now


def _shown(key: str, value, currency: str, locale: str) -> str:
    if value is None:
        return "—"
    if key.endswith("Cents") and isinstance(value, int):
        return cents_format(value, currency, locale=locale)
    return status_words(str(value)) if key == "status" else str(value)
