"""Holding a decision before it is sent, so a slip can be taken back for free.

`decision_hold_place` records an approve or reject (or a bulk decision) as a DecisionHold
that the worker sends DECISION_HOLD_SECONDS later (dashboard/tasks.py queues a task to run
then). `decision_hold_undo` takes it back while it is still held: nothing reaches Layers.
`decision_hold_send` is the worker's half: it takes the hold with one conditional update
(held -> sending), so of two workers only one sends it, and sends it through the one
sender, `pending_decision_send` (a bulk hold hands its BulkDecision to the bulk runner,
which uses the same sender). A hold taken by a worker that died is taken again after
DECISION_HOLD_STALE_SECONDS and sent under the same idempotency key: Layers answers the
second send with the first one's result, so it is still one write.

Our DecisionRecord follows the hold: its outcome reads "held", then "undone", or the
verdict Layers gave once it was sent; the hold row keeps when each happened."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.models import BulkDecision, DecisionHold, DecisionRecord
from dashboard.services import access
from dashboard.services.writes import decision_record

log = logging.getLogger("dashboard.holds")
Status = DecisionHold.Status
LIVE = (Status.HELD, Status.SENDING)
MAX_ATTEMPTS = 5  # sends that Layers answered "try again" before the hold is marked failed
RETRY_SECONDS = 5


class HoldTaken(Exception):
    """The action already has a live hold (someone decided it moments ago)."""

    def __init__(self, hold: DecisionHold):
        super().__init__(hold_sentence(hold))
        self.hold = hold


def hold_seconds() -> int:
    return max(0, int(settings.DECISION_HOLD_SECONDS))


def action_expires_within(action, seconds: int) -> bool:
    """True when the action would expire (auto-reject) before a hold of `seconds` ends: it
    is then sent at once rather than held."""
    expires = getattr(action, "expires_at", None)
    return bool(expires) and expires <= timezone.now() + timedelta(seconds=seconds + 1)


def hold_remaining(hold: DecisionHold, now=None) -> int:
    """Whole seconds until the worker sends it (0 once due)."""
    left = (hold.send_after - (now or timezone.now())).total_seconds()
    return max(0, int(left + 0.999))


def hold_sentence(hold: DecisionHold) -> str:
    """ "Approved — sending in 8 s" (the row adds "· Undo")."""
    verb = "Approved" if hold.decision == "approve" else "Rejected"
    if hold.status == Status.SENDING or (hold.status == Status.HELD and not hold_remaining(hold)):
        return f"{verb} — sending now"
    return f"{verb} — sending in {hold_remaining(hold)} s"


def decision_hold_place(
    *,
    user,
    project_id: str,
    platform: str,
    pending_id: str,
    decision: str,
    text: str,
    idempotency_key: str,
    entity_name: str = "",
) -> DecisionHold:
    """Holds one decision (already checked by the caller) and queues its send. The same
    form sent twice finds its first hold; an action with a live hold raises HoldTaken."""
    mine = DecisionHold.objects.filter(
        idempotency_key=idempotency_key, project_id=project_id, status__in=LIVE
    ).first()
    if mine is not None:
        return mine
    now = timezone.now()
    try:
        with transaction.atomic():
            hold = DecisionHold.objects.create(
                user=user,
                project_id=project_id,
                decision=decision,
                text=text,
                platform=platform,
                pending_id=pending_id,
                entity_name=(entity_name or "")[:300],
                idempotency_key=idempotency_key,
                send_after=now + timedelta(seconds=hold_seconds()),
            )
            record = decision_record(
                user=user,
                project_id=project_id,
                platform=platform,
                action=decision,
                entity_id=pending_id,
                key=idempotency_key,
                note=text,
            )
            if record.outcome in ("", "undone"):
                DecisionRecord.objects.filter(id=record.id).update(outcome="held")
            transaction.on_commit(lambda: _queue(hold))
    except IntegrityError:
        taken = DecisionHold.objects.filter(
            project_id=project_id, pending_id=pending_id, status__in=LIVE
        ).first()
        if taken is None:
            raise
        raise HoldTaken(taken) from None
    log.info("held %s of %s for %s s", decision, pending_id, hold_seconds())
    return hold


def bulk_hold_place(bulk: BulkDecision) -> DecisionHold:
    """Holds a whole bulk decision (its status is "held" until the window ends): one Undo
    takes back every item. Called inside the transaction that made the bulk."""
    hold = DecisionHold.objects.create(
        user=bulk.user,
        project_id=bulk.project_id,
        decision=bulk.decision,
        text=bulk.text,
        bulk=bulk,
        send_after=timezone.now() + timedelta(seconds=hold_seconds()),
    )
    transaction.on_commit(lambda: _queue(hold))
    return hold


def _queue(hold: DecisionHold) -> None:
    from dashboard.tasks import decision_hold_run

    decision_hold_run.using(run_after=hold.send_after).enqueue(str(hold.id))


def holds_live(*, project_id: str) -> dict:
    """pending_id -> its live hold, for drawing the queue (a bulk hold covers its items)."""
    found = {}
    for hold in DecisionHold.objects.filter(project_id=project_id, status__in=LIVE):
        if hold.bulk_id:
            for pending_id in hold.bulk.items.values_list("pending_id", flat=True):
                found[pending_id] = hold
        else:
            found[hold.pending_id] = hold
    return found


def bulk_hold_context(bulk: BulkDecision) -> dict:
    """The bulk page's hold, while the bulk is held: {"hold", "hold_seconds"}."""
    if bulk.status != BulkDecision.Status.HELD:
        return {}
    hold = DecisionHold.objects.filter(bulk=bulk).first()
    return {"hold": hold, "hold_seconds": hold_remaining(hold)} if hold else {}


def holds_recent(*, user, project_id: str, limit: int = 20) -> list[DecisionHold]:
    """The project's latest holds for the audit page: held, undone (by whom) or sent (and
    what Layers said). Undone ones never reached Layers, so its own log cannot show them."""
    access.access_require(user=user, project_id=project_id)
    return list(
        DecisionHold.objects.filter(project_id=project_id)
        .select_related("user", "undone_by", "bulk")
        .order_by("-created_at")[:limit]
    )


def decision_hold_get(*, user, project_id: str, hold_id) -> DecisionHold:
    access.access_require(user=user, project_id=project_id)
    return DecisionHold.objects.get(id=hold_id, project_id=project_id)


def decision_hold_undo(*, user, project_id: str, hold_id) -> tuple[DecisionHold, bool]:
    """Takes the decision back if no worker has taken it yet: (the hold, whether undone).
    Anyone who may decide on the project may undo (a colleague can stop a slip too)."""
    access.access_require(user=user, project_id=project_id, action="decide")
    now = timezone.now()
    with transaction.atomic():
        undone = DecisionHold.objects.filter(
            id=hold_id, project_id=project_id, status=Status.HELD
        ).update(status=Status.UNDONE, undone_at=now, undone_by=user)
        hold = DecisionHold.objects.get(id=hold_id, project_id=project_id)
        if undone:
            if hold.bulk_id:
                held_bulk = BulkDecision.objects.filter(
                    id=hold.bulk_id, status=BulkDecision.Status.HELD
                )
                held_bulk.update(status=BulkDecision.Status.UNDONE, finished_at=now)
            else:
                DecisionRecord.objects.filter(
                    idempotency_key=hold.idempotency_key, outcome="held"
                ).update(outcome="undone")
    if undone:
        log.info("undid %s of %s", hold.decision, hold.pending_id or hold.bulk_id)
    return hold, bool(undone)


def _claimable(now) -> Q:
    stale = now - timedelta(seconds=settings.DECISION_HOLD_STALE_SECONDS)
    return Q(status=Status.HELD, send_after__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=stale
    )


def decision_hold_send(hold_id) -> DecisionHold | None:
    """The worker's half: sends the hold once its window is over. Returns the hold when this
    call took it, None when it was not due, undone, or another worker has it."""
    now = timezone.now()
    taken = (
        DecisionHold.objects.filter(_claimable(now), id=hold_id)
        .filter(Q(attempts__lt=MAX_ATTEMPTS))
        .update(status=Status.SENDING, claimed_at=now)
    )
    if not taken:
        return None
    hold = DecisionHold.objects.select_related("user").get(id=hold_id)
    DecisionHold.objects.filter(id=hold.id).update(attempts=hold.attempts + 1)
    if hold.bulk_id:
        return _send_bulk(hold)
    return _send_one(hold)


def _send_one(hold: DecisionHold) -> DecisionHold:
    from dashboard.services.pending_decisions import pending_decision_send

    DecisionRecord.objects.filter(idempotency_key=hold.idempotency_key, outcome="held").update(
        outcome=""
    )
    sent = pending_decision_send(
        user=hold.user,
        project_id=hold.project_id,
        platform=hold.platform,
        pending_id=hold.pending_id,
        decision=hold.decision,
        text=hold.text,
        idempotency_key=hold.idempotency_key,
    )
    fields = {"outcome": sent.kind, "sentence": sent.sentence[:500]}
    if sent.kind == "retry" and hold.attempts + 1 < MAX_ATTEMPTS:
        # Layers was down or busy: nothing is lost, and the same key makes the next try safe.
        again = timezone.now() + timedelta(seconds=sent.retry_after or RETRY_SECONDS)
        DecisionHold.objects.filter(id=hold.id, status=Status.SENDING).update(
            status=Status.HELD, send_after=again, **fields
        )
        hold.refresh_from_db()
        _queue(hold)
        return hold
    status = Status.FAILED if sent.kind == "retry" else Status.SENT
    DecisionHold.objects.filter(id=hold.id).update(status=status, sent_at=timezone.now(), **fields)
    hold.refresh_from_db()
    log.info("sent held %s of %s: %s", hold.decision, hold.pending_id, sent.kind)
    return hold


def _send_bulk(hold: DecisionHold) -> DecisionHold:
    from dashboard.services.bulk import bulk_decision_execute

    BulkDecision.objects.filter(id=hold.bulk_id, status=BulkDecision.Status.HELD).update(
        status=BulkDecision.Status.QUEUED
    )
    # Marked sent first: the bulk now has its own claim, heartbeat and recovery.
    DecisionHold.objects.filter(id=hold.id).update(
        status=Status.SENT, sent_at=timezone.now(), outcome="decided"
    )
    bulk_decision_execute(bulk_id=str(hold.bulk_id))
    hold.refresh_from_db()
    return hold


def decision_holds_due() -> list[str]:
    """Holds past their window that no live worker has (a task lost, a worker that died):
    the caller runs `decision_hold_send` for each (the claim keeps it to one sender)."""
    now = timezone.now()
    # A moment's grace, so the watchdog does not race a hold's own task to it.
    grace = now - timedelta(seconds=2)
    found = DecisionHold.objects.filter(
        Q(status=Status.HELD, send_after__lte=grace)
        | Q(
            status=Status.SENDING,
            claimed_at__lt=now - timedelta(seconds=settings.DECISION_HOLD_STALE_SECONDS),
        ),
        attempts__lt=MAX_ATTEMPTS,
    )
    return [str(i) for i in found.values_list("id", flat=True)[:100]]
