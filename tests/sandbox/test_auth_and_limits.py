"""Keys, scopes, headers and rate limits (contract §1.2, §1.7, §1.8, §3)."""

import re

from .support import (
    ACME,
    DEMO_KEY_ID,
    READONLY_KEY,
    READONLY_KEY_ID,
    ULID,
    ads,
    error_of,
    start_of_a_fresh_minute,
)

DEMO_SCOPES = [
    "ads:read",
    "ads:write:connect",
    "ads:write:campaigns",
    "ads:write:budgets",
    "ads:write:lifecycle",
    "ads:write:policy",
    "ads:write:optimizer_trigger",
    "ads:write:pending",
    "jobs:read",
    "projects:read",
    "metrics:read",
]


def test_whoami_describes_the_demo_key_and_its_org(sandbox):
    body = sandbox.api("GET", "/v1/whoami").json()
    assert body["organizationId"] == "org_2481fa5c-a404-44ed-a561-565392499abc"
    assert body["organizationName"] == "Northwind Partners"
    assert body["apiKeyId"] == DEMO_KEY_ID
    assert body["scopes"] == DEMO_SCOPES
    assert body["rateLimitTier"] == "standard"


def test_every_response_carries_a_request_id_and_rate_limit_headers(sandbox):
    for response in (
        sandbox.api("GET", "/v1/whoami"),
        sandbox.api("GET", "/v1/whoami", key="nope"),
    ):
        assert re.fullmatch(f"req_{ULID}", response.headers["X-Request-Id"])
        assert response.headers["X-RateLimit-Endpoint-Class"] == "read-light"
        assert response.headers["X-RateLimit-Limit"] == "120"
        assert int(response.headers["X-RateLimit-Remaining"]) <= 120
        assert int(response.headers["X-RateLimit-Reset"]) > 0


def test_write_routes_report_their_endpoint_class(sandbox):
    budget = sandbox.api("PATCH", ads(ACME, "/meta/campaigns/cmp_missing/budget"), json={})
    run = sandbox.api("POST", ads(ACME, "/optimizer/run"), json={})
    assert budget.headers["X-RateLimit-Endpoint-Class"] == "write-light"
    assert run.headers["X-RateLimit-Endpoint-Class"] == "long-running"


def test_x_api_key_is_accepted_and_wins_over_bearer(sandbox):
    response = sandbox.api(
        "GET", "/v1/whoami", key="not-a-key", headers={"X-Api-Key": READONLY_KEY}
    )
    assert response.status_code == 200
    assert response.json()["apiKeyId"] == READONLY_KEY_ID


def test_a_missing_key_is_unauthenticated(sandbox):
    response = sandbox.api("GET", "/v1/whoami", headers={"Authorization": ""})
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHENTICATED"


def test_an_unknown_key_is_unauthenticated(sandbox):
    response = sandbox.api("GET", "/v1/projects", key="lp_test_NOPE_nope")
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHENTICATED"


def test_a_revoked_key_is_unauthenticated(sandbox):
    sandbox.control("key", apiKeyId=READONLY_KEY_ID, state="revoked")
    response = sandbox.api("GET", "/v1/whoami", key=READONLY_KEY)
    assert response.status_code == 401


def test_a_killed_key_gets_the_kill_switch_with_key_scope(sandbox):
    sandbox.control("key", apiKeyId=DEMO_KEY_ID, state="killed")
    response = sandbox.api("GET", "/v1/whoami")
    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "KILL_SWITCH"
    assert error["details"] == {"scope": "key"}
    sandbox.control("key", apiKeyId=DEMO_KEY_ID, state="active")
    assert sandbox.api("GET", "/v1/whoami").status_code == 200


def test_the_read_only_key_cannot_write_and_is_told_the_missing_scope(sandbox):
    response = sandbox.api(
        "PATCH",
        ads(ACME, "/meta/defaults"),
        key=READONLY_KEY,
        json={"defaults": {"creative": "off"}},
    )
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "FORBIDDEN_SCOPE"
    assert error["details"] == {"requiredScope": "ads:write:policy"}


def test_the_read_only_key_can_read(sandbox):
    assert sandbox.api("GET", ads(ACME, "/campaigns"), key=READONLY_KEY).status_code == 200


def test_unknown_api_paths_are_a_json_not_found(sandbox):
    response = sandbox.api("GET", "/v1/nothing/here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_the_standard_tier_limits_long_running_starts_to_twenty_a_minute(sandbox):
    sandbox.control("rate-tier", tier="standard")
    start_of_a_fresh_minute(sandbox)
    statuses = [
        sandbox.api("POST", ads(ACME, "/optimizer/run"), json={}).status_code for _ in range(21)
    ]
    assert statuses[:20] == [422] * 20
    limited = sandbox.api("POST", ads(ACME, "/optimizer/run"), json={})
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    # Other classes have their own buckets; a new minute refills this one.
    assert sandbox.api("GET", "/v1/whoami").status_code == 200
    sandbox.control("clock", advanceSeconds=60)
    assert sandbox.api("POST", ads(ACME, "/optimizer/run"), json={}).status_code == 422


def test_tier_off_never_limits_but_still_reports_standard_numbers(sandbox):
    sandbox.control("rate-tier", tier="off")
    responses = [sandbox.api("POST", ads(ACME, "/optimizer/run"), json={}) for _ in range(22)]
    assert {r.status_code for r in responses} == {422}
    assert responses[-1].headers["X-RateLimit-Limit"] == "20"


def test_a_wrong_verb_on_a_known_path_is_method_not_allowed(sandbox):
    response = sandbox.api("GET", ads(ACME, "/meta/campaigns"))
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"
    assert sandbox.api("PUT", ads(ACME, "/meta/defaults"), json={}).headers["Allow"] == "GET"
