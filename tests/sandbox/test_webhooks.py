"""Signed webhook deliveries from the outbox, retries and secret rotation (contract §6)."""

import json
import time

import pytest
import requests

from .support import ACME, Receiver, ads, campaign_named, has_id, pending, verify_signature

SECRET = "whsec_test_current"
OLD_SECRET = "whsec_test_previous"


@pytest.fixture
def receiver():
    hooks = Receiver()
    yield hooks
    hooks.close()


def configure(sandbox, receiver, **extra):
    sandbox.control("tick")  # settle the seeded story's approved action before listening
    sandbox.control("webhooks", url=receiver.url, secret=SECRET, autoDeliver=False, **extra)


def approve_and_dispatch(sandbox):
    row = pending(sandbox)[0]
    sandbox.api("POST", ads(ACME, f"/meta/pending/{row['pendingId']}/approve"), json={})
    sandbox.control("tick")
    return row


def test_an_approval_dispatch_is_delivered_signed_with_the_documented_headers(sandbox, receiver):
    configure(sandbox, receiver)
    row = approve_and_dispatch(sandbox)
    delivered = receiver.wait_for(1)
    request = next(
        r for r in delivered if r["headers"]["X-Layers-Event-Type"] == "approval.dispatched"
    )
    headers, body = request["headers"], request["body"]
    assert verify_signature(headers["X-Layers-Signature"], body, SECRET)
    assert not verify_signature(headers["X-Layers-Signature"], body + b" ", SECRET)
    timestamp = int(headers["X-Layers-Signature"].split(",")[0].removeprefix("t="))
    assert abs(timestamp - time.time()) < 300
    assert headers["User-Agent"] == "Layers-Webhooks/1"
    assert headers["X-Layers-Delivery-Id"]
    event = json.loads(body)
    assert event["id"] == headers["X-Layers-Event-Id"] and has_id(event["id"], "evt")
    assert event["type"] == "approval.dispatched" and event["apiVersion"] == "v1"
    assert (
        event["organizationId"] == "org_2481fa5c-a404-44ed-a561-565392499abc"
        and event["projectId"] == ACME
    )
    data = event["data"]
    assert (
        data["pendingId"] == row["pendingId"]
        and data["status"] == "dispatched"
        and data["platform"] == "meta"
    )
    assert set(data) >= {
        "actionType",
        "entityType",
        "entityId",
        "dispatchedAt",
        "verdictId",
        "dispatchFailureReason",
    }


def test_during_rotation_the_signature_carries_one_v1_per_secret(sandbox, receiver):
    configure(sandbox, receiver, previousSecret=OLD_SECRET)
    approve_and_dispatch(sandbox)
    request = receiver.wait_for(1)[0]
    header = request["headers"]["X-Layers-Signature"]
    assert header.count("v1=") == 2
    assert verify_signature(header, request["body"], SECRET)
    assert verify_signature(header, request["body"], OLD_SECRET)


def test_a_failed_delivery_is_retried_along_the_ladder_with_the_same_event_id(sandbox, receiver):
    configure(sandbox, receiver)
    receiver.statuses = [500, 503]
    approve_and_dispatch(sandbox)
    assert len(receiver.wait_for(1)) == 1
    assert sandbox.control("tick")["webhooks"]["delivered"] == 0  # not due yet: next try after 30 s
    sandbox.control("clock", advanceSeconds=30)
    sandbox.control("tick")
    sandbox.control("clock", advanceSeconds=60)
    sandbox.control("tick")
    requests_seen = receiver.wait_for(3)
    assert [r["status"] for r in requests_seen] == [500, 503, 200]
    assert len({r["headers"]["X-Layers-Event-Id"] for r in requests_seen}) == 1
    assert sandbox_state(sandbox)["webhooks"]["deliveries"] == {"delivered": 1}


def test_a_client_error_from_the_receiver_is_not_retried(sandbox, receiver):
    configure(sandbox, receiver)
    receiver.statuses = [410]
    approve_and_dispatch(sandbox)
    receiver.wait_for(1)
    sandbox.control("clock", advanceSeconds=3600)
    sandbox.control("tick")
    assert len(receiver.requests) == 1
    assert sandbox_state(sandbox)["webhooks"]["deliveries"] == {"failed": 1}


def test_denied_writes_completed_jobs_and_optimizer_runs_emit_events(sandbox, receiver):
    configure(sandbox, receiver)
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"tactical": "off"})
    campaign_id = campaign_named(sandbox, "Q3 Prospecting — Cold Brew")["campaignId"]
    denied = sandbox.api(
        "PATCH", ads(ACME, f"/meta/campaigns/{campaign_id}/budget"), json={"dailyBudgetCents": 9000}
    )
    layer = sandbox.api("GET", ads(ACME, "/meta/defaults")).json()["layerId"]
    run = sandbox.api(
        "POST", ads(ACME, "/optimizer/run"), json={"layerId": layer, "platform": "meta_ads"}
    ).json()
    sandbox.control("clock", advanceSeconds=10)
    sandbox.control("tick")
    receiver.wait_for(3)
    [denial] = receiver.events("ads.write.denied")[:1]
    assert denial["data"]["verdictId"] == denied.json()["error"]["details"]["verdictId"]
    assert (
        denial["data"]["reason"] == "authority_axis_off"
        and denial["data"]["actorType"] == "partner"
    )
    [completed] = receiver.events("ads.optimizer.run.completed")
    assert completed["data"]["runId"] == run["runId"] and completed["data"]["changes"]
    assert run["jobId"] in {e["data"]["jobId"] for e in receiver.events("job.completed")}


def test_auto_delivery_sends_right_after_the_request_commits(sandbox, receiver):
    sandbox.control("webhooks", url=receiver.url, secret=SECRET, autoDeliver=True)
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"tactical": "off"})
    campaign_id = campaign_named(sandbox, "Q3 Prospecting — Cold Brew")["campaignId"]
    sandbox.api(
        "PATCH", ads(ACME, f"/meta/campaigns/{campaign_id}/budget"), json={"dailyBudgetCents": 9000}
    )
    assert (
        receiver.wait_for(1, timeout=5)[0]["headers"]["X-Layers-Event-Type"] == "ads.write.denied"
    )


def test_no_url_means_no_deliveries(sandbox, receiver):
    approve_and_dispatch(sandbox)
    assert sandbox_state(sandbox)["webhooks"] == {
        "url": None,
        "autoDeliver": True,
        "deliveries": {},
    }


def sandbox_state(sandbox):
    response = requests.get(
        f"{sandbox.base_url}/_control/state",
        headers={"X-Sandbox-Control-Token": sandbox.control_token},
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()
