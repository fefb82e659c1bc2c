"""Every read of the client against the sandbox: records, both platform vocabularies,
timestamps, pagination, ETags."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.layers import (
    PLATFORMS,
    Authority,
    Campaign,
    NotFound,
    Page,
    PendingAction,
    Project,
    WhoAmI,
    client_from_settings,
)

from .support import ACME, new_key


def test_whoami_describes_the_demo_key(client):
    me = client.whoami()
    assert isinstance(me, WhoAmI)
    assert me.organization_id.startswith("org_")
    assert me.api_key_id and me.organization_name
    assert me.has_scope("ads:write:pending") and me.has_scope("ads:read")
    assert me.kill_switch is False
    assert me.rate_limit_tier


def test_has_scope_follows_the_contract_rules():
    def key(*scopes):
        return WhoAmI(
            organization_id="org_x", organization_name=None, api_key_id=None, scopes=scopes
        )

    assert key("*").has_scope("ads:write:budgets")
    assert key("ads:write").has_scope("ads:write:pending")
    assert key("ads:write:connect").has_scope("ads:write")
    assert not key("ads:read").has_scope("ads:write:pending")
    assert not key().has_scope("ads:read")


def test_projects_are_listed_and_walked_to_the_last_page(client, sandbox):
    first = client.projects_list(limit=1)
    assert isinstance(first, Page) and len(first.items) == 1 and first.next_cursor
    walked = list(client.iter_pages(client.projects_list, limit=1))
    raw = sandbox.api("GET", "/v1/projects", params={"limit": 200}).json()["items"]
    assert [p.id for p in walked] == [p["id"] for p in raw]
    assert all(isinstance(p, Project) for p in walked)
    assert client.projects_list(search="Acme").items[0].name == "Acme Coffee"


def test_iter_pages_stops_at_max_pages(client):
    assert len(list(client.iter_pages(client.projects_list, limit=1, max_pages=2))) == 2


def test_a_project_lists_its_layers_in_the_short_platform_vocabulary(client):
    project = client.project_get(project_id=ACME)
    assert project.name == "Acme Coffee"
    assert {layer.platform for layer in project.layers} == set(PLATFORMS)
    assert all(layer.layer_id.startswith("lyr_") for layer in project.layers)


def test_an_unknown_project_is_not_found(client):
    with pytest.raises(NotFound) as caught:
        client.project_get(project_id="prj_00000000-0000-4000-8000-000000000000")
    assert caught.value.status == 404 and caught.value.code == "NOT_FOUND"
    assert caught.value.request_id.startswith("req_")
    assert "Layers" in caught.value.message


def test_ad_accounts_filter_by_platform_and_come_back_short(client):
    everything = client.ad_accounts_list(project_id=ACME)
    assert {a.platform for a in everything} == {"meta", "tiktok", "apple"}
    meta = client.ad_accounts_list(project_id=ACME, platforms=["meta"])
    assert meta and all(a.platform == "meta" for a in meta)
    assert meta[0].currency == "USD" and meta[0].connected_at.tzinfo is not None


def test_campaigns_are_listed_filtered_and_walked_with_cursors(client, sandbox):
    walked = list(client.iter_pages(client.campaigns_list, project_id=ACME, limit=2))
    raw = sandbox.api("GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}).json()
    assert [c.campaign_id for c in walked] == [c["campaignId"] for c in raw["items"]]
    assert len(walked) > 2 and all(isinstance(c, Campaign) for c in walked)
    paused = client.campaigns_list(
        project_id=ACME, platforms=["meta", "tiktok"], statuses=["paused"]
    )
    assert paused.items and all(
        c.status == "paused" and c.platform in ("meta", "tiktok") for c in paused
    )
    assert all(isinstance(c.daily_budget_cents, (int, type(None))) for c in walked)


def test_a_single_campaign_carries_its_authority(client):
    listed = client.campaigns_list(project_id=ACME, platforms=["meta"]).items[0]
    campaign = client.campaign_get(project_id=ACME, platform="meta", campaign_id=listed.campaign_id)
    assert campaign.campaign_id == listed.campaign_id and campaign.platform == "meta"
    assert isinstance(campaign.authority, Authority)
    assert campaign.authority.axis("tactical") in ("off", "draft", "auto")
    assert campaign.created_at.tzinfo is not None


def test_authority_and_layer_defaults_are_read(client):
    campaign = client.campaigns_list(project_id=ACME, platforms=["meta"]).items[0]
    authority = client.authority_get(
        project_id=ACME, platform="meta", campaign_id=campaign.campaign_id
    )
    assert authority.campaign_id == campaign.campaign_id and authority.platform == "meta"
    assert authority.source in ("per_campaign", "layer_defaults")
    defaults = client.defaults_get(project_id=ACME, platform="meta")
    assert defaults.layer_id.startswith("lyr_") and defaults.platform == "meta"
    assert defaults.defaults.values == {
        "creative": "auto",
        "tactical": "draft",
        "structural": "draft",
    }
    assert defaults.kill_switch_active is False


def test_the_pending_queue_is_listed_counted_and_mapped_to_axes(client):
    page = client.pending_list(project_id=ACME, platform="meta")
    assert page.items and all(isinstance(p, PendingAction) and p.status == "pending" for p in page)
    assert client.pending_count(project_id=ACME, platform="meta") == len(
        list(client.iter_pages(client.pending_list, project_id=ACME, platform="meta", limit=2))
    )
    budget = client.pending_list(
        project_id=ACME, platform="meta", action_type="update_budget"
    ).items
    assert budget and all(p.action_type == "update_budget" and p.axis == "tactical" for p in budget)
    assert budget[0].new_value and budget[0].expires_at > budget[0].created_at
    history = client.pending_list(
        project_id=ACME, platform="meta", statuses=["rejected", "dispatched"]
    )
    assert {p.status for p in history.items} <= {"rejected", "dispatched"} and history.items


def test_pending_action_axes_follow_the_contract():
    def axis(action_type):
        return PendingAction(pending_id="pa_1", action_type=action_type).axis

    assert axis("update_budget") == axis("update_schedule") == "tactical"
    assert axis("update_targeting") == axis("push_creative") == "creative"  # §9 #11
    assert axis("pause_ad") == axis("pause_adset") == "structural"
    assert axis("teleport_ad") is None


def test_the_audit_log_reads_millisecond_timestamps_and_lifts_ads_facts(client):
    page = client.audit_log_list(project_id=ACME, limit=5)
    assert len(page.items) == 5 and page.next_cursor
    assert all(e.occurred_at.tzinfo is not None for e in page.items)
    queued = client.audit_log_list(project_id=ACME, event_type="ads.write.queued", limit=1).items[0]
    assert queued.verdict_id.startswith("ver_") and queued.actor_type
    newest = page.items[0].occurred_at
    since = client.audit_log_list(project_id=ACME, since=newest - timedelta(seconds=1)).items
    assert since and all(e.occurred_at >= newest - timedelta(seconds=1) for e in since)


def test_a_job_is_polled_with_its_etag(client):
    start = client.optimizer_run(
        project_id=ACME,
        layer_id=client.defaults_get(project_id=ACME, platform="meta").layer_id,
        platform="meta",
        dry_run=True,
        idempotency_key=new_key(),
    )
    job = client.job_get(job_id=start.job_id)
    assert job.job_id == start.job_id and job.etag
    assert client.job_get(job_id=start.job_id, etag=job.etag) in (None, job)
    again = client.job_get(job_id=start.job_id)
    if again.etag == job.etag:
        assert client.job_get(job_id=start.job_id, etag=job.etag) is None


def test_the_optimizer_runs_and_its_run_is_read_back(client):
    layer = client.defaults_get(project_id=ACME, platform="meta").layer_id
    start = client.optimizer_run(
        project_id=ACME, layer_id=layer, platform="meta", idempotency_key=new_key()
    )
    assert start.run_id.startswith("run_") and start.job_id.startswith("job_")
    run = client.optimizer_run_get(project_id=ACME, run_id=start.run_id)
    assert run.run_id == start.run_id and run.platform == "meta" and run.layer_id == layer
    assert run.stages and run.stages[0].stage and run.stages[0].entered_at.tzinfo is not None
    assert isinstance(run.summary, dict) and isinstance(run.changes, tuple)


def test_client_from_settings_follows_the_settings_and_is_one_per_thread(sandbox, settings):
    client = client_from_settings()
    assert client is client_from_settings()
    assert client.base_url == sandbox.base_url
    assert client.whoami().organization_id
    settings.LAYERS_READ_TIMEOUT = 4.0
    assert client_from_settings() is not client and client_from_settings().read_timeout == 4.0


def test_timestamps_parse_with_and_without_milliseconds():
    from dashboard.layers.records import parse_time

    plain, millis = parse_time("2026-05-08T14:32:11Z"), parse_time("2026-05-08T14:32:11.123Z")
    assert plain == datetime(2026, 5, 8, 14, 32, 11, tzinfo=UTC)
    assert millis.microsecond == 123000 and millis.tzinfo is not None
    assert parse_time("not a time") is None and parse_time(None) is None
