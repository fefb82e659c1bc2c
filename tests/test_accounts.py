"""Ad accounts and the OAuth connection, through the dashboard's own URLs, with the sandbox
answering over real HTTP (its consent page included)."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import requests
from django.core import signing
from django.test import Client
from django.urls import reverse

from dashboard.models import DecisionRecord
from dashboard.services.accounts import STATE_SALT
from tests.conftest import ACME, NORDLICHT, login

# A return-URL host the sandbox's key allows (the test client's "testserver" is not).
HOST = "localhost"


def start_connection(client, platform="tiktok"):
    """Posts the connect form; returns the consent page URL we are sent to."""
    response = client.post(
        reverse("accounts-connect", args=[ACME]),
        {"platform": platform, "idempotency_key": ""},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 302, response.content[:500]
    assert "/sandbox/oauth/consent?t=" in response.headers["Location"]
    return response.headers["Location"]


def consent(url, *, deny=False):
    """What the customer does on the platform's page; returns where the platform sends them."""
    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    account = re.search(r'name="account" id="account-1" value="([^"]+)"', page.text).group(1)
    token = parse_qs(urlsplit(url).query)["t"][0]
    data = {"t": token, "account": account, **({"deny": "1"} if deny else {"authorize": "1"})}
    answer = requests.post(url, data=data, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def callback_path(location):
    parts = urlsplit(location)
    assert parts.path == reverse("accounts-callback", args=[ACME])
    return f"{parts.path}?{parts.query}"


def accounts_html(client, query=""):
    return client.get(reverse("accounts", args=[ACME]) + query).content.decode()


def test_the_accounts_page_lists_each_account_with_platform_external_id_currency_and_status(
    sandbox, people, client
):
    login(client, "viewer")
    html = accounts_html(client)
    assert 'id="accounts"' in html
    for expected in (
        "Acme Coffee — US",
        "act_104729384756012",
        "Acme Coffee — TikTok US",
        "org-4827193",
        "USD",
        "valid",
    ):
        assert expected in html
    assert "Connecting accounts needs the admin role" in html
    assert 'id="connect-form"' not in html


def test_an_admin_connects_an_account_through_the_consent_page_and_sees_it_highlighted(
    sandbox, people, client
):
    login(client, "admin")
    location = consent(start_connection(client, "tiktok"))
    query = parse_qs(urlsplit(location).query)
    assert query["status"] == ["connected"]
    response = client.get(callback_path(location), HTTP_HOST=HOST)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"?connected={query['accountId'][0]}")
    html = client.get(response.headers["Location"]).content.decode()
    assert "Connected: Acme Coffee — " in html
    assert f'id="account-{query["accountId"][0]}" class="just-connected"' in html
    assert "Just connected" in html
    record = DecisionRecord.objects.get(action="connect")
    assert (record.outcome, record.entity_id, record.user) == (
        "connected",
        query["accountId"][0],
        people["admin"],
    )


def test_denying_on_the_consent_page_says_that_nothing_was_connected(sandbox, people, client):
    login(client, "admin")
    before = accounts_html(client).count('<tr id="account-')
    location = consent(start_connection(client, "meta"), deny=True)
    response = client.get(callback_path(location), HTTP_HOST=HOST, follow=True)
    html = response.content.decode()
    assert (
        "The connection was cancelled on the Meta consent page, so nothing was connected." in html
    )
    assert html.count('<tr id="account-') == before


def test_a_consent_link_that_expired_on_the_platform_says_so(sandbox, people, client):
    login(client, "admin")
    url = start_connection(client, "apple")
    sandbox.control("clock", advanceSeconds=11 * 60)
    location = consent(url)
    assert "error=expired" in location
    html = client.get(callback_path(location), HTTP_HOST=HOST, follow=True).content.decode()
    assert "the link expired. Start the connection again." in html


def test_a_reused_state_is_refused_with_a_sentence_and_never_twice_accepted(
    sandbox, people, client
):
    login(client, "admin")
    path = callback_path(consent(start_connection(client, "tiktok")))
    first = client.get(path, HTTP_HOST=HOST)
    assert first.status_code == 302
    again = client.get(path, HTTP_HOST=HOST)
    assert again.status_code == 400
    assert "This connection link was already used." in again.content.decode()


def test_a_forged_state_is_refused(sandbox, people, client):
    login(client, "admin")
    path = callback_path(consent(start_connection(client, "tiktok")))
    forged = re.sub(r"state=([^&]+)", lambda m: "state=" + m.group(1)[:-3] + "abc", path)
    response = client.get(forged, HTTP_HOST=HOST)
    html = response.content.decode()
    assert response.status_code == 400
    assert "was not made by this dashboard" in html
    assert "Traceback" not in html


def test_a_state_signed_for_another_project_is_refused(sandbox, people, client):
    login(client, "admin")
    state = signing.dumps(
        {"p": NORDLICHT, "pl": "meta", "u": people["admin"].pk, "n": "x1", "w": 0}, salt=STATE_SALT
    )
    response = client.get(
        reverse("accounts-callback", args=[ACME]),
        {"status": "connected", "accountId": "A", "state": state},
    )
    assert response.status_code == 400
    assert "was not made by this dashboard" in response.content.decode()


def test_a_missing_state_is_refused(sandbox, people, client):
    login(client, "admin")
    response = client.get(
        reverse("accounts-callback", args=[ACME]), {"status": "connected", "accountId": "X"}
    )
    assert response.status_code == 400
    assert "opened without the connection" in response.content.decode()


class OldSigner(signing.TimestampSigner):
    """Signs as if it were eleven minutes ago (a state from an abandoned connection)."""

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 11 * 60)


def test_a_state_older_than_ten_minutes_has_expired(sandbox, people, client):
    login(client, "admin")
    data = {"p": ACME, "pl": "meta", "u": people["admin"].pk, "n": "old-nonce", "w": 0}
    state = OldSigner(salt=STATE_SALT).sign_object(data, compress=True)
    response = client.get(
        reverse("accounts-callback", args=[ACME]),
        {"status": "connected", "accountId": "X", "state": state},
    )
    assert response.status_code == 400
    assert "older than 10 minutes and has expired" in response.content.decode()


def test_only_admins_may_start_a_connection(sandbox, people, client):
    for username in ("viewer", "approver"):
        login(client, username)
        response = client.post(
            reverse("accounts-connect", args=[ACME]), {"platform": "meta"}, HTTP_HOST=HOST
        )
        assert response.status_code == 403


def test_a_return_address_layers_does_not_allow_is_explained(sandbox, people, client):
    login(client, "admin")
    response = client.post(
        reverse("accounts-connect", args=[ACME]), {"platform": "meta"}, follow=True
    )
    html = response.content.decode()
    assert "Layers refused our return address for the consent page" in html


def test_an_upstream_fault_on_the_account_list_becomes_a_sentence(sandbox, people, client):
    login(client, "admin")
    sandbox.control(
        "faults",
        faults=[{"kind": "status", "status": 500, "count": 50, "pathContains": "/ad-accounts"}],
    )
    response = client.get(reverse("accounts", args=[ACME]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="accounts-error"' in html
    assert "Traceback" not in html


def test_in_a_popup_the_connection_needs_no_session_and_the_page_that_opened_it_learns_the_result(
    sandbox, people, client
):
    login(client, "admin")
    html = accounts_html(client)
    popup_url = re.search(r'data-popup-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    status_url = re.search(r'data-status-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert client.get(status_url).json() == {"done": False}

    popup = Client()  # a top-level popup from a partner's iframe: no session cookie at all
    started = popup.get(popup_url + "&platform=tiktok", HTTP_HOST=HOST)
    assert started.status_code == 302
    location = consent(started.headers["Location"])
    finished = popup.get(callback_path(location), HTTP_HOST=HOST)
    page = finished.content.decode()
    assert finished.status_code == 200
    assert 'data-connect-result="connected"' in page
    assert (
        finished.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
    )  # it must reach its opener

    answer = client.get(status_url).json()
    account_id = parse_qs(urlsplit(location).query)["accountId"][0]
    assert answer == {
        "done": True,
        "next": reverse("accounts", args=[ACME]) + f"?connected={account_id}",
    }
    again = popup.get(popup_url + "&platform=meta", HTTP_HOST=HOST)
    assert again.status_code == 403
    assert "This connect button was already used." in again.content.decode()
