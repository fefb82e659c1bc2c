"""One-time values (embed token ids, connection states), spent in the database.

`nonce_spend` answers True the first time a value is spent and False ever after (until the
row is deleted once the value's token has expired). The unique constraint makes it atomic
across every web process; a cache could evict the entry or keep it in one process only."""

import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.models import SpentNonce

Kind = SpentNonce.Kind


def nonce_spend(*, kind: str, value: str, expires_at: datetime) -> bool:
    """True when `value` had not been spent (it is now); False when it was."""
    digest = hashlib.sha256(value.encode()).hexdigest()
    try:
        with transaction.atomic():
            SpentNonce.objects.create(kind=kind, digest=digest, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def nonce_expired_delete() -> int:
    """Forget values whose tokens have expired (refused for that reason alone)."""
    deleted, _ = SpentNonce.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
