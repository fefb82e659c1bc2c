"""Query-string values the views read themselves (services parse their own filters).

A value that cannot be read is the address's fault, not ours: QueryRefused becomes a 400
page with its sentence (dashboard/middleware.py), never a traceback."""

from datetime import UTC, datetime

from django.core.exceptions import BadRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime


class QueryRefused(BadRequest):
    """A query value this page cannot use; `sentence` says which and why."""

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


def query_instant(query, name: str) -> datetime | None:
    """`?name=` as an aware date and time (no zone means UTC), None when absent. An
    unreadable or impossible one (2024-02-30) is refused with a sentence."""
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:  # well-formed, but no such day or time
        value = None
    if value is None:
        raise QueryRefused(
            f"This address gives {name} as “{raw[:40]}”, which is not a real date and time "
            "(like 2024-02-28T09:30:00Z). Open the page again from its link."
        )
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
