"""Paging cursors this server signed. A "load more" link carries the next page's cursor; it
is signed here, bound to its list and project, and only a cursor with our signature is ever
passed on to Layers or used in a cache key, so a made-up cursor is a 400 with a sentence and
costs no read and no new cache entry (issue 14, finding 4)."""

from django.core import signing

from dashboard.views.params import QueryRefused

REFUSED = (
    "This “load more” link was not made by this dashboard, or was changed on the way; "
    "open the list again from its first page."
)


def cursor_sign(value: str | None, *, scope: str) -> str | None:
    """The cursor as a link carries it, or None when there is no next page."""
    if not value:
        return None
    return signing.Signer(salt=f"dashboard.cursor:{scope}").sign(value)


def cursor_read(text: str | None, *, scope: str) -> str:
    """The cursor a link carried, checked: "" when there is none; QueryRefused (a 400 with
    a sentence) when it is not one this server signed for this list and project."""
    if not text:
        return ""
    try:
        return signing.Signer(salt=f"dashboard.cursor:{scope}").unsign(text)
    except signing.BadSignature:
        raise QueryRefused(REFUSED) from None


def cursors_sign(values: dict | None, *, scope: str) -> str | None:
    """Several cursors (or a position: {"k": sort key, "id": last id}) as one signed link
    value; None when there is none."""
    if not values:
        return None
    return signing.Signer(salt=f"dashboard.cursor:{scope}").sign_object(values)


def cursors_read(text: str | None, *, scope: str) -> dict:
    """What cursors_sign signed, checked as cursor_read checks; only its text values kept."""
    if not text:
        return {}
    try:
        values = signing.Signer(salt=f"dashboard.cursor:{scope}").unsign_object(text)
    except (signing.BadSignature, ValueError):
        raise QueryRefused(REFUSED) from None
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, str)}
