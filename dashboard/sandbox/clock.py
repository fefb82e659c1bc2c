"""The sandbox clock (wall time plus an offset tests can advance) and id minting."""

import os
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in CROCKFORD for b in CROCKFORD]  # 10 bits -> two digits
_minting = threading.local()  # .log: a list while `minted()` records this thread's ulids


def offset() -> float:
    from .models import State

    return State.objects.values_list("clock_offset", flat=True).first() or 0.0


def now(state=None) -> datetime:
    """Sandbox "now"; pass the already-loaded State row to save a query."""
    seconds = state.clock_offset if state is not None else offset()
    return datetime.now(UTC) + timedelta(seconds=seconds)


def iso(value: datetime | None, millis: bool = False) -> str | None:
    if value is None:
        return None
    value = value.astimezone(UTC)
    if millis:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Accepts ISO 8601 with Z or an offset; raises ValueError otherwise."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("timezone required")
    return value.astimezone(UTC)


def ulid(at: datetime | None = None, rand: bytes | None = None) -> str:
    """26-char Crockford base32: 48-bit milliseconds + 80 random bits."""
    ms = int((at or datetime.now(UTC)).timestamp() * 1000)
    value = (ms << 80) | int.from_bytes(rand or os.urandom(10), "big")
    text = "".join([_PAIRS[(value >> shift) & 1023] for shift in range(120, -1, -10)])
    log = getattr(_minting, "log", None)
    if log is not None:
        log.append((text, at, rand))
    return text


@contextmanager
def minted():
    """Records every ulid this thread mints meanwhile, as (ulid, at, rand) as given to
    `ulid`: a reset's snapshot (snapshot.py) mints them again for another time."""
    _minting.log = log = []
    try:
        yield log
    finally:
        _minting.log = None


def new_id(prefix: str, at: datetime | None = None) -> str:
    return f"{prefix}_{ulid(at)}"


def layer_id() -> str:
    return f"lyr_{uuid.uuid4()}"


def unix() -> int:
    return int(time.time())
