"""The mirror's version stamps, and the pages' cache of what they drew from the mirror.

Every write to the mirror (services/mirror.py) gives a stamp a new random value, after the
write and in its transaction: "rows" when what a line or a count shows changed (actions,
their status, projects' names), "sync" when a list's sync state did. A page reads the
stamps first (one query), then looks for its work in the cache under the stamp with
everything else its result depends on (the person's projects and roles, the filters, the
language). So a decision or a sync is seen by the next page view, and between writes every
viewer with the same projects reuses one computation instead of redoing it.

Entries also expire after INBOX_CACHE_SECONDS (what depends on the clock: countdowns, "expires
within 24 h"), and the cache failing (Redis down) only costs the computation."""

import hashlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When
from django.utils import timezone, translation

from dashboard.models.mirror import MirrorStamp

log = logging.getLogger(__name__)
ROWS, SYNC = "rows", "sync"
MISSING = object()


def mirror_stamp_bump(*names: str) -> None:
    """The mirror changed: these stamps get new values (default: both)."""
    now = timezone.now()
    values = {name: uuid.uuid4().hex for name in names or (ROWS, SYNC)}
    stamps = Case(*(When(name=name, then=Value(value)) for name, value in values.items()))
    updated = MirrorStamp.objects.filter(name__in=values).update(stamp=stamps, changed_at=now)
    if updated == len(values):
        return  # every stamp in one UPDATE; a missing one is made below
    for name, fresh in values.items():
        if MirrorStamp.objects.filter(name=name).exists():
            continue
        try:
            with transaction.atomic():
                MirrorStamp.objects.create(name=name, stamp=fresh, changed_at=now)
        except IntegrityError:  # made meanwhile by another process: give it a new value
            MirrorStamp.objects.filter(name=name).update(stamp=fresh, changed_at=now)


def mirror_stamps() -> dict:
    """name -> stamp (a name with no row has none: nothing is cached under it)."""
    return dict(MirrorStamp.objects.values_list("name", "stamp"))


def stamp_key(stamp: str | None, *parts) -> str | None:
    """The cache key of a computation from the mirror at `stamp`, for these inputs (None:
    not cached, when there is no stamp or the cache is switched off)."""
    if not stamp or settings.INBOX_CACHE_SECONDS <= 0:
        return None
    digest = hashlib.sha256(repr((translation.get_language(), parts)).encode()).hexdigest()
    return f"mirror:{stamp}:{digest[:40]}"


def stamp_cached(key: str | None, compute):
    """compute(), kept under `key` for INBOX_CACHE_SECONDS (not cached when key is None)."""
    if key is None:
        return compute()
    try:
        found = cache.get(key, MISSING)
    except Exception:  # the cache is down: the page is still drawn, only slower
        log.warning("the mirror cache could not be read", exc_info=True)
        return compute()
    if found is not MISSING:
        return found
    value = compute()
    try:
        cache.set(key, value, settings.INBOX_CACHE_SECONDS)
    except Exception:
        log.warning("the mirror cache could not be written", exc_info=True)
    return value
