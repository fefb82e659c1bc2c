"""Who owns each customer (a Layers project) on the partner's team, and who covers while
the owner is away. The owner and the cover are people with access to the project
(services/ownership.py checks it when they are assigned, and again when it is read)."""

from django.conf import settings
from django.db import models

__all__ = ["ProjectOwnership"]


class ProjectOwnership(models.Model):
    project_id = models.CharField(max_length=80, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_projects",
    )
    # While the owner is away: the cover answers for the customer from `cover_from` to
    # `cover_until` (both days included, in the dashboard's time zone).
    cover = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="covered_projects",
    )
    cover_from = models.DateField(null=True, blank=True)
    cover_until = models.DateField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.project_id} owned by {self.owner}"
