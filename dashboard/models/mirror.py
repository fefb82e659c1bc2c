"""The mirror: this dashboard's own synced copy of every customer's pending actions, and the
state of the sync engine that keeps it fresh (services/mirror.py, services/sync/).

Pages draw from these tables and never wait for Layers; the engine reads Layers in the
background, inside its share of the key's read budget."""

from django.db import models
from django.utils import timezone

__all__ = [
    "MirrorAction",
    "MirrorCampaign",
    "MirrorProject",
    "MirrorStamp",
    "SyncBudget",
    "SyncFeed",
    "SyncLease",
    "SyncRead",
    "SyncState",
]


class MirrorProject(models.Model):
    """A project (customer) the key can see, as last discovered."""

    project_id = models.CharField(max_length=80, primary_key=True)
    name = models.CharField(max_length=300, blank=True)
    primary_language = models.CharField(max_length=35, blank=True)  # the locale for money
    customer_external_id = models.CharField(max_length=200, blank=True)  # the partner's own ref
    timezone = models.CharField(max_length=64, blank=True)
    platforms = models.JSONField(default=list)  # ["meta", "tiktok", "apple"], our order
    # platform -> ISO currency, when every ad account of that platform shares one
    currency_by_platform = models.JSONField(default=dict)
    currency_by_account = models.JSONField(default=dict)  # ad account id -> ISO currency
    # The last read of the project itself (its layers: which platforms it has) and of its
    # ad accounts (their currencies); None = not read yet.
    details_read_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)  # last seen in GET /v1/projects
    # The last read of its campaigns (names, budgets, statuses for the queue's rows and its
    # campaign filter); None = not read yet, or asked to be read again.
    campaigns_read_at = models.DateTimeField(null=True, blank=True)
    # platform -> {"values": {axis: mode}, "read_at": ISO time}: the layer's default authority,
    # read only for platforms with a pending campaign creation (its row's matrix).
    layer_defaults = models.JSONField(default=dict)

    def __str__(self):
        return f"{self.name or self.project_id}"

    @property
    def id(self) -> str:
        """The project id, under the name Layers' project record gives it (pages use both)."""
        return self.project_id


class MirrorCampaign(models.Model):
    """A campaign of a mirrored project as its campaign list last said, and its authority on
    the three axes as last read (or as a change made here left it)."""

    project = models.ForeignKey(MirrorProject, on_delete=models.CASCADE, related_name="campaigns")
    campaign_id = models.CharField(max_length=80)
    platform = models.CharField(max_length=16, blank=True)  # meta | tiktok | apple
    name = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=24, blank=True)
    ad_account_id = models.CharField(max_length=80, blank=True)
    daily_budget_cents = models.BigIntegerField(null=True, blank=True)
    record = models.JSONField(default=dict)  # the raw list item: Campaign.from_wire(record)
    listed = models.BooleanField(default=True)  # False: known only from an authority read
    synced_at = models.DateTimeField(null=True, blank=True)
    authority = models.JSONField(default=dict)  # {axis: mode}; {} = not read
    authority_source = models.CharField(max_length=24, blank=True)  # per_campaign | layer_defaults
    authority_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "campaign_id"], name="one_mirror_campaign_per_project"
            )
        ]

    def __str__(self):
        return f"{self.name or self.campaign_id}"


class MirrorActionQuerySet(models.QuerySet):
    def pending(self):
        """Still waiting for a decision (a decision made here keeps its row, with its new
        status, until the next refresh of its list drops it)."""
        return self.filter(status="pending")


class MirrorAction(models.Model):
    """One pending action as Layers last listed it (or as a decision made here left it)."""

    pending_id = models.CharField(max_length=80, primary_key=True)
    project = models.ForeignKey(
        MirrorProject, on_delete=models.CASCADE, related_name="actions", db_index=True
    )
    platform = models.CharField(max_length=16, db_index=True)
    action_type = models.CharField(max_length=40, blank=True)
    entity_type = models.CharField(max_length=40, blank=True)
    entity_id = models.CharField(max_length=80, blank=True)
    entity_name = models.CharField(max_length=300, blank=True)
    campaign_id = models.CharField(max_length=80, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(max_length=24, default="pending")
    current_value = models.JSONField(default=dict)
    new_value = models.JSONField(default=dict)
    rationale = models.TextField(blank=True)
    detail = models.JSONField(default=dict)
    axis = models.CharField(max_length=16, blank=True)  # creative | tactical | structural
    # Proposed minus current DAILY budget, in the account currency's minor unit, per day;
    # null when the action is not a daily budget change.
    spend_change_minor = models.BigIntegerField(null=True, blank=True)
    # The size of that change in the currency's MAJOR unit (|minor| / 10**exponent, CLDR's
    # exponent: JPY 0, USD 2, BHD 3; 2 while the currency is unknown), 0 when the action
    # changes no daily budget: what "Most spend at stake" sorts on, so ¥50,000 (50000)
    # outranks $100.00 (100), not the other way round. Face value only: amounts in different
    # currencies are not converted (Layers offers no exchange rates).
    spend_stake_major = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    record = models.JSONField(default=dict)  # the raw API item: PendingAction.from_wire(record)
    synced_at = models.DateTimeField()
    # When the mirror first stored the action (set on insert only, never by a refresh): the
    # inbox's live poll counts arrivals by it, so an action created upstream long ago but
    # synced only now is still announced.
    first_seen_at = models.DateTimeField(default=timezone.now)

    objects = MirrorActionQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["project", "platform"], name="mirror_action_list"),
            models.Index(fields=["created_at"], name="mirror_action_created"),
            models.Index(
                fields=["status", "-spend_stake_major", "expires_at", "pending_id", "project"],
                name="mirror_action_stake",
            ),
            models.Index(
                fields=["status", "first_seen_at", "project"], name="mirror_action_first_seen"
            ),
            models.Index(fields=["status", "expires_at"], name="mirror_action_status_exp"),
            # The inbox's covering indexes (its expiry sort, its newest sort, its spend per
            # currency): made by migration 0017 in plain SQL, declared here since 0020 so a
            # table rebuild (SQLite's way of altering a table) keeps them.
            models.Index(
                fields=["status", "expires_at", "pending_id", "project"], name="mirror_inbox_expiry"
            ),
            models.Index(
                fields=["status", "created_at", "pending_id", "project"], name="mirror_inbox_newest"
            ),
            models.Index(
                fields=[
                    "status",
                    "currency",
                    "spend_change_minor",
                    "expires_at",
                    "pending_id",
                    "project",
                ],
                name="mirror_inbox_spend",
            ),
        ]

    def __str__(self):
        return f"{self.action_type} {self.pending_id} ({self.status})"


class SyncState(models.Model):
    """The sync state of one list: one project's pending actions on one platform."""

    project = models.ForeignKey(MirrorProject, on_delete=models.CASCADE, related_name="sync")
    platform = models.CharField(max_length=16)
    last_full_refresh_at = models.DateTimeField(null=True, blank=True)
    last_change_seen_at = models.DateTimeField(null=True, blank=True)  # webhook, feed, decision
    dirty_since = models.DateTimeField(null=True, blank=True)  # null = clean
    requested_at = models.DateTimeField(null=True, blank=True)  # "refresh now", not yet served
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_errors = models.IntegerField(default=0)
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    pending_count = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "platform"], name="one_sync_state_per_list")
        ]
        indexes = [models.Index(fields=["dirty_since"], name="sync_state_dirty")]

    def __str__(self):
        return f"sync {self.project_id} {self.platform}"


class SyncLease(models.Model):
    """Who runs the sync engine now: one owner at a time, until `expires_at` (renewed every
    tick). A crashed owner's lease simply expires and the next worker takes over."""

    name = models.CharField(max_length=40, primary_key=True)  # "sync"
    owner = models.CharField(max_length=120, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)  # the last tick it ran


class SyncBudget(models.Model):
    """The key's read budget as the engine learnt it, and its back-off (one row)."""

    name = models.CharField(max_length=40, primary_key=True)  # "read-light"
    limit_per_minute = models.IntegerField(null=True, blank=True)  # from X-RateLimit-Limit
    learnt_at = models.DateTimeField(null=True, blank=True)
    backoff_until = models.DateTimeField(null=True, blank=True)
    backoff_reason = models.CharField(max_length=300, blank=True)
    backoff_count = models.IntegerField(default=0)  # back-offs in a row (grows the wait)
    # The sweep's token bucket: reads it may make now, as of `credit_at` (it refills at the
    # sweep's reads a minute, so the sweep is paced evenly instead of bursting).
    sweep_credit = models.FloatField(default=0)
    credit_at = models.DateTimeField(null=True, blank=True)


class SyncFeed(models.Model):
    """Where the engine is in an org-wide feed (the audit log read with `since`)."""

    name = models.CharField(max_length=40, primary_key=True)  # "audit"
    position = models.DateTimeField(null=True, blank=True)  # the next read's `since`
    seen_ids = models.JSONField(default=list)  # event ids at `position` already acted on
    read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)


class SyncRead(models.Model):
    """One upstream read the sync engine made (one page): the budget counts these."""

    at = models.DateTimeField(db_index=True)
    # change (a dirty or requested list) | sweep (the reconciler) | list (outside a tick) |
    # feed | projects | project | accounts
    kind = models.CharField(max_length=16)
    project_id = models.CharField(max_length=80, blank=True)
    platform = models.CharField(max_length=16, blank=True)
    status = models.IntegerField(null=True, blank=True)  # HTTP status when it failed


class MirrorStamp(models.Model):
    """A version stamp of the mirror, new on every write (services/mirror_stamp.py):
    "rows" when what a page shows of the actions or projects changed, "sync" when a list's
    sync state did. Pages keep what they drew from the mirror in the cache under the stamp,
    so every viewer reuses it until the next write (a random stamp, never a counter: a
    re-created row cannot bring back an old entry)."""

    name = models.CharField(max_length=16, primary_key=True)  # "rows" | "sync"
    stamp = models.CharField(max_length=32)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"mirror {self.name} stamp {self.stamp}"
