"""Sign-in throttling: a password cannot be guessed faster than a person types.

Failed sign-ins are counted in the shared cache (every web worker sees them) per username
and address, and per address: after SIGNIN_FAILURES_PER_NAME failures for one username from
one address, or SIGNIN_FAILURES_PER_ADDRESS from one address, that address waits out the
window before it may try again. A success clears the username's count. Keyed by the
address as well, so a stranger cannot lock a real person out from elsewhere."""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, address: str) -> tuple[str, str]:
    name = hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()[:32]
    return (
        f"signin:fail:{name}",
        f"signin:fail-addr:{hashlib.sha256(address.encode()).hexdigest()[:32]}",
    )


def signin_throttled(*, username: str, address: str) -> bool:
    """True when this address has failed too often, for this username or at all."""
    by_name, by_address = _keys(username, address)
    counts = cache.get_many([by_name, by_address])
    return (
        counts.get(by_name, 0) >= settings.SIGNIN_FAILURES_PER_NAME
        or counts.get(by_address, 0) >= settings.SIGNIN_FAILURES_PER_ADDRESS
    )


def signin_failure_record(*, username: str, address: str) -> None:
    for key in _keys(username, address):
        cache.add(key, 0, timeout=settings.SIGNIN_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.SIGNIN_WINDOW_SECONDS)


def signin_success_record(*, username: str, address: str) -> None:
    cache.delete(_keys(username, address)[0])
