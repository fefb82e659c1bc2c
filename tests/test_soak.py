"""The soak at a small size, against the pytest live server: several reviewers at once, with
double submits, aborted requests and injected upstream faults, and afterwards every action
has exactly one decision in the sandbox and in our own decision log."""

from django.contrib.auth import get_user_model

from dashboard.management.commands.soak import PASSWORD, Sandbox, soak_run
from dashboard.models import DecisionRecord


def test_four_reviewers_work_through_forty_actions_and_nothing_is_lost_or_decided_twice(
    sandbox, live_server, settings, transactional_db
):
    settings.LAYERS_READ_TIMEOUT = 1.5
    names = [f"reviewer{n}" for n in range(4)]
    for name in names:
        get_user_model().objects.create_superuser(name, f"{name}@example.com", PASSWORD)

    def records():
        return list(
            DecisionRecord.objects.filter(action__in=("approve", "reject")).values_list(
                "entity_id", "action", "outcome", "verdict_id"
            )
        )

    lines = []
    report = soak_run(
        base=live_server.url,
        sandbox=Sandbox(sandbox.base_url, sandbox.control_token, sandbox.key),
        usernames=names,
        actions=40,
        fault_rate=0.05,
        deadline_seconds=60,
        records=records,
        out=lines.append,
    )
    assert report.problems == [], "\n".join(lines)
    assert report.counts.get("pending", 0) == 0
    assert sum(report.counts.values()) == 40
