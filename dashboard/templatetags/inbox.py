"""{% inbox_rows inbox %}: the inbox's lines, one per pending action, drawn by a Python
function (like {% queue_row %}): a page is 50 lines, every polling person redraws them,
and a template per line would cost several times the markup's own price.

A line holds only what a glance needs (customer, platform, action, current → proposed,
spend change per day, axis, expiry); the rationale, details and forms are one request away
(the Details link: htmx puts them under the line; without JavaScript it is a page).
Everything that came from Layers goes through escape()."""

from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from dashboard import values
from dashboard.money import browser_locale, cents_format, change_percent, currency_exponent
from dashboard.services.mirror_stamp import stamp_cached
from dashboard.wording import platform_name

register = template.Library()
PLACE = "__P__"  # stands in for the path parts while the detail URL is reversed once


@register.simple_tag(takes_context=True)
def inbox_rows(context, inbox):
    """The page's lines. They hold nothing of the viewer beyond what the page's cache key
    holds (roles decide the boxes), so everyone on the same page shares one drawing until
    the mirror's next write (without the "New" marks, which are the viewer's own)."""
    new_since = context.get("new_since")

    def draw():
        detail = reverse("inbox-detail", args=[PLACE + "1", PLACE + "2", PLACE + "3"])
        now = timezone.now()
        return "".join(inbox_line(row, detail, now, new_since) for row in inbox.rows)

    key = f"{inbox.cache_key}:lines" if inbox.cache_key and not new_since else None
    return mark_safe(stamp_cached(key, draw))


@register.simple_tag
def inbox_customer_options(inbox):
    """The customer filter's options (one per customer the person may see: 200 and more
    for a partner team), drawn once per page key like the lines."""

    def draw():
        chosen = inbox.filters.customer
        return "".join(
            f'<option value="{escape(pid)}"{" selected" if pid == chosen else ""}>'
            f"{escape(_cut(name or pid, 40))}</option>"
            for pid, name in inbox.customers
        )

    key = f"{inbox.cache_key}:customers" if inbox.cache_key else None
    return mark_safe(stamp_cached(key, draw))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change(row) -> str:
    """The first field that changes, "current → proposed", and how many more do."""
    current, new = row.current_value, row.new_value
    keys = [k for k in dict.fromkeys([*current, *new]) if current.get(k) != new.get(k)]
    if not keys:
        return ""
    key = keys[0]
    before, after = current.get(key), new.get(key)
    more = f" (+{len(keys) - 1})" if len(keys) > 1 else ""
    percent = change_percent(before, after) if key.endswith("Cents") else None
    if percent is not None and not row.currency:
        # The unit is not known yet (not even its decimals): the change's size, no amounts.
        return f"{values.label(key)} {percent:+.1f}% (currency not read yet){more}"
    if key.endswith("Cents") and isinstance(after, int) and not isinstance(after, bool):
        was = cents_format(before, row.currency, locale=row.locale) if before is not None else "—"
        now = cents_format(after, row.currency, locale=row.locale)
    else:
        was = values.shown(key, before).text if before is not None else "—"
        now = values.shown(key, after).text
    text = f"{_cut(was, 28)} → {_cut(now, 28)}{more}"
    return f"{values.label(key)}: {text}" if not key.endswith("Cents") else text


def _spend(row) -> str:
    minor = row.spend_change_minor
    if not minor or not row.currency:
        return ""
    sign = "+" if minor > 0 else "−"
    return sign + cents_format(abs(minor), row.currency, locale=row.locale)


def _expiry(row, now) -> str:
    if not row.expires_at:
        return ""
    seconds = int((row.expires_at - now).total_seconds())
    if seconds <= 0:
        return "expired"
    if seconds < 3600:
        return f"{max(1, seconds // 60)}\xa0min"
    if seconds < 86400:
        return f"{seconds // 3600}\xa0h"
    return f"{seconds // 86400}\xa0d {seconds % 86400 // 3600}\xa0h"


def inbox_line(row, detail: str, now, new_since=None) -> str:
    pid = escape(row.pending_id)
    project = escape(row.project_id)
    platform = escape(row.platform)
    url = detail.replace(PLACE + "1", escape(quote(row.project_id, safe="")))
    url = url.replace(PLACE + "2", escape(quote(row.platform, safe="")))
    url = url.replace(PLACE + "3", escape(quote(row.pending_id, safe="")))
    soon = row.expires_soon
    name = escape(_cut(row.entity_name, 48))
    action = escape((row.action_type or "").replace("_", " "))
    if row.can_decide and row.status == "pending":
        box = (
            f'<input type="checkbox" class="select" name="selected" form="bulk-form" '
            f'value="{project}:{platform}:{pid}" data-change="{int(row.spend_change_minor or 0)}" '
            f'data-currency="{escape(row.currency)}" '
            f'data-exponent="{currency_exponent(row.currency) if row.currency else 2}" '
            f'data-locale="{escape(browser_locale(row.locale))}" '
            f'aria-label="Select {action} on {name}">'
        )
    else:
        box = ""
    new = (
        ' <span class="pill pill-ok">New</span>'
        if new_since and row.first_seen_at and row.first_seen_at > new_since
        else ""
    )
    return (
        f'<tr id="ix-{pid}" class="ix{" soon" if soon else ""}" tabindex="-1">'
        f"<td>{box}</td>"
        f'<td class="ix-cust">{escape(_cut(row.project_name, 28))}</td>'
        f"<td>{escape(platform_name(row.platform))}</td>"
        f"<td><b>{action}</b> {name}{new}</td>"
        f'<td class="ix-chg">{escape(_change(row))}</td>'
        f'<td class="num">{escape(_spend(row))}</td>'
        f"<td>{escape(row.axis)}</td>"
        f'<td class="{"expiring" if soon else "muted"}">{_expiry(row, now)}</td>'
        f'<td><a href="{url}" hx-get="{url}" class="ix-open">Details</a></td></tr>'
    )


@register.filter
def abs_minor(value):
    """{{ minor|abs_minor }}: the size of a signed amount (the sign is written apart)."""
    return abs(int(value or 0))
