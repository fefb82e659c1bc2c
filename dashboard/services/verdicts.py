"""One verdict of Layers' authority gate, in plain words: what was decided and why, the
authority in force, what was asked (never a key), who asked, and everything that happened
to the same entity since.

The contract documents the verdict id on writes and approvals (§2.9) but no way to read a
verdict. So the page is built from what is documented or ours: the audit rows carrying the
id (§7.2: decision, reason, axis, platform, entity, path, method, actor type), and our own
DecisionRecords (the write answers we kept: who, what, the outcome, the amount). The
sandbox's `GET …/ads/verdicts/:id` (an extension, docs/sandbox-extensions.md) only enriches
it when it answers; a 404 or any failure there falls back silently. What none of them says
is said plainly (`VerdictPage.unknown`)."""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from dashboard.layers import LayersError, NotFound
from dashboard.models import DecisionRecord
from dashboard.money import cents_format, money_locale
from dashboard.services import access
from dashboard.services.audit import AuditRow, audit_rows_join
from dashboard.services.jobs import job_remember
from dashboard.services.projects import accounts_get, campaigns_get, project_get
from dashboard.services.upstream import cached_read, layers
from dashboard.services.verdict_sources import (
    about_verdict,
    audit_scan,
    verdict_assembled,
    verdict_unknown,
)
from dashboard.wording import PLATFORM_NAMES, platform_name, reason_sentence

DECISION_WORDS = {
    "allow": "Allowed: the change went to the ad platform.",
    "queue": "Queued: the change waits in the approval queue for a person.",
    "deny": "Denied: Layers refused the change and nothing was changed.",
    "approved": "Approved: a person approved the pending action, and Layers sends it on.",
    "rejected": "Rejected: a person rejected the pending action; nothing was changed.",
}
SOURCE_WORDS = {
    "layers": "Layers' own record of this verdict.",
    "audit": "the audit log's rows carrying this verdict id, and our own records of what "
    "people did here. Layers documents no way to read a verdict itself.",
    "ours": "our own record of what was done through this dashboard: no audit row carrying "
    "this id was found in the latest audit events. Layers documents no way to read a verdict "
    "itself.",
}
# Anything that looks like a credential is never shown, whatever Layers echoes back.
SECRET_KEY_PATTERN = re.compile(
    r"key|secret|token|password|passwd|authorization|signature|credential|cookie", re.I
)


def sanitised(value, depth: int = 0):
    """A copy without any key, secret or token-like field (at any depth)."""
    if depth > 8:
        return "…"
    if isinstance(value, dict):
        return {
            k: ("[removed]" if SECRET_KEY_PATTERN.search(str(k)) else sanitised(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [sanitised(v, depth + 1) for v in value[:200]]
    if isinstance(value, str) and re.match(r"^(lp_(live|test)_|Bearer\s)", value):
        return "[removed]"
    return value


@dataclass(frozen=True)
class VerdictPage:
    project: object
    verdict_id: str
    verdict: object = None  # Verdict, None when nothing we can read knows the id
    records: tuple = ()  # our DecisionRecords behind it
    timeline: tuple[AuditRow, ...] = ()
    timeline_scanned: int = 0
    timeline_error: LayersError | None = None
    links: tuple = ()  # (label, path)
    request: dict = field(default_factory=dict)
    money: tuple = ()  # (label, amount as people read it) for each money field asked for
    source: str = "layers"  # layers (the extension answered) | audit | ours
    unknown: tuple[str, ...] = ()  # what none of the sources says, in sentences

    @property
    def found(self) -> bool:
        return self.verdict is not None

    @property
    def source_sentence(self) -> str:
        return SOURCE_WORDS.get(self.source, "")

    @property
    def decision_sentence(self) -> str:
        return DECISION_WORDS.get(
            self.verdict.decision or "", f"Decision: {self.verdict.decision or 'not known'}."
        )

    @property
    def reason_sentence(self) -> str:
        v = self.verdict
        if not v.reason and self.source != "layers":
            return "The reason is not known: no audit row carrying this id gave one."
        return reason_sentence(v.reason, axis=v.axis, platform=v.platform)

    @property
    def authority_rows(self) -> list[tuple[str, str, bool]]:
        """(axis, mode, is the axis this verdict turned on)."""
        authority = self.verdict.authority
        if authority is None:
            return []
        return [
            (axis, mode or "—", axis == self.verdict.axis)
            for axis, mode in authority.values.items()
        ]

    @property
    def request_body_json(self) -> str:
        body = self.request.get("body")
        return (
            json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)
            if body not in (None, {}, [])
            else ""
        )

    @property
    def platform_name(self) -> str:
        return platform_name(self.verdict.platform) or "—"

    @property
    def people(self) -> list[str]:
        return [r.user.get_username() if r.user else "(a deleted person)" for r in self.records]

    @property
    def notes(self) -> list[str]:
        """What the people here wrote with it (a comment, a reason)."""
        return [r.note for r in self.records if r.note]


def verdict_page(*, user, project_id: str, verdict_id: str) -> VerdictPage:
    access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    records = tuple(
        DecisionRecord.objects.filter(project_id=project_id, verdict_id=verdict_id)
        .select_related("user")
        .order_by("created_at")
    )
    events, scanned, error = audit_scan(project_id)
    carrying = [e for e in events if e.verdict_id == verdict_id]
    verdict, source = _verdict_extension(project_id, verdict_id), "layers"
    if verdict is None:
        verdict = verdict_assembled(verdict_id, carrying, records)
        source = "audit" if carrying else "ours"
    if verdict is None:
        return VerdictPage(
            project=project,
            verdict_id=verdict_id,
            timeline_scanned=scanned,
            timeline_error=error,
        )
    timeline = audit_rows_join(
        project_id, reversed([e for e in events if about_verdict(e, verdict)])
    )
    request = sanitised(verdict.request or {})
    return VerdictPage(
        project=project,
        verdict_id=verdict_id,
        verdict=verdict,
        records=records,
        timeline=tuple(timeline),
        timeline_scanned=scanned,
        timeline_error=error,
        links=tuple(_links(project_id, verdict, timeline)),
        request=request,
        money=tuple(_money(project, verdict, records)),
        source=source,
        unknown=tuple(verdict_unknown(verdict, source, request)),
    )


def _verdict_extension(project_id, verdict_id):
    """The sandbox's verdict endpoint (not in the contract), or None when it does not
    answer: a 404 (no such endpoint, or no such verdict) and any other failure alike."""
    try:
        return cached_read(
            project_id,
            f"verdict:{verdict_id}",
            lambda: layers().verdict_get(project_id=project_id, verdict_id=verdict_id),
            ttl=300,
        )
    except NotFound:
        return None
    except LayersError:
        return None


def _money(project, verdict, records):
    """The request's money fields ("dailyBudgetCents": 5000) in the account's currency
    ("Daily budget", "¥5,000"): the currency our own record kept, else the account's."""
    body = (verdict.request or {}).get("body")
    fields = {
        k: v
        for k, v in (body.items() if isinstance(body, dict) else ())
        if isinstance(k, str) and k.endswith("Cents") and type(v) is int
    }
    if not fields:  # no body to read (no verdict endpoint): the amount typed here, if any
        for r in records:
            if r.amount_minor is not None:
                locale = money_locale(getattr(project, "primary_language", None))
                yield "Amount typed here", cents_format(r.amount_minor, r.currency, locale=locale)
        return
    currency = next((r.currency for r in records if r.currency), "") or _currency_of(
        project.id, body.get("adAccountId"), verdict.entity_id
    )
    locale = money_locale(getattr(project, "primary_language", None))
    for key, value in fields.items():
        label = re.sub(r"(?<!^)([A-Z])", r" \1", key.removesuffix("Cents")).capitalize()
        yield label, cents_format(value, currency, locale=locale)


def _currency_of(project_id, account_id, campaign_id) -> str:
    try:
        if not isinstance(account_id, str):
            campaign = next(
                (c for c in campaigns_get(project_id) if c.campaign_id == campaign_id), None
            )
            account_id = getattr(campaign, "ad_account_id", None)
        return next(
            (a.currency or "" for a in accounts_get(project_id) if a.ad_account_id == account_id),
            "",
        )
    except LayersError:
        return ""


def _path(name, *args, fallback=""):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def _links(project_id, verdict, timeline):
    links = []
    platform = verdict.platform or ""
    campaign_id = verdict.entity_id if verdict.entity_type == "campaign" else None
    if verdict.pending_id:
        status = "pending"
        for row in timeline:  # the latest word on that action decides which list shows it
            data = row.event.data or {}
            if data.get("pendingId") != verdict.pending_id:
                continue
            kind = row.event.event_type or ""
            if kind == "ads.pending.dispatched":
                status = data.get("status") or "dispatched"
            elif kind in ("ads.pending.approved", "ads.pending.rejected"):
                status = kind.rsplit(".", 1)[1]
            elif kind == "ads.pending.expired":
                status = "rejected"
        query = urlencode(
            {
                k: v
                for k, v in {
                    "platform": platform,
                    "status": status,
                    "campaign": campaign_id or "",
                }.items()
                if v
            }
        )
        links.append(
            (
                "The pending action in the queue",
                f"{_path('queue', project_id)}?{query}#pa-{verdict.pending_id}",
            )
        )
    if verdict.job_id:  # read from this project's verdicts, so the job is this project's
        job_remember(project_id=project_id, job_id=verdict.job_id)
        links.append(
            (
                "The job",
                _path(
                    "job",
                    project_id,
                    verdict.job_id,
                    fallback=f"/projects/{project_id}/jobs/{verdict.job_id}/",
                ),
            )
        )
    if campaign_id and platform in PLATFORM_NAMES:
        links.append(
            (
                "The campaign",
                _path(
                    "campaign",
                    project_id,
                    platform,
                    campaign_id,
                    fallback=f"/projects/{project_id}/campaigns/{platform}/{campaign_id}/",
                ),
            )
        )
    return links
