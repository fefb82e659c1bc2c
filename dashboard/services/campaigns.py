"""Campaigns: the list with each campaign's authority block, the campaign page, its writes
(authority, budget, pause, resume, delete), campaign creation and following a write's job.

Every write carries the idempotency key its form was rendered with (a double click or a
resubmitted form writes once), is recorded as a DecisionRecord joined to Layers' verdict,
and comes back as an Outcome saying what really happened: applied, queued for approval,
denied with the gate's reason, or refused before it left (validation)."""

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.http import Http404
from django.utils import timezone

from dashboard.display import platform_name
from dashboard.layers import (
    PLATFORMS,
    AuthorityDenied,
    ForbiddenScope,
    LayersBadResponse,
    LayersConnectionError,
    LayersError,
    LayersTimeout,
    ValidationFailed,
)
from dashboard.models import DecisionRecord, Role
from dashboard.money import cents_format, money_parse
from dashboard.services import access, pending
from dashboard.services.projects import accounts_get, campaigns_get, project_get, project_platforms
from dashboard.services.upstream import cached_read, fan_out, layers, project_cache_bump

AXES = ("creative", "tactical", "structural")
MODES = ("off", "draft", "auto")
AXIS_WORDS = {
    "creative": "push, replace and prune creatives; targeting",
    "tactical": "budgets, bids and schedules",
    "structural": "create, pause, resume and delete campaigns",
}
MODE_WORDS = {
    "off": "Off: partners cannot change this",
    "draft": "Draft: changes wait for approval in the queue",
    "auto": "Auto: changes reach the platform unreviewed",
}
STATUSES = ("active", "paused", "archived", "deleted", "in_review", "rejected")
OUTCOMES = ("conversions", "traffic", "app_installs", "engagement", "lead_generation")
CREATE_MODES = {
    "manual": (
        "off",
        "You run it by hand: partners and the optimizer cannot change it (axes off).",
    ),
    "draft": (
        "draft",
        "Every change is proposed and waits in the queue for a person to approve (axes draft).",
    ),
    "autopilot": ("auto", "Changes go straight to the platform without review (axes auto)."),
}
OUTCOME_LABELS = (
    ("conversions", "Conversions: purchases or sign-ups"),
    ("traffic", "Traffic: visits to a website"),
    ("app_installs", "App installs"),
    ("engagement", "Engagement: likes, comments, shares"),
    ("lead_generation", "Leads: people leaving their details"),
)
WRITES = ("budget", "pause", "resume", "delete")
CONSENT_SECONDS = 6 * 3600
FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)

REASON_SENTENCES = {
    "authority_axis_off": (
        "The customer has set the {axis} axis to off, so partners cannot make this change."
    ),
    "kill_switch_active": (
        "The customer has frozen all partner writes on {platform} (kill switch). "
        "Only the customer can turn it back on."
    ),
    "partner_consent_missing": (
        "The customer has not yet agreed to partner changes on {platform}. "
        "They switch this on once, in their Layers dashboard."
    ),
    "partner_escalation_forbidden": (
        "A partner cannot raise the {axis} axis above what the customer allows."
    ),
}


# --- shared by every write: keys, reasons, consent -----------------------------------------


def key_clean(text: str | None) -> str:
    """The form's idempotency key, or a fresh one for a hand-made post."""
    try:
        return str(uuid.UUID(str(text or "")))
    except ValueError:
        return str(uuid.uuid4())


def new_key() -> str:
    return str(uuid.uuid4())


def reason_sentence(error: LayersError, platform: str) -> str:
    """The gate's refusal in words a person acts on."""
    if isinstance(error, ForbiddenScope):
        scope = (
            (error.details or {}).get("requiredScope") if isinstance(error.details, dict) else None
        )
        needed = f" (it needs the {scope} scope)" if scope else ""
        return (
            f"The dashboard's Layers key is not allowed to do this{needed}. "
            "Ask Layers to add the scope to the key."
        )
    reason = getattr(error, "reason", None)
    axis = getattr(error, "axis", None) or "this"
    template = REASON_SENTENCES.get(reason or "")
    if template:
        return template.format(axis=axis, platform=platform_name(platform))
    return error.message


def consent_missing(project_id: str, platform: str) -> bool:
    """Known only after Layers denied a write for it (there is no field to read)."""
    return bool(cache.get(f"consent-missing:{project_id}:{platform}"))


def _consent_note(project_id: str, platform: str, error: LayersError | None) -> None:
    key = f"consent-missing:{project_id}:{platform}"
    if error is None:
        cache.delete(key)
    elif getattr(error, "reason", None) == "partner_consent_missing":
        cache.set(key, True, timeout=CONSENT_SECONDS)


@dataclass(frozen=True)
class Outcome:
    """What a write did. kind: applied | queued | denied | invalid | error | confirm | same |
    unknown (Layers accepted it with a status the dashboard does not know)."""

    kind: str
    sentence: str
    verdict_id: str = ""
    job_id: str = ""
    pending_id: str = ""
    campaign_id: str = ""
    platform: str = ""

    @property
    def ok(self) -> bool:
        return self.kind in ("applied", "queued", "same")


def _record(*, user, project_id, platform, action, entity_id, key, note="") -> DecisionRecord:
    record, _ = DecisionRecord.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "user": user,
            "project_id": project_id,
            "platform": platform,
            "action": action,
            "entity_id": entity_id,
            "note": note[:1000],
        },
    )
    return record


def _record_outcome(record: DecisionRecord, outcome: Outcome) -> Outcome:
    record.outcome = outcome.kind
    record.verdict_id = outcome.verdict_id or record.verdict_id
    record.save(update_fields=["outcome", "verdict_id"])
    return outcome


def _write_outcome(result, *, platform: str, applied: str, queued: str) -> Outcome:
    """A WriteResult as an Outcome: dispatched = applied, pending = queued for approval."""
    status = getattr(result, "status", "") or ""
    common = dict(
        verdict_id=getattr(result, "verdict_id", "") or "",
        job_id=getattr(result, "job_id", "") or "",
        pending_id=getattr(result, "pending_id", "") or "",
        campaign_id=getattr(result, "campaign_id", "") or "",
        platform=platform,
    )
    if status == "pending":
        return Outcome("queued", queued, **common)
    if status in ("dispatched", "running", "completed", "applied"):
        return Outcome("applied", applied, **common)
    # A status this dashboard does not know yet: say what Layers said, never claim "applied".
    said = status.replace("_", " ") or "nothing about its status"
    return Outcome(
        "unknown",
        f"Layers accepted the request but answered “{said}”, which the dashboard does not "
        "know; check the campaign before changing it again.",
        **common,
    )


def _refused(error: LayersError, *, project_id: str, platform: str) -> Outcome:
    """A LayersError as an Outcome; the gate's verdict id is kept for support."""
    _consent_note(project_id, platform, error)
    if isinstance(error, (AuthorityDenied, ForbiddenScope)):
        return Outcome(
            "denied",
            reason_sentence(error, platform),
            verdict_id=getattr(error, "verdict_id", "") or "",
            platform=platform,
        )
    if isinstance(error, ValidationFailed):
        return Outcome("invalid", _fields_sentence(error), platform=platform)
    if isinstance(error, (LayersTimeout, LayersConnectionError, LayersBadResponse)):
        # The answer was lost or unreadable: Layers may have applied it. The same form carries
        # the same idempotency key, so sending it again can never apply it twice.
        return Outcome(
            "error",
            f"{error.message} Layers may have received it: sending the same form again is safe, "
            "it is never applied twice.",
            platform=platform,
        )
    return Outcome(
        "error",
        f"{error.message} Nothing was changed by this attempt; you can safely try again.",
        platform=platform,
    )


def _fields_sentence(error: ValidationFailed) -> str:
    fields = getattr(error, "fields", None) or {}
    if not fields:
        return error.message
    return " ".join(f"{_field_words(k)} {v}." for k, v in fields.items())


def _field_words(name: str) -> str:
    return {
        "dailyBudgetCents": "The daily budget",
        "lifetimeBudgetCents": "The lifetime budget",
        "adAccountId": "The ad account",
        "endTime": "The end time",
        "startTime": "The start time",
        "campaignManagementMode": "The campaign management mode",
        "creativeMode": "The creative mode",
        "name": "The name",
        "outcome": "The outcome",
    }.get(name, f"The field {name}")


# --- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    platform: str = ""
    status: str = ""

    @classmethod
    def from_query(cls, query) -> "Filters":
        platform = (query.get("platform") or "").strip()
        status = (query.get("status") or "").strip()
        return cls(
            platform=platform if platform in PLATFORMS else "",
            status=status if status in STATUSES else "",
        )


@dataclass(frozen=True)
class AuthorityBlock:
    """One campaign's three axes as the gate sees them now."""

    values: dict  # axis -> mode
    source: str  # per_campaign | layer_defaults
    from_defaults: frozenset = frozenset()  # axes whose value is the layer default

    def axes(self):
        return [(axis, self.values.get(axis, "off"), axis in self.from_defaults) for axis in AXES]


@dataclass(frozen=True)
class PlatformPanel:
    platform: str
    defaults: object = None  # LayerDefaults
    consent_missing: bool = False
    error: LayersError | None = None
    run_key: str = field(default_factory=new_key)  # the optimizer forms' idempotency keys
    dry_key: str = field(default_factory=new_key)

    @property
    def kill_switch(self) -> bool:
        return bool(self.defaults and self.defaults.kill_switch_active)

    @property
    def writes_blocked(self) -> bool:
        return self.kill_switch or self.consent_missing

    @property
    def name(self) -> str:
        return platform_name(self.platform)

    @property
    def default_axes(self):
        if not self.defaults:
            return []
        block = self.defaults.defaults
        return [(axis, getattr(block, axis, "off")) for axis in AXES]


@dataclass(frozen=True)
class CampaignRow:
    campaign: object
    account: object  # AdAccount or None
    authority: AuthorityBlock | None
    authority_error: LayersError | None = None
    outcome: Outcome | None = None  # the last authority change's result, shown beside the control
    confirm: tuple | None = None  # (axis, mode) waiting for "yes, auto"
    key: str = field(default_factory=new_key)  # the authority form's idempotency key

    @property
    def currency(self) -> str:
        return getattr(self.account, "currency", None) or "USD"

    @property
    def platform(self) -> str:
        return self.campaign.platform

    @property
    def external(self) -> bool:
        return not self.campaign.managed_by_layers

    @property
    def deleted(self) -> bool:
        return self.campaign.status == "deleted"


@dataclass(frozen=True)
class CampaignList:
    project: object
    role: str
    rows: tuple
    panels: tuple
    filters: Filters
    errors: tuple = ()
    runs: tuple = ()

    @property
    def can_write(self) -> bool:
        return access.role_allows(self.role, Role.APPROVER)

    @property
    def platforms(self):
        return tuple(p.platform for p in self.panels)

    def panel(self, platform):
        return next((p for p in self.panels if p.platform == platform), None)


def _ok(value, default):
    return default if isinstance(value, LayersError) else value


def accounts_all(project_id: str) -> list:
    return accounts_get(project_id)


def campaigns_all(project_id: str) -> list:
    return campaigns_get(project_id)


def _authority_reader(project_id, platform, campaign_id):
    return lambda: cached_read(
        project_id,
        f"authority:{platform}:{campaign_id}",
        lambda: layers().authority_get(
            project_id=project_id, platform=platform, campaign_id=campaign_id
        ),
    )


def _defaults_reader(project_id, platform):
    return lambda: cached_read(
        project_id,
        f"defaults:{platform}",
        lambda: layers().defaults_get(project_id=project_id, platform=platform),
    )


def authority_block(authority, defaults=None) -> AuthorityBlock | None:
    """CampaignAuthority (+ the layer defaults) as an AuthorityBlock."""
    if authority is None:
        return None
    values = {axis: getattr(authority.authority, axis, None) or "off" for axis in AXES}
    source = getattr(authority, "source", "") or "per_campaign"
    if source == "layer_defaults":
        from_defaults = frozenset(AXES)
    else:
        from_defaults = frozenset()
    return AuthorityBlock(values=values, source=source, from_defaults=from_defaults)


def _panels(project_id, platforms, results) -> tuple:
    panels = []
    for platform in platforms:
        defaults = results.get(f"defaults:{platform}")
        panels.append(
            PlatformPanel(
                platform=platform,
                defaults=_ok(defaults, None),
                consent_missing=consent_missing(project_id, platform),
                error=defaults if isinstance(defaults, LayersError) else None,
            )
        )
    return tuple(panels)


def campaign_list(*, user, project_id: str, filters: Filters) -> CampaignList:
    role = access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    platforms = project_platforms(project)
    calls = {
        "accounts": lambda: accounts_all(project_id),
        "campaigns": lambda: campaigns_all(project_id),
    }
    for platform in platforms:
        calls[f"defaults:{platform}"] = _defaults_reader(project_id, platform)
    results = fan_out(calls)
    errors = [r for r in results.values() if isinstance(r, LayersError)]
    accounts = {a.ad_account_id: a for a in _ok(results["accounts"], [])}
    campaigns = [
        c
        for c in _ok(results["campaigns"], [])
        if (not filters.platform or c.platform == filters.platform)
        and (not filters.status or c.status == filters.status)
    ]
    campaigns.sort(
        key=lambda c: (
            c.status == "deleted",
            PLATFORMS.index(c.platform) if c.platform in PLATFORMS else 9,
            c.name.lower(),
        )
    )
    authorities = fan_out(
        {
            c.campaign_id: _authority_reader(project_id, c.platform, c.campaign_id)
            for c in campaigns
            if c.status != "deleted"
        }
    )
    rows = []
    for c in campaigns:
        found = authorities.get(c.campaign_id)
        rows.append(
            CampaignRow(
                campaign=c,
                account=accounts.get(c.ad_account_id),
                authority=authority_block(_ok(found, None)) if found is not None else None,
                authority_error=found if isinstance(found, LayersError) else None,
            )
        )
    from dashboard.services.optimizer import optimizer_recent_runs

    return CampaignList(
        project=project,
        role=role,
        rows=tuple(rows),
        panels=_panels(project_id, platforms, results),
        filters=filters,
        errors=tuple(dict.fromkeys(errors)),
        runs=tuple(optimizer_recent_runs(project_id=project_id)),
    )


def campaign_row(*, user, project_id: str, platform: str, campaign_id: str, **extra) -> CampaignRow:
    """One campaign's row (for the fragment an authority change returns)."""
    access.access_require(user=user, project_id=project_id)
    results = fan_out(
        {
            "campaign": lambda: layers().campaign_get(
                project_id=project_id, platform=platform, campaign_id=campaign_id
            ),
            "authority": _authority_reader(project_id, platform, campaign_id),
            "accounts": lambda: accounts_all(project_id),
        }
    )
    campaign = results["campaign"]
    if isinstance(campaign, LayersError):
        raise campaign
    account = next(
        (a for a in _ok(results["accounts"], []) if a.ad_account_id == campaign.ad_account_id), None
    )
    found = results["authority"]
    return CampaignRow(
        campaign=campaign,
        account=account,
        authority=authority_block(_ok(found, None)),
        authority_error=found if isinstance(found, LayersError) else None,
        **extra,
    )


@dataclass(frozen=True)
class CampaignPage:
    project: object
    role: str
    row: CampaignRow
    panel: PlatformPanel
    queue: object  # pending.Queue filtered to this campaign
    audit: tuple = ()
    errors: tuple = ()
    keys: dict = field(default_factory=dict)  # form -> idempotency key
    outcome: Outcome | None = None
    confirm: str = ""  # "delete" while waiting for the second click
    typed: dict = field(default_factory=dict)

    @property
    def can_write(self) -> bool:
        return access.role_allows(self.role, Role.APPROVER)

    @property
    def campaign(self):
        return self.row.campaign

    @property
    def panels(self):
        return (self.panel,)


def campaign_page(
    *, user, project_id: str, platform: str, campaign_id: str, **extra
) -> CampaignPage:
    role = access.access_require(user=user, project_id=project_id)
    if platform not in PLATFORMS:
        raise Http404("There is no such ad platform.")
    project = project_get(user=user, project_id=project_id)
    results = fan_out(
        {
            "campaign": lambda: layers().campaign_get(
                project_id=project_id, platform=platform, campaign_id=campaign_id
            ),
            "authority": _authority_reader(project_id, platform, campaign_id),
            "accounts": lambda: accounts_all(project_id),
            f"defaults:{platform}": _defaults_reader(project_id, platform),
            "audit": lambda: cached_read(
                project_id,
                "recent-audit",
                lambda: layers().audit_log_list(project_id=project_id, limit=50),
            ),
        }
    )
    campaign = results["campaign"]
    if isinstance(campaign, LayersError):
        raise campaign  # the middleware turns it into a sentence page (404 for an unknown id)
    errors = [r for r in results.values() if isinstance(r, LayersError)]
    account = next(
        (a for a in _ok(results["accounts"], []) if a.ad_account_id == campaign.ad_account_id), None
    )
    found = results["authority"]
    row = CampaignRow(
        campaign=campaign,
        account=account,
        authority=authority_block(_ok(found, None)),
        authority_error=found if isinstance(found, LayersError) else None,
    )
    queue = pending.pending_queue(
        user=user,
        project_id=project_id,
        filters=pending.QueueFilters(platform=platform, campaign=campaign_id),
    )
    audit = tuple(
        e
        for e in getattr(_ok(results["audit"], None), "items", []) or []
        if _audit_entity(e) == campaign_id
    )[:10]
    keys = {name: new_key() for name in WRITES}
    keys.update(extra.pop("keys", {}))
    return CampaignPage(
        project=project,
        role=role,
        row=row,
        panel=_panels(project_id, [platform], results)[0],
        queue=queue,
        audit=audit,
        errors=tuple(dict.fromkeys(errors)),
        keys=keys,
        **extra,
    )


def _audit_entity(event) -> str | None:
    for name in ("entity_id",):
        value = getattr(event, name, None)
        if value:
            return value
    data = getattr(event, "data", None) or {}
    return data.get("entityId") if isinstance(data, dict) else None


def audit_words(event) -> str:
    """ "ads.write.denied" -> "write denied"."""
    kind = getattr(event, "event_type", "") or ""
    return kind.removeprefix("ads.").replace(".", " ").replace("_", " ")


# --- writes ----------------------------------------------------------------------------------


def campaign_authority_set(
    *,
    user,
    project_id: str,
    platform: str,
    campaign_id: str,
    wanted: dict,
    confirmed: bool,
    idempotency_key: str,
) -> CampaignRow:
    """Sets the axes that differ from the real values now. Raising any axis to auto asks
    first; a refusal leaves the real values in place and says why beside the control."""
    access.access_require(user=user, project_id=project_id, action="write")
    key = key_clean(idempotency_key)
    row = campaign_row(
        user=user, project_id=project_id, platform=platform, campaign_id=campaign_id, key=key
    )
    wanted = {axis: mode for axis, mode in (wanted or {}).items() if axis in AXES}
    if platform not in PLATFORMS or any(mode not in MODES for mode in wanted.values()):
        bad = Outcome("invalid", "Choose off, draft or auto for each axis.", platform=platform)
        return dataclasses.replace(row, outcome=bad)
    current = row.authority.values if row.authority else {}
    changes = {axis: mode for axis, mode in wanted.items() if current.get(axis) != mode}
    if not changes:
        same = Outcome(
            "same", "Nothing to change: the authority is already set that way.", platform=platform
        )
        return dataclasses.replace(row, outcome=same if wanted else None, key=new_key())
    raised = [axis for axis, mode in changes.items() if mode == "auto"]
    if raised and not confirmed:
        ask = Outcome(
            "confirm",
            f"Auto lets {_and(raised)} changes reach the platform unreviewed. Confirm?",
            platform=platform,
        )
        return dataclasses.replace(row, outcome=ask, confirm=tuple(sorted(changes.items())))
    note = ", ".join(
        f"{axis}: {current.get(axis, '?')} -> {mode}" for axis, mode in changes.items()
    )
    record = _record(
        user=user,
        project_id=project_id,
        platform=platform,
        action="authority",
        entity_id=campaign_id,
        key=key,
        note=note,
    )
    try:
        result = layers().authority_update(
            project_id=project_id,
            platform=platform,
            campaign_id=campaign_id,
            authority=changes,
            idempotency_key=key,
        )
    except LayersError as error:
        outcome = _record_outcome(record, _refused(error, project_id=project_id, platform=platform))
        project_cache_bump(project_id)  # the real value is read again, never assumed
        fresh = campaign_row(
            user=user, project_id=project_id, platform=platform, campaign_id=campaign_id
        )
        keep = (
            key if outcome.kind == "error" else new_key()
        )  # a retry after a timeout reuses the key
        return dataclasses.replace(fresh, outcome=outcome, key=keep)
    _consent_note(project_id, platform, None)
    done = ", ".join(
        f"{axis} is now {getattr(result.authority, axis, mode)}" for axis, mode in changes.items()
    )
    outcome = _record_outcome(
        record,
        Outcome(
            "applied",
            f"Saved: {done}.",
            verdict_id=getattr(result, "verdict_id", "") or "",
            platform=platform,
        ),
    )
    project_cache_bump(project_id)
    return dataclasses.replace(
        row,
        authority=authority_block(result) or row.authority,
        outcome=outcome,
        confirm=None,
        key=new_key(),
    )


def _and(words) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def campaign_write(
    *,
    user,
    project_id: str,
    platform: str,
    campaign_id: str,
    action: str,
    amount: str = "",
    confirmed: bool = False,
    idempotency_key: str,
) -> tuple[Outcome, dict]:
    """Budget, pause, resume or delete. Returns the outcome and what the person typed."""
    access.access_require(user=user, project_id=project_id, action="write")
    key = key_clean(idempotency_key)
    typed = {"amount": (amount or "").strip()[:40]}
    if action not in WRITES or platform not in PLATFORMS:
        return Outcome(
            "invalid", "That change could not be understood; reload the page.", platform=platform
        ), typed
    cents = None
    if action == "budget":
        try:
            cents = money_parse(amount)
        except ValueError as error:
            return Outcome("invalid", str(error), platform=platform), typed
    if action == "delete" and not confirmed:
        return Outcome(
            "confirm",
            "Delete this campaign? It stops spending and cannot be restarted from here.",
            platform=platform,
        ), typed
    currency = _currency_of(project_id, platform, campaign_id)
    note = cents_format(cents, currency) if cents is not None else ""
    record = _record(
        user=user,
        project_id=project_id,
        platform=platform,
        action=action,
        entity_id=campaign_id,
        key=key,
        note=note,
    )
    client = layers()
    ids = dict(
        project_id=project_id, platform=platform, campaign_id=campaign_id, idempotency_key=key
    )
    try:
        if action == "budget":
            result = client.campaign_budget_update(daily_budget_cents=cents, **ids)
        elif action == "pause":
            result = client.campaign_pause(**ids)
        elif action == "resume":
            result = client.campaign_resume(**ids)
        else:
            result = client.campaign_delete(**ids)
    except LayersError as error:
        outcome = _refused(error, project_id=project_id, platform=platform)
        if outcome.kind == "invalid" and action == "budget":
            outcome = dataclasses.replace(
                outcome, sentence=outcome.sentence.replace("cents", "(in cents)")
            )
        return _record_outcome(record, outcome), typed
    _consent_note(project_id, platform, None)
    project_cache_bump(project_id)
    what = {
        "budget": (
            f"Daily budget set to {note}.",
            f"The new daily budget of {note} is queued for approval.",
        ),
        "pause": ("Paused.", "Pausing is queued for approval."),
        "resume": ("Resumed.", "Resuming is queued for approval."),
        "delete": ("Deleted.", "Deleting is queued for approval."),
    }[action]
    outcome = _write_outcome(result, platform=platform, applied=what[0], queued=what[1])
    outcome = dataclasses.replace(outcome, campaign_id=outcome.campaign_id or campaign_id)
    job_remember_campaign(
        project_id=project_id, job_id=outcome.job_id, campaign_id=campaign_id, platform=platform
    )
    return _record_outcome(record, outcome), {}


def _currency_of(project_id, platform, campaign_id) -> str:
    try:
        campaign = next(
            (c for c in campaigns_all(project_id) if c.campaign_id == campaign_id), None
        )
        accounts = accounts_all(project_id)
    except LayersError:
        return "USD"
    account_id = getattr(campaign, "ad_account_id", None)
    for a in accounts:
        if a.ad_account_id == account_id:
            return a.currency
    return next((a.currency for a in accounts if a.platform == platform), "USD")


# --- create ------------------------------------------------------------------------------------


CREATE_FIELDS = (
    "ad_account",
    "name",
    "outcome",
    "budget_kind",
    "budget",
    "campaign_management_mode",
    "creative_mode",
    "end_time",
)
UPSTREAM_FIELD = {
    "adAccountId": "ad_account",
    "name": "name",
    "outcome": "outcome",
    "dailyBudgetCents": "budget",
    "lifetimeBudgetCents": "budget",
    "campaignManagementMode": "campaign_management_mode",
    "creativeMode": "creative_mode",
    "endTime": "end_time",
    "startTime": "end_time",
    "bidStrategy": "outcome",
}


@dataclass(frozen=True)
class CreateForm:
    project: object
    role: str
    accounts: tuple
    typed: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)  # field -> sentence
    outcome: Outcome | None = None
    key: str = field(default_factory=new_key)
    accounts_error: LayersError | None = None
    panels: tuple = ()

    @property
    def modes(self):
        return [(value, label) for value, (_, label) in CREATE_MODES.items()]

    @property
    def outcomes(self):
        return OUTCOME_LABELS


def campaign_create_form(
    *, user, project_id: str, typed=None, errors=None, outcome=None, key=None
) -> CreateForm:
    role = access.access_require(user=user, project_id=project_id, action="write")
    project = project_get(user=user, project_id=project_id)
    platforms = project_platforms(project)
    calls = {"accounts": lambda: accounts_all(project_id)}
    for platform in platforms:
        calls[f"defaults:{platform}"] = _defaults_reader(project_id, platform)
    results = fan_out(calls)
    accounts = results["accounts"]
    typed = {
        "budget_kind": "daily",
        "campaign_management_mode": "draft",
        "creative_mode": "draft",
        **(typed or {}),
    }
    return CreateForm(
        project=project,
        role=role,
        accounts=tuple(a for a in _ok(accounts, []) if a.platform in PLATFORMS),
        typed=typed,
        errors=errors or {},
        outcome=outcome,
        key=key or new_key(),
        accounts_error=accounts if isinstance(accounts, LayersError) else None,
        panels=_panels(project_id, platforms, results),
    )


def _end_time_parse(text: str) -> datetime:
    """ "2026-12-31T18:00" (a datetime-local input, read as UTC) or "2026-12-31"."""
    text = text.strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError("Enter the end time as a date and time, for example 2026-12-31 18:00.")


def campaign_create(*, user, project_id: str, data, idempotency_key: str) -> CreateForm:
    """Validates with sentences, creates through Layers, and maps Layers' field errors onto
    the form; what was typed is always given back."""
    access.access_require(user=user, project_id=project_id, action="write")
    key = key_clean(idempotency_key)
    typed = {name: (data.get(name) or "").strip()[:200] for name in CREATE_FIELDS}
    errors = {}
    accounts = accounts_all(project_id)
    account = next((a for a in accounts if a.ad_account_id == typed["ad_account"]), None)
    if account is None:
        errors["ad_account"] = "Choose one of the connected ad accounts."
    if not typed["name"]:
        errors["name"] = "Give the campaign a name."
    elif len(typed["name"]) > 128:
        errors["name"] = "Keep the name to 128 characters or fewer."
    if typed["outcome"] not in OUTCOMES:
        errors["outcome"] = "Choose what the campaign should achieve."
    if typed["budget_kind"] not in ("daily", "lifetime"):
        errors["budget_kind"] = "Choose a daily or a lifetime budget."
    cents = None
    try:
        cents = money_parse(typed["budget"])
    except ValueError as error:
        errors["budget"] = str(error)
    for name in ("campaign_management_mode", "creative_mode"):
        if typed[name] not in CREATE_MODES:
            errors[name] = "Choose manual, draft or autopilot."
    end_time = None
    if typed["end_time"]:
        try:
            end_time = _end_time_parse(typed["end_time"])
        except ValueError as error:
            errors["end_time"] = str(error)
        else:
            if end_time <= timezone.now() + timedelta(minutes=5):
                errors["end_time"] = "The end time must be in the future."
    platform = account.platform if account else ""
    if (
        platform == "tiktok"
        and typed["budget_kind"] == "lifetime"
        and not typed["end_time"]
        and "end_time" not in errors
    ):
        errors["end_time"] = "TikTok needs an end time for a lifetime budget."
    if errors:
        return campaign_create_form(
            user=user,
            project_id=project_id,
            typed=typed,
            errors=errors,
            key=key,
            outcome=Outcome("invalid", "Check the highlighted fields.", platform=platform),
        )
    record = _record(
        user=user,
        project_id=project_id,
        platform=platform,
        action="create",
        entity_id=f"new:{typed['name'][:70]}",
        key=key,
        note=f"{typed['name']} · {cents_format(cents, account.currency)} {typed['budget_kind']}",
    )
    budget = (
        {"daily_budget_cents": cents}
        if typed["budget_kind"] == "daily"
        else {"lifetime_budget_cents": cents}
    )
    try:
        result = layers().campaign_create(
            project_id=project_id,
            platform=platform,
            ad_account_id=account.ad_account_id,
            name=typed["name"],
            outcome=typed["outcome"],
            campaign_management_mode=typed["campaign_management_mode"],
            creative_mode=typed["creative_mode"],
            end_time=end_time.isoformat().replace("+00:00", "Z") if end_time else None,
            idempotency_key=key,
            **budget,
        )
    except ValidationFailed as error:
        mapped = {}
        for name, message in (getattr(error, "fields", None) or {}).items():
            mapped.setdefault(
                UPSTREAM_FIELD.get(name, "name"),
                f"Layers says: {_field_words(name).lower()} {message}.",
            )
        outcome = _record_outcome(
            record,
            Outcome(
                "invalid",
                "Layers did not accept the campaign: check the highlighted fields.",
                platform=platform,
            ),
        )
        return campaign_create_form(
            user=user, project_id=project_id, typed=typed, errors=mapped, key=key, outcome=outcome
        )
    except LayersError as error:
        outcome = _record_outcome(record, _refused(error, project_id=project_id, platform=platform))
        keep = key if outcome.kind == "error" else new_key()
        return campaign_create_form(
            user=user, project_id=project_id, typed=typed, key=keep, outcome=outcome
        )
    _consent_note(project_id, platform, None)
    project_cache_bump(project_id)
    outcome = _write_outcome(
        result,
        platform=platform,
        applied=f"Campaign “{typed['name']}” is being created.",
        queued=f"Creating “{typed['name']}” is queued for approval.",
    )
    if outcome.campaign_id:
        record.entity_id = outcome.campaign_id
        record.save(update_fields=["entity_id"])
        if outcome.job_id:
            job_remember_campaign(
                project_id=project_id,
                job_id=outcome.job_id,
                campaign_id=outcome.campaign_id,
                platform=platform,
            )
    return campaign_create_form(
        user=user,
        project_id=project_id,
        typed={},
        key=new_key(),
        outcome=_record_outcome(record, outcome),
    )


# --- jobs --------------------------------------------------------------------------------------


JOB_SECONDS = 3600


@dataclass(frozen=True)
class JobView:
    job: object
    campaign_id: str = ""
    platform: str = ""

    @property
    def finished(self) -> bool:
        return getattr(self.job, "status", "running") != "running"


def job_follow(*, user, project_id: str, job_id: str) -> JobView:
    """The job now, asking Layers with the last ETag (a 304 costs nothing to read)."""
    access.access_require(user=user, project_id=project_id)
    remembered = cache.get(f"job:{project_id}:{job_id}")
    if remembered is not None and getattr(remembered, "status", "running") != "running":
        job = remembered
    else:
        etag = getattr(remembered, "etag", None) if remembered is not None else None
        fresh = layers().job_get(job_id=job_id, etag=etag)
        job = fresh if fresh is not None else remembered
        if job is None:  # a 304 without anything remembered: ask in full
            job = layers().job_get(job_id=job_id)
        cache.set(f"job:{project_id}:{job_id}", job, timeout=JOB_SECONDS)
    owner = cache.get(f"job-project:{job_id}")  # known for the jobs our own writes started
    if owner and owner != project_id:
        raise Http404("That job belongs to another project.")
    campaign_id, platform = job_campaign(job_id)
    campaign_id = campaign_id or _job_campaign(job)
    if campaign_id and not platform:
        platform = next(
            (c.platform for c in _safe_campaigns(project_id) if c.campaign_id == campaign_id), ""
        )
    return JobView(job=job, campaign_id=campaign_id, platform=platform)


def job_remember_campaign(*, project_id: str, job_id: str, campaign_id: str, platform: str) -> None:
    if not job_id:
        return
    cache.set(f"job-campaign:{job_id}", (campaign_id, platform), timeout=JOB_SECONDS * 24)
    job_remember_project(project_id=project_id, job_id=job_id)


def job_remember_project(*, project_id: str, job_id: str) -> None:
    if job_id:
        cache.set(f"job-project:{job_id}", project_id, timeout=JOB_SECONDS * 24)


def job_campaign(job_id: str):
    return cache.get(f"job-campaign:{job_id}") or ("", "")


def _job_campaign(job) -> str:
    result = getattr(job, "result", None) or {}
    value = result.get("entityId") if isinstance(result, dict) else None
    if isinstance(value, str) and value.startswith("cmp_"):
        return value
    return ""


def _safe_campaigns(project_id):
    try:
        return campaigns_all(project_id)
    except LayersError:
        return []


def since_words(when) -> str:
    if not when:
        return ""
    return timezone.localtime(when).strftime("%b %-d, %H:%M")
