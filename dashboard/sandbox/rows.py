"""Hot look-ups without the ORM's per-call SQL compilation.

Every sandbox call reads the State row and its API key, most read a project and a layer.
Through the ORM, compiling each of those SELECTs costs several times the CPU of running it;
here the SQL and the column converters are worked out once per model, filter shape and
database vendor, and a call only binds its parameters and executes. Parameters go through
each field's own `get_db_prep_value` and results through the backend's and the fields' own
converters into `Model.from_db`, as the ORM does, so callers get the same instances.
Filters are plain column comparisons (`name`, `name__lte`, `name__lt`; a foreign key by its
attname, `project_id`); locking reads stay on the ORM."""

from django.db import connections, router

OPS = {"exact": "=", "lte": "<=", "lt": "<"}
_plans: dict = {}  # (model, filter shape, order, vendor) -> (columns, FROM… sql, converters)


def _plan(connection, model, shape: tuple, order_by_pk: bool):
    key = (model, shape, order_by_pk, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        q = connection.ops.quote_name
        meta = model._meta
        where = " AND ".join(f"{q(meta.get_field(n).column)} {OPS[op]} %s" for n, op in shape)
        tail = f" FROM {q(meta.db_table)}" + (f" WHERE {where}" if where else "")
        tail += f" ORDER BY {q(meta.pk.column)}" if order_by_pk else ""
        converters = []
        for f in meta.concrete_fields:
            col = f.get_col(meta.db_table)
            convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            converters.append((convs, col))
        columns = ", ".join(q(f.column) for f in meta.concrete_fields)
        plan = _plans[key] = (columns, tail, converters)
    return plan


def _bind(connection, model, filters: dict, order_by_pk: bool = False):
    shape, params = [], []
    for lookup, value in filters.items():
        name, _, op = lookup.partition("__")
        shape.append((name, op or "exact"))
        params.append(model._meta.get_field(name).get_db_prep_value(value, connection))
    return _plan(connection, model, tuple(shape), order_by_pk), params


def first(model, order_by_pk: bool = False, **filters):
    """`model.objects.filter(**filters).first()`; None when nothing matches. Unordered
    unless `order_by_pk` (`.first()` orders by pk): leave it off only on unique look-ups."""
    connection = connections[router.db_for_read(model)]
    (columns, tail, converters), params = _bind(connection, model, filters, order_by_pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}{tail} LIMIT 1", params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (convs, col) in zip(row, converters, strict=True):
        for convert in convs:
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, None, values)


def exists(model, **filters) -> bool:
    """`model.objects.filter(**filters).exists()`."""
    connection = connections[router.db_for_read(model)]
    (_, tail, _), params = _bind(connection, model, filters)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1{tail} LIMIT 1", params)
        return cursor.fetchone() is not None


def delete(model, **filters) -> int:
    """`model.objects.filter(**filters).delete()` for a model nothing refers to and no
    signal listens for (no cascade to collect); returns the rows deleted."""
    connection = connections[router.db_for_write(model)]
    (_, tail, _), params = _bind(connection, model, filters)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE{tail}", params)
        return cursor.rowcount
