"""What the optimizer proposes: one realistic, deterministic proposal of a kind of action on
a campaign (`propose`), and one the guardrails let through (`propose_within_guardrails`)."""

import random
from datetime import timedelta

from . import clock
from .models import Campaign

OPTIMIZER_ACTIONS = [
    "update_budget",
    "pause_ad",
    "pause_adset",
    "push_creative",
    "replace_creative",
    "prune_creative",
    "update_targeting",
    "update_schedule",
]
# The guardrail's "$100 absolute" budget move (contract §2.8) in each currency's minor unit,
# at a rough fixed rate [I]: the docs give dollars only.
MAX_BUDGET_MOVE = {"USD": 10_000, "EUR": 9_000, "GBP": 8_000, "JPY": 15_000, "KRW": 140_000}


def _child_id(prefix, rng) -> str:
    return f"{prefix}_{clock.ulid(rand=rng.getrandbits(80).to_bytes(10, 'big'))}"


def propose(campaign: Campaign, action_type: str, rng: random.Random, now=None) -> dict:
    """One realistic, deterministic (for a given rng) optimizer proposal on a campaign."""
    now = now or clock.now()
    audience = rng.choice(["Broad 25-44", "Lookalike 1%", "Retargeting 30d", "Interests: outdoors"])
    adset_name = f"{campaign.name} — {audience}"
    ad_name = f"{adset_name} — {rng.choice(['UGC video', 'Carousel', 'Static v3', 'Story 9:16'])}"
    content = _child_id("adc", rng)
    creative = {
        "adsContentId": content,
        "caption": rng.choice(
            [
                "Fresh roast, delivered before your alarm.",
                "Built for the trail, priced for the weekend.",
                "Level 40 is waiting. Play free today.",
            ]
        ),
        "creativeUrl": f"https://cdn.layers.example/creatives/{content}.mp4",
    }
    entity = {"entityType": "adset", "entityId": _child_id("adg", rng), "entityName": adset_name}
    detail = {"campaignId": campaign.id}
    guardrail = None
    if action_type == "update_budget":
        # A lifetime-budget campaign gets a lifetime proposal: never a daily/lifetime switch.
        lifetime = campaign.daily_budget_cents is None and campaign.lifetime_budget_cents
        kind, field = (
            ("lifetime", "lifetimeBudgetCents") if lifetime else ("daily", "dailyBudgetCents")
        )
        current = (
            campaign.lifetime_budget_cents if lifetime else campaign.daily_budget_cents
        ) or 5000
        pct = rng.choice([15, 20, 25, 30, 60])
        new = int(round(current * (1 + pct / 100) / 100) * 100)
        if pct > 50 or new - current > MAX_BUDGET_MOVE.get(_currency(campaign), 10_000):
            guardrail = "guardrail_max_budget_move"
        entity = {"entityType": "campaign", "entityId": campaign.id, "entityName": campaign.name}
        values = ({field: current}, {field: new})
        detail.update(platformField=f"{kind}_budget", value=new)
        why = (
            f"CPA is {rng.randint(12, 31)}% under target for 5 days; raise {kind} budget by {pct}%."
        )
    elif action_type in ("pause_ad", "pause_adset"):
        if action_type == "pause_ad":
            entity = {"entityType": "ad", "entityId": _child_id("ad", rng), "entityName": ad_name}
        values = ({"status": "active"}, {"status": "paused"})
        detail.update(platformField="status", value="PAUSED")
        why = (
            f"CTR fell {rng.randint(30, 55)}% over 7 days after {rng.randint(9, 40)}k impressions; "
            f"spend ${rng.randint(40, 180)} with {rng.randint(0, 2)} conversions."
        )
    elif action_type == "push_creative":
        entity = {"entityType": "ad", "entityId": _child_id("ad", rng), "entityName": ad_name}
        values = (
            {"adsContentIds": [_child_id("adc", rng)]},
            {"adsContentIds": [_child_id("adc", rng), content]},
        )
        detail.update(creative)
        why = (
            "Only one creative is live in this ad; "
            "add a fresh variant before fatigue sets in (frequency 3.4)."
        )
    elif action_type == "replace_creative":
        entity = {"entityType": "ad", "entityId": _child_id("ad", rng), "entityName": ad_name}
        values = ({"adsContentId": _child_id("adc", rng)}, {"adsContentId": content})
        detail.update(creative)
        why = (
            f"Hook rate dropped to {rng.randint(11, 19)}% (account median 27%); "
            "swap in the newest cut."
        )
    elif action_type == "prune_creative":
        entity = {"entityType": "ad", "entityId": _child_id("ad", rng), "entityName": ad_name}
        values = ({"adsContentId": content}, {"adsContentId": None})
        detail.update(creative)
        why = (
            f"This creative has spent ${rng.randint(25, 90)} "
            f"with a CPA 2.{rng.randint(1, 9)}x the ad's average."
        )
    elif action_type == "update_targeting":
        values = (
            {"geo": ["US"], "age": {"min": 25, "max": 44}},
            {"geo": ["US", "CA"], "age": {"min": 25, "max": 54}},
        )
        detail.update(platformField="targeting", value=values[1])
        why = (
            "45-54 converts at a 19% lower CPA in the breakdown; widen the age band and add Canada."
        )
    else:  # update_schedule
        dayparts = [{"dayOfWeek": d, "startMinute": 360, "endMinute": 1320} for d in range(1, 6)]
        values = ({"dayparts": []}, {"dayparts": dayparts})
        detail.update(platformField="schedule", value=dayparts)
        why = "Conversions between 22:00 and 06:00 cost 2.3x more; run weekdays 06:00–22:00 only."
    if (now - campaign.created_at) < timedelta(days=3):
        guardrail = "guardrail_min_entity_age"
    return {
        "actionType": action_type,
        **entity,
        "currentValue": values[0],
        "newValue": values[1],
        "rationale": why,
        "proposedAction": {"detail": detail},
        "guardrail": guardrail,
    }


def propose_within_guardrails(campaign: Campaign, action_type: str, rng, now) -> dict | None:
    """A proposal the guardrails let through (contract §2.8), as the optimizer would only
    queue those: drawn again while a budget move is too big, then a modest 25% (capped).
    None for a campaign too young for any proposal."""
    for _ in range(8):
        proposal = propose(campaign, action_type, random.Random(rng.random()), now)
        guardrail = proposal.pop("guardrail")
        if guardrail is None:
            return proposal
        if guardrail != "guardrail_max_budget_move":
            return None
    field = next(iter(proposal["currentValue"]))
    current = proposal["currentValue"][field] or 0
    raised = current + min(current // 4, MAX_BUDGET_MOVE.get(_currency(campaign), 10_000))
    proposal["newValue"] = {field: raised}
    proposal["proposedAction"]["detail"]["value"] = raised
    return proposal


def _currency(campaign: Campaign) -> str:
    account = campaign.ad_account if campaign.ad_account_id else None
    return account.currency if account is not None else "USD"
