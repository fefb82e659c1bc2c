"""The audit log as a CSV file: every page of the filtered log, newest first, each row
with the person behind it, paced inside the key's read budget, and safe to open in a
spreadsheet (no cell runs as a formula)."""

import csv
import logging
import re
import time

from django.utils import timezone

from dashboard.layers import LayersError, RateLimited
from dashboard.money import money_plain
from dashboard.services import access
from dashboard.services.audit import SCAN_LIMIT, AuditFilters, audit_rows_join
from dashboard.services.projects import project_get
from dashboard.services.upstream import budget_get, layers

log = logging.getLogger("dashboard.audit")

EXPORT_MAX_PAGES = 500  # 100,000 rows
BUDGET_RESERVE = 10  # leave this many reads of the minute for the people using the dashboard
MAX_SLEEP_SECONDS = 65  # the read budget resets every minute
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


def audit_export_check(*, user, project_id: str) -> None:
    access.access_require(user=user, project_id=project_id)
    project_get(user=user, project_id=project_id)


def audit_export_lines(*, user, project_id: str, filters: AuditFilters, sleep=time.sleep):
    """The filtered log as CSV lines, every page, newest first. Paced by the read budget:
    when few reads are left in the minute, it waits for the reset (bounded) instead of
    spending what the people using the dashboard need. Trouble midway ends the file with
    a line saying so (the status line was sent long ago)."""
    access.access_require(user=user, project_id=project_id)
    writer = csv.writer(_Line())
    yield writer.writerow([name for name, _ in CSV_COLUMNS])
    client = layers()
    params = filters.upstream()
    cursor, pages = None, 0
    while True:
        if pages >= EXPORT_MAX_PAGES:
            yield writer.writerow(
                [
                    csv_cell(
                        f"Export stopped after {pages * SCAN_LIMIT} rows; "
                        "narrow the dates for the rest."
                    )
                ]
            )
            return
        _budget_wait(sleep)
        try:
            page = client.audit_log_list(
                project_id=project_id, cursor=cursor, limit=SCAN_LIMIT, **params
            )
        except RateLimited as error:
            sleep(min(error.retry_after or 5, MAX_SLEEP_SECONDS))
            continue
        except LayersError as error:
            log.warning("audit export of %s stopped: %s", project_id, error)
            yield writer.writerow([csv_cell(f"Export incomplete: {error.message}")])
            return
        pages += 1
        for row in audit_rows_join(project_id, [e for e in page.items if filters.matches(e)]):
            yield writer.writerow([csv_cell(get(row)) for _, get in CSV_COLUMNS])
        cursor = page.next_cursor
        if not cursor:
            return


def _budget_wait(sleep) -> None:
    budget = budget_get("read-light") or {}
    remaining, reset = budget.get("remaining"), budget.get("reset")
    if remaining is None or remaining > BUDGET_RESERVE:
        return
    wait = reset - time.time() if reset else 5  # the client made the reset absolute
    if wait <= 0:
        return  # the minute this was said in is over
    sleep(max(0.5, min(wait, MAX_SLEEP_SECONDS)))


def export_filename(project_id: str, filters: AuditFilters) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    safe = re.sub(r"[^A-Za-z0-9_-]", "", project_id)[:60]
    return f"audit-{safe}-{stamp}.csv"
