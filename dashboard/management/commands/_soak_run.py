"""The soak itself (`soak_run`, described in soak.py): reviewers deciding at once with double
submits, aborted requests, late forms and injected faults, a bounded last pass, then the
checks that every action was decided exactly once and the decision log matches Layers."""

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from django.core.management.base import CommandError

from dashboard.management.commands._soak_tools import (
    ACME,
    APPROVED,
    EARLIER,
    FAULT_KINDS,
    IN_FLIGHT,
    Report,
    Sandbox,
    classify,
    sign_in,
)


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
