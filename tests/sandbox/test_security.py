"""The sandbox is not an SSRF tool when it is mounted (issue 14, item 2): deliveries never
follow redirects, the control token is compared in constant time (and an empty one opens
nothing), and the control `webhooks` action checks URLs exactly as the endpoint API does."""

import hmac

import pytest
import requests

from .support import ACME, Receiver, ads, pending


@pytest.fixture
def receivers():
    first, second = Receiver(), Receiver()
    yield first, second
    first.close()
    second.close()


def control(sandbox, action, token, **body):
    return requests.post(
        f"{sandbox.base_url}/_control/{action}",
        json=body,
        headers={"X-Sandbox-Control-Token": token},
        timeout=10,
    )


def test_a_delivery_never_follows_a_redirect(sandbox, receivers):
    redirecting, elsewhere = receivers
    redirecting.statuses = [307]  # 307 keeps the POST and its body
    redirecting.location = elsewhere.url
    sandbox.control("tick")  # settle the seeded story before listening
    sandbox.control("webhooks", url=redirecting.url, secret="whsec_x", autoDeliver=False)
    row = pending(sandbox)[0]
    sandbox.api("POST", ads(ACME, f"/meta/pending/{row['pendingId']}/approve"), json={})
    counts = sandbox.control("tick")["webhooks"]
    assert len(redirecting.wait_for(1)) == 1 and redirecting.requests[0]["status"] == 307
    assert elsewhere.wait_for(1, timeout=1.0) == []
    assert counts == {"delivered": 0, "retrying": 1, "failed": 0}  # a 3xx is not delivered


def test_the_control_token_is_compared_in_constant_time(sandbox, monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert control(sandbox, "stats", "wrong-token").status_code == 403
    assert control(sandbox, "stats", sandbox.control_token).status_code == 200
    assert (b"wrong-token", sandbox.control_token.encode()) in compared
    assert (sandbox.control_token.encode(),) * 2 in compared


def test_an_empty_control_token_opens_nothing(sandbox, settings):
    settings.SANDBOX_CONTROL_TOKEN = ""
    assert control(sandbox, "stats", "").status_code == 403
    no_header = requests.post(f"{sandbox.base_url}/_control/stats", json={}, timeout=10)
    assert no_header.status_code == 403


def test_a_control_token_with_non_ascii_characters_is_refused_not_an_error(sandbox):
    response = requests.post(
        f"{sandbox.base_url}/_control/stats",
        json={},
        headers={"X-Sandbox-Control-Token": "sandbox-contrôl".encode("latin-1")},
        timeout=10,
    )
    assert response.status_code == 403


URLS = [
    ("https://hooks.example/layers", True),
    ("http://127.0.0.1:9/hooks", True),
    ("http://localhost:9/hooks", True),
    ("http://[::1]:9/hooks", True),
    ("http://127.0.0.2:9/hooks", True),
    ("http://hooks.example/layers", False),
    ("http://localhost.evil.example/hooks", False),
    ("http://127.0.0.1.evil.example/hooks", False),
    ("http://127.0.0.1@evil.example/hooks", False),
    ("ftp://127.0.0.1/hooks", False),
    ("https:///no-host", False),
    ("http://127.0.0.1:port/hooks", False),
    ("https://hooks.example/" + "x" * 500, False),
]


@pytest.mark.parametrize(("url", "allowed"), URLS)
def test_the_control_webhooks_action_checks_urls_as_the_endpoint_api_does(sandbox, url, allowed):
    api = sandbox.api(
        "POST", "/v1/webhook-endpoints", json={"url": url, "events": ["job.completed"]}
    )
    assert api.status_code == (201 if allowed else 422)
    by_control = control(sandbox, "webhooks", sandbox.control_token, url=url, secret="s")
    assert by_control.status_code == (200 if allowed else 400)
    if not allowed:
        assert "url" in by_control.json()["error"]


def test_the_control_webhooks_action_without_a_url_stops_deliveries(sandbox):
    assert sandbox.control("webhooks", url=None) == {"url": None, "autoDeliver": True, "secrets": 1}
