"""Audit-log CSV exports, built by a background task (services/audit_exports.py): the
request that asks for one only records it, the worker reads the log page by page inside a
share of the key's read budget and keeps each page's CSV as a part, and the person
downloads the parts when it is done. Parts are deleted AUDIT_EXPORT_KEEP_HOURS after the
export finished (housekeeping)."""

import uuid

from django.conf import settings
from django.db import models

__all__ = ["AuditExport", "AuditExportPart"]


class AuditExport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    project_id = models.CharField(max_length=80, db_index=True)
    filters = models.JSONField(default=dict)  # the audit page's query, without a cursor
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    # Why it ended early (Layers refused, the row cap), shown on its page and in the file.
    sentence = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_running_export_per_person",
            )
        ]


class AuditExportPart(models.Model):
    """One page of the log as CSV text (the first part starts with the header line)."""

    export = models.ForeignKey(AuditExport, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["export", "number"], name="one_part_per_number")
        ]
