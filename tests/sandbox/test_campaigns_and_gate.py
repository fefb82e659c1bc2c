"""Campaign reads and writes through the authority gate (contract §2, §4.5–§4.12)."""

from .support import (
    ACME,
    BRIGHTSIDE,
    NORDLICHT,
    ads,
    campaign_named,
    campaigns,
    error_of,
    has_id,
    walk,
)

COLD_BREW = "Q3 Prospecting — Cold Brew"


def set_defaults(sandbox, project=ACME, platform="meta", **modes):
    sandbox.control("defaults", projectId=project, platform=platform, defaults=modes)


def verdict(sandbox, verdict_id, project=ACME):
    response = sandbox.api("GET", ads(project, f"/verdicts/{verdict_id}"))
    assert response.status_code == 200, response.text
    return response.json()


def test_campaigns_list_every_platform_including_ones_created_outside_layers(sandbox):
    items = campaigns(sandbox)
    assert {c["platform"] for c in items} == {"meta_ads", "tiktok_ads", "apple_ads"}
    assert any(not c["managedByLayers"] for c in items)
    assert {c["status"] for c in items} == {"active", "paused", "deleted"}
    row = campaign_named(sandbox, COLD_BREW)
    assert (
        has_id(row["campaignId"], "cmp")
        and row["dailyBudgetCents"] == 5000
        and "currency" not in row
    )


def test_campaigns_filter_by_platform_account_status_and_date(sandbox):
    meta = campaigns(sandbox, platforms="meta_ads")
    assert {c["platform"] for c in meta} == {"meta_ads"}
    assert campaigns(sandbox, adAccountId=meta[0]["adAccountId"]) == [
        c for c in campaigns(sandbox) if c["adAccountId"] == meta[0]["adAccountId"]
    ]
    paused_or_deleted = campaigns(sandbox, status="paused,deleted")
    assert {c["status"] for c in paused_or_deleted} == {"paused", "deleted"}
    assert campaigns(sandbox, since="2999-01-01T00:00:00Z") == []


def test_campaigns_walk_to_the_last_page_and_ignore_a_bad_cursor(sandbox):
    items, pages = walk(sandbox, ads(ACME, "/campaigns"), limit=3)
    assert len(items) == 8 and pages == 3
    assert len({c["campaignId"] for c in items}) == 8
    first = sandbox.api(
        "GET", ads(ACME, "/campaigns"), params={"limit": 3, "cursor": "garbage"}
    ).json()
    assert first["items"] == items[:3]


def test_one_campaign_carries_its_resolved_authority(sandbox):
    cart = campaign_named(sandbox, "Retargeting — Cart Abandoners")
    body = sandbox.api("GET", ads(ACME, f"/meta/campaigns/{cart['campaignId']}")).json()
    assert body["authority"] == {"creative": "auto", "tactical": "auto", "structural": "draft"}
    assert body["name"] == cart["name"]
    missing = sandbox.api("GET", ads(ACME, "/meta/campaigns/cmp_01HZX9ABCDEF0123456789ABCD"))
    assert missing.status_code == 404 and error_of(missing)["code"] == "NOT_FOUND"
    wrong_platform = sandbox.api("GET", ads(ACME, f"/tiktok/campaigns/{cart['campaignId']}"))
    assert wrong_platform.status_code == 404


def budget(sandbox, campaign_id, project=ACME, platform="meta", **body):
    return sandbox.api(
        "PATCH", ads(project, f"/{platform}/campaigns/{campaign_id}/budget"), json=body
    )


def test_a_budget_change_on_a_draft_tactical_axis_is_queued_for_approval(sandbox):
    campaign = campaign_named(sandbox, COLD_BREW)
    response = budget(sandbox, campaign["campaignId"], dailyBudgetCents=6500)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["jobId"] is None and has_id(body["pendingId"], "pa")
    record = verdict(sandbox, body["verdictId"])
    assert (
        record["decision"] == "queue"
        and record["axis"] == "tactical"
        and record["pendingId"] == body["pendingId"]
    )
    assert record["request"] == {
        "method": "PATCH",
        "path": ads(ACME, f"/meta/campaigns/{campaign['campaignId']}/budget"),
        "body": {"dailyBudgetCents": 6500},
    }
    queued = next(
        p
        for p in sandbox.api("GET", ads(ACME, "/meta/pending")).json()["items"]
        if p["pendingId"] == body["pendingId"]
    )
    assert queued["source"] == "partner" and queued["actionType"] == "update_budget"
    assert queued["currentValue"] == {"dailyBudgetCents": 5000} and queued["newValue"] == {
        "dailyBudgetCents": 6500
    }
    assert campaign_named(sandbox, COLD_BREW)["dailyBudgetCents"] == 5000


def test_a_budget_change_on_an_auto_tactical_axis_is_applied_at_once(sandbox):
    set_defaults(sandbox, tactical="auto")
    campaign = campaign_named(sandbox, COLD_BREW)
    response = budget(sandbox, campaign["campaignId"], dailyBudgetCents=7000)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "dispatched" and has_id(body["jobId"], "job")
    assert body["platformResponse"] == {"success": True}
    assert campaign_named(sandbox, COLD_BREW)["dailyBudgetCents"] == 7000
    assert verdict(sandbox, body["verdictId"])["decision"] == "allow"


def test_a_budget_change_on_an_off_tactical_axis_is_denied_with_a_verdict(sandbox):
    set_defaults(sandbox, tactical="off")
    campaign = campaign_named(sandbox, COLD_BREW)
    response = budget(sandbox, campaign["campaignId"], dailyBudgetCents=7000)
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "AUTHORITY_DENIED"
    assert (
        error["details"]["reason"] == "authority_axis_off"
        and error["details"]["axis"] == "tactical"
    )
    assert verdict(sandbox, error["details"]["verdictId"])["decision"] == "deny"
    denied = sandbox.api(
        "GET", "/v1/audit-log", params={"eventType": "ads.write.denied", "limit": 1}
    ).json()
    assert denied["items"][0]["data"]["verdictId"] == error["details"]["verdictId"]


def test_budget_bodies_are_validated_before_the_gate(sandbox):
    campaign_id = campaign_named(sandbox, COLD_BREW)["campaignId"]
    both = budget(sandbox, campaign_id, dailyBudgetCents=5000, lifetimeBudgetCents=90000)
    assert both.status_code == 422 and "dailyBudgetCents" in error_of(both)["details"]["fields"]
    assert budget(sandbox, campaign_id).status_code == 422
    too_small = budget(sandbox, campaign_id, dailyBudgetCents=99)
    assert error_of(too_small)["details"]["fields"] == {
        "dailyBudgetCents": "must be at least 100 cents"
    }
    assert budget(sandbox, campaign_id, dailyBudgetCents="5000").status_code == 422
    assert budget(sandbox, "cmp_unknown", dailyBudgetCents=5000).status_code == 404


def test_the_layer_kill_switch_denies_every_write(sandbox):
    campaign = campaign_named(sandbox, "Herbst Kollektion — Prospecting", NORDLICHT)
    response = budget(sandbox, campaign["campaignId"], NORDLICHT, dailyBudgetCents=9000)
    assert response.status_code == 403
    assert error_of(response)["details"]["reason"] == "kill_switch_active"
    sandbox.control("kill-switch", projectId=NORDLICHT, platform="meta", active=False)
    assert (
        budget(sandbox, campaign["campaignId"], NORDLICHT, dailyBudgetCents=9000).status_code == 202
    )


def test_writes_without_customer_consent_are_denied(sandbox):
    campaign = campaign_named(sandbox, "Puzzle Quest — Lookalike 1%", BRIGHTSIDE)
    pause = sandbox.api("POST", ads(BRIGHTSIDE, f"/meta/campaigns/{campaign['campaignId']}/pause"))
    assert pause.status_code == 403
    assert error_of(pause)["details"]["reason"] == "partner_consent_missing"
    sandbox.control("consent", projectId=BRIGHTSIDE, platform="meta", consented=True)
    assert (
        sandbox.api(
            "POST", ads(BRIGHTSIDE, f"/meta/campaigns/{campaign['campaignId']}/pause")
        ).status_code
        == 202
    )


def test_pause_and_resume_follow_the_structural_axis(sandbox):
    campaign_id = campaign_named(sandbox, COLD_BREW)["campaignId"]
    queued = sandbox.api("POST", ads(ACME, f"/meta/campaigns/{campaign_id}/pause")).json()
    assert queued["status"] == "pending"
    set_defaults(sandbox, structural="auto")
    paused = sandbox.api("POST", ads(ACME, f"/meta/campaigns/{campaign_id}/pause"))
    assert paused.status_code == 202 and paused.json()["status"] == "dispatched"
    assert campaign_named(sandbox, COLD_BREW)["status"] == "paused"
    sandbox.api("POST", ads(ACME, f"/meta/campaigns/{campaign_id}/resume"))
    assert campaign_named(sandbox, COLD_BREW)["status"] == "active"
    set_defaults(sandbox, structural="off")
    denied = sandbox.api("POST", ads(ACME, f"/meta/campaigns/{campaign_id}/pause"))
    assert error_of(denied)["details"] | {"verdictId": None} == {
        "reason": "authority_axis_off",
        "axis": "structural",
        "verdictId": None,
    }


def test_delete_is_a_soft_delete_and_deleted_campaigns_stay_listed(sandbox):
    set_defaults(sandbox, structural="auto")
    campaign_id = campaign_named(sandbox, "Holiday Gift Cards 2026")["campaignId"]
    response = sandbox.api("DELETE", ads(ACME, f"/meta/campaigns/{campaign_id}"))
    assert response.status_code == 202 and response.json()["status"] == "dispatched"
    assert campaign_named(sandbox, "Holiday Gift Cards 2026")["status"] == "deleted"
    again = sandbox.api("POST", ads(ACME, f"/meta/campaigns/{campaign_id}/resume"))
    assert again.status_code == 422


NEW_CAMPAIGN = {
    "name": "Autumn Espresso Launch",
    "outcome": "conversions",
    "dailyBudgetCents": 4000,
    "campaignManagementMode": "autopilot",
    "creativeMode": "draft",
}


def create(sandbox, platform="meta", project=ACME, **overrides):
    accounts = sandbox.api(
        "GET", ads(project, "/ad-accounts"), params={"platforms": f"{platform}_ads"}
    ).json()
    body = {"adAccountId": accounts["items"][0]["adAccountId"], **NEW_CAMPAIGN, **overrides}
    return sandbox.api("POST", ads(project, f"/{platform}/campaigns"), json=body)


def test_creating_a_campaign_on_auto_structural_dispatches_a_create_job(sandbox):
    set_defaults(sandbox, structural="auto")
    response = create(sandbox)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "dispatched" and body["kind"] == "ads_campaign_create"
    assert body["locationUrl"] == f"/v1/jobs/{body['jobId']}"
    assert body["authority"] == {"creative": "draft", "tactical": "auto", "structural": "auto"}
    created = sandbox.api("GET", ads(ACME, f"/meta/campaigns/{body['campaignId']}")).json()
    assert created["name"] == "Autumn Espresso Launch" and created["dailyBudgetCents"] == 4000
    assert created["authority"] == body["authority"] and created["managedByLayers"] is True


def test_creating_a_campaign_on_draft_structural_waits_for_approval(sandbox):
    response = create(sandbox)
    body = response.json()
    assert response.status_code == 202 and body["status"] == "pending" and body["jobId"] is None
    assert sandbox.api("GET", ads(ACME, f"/meta/campaigns/{body['campaignId']}")).status_code == 404
    approve = sandbox.api("POST", ads(ACME, f"/meta/pending/{body['pendingId']}/approve"), json={})
    assert approve.status_code == 200
    sandbox.control("tick")
    assert (
        sandbox.api("GET", ads(ACME, f"/meta/campaigns/{body['campaignId']}")).json()["status"]
        == "active"
    )


def test_creating_a_campaign_on_off_structural_is_denied(sandbox):
    response = create(sandbox, platform="tiktok")
    assert response.status_code == 403
    assert error_of(response)["details"]["reason"] == "authority_axis_off"


def test_creating_a_campaign_reports_every_bad_field(sandbox):
    response = create(
        sandbox,
        name="",
        outcome="fame",
        dailyBudgetCents=50,
        creativeMode="yolo",
        adAccountId="nope",
        startTime="yesterday",
    )
    assert response.status_code == 422
    fields = error_of(response)["details"]["fields"]
    assert set(fields) == {
        "name",
        "outcome",
        "dailyBudgetCents",
        "creativeMode",
        "adAccountId",
        "startTime",
    }
    lifetime_without_end = create(
        sandbox, platform="tiktok", dailyBudgetCents=None, lifetimeBudgetCents=90000
    )
    assert error_of(lifetime_without_end)["details"]["fields"] == {
        "endTime": "is required for a TikTok lifetime budget"
    }


def test_a_bad_platform_segment_is_a_validation_error(sandbox):
    assert sandbox.api("GET", ads(ACME, "/apple_search_ads/defaults")).status_code == 422


def test_campaign_authority_reads_source_and_partners_may_lower_it(sandbox):
    campaign_id = campaign_named(sandbox, COLD_BREW)["campaignId"]
    path = ads(ACME, f"/meta/campaigns/{campaign_id}/authority")
    before = sandbox.api("GET", path).json()
    assert before["source"] == "layer_defaults" and before["platform"] == "meta"
    lowered = sandbox.api("PATCH", path, json={"authority": {"creative": "draft"}})
    assert lowered.status_code == 200
    body = lowered.json()
    assert body["authority"] == {"creative": "draft", "tactical": "draft", "structural": "draft"}
    assert body["source"] == "per_campaign" and body["lastModifiedBy"]["actorType"] == "partner"
    assert has_id(body["verdictId"], "ver")
    # Back up to the customer's ceiling is fine; above it is not.
    assert sandbox.api("PATCH", path, json={"authority": {"creative": "auto"}}).status_code == 200
    escalate = sandbox.api("PATCH", path, json={"authority": {"tactical": "auto"}})
    assert escalate.status_code == 403
    assert error_of(escalate)["details"]["reason"] == "partner_escalation_forbidden"
    assert error_of(escalate)["details"]["axis"] == "tactical"
    bad = sandbox.api("PATCH", path, json={"authority": {"tactical": "turbo"}})
    assert bad.status_code == 422


def test_a_customer_pin_is_the_ceiling_for_partner_authority_changes(sandbox):
    campaign_id = campaign_named(sandbox, COLD_BREW)["campaignId"]
    sandbox.control(
        "campaign-authority",
        projectId=ACME,
        platform="meta",
        campaignId=campaign_id,
        authority={"tactical": "auto"},
    )
    path = ads(ACME, f"/meta/campaigns/{campaign_id}/authority")
    assert sandbox.api("GET", path).json()["lastModifiedBy"]["actorType"] == "user"
    assert sandbox.api("PATCH", path, json={"authority": {"tactical": "draft"}}).status_code == 200
    assert sandbox.api("PATCH", path, json={"authority": {"tactical": "auto"}}).status_code == 200
    assert budget(sandbox, campaign_id, dailyBudgetCents=5500).json()["status"] == "dispatched"


def test_layer_defaults_read_and_partner_patch_rules(sandbox):
    path = ads(ACME, "/meta/defaults")
    body = sandbox.api("GET", path).json()
    assert body["defaults"] == {"creative": "auto", "tactical": "draft", "structural": "draft"}
    assert body["killSwitchActive"] is False and body["layerId"].startswith("lyr_")
    lowered = sandbox.api("PATCH", path, json={"defaults": {"creative": "draft"}})
    assert lowered.status_code == 200 and lowered.json()["defaults"]["creative"] == "draft"
    escalate = sandbox.api("PATCH", path, json={"defaults": {"structural": "auto"}})
    assert error_of(escalate)["details"]["reason"] == "partner_escalation_forbidden"
    kill = sandbox.api(
        "PATCH", path, json={"defaults": {"creative": "off"}, "killSwitchActive": False}
    )
    assert kill.status_code == 422 and "killSwitchActive" in error_of(kill)["details"]["fields"]
    log = sandbox.api(
        "GET", "/v1/audit-log", params={"eventType": "ads.defaults.updated", "limit": 1}
    ).json()
    assert log["items"][0]["data"]["defaults"]["creative"] == "draft"


def test_verdicts_of_another_project_are_not_found(sandbox):
    campaign_id = campaign_named(sandbox, COLD_BREW)["campaignId"]
    verdict_id = budget(sandbox, campaign_id, dailyBudgetCents=6000).json()["verdictId"]
    assert sandbox.api("GET", ads(NORDLICHT, f"/verdicts/{verdict_id}")).status_code == 404
