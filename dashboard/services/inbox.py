"""The inbox: every pending action across the customers a person may see, from the mirror
(models/mirror.py), never from Layers. Filters, sorts, paging, the selection of "every
action matching" with its cap and spend, the live poll's count; what a page computes is
shared through the cache until the mirror's next write (services/mirror_stamp.py). One
action and deciding: inbox_actions.py; freshness and the Layers-down banner: inbox_sync.py."""

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.utils import timezone

from dashboard.layers import AXES, PLATFORMS
from dashboard.models import Role
from dashboard.models.mirror import MirrorAction, MirrorProject
from dashboard.money import DEFAULT_LOCALE, money_locale
from dashboard.services import access
from dashboard.services.bulk_start import bulk_cap
from dashboard.services.mirror_currency import spend_by_currency
from dashboard.services.mirror_stamp import ROWS, mirror_stamps, stamp_cached, stamp_key
from dashboard.services.ownership import projects_in_scope
from dashboard.services.pending import ACTION_TYPES, REJECT_REASONS

SORTS = {
    "expiring": "Expiring soonest",
    "spend": "Most spend at stake (face value)",  # no exchange rates: _list.html says so
    "newest": "Newest first",  # Layers' creation time
    "arrived": "Latest to arrive first",  # when the mirror first stored it (the live poll's)
}
SCOPES = ("mine", "everyone")
PAGE_SIZE = 50
KEPT_PAGES = 20  # the pages whose computation is shared through the cache
SOON = timedelta(hours=24)
__all__ = ["ACTION_TYPES", "REJECT_REASONS"]
# What a line of the inbox reads from a mirrored action (the rest stays in the database
# until its details are opened).
ROW_FIELDS = (
    "pending_id",
    "project_id",
    "project__name",
    "project__primary_language",
    "platform",
    "action_type",
    "entity_type",
    "entity_name",
    "entity_id",
    "current_value",
    "new_value",
    "axis",
    "spend_change_minor",
    "currency",
    "created_at",
    "expires_at",
    "status",
    "first_seen_at",
)


@dataclass(frozen=True)
class InboxFilters:
    customer: str = ""  # a project id
    platform: str = ""
    action_type: str = ""
    axis: str = ""
    expiring: bool = False  # only those expiring within 24 h
    sort: str = "expiring"
    page: int = 1
    scope: str = ""  # "mine", "everyone", or "" = mine when the person owns or covers any

    @classmethod
    def from_query(cls, query) -> "InboxFilters":
        def pick(name, allowed, default=""):
            value = (query.get(name) or "").strip()
            return value if value in allowed else default

        try:
            page = max(1, min(int(query.get("page") or 1), 10_000))
        except (TypeError, ValueError):
            page = 1
        return cls(
            customer=(query.get("customer") or "").strip()[:80],
            platform=pick("platform", PLATFORMS),
            action_type=pick("action", ACTION_TYPES),
            axis=pick("axis", AXES),
            expiring=(query.get("expiring") or "") in ("1", "on", "true"),
            sort=pick("sort", tuple(SORTS), "expiring"),
            page=page,
            scope=pick("scope", SCOPES),
        )

    def query(self, **changes) -> dict:
        """The query-string form (empty and default values left out)."""
        values = dataclasses.asdict(dataclasses.replace(self, **changes))
        values["action"] = values.pop("action_type")
        values["expiring"] = "1" if values["expiring"] else ""
        if values["page"] == 1:
            values["page"] = ""
        if values["sort"] == "expiring":
            values["sort"] = ""
        return {name: value for name, value in values.items() if value}

    def url(self, **changes) -> str:
        query = urlencode(self.query(**changes))
        return f"?{query}" if query else "?"


@dataclass(frozen=True)
class InboxRow:
    """One line: the mirrored action's fields a line shows, and whether the person may
    decide it."""

    pending_id: str
    project_id: str
    project_name: str
    locale: str
    platform: str
    action_type: str
    entity_type: str
    entity_name: str
    current_value: dict
    new_value: dict
    axis: str
    spend_change_minor: int | None
    currency: str
    created_at: object
    expires_at: object
    status: str
    first_seen_at: object = None  # when the mirror first stored it
    can_decide: bool = False

    @property
    def expires_soon(self) -> bool:
        return bool(self.expires_at and self.expires_at - timezone.now() < SOON)


@dataclass(frozen=True)
class Selection:
    """Every pending action matching the filters that the person may decide."""

    count: int
    cap: int
    spend: tuple  # ((currency, minor units per day, locale), ...): spend_by_currency

    @property
    def capped(self) -> bool:
        return self.count > self.cap


@dataclass(frozen=True)
class Inbox:
    rows: tuple[InboxRow, ...]
    filters: InboxFilters
    total: int  # actions matching the filters
    customers: tuple  # (project_id, name) the person may see, for the filter
    selection: Selection
    newest: object  # the latest arrival in the mirror among the matches (the poll's start)
    may_decide_any: bool
    mine: bool = False  # narrowed to the customers the person owns or covers
    bulk_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Where its drawn lines and customer choices are kept (mirror_stamp.py); "" = nowhere.
    cache_key: str = ""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def first_number(self) -> int:
        return (self.filters.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.rows) - 1 if self.rows else 0

    @property
    def previous_url(self) -> str | None:
        return self.filters.url(page=self.filters.page - 1) if self.filters.page > 1 else None

    @property
    def next_url(self) -> str | None:
        last = self.filters.page >= self.pages
        return None if last else self.filters.url(page=self.filters.page + 1)

    @property
    def filters_query(self) -> str:
        return urlencode(self.filters.query(page=1))


def roles_by_project(*, user) -> dict | None:
    """project id -> role for this person; None: every project as admin (superuser)."""
    if user.is_superuser:
        return None
    return access.grants_held(user=user)


def _may_decide(roles: dict | None, project_id: str) -> bool:
    if roles is None:
        return True
    role = roles.get(project_id)
    return access.role_allows(Role(role) if role else None, Role.APPROVER)


def inbox_matching(*, user, filters: InboxFilters, roles=None, mine=()):
    """The mirror's pending actions matching the filters, among the projects this person
    may see (a queryset, unsorted)."""
    roles = roles_by_project(user=user) if roles is None else roles
    actions = MirrorAction.objects.pending()
    if roles is not None:
        actions = actions.filter(project_id__in=list(roles))
    mine = projects_in_scope(user, filters.scope) if mine == () else mine
    if mine is not None:
        actions = actions.filter(project_id__in=sorted(mine))
    if filters.customer:
        actions = actions.filter(project_id=filters.customer)
    if filters.platform:
        actions = actions.filter(platform=filters.platform)
    if filters.action_type:
        actions = actions.filter(action_type=filters.action_type)
    if filters.axis:
        actions = actions.filter(axis=filters.axis)
    if filters.expiring:
        actions = actions.filter(expires_at__lte=timezone.now() + SOON)
    return actions


def actions_sorted(actions, sort: str):
    """Plain column orders (no NULLS LAST wrapper), so the database walks its index on
    expiry or creation time and stops after a page; ties broken by id."""
    if sort == "spend":  # major units, face value (SPEND_SORT_NOTE)
        return actions.order_by("-spend_stake_major", "expires_at", "pending_id")
    if sort == "newest":
        return actions.order_by("-created_at", "pending_id")
    if sort == "arrived":
        return actions.order_by("-first_seen_at", "pending_id")
    return actions.order_by("expires_at", "pending_id")


def _scope(roles, mine) -> tuple:
    """What a page depends on about the person: their projects and roles, and the scope."""
    return (
        None if roles is None else tuple(sorted(roles.items())),
        None if mine is None else tuple(sorted(mine)),
    )


def inbox_page(*, user, filters: InboxFilters) -> Inbox:
    """One page of the inbox, from the mirror only. Everyone with the same projects, roles
    and filters shares one computation until the mirror's next write (mirror_stamp.py)."""
    stamp = mirror_stamps().get(ROWS)  # first: a write after it makes a new key
    roles = roles_by_project(user=user)
    mine = projects_in_scope(user, filters.scope)
    # Only pages people reach are kept (made-up addresses are computed, not kept).
    allowed = [filters.customer] if roles is None else roles
    kept = filters.page <= KEPT_PAGES and filters.customer in ("", *allowed)
    # v2: the body's shape (spend carries locales); a body cached by the last release is not read.
    key = stamp_key(stamp if kept else None, "inbox-page-v2", _scope(roles, mine), filters)
    body = stamp_cached(key, lambda: _page_body(user, filters, roles, mine))
    return Inbox(
        rows=body["rows"],
        filters=filters,
        total=body["total"],
        customers=body["customers"],
        selection=Selection(count=body["count"], cap=bulk_cap(), spend=body["spend"]),
        newest=body["newest"],
        may_decide_any=body["may_decide_any"],
        mine=mine is not None,
        cache_key=key or "",
    )


def _page_body(user, filters: InboxFilters, roles, mine) -> dict:
    matching = inbox_matching(user=user, filters=filters, roles=roles, mine=mine)
    # Each of these walks a narrow covering index (0017, 0019), not the wide table.
    total = matching.count()
    newest = matching.aggregate(newest=Max("first_seen_at"))["newest"]
    start = (filters.page - 1) * PAGE_SIZE
    # Two steps: the page's ids in order (a narrow sort), then those 50 rows' fields.
    ids = list(
        actions_sorted(matching, filters.sort).values_list("pending_id", flat=True)[
            start : start + PAGE_SIZE
        ]
    )
    found = {
        value[0]: value
        for value in MirrorAction.objects.filter(pending_id__in=ids).values_list(*ROW_FIELDS)
    }
    deciding = None if roles is None else [p for p in roles if _may_decide(roles, p)]
    every = deciding is None or len(deciding) == len(roles)  # every match may be decided
    decidable = matching if every else matching.filter(project_id__in=deciding)
    return {
        "rows": tuple(_row(found[i], roles) for i in ids if i in found),
        "total": total,
        "customers": _customers(roles),
        "count": total if every else decidable.count(),
        "spend": spend_by_currency(decidable),
        "newest": newest,
        "may_decide_any": deciding is None or bool(deciding),
    }


def _row(value, roles) -> InboxRow:
    data = dict(zip(ROW_FIELDS, value, strict=True))
    return InboxRow(
        pending_id=data["pending_id"],
        project_id=data["project_id"],
        project_name=data["project__name"] or data["project_id"],
        locale=money_locale(data["project__primary_language"]) or DEFAULT_LOCALE,
        platform=data["platform"],
        action_type=data["action_type"],
        entity_type=data["entity_type"],
        entity_name=data["entity_name"] or data["entity_id"],
        current_value=data["current_value"] or {},
        new_value=data["new_value"] or {},
        axis=data["axis"],
        spend_change_minor=data["spend_change_minor"],
        currency=data["currency"] or "",
        created_at=data["created_at"],
        expires_at=data["expires_at"],
        status=data["status"],
        first_seen_at=data["first_seen_at"],
        can_decide=_may_decide(roles, data["project_id"]),
    )


def _customers(roles) -> tuple:
    projects = MirrorProject.objects.all()
    if roles is not None:
        projects = projects.filter(project_id__in=list(roles))
    return tuple(
        sorted(projects.values_list("project_id", "name"), key=lambda p: (p[1] or p[0]).lower())
    )


def inbox_new_count(*, user, filters: InboxFilters, after) -> int:
    """How many matching actions reached the mirror after `after` (the live poll): by when
    the mirror first stored them, so one proposed earlier but synced late counts too."""
    if after is None:
        return 0
    stamp = mirror_stamps().get(ROWS)
    roles = roles_by_project(user=user)
    mine = projects_in_scope(user, filters.scope)
    key = stamp_key(stamp, "inbox-new", _scope(roles, mine), filters, after.isoformat())
    return stamp_cached(
        key,
        lambda: (
            inbox_matching(user=user, filters=filters, roles=roles, mine=mine)
            .filter(first_seen_at__gt=after)
            .count()
        ),
    )


def inbox_targets(*, user, filters: InboxFilters | None, selected: list[str]) -> dict:
    """project id -> [(platform, pending id)] for a bulk decision: the boxes ticked
    ("project:platform:pendingId"), or every action matching the filters; only pending
    ones in the mirror, only on projects where this person may decide, at most the bulk
    cap (setting BULK_MAX_ITEMS; the soonest expiry first). Raises PermissionDenied when
    a ticked one is not theirs."""
    roles, cap = roles_by_project(user=user), bulk_cap()
    if filters is not None and filters.customer and not _may_decide(roles, filters.customer):
        raise PermissionDenied(access.DENIED_SENTENCE[Role.APPROVER])
    if filters is not None:
        actions = actions_sorted(
            inbox_matching(user=user, filters=filters, roles=roles), "expiring"
        )
        if roles is not None:
            actions = actions.filter(project_id__in=[p for p in roles if _may_decide(roles, p)])
        found = actions.values_list("project_id", "platform", "pending_id")[:cap]
    else:
        wanted = []
        for value in selected:
            project_id, _, rest = value.partition(":")
            platform, _, pending_id = rest.partition(":")
            if project_id and platform in PLATFORMS and pending_id:
                if not _may_decide(roles, project_id):
                    raise PermissionDenied(access.DENIED_SENTENCE[Role.APPROVER])
                wanted.append(pending_id[:80])
        found = (
            MirrorAction.objects.pending()
            .filter(pending_id__in=wanted[: cap * 2])
            .values_list("project_id", "platform", "pending_id")[:cap]
        )
    targets: dict = {}
    for project_id, platform, pending_id in found:
        if _may_decide(roles, project_id):
            targets.setdefault(project_id, []).append((platform, pending_id))
    return targets
