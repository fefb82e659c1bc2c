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
`soak_run` runs inside the test suite against the pytest live server, at a small size."""

import random
import re
import sqlite3
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

ACME = "prj_7d1c5e0a-0001-4c3b-9a51-000000000001"
PASSWORD = "soak-password-not-secret"
FAULT_KINDS = (
    {"kind": "timeout", "delay": 2.5},
    {"kind": "drop"},
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 502},
    {"kind": "status", "status": 503},
    {"kind": "rate_limited", "retryAfter": 1},
    {"kind": "malformed_json"},
    {"kind": "revoked_key"},
    {"kind": "kill_switch"},
    {"kind": "slow", "delay": 2.0},  # Layers works on it for 2 s: a twin meets it in flight
)
APPROVED = {"approved", "dispatched", "dispatch_failed"}
IN_FLIGHT = "Layers is still working on the first time this form was sent"
EARLIER = "Your first attempt reached Layers"
DECIDED_STATUSES = ("approved", "rejected", "dispatched", "dispatch_failed")


@dataclass
class Report:
    decisions: int = 0  # answers that said "Approved." / "Rejected."
    conflicts: int = 0  # "someone else decided first" shown to a reviewer
    double_submits: int = 0
    late_forms: int = 0  # a second reviewer's own form on an action already decided
    in_flight: int = 0  # answers saying Layers was still working on the form's first send
    replays: int = 0  # writes Layers answered from its memory of the key (sandbox count)
    aborted: int = 0
    errors: int = 0  # sentences or broken answers, left for a retry with the same key
    retries: int = 0
    faults: int = 0
    seconds: float = 0.0
    problems: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"decisions shown: {self.decisions}",
            f"conflicts shown: {self.conflicts}",
            f"double submits:  {self.double_submits}",
            f"late forms:      {self.late_forms} (someone else's form on a decided action)",
            f"in flight:       {self.in_flight} (answers: Layers still working on that key)",
            f"replays:         {self.replays} (Layers answered a key it had seen before)",
            f"aborted:         {self.aborted}",
            f"errors shown:    {self.errors} (each retried with its form's key)",
            f"retries:         {self.retries}",
            f"faults injected: {self.faults}",
            f"final states:    {self.counts}",
            f"time:            {self.seconds:.1f} s",
            f"problems:        {len(self.problems)}"
            + "".join(f"\n  - {p}" for p in self.problems[:20]),
        ]


class Sandbox:
    def __init__(self, url: str, control_token: str, key: str):
        self.url, self.token, self.key = url.rstrip("/"), control_token, key

    def control(self, action, **payload):
        response = requests.post(
            f"{self.url}/_control/{action}",
            json=payload,
            timeout=60,
            headers={"X-Sandbox-Control-Token": self.token},
        )
        response.raise_for_status()
        return response.json()

    def pending_states(self, project_id: str, platform: str) -> dict:
        """pending id -> status, every status, every page (the list endpoints)."""
        states = {}
        for status in ("pending", *DECIDED_STATUSES):
            cursor = None
            for _ in range(200):
                params = {"status": status, "limit": 200, **({"cursor": cursor} if cursor else {})}
                body = requests.get(
                    f"{self.url}/v1/projects/{project_id}/ads/{platform}/pending",
                    params=params,
                    headers={"Authorization": f"Bearer {self.key}"},
                    timeout=60,
                ).json()
                for item in body["items"]:
                    states[item["pendingId"]] = (item["status"], item.get("verdictId") or "")
                cursor = body.get("nextCursor")
                if not cursor:
                    break
        return states


def sign_in(base: str, username: str, timeout: float = 30) -> requests.Session:
    """A reviewer signed in through the login form, holding the page's CSRF token."""
    s = requests.Session()
    html = s.get(f"{base}/login/", timeout=timeout).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    r = s.post(
        f"{base}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=timeout,
        allow_redirects=False,
    )
    if r.status_code != 302:
        raise CommandError(f"{username} could not sign in ({r.status_code})")
    home = s.get(f"{base}/", timeout=timeout).text
    s.headers["X-CSRFToken"] = re.search(
        r'X-CSRFToken(?:&quot;|"): (?:&quot;|")([^&"]+)', home
    ).group(1)
    s.headers["Referer"] = f"{base}/"
    return s


def classify(response) -> str:
    """ok | conflict | error, from the htmx answer of a decision."""
    html = response.text
    if response.status_code != 200 or response.headers.get("HX-Retarget"):
        return "error"
    if "banner-warning conflict" in html:
        return "conflict"
    if "queue-changed" in response.headers.get("HX-Trigger", ""):
        return "ok"
    return "error"


def soak_run(
    *,
    base: str,
    sandbox: Sandbox,
    usernames: list[str],
    actions: int,
    fault_rate: float = 0.05,
    late_rate: float = 0.06,
    deadline_seconds: float = 600,
    last_pass_seconds: float = 300,
    project_id: str = ACME,
    platform: str = "meta",
    records=None,
    seed: int = 8,
    out=print,
) -> Report:
    """The soak itself; `records()` returns the dashboard's decision log as
    [(pending id, action, outcome, verdict id)]."""
    rng = random.Random(seed)
    report, lock = Report(), threading.Lock()
    # Everyone signs in before the clock starts: a password hash costs real CPU, and twenty
    # at once on a busy machine is a test of the machine, not of deciding.
    sessions: dict[str, requests.Session] = {}

    def signed_in(username):
        for attempt in range(3):
            try:
                sessions[username] = sign_in(base, username, timeout=120)
                return
            except (requests.RequestException, CommandError) as error:
                if attempt == 2:
                    with lock:
                        report.problems.append(f"{username} could not sign in: {error}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(signed_in, usernames))
    started = time.monotonic()
    deadline = started + deadline_seconds
    ids = sandbox.control("pending-bulk", projectId=project_id, platform=platform, count=actions)[
        "pendingIds"
    ]
    stats_before = sandbox.control("stats")
    before = stats_before["executedByRoute"]
    work = list(ids)
    rng.shuffle(work)
    # A form belongs to the reviewer who opened it: a retry is that person sending the same
    # form (same key, same signed text) again, never somebody else reusing their key.
    forms: dict[str, tuple[str, str, str]] = {}  # pending id -> (owner, decision, key)
    retry: dict[str, list[str]] = {name: [] for name in usernames}
    done: set[str] = set()

    def bump(name, n=1):
        with lock:
            setattr(report, name, getattr(report, name) + n)

    def post(session, pending_id, decision, key, timeout=30.0):
        data = {
            "decision": decision,
            "idempotency_key": key,
            "comment" if decision == "approve" else "reason": f"soak {decision} {pending_id[-6:]}",
        }
        return session.post(
            f"{base}/projects/{project_id}/queue/{platform}/{pending_id}/decide",
            data=data,
            headers={"HX-Request": "true"},
            timeout=timeout,
        )

    def outcome_of(username, pending_id, result, own_form=True):
        with lock:
            if result == "ok":
                report.decisions += 1
                done.add(pending_id)
            elif result == "conflict":
                report.conflicts += 1
                done.add(pending_id)
            else:
                report.errors += 1
                if own_form:
                    retry[username].append(pending_id)

    def credited(pending_id, answers, results):
        """A late form opened on an action already decided can never have decided it: an
        answer saying it did (or that its 'first attempt reached Layers') credits its key
        with someone else's decision."""
        for answer, result in zip(answers, results, strict=True):
            if result == "ok" or (answer is not None and EARLIER in answer.text):
                with lock:
                    report.problems.append(
                        f"{pending_id}: a late form was told it decided an action someone "
                        "else had already decided"
                    )

    def next_item(username, r: random.Random):
        """(pending id, decision, key, is it this reviewer's own remembered form)"""
        with lock:
            if r.random() < late_rate and done:
                # A second reviewer opens their own form on an action already decided.
                report.late_forms += 1
                other = r.choice(sorted(done))
                return other, r.choice(("approve", "reject")), str(uuid.uuid4()), False
            if retry[username]:
                pending_id = retry[username].pop(0)
                report.retries += 1
            elif work:
                pending_id = work.pop()
                forms[pending_id] = (username, r.choice(("approve", "reject")), str(uuid.uuid4()))
            else:
                return None
            _owner, decision, key = forms[pending_id]
            return pending_id, decision, key, True

    def reviewer(username, n):
        r = random.Random(seed * 1000 + n)
        session = sessions.get(username)
        if session is None:
            return
        attempts: Counter = Counter()
        while time.monotonic() < deadline:
            item = next_item(username, r)
            if item is None:
                return
            pending_id, decision, key, own = item
            attempts[pending_id] += 1
            if attempts[pending_id] > 8:
                continue  # left for the last pass
            if r.random() < fault_rate:
                fault = dict(r.choice(FAULT_KINDS), count=1, pathContains="/pending/")
                try:
                    sandbox.control("faults", faults=[fault])
                    bump("faults")
                except requests.RequestException:
                    pass  # a busy sandbox: this one goes without its fault
            roll = r.random()
            if not own and roll < 0.5:
                # Half the late forms are double-clicked while Layers is slow on that very
                # action, so the twin meets its first send in flight: the race of issue 13 §4
                # (a twin that took credit for the colleague's decision).
                roll = 0.1
                slow = {"kind": "slow", "delay": 1.5, "count": 1, "pathContains": pending_id}
                try:
                    sandbox.control("faults", faults=[slow])
                    bump("faults")
                except requests.RequestException:
                    pass
            if roll < 0.08:  # an aborted request: the person gave up waiting
                bump("aborted")
                _safe(post, session, pending_id, decision, key, timeout=0.01)
                if own:
                    with lock:
                        retry[username].append(pending_id)  # they will send it again
                continue
            if roll < 0.18:  # a double submit: the same form twice at once
                bump("double_submits")
                answers = []

                def send_twin(answers=answers, pending_id=pending_id, decision=decision, key=key):
                    answers.append(_safe(post, session, pending_id, decision, key))

                twin = threading.Thread(target=send_twin)
                twin.start()
                answers.append(_safe(post, session, pending_id, decision, key))
                twin.join()
                results = [classify(a) if a is not None else "error" for a in answers]
                bump("in_flight", sum(1 for a in answers if a is not None and IN_FLIGHT in a.text))
                if not own:
                    credited(pending_id, answers, results)
                outcome_of(username, pending_id, "ok" if "ok" in results else results[0], own)
                continue
            answer = _safe(post, session, pending_id, decision, key)
            if not own:
                credited(pending_id, [answer], [classify(answer) if answer else "error"])
            outcome_of(
                username, pending_id, classify(answer) if answer is not None else "error", own
            )

    threads = [
        threading.Thread(target=reviewer, args=(name, n), daemon=True)
        for n, name in enumerate(usernames)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 5)
    for attempt in range(5):  # the last pass must run without faults
        try:
            sandbox.control("faults", faults=[])
            break
        except requests.RequestException:
            time.sleep(2 * (attempt + 1))

    def resend(pending_id):
        """The owner sends their form once more (signed in again if need be)."""
        owner, decision, key = forms[pending_id]
        if owner not in sessions:
            sessions[owner] = sign_in(base, owner)
        report.retries += 1
        return _safe(post, sessions[owner], pending_id, decision, key)

    # The bounded last pass, in rounds: whatever the sandbox still has pending is sent again
    # by its owner, and so is every form whose answer was lost after Layers did decide (the
    # same key replays Layers' answer, so our own log learns it; nothing is decided again).
    last_pass_ends = time.monotonic() + last_pass_seconds
    states = sandbox.pending_states(project_id, platform)
    unopened = [i for i in work if i not in forms]  # the reviewers' time ran out first
    for n, pending_id in enumerate(unopened):
        forms[pending_id] = (usernames[n % len(usernames)], "approve", str(uuid.uuid4()))
    for _ in range(8):
        known = {r[0] for r in records() if r[2] and r[2] != "conflict"} if records else set(ids)
        left = [
            i
            for i in ids
            if i in forms and (states.get(i, ("?",))[0] == "pending" or i not in known)
        ]
        if not left or time.monotonic() > last_pass_ends:
            break
        for pending_id in left:
            answer = resend(pending_id)
            if answer is not None and classify(answer) == "ok":
                report.decisions += 1
        states = sandbox.pending_states(project_id, platform)
    report.seconds = time.monotonic() - started

    stats_after = sandbox.control("stats")
    after = stats_after["executedByRoute"]
    report.replays = stats_after.get("replayed", 0) - stats_before.get("replayed", 0)
    decided_upstream = sum(
        after.get(k, 0) - before.get(k, 0)
        for k in after
        if k.endswith(("pending.approve", "pending.reject"))
    )
    mine = {i: states.get(i, ("missing", ""))[0] for i in ids}
    report.counts = dict(Counter(mine.values()))
    still = [i for i, s in mine.items() if s in ("pending", "missing")]
    if still:
        report.problems.append(
            f"{len(still)} actions not decided within the time bounds, e.g. {still[:3]} "
            "(slowness, not a double decision: see the counts above)"
        )
    if unopened:
        out(f"{len(unopened)} actions were first opened in the last pass (reviewers' time ran out)")
    decided = len(ids) - len(still)
    if decided_upstream != decided:
        report.problems.append(
            f"the sandbox executed {decided_upstream} decisions for {decided} decided actions"
        )
    if records is not None:
        by_id: dict[str, list] = {}
        for pending_id, action, outcome, verdict_id in records():
            if outcome and outcome != "conflict":
                by_id.setdefault(pending_id, []).append((action, outcome, verdict_id))
        for pending_id in ids:
            applied = by_id.get(pending_id, [])
            status, verdict = states.get(pending_id, ("missing", ""))
            if len(applied) != 1:
                report.problems.append(
                    f"{pending_id}: {len(applied)} applied decision records (sandbox: {status})"
                )
                continue
            action, _outcome, verdict_id = applied[0]
            if (action == "approve") != (status in APPROVED) or (
                verdict and verdict_id and verdict != verdict_id
            ):
                report.problems.append(
                    f"{pending_id}: dashboard says {action}/{verdict_id}, "
                    f"sandbox {status}/{verdict}"
                )
    for line in report.lines():
        out(line)
    return report


def _safe(post, *args, **kwargs):
    try:
        return post(*args, **kwargs)
    except requests.RequestException:
        return None


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
        from dashboard.management.commands.bench import Stack

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
