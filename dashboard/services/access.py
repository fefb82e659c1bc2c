"""Who may see and do what, per Layers project. Enforced here, on every read and write,
not only by hiding buttons.

Within one request (`access_memo`, opened by dashboard.middleware.AccessMemoMiddleware) a
person's grants are read once, however many checks the page makes; any grant saved or
deleted in this process meanwhile makes the next check read them again. Outside a request
(tasks, the worker) every check reads the database."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from dashboard.models import ROLE_RANK, ProjectGrant, Role

ACTION_ROLE = {
    "view": Role.VIEWER,
    "decide": Role.APPROVER,  # approve / reject pending actions
    "write": Role.APPROVER,  # authority, budgets, pause, create campaigns, run optimizer
    "admin": Role.ADMIN,  # connect accounts, manage access
}
DENIED_SENTENCE = {
    Role.VIEWER: "You do not have access to this project. Ask one of its admins to add you.",
    Role.APPROVER: "Your role on this project is read-only. An approver or admin can do this.",
    Role.ADMIN: "Only this project's admins can do this.",
}


_memo: ContextVar[dict | None] = ContextVar("access_memo", default=None)
_grants_changed = [0]  # bumped on every grant saved or deleted in this process


@contextmanager
def access_memo():
    """Grants read once per request: see the module's docstring."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _grant_changed(**kwargs) -> None:
    _grants_changed[0] += 1


post_save.connect(_grant_changed, sender=ProjectGrant, dispatch_uid="access_grant_saved")
post_delete.connect(_grant_changed, sender=ProjectGrant, dispatch_uid="access_grant_deleted")


def _grants_remembered(user) -> dict[str, str] | None:
    """project id -> role for the person, from this request's memo (None outside one)."""
    memo = _memo.get()
    if memo is None:
        return None
    key = (user.pk, _grants_changed[0])
    if key not in memo:
        memo[key] = dict(ProjectGrant.objects.filter(user=user).values_list("project_id", "role"))
    return memo[key]


def grants_held(*, user) -> dict[str, str]:
    """project id -> role (its value) for everything the person was granted."""
    remembered = _grants_remembered(user)
    if remembered is not None:
        return dict(remembered)
    return dict(ProjectGrant.objects.filter(user=user).values_list("project_id", "role"))


def role_get(*, user, project_id: str) -> Role | None:
    """The person's role on the project; Django superusers administer every project."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    remembered = _grants_remembered(user)
    if remembered is not None:
        role = remembered.get(project_id)
        return Role(role) if role else None
    grant = ProjectGrant.objects.filter(user=user, project_id=project_id).only("role").first()
    return Role(grant.role) if grant else None


def role_allows(role: Role | None, needed: Role) -> bool:
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[needed]


def access_require(*, user, project_id: str, action: str = "view") -> Role:
    """Returns the person's role, or raises PermissionDenied with a sentence saying why."""
    needed = ACTION_ROLE[action]
    role = role_get(user=user, project_id=project_id)
    if role is None:
        raise PermissionDenied(DENIED_SENTENCE[Role.VIEWER])
    if not role_allows(role, needed):
        raise PermissionDenied(DENIED_SENTENCE[needed])
    return role


def project_ids_visible(*, user) -> set[str] | None:
    """The project ids this person may see; None means every project (superuser)."""
    if user.is_superuser:
        return None
    remembered = _grants_remembered(user)
    if remembered is not None:
        return set(remembered)
    return set(ProjectGrant.objects.filter(user=user).values_list("project_id", flat=True))


def grant_list(*, user, project_id: str) -> list[ProjectGrant]:
    access_require(user=user, project_id=project_id, action="admin")
    return list(
        ProjectGrant.objects.filter(project_id=project_id)
        .select_related("user")
        .order_by("user__username")
    )


def grant_set(*, actor, project_id: str, username: str, role: str) -> ProjectGrant:
    """Gives `username` the role on the project (adds or changes). Admins only."""
    access_require(user=actor, project_id=project_id, action="admin")
    if role not in Role.values:
        raise ValueError("Choose a role: viewer, approver or admin.")
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise ValueError(f"No person with the username “{username.strip()}” has an account here.")
    with transaction.atomic():
        grant = (
            ProjectGrant.objects.select_for_update()
            .filter(user=user, project_id=project_id)
            .first()
        )
        if grant and grant.role == Role.ADMIN and role != Role.ADMIN:
            _ensure_another_admin(project_id=project_id, leaving=user)
        grant, _ = ProjectGrant.objects.update_or_create(
            user=user, project_id=project_id, defaults={"role": role, "granted_by": actor}
        )
    return grant


def grant_revoke(*, actor, project_id: str, grant_id: int) -> None:
    access_require(user=actor, project_id=project_id, action="admin")
    with transaction.atomic():
        grant = (
            ProjectGrant.objects.select_for_update()
            .filter(id=grant_id, project_id=project_id)
            .first()
        )
        if grant is None:
            raise ValueError("That person no longer has access to this project.")
        if grant.role == Role.ADMIN:
            _ensure_another_admin(project_id=project_id, leaving=grant.user)
        grant.delete()


def _ensure_another_admin(*, project_id: str, leaving) -> None:
    others = ProjectGrant.objects.filter(project_id=project_id, role=Role.ADMIN).exclude(
        user=leaving
    )
    if not others.exists():
        raise ValueError("A project needs at least one admin. Make someone else admin first.")
