"""SANDBOX_EXTENSIONS: every endpoint and field the contract does not document is there
when extensions are on and gone when they are off (sandbox/extensions.py,
docs/sandbox-extensions.md); what the contract itself chose for the stand-in stays."""

import pytest

from .support import (
    ACME,
    BRIGHTSIDE,
    Receiver,
    ads,
    campaign_named,
    error_of,
    pending,
    start_of_a_fresh_minute,
)

PENDING_EXTRAS = {"verdictId", "decidedAt", "decidedBy", "decisionComment", "decisionReason"}


def auto_budget_campaign(sandbox) -> str:
    """Acme's retargeting campaign is pinned with tactical on auto: budget writes dispatch."""
    return campaign_named(sandbox, "Retargeting — Cart Abandoners")["campaignId"]


def verdict_endpoint(sandbox):
    campaign = auto_budget_campaign(sandbox)
    write = sandbox.api(
        "PATCH", ads(ACME, f"/meta/campaigns/{campaign}/budget"), json={"dailyBudgetCents": 2600}
    )
    verdict_id = write.json()["verdictId"]  # documented on every write
    response = sandbox.api("GET", ads(ACME, f"/verdicts/{verdict_id}"))
    if response.status_code == 404:
        assert error_of(response)["code"] == "NOT_FOUND"
        unknown = sandbox.api("GET", ads(ACME, "/nothing-here"))
        assert response.json()["error"]["message"] == unknown.json()["error"]["message"]
        return False
    return response.json()["verdictId"] == verdict_id


def pending_row_fields(sandbox):
    rows = pending(sandbox) + pending(sandbox, status="rejected")
    assert rows and all(r["pendingId"] and r["source"] == "optimizer" for r in rows)
    present = [PENDING_EXTRAS & set(r) for r in rows]
    assert all(p == present[0] for p in present)
    return present[0] == PENDING_EXTRAS


def conflict_decider(sandbox):
    row = pending(sandbox)[0]
    path = ads(ACME, f"/meta/pending/{row['pendingId']}/approve")
    assert sandbox.api("POST", path, json={}).status_code == 200
    again = sandbox.api("POST", path, json={})
    assert again.status_code == 409
    details = error_of(again)["details"]
    assert details["currentStatus"] == "approved"  # the contract's stand-in rule: kept
    return {"decidedAt", "decidedBy"} <= set(details)


def consent_on_defaults(sandbox):
    body = sandbox.api("GET", ads(BRIGHTSIDE, "/meta/defaults")).json()
    assert body["layerId"] and body["killSwitchActive"] is False
    return "partnerWritesConsented" in body


def consent_on_defaults_patch(sandbox):
    response = sandbox.api(
        "PATCH", ads(ACME, "/tiktok/defaults"), json={"defaults": {"creative": "off"}}
    )
    assert response.status_code == 200 and response.json()["verdictId"]
    return "partnerWritesConsented" in response.json()


def authority_source_on_campaign(sandbox):
    campaign = auto_budget_campaign(sandbox)
    body = sandbox.api("GET", ads(ACME, f"/meta/campaigns/{campaign}")).json()
    assert body["authority"]["tactical"] == "auto"  # the contract's §4.6 stand-in: kept
    return "authoritySource" in body


def approval_policy_on_project(sandbox):
    body = sandbox.api("GET", f"/v1/projects/{ACME}").json()
    assert body["layers"] and body["ingestState"] == "ready"
    return "approvalPolicy" in body


def run_changes_axis(sandbox):
    layer = sandbox.api("GET", ads(ACME, "/meta/defaults")).json()["layerId"]
    run_id = sandbox.api(
        "POST", ads(ACME, "/optimizer/run"), json={"layerId": layer, "platform": "meta_ads"}
    ).json()["runId"]
    sandbox.control("clock", advanceSeconds=10)
    changes = sandbox.api("GET", ads(ACME, f"/optimizer/runs/{run_id}")).json()["changes"]
    assert changes and all(c["outcome"] and c["actionType"] for c in changes)
    return all({"axis", "skipReason"} <= set(c) for c in changes)


def webhook_endpoint_row(sandbox):
    created = sandbox.api(
        "POST",
        "/v1/webhook-endpoints",
        json={"url": "https://hooks.example/x", "events": ["job.completed"], "metadata": {}},
    ).json()
    listed = sandbox.api("GET", "/v1/webhook-endpoints").json()["items"]
    got = sandbox.api("GET", f"/v1/webhook-endpoints/{created['endpoint']['id']}").json()
    rows = [created["endpoint"], *listed, got]
    assert all(r["url"] == "https://hooks.example/x" and r["apiVersion"] == "v1" for r in rows)
    present = [{"scope", "metadata"} <= set(r) for r in rows]
    assert len(set(present)) == 1
    return present[0]


def delivery_row(sandbox):
    hook = sandbox.api(
        "POST",
        "/v1/webhook-endpoints",
        json={"url": "https://hooks.example/x", "events": ["job.completed"]},
    ).json()["endpoint"]
    test = sandbox.api("POST", f"/v1/webhook-endpoints/{hook['id']}/test").json()
    rows = sandbox.api("GET", f"/v1/webhook-endpoints/{hook['id']}/deliveries").json()["items"]
    assert [r["id"] for r in rows] == [test["deliveryId"]] and rows[0]["status"]
    return set(rows[0]) != {"id", "status"}


def validation_fields(sandbox):
    response = sandbox.api("GET", "/v1/audit-log", params={"limit": 500})
    error = error_of(response)
    assert response.status_code == 422 and error["code"] == "VALIDATION"
    if "fields" in error["details"]:
        return True
    assert (
        error["details"] == {}
        and "limit: must be an integer between 1 and 200" in (error["message"])
    )
    return False


def rate_limited_details(sandbox):
    sandbox.control("rate-tier", tier="standard")
    start_of_a_fresh_minute(sandbox)
    for _ in range(20):
        sandbox.api("POST", ads(ACME, "/optimizer/run"), json={})
    limited = sandbox.api("POST", ads(ACME, "/optimizer/run"), json={})
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    return bool(error_of(limited)["details"])


def return_url_details(sandbox):
    response = sandbox.api(
        "POST",
        ads(ACME, "/ad-accounts/oauth-url"),
        json={"platform": "meta_ads", "returnUrl": "https://elsewhere.example/back"},
    )
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "RETURN_URL_NOT_ALLOWED"
    return bool(error["details"])


def optimizer_conflict_details(sandbox):
    layer = sandbox.api("GET", ads(ACME, "/meta/defaults")).json()["layerId"]
    body = {"layerId": layer, "platform": "meta_ads"}
    assert sandbox.api("POST", ads(ACME, "/optimizer/run"), json=body).status_code == 202
    again = sandbox.api("POST", ads(ACME, "/optimizer/run"), json=body)
    assert again.status_code == 409 and error_of(again)["code"] == "CONFLICT"
    return "runId" in error_of(again)["details"]


def method_not_allowed_details(sandbox):
    response = sandbox.api("GET", ads(ACME, "/meta/campaigns"))
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    return "allowed" in error_of(response)["details"]


def platform_rejected_verdict(sandbox):
    campaign = campaign_named(sandbox, "Holiday Gift Cards 2026")["campaignId"]  # lifetime
    sandbox.control(
        "campaign-authority",
        projectId=ACME,
        platform="meta",
        campaignId=campaign,
        authority={"tactical": "auto"},
    )
    response = sandbox.api(
        "PATCH", ads(ACME, f"/meta/campaigns/{campaign}/budget"), json={"dailyBudgetCents": 5000}
    )
    error = error_of(response)
    assert response.status_code == 422 and error["code"] == "PLATFORM_REJECTED"
    assert error["details"]["platformCode"] == "budget_type_switch_not_allowed"  # documented
    return "verdictId" in error["details"]


def write_job_result(sandbox):
    campaign = auto_budget_campaign(sandbox)
    job_id = sandbox.api(
        "PATCH", ads(ACME, f"/meta/campaigns/{campaign}/budget"), json={"dailyBudgetCents": 2700}
    ).json()["jobId"]
    sandbox.control("clock", advanceSeconds=2)
    job = sandbox.api("GET", f"/v1/jobs/{job_id}").json()
    assert job["status"] == "completed" and "result" in job  # documented on completed jobs
    return job["result"] != {}


PROBES = {
    "verdict endpoint": verdict_endpoint,
    "pending row decision fields": pending_row_fields,
    "who decided, in a 409": conflict_decider,
    "consent on defaults": consent_on_defaults,
    "consent on a defaults PATCH": consent_on_defaults_patch,
    "authoritySource on a campaign": authority_source_on_campaign,
    "approvalPolicy on a project": approval_policy_on_project,
    "axis and skipReason in run changes": run_changes_axis,
    "scope and metadata on webhook endpoints": webhook_endpoint_row,
    "delivery rows beyond id and status": delivery_row,
    "details.fields on VALIDATION": validation_fields,
    "details on RATE_LIMITED": rate_limited_details,
    "details on RETURN_URL_NOT_ALLOWED": return_url_details,
    "details on an optimizer CONFLICT": optimizer_conflict_details,
    "details on METHOD_NOT_ALLOWED": method_not_allowed_details,
    "verdictId on PLATFORM_REJECTED": platform_rejected_verdict,
    "write jobs' result": write_job_result,
}


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
@pytest.mark.parametrize("name", PROBES)
def test_each_extension_is_there_only_while_extensions_are_on(sandbox, name, on):
    assert sandbox.control("extensions", on=on) == {"extensions": on}
    assert PROBES[name](sandbox) is on


@pytest.fixture
def receiver():
    hooks = Receiver()
    yield hooks
    hooks.close()


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
def test_webhook_payloads_carry_extensions_only_while_they_are_on(sandbox, receiver, on):
    sandbox.control("tick")
    sandbox.control("extensions", on=on)
    sandbox.control("webhooks", url=receiver.url, secret="whsec_x", autoDeliver=False)
    assert run_changes_axis(sandbox) is on
    write_job_result(sandbox)
    sandbox.control("tick")
    receiver.wait_for(3)
    (run,) = receiver.events("ads.optimizer.run.completed")
    assert run["data"]["changes"] and all(c["outcome"] for c in run["data"]["changes"])
    assert all(("axis" in c) is on for c in run["data"]["changes"])
    writes = [e for e in receiver.events("job.completed") if e["data"]["kind"] == "ads_write"]
    assert writes and all((e["data"]["result"] != {}) is on for e in writes)


def test_the_setting_switches_extensions_off_until_the_control_says_otherwise(sandbox, settings):
    settings.SANDBOX_EXTENSIONS = False
    assert verdict_endpoint(sandbox) is False
    sandbox.control("extensions", on=True)
    assert verdict_endpoint(sandbox) is True
    assert sandbox.control("extensions", on=None) == {"extensions": False}
    assert consent_on_defaults(sandbox) is False


def test_what_the_contract_chose_for_the_stand_in_stays_when_extensions_are_off(sandbox):
    sandbox.control("extensions", on=False)
    whoami = sandbox.api("GET", "/v1/whoami").json()
    assert whoami["killSwitch"] is False and whoami["apiAccessRevoked"] is False
    assert set(sandbox.api("GET", ads(ACME, "/meta/pending/count")).json()) == {"count"}
    assert pending(sandbox)[0]["source"] == "optimizer"
    campaign = campaign_named(sandbox, "Puzzle Quest — Lookalike 1%", BRIGHTSIDE)["campaignId"]
    denied = sandbox.api(
        "PATCH",
        ads(BRIGHTSIDE, f"/meta/campaigns/{campaign}/budget"),
        json={"dailyBudgetCents": 6000},
    )
    details = error_of(denied)["details"]
    assert details["reason"] == "partner_consent_missing" and details["verdictId"]
    rows = sandbox.api("GET", "/v1/audit-log", params={"eventType": "ads.write.denied"}).json()
    assert rows["items"][0]["data"]["verdictId"] == details["verdictId"]
    project = sandbox.api("GET", f"/v1/projects/{ACME}").json()
    assert {layer["platform"] for layer in project["layers"]} == {
        "meta_ads",
        "tiktok_ads",
        "apple_ads",
    }
