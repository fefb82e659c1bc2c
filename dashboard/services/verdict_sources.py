"""A verdict from what is documented or ours, for the verdict page (services.verdicts):
the audit rows carrying its id (contract §7.2) and our own DecisionRecords (the write
answers we kept). Layers documents no way to read a verdict itself (§2.9)."""

from dashboard.layers import LayersError
from dashboard.layers.records import Verdict
from dashboard.services.audit import SCAN_LIMIT, actor_type_of
from dashboard.services.upstream import cached_read, layers

TIMELINE_PAGES = 3  # the entity's history is looked for in the latest 600 audit rows
# An audit row without a `verdict` value (§7.2 rows of approvals) says it by its type.
EVENT_DECISIONS = {
    "ads.write.dispatched": "allow",
    "ads.write.queued": "queue",
    "ads.write.denied": "deny",
    "ads.pending.approved": "approved",
    "ads.pending.rejected": "rejected",
}
# Our own record's outcome, when no audit row carrying the id was found.
OUTCOME_DECISIONS = {
    "applied": "allow",
    "queued": "queue",
    "denied": "deny",
    "refused": "deny",
    "approved": "approved",
    "rejected": "rejected",
}


def verdict_assembled(verdict_id, carrying, records):
    """A Verdict from the audit rows carrying the id (oldest first wins; a row with a
    `verdict` value before one without) and our own records, or None when neither knows it."""
    ordered = sorted(
        carrying,
        key=lambda e: (
            not e.verdict,
            e.event_type not in EVENT_DECISIONS,
            e.occurred_at.timestamp() if e.occurred_at else 0,
        ),
    )
    event = ordered[0] if ordered else None
    record = records[0] if records else None
    if event is None and record is None:
        return None
    data = (event.data or {}) if event else {}
    decision = (event.verdict if event else None) or EVENT_DECISIONS.get(
        (event.event_type if event else "") or ""
    )
    if decision is None and record is not None:
        decision = OUTCOME_DECISIONS.get(record.outcome)
    request = {
        k: data[k] for k in ("method", "path") if isinstance(data.get(k), str) and data.get(k)
    }
    pending_id = data.get("pendingId") if isinstance(data.get("pendingId"), str) else None
    if pending_id is None and record is not None and record.action in ("approve", "reject"):
        pending_id = record.entity_id
    entity_id = event.entity_id if event else None
    if entity_id is None and record is not None and record.entity_id.startswith("cmp_"):
        entity_id = record.entity_id  # a campaign written here (budget, pause, authority)
    job_id = data.get("jobId") if isinstance(data.get("jobId"), str) else None
    return Verdict(
        verdict_id=verdict_id,
        decision=decision,
        reason=event.reason if event else None,
        axis=event.axis if event else None,
        authority=None,  # no documented source says which authority was in force
        request=request,
        actor_type=(actor_type_of(event) if event else "") or ("partner" if record else None),
        platform=(event.platform if event else None) or (record.platform if record else None),
        entity_type=(event.entity_type if event else None)
        or ("campaign" if entity_id and entity_id.startswith("cmp_") else None),
        entity_id=entity_id,
        pending_id=pending_id,
        job_id=job_id,
        created_at=(event.occurred_at if event else None)
        or (record.created_at if record else None),
    )


def verdict_unknown(verdict, source, request) -> list[str]:
    if source == "layers":
        return []
    unknown = []
    if verdict.authority is None:
        unknown.append(
            "Which authority was in force on each axis (the row names the deciding axis at most)."
        )
    if not request.get("body"):
        unknown.append("The request's body: the audit row keeps only its method and path.")
    if not verdict.decision:
        unknown.append("The decision itself.")
    if source == "ours":
        unknown.append(
            "Layers' side of it: no audit row carrying this id was in the latest audit events."
        )
    return unknown


def audit_scan(project_id):
    """The latest audit rows (up to TIMELINE_PAGES pages), newest first, shared for a while
    by every verdict page of the project."""
    found, scanned, cursor = [], 0, None
    try:
        for _ in range(TIMELINE_PAGES):
            page = cached_read(
                project_id,
                f"audit-scan:{cursor or ''}",
                lambda c=cursor: layers().audit_log_list(
                    project_id=project_id, cursor=c, limit=SCAN_LIMIT
                ),
            )
            scanned += len(page.items)
            found.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                break
    except LayersError as error:
        return found, scanned, error
    return found, scanned, None


def about_verdict(event, verdict) -> bool:
    """An audit row about the same entity, the same pending action, or the verdict itself."""
    wanted = {x for x in (verdict.entity_id, verdict.pending_id, verdict.verdict_id) if x}
    data = event.data or {}
    return bool(
        {event.entity_id, event.verdict_id, data.get("pendingId"), data.get("campaignId")} & wanted
    )
