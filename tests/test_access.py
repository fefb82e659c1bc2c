"""Every URL pattern of the dashboard against every kind of person, for GET and POST.

A new URL fails `test_every_url_pattern_is_in_the_matrix` until it is added here, so no
page can ship without saying who may see it and who may change things through it."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import ACME, PASSWORD

PEOPLE = ["anonymous", "viewer", "approver", "admin", "outsider"]
LOGIN = "login"  # a redirect to the login page
OK = "ok"  # 200, or a redirect that is not to the login page
DENIED = 403

# url name -> (kwargs builder name, {person: (GET outcome, POST outcome)})
MATRIX = {
    "home": {"anonymous": (LOGIN, LOGIN), "viewer": (OK, 405), "approver": (OK, 405), "admin": (OK, 405), "outsider": (OK, 405)},
    "health": {p: (OK, 405) for p in PEOPLE},
    "login": {p: (OK, OK) for p in PEOPLE},
    "logout": {p: (405, LOGIN) for p in PEOPLE},
    "project": {"anonymous": (LOGIN, LOGIN), "viewer": (OK, 405), "approver": (OK, 405), "admin": (OK, 405), "outsider": (DENIED, 405)},
    "project-access": {"anonymous": (LOGIN, LOGIN), "viewer": (DENIED, DENIED), "approver": (DENIED, DENIED), "admin": (OK, OK), "outsider": (DENIED, DENIED)},
    "queue": {"anonymous": (LOGIN, LOGIN), "viewer": (OK, 405), "approver": (OK, 405), "admin": (OK, 405), "outsider": (DENIED, 405)},
    "queue-counts": {"anonymous": (LOGIN, LOGIN), "viewer": (OK, 405), "approver": (OK, 405), "admin": (OK, 405), "outsider": (DENIED, 405)},
    "queue-decide": {"anonymous": (LOGIN, LOGIN), "viewer": (405, DENIED), "approver": (405, OK), "admin": (405, OK), "outsider": (405, DENIED)},
}


def dashboard_patterns(resolver=None, prefix=""):
    """(name, route) of every named URL pattern outside the sandbox mount."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("sandbox/"):
                continue
            yield from dashboard_patterns(pattern, route)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, route


def test_every_url_pattern_is_in_the_matrix():
    names = {name for name, _ in dashboard_patterns()}
    assert names - set(MATRIX) == set()


def url_kwargs(name, sandbox):
    pending_id = first_pending(sandbox)
    return {
        "project": {"project_id": ACME},
        "project-access": {"project_id": ACME},
        "queue": {"project_id": ACME},
        "queue-counts": {"project_id": ACME},
        "queue-decide": {"project_id": ACME, "platform": "meta", "pending_id": pending_id},
    }.get(name, {})


def first_pending(sandbox):
    response = sandbox.api("GET", f"/v1/projects/{ACME}/ads/meta/pending")
    return response.json()["items"][0]["pendingId"]


POST_DATA = {
    "project-access": {"username": "viewer", "role": "viewer"},
    "queue-decide": {"decision": "reject", "reason": "Matrix test", "idempotency_key": ""},
    "login": {"username": "nobody", "password": "wrong"},
}


def outcome_of(response):
    if response.status_code in (301, 302) and "/login/" in response.headers.get("Location", ""):
        return LOGIN
    if response.status_code in (200, 301, 302, 204):
        return OK
    return response.status_code


@pytest.mark.parametrize("person", PEOPLE)
def test_each_person_gets_exactly_what_their_role_allows_on_every_url(sandbox, people, client, person):
    from django.urls import reverse

    if person != "anonymous":
        assert client.login(username=person, password=PASSWORD)
    seen = {}
    for name, expected in MATRIX.items():
        url = reverse(name, kwargs=url_kwargs(name, sandbox))
        get_outcome = outcome_of(client.get(url))
        post_outcome = outcome_of(client.post(url, POST_DATA.get(name, {})))
        seen[name] = (get_outcome, post_outcome)
        if name == "logout" and person != "anonymous":
            assert client.login(username=person, password=PASSWORD)
    assert seen == {name: MATRIX[name][person] for name in MATRIX}
