"""Bulk decisions: many pending actions approved or rejected with one comment or reason.

Starting one (bulk_start.py) only records it, every item with its own idempotency key, and
queues a background task; the task runs `bulk_decision_execute` here, which decides item by
item through the same sender as a single decision, paced inside the key's shared write
budget. Running it twice, or after a crash half-way, decides each action at most once:
finished items are skipped and unfinished ones are sent again under the same key."""

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.layers import LayersError
from dashboard.models import BulkDecision, BulkDecisionItem, Role
from dashboard.services import access
from dashboard.services.pending import QueueFilters, pending_matching, pending_recall
from dashboard.services.pending_decisions import pending_decision_send
from dashboard.services.upstream import budget_get, project_cache_bump

log = logging.getLogger("dashboard.bulk")
MAX_ITEMS = 2000  # the default cap of one bulk decision (setting BULK_MAX_ITEMS)
TRANSIENT_TRIES = 3
MAX_BUDGET_WAIT = 65  # seconds; a write bucket refills within a minute
TRANSIENT_PAUSE = 0.5  # seconds, times the attempt number, after a timeout or a 5xx
ITEM_OUTCOMES = {  # what the sender said -> the item's outcome
    "decided": BulkDecisionItem.Outcome.DECIDED,
    "earlier": BulkDecisionItem.Outcome.DECIDED,
    "conflict": BulkDecisionItem.Outcome.CONFLICT,
    "failed": BulkDecisionItem.Outcome.FAILED,
    "retry": BulkDecisionItem.Outcome.FAILED,  # after TRANSIENT_TRIES sends
}


def bulk_decision_get(*, user, project_id: str, bulk_id: str) -> BulkDecision:
    access.access_require(user=user, project_id=project_id)
    try:
        key = uuid.UUID(bulk_id)
    except ValueError:
        raise BulkDecision.DoesNotExist from None
    return BulkDecision.objects.get(id=key, project_id=project_id)


def bulk_may_decide(*, user, project_id: str) -> bool:
    return access.role_allows(access.role_get(user=user, project_id=project_id), Role.APPROVER)


def bulk_progress(bulk: BulkDecision) -> dict:
    """Counts per outcome, and whether the bulk lost its worker."""
    counts = {outcome: 0 for outcome in BulkDecisionItem.Outcome.values}
    for outcome in bulk.items.values_list("outcome", flat=True):
        counts[outcome] += 1
    total = sum(counts.values())
    finished = total - counts[""]
    return {
        "total": total,
        "finished": finished,
        "percent": round(finished * 100 / total) if total else 100,
        "decided": counts["decided"],
        "conflict": counts["conflict"],
        "failed": counts["failed"],
        "waiting": counts[""],
        "abandoned": bulk.status != BulkDecision.Status.DONE and bulk_is_abandoned(bulk),
    }


def bulk_decision_execute(*, bulk_id: str) -> BulkDecision:
    """The background half: decide every unfinished item, paced by the write budget. The
    bulk is claimed first (one conditional update): a second task for it, while a live
    worker runs it or after it finished, does nothing."""
    claimed = (
        BulkDecision.objects.filter(id=bulk_id)
        .filter(Q(status=BulkDecision.Status.QUEUED) | _abandoned(_cutoff(), queued=False))
        .update(status=BulkDecision.Status.RUNNING, heartbeat_at=timezone.now())
    )
    bulk = BulkDecision.objects.select_related("user").get(id=bulk_id)
    if not claimed:
        return bulk
    if bulk.select_all is not None and not _gather(bulk):
        return bulk
    for item in bulk.items.filter(outcome=BulkDecisionItem.Outcome.WAITING):
        stopped = _role_dropped(bulk)  # checked again before every write, not only at the start
        if stopped:
            _stop(bulk, stopped)
            break
        sent = _send(bulk, item)
        item.outcome, item.sentence = ITEM_OUTCOMES[sent.kind], sent.sentence[:500]
        item.verdict_id = sent.verdict_id
        item.decided_at = timezone.now()
        item.save(update_fields=["outcome", "sentence", "verdict_id", "decided_at"])
    BulkDecision.objects.filter(id=bulk.id).update(
        status=BulkDecision.Status.DONE, finished_at=timezone.now()
    )
    project_cache_bump(bulk.project_id, area="pending")  # once for the whole batch
    bulk.refresh_from_db()
    return bulk


def bulk_cap() -> int:
    """How many pending actions one bulk decision takes at most."""
    return int(getattr(settings, "BULK_MAX_ITEMS", MAX_ITEMS) or MAX_ITEMS)


def bulk_filters_store(filters: QueueFilters) -> dict:
    """The queue filters of a select-all, as the bulk keeps them until its task runs."""
    return {
        "platform": filters.platform,
        "status": filters.status,
        "action_type": filters.action_type,
        "campaign": filters.campaign,
    }


def bulk_items_create(bulk: BulkDecision, targets) -> None:
    """One item per (platform, pending id), each with its own idempotency key; the name is
    what this dashboard last saw of the action (no read)."""
    items = []
    for platform, pending_id in targets:
        action = pending_recall(bulk.project_id, pending_id)
        items.append(
            BulkDecisionItem(
                bulk=bulk,
                platform=platform,
                pending_id=pending_id,
                idempotency_key=uuid.uuid4(),
                entity_name=(action.entity_name or "")[:300] if action else "",
            )
        )
    BulkDecisionItem.objects.bulk_create(items)


def _gather(bulk: BulkDecision) -> bool:
    """Select-all, in the background: the actions matching the kept filters become items (in
    one transaction with clearing the filters, so a worker that dies half-way gathers again).
    False, with the bulk finished and saying why, when there is nothing to decide."""
    stopped = _role_dropped(bulk)
    if not stopped:
        try:
            actions = pending_matching(
                project_id=bulk.project_id,
                filters=QueueFilters(**bulk.select_all),
                limit=bulk_cap(),
            )
        except LayersError as error:
            actions, stopped = [], f"The matching actions could not be listed: {error.message}"
        targets = list(dict.fromkeys((a.platform, a.pending_id) for a in actions))[: bulk_cap()]
        if not targets and not stopped:
            stopped = "No pending action matched those filters any more: nothing was decided."
    if stopped:
        BulkDecision.objects.filter(id=bulk.id).update(
            select_all=None,
            stopped_sentence=stopped[:300],
            status=BulkDecision.Status.DONE,
            finished_at=timezone.now(),
        )
        bulk.refresh_from_db()
        return False
    with transaction.atomic():
        bulk_items_create(bulk, targets)
        BulkDecision.objects.filter(id=bulk.id).update(select_all=None, heartbeat_at=timezone.now())
    bulk.select_all = None
    return True


def _role_dropped(bulk: BulkDecision) -> str:
    """A sentence when the person who started the bulk may no longer decide on its project
    (their role was lowered or removed, their account switched off), else ""."""
    user = bulk.user
    if user is not None:
        user.refresh_from_db(fields=["is_active", "is_superuser"])
    role = access.role_get(user=user, project_id=bulk.project_id) if user else None
    if user is not None and user.is_active and access.role_allows(role, Role.APPROVER):
        return ""
    if user is None or not user.is_active:
        who = "the person who started it no longer has an active account"
    else:
        who = f"{user.get_username()}’s access to this project " + (
            f"is now {role.label.lower()}" if role else "was removed"
        )
    return (
        f"Stopped: {who}, and approving or rejecting needs approver or admin, so the "
        "actions still waiting were not sent."
    )


def _stop(bulk: BulkDecision, sentence: str) -> None:
    log.warning("bulk %s stopped: the role of its person dropped", bulk.id)
    bulk.items.filter(outcome=BulkDecisionItem.Outcome.WAITING).update(
        outcome=BulkDecisionItem.Outcome.FAILED,
        sentence="Not sent: the person who started this may no longer decide on this project.",
        decided_at=timezone.now(),
    )
    BulkDecision.objects.filter(id=bulk.id).update(stopped_sentence=sentence[:300])


def bulk_is_abandoned(bulk: BulkDecision) -> bool:
    """Running (or queued) with no sign of life from a worker for BULK_STALE_SECONDS."""
    return BulkDecision.objects.filter(_abandoned(_cutoff()), id=bulk.id).exists()


def bulk_decisions_abandoned(*, bulk_id=None) -> list[str]:
    """Bulk decisions whose worker is gone (it died, or the machine restarted), put back in
    the queue: each is taken by one conditional update, so two watchdogs never both take
    it. The caller queues the task for each id returned. Nothing is decided twice: items
    already decided are skipped, and one whose answer was lost goes again under its key."""
    cutoff = _cutoff()
    found = BulkDecision.objects.filter(_abandoned(cutoff))
    if bulk_id is not None:
        found = found.filter(id=bulk_id)
    taken = []
    for stale_id in found.values_list("id", flat=True)[:100]:
        if (
            BulkDecision.objects.filter(_abandoned(cutoff), id=stale_id).update(
                status=BulkDecision.Status.QUEUED, heartbeat_at=timezone.now()
            )
            == 1
        ):
            log.warning("bulk %s had no live worker; queued again", stale_id)
            taken.append(str(stale_id))
    return taken


def _cutoff():
    # A worker touches its bulk's heartbeat before every send; its longest quiet stretch is a
    # budget wait (65 s) plus an item's tries (timeouts, replays), well under the default.
    return timezone.now() - timedelta(seconds=settings.BULK_STALE_SECONDS)


def _abandoned(cutoff, queued=True) -> Q:
    """Running with an old (or no) heartbeat; with `queued`, also queued that long (its task
    was taken by a worker that died before starting it)."""
    old = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at=None, created_at__lt=cutoff)
    running = Q(status=BulkDecision.Status.RUNNING) & (old | Q(heartbeat_at=None))
    return running | (Q(status=BulkDecision.Status.QUEUED) & old) if queued else running


def _beat(bulk_id) -> None:
    BulkDecision.objects.filter(id=bulk_id).update(heartbeat_at=timezone.now())


def _send(bulk, item):
    """One item, sent again (same key) after a timeout, a 5xx or a 429, up to TRANSIENT_TRIES."""
    for attempt in range(1, TRANSIENT_TRIES + 1):
        _pace()
        _beat(bulk.id)
        sent = pending_decision_send(
            user=bulk.user,
            project_id=bulk.project_id,
            platform=item.platform,
            pending_id=item.pending_id,
            decision=bulk.decision,
            text=bulk.text,
            idempotency_key=str(item.idempotency_key),
            bump_cache=False,
        )
        if sent.kind != "retry":
            return sent
        if sent.retry_after is not None:
            time.sleep(min(sent.retry_after, MAX_BUDGET_WAIT))
        elif attempt < TRANSIENT_TRIES:
            time.sleep(TRANSIENT_PAUSE * attempt)
    log.warning("bulk %s item %s failed after retries: %r", bulk.id, item.pending_id, sent.error)
    return sent


def _pace() -> None:
    """Waits while the key's write bucket is empty, so the whole team stays inside it."""
    budget = budget_get("write-light")
    if not budget or budget.get("remaining") is None or budget["remaining"] > 0:
        return
    # The client made the reset absolute. It is in whole seconds, so the window may end up
    # to a second after it says: wake a second later rather than meet a 429.
    wait = (budget.get("reset") or 0) + 1 - time.time()
    if wait > 0:
        time.sleep(min(wait, MAX_BUDGET_WAIT))
