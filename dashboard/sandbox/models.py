"""Sandbox state. Everything the stand-in remembers lives here, so it survives a restart,
is flushed between tests and is safe under concurrent requests (row locks where a
read-modify-write happens)."""

import uuid

from django.db import connections, models, router


class State(models.Model):
    """The one row of sandbox-wide knobs (clock, tier, faults, webhooks)."""

    clock_offset = models.FloatField(default=0)  # seconds added to wall time
    epoch = models.CharField(max_length=32, default="0")  # changes on reset; prefixes cache keys
    rate_tier = models.CharField(max_length=16, blank=True)  # "" = settings.SANDBOX_RATE_TIER
    latency_ms = models.IntegerField(default=0)
    faults = models.JSONField(default=list)
    webhook_url = models.URLField(max_length=500, null=True, blank=True)
    webhook_secret = models.CharField(max_length=200, blank=True)
    webhook_previous_secret = models.CharField(max_length=200, blank=True)
    webhook_previous_secret_expires_at = models.DateTimeField(null=True)  # None: no expiry
    webhook_endpoint = models.CharField(max_length=40, blank=True)  # "" = set by control
    auto_deliver = models.BooleanField(default=True)
    extensions = models.BooleanField(null=True)  # None = settings.SANDBOX_EXTENSIONS
    # The optimizer proposing over time (sandbox/proposer.py). Rate None = the setting.
    proposer_per_minute = models.FloatField(null=True)
    proposer_next_at = models.DateTimeField(null=True)  # sandbox time of the next proposal
    proposer_until = models.DateTimeField(null=True)  # sandbox time it stops; None = never
    proposer_max_pending = models.IntegerField(null=True)
    proposer_projects = models.JSONField(default=list)  # bare project uuids; [] = every one


class Counter(models.Model):
    """Call statistics since reset (control `stats`)."""

    name = models.CharField(max_length=200, unique=True)
    count = models.BigIntegerField(default=0)

    @classmethod
    def bump(cls, *names):
        """Adds one to each named counter in one statement: an upsert (a new name starts at
        1), atomic against concurrent callers in any thread or process. SQLite >= 3.24 and
        PostgreSQL both speak `ON CONFLICT ... DO UPDATE`; no ORM query is compiled."""
        counts: dict[str, int] = {}
        for name in names:  # a row may be hit only once per statement
            counts[name] = counts.get(name, 0) + 1
        if not counts:
            return
        connection = connections[router.db_for_write(cls)]
        q = connection.ops.quote_name
        table = q(cls._meta.db_table)
        key, n = q(cls._meta.get_field("name").column), q(cls._meta.get_field("count").column)
        values = ", ".join(["(%s, %s)"] * len(counts))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key}, {n}) VALUES {values} ON CONFLICT ({key}) "
                f"DO UPDATE SET {n} = {table}.{n} + EXCLUDED.{n}",
                [part for item in counts.items() for part in item],
            )


class ApiKey(models.Model):
    key_id = models.CharField(max_length=64, primary_key=True)
    secret = models.CharField(max_length=200, unique=True)  # the full key string (test keys only)
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    state = models.CharField(max_length=16, default="active")  # active | revoked | killed


class Project(models.Model):
    uuid = models.CharField(max_length=36, primary_key=True)  # bare UUID; API shows prj_<uuid>
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, default="active")
    customer_external_id = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    primary_language = models.CharField(max_length=8, default="en")
    owner_email = models.CharField(max_length=200, blank=True)
    brand_context = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    @property
    def public_id(self):
        return f"prj_{self.uuid}"


class Layer(models.Model):
    """One project + platform layer: defaults, the customer's ceiling, kill switch, consent."""

    id = models.CharField(max_length=64, primary_key=True)  # lyr_<uuid4>
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="layers")
    platform = models.CharField(max_length=8)  # meta | tiktok | apple
    defaults = models.JSONField(default=dict)
    ceiling = models.JSONField(default=dict)  # the customer's last word per axis
    kill_switch = models.BooleanField(default=False)
    consented = models.BooleanField(default=False)
    modified_at = models.DateTimeField()
    modified_by = models.JSONField(default=dict)

    class Meta:
        unique_together = [("project", "platform")]


class AdAccount(models.Model):
    id = models.CharField(max_length=26, primary_key=True)  # bare ULID
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ad_accounts")
    platform = models.CharField(max_length=8)
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="USD")
    timezone = models.CharField(max_length=64, default="UTC")
    token_status = models.CharField(max_length=16, default="valid")
    connected_at = models.DateTimeField()


class Campaign(models.Model):
    id = models.CharField(max_length=40, primary_key=True)  # cmp_<ULID>
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="campaigns")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE)
    platform = models.CharField(max_length=8)
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, default="active")
    objective = models.CharField(max_length=32, default="conversions")
    budget_mode = models.CharField(max_length=3, default="CBO")
    daily_budget_cents = models.IntegerField(null=True)
    lifetime_budget_cents = models.IntegerField(null=True)
    start_time = models.DateTimeField(null=True)
    end_time = models.DateTimeField(null=True)
    managed_by_layers = models.BooleanField(default=True)
    authority = models.JSONField(null=True)  # per-campaign pin; None = layer defaults
    ceiling = models.JSONField(null=True)  # set when the customer pins
    authority_modified_at = models.DateTimeField(null=True)
    authority_modified_by = models.JSONField(null=True)
    platform_refuses = models.BooleanField(default=False)  # seeded: dispatches fail
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()


class PendingAction(models.Model):
    id = models.CharField(max_length=40, primary_key=True)  # pa_<ULID>
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    platform = models.CharField(max_length=8)
    action_type = models.CharField(max_length=32)
    entity_type = models.CharField(max_length=16)
    entity_id = models.CharField(max_length=40)
    entity_name = models.CharField(max_length=200)
    current_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    rationale = models.TextField()
    proposed_action = models.JSONField(default=dict)
    status = models.CharField(max_length=16, default="pending")
    source = models.CharField(max_length=16, default="optimizer")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True)
    dispatch_failure_reason = models.CharField(max_length=200, null=True)
    decided_at = models.DateTimeField(null=True)
    decided_by = models.JSONField(null=True)
    decision_comment = models.TextField(null=True)
    decision_reason = models.TextField(null=True)
    verdict_id = models.CharField(max_length=40, null=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "platform", "status"]),
            models.Index(fields=["status", "expires_at"]),  # org-wide expiry
        ]


class Verdict(models.Model):
    id = models.CharField(max_length=40, primary_key=True)  # ver_<ULID>
    project_id = models.CharField(max_length=40)
    decision = models.CharField(max_length=8)  # allow | queue | deny
    reason = models.CharField(max_length=64)
    axis = models.CharField(max_length=16, null=True)
    authority = models.JSONField(null=True)
    request = models.JSONField(default=dict)
    actor_type = models.CharField(max_length=16)
    api_key_id = models.CharField(max_length=64, null=True)
    platform = models.CharField(max_length=8, null=True)
    entity_type = models.CharField(max_length=16, null=True)
    entity_id = models.CharField(max_length=40, null=True)
    pending_id = models.CharField(max_length=40, null=True)
    job_id = models.CharField(max_length=40, null=True)
    created_at = models.DateTimeField()


class Job(models.Model):
    id = models.CharField(max_length=40, primary_key=True)  # job_<ULID>
    kind = models.CharField(max_length=32)
    project_id = models.CharField(max_length=40)
    status = models.CharField(max_length=16, default="running")
    stage = models.CharField(max_length=32, default="queued")
    progress = models.FloatField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    complete_at = models.DateTimeField(null=True)  # when a write job turns completed
    result = models.JSONField(null=True)
    pointers = models.JSONField(default=dict)


class OptimizerRun(models.Model):
    id = models.CharField(max_length=40, primary_key=True)  # run_<ULID>
    job = models.OneToOneField(Job, on_delete=models.CASCADE)
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, default="running")
    stages = models.JSONField(default=list)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    summary = models.JSONField(default=dict)
    changes = models.JSONField(default=list)


class AuditEvent(models.Model):
    event_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    event_type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    request_id = models.CharField(max_length=40, null=True)
    project_id = models.CharField(max_length=40, null=True)
    api_key_id = models.CharField(max_length=64, null=True)
    actor = models.CharField(max_length=32, default="partner_api")
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["-occurred_at", "event_id"])]


class IdempotencyRecord(models.Model):
    api_key_id = models.CharField(max_length=64)
    route = models.CharField(max_length=500)  # METHOD + path
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    done = models.BooleanField(default=False)
    status = models.IntegerField(null=True)
    body = models.TextField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        unique_together = [("api_key_id", "route", "key")]


class OAuthToken(models.Model):
    token = models.CharField(max_length=64, primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    platform = models.CharField(max_length=8)
    return_url = models.CharField(max_length=2000)
    state = models.CharField(max_length=500, null=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True)


class WebhookEndpoint(models.Model):
    """A webhook endpoint made through the API (contract §6.4). Deliveries still go to one
    target at a time: see sandbox/webhooks.py."""

    id = models.CharField(max_length=40, primary_key=True)  # bare UUID, as documented
    project_id = models.CharField(max_length=36, blank=True)  # bare project UUID; "" = all
    url = models.CharField(max_length=500)
    description = models.CharField(max_length=500, null=True)
    metadata = models.JSONField(default=dict)
    scope = models.CharField(max_length=16, default="own")  # own | all_children
    status = models.CharField(max_length=16, default="active")  # active|paused|auto_paused
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True)
    api_key_id = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_success_at = models.DateTimeField(null=True)
    last_failure_at = models.DateTimeField(null=True)
    consecutive_failure_count = models.IntegerField(default=0)

    @property
    def public_project_id(self):
        return f"prj_{self.project_id}" if self.project_id else None


class Delivery(models.Model):
    """Webhook outbox row: one event, retried along the ladder."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    endpoint_id = models.CharField(max_length=40, null=True, db_index=True)  # None: control's URL
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=64)
    body = models.TextField()  # the exact bytes signed and sent
    status = models.CharField(
        max_length=16, default="pending"
    )  # pending|delivering|delivered|failed
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status = models.IntegerField(null=True)
    created_at = models.DateTimeField()
