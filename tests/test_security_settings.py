"""Secure by default (issue 14): what a deployment gets from its settings.

Each test starts `manage.py` in a process of its own with an environment it writes out in
full (the suite itself runs the demo's settings), exactly as a deployment would."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import resolve

ROOT = Path(settings.BASE_DIR)
README = (ROOT / "README.md").read_text()

# What a real deployment sets (README, "Pointing it at the real Layers API").
PRODUCTION = {
    "DJANGO_SECRET_KEY": "prod-" + "k3y" * 20,
    "DJANGO_ALLOWED_HOSTS": "dashboard.example.com",
    "LAYERS_API_BASE_URL": "https://api.layers.example",
    "LAYERS_API_KEY": "lp_live_0000000000000000_not-a-real-key",
    "CACHE_URL": "redis://127.0.0.1:6379/9",
}


def python(*args, **environment) -> subprocess.CompletedProcess:
    """Python in the project with only these variables (and a PATH) in its environment."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    env.update({name: value for name, value in environment.items() if value is not None})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def manage(*args, **environment) -> subprocess.CompletedProcess:
    return python("manage.py", *args, **environment)


def start(**environment) -> subprocess.CompletedProcess:
    """What every start does first (the server, the worker, each command): read settings."""
    return python("-c", "import dashboard.settings", **environment)


def refusal(process) -> str:
    """The sentence a refused start ends with (the last line of the traceback)."""
    assert process.returncode != 0, process.stdout
    last = process.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), process.stderr
    return last


def setting(name, **environment):
    code = f"from django.conf import settings; print(settings.{name})"
    process = python("-c", code, DJANGO_SETTINGS_MODULE="dashboard.settings", **environment)
    assert process.returncode == 0, process.stderr
    return process.stdout.strip()


# --- 1. the demo's defaults never reach a deployment ---------------------------------


@pytest.mark.same_on_every_backend
def test_a_deployment_that_sets_only_the_api_url_and_key_refuses_to_start_saying_what_is_missing():
    sentence = refusal(
        manage(
            "check",
            LAYERS_API_BASE_URL=PRODUCTION["LAYERS_API_BASE_URL"],
            LAYERS_API_KEY=PRODUCTION["LAYERS_API_KEY"],
        )
    )
    assert "DJANGO_DEBUG off (the default" in sentence
    assert "Set DJANGO_SECRET_KEY." in sentence
    assert "Set CACHE_URL=redis://" in sentence


@pytest.mark.same_on_every_backend
@pytest.mark.parametrize(
    "change, words",
    [
        ({"DJANGO_SECRET_KEY": settings.DEMO_SECRET_KEY}, "the demo's published key"),
        ({"EMBED_SECRET": settings.DEMO_EMBED_SECRET}, "EMBED_SECRET is the demo's"),
        ({"SANDBOX_ENABLED": "true"}, "the demo's control token"),
        (
            {"LAYERS_API_BASE_URL": None, "LAYERS_API_KEY": None},
            "the demo's control token: set LAYERS_API_BASE_URL",
        ),
        (
            {"EMBED_ALLOWED_ORIGINS": "http://localhost:8000", "EMBED_SECRET": "e" * 40},
            "lets http://localhost:8000 frame the dashboard",
        ),
        ({"LAYERS_API_BASE_URL": "http://api.layers.example"}, "must start with https://"),
        ({"LAYERS_API_KEY": None}, "Set LAYERS_API_KEY"),
        ({"CACHE_URL": None}, "Set CACHE_URL=redis://"),
    ],
    ids=[
        "demo-secret-key",
        "demo-embed-secret",
        "sandbox-with-demo-token",
        "no-api-url",
        "demo-origin-frames",
        "plain-http-api",
        "demo-api-key",
        "local-memory-cache",
    ],
)
def test_with_debug_off_each_demo_value_stops_the_start_with_a_sentence(change, words):
    assert words in refusal(start(**{**PRODUCTION, **change}))


@pytest.mark.same_on_every_backend
def test_production_settings_start_and_check_deploy_reports_only_what_the_readme_explains():
    process = manage("check", "--deploy", **PRODUCTION)
    assert process.returncode == 0, process.stderr
    found = re.findall(r"\(([a-z_]+\.[WE]\d+)\)", process.stdout + process.stderr)
    assert found == ["security.W021"]  # HSTS preload is opt-in, as the README says
    for check_id in found:
        assert check_id in README


@pytest.mark.same_on_every_backend
def test_one_web_process_may_keep_the_local_memory_cache_and_check_deploy_says_so_loudly():
    environment = {**PRODUCTION, "CACHE_URL": None, "DJANGO_ONE_WEB_PROCESS": "true"}
    process = manage("check", "--deploy", **environment)
    assert process.returncode == 0, process.stderr
    assert "(dashboard.W001) The cache is local memory" in process.stdout + process.stderr
    assert "dashboard.W001" in README


@pytest.mark.same_on_every_backend
def test_with_debug_off_the_demo_portal_is_never_served_even_beside_the_sandbox():
    # The bench's sandbox server: debug off, the sandbox mounted with its own token.
    environment = {
        **PRODUCTION,
        "LAYERS_API_BASE_URL": None,
        "LAYERS_API_KEY": None,
        "SANDBOX_ENABLED": "true",
        "SANDBOX_CONTROL_TOKEN": "a-token-of-its-own",
    }
    probe = (
        "from django.urls import resolve\n"
        "for path in ('/sandbox/v1/whoami', '/demo-portal/'):\n"
        "    try:\n"
        "        resolve(path); print(path, 'served')\n"
        "    except Exception:\n"
        "        print(path, 'absent')\n"
        "from django.conf import settings; print('embed', repr(settings.EMBED_SECRET), "
        "settings.EMBED_ALLOWED_ORIGINS)"
    )
    process = manage("shell", "--no-imports", "-c", probe, **environment)
    assert process.returncode == 0, process.stderr
    assert "/sandbox/v1/whoami served" in process.stdout
    assert "/demo-portal/ absent" in process.stdout
    assert "embed '' []" in process.stdout


@pytest.mark.same_on_every_backend
def test_a_deployment_with_the_real_api_and_debug_on_gets_no_demo_portal_nor_demo_secret():
    environment = {
        "DJANGO_DEBUG": "true",
        "LAYERS_API_BASE_URL": PRODUCTION["LAYERS_API_BASE_URL"],
        "LAYERS_API_KEY": PRODUCTION["LAYERS_API_KEY"],
    }
    assert setting("DEMO_MODE", **environment) == "False"
    assert setting("EMBED_SECRET", **environment) == ""


def test_the_suite_runs_the_demo_where_the_demo_portal_is_served():
    assert settings.DEMO_MODE
    assert resolve("/demo-portal/").url_name == "demo-portal"


def test_demo_setup_refuses_to_make_the_published_logins_outside_the_demo(db, settings):
    from django.contrib.auth import get_user_model

    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="runs only in the demo"):
        call_command("demo_setup")
    assert not get_user_model().objects.filter(username="demo").exists()


# --- 5. a per-process cache is refused where it would split the throttle -------------


@pytest.mark.same_on_every_backend
def test_with_debug_off_a_local_memory_cache_is_refused_unless_one_web_process_is_declared():
    environment = {**PRODUCTION, "CACHE_URL": "locmemcache://dashboard"}
    assert "DJANGO_ONE_WEB_PROCESS=true accepts it" in refusal(start(**environment))
    assert start(DJANGO_ONE_WEB_PROCESS="true", **environment).returncode == 0
    assert "dummy cache" in refusal(start(**{**environment, "CACHE_URL": "dummycache://"}))


# --- 10. hardening settings ---------------------------------------------------------------


@pytest.mark.same_on_every_backend
def test_x_forwarded_proto_is_believed_only_when_a_proxy_is_declared():
    assert setting("SECURE_PROXY_SSL_HEADER", **PRODUCTION) == "None"
    assert setting("SECURE_PROXY_SSL_HEADER", DJANGO_BEHIND_PROXY="true", **PRODUCTION) == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


@pytest.mark.same_on_every_backend
def test_an_embed_secret_shorter_than_32_bytes_is_refused_even_in_the_demo():
    sentence = refusal(start(DJANGO_DEBUG="true", EMBED_SECRET="short-secret"))
    assert "EMBED_SECRET is shorter than 32 bytes" in sentence
    assert start(DJANGO_DEBUG="true", EMBED_SECRET="s" * 32).returncode == 0


def test_weak_passwords_are_refused_by_the_documented_validators():
    for weak in ("password123", "12345678901234", "short-1"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("plum tractor velvet 1987 harbour")  # a passphrase passes
    assert "DJANGO_PASSWORD_MIN_LENGTH" in README


def test_a_session_lasts_eight_idle_hours_by_default_as_documented():
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert "DJANGO_SESSION_IDLE_SECONDS" in README
