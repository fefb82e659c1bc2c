"""Sign-in with the partner's identity provider (OpenID Connect), against a small provider
the tests serve themselves (tests/oidc_provider.py): the whole authorization-code flow over
real HTTP, and every way its answer can be wrong."""

from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard import sso
from tests.conftest import PASSWORD
from tests.oidc_provider import StandInProvider


@pytest.fixture
def provider(settings):
    box = StandInProvider()
    settings.OIDC_RP_CLIENT_ID = box.client_id
    settings.OIDC_RP_CLIENT_SECRET = box.client_secret
    settings.OIDC_OP_ISSUER = box.issuer
    settings.OIDC_PROVIDER_NAME = "Partner SSO"
    sso._discovered.clear()
    yield box
    box.stop()
    sso._discovered.clear()


def sign_in(client, next_path=""):
    """The browser's round trip: to the provider, back to the callback."""
    start = reverse("oidc_authentication_init") + (f"?next={next_path}" if next_path else "")
    to_provider = client.get(start)
    assert to_provider.status_code == 302
    back = requests.get(to_provider.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    url = urlsplit(back.headers["Location"])
    assert url.path == reverse("oidc_authentication_callback")
    return client.get(f"{url.path}?{url.query}")


def signed_in_as(client):
    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else None


def test_the_sign_in_page_offers_the_provider_only_when_it_is_set_up(db, client, settings):
    assert "Sign in with" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    settings.OIDC_RP_CLIENT_ID = "layers-dashboard"
    settings.OIDC_PROVIDER_NAME = "Partner SSO"
    assert "Sign in with Partner SSO" in client.get(reverse("login")).content.decode()


def test_signing_in_with_the_provider_makes_the_person_named_by_the_claim_and_signs_them_in(
    db, client, provider
):
    response = sign_in(client, next_path="/notices/")
    assert response.status_code == 302 and response.headers["Location"] == "/notices/"
    assert signed_in_as(client) == "ana.lima"
    person = get_user_model().objects.get(username="ana.lima")
    assert person.email == "ana@p.example"
    assert not person.has_usable_password()  # the provider is this person's only way in
    assert not person.grants.exists()  # no access until an admin grants some
    assert provider.tokens_issued == 1

    client.logout()
    sign_in(client)
    assert signed_in_as(client) == "ana.lima"
    assert get_user_model().objects.filter(username="ana.lima").count() == 1


def test_the_claim_named_by_the_setting_maps_the_provider_to_people(db, client, provider, settings):
    settings.OIDC_USERNAME_CLAIM = "email"
    get_user_model().objects.create_user("ana@p.example")  # made earlier, no password
    sign_in(client)
    assert signed_in_as(client) == "ana@p.example"


@pytest.mark.parametrize(
    "tamper", ["foreign-key", "edited", "audience", "issuer", "expired", "nonce"]
)
def test_a_token_that_does_not_verify_signs_nobody_in_and_the_page_says_so(
    db, client, provider, tamper
):
    provider.tamper = tamper
    response = sign_in(client)
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert signed_in_as(client) is None
    assert not get_user_model().objects.exists()
    page = client.get(response.headers["Location"]).content.decode()
    assert 'id="sso-refused"' in page
    assert "could not be verified" in page


def test_the_provider_cannot_sign_in_as_a_local_account(db, client, provider):
    get_user_model().objects.create_user("ana.lima", password=PASSWORD)  # break-glass admin
    response = sign_in(client)
    assert signed_in_as(client) is None
    page = client.get(response.headers["Location"]).content.decode()
    assert "“ana.lima” is a local account: sign in with its password." in page


def test_a_callback_this_browser_never_started_is_refused(db, client, provider):
    client.get(reverse("login"))
    response = client.get(reverse("oidc_authentication_callback") + "?code=x&state=forged")
    assert response.status_code == 302 and signed_in_as(client) is None


def test_local_accounts_still_sign_in_with_a_password_beside_the_provider(db, client, provider):
    get_user_model().objects.create_user("demo", password=PASSWORD)
    response = client.post(reverse("login"), {"username": "demo", "password": PASSWORD})
    assert response.status_code == 302 and signed_in_as(client) == "demo"


def test_with_debug_off_an_identity_provider_must_be_complete_and_https():
    from tests.test_security_settings import PRODUCTION, refusal, start

    missing = refusal(start(**PRODUCTION, OIDC_RP_CLIENT_ID="layers-dashboard"))
    assert "set OIDC_OP_ISSUER (discovery), or the authorization, token and JWKS" in missing
    plain = refusal(
        start(
            **PRODUCTION, OIDC_RP_CLIENT_ID="layers-dashboard", OIDC_OP_ISSUER="http://sso.example"
        )
    )
    assert "The identity provider's addresses must start with https://." in plain
    assert (
        start(
            **PRODUCTION, OIDC_RP_CLIENT_ID="layers-dashboard", OIDC_OP_ISSUER="https://sso.example"
        ).returncode
        == 0
    )


def test_without_making_accounts_only_people_already_here_sign_in(db, client, provider, settings):
    settings.OIDC_CREATE_USER = False
    response = sign_in(client)
    assert signed_in_as(client) is None
    page = client.get(response.headers["Location"]).content.decode()
    assert "“ana.lima” has no account here yet" in page
    get_user_model().objects.create_user("ana.lima")  # made by an admin, no password
    sign_in(client)
    assert signed_in_as(client) == "ana.lima"
