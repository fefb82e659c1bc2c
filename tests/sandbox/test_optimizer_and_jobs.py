"""Optimizer runs (stages, proposals by axis, dry runs) and job polling (contract §4.15, §5)."""

from datetime import datetime

import pytest

from .support import ACME, NORDLICHT, ads, campaign_named, error_of, has_id, pending


def layer_id(sandbox, project=ACME, platform="meta"):
    return sandbox.api("GET", ads(project, f"/{platform}/defaults")).json()["layerId"]


def start(sandbox, project=ACME, platform="meta", dry_run=False):
    body = {
        "layerId": layer_id(sandbox, project, platform),
        "platform": f"{platform}_ads",
        "dryRun": dry_run,
    }
    return sandbox.api("POST", ads(project, "/optimizer/run"), json=body)


def run_of(sandbox, run_id, project=ACME):
    return sandbox.api("GET", ads(project, f"/optimizer/runs/{run_id}")).json()


def test_an_optimizer_run_moves_through_its_stages_with_the_clock(sandbox):
    response = start(sandbox)
    assert response.status_code == 202
    started = response.json()
    assert has_id(started["runId"], "run") and has_id(started["jobId"], "job")
    assert started["kind"] == "ads_optimizer_run" and started["status"] == "running"
    assert run_of(sandbox, started["runId"])["stage"] == "queued"
    sandbox.control("clock", advanceSeconds=4)
    middle = run_of(sandbox, started["runId"])
    assert middle["stage"] == "evaluating" and middle["status"] == "running"
    assert [s["stage"] for s in middle["stages"]] == ["queued", "fetching_metrics", "evaluating"]
    sandbox.control("clock", advanceSeconds=6)
    done = run_of(sandbox, started["runId"])
    assert done["status"] == "completed" and done["stage"] == "completed" and done["finishedAt"]
    job = sandbox.api("GET", f"/v1/jobs/{started['jobId']}").json()
    assert (
        job["status"] == "completed"
        and job["progress"] == 1
        and job["result"]["runId"] == started["runId"]
    )


def test_a_finished_run_queues_draft_proposals_and_dispatches_auto_ones(sandbox):
    before = {r["pendingId"] for r in pending(sandbox)}
    run_id = start(sandbox).json()["runId"]
    sandbox.control("clock", advanceSeconds=10)
    run = run_of(sandbox, run_id)
    changes = run["changes"]
    assert {c["actionType"] for c in changes} == {
        "update_budget",
        "pause_ad",
        "pause_adset",
        "push_creative",
        "replace_creative",
        "prune_creative",
        "update_targeting",
        "update_schedule",
    }
    by_axis = {c["axis"]: set() for c in changes}
    for change in changes:
        by_axis[change["axis"]].add(change["outcome"])
    # Acme/Meta defaults: creative auto, tactical + structural draft (one campaign pins
    # tactical auto).
    assert "dispatched" in by_axis["creative"] and "queued" in by_axis["structural"]
    summary = run["summary"]
    assert (
        summary["proposed"] == 8 == summary["dispatched"] + summary["queued"] + summary["skipped"]
    )
    queued = [c for c in changes if c["outcome"] == "queued"]
    new_rows = [r for r in pending(sandbox) if r["pendingId"] not in before]
    assert {r["pendingId"] for r in new_rows} == {c["pendingId"] for c in queued}
    assert {r["source"] for r in new_rows} == {"optimizer"}


def test_proposals_are_deterministic_per_run_and_dropped_where_the_axis_is_off(sandbox):
    sandbox.control(
        "defaults",
        projectId=ACME,
        platform="meta",
        defaults={"creative": "off", "tactical": "off", "structural": "off"},
    )
    for campaign in ("Retargeting — Cart Abandoners",):
        sandbox.control(
            "campaign-authority",
            projectId=ACME,
            platform="meta",
            campaignId=campaign_named(sandbox, campaign)["campaignId"],
            authority=None,
        )
    run_id = start(sandbox).json()["runId"]
    sandbox.control("tick")
    sandbox.control("clock", advanceSeconds=10)
    sandbox.control("tick")
    run = run_of(sandbox, run_id)
    assert {c["outcome"] for c in run["changes"]} == {"skipped"}
    assert {c["skipReason"] for c in run["changes"]} <= {
        "authority_axis_off",
        "guardrail_max_budget_move",
    }
    assert run_of(sandbox, run_id) == run


def test_a_dry_run_creates_nothing(sandbox):
    before = sandbox.api("GET", ads(ACME, "/meta/pending/count")).json()["count"]
    budgets = {
        c["campaignId"]: c["dailyBudgetCents"]
        for c in sandbox.api("GET", ads(ACME, "/campaigns")).json()["items"]
    }
    run_id = start(sandbox, dry_run=True).json()["runId"]
    sandbox.control("clock", advanceSeconds=10)
    run = run_of(sandbox, run_id)
    assert run["dryRun"] is True and run["summary"]["proposed"] == 8
    assert all("pendingId" not in c for c in run["changes"])
    assert sandbox.api("GET", ads(ACME, "/meta/pending/count")).json()["count"] == before
    assert budgets == {
        c["campaignId"]: c["dailyBudgetCents"]
        for c in sandbox.api("GET", ads(ACME, "/campaigns")).json()["items"]
    }


def test_a_kill_switched_layer_skips_every_proposal(sandbox):
    run_id = start(sandbox, NORDLICHT).json()["runId"]
    sandbox.control("clock", advanceSeconds=10)
    run = run_of(sandbox, run_id, NORDLICHT)
    assert {c["skipReason"] for c in run["changes"]} <= {
        "kill_switch_active",
        "guardrail_max_budget_move",
    }


def test_only_one_run_at_a_time_per_layer(sandbox):
    first = start(sandbox).json()
    second = start(sandbox)
    assert second.status_code == 409
    assert (
        error_of(second)["code"] == "CONFLICT"
        and error_of(second)["details"]["runId"] == first["runId"]
    )
    sandbox.control("clock", advanceSeconds=10)
    assert start(sandbox).status_code == 202


def test_optimizer_run_bodies_are_validated(sandbox):
    assert start(sandbox, platform="meta").status_code == 202
    wrong = sandbox.api(
        "POST",
        ads(ACME, "/optimizer/run"),
        json={"layerId": layer_id(sandbox), "platform": "tiktok_ads"},
    )
    assert wrong.status_code == 422
    unknown = sandbox.api(
        "POST",
        ads(ACME, "/optimizer/run"),
        json={"layerId": "lyr_00000000-0000-4000-8000-000000000000", "platform": "meta_ads"},
    )
    assert unknown.status_code == 404
    assert (
        sandbox.api(
            "POST",
            ads(ACME, "/optimizer/run"),
            json={"layerId": layer_id(sandbox), "platform": "apple_search_ads"},
        ).status_code
        == 422
    )
    assert sandbox.api("GET", ads(ACME, "/optimizer/runs/run_nope")).status_code == 404


def test_write_jobs_complete_a_second_later_and_poll_with_etags(sandbox):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"tactical": "auto"})
    campaign_id = campaign_named(sandbox, "Q3 Prospecting — Cold Brew")["campaignId"]
    job_id = sandbox.api(
        "PATCH", ads(ACME, f"/meta/campaigns/{campaign_id}/budget"), json={"dailyBudgetCents": 5200}
    ).json()["jobId"]
    # Held running while we look (a busy machine can spend the job's second between two
    # requests); released, it finishes a second after it started.
    sandbox.control("job-hold", jobId=job_id)
    first = sandbox.api("GET", f"/v1/jobs/{job_id}")
    assert (
        first.status_code == 200
        and first.json()["status"] == "running"
        and first.json()["kind"] == "ads_write"
    )
    etag = first.headers["ETag"]
    unchanged = sandbox.api("GET", f"/v1/jobs/{job_id}", headers={"If-None-Match": etag})
    assert (
        unchanged.status_code == 304
        and unchanged.content == b""
        and unchanged.headers["ETag"] == etag
    )
    sandbox.control("job-hold", jobId=job_id, hold=False)
    sandbox.control("clock", advanceSeconds=1)
    done = sandbox.api("GET", f"/v1/jobs/{job_id}", headers={"If-None-Match": etag})
    assert done.status_code == 200 and done.headers["ETag"] != etag
    body = done.json()
    assert (
        body["status"] == "completed"
        and body["finishedAt"]
        and body["result"]["platformResponse"]["success"]
    )
    started, finished = (
        datetime.fromisoformat(body[k].replace("Z", "+00:00")) for k in ("startedAt", "finishedAt")
    )
    assert (finished - started).total_seconds() == pytest.approx(1.0, abs=0.001)
    assert sandbox.api("GET", "/v1/jobs/job_01HZX9ABCDEF0123456789ABCD").status_code == 404


@pytest.mark.parametrize(
    "mode,outcome", [("off", "skipped"), ("draft", "queued"), ("auto", "dispatched")]
)
def test_creative_proposals_follow_the_creative_axis(sandbox, mode, outcome):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"creative": mode})
    cart = campaign_named(sandbox, "Retargeting — Cart Abandoners")["campaignId"]
    sandbox.control(
        "campaign-authority", projectId=ACME, platform="meta", campaignId=cart, authority=None
    )
    run_id = start(sandbox).json()["runId"]
    sandbox.control("clock", advanceSeconds=10)
    creative = [c for c in run_of(sandbox, run_id)["changes"] if c["axis"] == "creative"]
    assert {c["actionType"] for c in creative} == {
        "push_creative",
        "replace_creative",
        "prune_creative",
        "update_targeting",
    }
    assert {c["outcome"] for c in creative} == {outcome}
