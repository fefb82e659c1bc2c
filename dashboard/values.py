"""How a proposal's values read to people: targeting, schedules and creatives in words
(Age 18–65, Mon–Fri 08:00–22:00, a creative's name), what changed when a list changes
(+ Canada, − United States), and the raw JSON kept one click away.

Layers' values are untrusted and their shapes undocumented beyond a few fields (§4.13,
§4.14, §4.16), so every reader here is tolerant: an unexpected shape never raises, it falls
back to the raw JSON (the caller escapes everything it draws). Money is not read here: the
row formats `…Cents` fields with dashboard.money.

Days: the contract gives `dayOfWeek: 0-6` without saying where the week starts; 0 is
Sunday here, as in JavaScript and as the sandbox's weekday schedules (1–5) assume. [I]"""

import json
from dataclasses import dataclass
from datetime import datetime

from babel import Locale

from dashboard.wording import status_words

LABELS = {
    "geo": "Countries",
    "age": "Age",
    "genders": "Genders",
    "customAudiences": "Custom audiences",
    "placements": "Placements",
    "dayparts": "Schedule",
    "adsContentId": "Creative",
    "adsContentIds": "Creatives",
    "startTime": "Start",
    "endTime": "End",
    "status": "Status",
    "targeting": "Targeting",
}
# The order a change's fields are shown in, decided here and not by the JSON: PostgreSQL's
# jsonb keeps an object's keys sorted, so Layers' own order does not survive every backend.
# Known fields read in this order; any other follows, alphabetically.
FIELD_ORDER = (
    "name",
    "status",
    "dailyBudgetCents",
    "lifetimeBudgetCents",
    "bidAmountCents",
    "startTime",
    "endTime",
    "targeting",
    "geo",
    "age",
    "genders",
    "customAudiences",
    "placements",
    "dayparts",
    "adsContentId",
    "adsContentIds",
)
DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
WEEK = (1, 2, 3, 4, 5, 6, 0)  # shown Monday first
MAX_ITEMS = 20  # longer lists are cut in the words (the raw value keeps everything)
MAX_TEXT = 300
IMAGE_ENDINGS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_TERRITORIES = Locale.parse("en").territories


@dataclass(frozen=True)
class Creative:
    name: str = ""
    thumb: str = ""  # an https image URL, or ""


@dataclass(frozen=True)
class Shown:
    """One value for people: `text`, and `raw` (its JSON) when the words are not simply the
    value itself; `thumb` an https image for a creative."""

    text: str
    raw: str = ""
    thumb: str = ""


def raw_json(value) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:2000]


def in_field_order(keys) -> list:
    """The distinct keys, known fields in FIELD_ORDER first, then the rest alphabetically:
    the same rows in the same order whichever database stored the value."""
    known = {key: place for place, key in enumerate(FIELD_ORDER)}
    unique = dict.fromkeys(keys)
    return sorted(unique, key=lambda k: (known.get(k, len(known)), str(k)))


def label(key: str) -> str:
    """ "geo" -> "Countries"; an unknown camelCase key -> "Bid amount"."""
    if key in LABELS:
        return LABELS[key]
    words, word = [], ""
    for char in str(key).removesuffix("Cents"):
        if char.isupper() and word:
            words.append(word)
            word = char.lower()
        else:
            word += char
    words.append(word)
    return " ".join(words).capitalize() or "Value"


def creatives_from(detail) -> dict[str, Creative]:
    """The creatives a proposal's detail describes, by adsContentId: a name (name, title,
    headline or caption) and a thumbnail when it is an http(s) image URL."""
    found: dict[str, Creative] = {}

    def visit(node, depth=0):
        if depth > 4:
            return
        if isinstance(node, dict):
            content_id = node.get("adsContentId")
            if isinstance(content_id, str) and content_id:
                found[content_id] = Creative(name=_creative_name(node), thumb=_thumb(node))
            for value in node.values():
                visit(value, depth + 1)
        elif isinstance(node, list):
            for value in node[:200]:
                visit(value, depth + 1)

    visit(detail)
    return found


def shown(key: str, value, *, creatives=None) -> Shown:
    """`value` of field `key` in words; never raises."""
    try:
        return _shown(key, value, creatives or {})
    except Exception:  # an unexpected shape: the raw JSON is the honest answer
        return Shown(text=_cut(raw_json(value)))


def delta(key: str, before, after, *, creatives=None) -> str:
    """What changed in a list: "+ Canada, − United States"; "" when not a list of plain
    values, or nothing was added or removed."""
    try:
        if not (_plain_list(before) or before is None) or not _plain_list(after):
            return ""
        before = before or []
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        name = _item_namer(key, creatives or {})
        parts = [f"+ {name(v)}" for v in added[:MAX_ITEMS]] + [
            f"− {name(v)}" for v in removed[:MAX_ITEMS]
        ]
        more = len(added) + len(removed) - len(parts)
        return ", ".join(parts) + (f" and {more} more" if more > 0 else "")
    except Exception:
        return ""


# --- the readers ------------------------------------------------------------------------


def _shown(key, value, creatives) -> Shown:
    if value is None:
        return Shown(text="—")
    if key == "age":
        return _with_raw(age_words(value), value)
    if key == "dayparts":
        return _with_raw(dayparts_words(value), value)
    if key == "geo":
        return _with_raw(_list_words(value, country_name), value)
    if key == "genders":
        return _with_raw(genders_words(value), value)
    if key == "placements":
        return _with_raw(_list_words(value, _words), value)
    if key == "customAudiences":
        return _with_raw(_list_words(value, str), value)
    if key == "adsContentId":
        return _creative_shown(value, creatives)
    if key == "adsContentIds":
        names = _list_words(value, lambda v: _creative_label(v, creatives))
        if names is None:
            return Shown(text=_cut(raw_json(value)))
        thumbs = [creatives[v].thumb for v in value if isinstance(v, str) and v in creatives]
        return Shown(text=names, raw=raw_json(value), thumb=next(filter(None, thumbs), ""))
    if key in ("startTime", "endTime"):
        return _with_raw(time_words(value), value)
    if key == "status" and isinstance(value, str):
        return Shown(text=_cut(status_words(value)))
    if key == "targeting" and isinstance(value, dict):
        return _with_raw(targeting_words(value, creatives), value)
    if isinstance(value, bool):
        return Shown(text="yes" if value else "no")
    if isinstance(value, (str, int, float)):
        return Shown(text=_cut(str(value)))
    return Shown(text=_cut(raw_json(value)))


def age_words(value) -> str | None:
    """{"min": 18, "max": 65} -> "18–65"; only min -> "18+"; only max -> "up to 65"."""
    if not isinstance(value, dict) or set(value) - {"min", "max"}:
        return None
    low, high = value.get("min"), value.get("max")
    if not all(v is None or (_int(v) and 0 <= v <= 150) for v in (low, high)):
        return None
    if low is not None and high is not None:
        return f"{low}–{high}" if low <= high else None
    if low is not None:
        return f"{low}+"
    if high is not None:
        return f"up to {high}"
    return None


def dayparts_words(value) -> str | None:
    """[{dayOfWeek, startMinute, endMinute}, …] -> "Mon–Fri 06:00–22:00"; [] -> "All day,
    every day". None when any part is not a valid day and window."""
    if not isinstance(value, list):
        return None
    if not value:
        return "All day, every day"
    windows: dict[int, list[tuple[int, int]]] = {}
    for part in value[:500]:
        if not isinstance(part, dict):
            return None
        day, start, end = part.get("dayOfWeek"), part.get("startMinute"), part.get("endMinute")
        if not (_int(day) and 0 <= day <= 6 and _int(start) and _int(end)):
            return None
        if not 0 <= start < end <= 1440:
            return None
        windows.setdefault(day, []).append((start, end))
    if len(value) > 500:
        return None
    spans = {
        day: ", ".join(f"{_hhmm(s)}–{_hhmm(e)}" for s, e in sorted(w)) for day, w in windows.items()
    }
    groups: list[tuple[list[int], str]] = []
    for day in WEEK:
        if day not in spans:
            continue
        if (
            groups
            and groups[-1][1] == spans[day]
            and WEEK.index(groups[-1][0][-1]) == WEEK.index(day) - 1
        ):
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans[day]))
    if len(groups) == 1 and len(groups[0][0]) == 7:
        return f"Every day {groups[0][1]}"
    return "; ".join(f"{_day_range(days)} {span}" for days, span in groups)


def genders_words(value) -> str | None:
    if not _plain_list(value) or not value:
        return None
    if "all" in value:
        return "All genders"
    return _cut(", ".join(_words(v) for v in value[:MAX_ITEMS])).capitalize()


def country_name(code) -> str:
    """ "CA" -> "Canada"; an unknown code stays as it came."""
    text = str(code)
    return _TERRITORIES.get(text.upper(), text) if len(text) == 2 else text


def time_words(value) -> str | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    zone = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return f"{moment:%b} {moment.day}, {moment.year} {moment:%H:%M}{zone}"


def targeting_words(value: dict, creatives) -> str | None:
    """A whole targeting block: "Countries: United States; Age 25–54"."""
    parts = []
    if not all(isinstance(key, str) for key in value):
        return None
    for key in in_field_order(value):
        words = _shown(key, value[key], creatives).text
        parts.append(f"Age {words}" if key == "age" else f"{label(key)}: {words}")
    return _cut("; ".join(parts)) if parts else None


# --- small helpers ----------------------------------------------------------------------


def _with_raw(words: str | None, value) -> Shown:
    raw = raw_json(value)
    if words is None:
        return Shown(text=_cut(raw))
    return Shown(text=words, raw=raw)


def _creative_shown(value, creatives) -> Shown:
    if not isinstance(value, str):
        return Shown(text=_cut(raw_json(value)))
    creative = creatives.get(value)
    if creative and creative.name:
        return Shown(text=_cut(creative.name), raw=raw_json(value), thumb=creative.thumb)
    return Shown(text=_cut(value), thumb=creative.thumb if creative else "")


def _creative_label(value, creatives) -> str:
    creative = creatives.get(value) if isinstance(value, str) else None
    return creative.name if creative and creative.name else str(value)


def _creative_name(node: dict) -> str:
    for field in ("name", "title", "headline", "caption"):
        text = node.get(field)
        if isinstance(text, str) and text.strip():
            return _cut(text.strip(), 120)
    return ""


def _thumb(node: dict) -> str:
    for field in ("thumbnailUrl", "imageUrl", "creativeUrl"):
        url = node.get(field)
        if isinstance(url, str) and _http_image(url, any_kind=field != "creativeUrl"):
            return url
    return ""


def _http_image(url: str, *, any_kind: bool) -> bool:
    """An https image URL (the page's CSP loads images over https only; http would be
    mixed content, and javascript:, data: and the like are never drawn)."""
    lowered = url.lower()
    if not lowered.startswith("https://") or len(url) > 2048:
        return False
    if any(c in url for c in "\"'<> \n\r\t"):
        return False
    return any_kind or lowered.split("?")[0].endswith(IMAGE_ENDINGS)


def _item_namer(key, creatives):
    if key == "geo":
        return country_name
    if key == "adsContentIds":
        return lambda v: _creative_label(v, creatives)
    if key in ("genders", "placements"):
        return _words
    return str


def _list_words(value, name) -> str | None:
    if not _plain_list(value):
        return None
    if not value:
        return "none"
    text = ", ".join(name(v) for v in value[:MAX_ITEMS])
    more = len(value) - MAX_ITEMS
    return _cut(text + (f" and {more} more" if more > 0 else ""))


def _plain_list(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    )


def _words(value) -> str:
    return str(value).replace("_", " ")


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_range(days: list[int]) -> str:
    if len(days) == 1:
        return DAYS[days[0]]
    if len(days) == 2:
        return f"{DAYS[days[0]]}, {DAYS[days[1]]}"
    return f"{DAYS[days[0]]}–{DAYS[days[-1]]}"


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
