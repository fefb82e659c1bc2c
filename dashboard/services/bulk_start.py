"""Starting a bulk decision, sending its failed items once more, and resuming one whose
worker is gone: each records what is to be done and queues the background task
(dashboard/tasks.py) that does it."""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils.formats import number_format

from dashboard.layers import PLATFORMS, LayersError
from dashboard.models import BulkDecision, BulkDecisionItem
from dashboard.money import cents_format
from dashboard.services import access
from dashboard.services.bulk import (
    MAX_ITEMS,
    bulk_cap,
    bulk_decision_get,
    bulk_decisions_abandoned,
    bulk_filters_store,
    bulk_items_create,
)
from dashboard.services.holds import action_expires_within, bulk_hold_place, hold_seconds
from dashboard.services.pending import pending_matching, pending_recall
from dashboard.services.pending_rows import RowContext
from dashboard.services.projects import accounts_get, campaigns_get, project_locale
from dashboard.tasks import bulk_decision_run


@dataclass(frozen=True)
class SelectAllPreview:
    """What "select all" takes, before anyone submits: how many (at most the cap, the
    same first ones bulk_decision_start takes), whether the cap cut it, and the daily
    budget change of what it takes, one total per currency."""

    count: int = 0
    capped: bool = False  # more than the cap match: only the first ones are taken
    totals: tuple = ()  # ((currency, signed amount in its minor unit), ...)
    locale: str = ""
    error: LayersError | None = None
    cap: int = MAX_ITEMS  # bulk_cap() when counted

    @property
    def sentence(self) -> str:
        if self.error is not None:
            return f"How many select all takes could not be counted: {self.error.message}"
        if not self.count:
            return "Select all takes nothing: no pending action matches these filters."
        n = number_format(self.count, force_grouping=True)
        if self.capped:
            cap = number_format(self.cap, force_grouping=True)
            return (
                f"Select all takes the first {n} matching pending actions: one bulk "
                f"decision is capped at {cap}, so more than {cap} match and the rest stay "
                "for another."
            )
        return f"Select all takes {n} pending action{'s' if self.count != 1 else ''}."

    @property
    def exposure(self) -> str:
        parts = [
            ("+" if minor >= 0 else "−") + cents_format(abs(minor), currency, locale=self.locale)
            for currency, minor in self.totals
            if minor
        ]
        return "Daily budget change of what select all takes: " + ", ".join(parts) if parts else ""


def bulk_select_all_preview(*, user, project_id: str, filters) -> SelectAllPreview:
    """Counts what select all would take with these filters (QueueFilters), as
    bulk_decision_start would: the matching pending actions across every page, without
    duplicates, cut at the cap (bulk_cap)."""
    access.access_require(user=user, project_id=project_id, action="decide")
    locale, cap = _locale(project_id), bulk_cap()
    try:
        actions = pending_matching(project_id=project_id, filters=filters, limit=cap + 1)
        context = _currencies(project_id, filters, locale)
    except LayersError as error:
        return SelectAllPreview(error=error, locale=locale, cap=cap)
    unique = list({(a.platform, a.pending_id): a for a in actions}.values())
    taken = unique[:cap]
    sums = {}
    for action in taken:
        row = context.row(action, seen={}, authority=None)
        if row.budget_change_cents and row.currency:
            sums[row.currency] = sums.get(row.currency, 0) + row.budget_change_cents
    return SelectAllPreview(
        count=len(taken),
        capped=len(unique) > cap,
        totals=tuple(sorted(sums.items())),
        locale=locale,
        cap=cap,
    )


def _locale(project_id: str) -> str:
    """The project's money locale, from the mirror when it knows the project (no read)."""
    from dashboard.models import MirrorProject
    from dashboard.money import money_locale

    mirrored = MirrorProject.objects.filter(pk=project_id).values_list(
        "primary_language", flat=True
    )
    language = mirrored.first()
    return money_locale(language) if language else project_locale(project_id)


def _currencies(project_id: str, filters, locale: str) -> RowContext:
    """The rows' currencies: the mirror's for pending actions (no read), else Layers'."""
    if filters.status == "pending":
        from dashboard.services.pending_mirror import MirrorQueueContext

        return MirrorQueueContext(project_id)
    return RowContext(
        accounts=accounts_get(project_id), campaigns=campaigns_get(project_id), locale=locale
    )


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

    if select_all_filters is not None:  # gathered by the background task: no read here
        with transaction.atomic():
            bulk = BulkDecision.objects.create(
                id=bulk_id,
                user=user,
                project_id=project_id,
                decision=decision,
                text=text,
                select_all=bulk_filters_store(select_all_filters),
                status=BulkDecision.Status.HELD
                if hold_seconds() > 0
                else BulkDecision.Status.QUEUED,
            )
            if hold_seconds() > 0:  # held like any bulk; its items are gathered when sent
                bulk_hold_place(bulk)
            else:
                transaction.on_commit(lambda: bulk_decision_run.enqueue(str(bulk.id)))
        return bulk
    targets = []
    for value in selected:
        platform, _, pending_id = value.partition(":")
        if platform in PLATFORMS and pending_id:
            targets.append((platform, pending_id[:80]))
    targets = list(dict.fromkeys(targets))[: bulk_cap()]
    if not targets:
        raise ValueError("Select at least one pending action.")

    actions = {pending_id: pending_recall(project_id, pending_id) for _, pending_id in targets}
    # Held before sending (one Undo for the batch), unless one of them would expire first.
    held = hold_seconds() > 0 and not any(
        action_expires_within(a, hold_seconds()) for a in actions.values() if a
    )
    with transaction.atomic():
        bulk = BulkDecision.objects.create(
            id=bulk_id,
            user=user,
            project_id=project_id,
            decision=decision,
            text=text,
            status=BulkDecision.Status.HELD if held else BulkDecision.Status.QUEUED,
        )
        bulk_items_create(bulk, targets)
        if held:
            bulk_hold_place(bulk)
        else:
            transaction.on_commit(lambda: bulk_decision_run.enqueue(str(bulk.id)))
    return bulk


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
                status=BulkDecision.Status.QUEUED, finished_at=None, stopped_sentence=""
            )
            transaction.on_commit(lambda: bulk_decision_run.enqueue(str(bulk.id)))
    bulk.refresh_from_db()
    return bulk


def bulk_decision_resume(*, user, project_id: str, bulk_id: str) -> BulkDecision:
    """Queues again a bulk decision whose worker is gone (from its page). One still alive,
    or finished, is left as it is."""
    access.access_require(user=user, project_id=project_id, action="decide")
    bulk = bulk_decision_get(user=user, project_id=project_id, bulk_id=bulk_id)
    for stale_id in bulk_decisions_abandoned(bulk_id=bulk.id):
        bulk_decision_run.enqueue(stale_id)
    bulk.refresh_from_db()
    return bulk


def bulk_decisions_recover() -> list[str]:
    """Every bulk decision whose worker is gone, queued again (`manage.py bulk_recover`)."""
    taken = bulk_decisions_abandoned()
    for stale_id in taken:
        bulk_decision_run.enqueue(stale_id)
    return taken
