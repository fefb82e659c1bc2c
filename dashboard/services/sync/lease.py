"""One sync owner at a time: a lease row taken and renewed with one conditional UPDATE
(atomic on SQLite and PostgreSQL alike), so of several workers only one ticks, and a
crashed owner's lease simply runs out (SYNC_LEASE_SECONDS) for the next to take."""

import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from dashboard.models import SyncLease

NAME = "sync"


def owner_name() -> str:
    """This worker thread's name as an owner: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def lease_acquire(owner: str, now) -> bool:
    """Takes the lease (or renews it, for its owner) until now + SYNC_LEASE_SECONDS.
    Answers whether `owner` holds it now."""
    if not SyncLease.objects.filter(name=NAME).exists():
        try:
            with transaction.atomic():
                SyncLease.objects.create(name=NAME)
        except IntegrityError:
            pass  # another worker made it first
    free = Q(owner=owner) | Q(owner="") | Q(expires_at__isnull=True) | Q(expires_at__lte=now)
    expires = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
    if (
        SyncLease.objects.filter(name=NAME, owner=owner)
        .filter(free)
        .update(expires_at=expires, beat_at=now)
    ):
        return True
    return bool(
        SyncLease.objects.filter(free, name=NAME).update(
            owner=owner, acquired_at=now, expires_at=expires, beat_at=now
        )
    )


def lease_release(owner: str) -> None:
    """Gives the lease up (a worker stopping cleanly); the next tick anywhere takes it."""
    SyncLease.objects.filter(name=NAME, owner=owner).update(owner="", expires_at=None)


def lease_get() -> SyncLease | None:
    return SyncLease.objects.filter(name=NAME).first()
