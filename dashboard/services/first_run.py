"""The first hour: what a superuser sees before anyone has a role, and whom a person without
any role can ask."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone

from dashboard.layers import LayersError
from dashboard.models import ProjectGrant, Role, WebhookSecret
from dashboard.services import projects
from dashboard.services.health import Part, health_check, sync_lag_by_platform
from dashboard.services.projects_page import projects_visible

MAX_GIVERS = 10
MAX_PROJECT_ROWS = 50


@dataclass(frozen=True)
class ProjectRow:
    id: str
    name: str
    admins: int
    people: int


@dataclass(frozen=True)
class FirstRun:
    organization: str | None
    customers: int | None  # None: Layers could not say
    error: LayersError | None
    rows: tuple[ProjectRow, ...]
    more_rows: int
    without_admin: int
    anyone_granted: bool
    sync_sentence: str
    webhooks_registered: bool
    parts: tuple[Part, ...] = field(default=())


def first_run_get(*, user) -> FirstRun:
    """For superusers only: how far the deployment is from being in use."""
    if not user.is_superuser:
        raise PermissionDenied("Only a superuser can see the first-run page.")
    organization, error, found = None, None, None
    try:
        found = projects_visible(user=user)  # the mirror's; Layers' only on a fresh install
        organization = projects.whoami_get().organization_name
    except LayersError as failure:
        error = failure
    admins, people = _grant_counts()
    rows = [ProjectRow(p.id, p.name, admins.get(p.id, 0), people.get(p.id, 0)) for p in found or ()]
    rows.sort(key=lambda row: (row.admins > 0, row.name.lower()))  # no admin yet: first
    return FirstRun(
        organization=organization,
        customers=None if found is None else len(found),
        error=error,
        rows=tuple(rows[:MAX_PROJECT_ROWS]),
        more_rows=max(0, len(rows) - MAX_PROJECT_ROWS),
        without_admin=sum(1 for row in rows if not row.admins),
        anyone_granted=anyone_granted(),
        sync_sentence=sync_sentence(),
        webhooks_registered=WebhookSecret.objects.filter(retired_at__isnull=True).exists(),
        parts=tuple(health_check()),
    )


def _grant_counts() -> tuple[dict, dict]:
    admins, people = {}, {}
    for project_id, role in ProjectGrant.objects.values_list("project_id", "role"):
        people[project_id] = people.get(project_id, 0) + 1
        if role == Role.ADMIN:
            admins[project_id] = admins.get(project_id, 0) + 1
    return admins, people


def sync_sentence() -> str:
    """How fresh the synced copy of the customers' lists is, in one sentence."""
    lag = sync_lag_by_platform(timezone.now())
    if lag is None or not lag:
        return "Not synced yet: every page reads Layers directly."
    ages = [s["lag"] for s in lag.values() if s["lag"] is not None]
    lists = sum(s["lists"] for s in lag.values())
    behind = sum(s["behind"] for s in lag.values())
    if not ages:
        return f"Not synced yet: {lists} lists wait for their first full refresh."
    sentence = f"The oldest of {lists} synced lists was refreshed {_ago(max(ages))}."
    if behind:
        sentence += f" {behind} {'is' if behind == 1 else 'are'} behind."
    return sentence


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} seconds ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes ago"
    return f"{seconds / 3600:.1f} hours ago"


def access_givers(*, limit: int = MAX_GIVERS) -> list[str]:
    """Who can give a person access: superusers, then admins of any project, by name (no
    e-mail addresses: a name is enough to ask a colleague, and the list shows to anyone
    signed in)."""
    User = get_user_model()
    admin_ids = ProjectGrant.objects.filter(role=Role.ADMIN).values("user_id")
    people = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(id__in=admin_ids))
        .order_by("-is_superuser", "username")
        .distinct()[:limit]
    )
    return [person.get_full_name() or person.get_username() for person in people]


def anyone_granted() -> bool:
    return ProjectGrant.objects.exists()
