"""Writes to an existing campaign: its authority axes, its daily budget, pause, resume
and delete. Each is sent under its form's idempotency key, recorded, and answered with an
Outcome (see writes.py); the row or page then shows the real values, never assumed ones."""

import dataclasses

from dashboard.layers import PLATFORMS, LayersError
from dashboard.money import DEFAULT_LOCALE, cents_format, money_parse, money_words
from dashboard.services import access
from dashboard.services.campaigns import (
    AXES,
    MODES,
    WRITES,
    CampaignRow,
    authority_block,
    campaign_row,
)
from dashboard.services.jobs import job_remember_campaign
from dashboard.services.mirror import mirror_mark_dirty
from dashboard.services.mirror_campaigns import mirror_authority_written, mirror_campaign_written
from dashboard.services.projects import accounts_get, campaigns_get, project_locale
from dashboard.services.upstream import layers, project_cache_bump
from dashboard.services.writes import (
    Outcome,
    consent_note,
    decision_record,
    key_clean,
    new_key,
    outcome_record,
    refused,
    write_outcome,
)


def campaign_authority_set(
    *,
    user,
    project_id: str,
    platform: str,
    campaign_id: str,
    wanted: dict,
    confirmed: bool,
    idempotency_key: str,
) -> CampaignRow:
    """Sets the axes that differ from the real values now. Raising any axis to auto asks
    first; a refusal leaves the real values in place and says why beside the control."""
    access.access_require(user=user, project_id=project_id, action="write")
    key = key_clean(idempotency_key)
    row = campaign_row(
        user=user, project_id=project_id, platform=platform, campaign_id=campaign_id, key=key
    )
    wanted = {axis: mode for axis, mode in (wanted or {}).items() if axis in AXES}
    if platform not in PLATFORMS or any(mode not in MODES for mode in wanted.values()):
        bad = Outcome("invalid", "Choose off, draft or auto for each axis.", platform=platform)
        return dataclasses.replace(row, outcome=bad)
    current = row.authority.values if row.authority else {}
    changes = {axis: mode for axis, mode in wanted.items() if current.get(axis) != mode}
    if not changes:
        same = Outcome(
            "same", "Nothing to change: the authority is already set that way.", platform=platform
        )
        return dataclasses.replace(row, outcome=same if wanted else None, key=new_key())
    raised = [axis for axis, mode in changes.items() if mode == "auto"]
    if raised and not confirmed:
        ask = Outcome(
            "confirm",
            f"Auto lets {_and(raised)} changes reach the platform unreviewed. Confirm?",
            platform=platform,
        )
        return dataclasses.replace(row, outcome=ask, confirm=tuple(sorted(changes.items())))
    note = ", ".join(
        f"{axis}: {current.get(axis, '?')} -> {mode}" for axis, mode in changes.items()
    )
    record = decision_record(
        user=user,
        project_id=project_id,
        platform=platform,
        action="authority",
        entity_id=campaign_id,
        key=key,
        note=note,
    )
    try:
        result = layers().authority_update(
            project_id=project_id,
            platform=platform,
            campaign_id=campaign_id,
            authority=changes,
            idempotency_key=key,
        )
    except LayersError as error:
        outcome = outcome_record(record, refused(error, project_id=project_id, platform=platform))
        project_cache_bump(project_id)  # the real value is read again, never assumed
        fresh = campaign_row(
            user=user, project_id=project_id, platform=platform, campaign_id=campaign_id
        )
        keep = key if outcome.kind == "error" else new_key()  # a retry after a timeout reuses it
        return dataclasses.replace(fresh, outcome=outcome, key=keep)
    consent_note(project_id, platform, None)
    mirror_authority_written(project_id, platform, campaign_id, result)  # the queue's matrix
    done = ", ".join(
        f"{axis} is now {result.authority.axis(axis) or mode}" for axis, mode in changes.items()
    )
    outcome = outcome_record(
        record,
        Outcome(
            "applied", f"Saved: {done}.", verdict_id=result.verdict_id or "", platform=platform
        ),
    )
    project_cache_bump(project_id)
    return dataclasses.replace(
        row,
        authority=authority_block(result) or row.authority,
        outcome=outcome,
        confirm=None,
        key=new_key(),
    )


def _and(words) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


WRITE_SENTENCES = {  # action -> (applied, queued); {money} is the new budget
    "budget": (
        "Daily budget set to {money}.",
        "The new daily budget of {money} is queued for approval.",
    ),
    "lifetime": (
        "Lifetime budget set to {money}.",
        "The new lifetime budget of {money} is queued for approval.",
    ),
    "pause": ("Paused.", "Pausing is queued for approval."),
    "resume": ("Resumed.", "Resuming is queued for approval."),
    "delete": ("Deleted.", "Deleting is queued for approval."),
}


def campaign_write(
    *,
    user,
    project_id: str,
    platform: str,
    campaign_id: str,
    action: str,
    amount: str = "",
    budget_kind: str = "daily",
    confirmed: bool = False,
    idempotency_key: str,
) -> tuple[Outcome, dict]:
    """Budget (`budget_kind` daily or lifetime), pause, resume or delete. Returns the outcome
    and what the person typed."""
    access.access_require(user=user, project_id=project_id, action="write")
    key = key_clean(idempotency_key)
    lifetime = budget_kind == "lifetime"
    typed = {"amount": (amount or "").strip()[:40], "budget_kind": "lifetime" if lifetime else ""}
    if action not in WRITES or platform not in PLATFORMS:
        return Outcome(
            "invalid", "That change could not be understood; reload the page.", platform=platform
        ), typed
    cents, currency, locale, note = None, "", DEFAULT_LOCALE, ""
    if action == "budget":
        # Typed money is read in the account's currency: a yen "5000" is 5000, not 500000.
        currency = _currency_of(project_id, platform, campaign_id)
        locale = project_locale(project_id)
        if not currency:
            return Outcome(
                "error",
                "Layers did not say which currency this campaign's account uses, so the "
                "amount was not sent. Reload the page and try again.",
                platform=platform,
            ), typed
        try:
            cents = money_parse(amount, currency, locale=locale)
        except ValueError as error:
            return Outcome("invalid", str(error), platform=platform), typed
        note = cents_format(cents, currency, locale=locale)
    if action == "delete" and not confirmed:
        return Outcome(
            "confirm",
            "Delete this campaign? It stops spending and cannot be restarted from here.",
            platform=platform,
        ), typed
    if action == "budget" and lifetime:
        note = f"lifetime {note}"
    record = decision_record(
        user=user,
        project_id=project_id,
        platform=platform,
        action=action,
        entity_id=campaign_id,
        key=key,
        note=note,
        amount=cents,
        currency=currency,
    )
    client = layers()
    ids = dict(
        project_id=project_id, platform=platform, campaign_id=campaign_id, idempotency_key=key
    )
    try:
        if action == "budget" and lifetime:
            result = client.campaign_budget_update(lifetime_budget_cents=cents, **ids)
        elif action == "budget":
            result = client.campaign_budget_update(daily_budget_cents=cents, **ids)
        elif action == "pause":
            result = client.campaign_pause(**ids)
        elif action == "resume":
            result = client.campaign_resume(**ids)
        else:
            result = client.campaign_delete(**ids)
    except LayersError as error:
        outcome = refused(error, project_id=project_id, platform=platform)
        if outcome.kind == "invalid" and action == "budget":  # "at least 100 cents": ¥100
            outcome = dataclasses.replace(
                outcome, sentence=money_words(outcome.sentence, currency, locale=locale)
            )
        return outcome_record(record, outcome), typed
    consent_note(project_id, platform, None)
    project_cache_bump(project_id)
    sentences = WRITE_SENTENCES["lifetime" if action == "budget" and lifetime else action]
    money = note.removeprefix("lifetime ")
    applied, queued = (s.format(money=money) for s in sentences)
    outcome = write_outcome(result, platform=platform, applied=applied, queued=queued)
    outcome = dataclasses.replace(outcome, campaign_id=outcome.campaign_id or campaign_id)
    job_remember_campaign(
        project_id=project_id, job_id=outcome.job_id, campaign_id=campaign_id, platform=platform
    )
    _mirror_note(project_id, platform, campaign_id, action, outcome, cents, lifetime)
    return outcome_record(record, outcome), {}


MIRRORED_STATUS = {"pause": "paused", "resume": "active", "delete": "deleted"}


def _mirror_note(project_id, platform, campaign_id, action, outcome, cents, lifetime) -> None:
    """The mirror learns a write at once: an applied one changes the mirrored campaign (the
    queue's "moved since" hint reads it); a queued one is a new pending action, so the
    platform's list is read again. The campaign list is read again soon either way."""
    fields = {}
    if outcome.kind == "applied":
        if action == "budget" and not lifetime:
            fields["daily_budget_cents"] = cents
        elif action in MIRRORED_STATUS:
            fields["status"] = MIRRORED_STATUS[action]
    mirror_campaign_written(project_id, campaign_id, **fields)
    if outcome.kind == "queued":
        mirror_mark_dirty(project_id, platform)


def _currency_of(project_id, platform, campaign_id) -> str:
    """The currency of the campaign's ad account, or "" when Layers cannot say: a budget is
    never read in a guessed currency."""
    try:
        campaign = next(
            (c for c in campaigns_get(project_id) if c.campaign_id == campaign_id), None
        ) or layers().campaign_get(
            project_id=project_id, platform=platform, campaign_id=campaign_id
        )  # newer than the shared list
        accounts = accounts_get(project_id)
    except LayersError:
        return ""
    account_id = getattr(campaign, "ad_account_id", None)
    return next((a.currency or "" for a in accounts if a.ad_account_id == account_id), "")
