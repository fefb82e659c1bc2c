"""Keyset pagination with opaque base64url cursors (contract §1.9)."""

import base64
import json

from django.core.exceptions import ValidationError
from django.db.models import Q

from .http import validation


def encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode(cursor: str) -> list | None:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        return None
    return values if isinstance(values, list) and len(values) == 2 else None


def page(qs, *, order: tuple[str, str], cursor: str | None, limit: int, strict: bool):
    """Returns (rows, nextCursor). `order` is (first field, possibly "-desc", tie-breaker asc).
    A malformed cursor is a 422 on strict routes and the first page elsewhere."""
    first, tie = order
    field = first.lstrip("-")
    qs = qs.order_by(first, tie)
    if cursor:
        values = decode(cursor)
        try:
            if values is None:
                raise ValueError(cursor)
            op = "lt" if first.startswith("-") else "gt"
            qs = qs.filter(
                Q(**{f"{field}__{op}": values[0]})
                | Q(**{field: values[0], f"{tie}__gt": values[1]})
            )
        except (ValueError, TypeError, ValidationError):
            if strict:
                raise validation({"cursor": "is not a cursor this API issued"}) from None
    rows = list(qs[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    key = getattr(last, field)
    return rows, encode(
        [key.isoformat() if hasattr(key, "isoformat") else key, str(getattr(last, tie))]
    )
