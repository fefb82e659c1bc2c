"""The audit log as a CSV file: every page of the filtered log, newest first, each row
with the person behind it, and safe to open in a spreadsheet (no cell runs as a formula).

Built by a background task (issue 14, finding 4): the request only records an AuditExport
(one at a time per person), the worker reads the log inside a share of the key's read
budget and keeps each page as a part, the person follows its progress on a page and
downloads it when done; housekeeping deletes it AUDIT_EXPORT_KEEP_HOURS later."""

import csv
import logging
import re
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from dashboard.layers import LayersError, RateLimited
from dashboard.models import AuditExport, AuditExportPart
from dashboard.money import money_plain
from dashboard.services import access
from dashboard.services.audit import SCAN_LIMIT, AuditFilters, audit_rows_join
from dashboard.services.projects import project_get
from dashboard.services.upstream import budget_get, layers

log = logging.getLogger("dashboard.audit")

EXPORT_MAX_PAGES = 500  # 100,000 rows
BUDGET_RESERVE = 10  # leave this many reads of the minute for the people using the dashboard
MAX_SLEEP_SECONDS = 65  # the read budget resets every minute
RATE_LIMITED_TRIES = 5  # 429s in a row before the export ends, saying so
CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\0")

CSV_COLUMNS = (
    ("occurred_at", lambda r: r.event.occurred_at.isoformat() if r.event.occurred_at else ""),
    ("event_type", lambda r: r.event.event_type),
    ("actor_type", lambda r: r.actor_type),
    ("person", lambda r: r.person),
    ("decision", lambda r: r.event.verdict or ""),
    ("reason", lambda r: r.event.reason or ""),
    ("axis", lambda r: r.event.axis or ""),
    ("platform", lambda r: r.platform),
    ("entity_type", lambda r: r.event.entity_type or ""),
    ("entity_id", lambda r: r.event.entity_id or ""),
    ("pending_id", lambda r: r.pending_id),
    ("verdict_id", lambda r: r.event.verdict_id or ""),
    ("request_id", lambda r: r.event.request_id or ""),
    ("method", lambda r: (r.event.data or {}).get("method") or ""),
    ("path", lambda r: (r.event.data or {}).get("path") or ""),
    ("note", lambda r: r.note),
    # A budget typed through the dashboard (from our decision records): the amount in units
    # of its currency ("5000" yen, "50.00" dollars), the ISO code, and as the pages show it.
    ("amount", lambda r: money_plain(r.amount_minor, r.currency)),
    ("currency", lambda r: r.currency if r.amount_minor is not None else ""),
    ("amount_shown", lambda r: r.amount_text),
    ("event_id", lambda r: r.event.event_id or ""),
)  # never the API key id, nor any other field of the row's data


def csv_cell(value) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_DANGEROUS) else text


class _Line:
    """csv.writer writes into this; each row comes back as one string to stream."""

    def write(self, value):
        return value


def audit_export_start(*, user, project_id: str, filters: AuditFilters) -> tuple[AuditExport, bool]:
    """Records an export of the filtered log and queues the task that builds it; reads
    nothing from Layers. One export at a time per person: while one of theirs is queued or
    running, that one comes back (False) and nothing new starts."""
    access.access_require(user=user, project_id=project_id)
    running = _running_of(user)
    if running is not None:
        return running, False
    try:
        with transaction.atomic():
            export = AuditExport.objects.create(
                user=user,
                project_id=project_id,
                filters={k: str(v) for k, v in filters.query(cursor="").items()},
            )
            transaction.on_commit(lambda: _enqueue(export.id))
    except IntegrityError:  # a second click raced the first: the first one stands
        return _running_of(user), False
    return export, True


def audit_export_get(*, user, project_id: str, export_id) -> AuditExport:
    """An export of the project (anyone who can see the project's log can see its exports:
    they hold nothing the log page does not show). Raises AuditExport.DoesNotExist."""
    access.access_require(user=user, project_id=project_id)
    return AuditExport.objects.select_related("user").get(id=export_id, project_id=project_id)


def audit_export_page(*, user, project_id: str, filters: AuditFilters) -> dict:
    """The start page: the project, the filters it would export, and this person's recent
    exports of the project."""
    access.access_require(user=user, project_id=project_id)
    recent = AuditExport.objects.filter(user=user, project_id=project_id).order_by("-created_at")
    return {
        "project": project_get(user=user, project_id=project_id),
        "filters": filters,
        "recent": list(recent[:10]),
        "running": _running_of(user),
        "keep_hours": settings.AUDIT_EXPORT_KEEP_HOURS,
    }


def audit_export_progress(export: AuditExport) -> dict:
    return {
        "finished": export.status == AuditExport.Status.DONE,
        "rows": export.rows,
        "pages": export.pages,
        "kept_until": export.finished_at + timedelta(hours=settings.AUDIT_EXPORT_KEEP_HOURS)
        if export.finished_at
        else None,
    }


def audit_export_parts(export: AuditExport):
    """The finished file, part by part, straight from the database (no read of Layers)."""
    parts = AuditExportPart.objects.filter(export=export).order_by("number")
    yield from parts.values_list("text", flat=True).iterator(chunk_size=20)


def audit_export_execute(*, export_id, sleep=time.sleep) -> AuditExport:
    """The background half: every page of the filtered log, newest first, each kept as a
    part. Claimed first (one conditional update), so a second task for it does nothing.
    Paced twice: at most AUDIT_EXPORT_READ_SHARE of the key's read budget a minute, and
    never into the last BUDGET_RESERVE reads of a minute. Trouble midway ends the file with
    a line saying so, and the export's page says it too."""
    claimed = AuditExport.objects.filter(id=export_id, status=AuditExport.Status.QUEUED).update(
        status=AuditExport.Status.RUNNING, heartbeat_at=timezone.now()
    )
    export = AuditExport.objects.get(id=export_id)
    if not claimed:
        return export
    filters = AuditFilters.from_query(QueryDict(urlencode(export.filters)))
    writer = csv.writer(_Line())
    client = layers()
    params = filters.upstream()
    header = writer.writerow([name for name, _ in CSV_COLUMNS])
    cursor, pages, rows, sentence = None, 0, 0, ""
    window = {"reset": None, "used": 0}
    refused_in_a_row = 0
    try:
        while True:
            if pages >= EXPORT_MAX_PAGES:
                sentence = f"Export stopped after {pages * SCAN_LIMIT} rows; narrow the dates."
                break
            _pace(window, sleep)
            try:
                page = client.audit_log_list(
                    project_id=export.project_id, cursor=cursor, limit=SCAN_LIMIT, **params
                )
            except RateLimited as error:
                refused_in_a_row += 1
                if refused_in_a_row >= RATE_LIMITED_TRIES:
                    raise
                sleep(min(error.retry_after or 5, MAX_SLEEP_SECONDS))
                window["used"] = 0
                continue
            refused_in_a_row = 0
            window["used"] += 1
            matching = audit_rows_join(
                export.project_id, [e for e in page.items if filters.matches(e)]
            )
            lines = [
                writer.writerow([csv_cell(get(r)) for _, get in CSV_COLUMNS]) for r in matching
            ]
            AuditExportPart.objects.create(
                export=export, number=pages, text=(header if pages == 0 else "") + "".join(lines)
            )
            pages, rows = pages + 1, rows + len(lines)
            AuditExport.objects.filter(id=export.id).update(
                pages=pages, rows=rows, heartbeat_at=timezone.now()
            )
            cursor = page.next_cursor
            if not cursor:
                break
    except LayersError as error:
        log.warning("audit export of %s stopped: %s", export.project_id, error)
        sentence = f"Export incomplete: {error.message}"
    if pages == 0:  # not even a header was kept
        AuditExportPart.objects.create(export=export, number=0, text=header)
        pages = 1
    if sentence:
        AuditExportPart.objects.create(
            export=export, number=pages, text=writer.writerow([csv_cell(sentence)])
        )
    AuditExport.objects.filter(id=export.id).update(
        status=AuditExport.Status.DONE,
        rows=rows,
        sentence=sentence[:300],
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    return export


def audit_exports_expire() -> int:
    """Deletes the exports (and their parts) finished more than AUDIT_EXPORT_KEEP_HOURS ago."""
    cutoff = timezone.now() - timedelta(hours=settings.AUDIT_EXPORT_KEEP_HOURS)
    deleted, _ = AuditExport.objects.filter(finished_at__lt=cutoff).delete()
    return deleted


def _running_of(user):
    """The person's export still being made, if any. One whose worker shows no sign of life
    for BULK_STALE_SECONDS (it died, or no worker runs) is closed with a sentence first, so
    it never blocks the person's next export."""
    cutoff = timezone.now() - timedelta(seconds=settings.BULK_STALE_SECONDS)
    unfinished = AuditExport.objects.filter(
        user=user, status__in=[AuditExport.Status.QUEUED, AuditExport.Status.RUNNING]
    )
    unfinished.filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at=None, created_at__lt=cutoff)
    ).update(
        status=AuditExport.Status.DONE,
        finished_at=timezone.now(),
        sentence="Export incomplete: the worker making it stopped. Start the export again.",
    )
    return unfinished.order_by("-created_at").first()


def _enqueue(export_id) -> None:
    from dashboard.tasks import audit_export_run

    audit_export_run.enqueue(str(export_id))


def _pace(window: dict, sleep) -> None:
    """Waits for the next minute of the read budget when the export has spent its share
    of this one, or when the whole team is down to its last BUDGET_RESERVE reads."""
    budget = budget_get("read-light") or {}
    limit, remaining, reset = budget.get("limit"), budget.get("remaining"), budget.get("reset")
    if reset != window["reset"]:  # a new minute: the share starts again
        window["reset"], window["used"] = reset, 0
    if not limit:
        return  # no rate limit known (none announced yet): nothing to share
    share = max(1, int(limit * settings.AUDIT_EXPORT_READ_SHARE))
    if window["used"] < share and (remaining is None or remaining > BUDGET_RESERVE):
        return
    wait = reset - time.time() if reset else 5  # the client made the reset absolute
    sleep(max(0.5, min(wait, MAX_SLEEP_SECONDS)))
    window["used"] = 0


def export_filename(project_id: str, when=None) -> str:
    stamp = timezone.localtime(when).strftime("%Y%m%d-%H%M")
    safe = re.sub(r"[^A-Za-z0-9_-]", "", project_id)[:60]
    return f"audit-{safe}-{stamp}.csv"
