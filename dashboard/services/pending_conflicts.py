"""Who won a conflict: when Layers answers that an action was already decided (409
CONFLICT), the dashboard names the colleague who decided it, from its own decision records
(a record has an outcome only from Layers' answer to its own key), or says it was decided
outside this dashboard. Layers documents no "who" in the 409: the sandbox's `decidedBy` and
`decidedAt` are extensions and are never read."""

import dataclasses

from django.utils import timezone

from dashboard.models import DecisionRecord
from dashboard.services.pending import STATUSES, pending_find, pending_recall, pending_remember
from dashboard.services.pending_rows import queue_row
from dashboard.wording import status_words

DECISIONS = ("approve", "reject")
APPLIED = ("approved", "rejected", "dispatched", "dispatch_failed")


def conflict_winner(*, project_id: str, pending_id: str, key: str) -> DecisionRecord | None:
    """Who decided this action through this dashboard, from our own decision records (a
    record has an outcome only from Layers' answer to its key). None: not one of ours."""
    return (
        DecisionRecord.objects.filter(
            project_id=project_id,
            entity_id=pending_id,
            action__in=DECISIONS,
            outcome__in=APPLIED,
        )
        .exclude(idempotency_key=key)
        .select_related("user")
        .order_by("created_at")
        .first()
    )


def conflict_sentence(*, status, winner: DecisionRecord | None) -> str:
    """Who won, from our records only (Layers' 409 documents no one: `decidedBy` and
    `decidedAt` are sandbox extensions, so they are never read)."""
    state = f"this action is already {status_words(status or 'decided')}"
    if winner is None:
        return (
            f"Someone else decided first: {state} by another tool using this key, "
            "or by the customer in Layers."
        )
    name = display_name(winner.user)
    when = timezone.localtime(winner.created_at)
    return f"Someone else decided first: {state} by {name} here at {when:%b %-d, %H:%M}."


def display_name(user) -> str:
    if user is None:
        return "a former colleague"
    return user.get_full_name() or user.get_username()


def conflict_row(project_id, platform, pending_id, *, status, winner, sentence, typed):
    """The row as it is now, saying who decided first (from our records) and when, and
    what the person typed that was not sent."""
    fresh = pending_find(project_id, platform, pending_id, (status, *STATUSES))
    if fresh is None:
        fresh = pending_recall(project_id, pending_id)
        if fresh is None:
            return None
        fresh = dataclasses.replace(fresh, status=status or "decided")
    if winner is not None:
        fresh = dataclasses.replace(
            fresh,
            decided_at=winner.created_at,
            decided_by={"actorType": "partner", "username": display_name(winner.user)},
        )
    pending_remember(project_id, fresh)
    return queue_row(project_id, fresh, conflict=sentence, typed=typed)
