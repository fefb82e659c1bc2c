"""What the client sends: an id quoted into a path segment (`.`, `..` and empty refused),
times as ISO-8601 UTC with Z, money as integer cents, bodies without nulls, and canonical
JSON bytes (so an idempotent retry is byte-for-byte the original)."""

from __future__ import annotations

import json
from datetime import UTC
from urllib.parse import quote

from .errors import NotFound


def _seg(value: str) -> str:
    """An id in a path segment: opaque, so quoted (never trusted to be URL-safe). `.`, `..`
    and nothing at all survive quoting and would change which path is asked for (an HTTP
    library resolves dot segments), so they are refused before any request is sent."""
    text = str(value)
    if text in ("", ".", ".."):
        raise NotFound(f"{text!r} is not an id, so there is no such item.", code="NOT_FOUND")
    return quote(text, safe="")


def _iso(value) -> str | None:
    """datetime → ISO-8601 UTC with Z; strings pass through."""
    if value is None:
        return None
    if isinstance(value, str):
        return value

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _compact(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None}


def _cents(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("money is sent to Layers as integer cents")
    return value


def _dumps(data) -> str:
    # Canonical bytes: the same logical body always serialises the same way, so an
    # idempotent retry is byte-for-byte the original.
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
