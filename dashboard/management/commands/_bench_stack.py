"""The processes of a bench run, shared by bench, inbox_bench, sync_bench and soak: the
sandbox and the dashboards under gunicorn with production settings, a task worker, their
environments and databases, and a person signed in through the login form. Loopback only;
`stop` ends everything it started. (A module whose name starts with `_` is not a command.)"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
from django.conf import settings

from dashboard.management.bench_schema import migrated_databases

ROOT = Path(settings.BASE_DIR)
PASSWORD = "bench-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Stack:
    """The processes of one bench run: the sandbox, two dashboards (cold: no read cache;
    warm: the default cache window) and a task worker. All on 127.0.0.1.

    together=True (the tiny runs of the suite): one gunicorn process serves the dashboard with
    the sandbox mounted at /sandbox/, as `make run` does, on one database; the cold
    dashboard is the warm one. It proves the harness with two Django processes, not five."""

    def __init__(self, workdir: Path, tiny: bool, out, together: bool = False):
        self.dir, self.tiny, self.out, self.together = workdir, tiny, out, together
        self.procs: list[subprocess.Popen] = []
        self.shared_cache = redis_available()
        # The tiny run (the suite's) proves the harness with one worker per server.
        self.workers = "2" if self.shared_cache and not tiny else "1"
        self.sandbox_port, self.cold_port, self.warm_port = free_port(), free_port(), free_port()
        if together:
            self.sandbox_port = self.cold_port = self.warm_port
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}/sandbox"
        self.control_token = "bench-control"

    def env(self, db: str, cache_db: int, **extra) -> dict:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL"))
        }
        env.update(
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="bench-" + uuid.uuid4().hex * 2,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_SECURE_COOKIES="false",
            DJANGO_STATIC_ROOT=str(self.dir / "static"),
            DATABASE_URL=f"sqlite:///{self.dir / db}",
            SANDBOX_CONTROL_TOKEN=self.control_token,
            CACHE_URL=f"redis://127.0.0.1:6379/{cache_db}"
            if self.shared_cache
            else "locmemcache://bench",
            # Without Redis every server runs one worker (self.workers): a per-process cache
            # is then honest.
            DJANGO_ONE_WEB_PROCESS="false" if self.shared_cache else "true",
            DASHBOARD_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            # Decisions go at once: the measures time the send itself (and the soak
            # checks every decision one for one), not the hold before it.
            DECISION_HOLD_SECONDS="0",
        )
        env.update(extra)
        return env

    def manage(self, env, *args):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def manage_together(self, *runs):
        """Several `manage.py` runs (env, args) side by side: each one's Django start overlaps
        the others'. They must touch different databases (or none)."""
        procs = [
            subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for env, args in runs
        ]
        for proc, (_, args) in zip(procs, runs, strict=True):
            _, err = proc.communicate()
            if proc.returncode:
                raise subprocess.CalledProcessError(proc.returncode, args, stderr=err)

    def spawn(self, env, *args, name):
        # The child keeps its own copy of the file descriptor; ours is closed once it started.
        with open(self.dir / f"{name}.log", "w") as log:
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def gunicorn(self, env, port, name, workers=None, threads="8"):
        return self.spawn(
            env,
            sys.executable,
            "-m",
            "gunicorn",
            "dashboard.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            workers or self.workers,
            "-k",
            "gthread",
            "--threads",
            threads,
            "--timeout",
            "120",
            name=name,
        )

    def start(self):
        if self.together:
            return self.start_together()
        self.sandbox_env = self.env(
            "sandbox.db", 13, SANDBOX_ENABLED="true", SANDBOX_RATE_TIER="off"
        )
        # Both databases hold the same schema: migrated once, copied.
        migrated_databases(
            ROOT, self.sandbox_env, self.dir / "sandbox.db", self.dir / "dashboard.db"
        )
        common = dict(
            SANDBOX_ENABLED="false",
            LAYERS_API_BASE_URL=self.sandbox,
            LAYERS_API_KEY=settings.SANDBOX_DEMO_KEY,
        )
        self.cold_env = self.env("dashboard.db", 14, LAYERS_CACHE_SECONDS="0", **common)
        self.warm_env = self.env("dashboard.db", 15, **common)
        person = (
            "from django.contrib.auth.models import User; "
            f"User.objects.create_superuser('bench', 'bench@example.com', '{PASSWORD}')"
        )
        self.manage_together(
            (self.sandbox_env, ("sandbox_seed",)),
            (self.warm_env, ("collectstatic", "--noinput")),
            (self.warm_env, ("shell", "-c", person)),
        )
        if self.shared_cache:
            import redis

            for db in (13, 14, 15):
                redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
        self.sandbox_proc = self.gunicorn(
            self.sandbox_env, self.sandbox_port, "sandbox", workers=self.workers, threads="24"
        )
        self.cold_proc = self.gunicorn(self.cold_env, self.cold_port, "cold")
        self.warm_proc = self.gunicorn(self.warm_env, self.warm_port, "warm")
        self.spawn(
            self.warm_env,
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--interval",
            "0.2",
            name="worker",
        )
        for port in (self.sandbox_port, self.cold_port, self.warm_port):
            self.wait_up(f"http://127.0.0.1:{port}/health/live")

    def start_together(self):
        """The sandbox inside the one dashboard process; one `manage.py` run sets it all up."""
        self.warm_env = self.env(
            "dashboard.db",
            15,
            SANDBOX_ENABLED="true",
            SANDBOX_RATE_TIER="off",
            LAYERS_API_BASE_URL=self.sandbox,
            LAYERS_API_KEY=settings.SANDBOX_DEMO_KEY,
        )
        self.sandbox_env = self.cold_env = self.warm_env
        migrated_databases(ROOT, self.warm_env, self.dir / "dashboard.db")
        self.manage(self.warm_env, "shell", "-c", self.setup_code())
        if self.shared_cache:
            import redis

            redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()
        # The page's own reads come back to the same process: threads enough for both.
        proc = self.gunicorn(self.warm_env, self.warm_port, "dashboard", workers="1", threads="32")
        self.sandbox_proc = self.cold_proc = self.warm_proc = proc
        self.spawn(
            self.warm_env,
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--interval",
            "0.2",
            name="worker",
        )
        self.wait_up(f"http://127.0.0.1:{self.warm_port}/health/live")

    @staticmethod
    def setup_code(*seed_args: str) -> str:
        """The sandbox's seed, the static files and the bench's person, in one process."""
        return (
            "from django.core.management import call_command\n"
            "from django.contrib.auth.models import User\n"
            f"call_command('sandbox_seed', *{seed_args!r})\n"
            "call_command('collectstatic', '--noinput', verbosity=0)\n"
            f"User.objects.create_superuser('bench', 'bench@example.com', '{PASSWORD}')\n"
        )

    def wait_up(self, url, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not come up; see the logs in {self.dir}")

    def stop(self):
        # Together (a tiny run) nothing is measured any more: gunicorn's quick shutdown
        # (SIGINT) rather than its graceful one, which waits out kept-alive connections.
        stop = signal.SIGINT if self.together else signal.SIGTERM
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, stop)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def control(self, action, **payload):
        response = requests.post(
            f"{self.sandbox}/_control/{action}",
            json=payload,
            headers={"X-Sandbox-Control-Token": self.control_token},
            timeout=120,
        )
        response.raise_for_status()
        return response.json()

    def upstream_get(self, path, **params):
        return requests.get(
            f"{self.sandbox}{path}",
            params=params,
            timeout=60,
            headers={"Authorization": f"Bearer {settings.SANDBOX_DEMO_KEY}"},
        )

    def session(self, port) -> requests.Session:
        """A person signed in through the login form. Together (a tiny run), every person
        after the first shares the first one's session: a sign-in is the slowest request."""
        s = requests.Session()
        base = f"http://127.0.0.1:{port}"
        if self.together and getattr(self, "signed_in", None):
            s.cookies.update(self.signed_in)
            s.base = base
            return s
        html = s.get(f"{base}/login/", timeout=30).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        r = s.post(
            f"{base}/login/",
            data={"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/login/"},
            timeout=30,
            allow_redirects=False,
        )
        assert r.status_code == 302, "bench login failed"
        s.base = base
        self.signed_in = s.cookies.copy()
        return s
