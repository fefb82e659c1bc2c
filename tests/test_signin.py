"""Signing in: wrong passwords are counted, and an address that guesses too often waits."""

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def real_limits(settings):
    settings.SIGNIN_FAILURES_PER_NAME = 5
    settings.SIGNIN_FAILURES_PER_ADDRESS = 30
    settings.SIGNIN_WINDOW_SECONDS = 900
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_make_the_sixth_try_wait_even_with_the_right_one(people):
    client = Client()
    for _ in range(5):
        assert sign_in(client, "approver", "wrong").status_code == 200
    response = sign_in(client, "approver", PASSWORD)
    assert response.status_code == 429 and response["Retry-After"] == "900"
    body = response.content.decode()
    assert "Too many failed sign-ins from here. Wait 15 minutes" in body
    assert "_auth_user_id" not in client.session


def test_the_username_typed_is_kept_when_the_sign_in_must_wait(people):
    client = Client()
    for _ in range(5):
        sign_in(client, "approver", "wrong")
    assert 'value="approver"' in sign_in(client, "approver", "wrong").content.decode()


def test_someone_guessing_elsewhere_does_not_lock_the_person_out(people):
    for _ in range(6):
        sign_in(Client(), "approver", "wrong", address="203.0.113.9")
    response = sign_in(Client(), "approver", PASSWORD, address="10.0.0.1")
    assert response.status_code == 302


def test_a_good_sign_in_clears_the_count_of_earlier_typos(people):
    client = Client()
    for _ in range(4):
        sign_in(client, "approver", "wrong")
    assert sign_in(client, "approver", PASSWORD).status_code == 302
    other = Client()
    for _ in range(4):
        assert sign_in(other, "approver", "wrong").status_code == 200
    assert sign_in(other, "approver", PASSWORD).status_code == 302


def test_one_address_trying_many_usernames_waits_after_thirty_failures(people, settings):
    client = Client()
    for n in range(30):
        sign_in(client, f"someone-{n}", "wrong")
    assert sign_in(client, "approver", PASSWORD).status_code == 429
