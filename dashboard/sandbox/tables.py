"""Emptying and filling the sandbox's tables wholesale, as a reset does before every test.

The ORM's way costs more than the rows: delete() looks up what each deletion cascades to
(the reset empties every table anyway), and bulk_create() compiles each value through
several layers per field. These write the same rows with one plain statement per table."""

import threading
from contextlib import contextmanager

from django.db import connections, router

_recording = threading.local()  # .log: a list while `recorded()` keeps this thread's inserts


def empty(models) -> None:
    """Deletes every row of each model's table, in the order given (children first), with
    no signals and no cascade look-ups: for tables whose rows all go together."""
    deletes: dict = {}  # alias -> (connection, its DELETEs in order)
    for model in models:
        connection = connections[router.db_for_write(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        deletes.setdefault(connection.alias, (connection, []))[1].append(f"DELETE FROM {table}")
    for connection, statements in deletes.values():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # one round trip: one simple query
                cursor.execute("; ".join(statements))
                continue
            for statement in statements:  # SQLite's driver runs one statement a call
                cursor.execute(statement)


def insert(objs) -> None:
    """Inserts unsaved instances of one model, every column as the instance holds it (the
    primary key included): bulk_create's rows, without its per-value compiling."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    fields = model._meta.local_concrete_fields
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(insert_sql(model, connection), rows)
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
    log = getattr(_recording, "log", None)
    if log is not None:
        log.append((model, objs))


def insert_sql(model, connection) -> str:
    """The INSERT of one row of every local column, in `_meta.local_concrete_fields` order."""
    fields = model._meta.local_concrete_fields
    quote = connection.ops.quote_name
    return "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )


@contextmanager
def recorded():
    """Keeps what `insert` writes in this thread meanwhile, as (model, instances) in the
    order written: a reset's snapshot (snapshot.py) writes them again."""
    _recording.log = log = []
    try:
        yield log
    finally:
        _recording.log = None
