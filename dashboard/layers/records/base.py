"""What every record shares: the tolerant readers (a field of the wrong type becomes None or
a default; a missing id or a non-object raises LayersBadResponse), a page of items and the
rate-limit headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import LayersBadResponse
from ..wire import reset_at

# --- readers ------------------------------------------------------------------------------


def _a(noun: str) -> str:
    """ "a decision", "an optimizer run": the sentences people read are English."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _obj(data: Any, what: str) -> dict:
    if not isinstance(data, dict):
        raise LayersBadResponse(
            f"The Layers API sent {_a(what)} that is not an object; "
            "the dashboard could not read it.",
            details={"record": what},
        )
    return data


def _required(data: dict, key: str, what: str) -> Any:
    value = data.get(key)
    if value is None or value == "":
        raise LayersBadResponse(
            f"The Layers API sent {_a(what)} without its {key}; the dashboard could not read it.",
            details={"record": what, "missing": key},
        )
    return value


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any, default: bool = False) -> bool:
    return value if isinstance(value, bool) else default


def _dict(value: Any) -> dict:
    return dict(value) if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return list(value) if isinstance(value, list) else []


# --- a page and the rate limit -------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    endpoint_class: str | None
    limit: int | None
    remaining: int | None
    reset: int | None  # epoch seconds, always absolute (wire.reset_at decides) [I]

    @classmethod
    def from_headers(cls, headers) -> RateLimit:
        return cls(
            endpoint_class=headers.get("X-RateLimit-Endpoint-Class"),
            limit=_int(headers.get("X-RateLimit-Limit")),
            remaining=_int(headers.get("X-RateLimit-Remaining")),
            reset=reset_at(_int(headers.get("X-RateLimit-Reset"))),
        )


@dataclass(frozen=True)
class Page[T]:
    items: tuple
    next_cursor: str | None = None

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    @classmethod
    def from_wire(cls, data: Any, item: type, what: str = "list") -> Page:
        data = _obj(data, what)
        raw = data.get("items")
        if not isinstance(raw, list):
            raise LayersBadResponse(
                f"The Layers API sent {_a(what)} without its items; "
                "the dashboard could not read it.",
                details={"record": what, "missing": "items"},
            )
        cursor = data.get("nextCursor")  # null or absent = last page [D/I]
        return cls(
            items=tuple(item.from_wire(row) for row in raw),
            next_cursor=str(cursor) if cursor else None,
        )
