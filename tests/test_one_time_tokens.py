"""One-time tokens are spent in the database (issue 14, findings 5 and 8): an embed token,
a connection's signed state and its popup token each work once, even when the cache forgets
(it may evict, or be one per process); and what an embed session becomes."""

import hashlib
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dashboard.models import ProjectGrant, SpentNonce
from dashboard.services.nonces import Kind, nonce_spend
from tests.conftest import ACME, NORDLICHT, login
from tests.test_accounts import HOST, accounts_html, callback_path, consent, start_connection
from tests.test_embedding import embed_settings, mint, refused_code, start  # noqa: F401

# --- 5. spent in the database --------------------------------------------------------


def test_an_embed_token_stays_spent_when_the_cache_forgets_it(db, client):
    token = mint()
    assert start(client, token).status_code == 302
    cache.clear()  # an eviction, a restart, or another process with its own cache
    assert refused_code(start(Client(), token)) == "reused"


def test_a_connection_state_stays_spent_when_the_cache_forgets_it(sandbox, people, client):
    login(client, "admin")
    path = callback_path(consent(start_connection(client, "tiktok")))
    assert client.get(path, HTTP_HOST=HOST).status_code == 302
    cache.clear()
    again = client.get(path, HTTP_HOST=HOST)
    assert again.status_code == 400
    assert "This connection link was already used." in again.content.decode()


def test_a_popup_connect_token_stays_spent_when_the_cache_forgets_it(sandbox, people, client):
    login(client, "admin")
    html = accounts_html(client)
    popup_url = re.search(r'data-popup-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert Client().get(popup_url + "&platform=tiktok", HTTP_HOST=HOST).status_code == 302
    cache.clear()
    again = Client().get(popup_url + "&platform=meta", HTTP_HOST=HOST)
    assert again.status_code == 403
    assert "This connect button was already used." in again.content.decode()


def test_a_value_is_spent_once_per_kind_and_only_its_hash_is_kept(db):
    later = timezone.now() + timedelta(minutes=10)
    assert nonce_spend(kind=Kind.EMBED_JTI, value="jti-1", expires_at=later)
    assert not nonce_spend(kind=Kind.EMBED_JTI, value="jti-1", expires_at=later)
    assert nonce_spend(kind=Kind.CONNECT_STATE, value="jti-1", expires_at=later)
    digests = set(SpentNonce.objects.values_list("digest", flat=True))
    assert digests == {hashlib.sha256(b"jti-1").hexdigest()}


# --- 8. embed sessions ---------------------------------------------------------------


def test_an_embed_session_ends_an_hour_after_it_started_however_much_it_is_written(
    db, client, settings
):
    started = timezone.now()
    assert start(client, mint()).status_code == 302
    session = client.session
    end = started + timedelta(seconds=settings.EMBED_SESSION_SECONDS)
    # Were it a length, a write half an hour later would move the end half an hour on.
    later = session.get_expiry_date(modification=timezone.now() + timedelta(minutes=30))
    assert later <= end + timedelta(seconds=5)
    client.get("/notices/count")  # a request that renews ordinary sessions
    assert client.session.get_expiry_date() <= end + timedelta(seconds=5)


def test_an_embed_link_opened_as_a_page_of_its_own_is_refused_before_its_token_is_spent(db, client):
    token = mint()
    top_level = client.get("/embed/start", {"token": token}, headers={"Sec-Fetch-Dest": "document"})
    assert refused_code(top_level) == "top_level"
    assert "_auth_user_id" not in client.session
    framed = Client().get("/embed/start", {"token": token}, headers={"Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 302  # the same token still opens the frame


def test_issuers_and_subjects_with_colons_never_share_one_embed_person(db):
    first = Client()
    second = Client()
    assert start(first, mint(issuer="a:b", subject="c", projects=[ACME])).status_code == 302
    assert start(second, mint(issuer="a", subject="b:c", projects=[NORDLICHT])).status_code == 302
    people = get_user_model().objects.filter(username__startswith="embed:")
    assert sorted(people.values_list("username", flat=True)) == ["embed:a%3Ab:c", "embed:a:b%3Ac"]
    for person, project in zip(people.order_by("username"), [ACME, NORDLICHT], strict=True):
        grants = ProjectGrant.objects.filter(user=person).values_list("project_id", flat=True)
        assert list(grants) == [project]


def test_an_embed_person_whose_name_would_not_fit_gets_a_hashed_username(db, client):
    claims = mint(issuer=":" * 64, subject="%" * 64)
    assert start(client, claims).status_code == 302
    person = get_user_model().objects.get(username__startswith="embed:")
    assert re.fullmatch(r"embed:#[0-9a-f]{64}", person.username)
    assert ProjectGrant.objects.filter(user=person, project_id=ACME).exists()
