"""How Layers' identifiers read to people, in one place: platform names, the authority
gate's reasons, the fields of a write and the statuses of an action.

A reason has two sentences that say the same thing: `now` answers a write that was just
refused (what happened and who can change it), `then` explains a verdict in the history
(the verdict page, a notice about a denied write)."""

from dataclasses import dataclass

PLATFORM_NAMES = {"meta": "Meta", "tiktok": "TikTok", "apple": "Apple Ads"}


def platform_name(platform: str | None) -> str:
    """ "tiktok" -> "TikTok"; an unknown platform keeps its own name, in words."""
    value = str(platform or "")
    return PLATFORM_NAMES.get(value, value.replace("_", " ").title())


@dataclass(frozen=True)
class Reason:
    then: str
    now: str = ""  # only for reasons that refuse a write


REASONS = {
    "authority_axis_off": Reason(
        now="The customer has set the {axis} axis to off, so partners cannot make this change.",
        then="The {axis} authority was off, so partners may not make this kind of change.",
    ),
    "kill_switch_active": Reason(
        now=(
            "The customer has frozen all partner writes on {platform} (kill switch). "
            "Only the customer can turn it off."
        ),
        then=(
            "The customer's kill switch was on for {platform}: "
            "every change is refused until the customer turns it off."
        ),
    ),
    "partner_consent_missing": Reason(
        now=(
            "The customer has not yet agreed to partner changes on {platform}. "
            "They switch this on once, in their Layers dashboard."
        ),
        then=(
            "The customer had not yet agreed to partner changes on {platform}; "
            "they switch this on once, in their Layers dashboard."
        ),
    ),
    "partner_escalation_forbidden": Reason(
        now="A partner cannot raise the {axis} axis above what the customer allows.",
        then="A partner cannot give a campaign more {axis} authority than the customer allows.",
    ),
    "authority_axis_draft": Reason(
        then="The {axis} authority was draft, so the change needs a person's approval first."
    ),
    "authority_axis_auto": Reason(
        then="The {axis} authority was auto, so the change was applied without review."
    ),
    "approved_by_partner": Reason(then="A person at the partner approved the pending action."),
    "rejected_by_partner": Reason(then="A person at the partner rejected the pending action."),
    "expired": Reason(then="Nobody decided within 7 days, so the action expired."),
}


def reason_sentence(reason, *, axis=None, platform=None, now: bool = False) -> str:
    """The gate's reason code as a sentence a person can act on. With `now`, the sentence for
    a write refused this moment, or "" when there is none (the caller says what Layers said)."""
    reason = str(reason or "")
    known = REASONS.get(reason)
    template = (known.now if now else known.then) if known else ""
    if template:
        return template.format(
            axis=axis or "relevant", platform=platform_name(platform) or "this platform"
        )
    if now:
        return ""
    if reason.startswith("guardrail_"):
        return (
            "Layers' safety guardrail "
            f"({reason.removeprefix('guardrail_').replace('_', ' ')}) stopped it."
        )
    return (reason.replace("_", " ").capitalize() + ".") if reason else "Layers gave no reason."


# The platform's refusals Layers passes on (422 PLATFORM_REJECTED, `details.platformCode`;
# contract §4.8). The codes are the ones our sandbox sends [I]: an unknown one gets a
# general sentence.
PLATFORM_REFUSALS = {
    "budget_type_switch_not_allowed": (
        "{platform} does not let a campaign that has started switch between a daily and a "
        "lifetime budget. Change the amount of the budget it has instead."
    ),
    "lifetime_budget_after_end_time": (
        "The campaign has ended: {platform} does not let its lifetime budget change after its "
        "end time."
    ),
}


def platform_refusal_sentence(code, *, platform=None) -> str:
    name = platform_name(platform) or "The ad platform"
    template = PLATFORM_REFUSALS.get(str(code or ""))
    if template:
        return template.format(platform=name)
    said = f" ({str(code).replace('_', ' ')})" if code else ""
    return f"{name} refused the change{said}."


FIELD_WORDS = {
    "dailyBudgetCents": "The daily budget",
    "lifetimeBudgetCents": "The lifetime budget",
    "adAccountId": "The ad account",
    "endTime": "The end time",
    "startTime": "The start time",
    "campaignManagementMode": "The campaign management mode",
    "creativeMode": "The creative mode",
    "name": "The name",
    "outcome": "The outcome",
}


def field_words(name: str) -> str:
    """A write's wire field as the subject of a sentence: "dailyBudgetCents" -> "The daily
    budget"."""
    return FIELD_WORDS.get(name, f"The field {name}")


def status_words(value) -> str:
    """ "dispatch_failed" -> "dispatch failed"; "job.failed" -> "job failed"."""
    return str(value or "").replace("_", " ").replace(".", " ")
