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

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants"
    )
    project_id = models.CharField(max_length=80, db_index=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "project_id"], name="one_grant_per_user_project"
            )
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
    outcome = models.CharField(
        max_length=32, blank=True
    )  # approved, rejected, conflict, denied, ...
    note = models.TextField(blank=True)
    # A budget typed here: the amount in the account currency's minor unit, and that
    # currency (see dashboard/money.py), for the audit log and its export.
    amount_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["project_id", "-created_at"])]


class ShareLink(models.Model):
    """A read-only link to one view of a project, for people without an account. Only the
    SHA-256 of its token is kept: the token itself is shown once, when the link is made."""

    class Scope(models.TextChoices):
        QUEUE = "queue", "Pending actions"
        CAMPAIGN = "campaign", "One campaign's actions"
        AUDIT = "audit", "Audit log"

    token_hash = models.CharField(max_length=64, unique=True)
    project_id = models.CharField(max_length=80, db_index=True)
    scope = models.CharField(max_length=16, choices=Scope.choices)
    target = models.CharField(max_length=80, blank=True)  # the campaign id, for a campaign link
    label = models.CharField(max_length=120, blank=True)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="share_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["project_id", "-created_at"])]

    def __str__(self):
        return f"share link {self.id} ({self.scope}) on {self.project_id}"


class ShareLinkUse(models.Model):
    """One opening of a share link (the IP is kept only as a salted hash)."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(auto_now_add=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=300, blank=True)
    allowed = models.BooleanField(default=True)  # False: the link was expired or revoked

    class Meta:
        indexes = [models.Index(fields=["link", "-at"])]


class WebhookEvent(models.Model):
    """One Layers webhook as it arrived (signature already checked). The unique event id is
    the dedupe: Layers retries with the same `X-Layers-Event-Id`, and we store it once."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (an event type the dashboard does not act on)"
        FAILED = "failed", "Failed (kept for `manage.py webhooks_process`)"

    event_id = models.CharField(max_length=80, unique=True)
    event_type = models.CharField(max_length=80)
    project_id = models.CharField(max_length=80, blank=True, db_index=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["processed_at", "received_at"])]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class WebhookSecret(models.Model):
    """A signing secret Layers gave us when `manage.py webhooks_register` created an endpoint
    (it is shown only once, so it is kept here). The receiver accepts these together with
    LAYERS_WEBHOOK_SECRET; registering again keeps the older one until it is retired, which
    covers a rotation's overlap."""

    endpoint_id = models.CharField(max_length=80, blank=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"webhook secret for {self.url} ({self.endpoint_id or 'no endpoint id'})"


class Notice(models.Model):
    """Something a person should look at: a denied write, a failed dispatch, a finished
    optimizer run. Made from webhooks; each links to where it can be acted on."""

    class Kind(models.TextChoices):
        DENIED = "denied", "Write denied"
        DISPATCH_FAILED = "dispatch_failed", "Dispatch failed"
        RUN_COMPLETED = "run_completed", "Optimizer run finished"

    project_id = models.CharField(max_length=80, db_index=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    sentence = models.CharField(max_length=500)
    link = models.CharField(max_length=500, blank=True)  # a path inside the dashboard
    second_link = models.CharField(max_length=500, blank=True)
    second_label = models.CharField(max_length=80, blank=True)
    event_id = models.CharField(max_length=80, blank=True)  # the webhook that raised it
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            # Processing a webhook twice never raises its notice twice.
            models.UniqueConstraint(
                fields=["event_id", "kind"],
                condition=~models.Q(event_id=""),
                name="one_notice_per_event_kind",
            )
        ]
        indexes = [models.Index(fields=["project_id", "-created_at"])]

    def __str__(self):
        return f"{self.kind} on {self.project_id}: {self.sentence[:60]}"


class NoticeMarker(models.Model):
    """Per person: notices up to this moment have been read (one row, not one per notice)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_marker"
    )
    read_until = models.DateTimeField()


class BulkDecision(models.Model):
    """Many pending actions approved or rejected with one comment or reason. It runs in the
    background (django.tasks), paced inside the key's write budget; closing the page neither
    stops nor repeats it, because every item owns its idempotency key from creation."""

    class Status(models.TextChoices):
        HELD = "held", "Held"  # inside its hold window: nothing sent yet (models/holds.py)
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        UNDONE = "undone", "Undone"  # taken back inside its hold window: nothing was sent

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    project_id = models.CharField(max_length=80, db_index=True)
    decision = models.CharField(max_length=8)  # approve | reject
    text = models.TextField(blank=True)  # the comment or reason, for every item
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker running it touches this before every item; a running bulk whose heartbeat
    # is old has lost its worker and is queued again (services/bulk.py).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Why it stopped before the end (the person's role dropped below approver), or "".
    stopped_sentence = models.CharField(max_length=300, blank=True, default="")
    # "Every action matching these filters": the queue filters, until the background task
    # has gathered the matching actions into items (the request that starts it reads nothing).
    select_all = models.JSONField(null=True, blank=True)


class BulkDecisionItem(models.Model):
    class Outcome(models.TextChoices):
        WAITING = "", "Waiting"
        DECIDED = "decided", "Decided"
        CONFLICT = "conflict", "Already decided"
        FAILED = "failed", "Failed"

    bulk = models.ForeignKey(BulkDecision, on_delete=models.CASCADE, related_name="items")
    platform = models.CharField(max_length=16)
    pending_id = models.CharField(max_length=80)
    entity_name = models.CharField(max_length=300, blank=True)
    idempotency_key = models.UUIDField(unique=True)
    outcome = models.CharField(
        max_length=12, choices=Outcome.choices, default=Outcome.WAITING, blank=True
    )
    sentence = models.CharField(max_length=500, blank=True)
    verdict_id = models.CharField(max_length=80, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["bulk", "pending_id"], name="one_item_per_action")
        ]


class SpentNonce(models.Model):
    """A one-time value that has been used: an embed token's `jti`, an ad-account
    connection's signed state or its popup's go token. The unique constraint is the
    guarantee: of two requests racing with one value, exactly one inserts it, whichever web
    process they reach, and no cache eviction can forget it. Only a SHA-256 is kept."""

    class Kind(models.TextChoices):
        EMBED_JTI = "embed_jti", "Embed token"
        CONNECT_STATE = "connect_state", "Connection state"
        CONNECT_GO = "connect_go", "Connection popup token"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    digest = models.CharField(max_length=64)
    # After this the token it came from has expired and is refused anyway, so housekeeping
    # may delete the row.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "digest"], name="one_use_per_nonce")]


# Further tables live in modules of this package, one per job, imported here so Django
# finds them: one star import per module below (F403 silenced on each line).
from dashboard.models.digests import *  # noqa: E402, F403
from dashboard.models.exports import *  # noqa: E402, F403
from dashboard.models.holds import *  # noqa: E402, F403
from dashboard.models.jobs import *  # noqa: E402, F403
from dashboard.models.mirror import *  # noqa: E402, F403
from dashboard.models.operations import *  # noqa: E402, F403
from dashboard.models.ownership import *  # noqa: E402, F403
