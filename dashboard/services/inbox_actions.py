"""Deciding from the inbox, through the project queue's own path: one action with
`pending_decide` (the stale check, conflicts, idempotency keys, what was typed kept) and
many with `bulk_decision_start` (one bulk decision per customer). The mirror learns each
decision at once (`mirror_action_decided`).

The queue's path looks an action up in the copy it remembers before asking Layers; the
inbox hands it the mirrored copy first, so deciding from here never needs a list read.
When Layers cannot be reached the decision fails with Layers' sentence and the row comes
back from the mirror with what the person typed and the same form key."""

import dataclasses
import uuid

from dashboard.layers import PLATFORMS, LayersError, PendingAction
from dashboard.models import BulkDecision
from dashboard.models.mirror import MirrorAction
from dashboard.services import access
from dashboard.services.bulk_start import bulk_decision_start
from dashboard.services.inbox import InboxFilters, inbox_action_get, inbox_targets
from dashboard.services.pending import pending_recall, pending_remember, pending_remember_many
from dashboard.services.pending_decisions import DECISIONS, DecisionOutcome, pending_decide
from dashboard.services.pending_rows import QueueRow, RowContext
from dashboard.services.writes import key_clean


def mirror_pending_action(mirrored: MirrorAction):
    """The mirrored action as the wire record the queue's code reads (PendingAction), its
    status as the mirror knows it now (a decision made here changes it at once)."""
    try:
        action = PendingAction.from_wire(mirrored.record) if mirrored.record else None
    except LayersError:
        action = None
    if action is None:
        action = PendingAction(
            pending_id=mirrored.pending_id,
            action_type=mirrored.action_type or None,
            entity_type=mirrored.entity_type or None,
            entity_id=mirrored.entity_id or None,
            entity_name=mirrored.entity_name,
            platform=mirrored.platform,
            current_value=mirrored.current_value or {},
            new_value=mirrored.new_value or {},
            rationale=mirrored.rationale,
            detail=mirrored.detail or {},
            created_at=mirrored.created_at,
            expires_at=mirrored.expires_at,
        )
    return dataclasses.replace(action, status=mirrored.status or action.status)


class MirrorRowContext(RowContext):
    """A queue row drawn from the mirror alone: the action's currency is the one the mirror
    recorded, and no campaign list is read (the stale check reads the campaign itself at
    approve time, against the proposal's own current value)."""

    def __init__(self, *, currency: str, locale: str):
        super().__init__(accounts=[], campaigns=[], locale=locale)
        self._currency = currency or ""

    def currency(self, action) -> str:
        return self._currency


def inbox_detail_row(*, user, project_id: str, pending_id: str, **extra) -> QueueRow:
    """The queue's row for one mirrored action: rationale, details and the forms."""
    mirrored = inbox_action_get(user=user, project_id=project_id, pending_id=pending_id)
    return _mirror_row(mirrored, **extra)


def _mirror_row(mirrored, **extra) -> QueueRow:
    from dashboard.money import money_locale

    context = MirrorRowContext(
        currency=mirrored.currency or "",
        locale=money_locale(mirrored.project.primary_language),
    )
    return context.row(mirror_pending_action(mirrored), **extra)


def inbox_decide(
    *,
    user,
    project_id: str,
    platform: str,
    pending_id: str,
    decision: str,
    text: str,
    idempotency_key: str,
    seen: str = "",
) -> DecisionOutcome:
    """One approve or reject from the inbox: the queue's `pending_decide`, then the mirror."""
    access.access_require(user=user, project_id=project_id, action="decide")
    mirrored = inbox_action_get(user=user, project_id=project_id, pending_id=pending_id)
    if pending_recall(project_id, pending_id) is None:
        pending_remember(project_id, mirror_pending_action(mirrored))
    try:
        outcome = pending_decide(
            user=user,
            project_id=project_id,
            platform=platform,
            pending_id=pending_id,
            decision=decision,
            text=text,
            idempotency_key=idempotency_key,
            seen=seen,
        )
    except LayersError as error:
        # Layers went away between the send and redrawing the row (its accounts or the
        # campaign could not be read): the row from the mirror, the typing and key kept.
        return _unreached(mirrored, decision, text, idempotency_key, error)
    return outcome  # the sender told the mirror (mirror_action_decided) as it decided


def _unreached(mirrored, decision, text, idempotency_key, error) -> DecisionOutcome:
    text = (text or "").strip()[:1000]
    if decision not in DECISIONS:
        return DecisionOutcome(row=None, sentence=error.message, ok=False)
    typed = {"comment" if decision == "approve" else "reason": text}
    row = _mirror_row(mirrored, typed=typed, **{f"{decision}_key": key_clean(idempotency_key)})
    return DecisionOutcome(
        row=row, sentence=f"{error.message} What you typed is kept: try again.", ok=False
    )


def inbox_bulk_start(
    *,
    user,
    decision: str,
    text: str,
    selected: list[str],
    select_all_filters: InboxFilters | None,
    bulk_key: str,
) -> list[BulkDecision]:
    """One bulk decision per customer for the chosen actions (at most the bulk cap in all),
    each through `bulk_decision_start` with a key made from the form's own key, so a form
    sent twice starts nothing twice."""
    text = (text or "").strip()[:1000]
    if decision not in DECISIONS:
        raise ValueError("Choose approve or reject.")
    if decision == "reject" and not text:
        raise ValueError("Say why you are rejecting them: the reason is shown to the customer.")
    targets = inbox_targets(user=user, filters=select_all_filters, selected=selected)
    if not targets:
        raise ValueError("Select at least one pending action.")
    form_key = _form_key(bulk_key)
    _remember_names(targets)
    bulks = []
    for project_id, items in sorted(targets.items()):
        bulks.append(
            bulk_decision_start(
                user=user,
                project_id=project_id,
                decision=decision,
                text=text,
                selected=[f"{platform}:{pending_id}" for platform, pending_id in items],
                bulk_key=str(bulk_id_for(form_key, project_id)),
            )
        )
    return bulks


def _form_key(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(text or ""))
    except ValueError:
        return uuid.uuid4()


def bulk_id_for(form_key, project_id: str) -> uuid.UUID:
    """The bulk decision a form started for one customer (the same form, the same id)."""
    key = form_key if isinstance(form_key, uuid.UUID) else _form_key(form_key)
    return uuid.uuid5(key, project_id)


def inbox_bulks(*, user, form_key: str) -> list[BulkDecision]:
    """The bulk decisions one inbox form started, on projects this person may see."""
    from dashboard.models.mirror import MirrorProject
    from dashboard.services.inbox import roles_by_project

    try:
        key = uuid.UUID(form_key)
    except ValueError:
        return []
    roles = roles_by_project(user=user)
    projects = (
        list(roles)
        if roles is not None
        else list(MirrorProject.objects.values_list("project_id", flat=True))
    )
    ids = [bulk_id_for(key, p) for p in projects]
    return list(BulkDecision.objects.filter(id__in=ids).order_by("project_id"))


def _remember_names(targets: dict) -> None:
    """The mirrored copies, so each bulk item is named and its row redrawn without a read."""
    from dashboard.models.mirror import MirrorAction

    ids = [pending_id for items in targets.values() for _, pending_id in items]
    by_project: dict = {}
    for mirrored in MirrorAction.objects.filter(pending_id__in=ids):
        by_project.setdefault(mirrored.project_id, []).append(mirror_pending_action(mirrored))
    for project_id, actions in by_project.items():
        pending_remember_many(project_id, actions)


__all__ = ["PLATFORMS", "inbox_bulk_start", "inbox_decide", "inbox_detail_row"]
