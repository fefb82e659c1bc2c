"""The mirror learns when it first stored each action (the inbox's live poll counts arrivals
by it, not by Layers' creation time), the size of each budget change in its currency's
major unit (the "Most spend at stake" sort, with its own index instead of the minor-unit
one), and each project's customer reference and time zone (the Projects page draws from
the mirror).

Rows mirrored before this migration: first seen = their creation time (else their last
sync), so no open page announces them as new; their stake is computed from the amount and
currency they already carry (dashboard/money.py's CLDR exponents)."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    from dashboard.money import stake_major

    MirrorAction = apps.get_model("dashboard", "MirrorAction")
    MirrorAction.objects.update(first_seen_at=Coalesce("created_at", "synced_at"))
    changed = MirrorAction.objects.filter(spend_change_minor__isnull=False).only(
        "pk", "spend_change_minor", "currency"
    )
    batch = []
    for row in changed.iterator(chunk_size=2000):
        row.spend_stake_major = stake_major(row.spend_change_minor, row.currency)
        batch.append(row)
        if len(batch) >= 2000:
            MirrorAction.objects.bulk_update(batch, ["spend_stake_major"])
            batch = []
    if batch:
        MirrorAction.objects.bulk_update(batch, ["spend_stake_major"])


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0018_worker_heartbeat"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="mirroraction",
            name="mirror_action_spend",
        ),
        migrations.AddField(
            model_name="mirroraction",
            name="first_seen_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="mirroraction",
            name="spend_stake_major",
            field=models.DecimalField(decimal_places=4, default=0, max_digits=24),
        ),
        migrations.AddField(
            model_name="mirrorproject",
            name="customer_external_id",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="mirrorproject",
            name="timezone",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="mirroraction",
            index=models.Index(
                fields=["status", "-spend_stake_major", "expires_at", "pending_id", "project"],
                name="mirror_action_stake",
            ),
        ),
        migrations.AddIndex(
            model_name="mirroraction",
            index=models.Index(
                fields=["status", "first_seen_at", "project"], name="mirror_action_first_seen"
            ),
        ),
    ]
