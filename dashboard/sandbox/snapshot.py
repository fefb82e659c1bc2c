"""A reset's demo story, written again rather than worked out again (tests reset before each
test, over a thousand times a run).

The first seeded reset of a process seeds for real (seed.py) and keeps what it wrote: each
row as the values its INSERT sent, and each ULID it minted with the time and random bits it
was minted from. Later resets send the same rows again, made anew where a fresh seed would
make them anew:

* times: the seed's are the sandbox clock's now give or take whole seconds, so each moves by
  (now - the snapshot's now); audit times stay cut to the millisecond (records.to_millis);
* ULIDs: minted again from their moved time (or the wall clock, when minted from it), with
  the seed's own random bits where it chose them (accounts, campaigns, a proposal's ads) and
  fresh ones where it drew them (pending actions, verdicts, request ids), and written
  wherever the old one stood (other ids, paths, JSON);
* uuid4 keys (audit events) are drawn afresh.

A seed that cannot be replayed so (a time not whole seconds from now, say) is not kept:
resets then seed afresh. tests/sandbox/test_reset_snapshot.py holds a replay against a fresh
seed of the same moment, row by row."""

import json
import logging
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connections, models, router

from . import clock, tables
from . import seed as demo
from .models import Project

log = logging.getLogger(__name__)
TIME, MILLIS, IDS, JSON_IDS, UUID = range(5)  # how a cell is made anew
_snapshots: dict = {}  # (database alias, vendor, demo key) -> Snapshot | None (not replayable)


class Unreplayable(Exception):
    pass


def seed(state) -> None:
    """Writes the demo story at the sandbox clock's now, as seed.seed does: replayed from
    this process's snapshot, taken by the first call."""
    now = clock.now(state)
    connection = connections[router.db_for_write(Project)]
    key = (connection.alias, connection.vendor, settings.SANDBOX_DEMO_KEY)
    snapshot = _snapshots.get(key)
    if snapshot is not None:
        snapshot.restore(now)
    elif key in _snapshots or now.microsecond % 1000 == 0:
        # Not replayable, or a now whose audit times (cut to the millisecond) could not be
        # told from the others: seed afresh; the next reset takes a snapshot.
        demo.seed(state, now)
    else:
        _snapshots[key] = take(now)


def take(now) -> "Snapshot | None":
    """Seeds for real at `now`, keeping what it wrote; None when that cannot be replayed
    (then it was still seeded)."""
    with clock.minted() as mints, tables.recorded() as written:
        demo.seed(now=now)
    try:
        return Snapshot(now, mints, written)
    except Unreplayable as exc:
        log.warning("sandbox reset: the seed cannot be replayed (%s); seeding afresh", exc)
        return None


class Snapshot:
    def __init__(self, now, mints, written):
        self.now = now
        if now.microsecond % 1000 == 0:
            raise Unreplayable("now is on the millisecond: audit times look like the others")
        for text, at, _ in mints:
            if at is not None and at.microsecond != now.microsecond:
                raise Unreplayable(f"ULID {text} minted at {at}, not whole seconds from now")
        index = {text: n for n, (text, _, _) in enumerate(mints)}
        self._pattern = re.compile("|".join(map(re.escape, index))) if index else None
        self._index, self._used = index, set()
        self.tables = [self._table(model, objs) for model, objs in written]
        # Ids minted but written nowhere (drawn, then not used) are not minted again.
        self.mints = [
            (at, rand) if n in self._used else None for n, (_, at, rand) in enumerate(mints)
        ]

    def _table(self, model, objs):
        connection = connections[router.db_for_write(model)]
        fields = model._meta.local_concrete_fields
        rows = []
        for obj in objs:
            base, dynamic = [], []
            for i, field in enumerate(fields):
                value = getattr(obj, field.attname)
                base.append(None)
                cell = self._cell(field, value, connection)
                if cell[0] is None:
                    base[i] = cell[1]
                else:
                    dynamic.append((i, *cell))
            rows.append((base, dynamic))
        return connection.alias, tables.insert_sql(model, connection), rows

    def _cell(self, field, value, connection):
        """(None, the value as sent) for a cell sent as it was; (kind, what it is made
        from) for one made anew."""
        if isinstance(field, models.DateTimeField) and value is not None:
            if value.microsecond == self.now.microsecond:
                return TIME, value
            if value.microsecond == self.now.microsecond // 1000 * 1000:
                return MILLIS, value.replace(microsecond=self.now.microsecond)
            raise Unreplayable(f"{field} is {value}, not whole seconds from now")
        if field.default is uuid.uuid4 and value is not None:
            return UUID, field
        sent = field.get_db_prep_save(value, connection)
        if self._pattern is None:
            return None, sent
        if isinstance(sent, str):
            parts = self._parts(sent)
            return (None, sent) if parts is None else (IDS, parts)
        if isinstance(field, models.JSONField):  # sent wrapped (PostgreSQL's Jsonb)
            parts = self._parts(json.dumps(value))
            return (None, sent) if parts is None else (JSON_IDS, (field, parts))
        return None, sent

    def _parts(self, text):
        """The text as a list of its pieces around the minted ids, each id by its number;
        None when it names none."""
        parts, last = [], 0
        for match in self._pattern.finditer(text):
            n = self._index[match.group()]
            self._used.add(n)
            parts += [text[last : match.start()], n]
            last = match.end()
        return parts + [text[last:]] if parts else None

    def restore(self, now) -> None:
        """Writes the rows again as a fresh seed at `now` would."""
        delta = now - self.now
        shift = {TIME: delta, MILLIS: delta - timedelta(microseconds=now.microsecond % 1000)}
        ids = [
            None
            if mint is None
            else clock.ulid(None if mint[0] is None else mint[0] + delta, mint[1])
            for mint in self.mints
        ]
        for alias, sql, rows in self.tables:
            connection = connections[alias]  # this thread's (a snapshot serves every thread)
            adapt = connection.ops.adapt_datetimefield_value
            values = []
            for base, dynamic in rows:
                row = base.copy()
                for i, kind, source in dynamic:
                    if kind in (TIME, MILLIS):
                        row[i] = adapt(source + shift[kind])
                    elif kind == IDS:
                        row[i] = "".join([ids[p] if type(p) is int else p for p in source])
                    elif kind == JSON_IDS:
                        field, parts = source
                        text = "".join([ids[p] if type(p) is int else p for p in parts])
                        row[i] = field.get_db_prep_save(json.loads(text), connection)
                    else:  # UUID
                        row[i] = source.get_db_prep_save(uuid.uuid4(), connection)
                values.append(row)
            with connection.cursor() as cursor:
                cursor.executemany(sql, values)
