"""A held decision's row in the queue: while it waits ("Approved — sending in 8 s · Undo"),
after Undo (the row as it was, ready to decide again), and once the worker sent it (the
row as Layers now has it, with what happened)."""

from dashboard.models import DecisionHold
from dashboard.services.holds import decision_hold_get, decision_hold_undo, hold_sentence
from dashboard.services.pending import STATUSES, pending_find, pending_recall
from dashboard.services.pending_decisions import DecisionOutcome
from dashboard.services.pending_rows import queue_row

Status = DecisionHold.Status
SENT_OK = ("decided", "earlier")


def _action(hold: DecisionHold):
    if not hold.pending_id:
        return None  # a bulk hold: its page shows it
    return pending_recall(hold.project_id, hold.pending_id) or pending_find(
        hold.project_id, hold.platform, hold.pending_id, ("pending", *STATUSES)
    )


def hold_outcome(*, user, project_id: str, hold_id) -> DecisionOutcome:
    """The row for a hold as it stands now (the truth is the hold's row, not the page's
    countdown)."""
    hold = decision_hold_get(user=user, project_id=project_id, hold_id=hold_id)
    action = _action(hold)
    row = queue_row(project_id, action) if action else None
    if hold.status in (Status.HELD, Status.SENDING):
        return DecisionOutcome(row=row, sentence=hold_sentence(hold), ok=True, hold=hold)
    if hold.status == Status.UNDONE:
        return DecisionOutcome(row=row, sentence="Undone: nothing was sent.", ok=True)
    ok = hold.status == Status.SENT and hold.outcome in SENT_OK
    return DecisionOutcome(row=row, sentence=hold.sentence or "Sent.", ok=ok)


def hold_undo(*, user, project_id: str, hold_id) -> DecisionOutcome:
    """Undo: the row ready to decide again, or, when the worker took it first, the row as
    it now is with the reason Undo came too late."""
    hold, undone = decision_hold_undo(user=user, project_id=project_id, hold_id=hold_id)
    if undone:
        action = _action(hold)
        row = queue_row(project_id, action) if action else None
        return DecisionOutcome(row=row, sentence="Undone: nothing was sent.", ok=True)
    if hold.status == Status.UNDONE:
        return hold_outcome(user=user, project_id=project_id, hold_id=hold_id)
    outcome = hold_outcome(user=user, project_id=project_id, hold_id=hold_id)
    return DecisionOutcome(
        row=outcome.row,
        sentence="Too late to undo: it was already on its way to Layers. " + outcome.sentence,
        ok=False,
        hold=outcome.hold,
    )
