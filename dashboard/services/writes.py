"""What every write shares: its idempotency key, its DecisionRecord, its Outcome, the
sentence for a refusal, and the customer-consent note.

Every write carries the idempotency key its form was rendered with (a double click or a
resubmitted form writes once), is recorded as a DecisionRecord joined to Layers' verdict,
and comes back as an Outcome saying what really happened: applied, queued for approval,
denied with the gate's reason, or refused before it left (validation)."""

import uuid
from dataclasses import dataclass

from django.core.cache import cache

from dashboard.layers import (
    AuthorityDenied,
    ForbiddenScope,
    LayersBadResponse,
    LayersConnectionError,
    LayersError,
    LayersTimeout,
    PlatformRejected,
    ValidationFailed,
)
from dashboard.models import DecisionRecord
from dashboard.services.jobs import job_remember
from dashboard.wording import (
    field_words,
    platform_refusal_sentence,
    reason_sentence,
    status_words,
)

CONSENT_SECONDS = 6 * 3600


def key_clean(text: str | None) -> str:
    """The form's idempotency key, or a fresh one for a hand-made post."""
    try:
        return str(uuid.UUID(str(text or "")))
    except ValueError:
        return str(uuid.uuid4())


def new_key() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Outcome:
    """What a write did. kind: applied | queued | denied | refused (by the ad platform) |
    invalid | error | confirm | same | unknown (Layers accepted it with a status the dashboard
    does not know)."""

    kind: str
    sentence: str
    verdict_id: str = ""
    job_id: str = ""
    pending_id: str = ""
    campaign_id: str = ""
    platform: str = ""

    @property
    def ok(self) -> bool:
        return self.kind in ("applied", "queued", "same")


def decision_record(
    *, user, project_id, platform, action, entity_id, key, note="", amount=None, currency=""
) -> DecisionRecord:
    """The write's record, made before it is sent; the same key finds the same record. A
    budget keeps its amount (minor units) and currency, for the audit log and its export."""
    record, _ = DecisionRecord.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "user": user,
            "project_id": project_id,
            "platform": platform,
            "action": action,
            "entity_id": entity_id,
            "note": note[:1000],
            "amount_minor": amount,
            "currency": (currency or "")[:3],
        },
    )
    return record


def outcome_record(record: DecisionRecord, outcome: Outcome) -> Outcome:
    """Writes what happened onto the record, and gives the outcome back; a job id Layers
    gave back is recorded under the record's project (the job page answers only there)."""
    job_remember(
        project_id=record.project_id,
        job_id=outcome.job_id,
        campaign_id=outcome.campaign_id,
        platform=outcome.platform,
    )
    record.outcome = outcome.kind
    record.verdict_id = outcome.verdict_id or record.verdict_id
    record.save(update_fields=["outcome", "verdict_id"])
    return outcome


def write_outcome(result, *, platform: str, applied: str, queued: str) -> Outcome:
    """A WriteResult as an Outcome: dispatched = applied, pending = queued for approval."""
    common = dict(
        verdict_id=result.verdict_id or "",
        job_id=result.job_id or "",
        pending_id=result.pending_id or "",
        campaign_id=result.campaign_id or "",
        platform=platform,
    )
    if result.status == "pending":
        return Outcome("queued", queued, **common)
    if result.status in ("dispatched", "running", "completed", "applied"):
        return Outcome("applied", applied, **common)
    # A status this dashboard does not know yet: say what Layers said, never claim "applied".
    said = status_words(result.status) or "nothing about its status"
    return Outcome(
        "unknown",
        f"Layers accepted the request but answered “{said}”, which the dashboard does not "
        "know; check the campaign before changing it again.",
        **common,
    )


def refusal_sentence(error: LayersError, platform: str) -> str:
    """The gate's refusal in words a person acts on."""
    if isinstance(error, ForbiddenScope):
        scope = error.required_scope
        needed = f" (it needs the {scope} scope)" if scope else ""
        return (
            f"The dashboard's Layers key is not allowed to do this{needed}. "
            "Ask Layers to add the scope to the key."
        )
    if isinstance(error, AuthorityDenied):
        sentence = reason_sentence(error.reason, axis=error.axis, platform=platform, now=True)
        if sentence:
            return sentence
    return error.message


def refused(error: LayersError, *, project_id: str, platform: str) -> Outcome:
    """A LayersError as an Outcome; the gate's verdict id is kept for support."""
    consent_note(project_id, platform, error)
    if isinstance(error, (AuthorityDenied, ForbiddenScope)):
        verdict_id = error.verdict_id if isinstance(error, AuthorityDenied) else ""
        return Outcome(
            "denied",
            refusal_sentence(error, platform),
            verdict_id=verdict_id or "",
            platform=platform,
        )
    if isinstance(error, ValidationFailed):
        return Outcome("invalid", fields_sentence(error), platform=platform)
    if isinstance(error, PlatformRejected):
        # The gate let it through and the platform said no: final, so no "try again".
        sentence = platform_refusal_sentence(error.details.get("platformCode"), platform=platform)
        verdict_id = error.details.get("verdictId")
        return Outcome(
            "refused",
            f"{sentence} Nothing was changed.",
            verdict_id=verdict_id if isinstance(verdict_id, str) else "",
            platform=platform,
        )
    if isinstance(error, (LayersTimeout, LayersConnectionError, LayersBadResponse)):
        # The answer was lost or unreadable: Layers may have applied it. The same form carries
        # the same idempotency key, so sending it again can never apply it twice.
        return Outcome(
            "error",
            f"{error.message} Layers may have received it: sending the same form again is safe, "
            "it is never applied twice.",
            platform=platform,
        )
    return Outcome(
        "error",
        f"{error.message} Nothing was changed by this attempt; you can safely try again.",
        platform=platform,
    )


def fields_sentence(error: ValidationFailed) -> str:
    if not error.fields:  # no documented per-field details: Layers' own sentence, if any
        return (error.upstream_message or error.message)[:400]
    return " ".join(f"{field_words(k)} {v}." for k, v in error.fields.items())


# The customer's one-time consent to partner writes has no field to read: it is known only
# after Layers denied a write for it, and forgotten as soon as a write goes through.


def consent_missing(project_id: str, platform: str) -> bool:
    return bool(cache.get(f"consent-missing:{project_id}:{platform}"))


def consent_note(project_id: str, platform: str, error: LayersError | None) -> None:
    """After every write: `error` None (it went through) or the LayersError it raised."""
    key = f"consent-missing:{project_id}:{platform}"
    if error is None:
        cache.delete(key)
    elif isinstance(error, AuthorityDenied) and error.reason == "partner_consent_missing":
        cache.set(key, True, timeout=CONSENT_SECONDS)
