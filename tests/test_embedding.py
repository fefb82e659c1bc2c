"""Embedding: embed tokens in, embed sessions out, and what every response then says about
framing and cookies. Through the Django test client (the browser side is in
tests/browser/test_embedding.py)."""

import time

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from dashboard.models import ProjectGrant
from dashboard.services.embedding import AUDIENCE, embed_token_mint
from tests.conftest import ACME, BRIGHTSIDE, NORDLICHT, PASSWORD

PORTAL = "https://portal.partner.example"
OTHER_PORTAL = "https://other-portal.example"


@pytest.fixture(autouse=True)
def embed_settings(settings):
    settings.EMBED_SECRET = "test-embed-secret-0123456789abcdef0123456789"
    settings.EMBED_ALLOWED_ORIGINS = [PORTAL, OTHER_PORTAL]
    settings.EMBED_TOKEN_MAX_SECONDS = 600
    return settings


def mint(**changes):
    kwargs = dict(
        issuer="acme-portal",
        subject="u-42",
        name="Ana Souza",
        role="approver",
        projects=[ACME],
        parent_origin=PORTAL,
    )
    kwargs.update(changes)
    return embed_token_mint(**kwargs)


def raw_token(claims, secret=None):
    from django.conf import settings

    base = {
        "iss": "acme-portal",
        "aud": AUDIENCE,
        "sub": "u-42",
        "role": "approver",
        "projects": [ACME],
        "exp": int(time.time()) + 300,
        "jti": f"raw-{time.time_ns()}",
        "parent_origin": PORTAL,
    }
    base.update(claims)
    return jwt.encode(
        {k: v for k, v in base.items() if v is not None},
        secret or settings.EMBED_SECRET,
        algorithm="HS256",
    )


def start(client, token):
    return client.get("/embed/start", {"token": token})


def refused_code(response):
    assert response.status_code == 403
    body = response.content.decode()
    assert 'id="embed-refused"' in body and "Traceback" not in body
    return body.split('data-code="')[1].split('"')[0]


# --- the token ------------------------------------------------------------------------


def test_a_good_token_signs_the_person_in_with_exactly_its_grants_and_opens_their_queue(db, client):
    response = start(client, mint(projects=[ACME, NORDLICHT]))
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{ACME}/queue/"
    assert response["Referrer-Policy"] == "no-referrer"
    user = get_user_model().objects.get(username="embed:acme-portal:u-42")
    assert not user.has_usable_password()
    assert user.first_name == "Ana Souza"
    assert dict(ProjectGrant.objects.filter(user=user).values_list("project_id", "role")) == {
        ACME: "approver",
        NORDLICHT: "approver",
    }
    assert client.session["embed"]["parent_origin"] == PORTAL
    assert int(client.session["_auth_user_id"]) == user.id


def test_a_later_token_replaces_the_persons_grants_with_its_own(db, client):
    start(client, mint(projects=[ACME, NORDLICHT], role="approver"))
    response = start(Client(), mint(projects=[BRIGHTSIDE], role="viewer"))
    assert response.status_code == 302
    user = get_user_model().objects.get(username="embed:acme-portal:u-42")
    assert list(ProjectGrant.objects.filter(user=user).values_list("project_id", "role")) == [
        (BRIGHTSIDE, "viewer")
    ]


def test_a_token_may_name_the_page_to_show(db, client):
    response = start(client, mint(next_path=f"/projects/{ACME}/"))
    assert response["Location"] == f"/projects/{ACME}/"


def test_an_expired_token_is_refused_with_a_clear_page(db, client):
    response = start(client, mint(now=time.time() - 3600))
    assert refused_code(response) == "expired"
    assert "has expired" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_tampered_token_is_refused(db, client):
    head, body, signature = mint().split(".")
    tampered = ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])
    assert refused_code(start(client, tampered)) == "tampered"


def test_a_token_signed_with_another_secret_is_refused(db, client):
    assert (
        refused_code(start(client, raw_token({}, secret="not-the-shared-secret-0123456789abcdef")))
        == "tampered"
    )


def test_a_token_with_changed_claims_but_the_old_signature_is_refused(db, client):
    head, _, signature = mint(role="viewer").split(".")
    _, body, _ = mint(role="approver").split(".")
    assert refused_code(start(client, ".".join([head, body, signature]))) == "tampered"


def test_a_token_used_twice_is_refused_the_second_time(db, client):
    token = mint()
    assert start(client, token).status_code == 302
    response = start(Client(), token)
    assert refused_code(response) == "reused"
    assert "already used" in response.content.decode()


def test_a_token_for_another_audience_is_refused(db, client):
    assert refused_code(start(client, mint(audience="another-app"))) == "audience"


def test_a_token_from_a_parent_origin_that_is_not_allowed_is_refused_and_never_framed(db, client):
    response = start(client, mint(parent_origin="https://evil.example"))
    assert refused_code(response) == "origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_a_token_valid_for_longer_than_ten_minutes_is_refused(db, client):
    assert refused_code(start(client, mint(lifetime=3600))) == "too_long"
    # also when it claims a short life from an old issue time
    assert refused_code(start(client, raw_token({"iat": int(time.time()) - 3000}))) == "too_long"


def test_a_token_asking_for_the_admin_role_is_refused(db, client):
    assert refused_code(start(client, mint(role="admin"))) == "role"


def test_a_token_without_projects_or_subject_is_refused(db, client):
    assert refused_code(start(client, raw_token({"projects": []}))) == "incomplete"
    assert refused_code(start(client, raw_token({"sub": None}))) == "incomplete"


def test_a_token_sending_the_person_off_site_is_refused(db, client):
    assert refused_code(start(client, mint(next_path="//evil.example/phish"))) == "next"


def test_no_token_and_no_secret_are_refused_with_a_sentence(db, client, settings):
    assert refused_code(client.get("/embed/start")) == "missing"
    settings.EMBED_SECRET = ""
    assert refused_code(start(client, raw_token({}, secret="x" * 40))) == "not_configured"


def test_a_refused_token_keeps_the_session_it_came_with(db, client, people):
    assert client.login(username="viewer", password=PASSWORD)
    start(client, mint(now=time.time() - 3600))
    assert client.session["_auth_user_id"] == str(people["viewer"].id)
    assert "embed" not in client.session


# --- framing --------------------------------------------------------------------------


def test_pages_of_an_embed_session_may_be_framed_by_its_parent_origin_only(db, client):
    start(client, mint(parent_origin=OTHER_PORTAL))
    response = client.get("/health")
    policy = response["Content-Security-Policy"]
    assert f"frame-ancestors {OTHER_PORTAL}" in policy
    assert PORTAL not in policy and "*" not in policy
    assert "X-Frame-Options" not in response
    assert "script-src 'self'" in policy  # the rest of the policy is kept


def test_pages_of_a_normal_session_refuse_every_frame(db, client, people):
    assert client.login(username="viewer", password=PASSWORD)
    for response in (client.get("/health"), client.get("/login/"), Client().get("/login/")):
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"


def test_the_refusal_page_of_a_bad_token_from_an_allowed_portal_shows_inside_its_frame(db, client):
    response = start(client, mint(now=time.time() - 3600))
    assert f"frame-ancestors {PORTAL}" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response


def test_a_session_whose_portal_is_no_longer_allowed_is_no_longer_framed(db, client, settings):
    start(client, mint())
    settings.EMBED_ALLOWED_ORIGINS = [OTHER_PORTAL]
    response = client.get("/health")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


# --- cookies --------------------------------------------------------------------------


def test_the_embed_session_cookie_is_samesite_none_secure_and_partitioned(db, client):
    response = start(client, mint())
    cookie = response.cookies["sessionid"]
    header = cookie.OutputString()
    assert (
        "SameSite=None" in header
        and "Secure" in header
        and "Partitioned" in header
        and "HttpOnly" in header
    )
    assert "csrftoken" not in response.cookies  # CSRF_USE_SESSIONS: the session is the only cookie


def test_a_normal_login_keeps_a_lax_unpartitioned_cookie(db, people):
    client = Client()
    client.get("/login/")
    response = client.post("/login/", {"username": "viewer", "password": PASSWORD})
    header = response.cookies["sessionid"].OutputString()
    assert "SameSite=Lax" in header
    assert "Partitioned" not in header


def test_logging_out_of_an_embed_session_clears_the_partitioned_cookie(db, client):
    start(client, mint())
    response = client.post("/logout/")
    header = response.cookies["sessionid"].OutputString()
    assert 'sessionid=""' in header and "Partitioned" in header and "SameSite=None" in header


def test_csrf_keeps_working_for_an_htmx_post_inside_the_frame(db):
    client = Client(enforce_csrf_checks=True)
    response = start(client, mint())
    assert response.status_code == 302
    client.get("/embed/start")  # any page rendering base.html puts the token in the session
    token = client.session.get("_csrftoken")
    assert token
    # Same-origin request from inside the iframe, token in the header as base.html sends it.
    refused = client.post("/logout/", HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    passed = client.post("/logout/", HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert passed.status_code == 302


# --- embed mode -----------------------------------------------------------------------


def test_the_queue_in_an_embed_session_renders_compact_without_outer_navigation(sandbox, client):
    start(client, mint())
    response = client.get(f"/projects/{ACME}/queue/")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-parent-origin="{PORTAL}"' in body
    assert 'class="embed ' in body
    assert "js/embed.js" in body
    assert 'aria-label="Main"' not in body and "Log out" not in body
    assert "topbar-compact" in body


def test_the_queue_in_a_normal_session_has_its_navigation_and_no_embed_script(
    sandbox, people, client
):
    assert client.login(username="approver", password=PASSWORD)
    body = client.get(f"/projects/{ACME}/queue/").content.decode()
    assert (
        'aria-label="Main"' in body
        and "js/embed.js" not in body
        and "data-parent-origin" not in body
    )


# --- when an embed session ends ---------------------------------------------------------


def test_a_framed_request_for_the_sign_in_page_says_the_session_ended_and_allowed_portals_may_frame_it(  # noqa: E501 - the name is the test's sentence
    db, client
):
    response = client.get(
        f"/login/?next=/projects/{ACME}/queue/%3Fplatform%3Dmeta", HTTP_SEC_FETCH_DEST="iframe"
    )
    body = response.content.decode()
    assert response.status_code == 401
    assert "Your session here has ended" in body and 'name="password"' not in body
    assert f'data-next="/projects/{ACME}/queue/?platform=meta"' in body
    assert f"frame-ancestors {PORTAL} {OTHER_PORTAL}" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response
    assert "js/embed_ended.js" in body and "no-store" in response["Cache-Control"]


def test_the_session_ended_page_never_offers_an_off_site_next_page(db, client):
    response = client.get("/login/?next=https://evil.example/", HTTP_SEC_FETCH_DEST="iframe")
    assert 'data-next=""' in response.content.decode()


def test_without_allowed_portals_a_framed_sign_in_page_is_still_refused(db, client, settings):
    settings.EMBED_ALLOWED_ORIGINS = []
    response = client.get("/login/", HTTP_SEC_FETCH_DEST="iframe")
    assert response.status_code == 200 and 'name="password"' in response.content.decode()
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_an_htmx_request_after_the_session_ended_sends_the_whole_page_to_sign_in_and_back(
    db, client
):
    page = f"/projects/{ACME}/queue/?platform=tiktok"
    response = client.get(
        f"/projects/{ACME}/queue/counts",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{page}",
    )
    assert response.status_code == 200 and response.content == b""
    assert (
        response["HX-Redirect"]
        == "/login/?next=%2Fprojects%2F" + ACME + "%2Fqueue%2F%3Fplatform%3Dtiktok"
    )


def test_an_ordinary_request_after_the_session_ended_still_redirects_to_sign_in(db, client):
    response = client.get(f"/projects/{ACME}/queue/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
