"""Decisions held before they are sent: a slip can be taken back without spending a write.

A person's approve or reject (or a bulk decision) waits DECISION_HOLD_SECONDS as a row
here. The worker sends it when the window ends (services/holds.py); Undo inside the window
marks it undone and nothing reaches Layers. Each hold is taken by one conditional update,
so two workers never both send it, and one whose worker died mid-send goes again under its
own idempotency key (Layers replays the first answer: still one write)."""

import uuid

from django.conf import settings
from django.db import models

__all__ = ["DecisionHold"]


class DecisionHold(models.Model):
    class Status(models.TextChoices):
        HELD = "held", "Held"  # waiting for its window to end; Undo still possible
        UNDONE = "undone", "Undone"  # taken back: nothing was sent
        SENDING = "sending", "Sending"  # a worker took it
        SENT = "sent", "Sent"  # the sender answered (outcome says how)
        FAILED = "failed", "Failed"  # Layers could not be reached after every try

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    project_id = models.CharField(max_length=80, db_index=True)
    decision = models.CharField(max_length=8)  # approve | reject
    text = models.TextField(blank=True)
    # One action (platform, pending_id, its idempotency key), or a whole bulk decision.
    platform = models.CharField(max_length=16, blank=True)
    pending_id = models.CharField(max_length=80, blank=True)
    entity_name = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=80, blank=True, db_index=True)
    bulk = models.OneToOneField(
        "dashboard.BulkDecision",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="hold",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.HELD)
    send_after = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)  # when it was held
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)  # a worker took it
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=12, blank=True)  # the sender's kind
    sentence = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # One live decision per action: a second reviewer sees the first one's hold.
            models.UniqueConstraint(
                fields=["project_id", "pending_id"],
                condition=models.Q(status__in=["held", "sending"]) & ~models.Q(pending_id=""),
                name="one_live_hold_per_action",
            )
        ]
        indexes = [models.Index(fields=["status", "send_after"])]

    def __str__(self):
        return f"{self.decision} {self.pending_id or self.bulk_id} ({self.status})"
