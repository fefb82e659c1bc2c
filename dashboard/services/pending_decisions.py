"""Deciding pending actions: one sender for every approve and reject, whether a person
decides one row or a bulk decision works through hundreds in the background.

`pending_decision_send` sends one decision under the idempotency key its form (or its bulk
item) was given, records it, and says what happened: decided, decided earlier under the
same key, decided first by someone else, failed for good, or worth sending again (nothing
is lost, and the same key can never decide twice). A key's outcome comes only from Layers'
answer to that key, or Layers' replay of it: never from what the action looks like now,
which may be someone else's decision. `pending_decide` is one person's click: it checks the
form, asks again when the campaign moved since the person looked (pending_stale.py), calls
the sender once and redraws the row; who won a conflict is in pending_conflicts.py."""

import dataclasses
import time
from dataclasses import dataclass

from django.utils import timezone

from dashboard.layers import (
    PLATFORMS,
    Conflict,
    IdempotencyConflict,
    KillSwitch,
    LayersError,
    NotFound,
    RateLimited,
)
from dashboard.services import access
from dashboard.services.holds import (
    HoldTaken,
    action_expires_within,
    decision_hold_place,
    hold_seconds,
    hold_sentence,
)
from dashboard.services.mirror import mirror_action_decided
from dashboard.services.pending import (
    STATUSES,
    pending_find,
    pending_recall,
    pending_remember,
)
from dashboard.services.pending_conflicts import (
    conflict_row,
    conflict_sentence,
    conflict_winner,
)
from dashboard.services.pending_rows import QueueRow, RowContext, queue_row, row_authorities
from dashboard.services.pending_stale import seen_parse, stale_check
from dashboard.services.projects import accounts_get, campaigns_get, project_locale
from dashboard.services.upstream import layers, project_cache_bump
from dashboard.services.writes import decision_record, key_clean
from dashboard.wording import status_words

DECISIONS = ("approve", "reject")
# Pauses before asking Layers again for its answer to a key it already holds (seconds).
REPLAY_PAUSES = (0.5, 1.0, 2.0)


def decision_text(text: str, *, person: str) -> str:
    """What Layers stores with the decision names the person, so the customer's audit
    shows who decided and not only "partner"."""
    signature = f"{person} via the partner dashboard"
    return f"{text} — {signature}" if text else f"Decided by {signature}"


def _final(error: LayersError) -> bool:
    """A refusal that sending again cannot change (a 4xx other than 429, the key's kill
    switch); timeouts, 5xx, unreadable answers and rate limits are worth another try."""
    if isinstance(error, KillSwitch):
        return True
    return bool(error.status) and 400 <= error.status < 500 and not isinstance(error, RateLimited)


@dataclass(frozen=True)
class DecisionSent:
    """kind: decided | earlier (this key decided it before; new words were not sent) |
    conflict (someone else decided first) | failed (for good) | retry (send it again)."""

    kind: str
    sentence: str
    verdict_id: str = ""
    action: object = None  # the action as it is now, when this dashboard knows it
    decision: object = None  # Layers' Decision, when decided
    error: LayersError | None = None
    winner: object = None  # conflict: our DecisionRecord of whoever decided first, if ours

    @property
    def retry_after(self) -> float | None:
        """Seconds Layers asked us to wait (429), else None."""
        if isinstance(self.error, RateLimited):
            return self.error.retry_after or 5
        return None


def pending_decision_send(
    *,
    user,
    project_id: str,
    platform: str,
    pending_id: str,
    decision: str,
    text: str,
    idempotency_key: str,
    bump_cache: bool = True,
) -> DecisionSent:
    """Sends one approve or reject (decision and platform already checked) and records it.
    `bump_cache=False` leaves refreshing the cached lists to a caller deciding many."""
    record = decision_record(
        user=user,
        project_id=project_id,
        platform=platform,
        action=decision,
        entity_id=pending_id,
        key=idempotency_key,
        note=text,
    )

    def bump():
        if bump_cache:
            project_cache_bump(project_id, area="pending")

    def outcome(value: str, verdict_id: str = "") -> None:
        record.outcome, record.verdict_id = value, verdict_id or record.verdict_id
        record.save(update_fields=["outcome", "verdict_id"])

    if record.action != decision:
        # A hand-made post reusing another decision's key: Layers keeps keys per route, so
        # it could decide again under this one. Nothing is sent.
        return DecisionSent(
            "failed", "That form was already used for another decision; reload the queue."
        )
    client = layers()
    ids = dict(project_id=project_id, platform=platform, pending_id=pending_id)

    def send(words: str):
        if decision == "approve":
            return client.pending_approve(**ids, comment=words, idempotency_key=idempotency_key)
        return client.pending_reject(**ids, reason=words, idempotency_key=idempotency_key)

    words = decision_text(text, person=_name(user))
    first_words = decision_text(record.note, person=_name(record.user))
    try:
        result, replayed = _answer(send, words, first_words)
    except Conflict as error:
        outcome("conflict")
        bump()
        mirror_action_decided(pending_id, error.current_status or None)
        winner = conflict_winner(
            project_id=project_id, pending_id=pending_id, key=record.idempotency_key
        )
        sentence = conflict_sentence(status=error.current_status, winner=winner)
        return DecisionSent("conflict", sentence, error=error, winner=winner)
    except IdempotencyConflict as error:
        # Layers still holds this key unanswered: its first send is in flight (or came with
        # words this dashboard no longer has). What it did is known only from its answer to
        # this key, so nothing is recorded and nothing is looked up elsewhere: whatever the
        # action's status is now may be someone else's decision.
        return DecisionSent(
            "retry",
            "Layers is still working on the first time this form was sent; "
            "reload the queue in a moment to see what it did.",
            error=error,
        )
    except LayersError as error:
        # The record's outcome stays empty: it holds what Layers decided, and it decided
        # nothing (`manage.py soak` reads any outcome but "conflict" as a decision applied).
        if _final(error):
            if isinstance(error, NotFound):
                mirror_action_decided(pending_id, None)  # gone upstream: the mirror too
            return DecisionSent("failed", error.message, error=error)
        # Timeouts, 5xx, rate limits: nothing is lost, and the same key makes a retry safe.
        return DecisionSent("retry", error.message, error=error)
    if not replayed and words != first_words:
        record.note = text[:1000]  # the words Layers now holds for this key
        record.save(update_fields=["note"])
    outcome(result.status or "", result.verdict_id or "")
    bump()
    mirror_action_decided(pending_id, result.status or f"{decision}d")
    action = pending_recall(project_id, pending_id)
    if action is not None:
        action = _decided(action, result, user)
        pending_remember(project_id, action)
    verb = "Approved" if decision == "approve" else "Rejected"
    if replayed and words != first_words:
        return DecisionSent(
            "earlier",
            "Your first attempt reached Layers: this action is already "
            f"{status_words(result.status or decision + 'd')} (verdict {result.verdict_id}). "
            "The edited words were not sent.",
            verdict_id=result.verdict_id or "",
            action=action,
            decision=result,
        )
    return DecisionSent(
        "decided",
        f"{verb}. Verdict {result.verdict_id}.",
        verdict_id=result.verdict_id or "",
        action=action,
        decision=result,
    )


def _answer(send, words: str, first_words: str):
    """(Layers' answer to this key, whether it came as a replay). When Layers already
    holds the key (409 IDEMPOTENCY_CONFLICT: the first send still in flight, or the form
    sent again with edited words), the key is sent once more with its first words after a
    pause, until Layers replays the first send's answer; the last 409 is raised if it
    never does."""
    try:
        return send(words), False
    except IdempotencyConflict as error:
        last = error
    for pause in REPLAY_PAUSES:
        time.sleep(pause)
        try:
            return send(first_words), True
        except IdempotencyConflict as error:
            last = error
    raise last


def _name(user) -> str:
    return user.get_username() if user else "a partner"


def _decided(action, result, user):
    return dataclasses.replace(
        action,
        status=result.status,
        dispatched_at=result.dispatched_at,
        decided_at=timezone.now(),
        decided_by={"actorType": "partner", "username": user.get_username() if user else ""},
    )


@dataclass(frozen=True)
class DecisionOutcome:
    row: QueueRow | None
    sentence: str
    ok: bool
    hold: object = None  # the DecisionHold waiting to be sent (services/holds.py), if any


def pending_decide(
    *,
    user,
    project_id: str,
    platform: str,
    pending_id: str,
    decision: str,
    text: str = "",
    idempotency_key: str,
    seen: str = "",
) -> DecisionOutcome:
    """Approve or reject one action. Never decides twice for one idempotency key. `seen`
    is the campaign's value as the reviewer's row showed it (the three-way stale check)."""
    access.access_require(user=user, project_id=project_id, action="decide")
    if decision not in DECISIONS or platform not in PLATFORMS:
        return DecisionOutcome(
            row=None, sentence="That decision could not be understood; reload the queue.", ok=False
        )
    key = key_clean(idempotency_key)  # a hand-made post: still decided only once from here
    text = (text or "").strip()[:1000]
    typed = {"comment" if decision == "approve" else "reason": text}

    def again(sentence: str) -> DecisionOutcome:
        """The same row, its form keeping its idempotency key and what the person typed."""
        action = pending_recall(project_id, pending_id) or pending_find(
            project_id, platform, pending_id, ("pending", *STATUSES)
        )
        keys = {f"{decision}_key": key}
        row = queue_row(project_id, action, typed=typed, **keys) if action else None
        return DecisionOutcome(row=row, sentence=sentence, ok=False)

    if decision == "reject" and not text:
        return again("Say why you are rejecting it: the reason is shown to the customer.")
    if decision == "approve":
        row = _moved_row(project_id, platform, pending_id, seen_parse(seen), typed, key)
        if row is not None:
            return DecisionOutcome(row=row, sentence=MOVED, ok=False)
    if hold_seconds():
        held = _hold(user, project_id, platform, pending_id, decision, text, key)
        if held is not None:
            return held
    sent = pending_decision_send(
        user=user,
        project_id=project_id,
        platform=platform,
        pending_id=pending_id,
        decision=decision,
        text=text,
        idempotency_key=key,
    )
    if sent.kind == "conflict":
        row = conflict_row(
            project_id,
            platform,
            pending_id,
            status=sent.error.current_status if sent.error else None,
            winner=sent.winner,
            sentence=sent.sentence,
            typed=typed,
        )
        return DecisionOutcome(row=row, sentence=sent.sentence, ok=False)
    if sent.kind == "earlier":
        row = queue_row(project_id, sent.action, conflict=sent.sentence, typed=typed)
        return DecisionOutcome(row=row, sentence=sent.sentence, ok=False)
    if sent.kind == "retry":
        if isinstance(sent.error, IdempotencyConflict):
            return again(sent.sentence)
        return again(f"{sent.sentence} What you typed is kept: try again.")
    if sent.kind == "failed":
        return again(sent.sentence)
    action = sent.action
    if action is None:
        found = pending_find(project_id, platform, pending_id, (sent.decision.status, *STATUSES))
        action = _decided(found, sent.decision, user) if found else None
        if action is not None:
            pending_remember(project_id, action)
    row = queue_row(project_id, action) if action else None
    return DecisionOutcome(row=row, sentence=sent.sentence, ok=True)


def _hold(user, project_id, platform, pending_id, decision, text, key):
    """The decision held for DECISION_HOLD_SECONDS (the row then offers Undo), or None to
    send it now: the action is no longer pending here (the sender says who decided it) or
    would expire inside the window."""
    action = pending_recall(project_id, pending_id) or pending_find(
        project_id, platform, pending_id
    )
    if action is None or action.status != "pending":
        return None
    if action_expires_within(action, hold_seconds()):
        return None
    try:
        hold = decision_hold_place(
            user=user,
            project_id=project_id,
            platform=platform,
            pending_id=pending_id,
            decision=decision,
            text=text,
            idempotency_key=key,
            entity_name=action.entity_name or "",
        )
    except HoldTaken as taken:
        who = "You" if taken.hold.user == user else _name(taken.hold.user)
        sentence = (
            f"{who} decided this a moment ago: {hold_sentence(taken.hold)}. "
            "Undo it first to decide otherwise."
        )
        return DecisionOutcome(
            row=queue_row(project_id, action), sentence=sentence, ok=False, hold=taken.hold
        )
    return DecisionOutcome(
        row=queue_row(project_id, action), sentence=hold_sentence(hold), ok=True, hold=hold
    )


MOVED = (
    "The campaign changed since you opened this row, so nothing was sent. "
    "Check the values now and approve again if it still makes sense."
)


def _moved_row(project_id, platform, pending_id, seen: dict, typed, key):
    """The row asking again when the campaign moved since the reviewer looked (one read of
    the campaign), else None: decide as asked."""
    if not seen:
        return None
    action = pending_recall(project_id, pending_id) or pending_find(
        project_id, platform, pending_id
    )
    if action is None:
        return None
    campaigns = campaigns_get(project_id)
    context = RowContext(
        accounts=accounts_get(project_id),
        campaigns=campaigns,
        locale=project_locale(project_id),
        project_id=project_id,
    )
    try:
        moved, now = stale_check(
            project_id=project_id,
            action=action,
            seen=seen,
            currency=context.currency(action),
            locale=context.locale,
        )
    except LayersError:
        return None  # it could not be read now: decide as asked (the row's own check stood)
    if not moved:
        return None
    project_cache_bump(project_id)  # the shared campaign list is behind: read it again
    context.authorities = row_authorities(project_id, [action], campaigns)
    # The same approve form (same key), now carrying the value just read as the one seen.
    return context.row(action, typed=typed, approve_key=key, seen=now, moved=moved)
