"""CSRF is enforced on every unsafe method of every dashboard URL.

Each URL pattern (the same enumeration the access matrix uses) is sent POST, PUT, PATCH and
DELETE by a signed-in admin whose session holds a CSRF secret but whose request carries no
token, as a forged cross-site form would. Each is refused with the CSRF 403, except the few
URLs listed below with the reason they may be."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.test_access import dashboard_patterns, url_kwargs

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

# url name -> (why it is exempt, the statuses it answers to a token-less request)
EXCEPTIONS = {
    # Layers calls it server to server; the HMAC signature over the body authenticates it, and
    # an unsigned request (this one) is refused as malformed before anything is stored.
    "webhooks-layers": ("authenticated by its signature", {400, 405}),
    # A share link is read-only for anyone holding it; it is exempt so a stray form post gets
    # the same sentence as any other write attempt there: 403, and nothing is written.
    "share": ("read-only: every write is answered 403", {403}),
    # One-click unsubscribe (RFC 8058): mail clients post to the link with no form of ours;
    # the link's long random token is the only key, and all it can do is stop e-mail.
    "mail-unsubscribe": ("its token authenticates it; it only turns e-mail off", {200, 405}),
}


def admin_client_with_csrf_cookie(people):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="admin", password=PASSWORD)
    page = client.get(reverse("home")).content.decode()  # the session now holds a CSRF secret
    client.token = re.search(
        r'X-CSRFToken&quot;: &quot;([^&]+)&quot;|X-CSRFToken": "([^"]+)"', page
    )
    return client


def test_every_unsafe_method_on_every_url_without_a_token_is_refused(sandbox, people):
    client = admin_client_with_csrf_cookie(people)
    seen = {}
    for name, _route in dashboard_patterns():
        url = reverse(name, kwargs=url_kwargs(name, sandbox))
        for method in UNSAFE:
            response = client.generic(
                method, url, "", content_type="application/x-www-form-urlencoded"
            )
            expected = EXCEPTIONS[name][1] if name in EXCEPTIONS else {403}
            if response.status_code not in expected:
                seen[f"{method} {name}"] = response.status_code
            elif name not in EXCEPTIONS:
                assert b"CSRF" in response.content or b"csrf" in response.content.lower(), (
                    f"{method} {name}"
                )
    assert seen == {}


def test_the_exceptions_are_exactly_the_csrf_exempt_views():
    """A new csrf_exempt view fails here until it is listed above with its reason."""
    from django.urls import resolve

    exempt = set()
    for name, _route in dashboard_patterns():
        try:
            view = resolve(reverse(name, kwargs=_placeholder_kwargs(name))).func
        except Exception:
            continue
        if getattr(view, "csrf_exempt", False):
            exempt.add(name)
    assert exempt == set(EXCEPTIONS)


def _placeholder_kwargs(name):
    from django.urls import get_resolver

    pattern = next(p for p in get_resolver().reverse_dict.getlist(name))
    params = pattern[0][0][1]
    fixed = {"link_id": "1", "hold_id": "00000000-0000-4000-8000-000000000000"}
    return {p: fixed.get(p, "x") for p in params}


@pytest.mark.parametrize("method", UNSAFE)
def test_a_request_with_the_token_gets_past_the_check(sandbox, people, method):
    client = admin_client_with_csrf_cookie(people)
    assert client.token, "the page carries its CSRF token for htmx"
    token = next(g for g in client.token.groups() if g)
    response = client.generic(method, reverse("notices-read"), "", headers={"X-CSRFToken": token})
    assert response.status_code != 403 or b"CSRF" not in response.content
