"""Fixtures shared by the whole suite.

Tests talk to the sandbox over real HTTP: the pytest-django live server serves both the
dashboard and the sandbox (mounted at /sandbox/), exactly as `make run` does."""

import functools
import http.cookiejar
import os
import re
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import requests

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Chromium's headless-only build (scripts/ensure-chromium installs it); CHROMIUM_PATH may name
# another, e.g. the full /usr/bin/chromium.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium-headless-shell")
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


# The suite's longest tests (seconds of a full `make test` on a busy two-core machine, by
# node id prefix). Each xdist worker starts its share of the run with its share of these, so
# the run never ends on one worker still inside a long test while the others sit idle.
# A test missing here is only scheduled in its usual place; the figures need not be exact.
LONG_TESTS = {
    "tests/test_bench.py::test_the_benchmark_runs": 23,
    "tests/test_sync.py::test_the_reconciler_never_spends": 36,
    "tests/test_inbox_bench.py::test_the_inbox_bench_runs": 22,
    "tests/test_bulk.py::test_select_all_takes_every_matching_action": 33,
    "tests/browser/test_accessibility.py::test_every_page_of_a_project": 14,
    "tests/test_read_bounds.py::test_select_all_reads_no_list": 25,
    "tests/test_bulk_pacing.py::": 24,
    "tests/browser/test_queue.py::test_a_bulk_approval_of_fifty": 24,
    "tests/test_faults.py::test_every_page_and_write_survives": 19,
    "tests/browser/test_inbox.py::test_an_account_manager_filters": 19,
    "tests/test_sync_bench.py::": 16,
    "tests/test_bulk.py::test_items_that_failed_while_layers_was_down": 17,
    "tests/browser/test_queue.py::test_a_bulk_approval_that_failed": 17,
    "tests/test_soak.py::test_four_reviewers": 16,
    "tests/test_malformed_input.py::test_every_query_parameter_survives": 8,
    "tests/test_access.py::test_an_embedded_person_gets_exactly": 10,
    "tests/test_access.py::test_each_person_gets_exactly": 10,
    "tests/test_access.py::test_a_share_link_holder_gets_nothing": 6,
    "tests/sandbox/test_scale_and_proposer.py::test_one_key_spends": 14,
    "tests/sandbox/test_scale_and_proposer.py::test_two_hundred_customers": 18,
    "tests/browser/test_queue.py::test_two_reviewers_deciding": 14,
    "tests/browser/test_hostile_text.py::test_no_injected_script": 14,
    "tests/browser/test_campaigns.py::test_a_new_admin_walks": 14,
    "tests/test_bulk_recovery.py::test_a_bulk_whose_worker_was_killed": 13,
    "tests/browser/test_queue_matrix.py::test_ticking_select_all": 13,
}


def long_test_seconds(nodeid: str) -> int:
    return next((s for prefix, s in LONG_TESTS.items() if nodeid.startswith(prefix)), 0)


def pytest_collection_modifyitems(config, items):
    """With `-n N --dist worksteal`, xdist hands worker i the i-th of N contiguous slices of
    the collection and later moves tests from the end of a busy worker's slice to an idle
    one. So each slice is made to start with its share of LONG_TESTS (longest first, each to
    the slice with the least so far); every other test keeps its order after them. Every
    worker collects the same order, as xdist requires."""
    workers = getattr(config, "workerinput", {}).get("workercount", 0)
    if workers < 2:
        return
    long = sorted(
        (i for i in items if long_test_seconds(i.nodeid)),
        key=lambda i: -long_test_seconds(i.nodeid),
    )
    rest = [i for i in items if not long_test_seconds(i.nodeid)]
    sizes, left = [], len(items)
    for n in range(workers):  # xdist's own split: len(pending) // nodes_remaining
        sizes.append(left // (workers - n))
        left -= sizes[-1]
    slices, loads = [[] for _ in sizes], [0] * workers
    for item in long:
        room = [n for n in range(workers) if len(slices[n]) < sizes[n]]
        n = min(room, key=lambda n: loads[n])
        slices[n].append(item)
        loads[n] += long_test_seconds(item.nodeid)
    for n in range(workers):
        need = sizes[n] - len(slices[n])
        slices[n] += rest[:need]
        rest = rest[need:]
    items[:] = [item for part in slices for item in part]


ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")


def stateless_session() -> requests.Session:
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


@dataclass
class Sandbox:
    """A handle on the running sandbox: its API URL, its demo key and its control surface."""

    base_url: str  # e.g. http://localhost:PORT/sandbox (the client appends /v1/...)
    key: str
    control_token: str
    # Kept-alive sockets, no cookies kept: each call is as stateless as a bare
    # requests.request. The `sandbox` fixture hands every test the same one.
    http: requests.Session = field(default_factory=lambda: stateless_session())

    def control(self, action: str, **payload):
        """POST /sandbox/_control/<action> with a JSON body; returns the decoded JSON."""
        response = self.http.post(
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
        return self.http.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def flush_without_post_migrate():
    """After a transactional test (every live-server test) Django empties the tables and then
    sends post_migrate, which writes every content type and permission again and queues a
    housekeeping run: most of the cost of the flush, for rows no test reads (the dashboard
    uses roles, not Django permissions). The flush stays; the rewrite goes. The test of
    migrate's housekeeping run calls migrate itself."""
    from django.db import connections, transaction
    from django.test import TransactionTestCase

    def flush(self):
        for alias in self._databases_names(include_mirrors=False):
            _delete_every_row(connections[alias], transaction.atomic(using=alias))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", flush)
        # Django also closes every connection after each transactional test, so the next
        # test opens a new one: for connections that were never inside a rolled-back
        # transaction (autocommit; no test rolls back a session setting) that is pure cost.
        patch.setattr(TransactionTestCase, "_should_reload_connections", lambda self: False)
        yield


TABLES: dict[str, list[str]] = {}  # per database alias: every table the models own


def _delete_every_row(connection, atomic):
    """What `flush` does, for less: a DELETE per table, the foreign keys checked at commit
    (Django makes them deferrable on both databases). PostgreSQL's own flush is one TRUNCATE
    of all 51 tables, about 270 ms however few rows they hold; the command's introspection
    alone costs more than SQLite's DELETEs. The table list is read once per database."""
    if connection.alias not in TABLES:
        TABLES[connection.alias] = connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
    deletes = [f"DELETE FROM {connection.ops.quote_name(t)}" for t in TABLES[connection.alias]]
    with atomic, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip for all of them (no parameters: psycopg sends it as one simple
            # query): 0.4 ms of the test's CPU instead of 5 for 53 statements one by one.
            cursor.execute("; ".join(["SET CONSTRAINTS ALL DEFERRED", *deletes]))
            return
        for delete in deletes:  # SQLite's driver runs one statement a call
            cursor.execute(delete)


@pytest.fixture(scope="session", autouse=True)
def live_server_keeps_a_connection_per_socket(django_db_setup, django_db_blocker):
    """The live server answers each socket in a thread of its own, and the dashboard's client
    (and the `sandbox` fixture) call it over kept-alive sockets. Django's default
    (CONN_MAX_AGE 0) opens and closes a database connection for every request, which costs
    more than many of the sandbox's answers; here a request thread keeps its connection for
    the requests of its socket and closes it with the socket, as Django's threaded server
    does for every thread. The app's settings are unchanged: only the test server's threads
    do this. The ones still open at the end are closed before the test database is dropped
    (this fixture needs it, so it ends first)."""
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.db import connections
    from django.test.testcases import LiveServerThread

    kept, lock = set(), threading.Lock()

    def closer(conn):
        check = conn.close_if_unusable_or_obsolete

        def close_if_unusable_or_obsolete():
            """Django's check at each request's start and end; a socket kept open into a
            test without database access (pytest-django refuses the check's query) closes
            the connection instead, as the thread of a new socket would not have one."""
            try:
                check()
            except RuntimeError:
                conn.close()

        return close_if_unusable_or_obsolete

    class Server(ThreadedWSGIServer):
        def process_request_thread(self, request, client_address):
            # Answers go out at once: without this, an answer's second write on a kept-alive
            # socket waits for the client's delayed ACK (Nagle), tens of ms per request.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            mine = [
                connections[a] for a in connections if a not in (self.connections_override or {})
            ]
            for conn in mine:
                conn.settings_dict = {**conn.settings_dict, "CONN_MAX_AGE": None}
                conn.close_if_unusable_or_obsolete = closer(conn)
            with lock:
                kept.update(mine)
            try:
                super().process_request_thread(request, client_address)  # closes them at the end
            finally:
                with lock:
                    kept.difference_update(mine)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LiveServerThread, "server_class", Server)
        yield
    with lock:
        for conn in kept:  # threads of sockets a client still holds open, idle by now
            conn.inc_thread_sharing()
            conn.close()
    _end_other_sessions(django_db_blocker)


def _end_other_sessions(blocker):
    """PostgreSQL refuses to drop the test database while any session uses it, and a thread
    a test started (a tick's, a fan-out's, a live-server socket's) may still hold one: end
    them, so the run ends without "database is being accessed by other users"."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session", autouse=True)
def no_task_left_from_migrate(request, django_db_setup, django_db_blocker):
    """Migrate queues housekeeping, a worker heartbeat and a mail check, due minutes later;
    the first transactional test's flush removes them, so only a worker's first tests could
    meet them, and a test's one-task worker (max_tasks=1) started after they fall due takes
    one of them instead of its own task. Every test starts without them. A run (or an xdist
    worker) with no database test has no test database: then there is nothing to remove,
    and the configured database is never touched."""
    from django_tasks_db.models import DBTaskResult
    from pytest_django.fixtures import _get_databases_for_setup

    aliases, _ = _get_databases_for_setup(request.session.items)
    if "default" not in aliases:
        return
    with django_db_blocker.unblock():
        DBTaskResult.objects.all().delete()


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
        base_url=base,
        key=settings.SANDBOX_DEMO_KEY,
        control_token=settings.SANDBOX_CONTROL_TOKEN,
        http=SANDBOX_HTTP,
    )
    box.control("reset", seed=True)
    from django.core.cache import cache

    cache.clear()
    return box


# One kept-alive session for every test's sandbox calls: the live server answers a socket in
# a thread of its own, with a database connection of its own, so a socket per test would
# open (and close) both for every test.
SANDBOX_HTTP = stateless_session()


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
            f"Chromium is missing at {CHROMIUM}. Fix it with: scripts/ensure-chromium (as root)"
        )
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        yield browser
        browser.close()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # With --disable-gpu the GPU process only composites in software: done in the browser
    # process it saves about a tenth of the accessibility tests' CPU.
    "--in-process-gpu",
]


def chromium_launch(playwright, tries: int = 3):
    """The worker's Chromium. A launch whose process dies before its first page is tried
    again: once in a fresh-clone CI run the headless shell segfaulted at start, and every
    browser test of that worker failed in setup with "Target page, context or browser has
    been closed"."""
    from playwright.sync_api import Error

    for attempt in range(1, tries + 1):
        try:
            return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error:
            if attempt == tries:
                raise


@pytest.fixture
def page(browser):
    from playwright.sync_api import expect

    # Waits go through locators and `expect`, which poll in Playwright's own world: a
    # wait_for_function on a plain expression string re-evaluates it with eval() on every
    # poll, which the pages' Content-Security-Policy (no 'unsafe-eval') refuses after the
    # first try, so it failed whenever the condition was not already true.
    expect.set_options(timeout=15_000)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


# Screenshots are for a person to look at, not for the tests: `make screenshots` (or
# TEST_SCREENSHOTS=1) takes them; a plain `make test` spares Chromium the work (a full-page
# PNG costs ~0.15 s of CPU; the suite took about eighty).
SCREENSHOTS = os.environ.get("TEST_SCREENSHOTS", "") not in ("", "0")


def screenshot(page, name: str, full_page: bool = True, always: bool = False) -> str:
    """Saves a PNG under test-artifacts/ for a person to look at: the whole page, or with
    full_page=False only the window. Only when screenshots are asked for, or `always` (what
    a failing check shows). Returns the file's path, or "" when none was taken."""
    if not (SCREENSHOTS or always):
        return ""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.abspath(os.path.join(ARTIFACTS, f"{name}.png"))
    page.screenshot(path=path, full_page=full_page)
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
    roles = [
        ("viewer", ACME, "viewer"),
        ("approver", ACME, "approver"),
        ("admin", ACME, "admin"),
        ("outsider", NORDLICHT, "admin"),
    ]
    # Two INSERTs, not eight (every test that signs someone in makes them): the password as
    # create_user would store it, hashed once per process.
    password = _password_hashed()
    users = User.objects.bulk_create([User(username=name, password=password) for name, *_ in roles])
    grants = zip(users, roles, strict=True)
    ProjectGrant.objects.bulk_create(
        [ProjectGrant(user=user, project_id=p, role=role) for user, (_, p, role) in grants]
    )
    return {user.username: user for user in users}


@functools.cache
def _password_hashed() -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)  # the suite's fast hasher (fast_password_hashing)


# --- the mirror, filled as the sync engine fills it (the inbox's, the queue's and the
# Projects page's tests) -------------------------------------------------------------------

CUSTOMERS = (ACME, NORDLICHT, BRIGHTSIDE)


def mirror_fill():
    """What the sync engine does on its first pass: discover, then read every list."""
    from dashboard.models.mirror import SyncState
    from dashboard.services.mirror import mirror_projects_refresh, mirror_refresh

    mirror_projects_refresh()
    for project_id, platform in SyncState.objects.values_list("project_id", "platform"):
        mirror_refresh(project_id, platform)


def upstream_calls(sandbox) -> int:
    return sum(sandbox.control("stats")["calls"].values())


def manager_make():
    """An account manager: approver on three customers."""
    from django.contrib.auth import get_user_model

    from dashboard.models import ProjectGrant

    user = get_user_model().objects.create_user(username="manager", password=PASSWORD)
    for project_id in CUSTOMERS:
        ProjectGrant.objects.create(user=user, project_id=project_id, role="approver")
    return user


@pytest.fixture
def manager(db):
    return manager_make()


@pytest.fixture
def mirrored(sandbox, people, manager):
    mirror_fill()
    return sandbox


def login(client, username):
    """Signs one of `people` in on the test client without the sign-in form (tests of signing
    in itself use the form, in tests/test_signin.py and the browser tests)."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))


def browser_login(page, live_server, username, *, home=False):
    """Signs one of `people` in on the page's browser as the sign-in form would: the session
    cookie the form's answer sets (the form itself is walked in tests/browser/test_signin.py;
    walking it in every browser test cost each a third of a second of Chromium and server
    CPU). `home` then opens the Projects page, where the form lands."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    cookie = {"name": settings.SESSION_COOKIE_NAME, "url": live_server.url, "httpOnly": True}
    cookie["value"] = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{**cookie, "sameSite": "Lax"}])
    if home:
        page.goto(f"{live_server.url}/")


def worker_make(**options):
    """The real database worker (`make run`'s db_worker), as the tests run it: `options`
    change its defaults (the default queue, one task, a tenth of a second between polls)."""
    from django_tasks_db.management.commands.db_worker import Worker

    defaults = {
        "queue_names": ["default"],
        "interval": 0.1,
        "batch": False,
        "backend_name": "default",
        "startup_delay": False,
        "max_tasks": 1,
        "worker_id": "test-worker",
        "excluded_queue_names": [],
    }
    return Worker(**{**defaults, **options})


@contextmanager
def task_worker(tasks: int = 1):
    """The worker in a thread of its own for `tasks` tasks. It is stopped and joined on the
    way out even when the test failed before giving it any: a worker left waiting would
    poll the next test's database."""
    worker = worker_make(max_tasks=tasks)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        worker.running = False
        thread.join(timeout=60)


def mirror_sync(project_id: str = ACME, platform: str | None = None, *, later: float = 0):
    """Layers changed behind the dashboard's back (a control action, a direct API call):
    the sync engine learns it as from a webhook (the list marked dirty) and its next tick
    reads it, exactly as the worker's tick would. `later` runs that tick so many seconds
    from now (the sweep coming round). The pages read only the mirror, so a test that
    changes the sandbox and expects a page to show it syncs first."""
    from datetime import timedelta

    from django.utils import timezone

    from dashboard.services.mirror import mirror_mark_dirty
    from dashboard.services.sync.tick import sync_tick

    now = timezone.now() + timedelta(seconds=later)
    mirror_mark_dirty(project_id, platform, at=now)
    return sync_tick(now=now)


def sync_next_tick(*, later: float = 0):
    """The sync engine's next tick, as the worker runs it (`later` seconds from now): the
    lists a webhook, the audit feed or "refresh now" marked are read, then the sweep."""
    from datetime import timedelta

    from django.utils import timezone

    from dashboard.services.sync.tick import sync_tick

    return sync_tick(now=timezone.now() + timedelta(seconds=later))
