"""The sandbox's plain-SQL look-ups (sandbox/rows.py) stand in for ORM queries on every
call: they must return exactly what the ORM would, field by field."""

from datetime import timedelta

from dashboard.sandbox import clock, rows
from dashboard.sandbox.models import ApiKey, Campaign, Layer, PendingAction, Project, State


def values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_plain_sql_look_ups_return_what_the_orm_returns_field_by_field(sandbox):
    sandbox.control("clock", advanceSeconds=3600)
    sandbox.control("faults", faults=[{"kind": "status", "status": 502, "count": 3}])
    assert values(rows.first(State, order_by_pk=True)) == values(State.objects.first())
    key = ApiKey.objects.get(secret=sandbox.key)
    assert values(rows.first(ApiKey, secret=sandbox.key)) == values(key)
    for layer in Layer.objects.all():
        assert values(rows.first(Project, uuid=layer.project_id)) == values(layer.project)
        found = rows.first(Layer, project_id=layer.project_id, platform=layer.platform)
        assert values(found) == values(layer)
    for campaign in Campaign.objects.all()[:20]:
        found = rows.first(
            Campaign, id=campaign.id, project_id=campaign.project_id, platform=campaign.platform
        )
        assert values(found) == values(campaign)
    assert rows.first(Project, uuid="nope") is None
    assert rows.first(ApiKey, secret="") is None


def test_the_expiry_probe_agrees_with_the_orm_at_the_boundary(sandbox):
    p = PendingAction.objects.filter(status="pending").order_by("expires_at").first()
    for at in (p.expires_at - timedelta(microseconds=1), p.expires_at, clock.now()):
        filters = {"status": "pending", "expires_at__lte": at, "project_id": p.project_id}
        assert rows.exists(PendingAction, **filters) == (
            PendingAction.objects.filter(**filters).exists()
        )
