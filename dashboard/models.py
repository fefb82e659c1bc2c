"""The dashboard's own data. Layers owns the ads; we own who may see and do what,
and the record of what our people decided."""

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    APPROVER = "approver", "Approver"
    ADMIN = "admin", "Admin"


ROLE_RANK = {Role.VIEWER: 1, Role.APPROVER: 2, Role.ADMIN: 3}


class ProjectGrant(models.Model):
    """One person's role on one Layers project (the project id is Layers')."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    project_id = models.CharField(max_length=80, db_index=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project_id"], name="one_grant_per_user_project")
        ]

    def __str__(self):
        return f"{self.user} {self.role} on {self.project_id}"


class DecisionRecord(models.Model):
    """What a person at the partner decided through the dashboard, joined to Layers'
    verdict, so the audit log can say who acted and not only "partner"."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    project_id = models.CharField(max_length=80, db_index=True)
    platform = models.CharField(max_length=16)
    action = models.CharField(max_length=32)  # approve, reject, budget, pause, authority, ...
    entity_id = models.CharField(max_length=80, db_index=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    verdict_id = models.CharField(max_length=80, blank=True, db_index=True)
    outcome = models.CharField(max_length=32, blank=True)  # approved, rejected, conflict, denied, ...
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["project_id", "-created_at"])]
