"""Logs an operator can search: one line per request and per upstream call, both carrying
our request id, the upstream line Layers' id too; JSON lines when LOG_FORMAT=json; never
the key, never a token. And Sentry's scrubber, fed a fake event full of secrets."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from dashboard.observability import SCRUBBED, sentry_scrub
from tests.conftest import ACME, PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def records(caplog, name):
    return [r for r in caplog.records if r.name == name]


def test_a_page_logs_one_request_line_and_upstream_lines_carrying_both_request_ids_and_never_the_key(  # noqa: E501 - the name is the test's sentence
    sandbox, client, people, caplog, settings
):
    caplog.set_level(logging.INFO, logger="dashboard")
    assert client.login(username="viewer", password=PASSWORD)
    response = client.get(f"/projects/{ACME}/", HTTP_X_REQUEST_ID="proxy-trace-0123456789")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "proxy-trace-0123456789"

    upstream = records(caplog, "dashboard.layers")
    assert upstream, "the overview reads Layers"
    # Every upstream line, including those of the page's concurrent fan-out, has our id.
    assert {r.request_id for r in upstream} == {"proxy-trace-0123456789"}
    assert all(r.layers_request_id.startswith("req_") for r in upstream)
    line = upstream[0].getMessage()
    assert "layers_request_id=req_" in line and "route=/v1/projects/{project}" in line

    requests_logged = [
        r for r in records(caplog, "dashboard.request") if r.request_id == "proxy-trace-0123456789"
    ]
    assert len(requests_logged) == 1
    assert f"GET /projects/{ACME}/ status=200" in requests_logged[0].getMessage()

    secret = settings.LAYERS_API_KEY.split("_", 3)[-1]
    assert settings.LAYERS_API_KEY not in caplog.text and secret not in caplog.text
    assert "Bearer" not in caplog.text


def test_a_request_id_that_does_not_look_like_an_id_is_replaced_by_a_new_one(db, client):
    for sent in ("short", "has spaces in it", "x" * 300, "<script>alert(1)</script>"):
        got = client.get("/login/", HTTP_X_REQUEST_ID=sent)["X-Request-ID"]
        assert got != sent and len(got) == 32 and got.isalnum()


def test_every_answer_names_its_request_id_even_without_one_sent(db, client):
    first = client.get("/login/")["X-Request-ID"]
    second = client.get("/login/")["X-Request-ID"]
    assert first and second and first != second


def test_a_share_links_token_is_cut_out_of_the_request_line(sandbox, client, people, caplog):
    from dashboard.services.sharing import share_link_create

    caplog.set_level(logging.INFO, logger="dashboard.request")
    _link, token = share_link_create(actor=people["admin"], project_id=ACME, scope="queue")
    assert client.get(f"/s/{token}").status_code == 200
    assert token not in caplog.text
    assert "request GET /s/… status=200" in caplog.text


def test_log_format_json_writes_one_json_object_per_line_with_the_request_id():
    env = {**os.environ, "DJANGO_DEBUG": "true", "LOG_FORMAT": "json"}
    code = "import logging; logging.getLogger('dashboard.check').info('hello %s', 'operator')"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
    assert lines, done.stderr
    line = json.loads(lines[-1])
    assert line["message"] == "hello operator"
    assert line["level"] == "INFO" and line["logger"] == "dashboard.check"
    assert line["request_id"] == "-"  # outside a request


# --- Sentry -------------------------------------------------------------------------------


def test_the_sentry_scrubber_removes_the_key_authorization_cookies_and_tokens(settings):
    key = settings.LAYERS_API_KEY
    event = {
        "message": f"Layers refused lp_live_ABCDEF0123456789_realsecret while using {key}",
        "request": {
            "url": "https://dash.example/s/share-link-token-value",
            "headers": {
                "Authorization": f"Bearer {key}",
                "Cookie": "sessionid=abc123secret",
                "User-Agent": "Mozilla",
            },
            "cookies": {"sessionid": "abc123secret"},
            "query_string": "token=embed-token-value",
        },
        "exception": {"values": [{"type": "LayersError", "value": f"401 for key {key}"}]},
        "breadcrumbs": {"values": [{"message": f"GET /v1/whoami Authorization: Bearer {key}"}]},
        "extra": {"embed_token": "eyJhbGciOi.signed.value", "note": "nothing secret"},
        "contexts": {"headers": [["X-Sandbox-Control-Token", "sandbox-control"]]},
    }
    scrubbed = sentry_scrub(event, {})
    text = json.dumps(scrubbed)
    assert key not in text and key.split("_", 3)[-1] not in text
    assert "realsecret" not in text and "abc123secret" not in text
    assert "embed-token-value" not in text and "eyJhbGciOi" not in text
    assert "sandbox-control" not in text and "share-link-token-value" not in text
    assert scrubbed["request"]["headers"]["Authorization"] == SCRUBBED
    assert scrubbed["request"]["headers"]["User-Agent"] == "Mozilla"  # the rest stays
    assert scrubbed["extra"]["note"] == "nothing secret"


def test_sentry_is_off_without_a_dsn_and_on_without_personal_data_with_one():
    code = (
        "import sentry_sdk; c = sentry_sdk.get_client(); o = c.options; "
        "print(c.is_active(), o['send_default_pii'], getattr(o['before_send'], '__name__', None))"
    )

    def run(**extra):
        env = {**os.environ, "DJANGO_DEBUG": "true", **extra}
        env.pop("SENTRY_DSN", None) if not extra else None
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.stdout.strip().splitlines()[-1]

    assert run().startswith("False")
    # A DSN no event will ever reach (nothing is sent: the shell raises no error).
    assert run(SENTRY_DSN="https://public@127.0.0.1:9/1") == "True False sentry_scrub"
