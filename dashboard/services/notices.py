"""Notices: what a person should look at across the projects they can see. Denied writes,
failed dispatches and finished optimizer runs come from webhooks (stored as `Notice`);
actions about to expire are worked out from the shared pending lists.

The badge in the navigation costs one indexed count query and no upstream call. The
expiring list reads each project's pending actions through the shared cache, refreshed at
most once per EXPIRING_SECONDS for everyone together, never per page view."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import DateTimeField, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from dashboard.layers import PLATFORMS, LayersError
from dashboard.models import MirrorProject, Notice, NoticeMarker
from dashboard.services import access
from dashboard.services.projects import project_platforms
from dashboard.services.projects_page import projects_visible
from dashboard.services.upstream import cached_read, fan_out, layers
from dashboard.wording import platform_name

EXPIRING_WITHIN = timedelta(hours=24)
EXPIRING_SECONDS = 300
LIST_SIZE = 100
EVER = datetime(1970, 1, 1, tzinfo=UTC)


def _visible(user) -> Q:
    ids = access.project_ids_visible(user=user)
    return Q() if ids is None else Q(project_id__in=ids)


def _read_until(user):
    marker = NoticeMarker.objects.filter(user=user).only("read_until").first()
    return marker.read_until if marker else None


def notices_unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    # One query: the person's marker (none yet: since ever) inside the count.
    read_until = NoticeMarker.objects.filter(user=user).values("read_until")[:1]
    since = Coalesce(Subquery(read_until), Value(EVER), output_field=DateTimeField())
    query = Notice.objects.filter(_visible(user), created_at__gt=since)
    return query.count() + _expiring_cached_count(user)


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
    notices = Notice.objects.filter(_visible(user)).order_by("-created_at")[:LIST_SIZE]
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
    results = fan_out({p.id: _expiring_reader(p) for p in projects})
    found, errors = [], []
    for project in projects:
        value = results[project.id]
        if isinstance(value, LayersError):
            errors.append(value)
            continue
        found.extend(value)
    now = timezone.now()
    return tuple(
        sorted(
            (e for e in found if e.expires_at and e.expires_at > now), key=lambda e: e.expires_at
        )
    ), errors


def _expiring_reader(project):
    """The project's pending actions expiring within 24 h: one shared read per
    EXPIRING_SECONDS (single-flight, and dropped when the project changes upstream, like
    every cached read); a copy is kept for the badge, which never calls Layers."""

    def fetch():
        client = layers()
        horizon = timezone.now() + EXPIRING_WITHIN
        value = []
        for platform in _platforms(project):
            for action in client.iter_pages(
                client.pending_list,
                project_id=project.id,
                platform=platform,
                statuses=["pending"],
                limit=200,
                max_pages=5,
            ):
                if (
                    action.status == "pending"
                    and action.expires_at
                    and action.expires_at <= horizon
                ):
                    query = urlencode({"platform": platform, "sort": "expiring"})
                    value.append(
                        Expiring(
                            project_id=project.id,
                            project_name=project.name,
                            platform=platform,
                            pending_id=action.pending_id,
                            what=(action.action_type or "change").replace("_", " "),
                            entity_name=action.entity_name or action.entity_id or "",
                            expires_at=action.expires_at,
                            link=(
                                f"{reverse('queue', args=[project.id])}?{query}"
                                f"#pa-{action.pending_id}"
                            ),
                        )
                    )
        return value

    def read():
        value = cached_read(project.id, "expiring-soon", fetch, ttl=EXPIRING_SECONDS)
        cache.set(
            f"notices:expiring:{project.id}",
            [(e.pending_id, e.expires_at) for e in value],
            timeout=EXPIRING_SECONDS,
        )
        return value

    return read


def _platforms(project) -> list[str]:
    """The project's ad platforms: as the mirror read them, or from Layers' project record."""
    if isinstance(project, MirrorProject):
        return list(project.platforms) or list(PLATFORMS)
    return project_platforms(project)


def _expiring_cached_count(user) -> int:
    """Actions about to expire, as last read for the notices page (cache only)."""
    ids = access.project_ids_visible(user=user)
    if not ids:
        return 0
    now = timezone.now()
    found = cache.get_many([f"notices:expiring:{pid}" for pid in ids])
    return sum(1 for items in found.values() for _, at in items if at and at > now)
