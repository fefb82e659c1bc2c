"""The mirror's version stamps (MirrorStamp: services/mirror_stamp.py), and the inbox's
covering indexes of migration 0017 declared on the model.

0017 made those indexes in plain SQL, unknown to the model; SQLite alters a table by
rebuilding it, so 0019 dropped them there (PostgreSQL kept them). Declared now, a rebuild
keeps them; `IF NOT EXISTS` makes them again where they went and leaves them where they
are."""

import uuid

from django.db import migrations, models

TABLE = "dashboard_mirroraction"
INDEXES = {
    "mirror_inbox_expiry": ["status", "expires_at", "pending_id", "project"],
    "mirror_inbox_newest": ["status", "created_at", "pending_id", "project"],
    "mirror_inbox_spend": [
        "status",
        "currency",
        "spend_change_minor",
        "expires_at",
        "pending_id",
        "project",
    ],
}


def _columns(fields) -> str:
    return ", ".join("project_id" if f == "project" else f for f in fields)


def stamps_make(apps, schema_editor):
    """Pages cache what they draw from the mirror only under a stamp: one each from the start."""
    stamp = apps.get_model("dashboard", "MirrorStamp")
    for name in ("rows", "sync"):
        stamp.objects.get_or_create(name=name, defaults={"stamp": uuid.uuid4().hex})


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0019_mirror_first_seen"),
    ]

    operations = [
        migrations.CreateModel(
            name="MirrorStamp",
            fields=[
                ("name", models.CharField(max_length=16, primary_key=True, serialize=False)),
                ("stamp", models.CharField(max_length=32)),
                ("changed_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.RunPython(stamps_make, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="mirroraction", index=models.Index(fields=fields, name=name)
                )
                for name, fields in INDEXES.items()
            ],
            database_operations=[
                migrations.RunSQL(
                    f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({_columns(fields)})",
                    reverse_sql=migrations.RunSQL.noop,
                )
                for name, fields in INDEXES.items()
            ],
        ),
    ]
