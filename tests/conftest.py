"""Fixtures shared by the whole suite.

Tests talk to the sandbox over real HTTP: the pytest-django live server serves both the
dashboard and the sandbox (mounted at /sandbox/), exactly as `make run` does."""

import os
import re
from dataclasses import dataclass

import pytest
import requests

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_DATABASES = 16  # Redis' default `databases`
GIVEN_CACHE_URL = ""  # CACHE_URL as the suite was started with (before the worker's own)


def worker_cache_url(url: str, worker: str | None) -> str:
    """CACHE_URL for one pytest-xdist worker: with Redis, the URL's database number plus the
    worker's (gw0 keeps it, gw1 the next one...), so no two workers share a key and one
    worker's cache.clear() (FLUSHDB) never empties another's. Anything else is unchanged:
    a local-memory cache already lives in one process."""
    number = re.fullmatch(r"gw(\d+)", worker or "")
    found = re.fullmatch(r"(rediss?://[^/?#]*)(?:/(\d*))?(.*)", url or "")
    if not number or not found:
        return url
    base = int(found.group(2) or 0)
    database = base + int(number.group(1))
    if database >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"{worker} would use Redis database {database}: start from a lower one in "
            f"CACHE_URL or run fewer workers (Redis has {REDIS_DATABASES})."
        )
    return f"{found.group(1)}/{database}{found.group(3)}"


def pytest_configure(config):
    """Each xdist worker has its own test database and live server (so its own sandbox);
    this gives it its own Redis database too, before anything opens the cache. The
    environment changes with it, so processes a test starts use the same database."""
    global GIVEN_CACHE_URL
    given = GIVEN_CACHE_URL = os.environ.get("CACHE_URL", "")
    mine = worker_cache_url(given, os.environ.get("PYTEST_XDIST_WORKER"))
    if mine == given:
        return
    import environ
    from django.conf import settings
    from django.core.cache import caches

    os.environ["CACHE_URL"] = mine
    settings.CACHES["default"]["LOCATION"] = environ.Env.cache_url_config(mine)["LOCATION"]
    if hasattr(caches._connections, "default"):  # opened already: open it again
        del caches["default"]


ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")


@dataclass
class Sandbox:
    """A handle on the running sandbox: its API URL, its demo key and its control surface."""

    base_url: str  # e.g. http://localhost:PORT/sandbox (the client appends /v1/...)
    key: str
    control_token: str

    def control(self, action: str, **payload):
        """POST /sandbox/_control/<action> with a JSON body; returns the decoded JSON."""
        response = requests.post(
            f"{self.base_url}/_control/{action}",
            json=payload,
            headers={"X-Sandbox-Control-Token": self.control_token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def api(self, method: str, path: str, *, key: str | None = None, **kwargs):
        """A raw call to the sandbox API, e.g. api("GET", "/v1/whoami")."""
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {key or self.key}")
        kwargs.setdefault("timeout", 30)
        return requests.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def flush_without_post_migrate():
    """After a transactional test (every live-server test) Django empties the tables and then
    sends post_migrate, which writes every content type and permission again and queues a
    housekeeping run: most of the cost of the flush, for rows no test reads (the dashboard
    uses roles, not Django permissions). The flush stays; the rewrite goes. The test of
    migrate's housekeeping run calls migrate itself."""
    from django.core.management import call_command
    from django.db import connections, transaction
    from django.test import TransactionTestCase

    def flush(self):
        for alias in self._databases_names(include_mirrors=False):
            connection = connections[alias]
            if connection.vendor == "postgresql":
                _delete_every_row(connection, transaction.atomic(using=alias))
                continue
            call_command(
                "flush",
                verbosity=0,
                interactive=False,
                database=alias,
                reset_sequences=False,
                inhibit_post_migrate=True,
            )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", flush)
        yield


def _delete_every_row(connection, atomic):
    """PostgreSQL's flush is one TRUNCATE of all 51 tables: about 270 ms however few rows
    they hold, after every live-server test. A DELETE per table, the foreign keys checked at
    commit (Django makes them deferrable), empties the same tables in about 15 ms."""
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with atomic, connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing costs half a second a login; tests log in a lot."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def signin_unthrottled(settings):
    """Tests fail sign-ins on purpose, all from 127.0.0.1, and a shared Redis outlives a run:
    only tests/test_signin.py turns the throttle's real limits back on."""
    settings.SIGNIN_FAILURES_PER_NAME = settings.SIGNIN_FAILURES_PER_ADDRESS = 10**6


@pytest.fixture
def sandbox(live_server, settings):
    """The sandbox, reset and seeded with the demo story, and the dashboard pointed at it."""
    base = f"{live_server.url}/sandbox"
    settings.LAYERS_API_BASE_URL = base
    settings.LAYERS_API_KEY = settings.SANDBOX_DEMO_KEY
    box = Sandbox(
        base_url=base, key=settings.SANDBOX_DEMO_KEY, control_token=settings.SANDBOX_CONTROL_TOKEN
    )
    box.control("reset", seed=True)
    from django.core.cache import cache

    cache.clear()
    return box


@pytest.fixture
def sandbox_off(sandbox):
    """The sandbox answering the documented API alone (docs/sandbox-extensions.md): every
    endpoint and field CONTRACT.md does not document is gone. `SANDBOX_EXTENSIONS=off
    pytest …` does the same for a whole run, through the `sandbox` fixture's settings."""
    sandbox.control("extensions", on=False)
    from django.core.cache import cache

    cache.clear()
    return sandbox


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}. Fix it with: sudo apt-get install -y chromium"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> str:
    """Saves a full-page PNG under test-artifacts/ for a person to look at."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.abspath(os.path.join(ARTIFACTS, f"{name}.png"))
    page.screenshot(path=path, full_page=True)
    return path


ACME = "prj_7d1c5e0a-0001-4c3b-9a51-000000000001"
NORDLICHT = "prj_7d1c5e0a-0002-4c3b-9a51-000000000002"
BRIGHTSIDE = "prj_7d1c5e0a-0003-4c3b-9a51-000000000003"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def people(db):
    """One person per role on Acme Coffee, and one who only has Nordlicht Outdoor."""
    from django.contrib.auth import get_user_model

    from dashboard.models import ProjectGrant

    User = get_user_model()
    made = {}
    for name, project, role in [
        ("viewer", ACME, "viewer"),
        ("approver", ACME, "approver"),
        ("admin", ACME, "admin"),
        ("outsider", NORDLICHT, "admin"),
    ]:
        user = User.objects.create_user(username=name, password=PASSWORD)
        ProjectGrant.objects.create(user=user, project_id=project, role=role)
        made[name] = user
    return made


def login(client, username):
    """Signs one of `people` in on the test client without the sign-in form (tests of signing
    in itself use the form, in tests/test_signin.py and the browser tests)."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))


def browser_login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
