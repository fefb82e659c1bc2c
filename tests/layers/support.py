"""Names and helpers the Layers client tests share."""

import uuid

from dashboard.layers import LayersClient
from tests.conftest import ACME, BRIGHTSIDE, NORDLICHT  # noqa: F401 - the seeded story's ids

READONLY_KEY = "lp_test_READONLY00000002_sandbox-readonly-secret-not-a-real-key-0000"
REVIEWER_KEY = "lp_test_REVIEWER00000003_sandbox-reviewer-secret-not-a-real-key-0000"
DEMO_KEY_ID = "key_00000000-0000-4000-8000-000000000001"


class SleepRecorder(list):
    def __call__(self, seconds):
        self.append(seconds)


def make_client(sandbox, *, key=None, **options):
    client = LayersClient(base_url=sandbox.base_url, api_key=key or sandbox.key, **options)
    client.sleep = SleepRecorder()
    return client


def new_key() -> str:
    return str(uuid.uuid4())


def fault(sandbox, kind, **options):
    sandbox.control("faults", faults=[{"kind": kind, "count": options.pop("count", 1), **options}])


def executed(sandbox, route: str) -> int:
    return sandbox.control("stats")["executedByRoute"].get(route, 0)


def campaign_on_defaults(client, project=ACME, platform="meta"):
    """A live daily-budget campaign of that layer that follows the layer defaults (no
    per-campaign pin). Daily, because a started lifetime campaign refuses a daily budget
    (contract §4.8)."""
    for campaign in client.iter_pages(
        client.campaigns_list, project_id=project, platforms=[platform]
    ):
        if campaign.status in ("active", "paused") and campaign.daily_budget_cents is not None:
            authority = client.authority_get(
                project_id=project, platform=platform, campaign_id=campaign.campaign_id
            )
            if authority.source == "layer_defaults":
                return campaign
    raise AssertionError("the seed has no campaign on layer defaults")
