"""{% queue_row %}: one pending action of the queue, drawn by a Python function.

A queue page draws up to 50 rows, and a decision answers with one. As a Django template a
row cost about 1.3 ms of CPU; here, same markup, about 0.35 ms (in-process; `make bench`,
measure 3, shows the whole page). The template's bytes less its whitespace: ~3.35 KB a row.

Everything from Layers goes through escape() (Django's escape text, without its lazy-text
wrapper); tests/test_hostile_text.py holds this file to that with hostile strings everywhere."""

from html import escape as html_escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timeuntil

from dashboard.money import currency_exponent
from dashboard.wording import platform_name

register = template.Library()

STATUS_PILL = {
    "pending": " pill-warn",
    "approved": " pill-ok",
    "dispatched": " pill-ok",
    "rejected": " pill-bad",
    "dispatch_failed": " pill-bad",
}
RATIONALE_FOLD = 240  # longer rationales are collapsed behind a 200-character summary


@register.simple_tag(takes_context=True)
def queue_row(context, row=None, can_decide=None):
    """The row in `row` (or the context's), with decision forms when `can_decide`."""
    row = row if row is not None else context.get("row")
    outcome = context.get("outcome")
    if not row:
        if not outcome:
            return ""
        kind = "message-success" if outcome.ok else "message-error"
        return mark_safe(f'<p class="message {kind}" role="status">{escape(outcome.sentence)}</p>')
    can_decide = context.get("can_decide") if can_decide is None else can_decide
    return mark_safe(_row(row, context, outcome, can_decide))


def escape(value) -> str:
    return html_escape(str(value))


def _words(value) -> str:
    return escape(str(value or "").replace("_", " "))


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# timeuntil's units up to a month; a pending action expires within days, and longer spans
# go to Django's own (calendar-aware) timeuntil.
UNITS = (
    ("week", "weeks", 7 * 86400),
    ("day", "days", 86400),
    ("hour", "hours", 3600),
    ("minute", "minutes", 60),
)


def _when(value) -> str:
    """{{ value|date:"M j, H:i" }}, without the template machinery (it ran 100 times a page)."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{MONTHS[local.month - 1]} {local.day}, {local.hour:02d}:{local.minute:02d}"


def _until(value, now=None) -> str:
    """Django's timeuntil ("6 days, 20 hours": two adjacent units, non-breaking spaces)."""
    seconds = int((value - (now or timezone.now())).total_seconds())
    if seconds >= 28 * 86400:
        return timeuntil(value, now)
    if seconds < 60:
        return "0\xa0minutes"
    for index, (one, many, size) in enumerate(UNITS):
        count = seconds // size
        if count:
            parts = [f"{count}\xa0{one if count == 1 else many}"]
            if index + 1 < len(UNITS):
                one2, many2, size2 = UNITS[index + 1]
                rest = (seconds - count * size) // size2
                if rest:
                    parts.append(f"{rest}\xa0{one2 if rest == 1 else many2}")
            return ", ".join(parts)
    return "0\xa0minutes"


def _row(row, context, outcome, can_decide) -> str:
    a = row.action
    pid = escape(a.pending_id)
    name = escape(a.entity_name or a.entity_id)
    hold = (context.get("holds") or {}).get(a.pending_id) if a.status == "pending" else None
    deciding = a.status == "pending" and can_decide and hold is None
    out = [
        f'<article class="action card status-{escape(a.status)}" id="pa-{pid}" '
        'tabindex="-1" hx-boost="true" '
        'hx-target="this" hx-swap="outerHTML" hx-push-url="false" hx-disabled-elt="find button">'
        '<header class="spread"><div>'
    ]
    if deciding:
        out.append(
            '<input type="checkbox" class="select" name="selected" '
            f'value="{escape(a.platform)}:{pid}" '
            f'form="bulk-form" data-change="{int(row.budget_change_cents)}" '
            f'data-currency="{escape(row.currency)}" '
            f'data-exponent="{currency_exponent(row.currency)}" '
            f'aria-label="Select {_words(a.action_type)} on {name}">'
        )
    out.append(f'<span class="action-type">{_words(a.action_type)}</span>')
    if a.axis:
        out.append(
            f' <span class="pill axis-pill" title="Authority axis">{escape(a.axis)} axis</span>'
        )
    out.append(f' <span class="pill">{escape(platform_name(a.platform))}</span>')
    new_since = context.get("new_since")
    # New: proposed after new_since; on the poll's "Show them" (sorted by arrival), reached
    # the mirror after it (one proposed earlier but synced since is new to the reader too).
    by_arrival = getattr(getattr(context.get("queue"), "filters", None), "sort", "") == "arrived"
    when = (row.arrived_at if by_arrival else None) or a.created_at
    if new_since and when and when > new_since:
        out.append(' <span class="pill pill-ok new-pill">New</span>')
    out.append(
        f'</div><span class="pill status-pill{STATUS_PILL.get(a.status, "")}">'
        f"{_words(a.status)}</span></header>"
        '<h3 class="entity">'
    )
    if row.campaign_id and not context.get("share_mode"):
        url = _queue_url(context)
        out.append(
            f'<a href="{url}?campaign={escape(quote(row.campaign_id))}'
            f'&amp;status={escape(quote(a.status))}">{name}</a>'
        )
    else:
        out.append(name)
    out.append(f' <span class="muted entity-type">{escape(a.entity_type)}</span></h3>')
    out.append(_matrix(row, name, context, can_decide))
    out.append(_notes(row, outcome))
    out.append(_changes(row))
    if a.rationale:
        text = str(a.rationale)
        if len(text) > RATIONALE_FOLD:
            out.append(
                '<details class="rationale">'
                f"<summary>{escape(Truncator(text).chars(200))}</summary>"
                f"<p>{escape(text)}</p></details>"
            )
        else:
            out.append(f'<p class="rationale">{escape(text)}</p>')
    if a.detail:
        out.append('<details class="detail"><summary>Platform details</summary>')
        if row.links:
            items = "".join(
                f'<li><a href="{escape(link)}" rel="noopener noreferrer nofollow" target="_blank">'
                f"{escape(Truncator(link).chars(80))}</a></li>"
                for link in row.links
            )
            out.append(f'<ul class="links">{items}</ul>')
        out.append(f'<pre class="mono">{escape(row.detail_json)}</pre></details>')
    out.append(_times(row))
    if a.dispatch_failure_reason:
        out.append(
            f'<p class="error">The platform refused it: {escape(a.dispatch_failure_reason)}</p>'
        )
    if hold is not None:
        out.append(_held(hold, context, can_decide))
    elif deciding:
        out.append(_forms(row, context))
    out.append("</article>")
    return "".join(out)


def _matrix(row, name, context, can_decide) -> str:
    """The campaign's mode on the three axes, the one gating this action marked (in words
    for screen readers, by weight and a mark for eyes), and a link to change it."""
    matrix = getattr(row, "authority", None)
    if matrix is None:
        return ""
    label = "Authority" if matrix.for_campaign else "Layer defaults"
    out = [f'<ul class="authority-matrix" aria-label="{label} of {name}">']
    out.append(f'<li class="matrix-label">{label}:</li>')
    for axis, mode, gating in matrix.cells:
        shown = escape(mode) if mode else "—"
        if gating:
            out.append(
                f'<li class="axis-cell gating" title="This action needs the {axis} axis">'
                f'<span class="gate-mark" aria-hidden="true">▸</span>{axis.capitalize()} '
                f'<span class="pill axis-{escape(mode)}">{shown}</span>'
                '<span class="visually-hidden"> (gates this action)</span></li>'
            )
        else:
            out.append(
                f'<li class="axis-cell">{axis.capitalize()} '
                f'<span class="pill axis-{escape(mode)}">{shown}</span></li>'
            )
    if matrix.for_campaign and matrix.source == "layer_defaults":
        out.append('<li class="small">(the layer\'s defaults)</li>')
    if matrix.change_url and not context.get("share_mode"):
        verb = "Change" if can_decide else "See"
        what = "authority" if matrix.for_campaign else "layer defaults"
        out.append(
            f'<li><a class="matrix-change" href="{escape(matrix.change_url)}">{verb}'
            f'<span class="visually-hidden"> the {what} of {name}</span></a></li>'
        )
    out.append("</ul>")
    return "".join(out)


def _queue_url(context) -> str:
    """The project's queue URL, reversed once per page rather than once per row."""
    memo = context.render_context
    if "queue_row_url" not in memo:
        memo["queue_row_url"] = reverse("queue", args=[context.get("project_id")])
    return memo["queue_row_url"]


def _notes(row, outcome) -> str:
    out = []
    if row.conflict:
        out.append(
            '<div class="banner banner-warning conflict" role="alert">'
            f"<p>{escape(row.conflict)}</p>"
        )
        if row.typed.get("comment"):
            out.append(f"<p>Your comment was not sent: <q>{escape(row.typed['comment'])}</q></p>")
        if row.typed.get("reason"):
            out.append(f"<p>Your reason was not sent: <q>{escape(row.typed['reason'])}</q></p>")
        out.append("</div>")
    if row.moved:
        out.append(_moved(row, outcome))
    elif outcome and not outcome.ok and not row.conflict:
        out.append(f'<p class="banner banner-error" role="alert">{escape(outcome.sentence)}</p>')
    if outcome and outcome.ok:
        out.append(f'<p class="decided-note" role="status">{escape(outcome.sentence)}</p>')
    return "".join(out)


def _moved(row, outcome) -> str:
    """The three values side by side when the campaign moved since the reviewer looked."""
    cells = "".join(
        f'<tr><th scope="row">{escape(m.label)}</th><td class="mono">{escape(m.seen)}</td>'
        f'<td class="mono moved-now">{escape(m.now)}</td>'
        f'<td class="mono">{escape(m.proposed)}</td></tr>'
        for m in row.moved
    )
    sentence = outcome.sentence if outcome else "The campaign changed since you opened this row."
    return (
        '<div class="banner banner-warning moved" role="alert">'
        f"<p>{escape(sentence)}</p>"
        '<table class="changes moved-table"><thead><tr><th scope="col">Field</th>'
        '<th scope="col">You saw</th><th scope="col">Now</th><th scope="col">Proposed</th>'
        f"</tr></thead><tbody>{cells}</tbody></table></div>"
    )


def _changes(row) -> str:
    cells = []
    for change in row.changes:
        delta = ""
        if change.percent is not None:
            sign, kind = ("+", "up") if change.percent > 0 else ("", "down")
            delta = (
                f' <span class="delta {kind}">({sign}{formats.localize(change.percent)}%)</span>'
            )
        if change.delta:
            delta += f' <span class="list-delta">({escape(change.delta)})</span>'
        cells.append(
            f'<tr><th scope="row">{escape(change.label)}</th>'
            f'<td class="value">{_value(change.current, change.current_raw, change.current_thumb)}'
            "</td>"
            f'<td class="value">{_value(change.new, change.new_raw, change.new_thumb)}{delta}'
            "</td></tr>"
        )
    body = "".join(cells) or '<tr><td colspan="3" class="muted">No values given.</td></tr>'
    now = "When proposed" if row.moved else "Now"  # "now" is the moved table's, then
    table = (
        '<table class="changes"><thead><tr><th scope="col">Field</th>'
        f'<th scope="col">{now}</th>'
        f'<th scope="col">Proposed</th></tr></thead><tbody>{body}</tbody></table>'
    )
    if row.stale_now and not row.moved:
        table += (
            f'<p class="banner banner-warning stale" role="note">Changed since proposed: the '
            f"{escape(row.stale_now)}. Check before approving.</p>"
        )
    return table


def _value(text: str, raw: str, thumb: str) -> str:
    """A value in words, a creative's thumbnail, and the raw JSON one click away."""
    out = []
    if thumb:
        out.append(
            f'<img class="thumb" src="{escape(thumb)}" alt="" width="40" height="40" '
            'loading="lazy" referrerpolicy="no-referrer"> '
        )
    out.append(f'<span class="words">{escape(text)}</span>')
    if raw and raw != text:
        out.append(
            f'<details class="raw"><summary>Raw value</summary><code class="mono">{escape(raw)}'
            "</code></details>"
        )
    return "".join(out)


def _times(row) -> str:
    a = row.action
    out = [f'<p class="times muted">Proposed {_when(a.created_at)}']
    if a.source:
        out.append(f" by {escape(a.source)}")
    if a.status == "pending" and a.expires_at:
        soon = row.expires_soon
        out.append(
            f' · <span class="{"expiring" if soon else ""}">expires {_until(a.expires_at)} from now'
            f"{' — decide today' if soon else ''}</span>"
        )
    if a.decided_at:
        decided_by = a.decided_by if isinstance(a.decided_by, dict) else {}
        who = decided_by.get("username") or decided_by.get("actorType")
        out.append(f" · decided {_when(a.decided_at)}" + (f" by {escape(who)}" if who else ""))
    if a.dispatched_at:
        out.append(f" · reached the platform {_when(a.dispatched_at)}")
    out.append("</p>")
    return "".join(out)


def _held(hold, context, can_undo) -> str:
    """ "Approved — sending in 8 s · Undo": the decision waits in the database; the page
    counts down (static/js/app.js) and asks the server what happened when the window ends."""
    from dashboard.services.holds import hold_remaining

    project_id = context.get("project_id")
    seconds = hold_remaining(hold)
    verb = "Approved" if hold.decision == "approve" else "Rejected"
    if hold.bulk_id:
        url = escape(reverse("queue-bulk", args=[project_id, hold.bulk_id]))
        return (
            f'<div class="banner banner-info held" role="status"><span>{verb} in a bulk '
            f'decision — <span class="countdown" data-seconds="{seconds}">sending in {seconds} s'
            f'</span></span> · <a href="{url}" hx-boost="false">Undo on its page</a></div>'
        )
    status_url = escape(reverse("queue-hold", args=[project_id, hold.id]))
    undo = ""
    if can_undo:
        token = context.get("csrf_token")
        csrf = ""
        if token and str(token) != "NOTPROVIDED":
            csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'
        undo_url = escape(reverse("queue-hold-undo", args=[project_id, hold.id]))
        undo = (
            f' · <form method="post" action="{undo_url}" class="undo-form">{csrf}'
            '<button class="link undo">Undo</button></form>'
        )
    return (
        f'<div class="banner banner-info held" role="status" hx-get="{status_url}" '
        f'hx-trigger="load delay:{seconds + 1}s" hx-target="closest article" '
        f'hx-swap="outerHTML"><span class="held-words">{verb} — <span class="countdown" '
        f'data-seconds="{seconds}">'
        f"{'sending now' if not seconds else f'sending in {seconds} s'}</span></span>{undo}</div>"
    )


def _forms(row, context) -> str:
    a = row.action
    url = escape(
        reverse(
            context.get("decide_url_name") or "queue-decide",  # the inbox posts to its own
            args=[context.get("project_id"), a.platform, a.pending_id],
        )
    )
    token = context.get("csrf_token")
    csrf = ""
    if token and str(token) != "NOTPROVIDED":  # as {% csrf_token %} does
        csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'
    comment, reason = escape(row.typed.get("comment") or ""), escape(row.typed.get("reason") or "")
    seen_json = row.seen_json
    seen = f'<input type="hidden" name="seen" value="{escape(seen_json)}">' if seen_json else ""
    return (
        f'<div class="decide row"><form method="post" action="{url}" class="approve-form">{csrf}'
        f'<input type="hidden" name="decision" value="approve">'
        f'<input type="hidden" name="idempotency_key" value="{escape(row.approve_key)}">'
        f"{seen}"
        '<input name="comment" aria-label="Comment (optional)" placeholder="Comment (optional)" '
        f'value="{comment}" maxlength="1000"> '
        f'<button class="primary">{"Approve anyway" if row.moved else "Approve"}</button></form> '
        f'<form method="post" action="{url}" class="reject-form">{csrf}'
        f'<input type="hidden" name="decision" value="reject">'
        f'<input type="hidden" name="idempotency_key" value="{escape(row.reject_key)}">'
        '<input name="reason" aria-label="Reason for rejecting (required)" '
        'placeholder="Reason (required to reject)" '
        f'list="reject-reasons" value="{reason}" maxlength="1000"> '
        f'<button class="danger">Reject</button><span class="quick-reasons"></span></form></div>'
    )
