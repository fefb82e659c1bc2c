"""Pacing: a bulk decision stays inside the key's write budget (the standard tier's 60 writes
a minute), counted minute by minute in the sandbox, while the rest of the team has already
spent most of this minute's writes."""

import logging
import time
import uuid
from collections import Counter
from datetime import datetime

from tests.conftest import ACME, PASSWORD
from tests.test_bulk import executed, run_worker, start_bulk
from tests.test_queue import pending_items

WRITES_PER_MINUTE = 60  # the standard tier (contract §1.8)
LEFT_FOR_THE_BULK = 4
MARGIN_SECONDS = 25  # of the sandbox minute left when the burning starts


def write(sandbox):
    """One write by someone else on the team (an approve of an unknown id: refused, but a
    write the bucket counts); returns the rate-limit headers."""
    answer = sandbox.api(
        "POST",
        f"/v1/projects/{ACME}/ads/meta/pending/pa_SOMEONE_ELSE/approve",
        json={},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 404
    return answer.headers


def test_a_bulk_decision_keeps_every_sandbox_minute_inside_the_write_budget_and_never_meets_a_429(
    sandbox, people, client, caplog
):
    caplog.set_level(logging.INFO, logger="dashboard.layers")
    assert client.login(username="approver", password=PASSWORD)
    sandbox.control("rate-tier", tier="standard")
    # Start with MARGIN_SECONDS of the sandbox's rate window left, so the burning below
    # finishes inside it and the bulk then has to wait for the next one.
    seconds_left = int(write(sandbox)["X-RateLimit-Reset"]) - time.time()
    sandbox.control("clock", advanceSeconds=max(0.0, seconds_left - MARGIN_SECONDS) % 60)
    headers = write(sandbox)
    while int(headers["X-RateLimit-Remaining"]) > LEFT_FOR_THE_BULK:
        headers = write(sandbox)
    burned_in = int(headers["X-RateLimit-Reset"])
    items = [
        f"{platform}:{item['pendingId']}"
        for platform in ("meta", "tiktok", "apple")
        for item in pending_items(sandbox, platform)
    ][:10]
    assert len(items) == 10

    start_bulk(client, "approve", items, text="Paced")
    run_worker()

    assert executed(sandbox, "approve") == 10
    approvals = sandbox.api(
        "GET", "/v1/audit-log", params={"eventType": "ads.pending.approved", "limit": 200}
    ).json()["items"]
    ours = {value.partition(":")[2] for value in items}
    per_minute = Counter(
        _minute(row["occurredAt"]) for row in approvals if row["data"].get("pendingId") in ours
    )
    assert sum(per_minute.values()) == 10
    burned_minute = _minute_of_reset(sandbox, burned_in)
    writes = {
        m: n + (WRITES_PER_MINUTE - LEFT_FOR_THE_BULK if m == burned_minute else 0)
        for m, n in per_minute.items()
    }
    assert max(writes.values()) <= WRITES_PER_MINUTE, writes
    assert per_minute[burned_minute] <= LEFT_FOR_THE_BULK, per_minute
    assert len(per_minute) == 2  # it waited for the next minute rather than be refused
    assert not [r.message for r in caplog.records if "status=429" in r.getMessage()]


def _minute(stamp: str) -> str:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%Y-%m-%dT%H:%M")


def _minute_of_reset(sandbox, reset_epoch: int) -> str:
    """The sandbox minute that ended at `reset_epoch` (on this machine's clock)."""
    now = datetime.fromisoformat(
        sandbox.control("clock", advanceSeconds=0)["now"].replace("Z", "+00:00")
    )
    ended = now.timestamp() - (time.time() - reset_epoch) - 1
    return datetime.fromtimestamp(ended, tz=now.tzinfo).strftime("%Y-%m-%dT%H:%M")
