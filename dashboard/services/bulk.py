"""Bulk decisions: many pending actions approved or rejected with one comment or reason.

Starting one only records it (every item with its own idempotency key) and queues a
background task; the task decides item by item, paced inside the key's shared write
budget. Running it twice, or after a crash half-way, decides each action at most once:
finished items are skipped and unfinished ones are retried under the same key."""

import logging
import time
import uuid

from django.db import transaction
from django.utils import timezone

from dashboard.layers import (
    PLATFORMS,
    Conflict,
    LayersError,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from dashboard.models import BulkDecision, BulkDecisionItem, DecisionRecord, Role
from dashboard.services import access
from dashboard.services.pending import decision_text, pending_matching, pending_recall
from dashboard.services.upstream import budget_get, layers, project_cache_bump

log = logging.getLogger("dashboard.bulk")
MAX_ITEMS = 2000
TRANSIENT_TRIES = 3
MAX_BUDGET_WAIT = 65  # seconds; a write bucket refills within a minute
TRANSIENT_PAUSE = 0.5  # seconds, times the attempt number, after a timeout or a 5xx


def bulk_decision_start(
    *,
    user,
    project_id: str,
    decision: str,
    text: str,
    selected: list[str],
    select_all_filters=None,
    bulk_key: str,
) -> BulkDecision:
    """Records the decision and queues it. `selected` holds "platform:pendingId" values;
    with `select_all_filters` every pending action matching those filters is taken.
    The form's own key makes a resubmitted form return the same bulk decision."""
    access.access_require(user=user, project_id=project_id, action="decide")
    text = (text or "").strip()[:1000]
    if decision not in ("approve", "reject"):
        raise ValueError("Choose approve or reject.")
    if decision == "reject" and not text:
        raise ValueError("Say why you are rejecting them: the reason is shown to the customer.")
    try:
        bulk_id = uuid.UUID(bulk_key)
    except ValueError:
        bulk_id = uuid.uuid4()
    existing = BulkDecision.objects.filter(id=bulk_id, project_id=project_id).first()
    if existing is not None:
        return existing

    if select_all_filters is not None:
        actions = pending_matching(
            project_id=project_id, filters=select_all_filters, limit=MAX_ITEMS
        )
        targets = [(a.platform, a.pending_id) for a in actions]
    else:
        targets = []
        for value in selected:
            platform, _, pending_id = value.partition(":")
            if platform in PLATFORMS and pending_id:
                targets.append((platform, pending_id[:80]))
    targets = list(dict.fromkeys(targets))[:MAX_ITEMS]
    if not targets:
        raise ValueError("Select at least one pending action.")

    with transaction.atomic():
        bulk = BulkDecision.objects.create(
            id=bulk_id, user=user, project_id=project_id, decision=decision, text=text
        )
        items = []
        for platform, pending_id in targets:
            action = pending_recall(project_id, pending_id)
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
        transaction.on_commit(lambda: _enqueue(bulk.id))
    return bulk


def _enqueue(bulk_id):
    from dashboard.tasks import bulk_decision_run  # late: tasks imports this module

    bulk_decision_run.enqueue(str(bulk_id))


def bulk_decision_get(*, user, project_id: str, bulk_id: str) -> BulkDecision:
    access.access_require(user=user, project_id=project_id)
    try:
        key = uuid.UUID(bulk_id)
    except ValueError:
        raise BulkDecision.DoesNotExist from None
    return BulkDecision.objects.get(id=key, project_id=project_id)


def bulk_may_decide(*, user, project_id: str) -> bool:
    return access.role_allows(access.role_get(user=user, project_id=project_id), Role.APPROVER)


def bulk_decision_retry(*, user, project_id: str, bulk_id: str) -> BulkDecision:
    """Sends the items that failed (Layers down, timeouts, refusals) once more, each under
    the key it was created with: one whose first attempt did reach Layers before its answer
    was lost gets that first result back, and is never decided twice."""
    access.access_require(user=user, project_id=project_id, action="decide")
    bulk = bulk_decision_get(user=user, project_id=project_id, bulk_id=bulk_id)
    if bulk.status != BulkDecision.Status.DONE:
        return bulk  # still running: its failed items are not final yet
    with transaction.atomic():
        again = bulk.items.filter(outcome=BulkDecisionItem.Outcome.FAILED).update(
            outcome=BulkDecisionItem.Outcome.WAITING,
            sentence="",
            decided_at=None,
        )
        if again:
            BulkDecision.objects.filter(id=bulk.id).update(
                status=BulkDecision.Status.QUEUED, finished_at=None
            )
            transaction.on_commit(lambda: _enqueue(bulk.id))
    bulk.refresh_from_db()
    return bulk


def bulk_progress(bulk: BulkDecision) -> dict:
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
    }


def bulk_decision_execute(*, bulk_id: str) -> BulkDecision:
    """The background half: decide every unfinished item, paced by the write budget."""
    bulk = BulkDecision.objects.select_related("user").get(id=bulk_id)
    BulkDecision.objects.filter(id=bulk.id).update(status=BulkDecision.Status.RUNNING)
    client = layers()
    person = bulk.user.get_username() if bulk.user else "a partner"
    text = decision_text(bulk.text, person=person)
    for item in bulk.items.filter(outcome=BulkDecisionItem.Outcome.WAITING):
        outcome, sentence, verdict_id = _decide_one(client, bulk, item, text)
        item.outcome, item.sentence, item.verdict_id = outcome, sentence[:500], verdict_id
        item.decided_at = timezone.now()
        item.save(update_fields=["outcome", "sentence", "verdict_id", "decided_at"])
        DecisionRecord.objects.get_or_create(
            idempotency_key=str(item.idempotency_key),
            defaults={
                "user": bulk.user,
                "project_id": bulk.project_id,
                "platform": item.platform,
                "action": bulk.decision,
                "entity_id": item.pending_id,
                "verdict_id": verdict_id,
                "outcome": outcome
                if outcome != "decided"
                else ("approved" if bulk.decision == "approve" else "rejected"),
                "note": bulk.text,
            },
        )
    BulkDecision.objects.filter(id=bulk.id).update(
        status=BulkDecision.Status.DONE, finished_at=timezone.now()
    )
    project_cache_bump(bulk.project_id, area="pending")
    bulk.refresh_from_db()
    return bulk


def _decide_one(client, bulk, item, text) -> tuple[str, str, str]:
    call = client.pending_approve if bulk.decision == "approve" else client.pending_reject
    argument = {"comment": text} if bulk.decision == "approve" else {"reason": text}
    for attempt in range(1, TRANSIENT_TRIES + 1):
        _pace()
        try:
            result = call(
                project_id=bulk.project_id,
                platform=item.platform,
                pending_id=item.pending_id,
                idempotency_key=str(item.idempotency_key),
                **argument,
            )
            return (
                "decided",
                ("Approved." if bulk.decision == "approve" else "Rejected."),
                result.verdict_id or "",
            )
        except Conflict as error:
            return "conflict", error.message, ""
        except (NotFound, ValidationFailed) as error:
            return "failed", error.message, ""
        except RateLimited as error:
            time.sleep(min(error.retry_after or 5, MAX_BUDGET_WAIT))
            last = error
        except LayersError as error:
            if error.status and 400 <= error.status < 500:
                return "failed", error.message, ""
            time.sleep(TRANSIENT_PAUSE * attempt)
            last = error
    log.warning("bulk %s item %s failed after retries: %r", bulk.id, item.pending_id, last)
    return "failed", last.message, ""


def _pace() -> None:
    """Waits while the key's write bucket is empty, so the whole team stays inside it."""
    budget = budget_get("write-light")
    if not budget or budget.get("remaining") is None or budget["remaining"] > 0:
        return
    reset = budget.get("reset") or 0
    wait = reset - time.time() if reset > 1e9 else reset  # epoch seconds, or seconds to go
    if wait > 0:
        time.sleep(min(wait, MAX_BUDGET_WAIT))
