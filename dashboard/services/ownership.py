"""Ownership: each customer (project) has an owner among the people with access to it,
and optionally a cover, with dates, while the owner is away. Project admins (and
superusers) assign them; the Projects page shows them and flags a customer without one;
the inbox's "Mine" reads `projects_owned_or_covered`."""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from dashboard.models import ProjectGrant, ProjectOwnership
from dashboard.services import access


@dataclass(frozen=True)
class Owners:
    """A project's owner and cover as the Projects page shows them. `owner` is None when
    nobody owns it, or the owner no longer has access (then `lost` names them)."""

    owner: object = None
    cover: object = None
    cover_from: datetime.date | None = None
    cover_until: datetime.date | None = None
    lost: str = ""  # the username of an owner who lost access to the project

    @property
    def covering_now(self) -> bool:
        today = timezone.localdate()
        return bool(self.cover and self.cover_from <= today <= self.cover_until)

    @property
    def cover_ended(self) -> bool:
        return bool(self.cover and self.cover_until < timezone.localdate())


def _with_access(project_id: str) -> set[int]:
    return set(ProjectGrant.objects.filter(project_id=project_id).values_list("user_id", flat=True))


@dataclass(frozen=True)
class Person:
    """Someone a card names, as the pages show them (no full user row per card)."""

    id: int
    username: str

    def __str__(self) -> str:
        return self.username

    def get_username(self) -> str:
        return self.username


def ownership_map(project_ids) -> dict[str, Owners]:
    """project_id -> Owners, for every given project (two queries for the whole page)."""
    project_ids = list(project_ids)
    rows = {
        row[0]: row
        for row in ProjectOwnership.objects.filter(project_id__in=project_ids).values_list(
            "project_id",
            "owner_id",
            "owner__username",
            "owner__is_superuser",
            "cover_id",
            "cover__username",
            "cover__is_superuser",
            "cover_from",
            "cover_until",
        )
    }
    named = {row[1] for row in rows.values()} | {row[4] for row in rows.values()}
    grants = set(  # only the grants of the people named: not everyone's on every project
        ProjectGrant.objects.filter(
            project_id__in=list(rows), user_id__in=named - {None}
        ).values_list("project_id", "user_id")
    )

    def person(project_id, user_id, username, superuser):
        """The person, or None when nobody is named or they lost access to the project."""
        if user_id is not None and (superuser or (project_id, user_id) in grants):
            return Person(user_id, username)
        return None

    found = {}
    for project_id in project_ids:
        row = rows.get(project_id)
        if row is None:
            found[project_id] = Owners()
            continue
        _, owner_id, owner_name, owner_super, cover_id, cover_name, cover_super, start, end = row
        owner = person(project_id, owner_id, owner_name, owner_super)
        cover = person(project_id, cover_id, cover_name, cover_super) if start and end else None
        found[project_id] = Owners(
            owner=owner,
            cover=cover,
            cover_from=start if cover else None,
            cover_until=end if cover else None,
            lost=owner_name if owner_id is not None and owner is None else "",
        )
    return found


def ownership_candidates(*, user, project_id: str) -> list:
    """The people who may own or cover the project: everyone with access to it."""
    access.access_require(user=user, project_id=project_id, action="admin")
    return list(
        get_user_model()
        .objects.filter(grants__project_id=project_id, is_active=True)
        .order_by("username")
        .distinct()
    )


def ownership_get(*, user, project_id: str) -> Owners:
    access.access_require(user=user, project_id=project_id)
    return ownership_map([project_id])[project_id]


def ownership_set(
    *,
    actor,
    project_id: str,
    owner_id,
    cover_id=None,
    cover_from: datetime.date | None = None,
    cover_until: datetime.date | None = None,
) -> ProjectOwnership:
    """Assigns the owner (and the cover, with its dates, or none). Admins only; both must
    have access to the project. Raises ValueError with a sentence when something is off."""
    access.access_require(user=actor, project_id=project_id, action="admin")
    people = _with_access(project_id)
    users = get_user_model().objects
    owner = users.filter(id=_int(owner_id), is_active=True).first() if owner_id else None
    if owner is None or owner.id not in people:
        raise ValueError("Choose an owner among the people with access to this customer.")
    cover = None
    if cover_id:
        cover = users.filter(id=_int(cover_id), is_active=True).first()
        if cover is None or cover.id not in people:
            raise ValueError("Choose a cover among the people with access to this customer.")
        if cover == owner:
            raise ValueError("The cover must be someone other than the owner.")
        if not cover_from or not cover_until:
            raise ValueError("Give the first and the last day of the cover.")
        if cover_until < cover_from:
            raise ValueError("The cover's last day comes before its first day.")
    else:
        cover_from = cover_until = None
    row, _ = ProjectOwnership.objects.update_or_create(
        project_id=project_id,
        defaults={
            "owner": owner,
            "cover": cover,
            "cover_from": cover_from,
            "cover_until": cover_until,
            "assigned_by": actor,
        },
    )
    return row


def projects_owned_or_covered(user, on: datetime.date | None = None) -> set[str]:
    """The projects this person owns, or covers on the day `on` (today by default), among
    those they still have access to: the inbox's "Mine"."""
    if not user.is_authenticated:
        return set()
    on = on or timezone.localdate()
    mine = set(
        ProjectOwnership.objects.filter(
            Q(owner=user) | Q(cover=user, cover_from__lte=on, cover_until__gte=on)
        ).values_list("project_id", flat=True)
    )
    visible = access.project_ids_visible(user=user)
    return mine if visible is None else mine & visible


def projects_in_scope(user, scope: str) -> set[str] | None:
    """The customers the inbox narrows to: "mine" (owned, or covered today), "everyone"
    (None: no narrowing), or "" = mine for a person who owns or covers any customer."""
    if scope == "everyone":
        return None
    mine = projects_owned_or_covered(user)
    return mine if scope == "mine" or mine else None


def project_admin_ids(*, user, project_ids) -> set[str]:
    """Which of these projects the person administers (assigns owners on)."""
    if user.is_superuser:
        return set(project_ids)
    return set(
        ProjectGrant.objects.filter(
            user=user, project_id__in=list(project_ids), role="admin"
        ).values_list("project_id", flat=True)
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ProjectCard:
    project: object
    owners: Owners
    may_assign: bool


def project_cards(*, user, projects) -> list[ProjectCard]:
    """The Projects page's cards: each project with its owner and cover, and whether this
    person may assign them."""
    ids = [p.id for p in projects]
    owners = ownership_map(ids)
    admin = project_admin_ids(user=user, project_ids=ids)
    return [ProjectCard(p, owners[p.id], p.id in admin) for p in projects]
