"""Projects, ad accounts and the OAuth consent round trip (contract §4.2–§4.4)."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import requests

from .support import ACME, BRIGHTSIDE, NORDLICHT, READONLY_KEY, ads, error_of, walk

RETURN = "http://127.0.0.1:9999/connections/done?from=test"


def test_projects_walk_to_the_last_page_one_at_a_time(sandbox):
    items, pages = walk(sandbox, "/v1/projects", limit=1)
    assert [p["id"] for p in items] == [ACME, NORDLICHT, BRIGHTSIDE]
    assert pages == 3
    assert set(items[0]) >= {
        "id",
        "name",
        "status",
        "customerExternalId",
        "timezone",
        "primaryLanguage",
        "ownerEmail",
        "createdAt",
        "updatedAt",
    }


def test_projects_filter_by_status_and_search(sandbox):
    found = sandbox.api(
        "GET", "/v1/projects", params={"search": "nordlicht", "status": "active"}
    ).json()
    assert [p["name"] for p in found["items"]] == ["Nordlicht Outdoor"]
    assert sandbox.api("GET", "/v1/projects", params={"status": "archived"}).json()["items"] == []


def test_projects_reject_a_bad_cursor_and_an_out_of_range_limit(sandbox):
    bad_cursor = sandbox.api("GET", "/v1/projects", params={"cursor": "!!not-ours"})
    assert bad_cursor.status_code == 422
    assert error_of(bad_cursor)["details"]["fields"]["cursor"]
    assert sandbox.api("GET", "/v1/projects", params={"limit": 201}).status_code == 422
    assert sandbox.api("GET", "/v1/projects", params={"limit": 0}).status_code == 422


def test_a_project_is_found_with_or_without_its_prefix_and_lists_its_layers(sandbox):
    with_prefix = sandbox.api("GET", f"/v1/projects/{ACME}").json()
    bare = sandbox.api("GET", f"/v1/projects/{ACME.removeprefix('prj_')}").json()
    assert with_prefix == bare
    assert with_prefix["organizationId"] == "org_2481fa5c-a404-44ed-a561-565392499abc"
    assert {layer["platform"] for layer in with_prefix["layers"]} == {
        "meta_ads",
        "tiktok_ads",
        "apple_ads",
    }
    assert all(layer["layerId"].startswith("lyr_") for layer in with_prefix["layers"])


def test_an_unknown_project_is_not_found(sandbox):
    response = sandbox.api("GET", "/v1/projects/prj_00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_ad_accounts_list_per_project_with_a_platform_filter(sandbox):
    body = sandbox.api("GET", ads(ACME, "/ad-accounts")).json()
    assert body["nextCursor"] is None
    assert [a["platform"] for a in body["items"]] == ["meta_ads", "tiktok_ads", "apple_ads"]
    meta = body["items"][0]
    assert (
        meta["externalId"].startswith("act_")
        and meta["currency"] == "USD"
        and meta["tokenStatus"] == "valid"
    )
    assert len(meta["adAccountId"]) == 26
    only_apple = sandbox.api(
        "GET", ads(ACME, "/ad-accounts"), params={"platforms": "apple_ads"}
    ).json()
    assert [a["externalId"] for a in only_apple["items"]] == ["org-4827193"]
    euros = sandbox.api("GET", ads(NORDLICHT, "/ad-accounts")).json()["items"]
    assert {a["currency"] for a in euros} == {"EUR"}


def test_apple_search_ads_is_not_a_platform(sandbox):
    response = sandbox.api(
        "GET", ads(ACME, "/ad-accounts"), params={"platforms": "apple_search_ads"}
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "VALIDATION"


def oauth_url(sandbox, project=BRIGHTSIDE, **body):
    body = {"platform": "tiktok_ads", "returnUrl": RETURN, "state": "xyz-42", **body}
    return sandbox.api("POST", ads(project, "/ad-accounts/oauth-url"), json=body)


def test_the_oauth_url_points_at_the_sandbox_consent_page_for_ten_minutes(sandbox):
    response = oauth_url(sandbox)
    assert response.status_code == 200
    body = response.json()
    assert body["url"].startswith(f"{sandbox.base_url}/oauth/consent?t=")
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10, seconds=5)


def test_the_oauth_url_refuses_return_urls_off_the_allowlist(sandbox):
    for url in (
        "https://evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "javascript:alert(1)",
    ):
        response = oauth_url(sandbox, returnUrl=url)
        assert response.status_code in (403, 422), url
    refused = oauth_url(sandbox, returnUrl="https://evil.example/cb")
    assert error_of(refused)["code"] == "RETURN_URL_NOT_ALLOWED"
    for url in ("http://localhost:3000/x", "http://[::1]:8000/x", "https://127.0.0.1/x"):
        assert oauth_url(sandbox, returnUrl=url).status_code == 200, url


def test_the_oauth_url_accepts_the_deprecated_redirect_url(sandbox):
    response = sandbox.api(
        "POST",
        ads(ACME, "/ad-accounts/oauth-url"),
        json={"platform": "meta_ads", "redirectUrl": "http://localhost:8000/back"},
    )
    assert response.status_code == 200


def test_the_oauth_url_validates_its_body_and_needs_a_write_scope(sandbox):
    assert oauth_url(sandbox, platform="apple_search_ads").status_code == 422
    missing = sandbox.api(
        "POST", ads(ACME, "/ad-accounts/oauth-url"), json={"platform": "meta_ads"}
    )
    assert error_of(missing)["details"]["fields"] == {"returnUrl": "is required"}
    forbidden = sandbox.api(
        "POST",
        ads(ACME, "/ad-accounts/oauth-url"),
        key=READONLY_KEY,
        json={"platform": "meta_ads", "returnUrl": RETURN},
    )
    assert forbidden.status_code == 403
    assert error_of(forbidden)["details"]["requiredScope"] == "ads:write:connect"


def consent_page(sandbox, **body):
    url = oauth_url(sandbox, **body).json()["url"]
    page = requests.get(url, timeout=10)
    assert page.status_code == 200
    return url, page.text


def first_account(html: str) -> str:
    """The first ad account offered on the consent page (its radio's value). Not the first
    value="7…" on the page: the hidden consent token can start with a 7 too."""
    return re.search(r'<input type="radio" name="account" [^>]*value="([^"]+)"', html).group(1)


def submit(url, button, account=None):
    token = parse_qs(urlsplit(url).query)["t"][0]
    form = {"t": token, button: "1", **({"account": account} if account else {})}
    return requests.post(url, data=form, allow_redirects=False, timeout=10)


def test_authorizing_on_the_consent_page_connects_the_account_and_returns_to_the_partner(sandbox):
    url, html = consent_page(sandbox)
    assert "Connect TikTok to Brightside Games" in html
    assert (
        'type="radio"' in html and "Authorize" in html and "Deny" in html and "<script" not in html
    )
    response = submit(url, "authorize", first_account(html))
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    query = parse_qs(target.query)
    assert (target.hostname, target.port, target.path) == ("127.0.0.1", 9999, "/connections/done")
    assert (
        query["from"] == ["test"]
        and query["status"] == ["connected"]
        and query["state"] == ["xyz-42"]
    )
    connected = sandbox.api(
        "GET", ads(BRIGHTSIDE, "/ad-accounts"), params={"platforms": "tiktok_ads"}
    ).json()
    assert [a["adAccountId"] for a in connected["items"]] == query["accountId"]
    assert connected["items"][0]["currency"] == "GBP"  # the customer's currency
    # A freshly connected platform has a layer with draft defaults, awaiting the customer's consent.
    assert (
        sandbox.api("GET", ads(BRIGHTSIDE, "/tiktok/defaults")).json()["defaults"]["structural"]
        == "draft"
    )


def test_denying_on_the_consent_page_returns_access_denied(sandbox):
    url, _ = consent_page(sandbox)
    query = parse_qs(urlsplit(submit(url, "deny").headers["Location"]).query)
    assert (
        query["status"] == ["error"]
        and query["error"] == ["access_denied"]
        and query["state"] == ["xyz-42"]
    )


def test_a_consent_link_older_than_ten_minutes_returns_expired(sandbox):
    url, html = consent_page(sandbox)
    sandbox.control("clock", advanceSeconds=601)
    answer = submit(url, "authorize", first_account(html))
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["status"] == ["error"] and query["error"] == ["expired"]
    assert (
        sandbox.api(
            "GET", ads(BRIGHTSIDE, "/ad-accounts"), params={"platforms": "tiktok_ads"}
        ).json()["items"]
        == []
    )


def test_a_consent_link_works_only_once(sandbox):
    url, html = consent_page(sandbox)
    account = first_account(html)
    assert submit(url, "authorize", account).status_code == 302
    again = submit(url, "authorize", account)
    assert again.status_code == 400
    assert "already been used" in again.text
    assert requests.get(url, timeout=10).status_code == 400
    accounts = sandbox.api(
        "GET", ads(BRIGHTSIDE, "/ad-accounts"), params={"platforms": "tiktok_ads"}
    ).json()
    assert len(accounts["items"]) == 1
