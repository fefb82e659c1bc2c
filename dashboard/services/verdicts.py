"""One verdict of Layers' authority gate, in plain words: what was decided and why, the
authority in force, what was asked (never a key), who asked, and everything that happened
to the same entity since."""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from dashboard.layers import LayersError, NotFound
from dashboard.models import DecisionRecord
from dashboard.money import cents_format, money_locale
from dashboard.services import access
from dashboard.services.audit import SCAN_LIMIT, AuditRow, audit_rows_join
from dashboard.services.projects import accounts_get, campaigns_get, project_get
from dashboard.services.upstream import cached_read, layers
from dashboard.wording import PLATFORM_NAMES, platform_name, reason_sentence

DECISION_WORDS = {
    "allow": "Allowed: the change went to the ad platform.",
    "queue": "Queued: the change waits in the approval queue for a person.",
    "deny": "Denied: Layers refused the change and nothing was changed.",
}
# Anything that looks like a credential is never shown, whatever Layers echoes back.
SECRET_KEY_PATTERN = re.compile(
    r"key|secret|token|password|passwd|authorization|signature|credential|cookie", re.I
)
TIMELINE_PAGES = 3  # the entity's history is looked for in the latest 600 audit rows


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
    verdict: object = None  # Verdict, None when Layers has no such verdict
    records: tuple = ()  # our DecisionRecords behind it
    timeline: tuple[AuditRow, ...] = ()
    timeline_scanned: int = 0
    timeline_error: LayersError | None = None
    links: tuple = ()  # (label, path)
    request: dict = field(default_factory=dict)
    money: tuple = ()  # (label, amount as people read it) for each money field asked for

    @property
    def found(self) -> bool:
        return self.verdict is not None

    @property
    def decision_sentence(self) -> str:
        return DECISION_WORDS.get(
            self.verdict.decision or "", f"Decision: {self.verdict.decision or 'unknown'}."
        )

    @property
    def reason_sentence(self) -> str:
        v = self.verdict
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


def verdict_page(*, user, project_id: str, verdict_id: str) -> VerdictPage:
    access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    try:
        verdict = cached_read(
            project_id,
            f"verdict:{verdict_id}",
            lambda: layers().verdict_get(project_id=project_id, verdict_id=verdict_id),
            ttl=300,
        )
    except NotFound:
        return VerdictPage(project=project, verdict_id=verdict_id)
    records = tuple(
        DecisionRecord.objects.filter(project_id=project_id, verdict_id=verdict_id).select_related(
            "user"
        )
    )
    timeline, scanned, error = _timeline(project_id, verdict)
    return VerdictPage(
        project=project,
        verdict_id=verdict_id,
        verdict=verdict,
        records=records,
        timeline=tuple(timeline),
        timeline_scanned=scanned,
        timeline_error=error,
        links=tuple(_links(project_id, verdict, timeline)),
        request=sanitised(verdict.request or {}),
        money=tuple(_money(project, verdict, records)),
    )


def _money(project, verdict, records):
    """The request's money fields ("dailyBudgetCents": 5000) in the account's currency
    ("Daily budget", "¥5,000"): the currency our own record kept, else the account's."""
    body = (verdict.request or {}).get("body")
    fields = {
        k: v
        for k, v in (body.items() if isinstance(body, dict) else ())
        if isinstance(k, str) and k.endswith("Cents") and type(v) is int
    }
    if not fields:
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


def _timeline(project_id, verdict):
    """Audit rows about the same entity (or the same pending action), oldest first."""
    wanted = {x for x in (verdict.entity_id, verdict.pending_id) if x}
    if not wanted:
        wanted = {verdict.verdict_id}

    def about(event) -> bool:
        data = event.data or {}
        return bool(
            {event.entity_id, event.verdict_id, data.get("pendingId"), data.get("campaignId")}
            & (wanted | {verdict.verdict_id})
        )

    found, scanned, cursor = [], 0, None
    try:
        for _ in range(TIMELINE_PAGES):
            page = cached_read(
                project_id,
                f"audit-scan:{cursor or ''}",
                lambda c=cursor: layers().audit_log_list(
                    project_id=project_id, cursor=c, limit=SCAN_LIMIT
                ),
            )
            scanned += len(page.items)
            found.extend(e for e in page.items if about(e))
            cursor = page.next_cursor
            if not cursor:
                break
    except LayersError as error:
        return audit_rows_join(project_id, reversed(found)), scanned, error
    return audit_rows_join(project_id, reversed(found)), scanned, None


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
    if verdict.job_id:
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
