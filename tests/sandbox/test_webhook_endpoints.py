"""Webhook endpoint management (contract §6.4) and how an endpoint made through the API
becomes the sandbox's delivery target: signed test pings, secret rotation, subscriptions."""

import json
import time
import uuid
from datetime import datetime, timedelta

import pytest
import requests

from .support import (
    ACME,
    NORDLICHT,
    READONLY_KEY,
    Receiver,
    ads,
    campaign_named,
    error_of,
    pending,
    verify_signature,
    walk,
)

ENDPOINTS = "/v1/webhook-endpoints"
ORG_ID = "org_2481fa5c-a404-44ed-a561-565392499abc"
ROW_FIELDS = {
    "id",
    "organizationId",
    "projectId",
    "url",
    "description",
    "status",
    "events",
    "apiVersion",
    "scope",
    "metadata",
    "createdAt",
    "updatedAt",
    "lastSuccessAt",
    "lastFailureAt",
    "consecutiveFailureCount",
}
CATALOG = [
    "test.ping",
    "job.completed",
    "job.failed",
    "job.canceled",
    "ads.optimizer.run.completed",
    "approval.dispatched",
    "approval.approved",
    "approval.disapproved",
    "ads.write.denied",
    "ads.creative.flagged",
    "ads.creative.unlocked",
]


@pytest.fixture
def receiver():
    hooks = Receiver()
    yield hooks
    hooks.close()


@pytest.fixture
def quiet(sandbox):
    """The seeded story settled and nothing sent until the test ticks."""
    sandbox.control("tick")
    sandbox.control("webhooks", url=None, autoDeliver=False)
    return sandbox


def create(sandbox, url="https://hooks.example/layers", events=("job.completed",), **extra):
    response = sandbox.api("POST", ENDPOINTS, json={"url": url, "events": list(events), **extra})
    assert response.status_code == 201, response.text
    return response.json()


def state_of(sandbox) -> dict:
    response = requests.get(
        f"{sandbox.base_url}/_control/state",
        headers={"X-Sandbox-Control-Token": sandbox.control_token},
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def ping(sandbox, endpoint_id) -> dict:
    response = sandbox.api("POST", f"{ENDPOINTS}/{endpoint_id}/test")
    assert response.status_code == 202, response.text
    return response.json()


def deny_a_budget_change(sandbox):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"tactical": "off"})
    campaign_id = campaign_named(sandbox, "Q3 Prospecting — Cold Brew")["campaignId"]
    denied = sandbox.api(
        "PATCH", ads(ACME, f"/meta/campaigns/{campaign_id}/budget"), json={"dailyBudgetCents": 9000}
    )
    assert denied.status_code == 403
    return denied.json()["error"]["details"]["verdictId"]


def approve_and_dispatch(sandbox):
    row = pending(sandbox)[0]
    sandbox.api("POST", ads(ACME, f"/meta/pending/{row['pendingId']}/approve"), json={})
    sandbox.control("tick")


# --- create -------------------------------------------------------------------------------


def test_creating_an_endpoint_returns_its_row_and_a_signing_secret_shown_only_then(sandbox):
    created = sandbox.api(
        "POST",
        ENDPOINTS,
        json={
            "url": "https://hooks.example/layers",
            "events": ["approval.dispatched", "job.completed"],
            "description": "Partner dashboard",
            "metadata": {"team": "growth"},
            "projectId": ACME,
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    body = created.json()
    assert set(body) == {"endpoint", "signingSecret"}
    secret, row = body["signingSecret"], body["endpoint"]
    assert secret.startswith("whsec_") and len(secret) > 30
    assert set(row) == ROW_FIELDS
    assert str(uuid.UUID(row["id"])) == row["id"]  # a bare UUID, as documented
    assert row["organizationId"] == ORG_ID and row["projectId"] == ACME
    assert row["url"] == "https://hooks.example/layers"
    assert row["description"] == "Partner dashboard"
    assert row["status"] == "active" and row["apiVersion"] == "v1" and row["scope"] == "own"
    assert row["events"] == ["approval.dispatched", "job.completed"]
    assert row["metadata"] == {"team": "growth"}
    assert row["createdAt"] == row["updatedAt"] and row["createdAt"].endswith("Z")
    assert row["lastSuccessAt"] is None and row["lastFailureAt"] is None
    assert row["consecutiveFailureCount"] == 0

    read = sandbox.api("GET", f"{ENDPOINTS}/{row['id']}")
    listed = sandbox.api("GET", ENDPOINTS)
    assert read.headers["X-RateLimit-Endpoint-Class"] == "read-light"
    assert read.json() == row and listed.json()["items"] == [row]
    assert secret not in read.text and secret not in listed.text
    assert state_of(sandbox)["webhooks"]["url"] == "https://hooks.example/layers"


def test_plain_http_is_accepted_only_for_localhost_and_127_0_0_1(sandbox):
    for url in ("http://localhost:8000/webhooks/layers", "http://127.0.0.1:9/hooks"):
        assert create(sandbox, url=url)["endpoint"]["url"] == url


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://hooks.example/layers"}, "url"),
        ({"url": "ftp://hooks.example/layers"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://hooks.example/" + "x" * 500}, "url"),
        ({"events": []}, "events"),
        ({"events": None}, "events"),
        ({"events": "job.completed"}, "events"),
        ({"events": [f"job.completed{n}" for n in range(51)]}, "events"),
        ({"scope": "everything"}, "scope"),
        ({"projectId": "prj_00000000-0000-4000-8000-000000000000"}, "projectId"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"description": 7}, "description"),
    ],
)
def test_a_bad_create_body_is_a_validation_error_naming_the_field(sandbox, body, field):
    full = {"url": "https://hooks.example/layers", "events": ["job.completed"], **body}
    response = sandbox.api("POST", ENDPOINTS, json=full)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "VALIDATION" and field in error["details"]["fields"]
    assert sandbox.api("GET", ENDPOINTS).json()["items"] == []


def test_an_unknown_event_type_is_refused_by_name(sandbox):
    response = sandbox.api(
        "POST",
        ENDPOINTS,
        json={"url": "https://hooks.example/layers", "events": ["job.completed", "ads.everything"]},
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "VALIDATION" and error["message"] == "unknown event type"
    assert "ads.everything" in error["details"]["fields"]["events"]


def test_every_event_of_the_catalog_can_be_subscribed_to(sandbox):
    assert create(sandbox, events=CATALOG)["endpoint"]["events"] == CATALOG


def test_an_all_children_endpoint_needs_an_org_admin_key(sandbox):
    response = sandbox.api(
        "POST",
        ENDPOINTS,
        json={"url": "https://hooks.example/a", "events": ["job.failed"], "scope": "all_children"},
    )
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "FORBIDDEN_SCOPE" and error["details"]["requiredScope"] == "org:admin"


def test_endpoint_management_needs_no_ads_scope(sandbox):
    response = sandbox.api(
        "POST",
        ENDPOINTS,
        key=READONLY_KEY,
        json={"url": "https://hooks.example/r", "events": ["job.completed"]},
    )
    assert response.status_code == 201


def test_the_same_idempotency_key_replays_the_create_and_makes_one_endpoint(sandbox):
    body = {"url": "https://hooks.example/layers", "events": ["job.completed"]}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = sandbox.api("POST", ENDPOINTS, json=body, headers=headers)
    second = sandbox.api("POST", ENDPOINTS, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert len(sandbox.api("GET", ENDPOINTS).json()["items"]) == 1
    other_body = {**body, "events": ["job.failed"]}
    changed = sandbox.api("POST", ENDPOINTS, json=other_body, headers=headers)
    assert changed.status_code == 409 and error_of(changed)["code"] == "IDEMPOTENCY_CONFLICT"


# --- list, get, patch ---------------------------------------------------------------------


def test_endpoints_are_listed_page_by_page_and_filtered_by_project_and_status(sandbox):
    made = [create(sandbox, url=f"https://hooks.example/{n}")["endpoint"]["id"] for n in range(3)]
    nordlicht_hook = create(sandbox, url="https://hooks.example/n", projectId=NORDLICHT)
    made.append(nordlicht_hook["endpoint"]["id"])
    items, pages = walk(sandbox, ENDPOINTS, limit=2)
    assert [i["id"] for i in items] == made and pages == 2
    nordlicht = sandbox.api("GET", ENDPOINTS, params={"projectId": NORDLICHT}).json()["items"]
    assert [i["id"] for i in nordlicht] == [made[3]]
    sandbox.api("PATCH", f"{ENDPOINTS}/{made[0]}", json={"status": "paused"})
    paused = sandbox.api("GET", ENDPOINTS, params={"status": "paused"}).json()["items"]
    assert [i["id"] for i in paused] == [made[0]]
    for params in ({"status": "sleeping"}, {"limit": 101}, {"limit": 0}, {"cursor": "not-ours"}):
        response = sandbox.api("GET", ENDPOINTS, params=params)
        assert response.status_code == 422 and error_of(response)["code"] == "VALIDATION"


def test_an_unknown_endpoint_is_not_found_on_every_route(sandbox):
    missing = f"{ENDPOINTS}/{uuid.uuid4()}"
    for method, path in (
        ("GET", missing),
        ("PATCH", missing),
        ("POST", f"{missing}/rotate-secret"),
        ("POST", f"{missing}/test"),
        ("GET", f"{missing}/deliveries"),
    ):
        body = {"status": "active"} if method == "PATCH" else None
        response = sandbox.api(method, path, json=body)
        assert response.status_code == 404, (method, path)
        assert error_of(response)["code"] == "NOT_FOUND"


def test_patch_changes_url_events_description_and_status(sandbox):
    row = create(sandbox)["endpoint"]
    path = f"{ENDPOINTS}/{row['id']}"
    changed = sandbox.api(
        "PATCH",
        path,
        json={
            "url": "https://hooks.example/v2",
            "events": ["ads.write.denied", "approval.dispatched"],
            "description": "second try",
            "status": "paused",
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    body = changed.json()
    assert body["url"] == "https://hooks.example/v2" and body["status"] == "paused"
    assert body["events"] == ["ads.write.denied", "approval.dispatched"]
    assert body["description"] == "second try" and body["id"] == row["id"]
    assert sandbox.api("GET", path).json() == body
    for bad in (
        {"status": "auto_paused"},
        {"status": "disabled"},
        {"events": ["nope.nope"]},
        {"events": []},
        {"url": "http://hooks.example/x"},
        {},
    ):
        response = sandbox.api("PATCH", path, json=bad)
        assert response.status_code == 422, bad
        assert error_of(response)["code"] == "VALIDATION"
    assert sandbox.api("GET", path).json() == body  # nothing of a refused PATCH stuck


# --- deliveries ---------------------------------------------------------------------------


def test_a_test_ping_is_delivered_signed_to_the_endpoint_url(quiet, receiver):
    sandbox = quiet
    created = create(sandbox, url=receiver.url, events=["job.completed"])
    endpoint_id, secret = created["endpoint"]["id"], created["signingSecret"]
    sent = ping(sandbox, endpoint_id)
    assert set(sent) == {"eventId", "deliveryId", "scheduledAt"}
    assert sent["eventId"].startswith("evt_") and sent["scheduledAt"].endswith("Z")
    assert sandbox.control("tick")["webhooks"]["delivered"] == 1
    [request] = receiver.wait_for(1)
    headers = request["headers"]
    assert verify_signature(headers["X-Layers-Signature"], request["body"], secret)
    assert headers["X-Layers-Signature"].count("v1=") == 1
    assert headers["X-Layers-Event-Id"] == sent["eventId"]
    assert headers["X-Layers-Delivery-Id"] == sent["deliveryId"]
    assert headers["X-Layers-Event-Type"] == "test.ping"
    event = json.loads(request["body"])
    assert event["id"] == sent["eventId"] and event["type"] == "test.ping"
    assert set(event["data"]) == {"message", "endpointId", "organizationId"}
    assert event["data"]["endpointId"] == endpoint_id and event["data"]["organizationId"] == ORG_ID

    row = sandbox.api("GET", f"{ENDPOINTS}/{endpoint_id}").json()
    assert row["lastSuccessAt"] and row["consecutiveFailureCount"] == 0
    [delivery] = sandbox.api("GET", f"{ENDPOINTS}/{endpoint_id}/deliveries").json()["items"]
    assert delivery["id"] == sent["deliveryId"] and delivery["eventId"] == sent["eventId"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["responseStatusCode"] == 200


def test_a_test_ping_goes_out_right_away_when_auto_delivery_is_on(sandbox, receiver):
    created = create(sandbox, url=receiver.url)
    sent = ping(sandbox, created["endpoint"]["id"])
    [request] = receiver.wait_for(1)
    assert request["headers"]["X-Layers-Event-Id"] == sent["eventId"]
    assert verify_signature(
        request["headers"]["X-Layers-Signature"], request["body"], created["signingSecret"]
    )


def test_after_a_rotation_deliveries_carry_two_signatures_until_the_old_secret_expires(
    quiet, receiver
):
    sandbox = quiet
    created = create(sandbox, url=receiver.url)
    endpoint_id, old = created["endpoint"]["id"], created["signingSecret"]
    rotated = sandbox.api("POST", f"{ENDPOINTS}/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert set(body) == {"endpointId", "signingSecret", "previousSecretExpiresAt", "warning"}
    new = body["signingSecret"]
    assert body["endpointId"] == endpoint_id and new.startswith("whsec_") and new != old
    expires = datetime.fromisoformat(body["previousSecretExpiresAt"].replace("Z", "+00:00"))
    now = datetime.fromisoformat(state_of(sandbox)["now"].replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=59) < expires - now <= timedelta(hours=24)

    ping(sandbox, endpoint_id)
    sandbox.control("tick")
    [request] = receiver.wait_for(1)
    header = request["headers"]["X-Layers-Signature"]
    assert header.count("v1=") == 2
    assert verify_signature(header, request["body"], new)
    assert verify_signature(header, request["body"], old)

    sandbox.control("clock", advanceSeconds=24 * 3600 + 60)
    ping(sandbox, endpoint_id)
    sandbox.control("tick")
    later = receiver.wait_for(2)[1]
    header = later["headers"]["X-Layers-Signature"]
    assert header.count("v1=") == 1
    assert verify_signature(header, later["body"], new)
    assert not verify_signature(header, later["body"], old)


def test_events_the_endpoint_did_not_subscribe_to_are_not_delivered(quiet, receiver):
    sandbox = quiet
    create(sandbox, url=receiver.url, events=["ads.write.denied"])
    approve_and_dispatch(sandbox)  # approval.dispatched: not subscribed
    verdict_id = deny_a_budget_change(sandbox)
    sandbox.control("tick")
    receiver.wait_for(1)
    time.sleep(0.2)  # room for anything that should not have come
    assert [r["headers"]["X-Layers-Event-Type"] for r in receiver.requests] == ["ads.write.denied"]
    assert receiver.events("ads.write.denied")[0]["data"]["verdictId"] == verdict_id
    assert state_of(sandbox)["webhooks"]["deliveries"] == {"delivered": 1}


def test_an_endpoint_of_one_project_gets_only_that_projects_events(quiet, receiver):
    sandbox = quiet
    create(sandbox, url=receiver.url, events=["ads.write.denied"], projectId=NORDLICHT)
    deny_a_budget_change(sandbox)  # an Acme event
    sandbox.control("tick")
    assert state_of(sandbox)["webhooks"]["deliveries"] == {}
    assert receiver.requests == []


def test_a_paused_endpoint_gets_nothing_until_it_is_active_again(quiet, receiver):
    sandbox = quiet
    endpoint_id = create(sandbox, url=receiver.url, events=["ads.write.denied"])["endpoint"]["id"]
    sandbox.api("PATCH", f"{ENDPOINTS}/{endpoint_id}", json={"status": "paused"})
    assert state_of(sandbox)["webhooks"]["url"] is None
    refused = sandbox.api("POST", f"{ENDPOINTS}/{endpoint_id}/test")
    assert refused.status_code == 409 and error_of(refused)["code"] == "CONFLICT"
    deny_a_budget_change(sandbox)
    sandbox.control("tick")
    assert receiver.requests == []

    sandbox.api("PATCH", f"{ENDPOINTS}/{endpoint_id}", json={"status": "active"})
    assert state_of(sandbox)["webhooks"]["url"] == receiver.url
    ping(sandbox, endpoint_id)
    sandbox.control("tick")
    assert [r["headers"]["X-Layers-Event-Type"] for r in receiver.wait_for(1)] == ["test.ping"]


def test_twenty_failed_attempts_in_a_row_auto_pause_the_endpoint(quiet, receiver):
    sandbox = quiet
    endpoint_id = create(sandbox, url=receiver.url)["endpoint"]["id"]
    receiver.statuses = [410] * 20  # a client error: each delivery fails at once
    for _ in range(20):
        ping(sandbox, endpoint_id)
    assert sandbox.control("tick")["webhooks"]["failed"] == 20
    row = sandbox.api("GET", f"{ENDPOINTS}/{endpoint_id}").json()
    assert row["status"] == "auto_paused" and row["consecutiveFailureCount"] == 20
    assert row["lastFailureAt"] and row["lastSuccessAt"] is None
    assert state_of(sandbox)["webhooks"]["url"] is None
    failed = sandbox.api(
        "GET", f"{ENDPOINTS}/{endpoint_id}/deliveries", params={"status": "failed", "limit": 100}
    ).json()["items"]
    assert len(failed) == 20 and {d["responseStatusCode"] for d in failed} == {410}

    again = sandbox.api("PATCH", f"{ENDPOINTS}/{endpoint_id}", json={"status": "active"}).json()
    assert again["status"] == "active" and again["consecutiveFailureCount"] == 0


def test_the_webhooks_control_takes_the_target_back_and_sends_every_event_again(quiet, receiver):
    sandbox = quiet
    create(sandbox, url=receiver.url, events=["ads.write.denied"])
    other = Receiver()
    try:
        sandbox.control("webhooks", url=other.url, secret="whsec_control", autoDeliver=False)
        approve_and_dispatch(sandbox)
        [request] = other.wait_for(1)
        assert request["headers"]["X-Layers-Event-Type"] == "approval.dispatched"
        signature = request["headers"]["X-Layers-Signature"]
        assert verify_signature(signature, request["body"], "whsec_control")
        assert receiver.requests == []
    finally:
        other.close()


def test_reset_removes_every_endpoint(sandbox):
    endpoint_id = create(sandbox)["endpoint"]["id"]
    sandbox.control("reset", seed=True)
    assert sandbox.api("GET", ENDPOINTS).json() == {"items": [], "nextCursor": None}
    assert sandbox.api("GET", f"{ENDPOINTS}/{endpoint_id}").status_code == 404
    assert state_of(sandbox)["webhooks"]["url"] is None
