"""The small vocabulary of Layers' wire that every record, error and webhook shares:
the two platform vocabularies, timestamps, and the rate-limit reset.

Platforms: bodies, query filters, ad-account rows and webhook payloads say `meta_ads`,
path segments say `meta` (contract §1.4). The dashboard works with the short form only;
this is the one place that knows the `_ads` suffix."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

PLATFORMS = ("meta", "tiktok", "apple")
# Wire vocabulary of bodies / query filters / ad-account rows (contract §1.4) ↔ our short form.
WIRE_PLATFORMS = {"meta": "meta_ads", "tiktok": "tiktok_ads", "apple": "apple_ads"}
SHORT_PLATFORMS = {wire: short for short, wire in WIRE_PLATFORMS.items()}
# A reset header smaller than this is a number of seconds to go, not an instant.
EPOCH_FLOOR = 1_000_000_000


def platform_from_wire(value: Any) -> str | None:
    """`meta_ads` → `meta`; `meta` stays; an unknown platform is kept as it is."""
    if value is None:
        return None
    value = str(value)
    return SHORT_PLATFORMS.get(value, value)


def platform_to_wire(platform: str) -> str:
    """Our short form → the body/query form (`meta` → `meta_ads`); already-wire values pass."""
    if platform in WIRE_PLATFORMS:
        return WIRE_PLATFORMS[platform]
    if platform in SHORT_PLATFORMS:
        return platform
    raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")


def platform_to_path(platform: str) -> str:
    """Our short form for `{platform}` path segments; accepts the wire form too."""
    short = SHORT_PLATFORMS.get(platform, platform)
    if short not in WIRE_PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    return short


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 → aware datetime (UTC when no offset); with or without millis; `Z` ok.
    Unreadable values become None rather than breaking a page (tolerant reader)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def reset_at(value: int | None, now: float | None = None) -> int | None:
    """`X-RateLimit-Reset` as an absolute instant (epoch seconds). The contract infers epoch
    seconds [I]; some APIs send seconds to go instead, so a small number is read as that,
    counted from when the header was read. Decided here, once, for every caller."""
    if value is None or value < 0:
        return None
    if value >= EPOCH_FLOOR:
        return value
    return int((time.time() if now is None else now) + value)


# Path segments that are words of the API, never ids. Anything else in a path is an id (a
# project's, a campaign's, a job's…) and is replaced by the name of what it identifies, so
# metrics labels never carry one.
ROUTE_WORDS = frozenset(
    {
        "v1", "projects", "ads", "ad-accounts", "oauth-url", "campaigns", "budget", "pause",
        "resume", "authority", "defaults", "optimizer", "run", "runs", "jobs", "pending",
        "count", "approve", "reject", "verdicts", "audit-log", "webhook-endpoints", "whoami",
        *PLATFORMS,
    }
)  # fmt: skip
ID_AFTER = {
    "projects": "{project}",
    "campaigns": "{campaign}",
    "pending": "{pending}",
    "jobs": "{job}",
    "runs": "{run}",
    "verdicts": "{verdict}",
    "webhook-endpoints": "{endpoint}",
}


def route_template(path: str) -> str:
    """`/v1/projects/prj_1/ads/meta/pending/pa_9/approve` →
    `/v1/projects/{project}/ads/meta/pending/{pending}/approve`."""
    segments = path.split("?", 1)[0].strip("/").split("/")
    out = []
    for i, segment in enumerate(segments):
        previous = segments[i - 1] if i else ""
        last = i == len(segments) - 1
        if previous in ID_AFTER and not (previous == "pending" and segment == "count" and last):
            out.append(ID_AFTER[previous])  # always an id here, whatever it spells
        elif segment in ROUTE_WORDS:
            out.append(segment)
        else:
            out.append("{id}")
    return "/" + "/".join(out)
