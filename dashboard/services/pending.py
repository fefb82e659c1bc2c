"""The pending-actions queue: one list per project across platforms, and the decisions.

Reads are shared through the cache (many reviewers, one upstream call per window); every
decision carries the idempotency key its form was rendered with, so a double click, a
retry or a resubmitted form never decides twice."""

import base64
import binascii
import dataclasses
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.core.cache import cache
from django.utils import timezone

from dashboard.layers import (
    PLATFORMS,
    Conflict,
    IdempotencyConflict,
    LayersError,
    NotFound,
    ValidationFailed,
)
from dashboard.models import DecisionRecord, Role
from dashboard.money import cents_format
from dashboard.services import access
from dashboard.services.projects import (
    accounts_get,
    campaigns_get,
    project_get,
    project_platforms,
    whoami_get,
)
from dashboard.services.upstream import (
    cached_read,
    fan_out,
    layers,
    project_cache_bump,
    project_stamp,
)

STATUSES = ("pending", "approved", "rejected", "dispatched", "dispatch_failed")
ACTION_TYPES = (
    "update_budget",
    "pause_ad",
    "pause_adset",
    "push_creative",
    "replace_creative",
    "prune_creative",
    "update_targeting",
    "update_schedule",
)
SORTS = {"newest": "Newest first", "expiring": "Expiring soonest", "money": "Largest money change"}
REJECT_REASONS = (
    "Not aligned with the customer's goals",
    "Budget change too large",
    "Creative not approved by the customer",
    "Needs more data first",
)
PAGE_SIZE = 50
RECORD_SECONDS = 3600  # how long a fetched action is remembered for re-rendering its row


@dataclass(frozen=True)
class QueueFilters:
    platform: str = ""  # "" = every platform of the project
    status: str = "pending"
    action_type: str = ""
    campaign: str = ""  # entity id of the campaign
    sort: str = "newest"
    cursor: str = ""

    @classmethod
    def from_query(cls, query) -> "QueueFilters":
        def pick(name, allowed, default=""):
            value = (query.get(name) or "").strip()
            return value if value in allowed else default

        return cls(
            platform=pick("platform", ("meta", "tiktok", "apple")),
            status=pick("status", STATUSES, "pending"),
            action_type=pick("action", ACTION_TYPES),
            campaign=(query.get("campaign") or "").strip()[:80],
            sort=pick("sort", tuple(SORTS), "newest"),
            cursor=(query.get("cursor") or "").strip()[:2000],
        )

    def query(self, **changes) -> dict:
        """The query-string form of these filters (empty values left out)."""
        values = dataclasses.asdict(dataclasses.replace(self, **changes))
        values["action"] = values.pop("action_type")
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class Change:
    """One field of the proposal: what it is now and what the optimizer wants."""

    label: str
    current: str
    new: str
    percent: float | None = None


@dataclass(frozen=True)
class QueueRow:
    action: object  # PendingAction
    currency: str
    campaign_id: str | None
    changes: tuple[Change, ...]
    money_delta_cents: int = 0  # size of the money change, for sorting
    budget_change_cents: int = 0  # signed budget change, for the selection's exposure
    stale_now: str | None = None  # the entity's value now, when it differs from the proposal's
    links: tuple[str, ...] = ()  # http(s) creative URLs found in the detail
    conflict: str | None = None  # a sentence when someone else decided first
    typed: dict = field(default_factory=dict)  # what the person typed, kept after a failure
    # Each decision form owns a key from the moment it is rendered (see module docstring).
    approve_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    reject_key: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def expires_soon(self) -> bool:
        expires = self.action.expires_at
        return bool(
            expires
            and self.action.status == "pending"
            and expires - timezone.now() < timedelta(hours=24)
        )

    @property
    def detail_json(self) -> str:
        return json.dumps(self.action.detail, indent=2, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Queue:
    rows: tuple[QueueRow, ...]
    filters: QueueFilters
    platforms: tuple[str, ...]
    counts: dict  # platform -> pending count (None when unknown)
    next_cursor: str | None
    campaigns: tuple = ()  # for the campaign filter
    errors: tuple[LayersError, ...] = ()
    role: str = "viewer"
    bulk_key: str = field(default_factory=lambda: str(uuid.uuid4()))  # the bulk form's own key
    key_may_decide: bool = True  # the Layers key holds ads:write:pending

    @property
    def total_pending(self) -> int:
        return sum(c for c in self.counts.values() if c)

    @property
    def can_decide(self) -> bool:
        return self.key_may_decide and access.role_allows(self.role, Role.APPROVER)

    @property
    def filters_query(self) -> str:
        return urlencode(self.filters.query(cursor=""))

    @property
    def more_query(self) -> str:
        return urlencode(self.filters.query(cursor=self.next_cursor or ""))


def pending_queue(*, user, project_id: str, filters: QueueFilters) -> Queue:
    role = access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    platforms = [filters.platform] if filters.platform else project_platforms(project)
    cursors = _cursor_decode(filters.cursor)
    calls = {
        "accounts": lambda: accounts_get(project_id),
        "campaigns": lambda: campaigns_get(project_id),
        "whoami": whoami_get,
    }
    for platform in project_platforms(project):
        calls[f"count:{platform}"] = _count_reader(project_id, platform)
    for platform in platforms:
        if filters.cursor and platform not in cursors:
            continue  # this platform's list is exhausted
        calls[f"list:{platform}"] = _list_reader(
            project_id, platform, filters, cursors.get(platform)
        )
    results = fan_out(calls)

    errors = [r for r in results.values() if isinstance(r, LayersError)]
    accounts = _ok(results["accounts"], [])
    campaigns = _ok(results["campaigns"], [])
    context = _RowContext(accounts=accounts, campaigns=campaigns)
    rows, next_cursors = [], {}
    for platform in platforms:
        page = results.get(f"list:{platform}")
        if page is None or isinstance(page, LayersError):
            continue
        for action in page.items:
            if filters.campaign and _campaign_of(action) != filters.campaign:
                continue
            rows.append(context.row(action))
        if page.next_cursor:
            next_cursors[platform] = page.next_cursor
    rows = _sorted(rows, filters.sort)
    counts = {p: _ok(results[f"count:{p}"], None) for p in project_platforms(project)}
    return Queue(
        rows=tuple(rows),
        filters=filters,
        platforms=tuple(project_platforms(project)),
        counts=counts,
        next_cursor=_cursor_encode(next_cursors),
        campaigns=tuple(sorted(campaigns, key=lambda c: c.name.lower())),
        errors=tuple(errors),
        role=role,
        key_may_decide=isinstance(results["whoami"], LayersError)
        or results["whoami"].has_scope("ads:write:pending"),
    )


def pending_stamp(*, user, project_id: str) -> str:
    """The queue's change stamp (see upstream.project_stamp): read it before the queue."""
    access.access_require(user=user, project_id=project_id)
    return project_stamp(project_id)


def pending_new_count(*, user, project_id: str, filters: QueueFilters, since) -> int:
    """How many actions matching the filters were proposed after `since`. Reads the same
    shared cached first pages as the queue, so polling costs no extra upstream calls."""
    access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    platforms = [filters.platform] if filters.platform else project_platforms(project)
    results = fan_out({p: _list_reader(project_id, p, filters, None) for p in platforms})
    return sum(
        1
        for page in results.values()
        if not isinstance(page, LayersError)
        for action in page.items
        if action.created_at
        and action.created_at > since
        and (not filters.campaign or _campaign_of(action) == filters.campaign)
    )


def pending_counts(*, user, project_id: str) -> dict:
    access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    platforms = project_platforms(project)
    results = fan_out({p: _count_reader(project_id, p) for p in platforms})
    return {p: _ok(results[p], None) for p in platforms}


@dataclass(frozen=True)
class DecisionOutcome:
    row: QueueRow | None
    sentence: str
    ok: bool


def pending_decide(
    *,
    user,
    project_id: str,
    platform: str,
    pending_id: str,
    decision: str,
    text: str = "",
    idempotency_key: str,
) -> DecisionOutcome:
    """Approve or reject one action. Never decides twice for one idempotency key."""
    access.access_require(user=user, project_id=project_id, action="decide")
    if decision not in ("approve", "reject") or platform not in PLATFORMS:
        return DecisionOutcome(
            row=None, sentence="That decision could not be understood; reload the queue.", ok=False
        )
    try:
        idempotency_key = str(uuid.UUID(idempotency_key))
    except ValueError:
        idempotency_key = str(uuid.uuid4())  # a hand-made post: still decided only once from here
    text = (text or "").strip()[:1000]
    typed = {"comment" if decision == "approve" else "reason": text}
    keys = {f"{decision}_key": idempotency_key}

    def again(sentence: str) -> DecisionOutcome:
        row = _row_again(project_id, platform, pending_id, typed=typed, keys=keys)
        return DecisionOutcome(row=row, sentence=sentence, ok=False)

    if decision == "reject" and not text:
        return again("Say why you are rejecting it: the reason is shown to the customer.")
    record, _ = DecisionRecord.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "user": user,
            "project_id": project_id,
            "platform": platform,
            "action": decision,
            "entity_id": pending_id,
            "note": text,
        },
    )
    client = layers()
    signed = decision_text(text, person=user.get_username())
    try:
        if decision == "approve":
            result = client.pending_approve(
                project_id=project_id,
                platform=platform,
                pending_id=pending_id,
                comment=signed,
                idempotency_key=idempotency_key,
            )
        else:
            result = client.pending_reject(
                project_id=project_id,
                platform=platform,
                pending_id=pending_id,
                reason=signed,
                idempotency_key=idempotency_key,
            )
    except Conflict as error:
        record.outcome = "conflict"
        record.save(update_fields=["outcome"])
        project_cache_bump(project_id, area="pending")
        row = _row_after_conflict(project_id, platform, pending_id, error, typed)
        return DecisionOutcome(row=row, sentence=row.conflict, ok=False)
    except IdempotencyConflict:
        # This form was sent before with other words (edited after a lost answer): Layers kept
        # the first and will never take this key again. Show what is true now, not "try again".
        project_cache_bump(project_id, area="pending")
        fresh = _find(project_id, platform, pending_id)
        if fresh is None or fresh.status == "pending":
            return again(
                "Layers is still working on the first time this form was sent; "
                "reload the queue in a moment."
            )
        record.outcome = fresh.status
        record.save(update_fields=["outcome"])
        sentence = (
            "Your first attempt reached Layers: "
            f"this action is already {fresh.status.replace('_', ' ')}. "
            "The edited words were not sent."
        )
        return DecisionOutcome(
            row=_row_for(project_id, fresh, conflict=sentence, typed=typed),
            sentence=sentence,
            ok=False,
        )
    except (NotFound, ValidationFailed) as error:
        return again(error.message)
    except LayersError as error:
        # Timeouts, 5xx, rate limits: nothing is lost, and the same key makes a retry safe.
        return again(f"{error.message} What you typed is kept: try again.")
    record.verdict_id = result.verdict_id or ""
    record.outcome = result.status
    record.save(update_fields=["verdict_id", "outcome"])
    project_cache_bump(project_id, area="pending")
    action = _recall(project_id, pending_id) or _find(
        project_id, platform, pending_id, (result.status, *STATUSES)
    )
    row = None
    if action is not None:
        action = dataclasses.replace(
            action,
            status=result.status,
            dispatched_at=result.dispatched_at,
            decided_at=timezone.now(),
            decided_by={"actorType": "partner", "username": user.get_username()},
        )
        _remember(project_id, action)
        row = _row_for(project_id, action)
    verb = "Approved" if decision == "approve" else "Rejected"
    return DecisionOutcome(row=row, sentence=f"{verb}. Verdict {result.verdict_id}.", ok=True)


# --- helpers ---------------------------------------------------------------------------


class _RowContext:
    """What a row needs beyond the action: currencies and the campaigns' values now."""

    def __init__(self, *, accounts, campaigns):
        self.currency_by_account = {a.ad_account_id: a.currency for a in accounts}
        self.currency_by_platform = {}
        for a in accounts:
            self.currency_by_platform.setdefault(a.platform, a.currency)
        self.campaigns = {c.campaign_id: c for c in campaigns}

    def currency(self, action) -> str:
        campaign = self.campaigns.get(_campaign_of(action) or "")
        if campaign is not None and campaign.ad_account_id in self.currency_by_account:
            return self.currency_by_account[campaign.ad_account_id]
        return self.currency_by_platform.get(action.platform, "USD")

    def row(self, action, **extra) -> QueueRow:
        currency = self.currency(action)
        changes, delta, signed = _changes(action, currency)
        return QueueRow(
            action=action,
            currency=currency,
            campaign_id=_campaign_of(action),
            changes=changes,
            money_delta_cents=delta,
            budget_change_cents=signed,
            stale_now=self.stale(action, currency),
            links=tuple(_http_links(action.detail)),
            **extra,
        )

    def stale(self, action, currency) -> str | None:
        """The campaign's value now, when it no longer matches what the proposal assumed."""
        if action.entity_type != "campaign" or action.status != "pending":
            return None
        campaign = self.campaigns.get(action.entity_id)
        if campaign is None:
            return None
        assumed = action.current_value or {}
        if (
            "dailyBudgetCents" in assumed
            and assumed["dailyBudgetCents"] != campaign.daily_budget_cents
        ):
            return f"daily budget is {cents_format(campaign.daily_budget_cents, currency)} now"
        if "status" in assumed and assumed["status"] != campaign.status:
            return f"status is {campaign.status} now"
        return None


def _campaign_of(action) -> str | None:
    """The campaign an action concerns: itself, or the campaign named in its detail."""
    if action.entity_type == "campaign":
        return action.entity_id
    detail_campaign = (action.detail or {}).get("campaignId")
    return detail_campaign if isinstance(detail_campaign, str) else None


def _changes(action, currency) -> tuple[tuple[Change, ...], int, int]:
    """The fields side by side, the size of the money change and its signed amount."""
    current, new = action.current_value or {}, action.new_value or {}
    changes, delta, signed = [], 0, 0
    for key in dict.fromkeys([*current, *new]):
        before, after = current.get(key), new.get(key)
        if key.endswith("Cents") and isinstance(before, int) and isinstance(after, int):
            percent = round((after - before) * 100 / before, 1) if before else None
            delta += abs(after - before)
            signed += after - before
            changes.append(
                Change(
                    _label(key),
                    cents_format(before, currency),
                    cents_format(after, currency),
                    percent,
                )
            )
        else:
            changes.append(Change(_label(key), _plain(before), _plain(after)))
    return tuple(changes), delta, signed


def _label(key: str) -> str:
    words, word = [], ""
    for char in key.removesuffix("Cents"):
        if char.isupper() and word:
            words.append(word)
            word = char.lower()
        else:
            word += char
    words.append(word)
    return " ".join(words).capitalize()


def _plain(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _http_links(detail, depth=0):
    """Creative URLs in the detail, only when they are http(s)."""
    if depth > 4:
        return
    if isinstance(detail, dict):
        values = detail.values()
    elif isinstance(detail, list):
        values = detail
    else:
        return
    for value in values:
        if (
            isinstance(value, str)
            and value.lower().startswith(("https://", "http://"))
            and len(value) < 2048
        ):
            yield value
        elif isinstance(value, (dict, list)):
            yield from _http_links(value, depth + 1)


def _sorted(rows, sort):
    if sort == "expiring":
        far = timezone.now() + timedelta(days=3650)
        return sorted(rows, key=lambda r: r.action.expires_at or far)
    if sort == "money":
        return sorted(rows, key=lambda r: r.money_delta_cents, reverse=True)
    epoch = timezone.now() - timedelta(days=3650)
    return sorted(rows, key=lambda r: r.action.created_at or epoch, reverse=True)


def _ok(value, default):
    return default if isinstance(value, LayersError) else value


def _count_reader(project_id, platform):
    return lambda: cached_read(
        project_id,
        f"pending-count:{platform}",
        lambda: layers().pending_count(project_id=project_id, platform=platform),
    )


def _list_reader(project_id, platform, filters, cursor):
    name = f"pending:{platform}:{filters.status}:{filters.action_type}:{cursor or ''}"

    def fetch():
        page = layers().pending_list(
            project_id=project_id,
            platform=platform,
            statuses=[filters.status],
            action_type=filters.action_type or None,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        _remember_many(project_id, page.items)  # once per fetch, not on every page view
        return page

    return lambda: cached_read(project_id, name, fetch)


def _cursor_encode(cursors: dict) -> str | None:
    if not cursors:
        return None
    return base64.urlsafe_b64encode(json.dumps(cursors, sort_keys=True).encode()).decode()


def _cursor_decode(text: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, binascii.Error):
        return {}
    return (
        {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(value, dict)
        else {}
    )


def decision_text(text: str, *, person: str) -> str:
    """What Layers stores with the decision names the person, so the customer's audit
    shows who decided and not only "partner"."""
    signature = f"{person} via the partner dashboard"
    return f"{text} — {signature}" if text else f"Decided by {signature}"


def pending_matching(*, project_id: str, filters: QueueFilters, limit: int) -> list:
    """Every action matching the filters, across pages (for "select all N matching")."""
    project = layers().project_get(project_id=project_id)
    platforms = [filters.platform] if filters.platform else project_platforms(project)
    client = layers()
    found = []
    for platform in platforms:
        for action in client.iter_pages(
            client.pending_list,
            project_id=project_id,
            platform=platform,
            statuses=[filters.status],
            action_type=filters.action_type or None,
            limit=100,
            max_pages=limit // 100 + 1,
        ):
            if filters.campaign and _campaign_of(action) != filters.campaign:
                continue
            found.append(action)
            if len(found) >= limit:
                break
        if len(found) >= limit:
            break
    _remember_many(project_id, found)  # one cache write for up to 2,000, not one each
    return found


def pending_recall(project_id: str, pending_id: str):
    """The last version of an action this dashboard saw, if it still remembers it."""
    return _recall(project_id, pending_id)


def _remember(project_id, action):
    cache.set(f"pending:record:{project_id}:{action.pending_id}", action, timeout=RECORD_SECONDS)


def _remember_many(project_id, actions):
    cache.set_many(
        {f"pending:record:{project_id}:{a.pending_id}": a for a in actions}, timeout=RECORD_SECONDS
    )


def _recall(project_id, pending_id):
    return cache.get(f"pending:record:{project_id}:{pending_id}")


def _context(project_id) -> _RowContext:
    accounts = accounts_get(project_id)
    return _RowContext(accounts=accounts, campaigns=campaigns_get(project_id))


def _row_for(project_id, action, **extra) -> QueueRow:
    return _context(project_id).row(action, **extra)


def _row_again(project_id, platform, pending_id, *, typed, keys) -> QueueRow | None:
    """The same row, its form keeping its idempotency key and what the person typed."""
    action = _recall(project_id, pending_id) or _find(
        project_id, platform, pending_id, ("pending", *STATUSES)
    )
    return _row_for(project_id, action, typed=typed, **keys) if action else None


def _row_after_conflict(
    project_id, platform, pending_id, error: Conflict, typed
) -> QueueRow | None:
    fresh = _find(project_id, platform, pending_id, (error.current_status, *STATUSES))
    status = error.current_status or (fresh.status if fresh else "decided")
    who = ""
    decided_by = error.decided_by or (fresh.decided_by if fresh else None)
    if isinstance(decided_by, dict) and decided_by.get("actorType"):
        who = f" by {decided_by['actorType']}"
    when = error.decided_at or (fresh.decided_at if fresh else None)
    when_text = f" at {timezone.localtime(when):%b %-d, %H:%M}" if when else ""
    sentence = (
        "Someone else decided first: "
        f"this action is already {status.replace('_', ' ')}{who}{when_text}."
    )
    if fresh is None:
        action = _recall(project_id, pending_id)
        if action is None:
            return None
        fresh = dataclasses.replace(action, status=status, decided_at=when, decided_by=decided_by)
    _remember(project_id, fresh)
    return _row_for(project_id, fresh, conflict=sentence, typed=typed)


def _find(project_id, platform, pending_id, statuses=STATUSES):
    """Looks the action up upstream (there is no single-action GET): in the statuses it can
    be in, the likeliest first, so a lookup usually costs one list read."""
    client = layers()
    for status in dict.fromkeys(s for s in statuses if s):
        for action in client.iter_pages(
            client.pending_list,
            project_id=project_id,
            platform=platform,
            statuses=[status],
            limit=200,
            max_pages=10,
        ):
            if action.pending_id == pending_id:
                _remember(project_id, action)
                return action
    return None
