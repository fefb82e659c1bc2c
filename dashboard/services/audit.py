"""The audit log of a project: Layers' rows, newest first, joined with our own decision
records so a row says which person at the partner acted, not only "partner"; and a CSV
export that walks every page inside the key's read budget.

`GET /v1/audit-log` filters by event type and time server-side (contract §7.1). Actor,
decision and platform live inside each row's data, so those filters are applied here to the
pages fetched, and the page says so."""

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone

from dashboard.cursors import cursor_read, cursor_sign
from dashboard.layers import LayersError
from dashboard.models import DecisionRecord
from dashboard.money import DEFAULT_LOCALE, cents_format
from dashboard.services import access
from dashboard.services.projects import project_get, project_locale
from dashboard.services.upstream import cached_read, layers

ACTOR_TYPES = ("partner", "user", "system", "optimizer")
DECISIONS = {"allow": "Allowed", "queue": "Queued for approval", "deny": "Denied"}
PLATFORMS = ("meta", "tiktok", "apple")
EVENT_TYPES = (
    "ads.write.dispatched",
    "ads.write.queued",
    "ads.write.denied",
    "ads.pending.approved",
    "ads.pending.rejected",
    "ads.pending.expired",
    "ads.pending.dispatched",
    "ads.authority.updated",
    "ads.defaults.updated",
    "ads.kill_switch.updated",
    "ads.optimizer.run_started",
    "api.request",
)
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{0,79}$")
PAGE_SIZE = 50
SCAN_LIMIT = 200  # rows per upstream page while filtering here
SCAN_PAGES = 4  # pages read per screen while filtering here, at most


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    event: str = ""
    decision: str = ""
    platform: str = ""
    since: str = ""  # YYYY-MM-DD, inclusive
    until: str = ""  # YYYY-MM-DD, inclusive (the whole day)
    cursor: str = ""

    @classmethod
    def from_query(cls, query) -> "AuditFilters":
        def pick(name, allowed):
            value = (query.get(name) or "").strip()
            return value if value in allowed else ""

        event = (query.get("event") or "").strip()
        return cls(
            actor=pick("actor", ACTOR_TYPES),
            event=event if EVENT_TYPE_PATTERN.match(event) else "",
            decision=pick("decision", DECISIONS),
            platform=pick("platform", PLATFORMS),
            since=_date(query.get("since")),
            until=_date(query.get("until")),
            cursor=(query.get("cursor") or "").strip()[:4000],
        )

    def query(self, **changes) -> dict:
        values = dataclasses.asdict(dataclasses.replace(self, **changes))
        return {name: value for name, value in values.items() if value}

    @property
    def filtered_here(self) -> bool:
        """Filters Layers cannot apply, so they are applied to the fetched pages."""
        return bool(self.actor or self.decision or self.platform)

    @property
    def any(self) -> bool:
        return bool(
            self.actor or self.event or self.decision or self.platform or self.since or self.until
        )

    def upstream(self) -> dict:
        """The part Layers filters on: event type and the time range, as ISO instants."""
        params = {}
        if self.event:
            params["event_type"] = self.event
        if self.since:
            params["since"] = _instant(self.since)
        if self.until:
            params["until"] = _instant(self.until, end_of_day=True)
        return params

    def matches(self, event) -> bool:
        if self.actor and actor_type_of(event) != self.actor:
            return False
        if self.decision and (event.verdict or "") != self.decision:
            return False
        return not self.platform or event.platform == self.platform


def _date(value) -> str:
    value = (value or "").strip()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
    except ValueError:
        return ""


def _instant(day: str, end_of_day: bool = False) -> str:
    """A day in the dashboard's time zone as a UTC instant (until is inclusive, to the ms)."""
    start = timezone.make_aware(datetime.strptime(day, "%Y-%m-%d"))
    moment = start + timedelta(days=1) - timedelta(milliseconds=1) if end_of_day else start
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def actor_type_of(event) -> str:
    return (
        event.actor_type or (event.data or {}).get("actor_type") or event.actor or ""
    ).removesuffix("_api")


@dataclass(frozen=True)
class AuditRow:
    event: object  # AuditEvent
    person: str = ""  # the username behind it, from our decision records
    record_action: str = ""
    amount_minor: int | None = None  # a budget typed here, in its currency's minor unit
    currency: str = ""
    locale: str = DEFAULT_LOCALE  # the project's, for money

    @property
    def amount_text(self) -> str:
        """ "¥5,000": the budget as the pages show it; "" for rows without one."""
        if self.amount_minor is None:
            return ""
        return cents_format(self.amount_minor, self.currency, locale=self.locale)

    @property
    def actor_type(self) -> str:
        return actor_type_of(self.event)

    @property
    def platform(self) -> str:
        return self.event.platform or ""

    @property
    def what(self) -> str:
        return event_words(self.event.event_type)

    @property
    def decision_words(self) -> str:
        return DECISIONS.get(self.event.verdict or "", self.event.verdict or "")

    @property
    def note(self) -> str:
        """What the person wrote with it (an approve comment or a reject reason)."""
        data = self.event.data or {}
        for key in ("comment", "note"):
            if isinstance(data.get(key), str) and data[key]:
                return data[key]
        return ""  # a reject reason is the row's reason already

    @property
    def pending_id(self) -> str:
        value = (self.event.data or {}).get("pendingId")
        return value if isinstance(value, str) else ""

    @property
    def run_id(self) -> str:
        value = (self.event.data or {}).get("runId")
        return value if isinstance(value, str) else ""

    @property
    def job_id(self) -> str:
        value = (self.event.data or {}).get("jobId")
        return value if isinstance(value, str) else ""


def event_words(event_type: str) -> str:
    """ "ads.pending.approved" -> "Pending approved"."""
    text = (event_type or "").removeprefix("ads.").replace(".", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Event"


@dataclass(frozen=True)
class AuditLog:
    project: object
    rows: tuple[AuditRow, ...]
    filters: AuditFilters
    next_cursor: str | None
    scanned: int = 0  # rows fetched from Layers for this screen
    error: LayersError | None = None

    @property
    def more_query(self) -> str:
        return urlencode(self.filters.query(cursor=self.next_cursor or ""))

    @property
    def export_query(self) -> str:
        return urlencode(self.filters.query(cursor=""))


def audit_log(*, user, project_id: str, filters: AuditFilters) -> AuditLog:
    """One screen of the log. With filters Layers cannot apply, reads up to SCAN_PAGES pages
    of SCAN_LIMIT rows to fill a screen, and says how many rows it looked at."""
    access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    scope = f"audit:{project_id}"
    cursor = cursor_read(filters.cursor, scope=scope) or None  # only cursors we signed
    rows, scanned = [], 0
    limit = SCAN_LIMIT if filters.filtered_here else PAGE_SIZE
    try:
        for _ in range(SCAN_PAGES if filters.filtered_here else 1):
            page = _page(project_id, filters, cursor, limit)
            scanned += len(page.items)
            rows.extend(e for e in page.items if filters.matches(e))
            cursor = page.next_cursor
            if not cursor or len(rows) >= PAGE_SIZE:
                break
    except LayersError as error:
        if not rows:
            if error.status == 422 and filters.cursor:
                error = LayersError(
                    "That “load more” link has expired; start again from the newest events.",
                    code=error.code,
                    status=error.status,
                    request_id=error.request_id,
                )
            return AuditLog(
                project=project, rows=(), filters=filters, next_cursor=None, error=error
            )
        return AuditLog(
            project=project,
            rows=tuple(audit_rows_join(project_id, rows)),
            filters=filters,
            next_cursor=cursor_sign(cursor, scope=scope),
            scanned=scanned,
            error=error,
        )
    return AuditLog(
        project=project,
        rows=tuple(audit_rows_join(project_id, rows)),
        filters=filters,
        next_cursor=cursor_sign(cursor, scope=scope),
        scanned=scanned,
    )


def _page(project_id, filters: AuditFilters, cursor, limit):
    params = filters.upstream()
    name = "audit:" + urlencode(sorted({**params, "cursor": cursor or "", "limit": limit}.items()))
    return cached_read(
        project_id,
        name,
        lambda: layers().audit_log_list(
            project_id=project_id, cursor=cursor, limit=limit, **params
        ),
    )


def audit_rows_join(project_id: str, events) -> list[AuditRow]:
    """Each event with the person behind it: our decision records by verdict id, and for
    optimizer runs (which have no verdict) by run id. One query per screen."""
    events = list(events)
    verdict_ids = {e.verdict_id for e in events if e.verdict_id}
    run_ids = {(e.data or {}).get("runId") for e in events} - {None}
    people = {}
    if verdict_ids or run_ids:
        records = (
            DecisionRecord.objects.filter(project_id=project_id)
            .filter(_records_q(verdict_ids, run_ids))
            .select_related("user")
            .order_by("created_at")
        )
        for record in records:
            name = record.user.get_username() if record.user else "(a deleted person)"
            found = (name, record.action, record.amount_minor, record.currency)
            if record.verdict_id:
                people[record.verdict_id] = found
            if record.action == "optimizer":
                people[record.entity_id] = found
    rows, locale = [], project_locale(project_id) if people else DEFAULT_LOCALE
    for event in events:
        key = event.verdict_id or (event.data or {}).get("runId")
        found = people.get(key) if isinstance(key, str) else None
        name, action, amount, currency = found or ("", "", None, "")
        rows.append(
            AuditRow(
                event=event,
                person=name,
                record_action=action,
                amount_minor=amount,
                currency=currency,
                locale=locale,
            )
        )
    return rows


def _records_q(verdict_ids, run_ids) -> Q:
    query = Q(verdict_id__in=[v for v in verdict_ids if isinstance(v, str)])
    strings = [r for r in run_ids if isinstance(r, str)]
    if strings:
        query |= Q(action="optimizer", entity_id__in=strings)
    return query
