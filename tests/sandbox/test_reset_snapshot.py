"""A reset replays the seed the process's first reset wrote (sandbox/snapshot.py) rather than
seeding afresh: what it writes must be what a fresh seed writes at the same moment, row by
row, up to the random bits a fresh seed draws anew each time."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

from dashboard.sandbox import clock, seed, snapshot, tables
from dashboard.sandbox.models import (
    AdAccount,
    ApiKey,
    AuditEvent,
    Campaign,
    Layer,
    PendingAction,
    Project,
    Verdict,
)

from .support import ULID

SEEDED = (AuditEvent, Verdict, PendingAction, Campaign, AdAccount, Layer, Project, ApiKey)


def test_a_replayed_seed_writes_the_rows_a_fresh_seed_writes_at_the_same_moment(sandbox):
    # Times off the whole millisecond, so audit times (cut to it) must be cut again.
    taken_at = datetime.now(UTC).replace(microsecond=123_456) - timedelta(days=2)
    moment = taken_at + timedelta(days=5, seconds=7, microseconds=531_975)
    tables.empty(SEEDED)
    replay = snapshot.take(taken_at)
    assert replay is not None
    tables.empty(SEEDED)
    seed.seed(now=moment)
    fresh = seeded_rows()
    fresh_ids = ids_chosen_by_the_seed()
    tables.empty(SEEDED)
    replay.restore(moment)
    assert seeded_rows() == fresh
    assert ids_chosen_by_the_seed() == fresh_ids


def test_a_reset_draws_new_ids_and_moves_the_times_with_the_clock(sandbox):
    before = set(PendingAction.objects.values_list("id", flat=True))
    expiry = PendingAction.objects.order_by("expires_at").values_list("expires_at", flat=True)
    first = expiry.first()
    sandbox.control("reset", seed=True)
    assert before.isdisjoint(PendingAction.objects.values_list("id", flat=True))
    assert expiry.first() > first
    assert PendingAction.objects.count() == len(before)


def ids_chosen_by_the_seed() -> list:
    """Accounts' and campaigns' ids: their random bits are the seed's own, not drawn."""
    return sorted(AdAccount.objects.values_list("id", flat=True)) + sorted(
        Campaign.objects.values_list("id", flat=True)
    )


def seeded_rows() -> dict:
    """Every seeded table's rows as text, sorted, with what a fresh seed draws anew each
    time written as placeholders: an audit event's uuid4 as "uuid", a ULID's random bits as
    "#n" (n counts distinct ones in order of appearance, so every place that names the same
    id still names the same one), and the time of a ULID minted from the wall clock (a
    proposal's ads, minted a few ms apart) as "wall"."""
    wall = datetime.now(UTC).timestamp() * 1000

    def time_of(match):
        text = match.group()
        ms = int(text[:10].translate(FROM_CROCKFORD), 32)
        return "wall" if abs(ms - wall) < 60_000 else text[:10]

    drawn: dict = {}

    def numbered(match):
        number = drawn.setdefault(match.group()[10:], len(drawn))
        return f"{time_of(match)}#{number}"

    result = {}
    for model in reversed(SEEDED):
        names = [f.attname for f in model._meta.concrete_fields]
        rows = []
        for values in model.objects.values_list(*names):
            row = {
                n: "uuid" if isinstance(v, uuid.UUID) else v
                for n, v in zip(names, values, strict=True)
            }
            rows.append(json.dumps(row, default=str, sort_keys=True))
        rows.sort(key=lambda text: re.sub(ULID, lambda m: f"{time_of(m)}#", text))
        result[model.__name__] = [re.sub(ULID, numbered, text) for text in rows]
    return result


FROM_CROCKFORD = str.maketrans(clock.CROCKFORD, "0123456789abcdefghijklmnopqrstuv")
