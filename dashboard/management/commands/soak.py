"""Many reviewers at once, with trouble: `manage.py soak` (or `make soak`).

Starts, on loopback only, the sandbox and the dashboard as their own gunicorn processes, each
with its own temporary SQLite database (and the CACHE_URL given, if any), then lets N reviewers
(separate sessions, each signed in through the login form) work through M pending actions at
once: random double submits (the same form, so the same key, sent twice at once), aborted
requests (a client timeout far shorter than the answer), and about 5 % of upstream calls
failing with injected faults of random kinds. Whatever was left undecided is retried (same
form, same key) until done, within bounds. Then it checks:

* every action has exactly one decision in the sandbox (none still pending, and the sandbox
  executed exactly one approve or reject per action);
* the dashboard's decision log matches the sandbox one for one (by pending id and verdict).

It prints what it did and stops by itself (bounded loops and an overall deadline). The same
`soak_run` runs inside the test suite against the pytest live server, at a small size.

The run is _soak_run.py; what it counts, the sandbox it steers, signing in and reading an
answer are _soak_tools.py; the processes are _bench_stack.py."""

import random
import sqlite3
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.management.commands._soak_run import soak_run
from dashboard.management.commands._soak_tools import PASSWORD, Sandbox


class Command(BaseCommand):
    help = "Many reviewers at once against a dashboard and sandbox it starts itself on loopback."

    def add_arguments(self, parser):
        parser.add_argument("--reviewers", type=int, default=20)
        parser.add_argument("--actions", type=int, default=1000)
        parser.add_argument("--fault-rate", type=float, default=0.05)
        parser.add_argument(
            "--late-rate",
            type=float,
            default=0.06,
            help="share of forms a second reviewer opens on an action already decided",
        )
        parser.add_argument("--seed", type=int, default=None, help="default: a random one")
        parser.add_argument(
            "--deadline", type=float, default=900, help="seconds before the reviewers stop"
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the temporary directory and logs"
        )

    def handle(
        self, *args, reviewers, actions, fault_rate, late_rate, seed, deadline, keep, **options
    ):
        seed = random.randrange(10**6) if seed is None else seed
        from dashboard.management.commands._bench_stack import Stack

        workdir = Path(tempfile.mkdtemp(prefix="soak-"))
        stack = Stack(workdir, tiny=False, out=self.stdout)
        names = [f"reviewer{n:02d}" for n in range(1, reviewers + 1)]
        # Other runs (a bench, another soak) may share this Redis: this run's keys carry a
        # prefix of their own instead of emptying databases someone else is using.
        prefix = f"soak-{uuid.uuid4().hex[:12]}"

        def cache(db: int) -> dict:
            if not stack.shared_cache:
                return {}
            return {"CACHE_URL": f"redis://127.0.0.1:6379/{db}?key_prefix={prefix}"}

        try:
            stack.sandbox_env = stack.env(
                "sandbox.db", 13, SANDBOX_ENABLED="true", SANDBOX_RATE_TIER="off", **cache(13)
            )
            stack.manage(stack.sandbox_env, "migrate", "--noinput")
            stack.manage(stack.sandbox_env, "sandbox_seed")
            env = stack.env(
                "dashboard.db",
                14,
                SANDBOX_ENABLED="false",
                LAYERS_API_BASE_URL=stack.sandbox,
                LAYERS_API_KEY=settings.SANDBOX_DEMO_KEY,
                LAYERS_READ_TIMEOUT="1.5",
                **cache(14),
            )
            stack.manage(env, "migrate", "--noinput")
            stack.manage(env, "collectstatic", "--noinput")
            stack.manage(
                env,
                "shell",
                "-c",
                # One hash for all: twenty PBKDF2 hashes cost minutes on a busy machine.
                "from django.contrib.auth.hashers import make_password\n"
                "from django.contrib.auth.models import User\n"
                f"hashed = make_password('{PASSWORD}')\n"
                f"User.objects.bulk_create([User(username=n, email=n + '@example.com', "
                f"password=hashed, is_staff=True, is_superuser=True) for n in {names!r}])",
            )
            stack.gunicorn(
                stack.sandbox_env,
                stack.sandbox_port,
                "sandbox",
                workers=stack.workers,
                threads="24",
            )
            stack.gunicorn(env, stack.warm_port, "dashboard", threads="16")
            for port in (stack.sandbox_port, stack.warm_port):
                stack.wait_up(f"http://127.0.0.1:{port}/health/live")
            db_path = workdir / "dashboard.db"

            def records():
                with sqlite3.connect(db_path, timeout=30) as db:
                    return db.execute(
                        "select entity_id, action, outcome, verdict_id "
                        "from dashboard_decisionrecord "
                        "where action in ('approve', 'reject')"
                    ).fetchall()

            self.stdout.write(
                f"soak: {reviewers} reviewers, {actions} actions, {fault_rate:.0%} faults, "
                f"{late_rate:.0%} late forms, seed {seed}, on 127.0.0.1"
            )
            report = soak_run(
                base=f"http://127.0.0.1:{stack.warm_port}",
                sandbox=Sandbox(stack.sandbox, stack.control_token, settings.SANDBOX_DEMO_KEY),
                usernames=names,
                actions=actions,
                fault_rate=fault_rate,
                late_rate=late_rate,
                seed=seed,
                deadline_seconds=deadline,
                records=records,
                out=self.stdout.write,
            )
        finally:
            stack.stop()
            if stack.shared_cache:
                import redis

                for db in (13, 14):
                    r = redis.Redis(host="127.0.0.1", port=6379, db=db)
                    for key in r.scan_iter(match=f"{prefix}:*", count=1000):
                        r.delete(key)
            if not keep:
                import shutil

                shutil.rmtree(workdir, ignore_errors=True)
        if report.problems:
            raise CommandError("soak found problems (above)")
        self.stdout.write("soak: nothing lost, nothing duplicated")
