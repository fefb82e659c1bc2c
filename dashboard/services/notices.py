"""Notices: what a person should look at across the projects they can see. Denied writes,
failed dispatches and finished optimizer runs come from webhooks (stored as `Notice`);
actions about to expire come from the mirror (the synced copy of every pending list).

The badge in the navigation costs one indexed count query and no upstream call; the
expiring list is one query of the mirror however many customers a person sees."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dashboard.layers import LayersError
from dashboard.models import Notice, NoticeMarker
from dashboard.models.mirror import MirrorAction, MirrorProject
from dashboard.services import access
from dashboard.services.projects_page import projects_visible
from dashboard.wording import platform_name

EXPIRING_WITHIN = timedelta(hours=24)
EXPIRING_SECONDS = 300
LIST_SIZE = 100
EVER = datetime(1970, 1, 1, tzinfo=UTC)


def _visible(ids: set[str] | None) -> Q:
    """The notices of these projects (access.project_ids_visible's answer; None: all)."""
    return Q() if ids is None else Q(project_id__in=ids)


def _read_until(user):
    marker = NoticeMarker.objects.filter(user=user).only("read_until").first()
    return marker.read_until if marker else None


def notices_unread_count(*, user) -> int:
    """The badge on every page: the person's projects read once (the request's memo), their
    marker, one count; the expiring ones from the cache."""
    if not user.is_authenticated:
        return 0
    ids = access.project_ids_visible(user=user)
    since = _read_until(user) or EVER  # no marker yet: since ever
    unread = Notice.objects.filter(_visible(ids), created_at__gt=since).count()
    return unread + _expiring_cached_count(ids)


def notices_mark_read(*, user) -> None:
    NoticeMarker.objects.update_or_create(user=user, defaults={"read_until": timezone.now()})


@dataclass(frozen=True)
class NoticeRow:
    notice: Notice
    project_name: str
    unread: bool


@dataclass(frozen=True)
class Expiring:
    project_id: str
    project_name: str
    platform: str
    pending_id: str
    what: str
    entity_name: str
    expires_at: object
    link: str

    @property
    def platform_name(self) -> str:
        return platform_name(self.platform)


@dataclass(frozen=True)
class NoticesPage:
    rows: tuple[NoticeRow, ...]
    expiring: tuple[Expiring, ...]
    unread: int
    errors: tuple = ()


def notices_page(*, user) -> NoticesPage:
    names = {}
    errors = []
    try:
        projects = projects_visible(user=user)  # the mirror's; Layers' only on a fresh install
        names = {p.id: p.name for p in projects}
    except LayersError as error:
        projects = []
        errors.append(error)
    read_until = _read_until(user)
    visible = _visible(access.project_ids_visible(user=user))
    notices = Notice.objects.filter(visible).order_by("-created_at")[:LIST_SIZE]
    rows = tuple(
        NoticeRow(
            notice=n,
            project_name=names.get(n.project_id, n.project_id),
            unread=read_until is None or n.created_at > read_until,
        )
        for n in notices
    )
    expiring, expiring_errors = _expiring(projects)
    return NoticesPage(
        rows=rows,
        expiring=expiring,
        unread=sum(r.unread for r in rows),
        errors=tuple(dict.fromkeys(errors + expiring_errors)),
    )


def _expiring(projects) -> tuple[tuple[Expiring, ...], list]:
    """The visible customers' pending actions expiring within 24 h, soonest first, from the
    mirror (no upstream read); a copy is kept for the badge, which never calls Layers."""
    names = {p.id: p.name for p in projects}
    now = timezone.now()
    actions = (
        MirrorAction.objects.pending()
        .filter(project_id__in=list(names), expires_at__gt=now)
        .filter(expires_at__lte=now + EXPIRING_WITHIN)
        .order_by("expires_at", "pending_id")
        .values_list(
            "project_id",
            "platform",
            "pending_id",
            "action_type",
            "entity_name",
            "entity_id",
            "expires_at",
        )
    )
    found, for_badge = [], {f"notices:expiring:{pid}": [] for pid in names}
    for project_id, platform, pending_id, action_type, entity_name, entity_id, at in actions:
        query = urlencode({"platform": platform, "sort": "expiring"})
        found.append(
            Expiring(
                project_id=project_id,
                project_name=names[project_id],
                platform=platform,
                pending_id=pending_id,
                what=(action_type or "change").replace("_", " "),
                entity_name=entity_name or entity_id or "",
                expires_at=at,
                link=f"{reverse('queue', args=[project_id])}?{query}#pa-{pending_id}",
            )
        )
        for_badge[f"notices:expiring:{project_id}"].append((pending_id, at))
    cache.set_many(for_badge, timeout=EXPIRING_SECONDS)
    return tuple(found), []


def _expiring_cached_count(ids) -> int:
    """Actions about to expire, as last read for the notices page (cache only); `ids`: the
    projects the person sees (None: every project, as for a superuser: the mirror's)."""
    if ids is None:
        ids = list(MirrorProject.objects.values_list("project_id", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    found = cache.get_many([f"notices:expiring:{pid}" for pid in ids])
    return sum(1 for items in found.values() for _, at in items if at and at > now)
