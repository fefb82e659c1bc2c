"""Covering indexes for the inbox's reads of the mirror (services/inbox.py): its three sorts,
its count, its newest action and its spend per currency each walk one narrow index instead
of the wide mirror table (every row carries the raw item, the rationale and the detail).

Plain SQL (portable between SQLite and PostgreSQL), so the model's state is untouched: the
mirror's models belong to the sync engine (dashboard/models/mirror.py)."""

from django.db import migrations

TABLE = "dashboard_mirroraction"
INDEXES = {
    "mirror_inbox_expiry": "status, expires_at, pending_id, project_id",
    "mirror_inbox_newest": "status, created_at, pending_id, project_id",
    "mirror_inbox_spend": "status, currency, spend_change_minor, expires_at, pending_id, project_id",
}


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0016_audit_exports")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({columns})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, columns in INDEXES.items()
    ]
