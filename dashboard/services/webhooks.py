"""Layers webhooks: check the signature, store each event once, then act on it.

The receiver (dashboard/webhooks.py) only verifies and stores, so Layers gets its 200 fast;
`webhook_event_process` runs right after the commit and again from
`manage.py webhooks_process` for anything left unprocessed. Processing is idempotent: an
event is processed once (row lock + processed_at), and its notice is unique per event.

Signing secrets: LAYERS_WEBHOOK_SECRET (comma-separated, so an old and a new secret can
overlap during a rotation) plus the secrets `manage.py webhooks_register` stored, because
Layers shows an endpoint's secret only once, in the answer that created it."""

import dataclasses
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from dashboard.models import Notice, WebhookEvent, WebhookSecret
from dashboard.services.upstream import project_cache_bump

log = logging.getLogger("dashboard.webhooks")

TOLERANCE_SECONDS = 300  # contract §6.1: reject when more than 5 minutes from our clock
MAX_BODY_BYTES = 1_000_000
EVENTS = (
    "approval.dispatched",
    "ads.optimizer.run.completed",
    "ads.write.denied",
    "job.completed",
    "job.failed",
    "job.canceled",
)  # what HANDLERS below act on
PLATFORM_NAMES = {"meta": "Meta", "tiktok": "TikTok", "apple": "Apple Ads"}


# --- verifying ---------------------------------------------------------------------------


def webhook_secrets() -> list[str]:
    """Every secret a delivery may be signed with right now."""
    configured = [s.strip() for s in (settings.LAYERS_WEBHOOK_SECRET or "").split(",") if s.strip()]
    stored = list(
        WebhookSecret.objects.filter(retired_at__isnull=True)
        .order_by("-created_at")
        .values_list("secret", flat=True)
    )
    return list(dict.fromkeys(configured + stored))


@dataclass(frozen=True)
class Verification:
    ok: bool
    status: int = 200  # what to answer when not ok: 400 malformed, 401 not ours
    reason: str = ""


def signature_verify(
    *, raw_body: bytes, header: str, secrets: list[str], now: float | None = None
) -> Verification:
    """`X-Layers-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`: HMAC-SHA256 over "<t>.<raw body>"
    with any of our secrets must equal any v1 value, and t must be within 5 minutes of now."""
    timestamp, macs = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1" and value:
            macs.append(value.strip().lower())
    if not timestamp or not macs:
        return Verification(False, 400, "the signature header is missing or malformed")
    try:
        t = int(timestamp)
    except ValueError:
        return Verification(False, 400, "the signature timestamp is not a number")
    if not secrets:
        return Verification(False, 401, "no webhook signing secret is configured")
    now = time.time() if now is None else now
    if abs(now - t) > TOLERANCE_SECONDS:
        return Verification(
            False, 401, "the signature timestamp is more than 5 minutes from our clock"
        )
    signed = f"{t}.".encode() + raw_body
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        # Check every candidate (no early exit on the first match of a weaker secret).
        if any(hmac.compare_digest(expected, mac) for mac in macs):
            return Verification(True)
    return Verification(False, 401, "the signature does not match")


# --- receiving ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    status: int
    body: dict


def webhook_receive(*, raw_body: bytes, headers) -> Receipt:
    """Verify, dedupe, store. Never processes inline before answering: processing is
    scheduled for after the commit and cannot make Layers see an error."""
    if len(raw_body) > MAX_BODY_BYTES:
        return Receipt(413, {"error": "payload too large"})
    check = signature_verify(
        raw_body=raw_body, header=headers.get("X-Layers-Signature", ""), secrets=webhook_secrets()
    )
    if not check.ok:
        log.warning("webhook refused: %s", check.reason)
        return Receipt(check.status, {"error": check.reason})
    try:
        envelope = json.loads(raw_body)
    except ValueError:
        return Receipt(400, {"error": "the body is not JSON"})
    if not isinstance(envelope, dict):
        return Receipt(400, {"error": "the body is not a JSON object"})
    event_id = (headers.get("X-Layers-Event-Id") or envelope.get("id") or "").strip()
    event_type = envelope.get("type") or headers.get("X-Layers-Event-Type") or ""
    if not event_id or not isinstance(event_type, str):
        return Receipt(400, {"error": "the event has no id or type"})
    project_id = envelope.get("projectId") if isinstance(envelope.get("projectId"), str) else ""
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                event_id=event_id[:80],
                event_type=event_type[:80],
                project_id=project_id[:80],
                payload=envelope,
            )
            transaction.on_commit(lambda: _process_quietly(event_id[:80]))
    except IntegrityError:
        return Receipt(200, {"received": event_id, "duplicate": True})
    return Receipt(200, {"received": event_id})


def _process_quietly(event_id: str) -> None:
    try:
        webhook_event_process(event_id)
    except Exception:  # stored already; `webhooks_process` picks it up again
        log.exception("processing webhook %s failed", event_id)


# --- processing --------------------------------------------------------------------------


def webhook_event_process(event_id: str) -> str:
    """Acts on one stored event, once. Returns its outcome (processed, ignored, failed)."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(event_id=event_id).first()
        if event is None:
            return "missing"
        if event.processed_at is not None:
            return event.outcome
        handler = HANDLERS.get(event.event_type)
        if handler is None:
            event.outcome, event.error = WebhookEvent.Outcome.IGNORED, ""
            event.processed_at = timezone.now()
        else:
            try:
                with transaction.atomic():
                    handler(event, _data(event))
            except Exception as error:  # kept unprocessed with its error, retried by the command
                log.exception(
                    "webhook %s (%s) could not be processed", event.event_id, event.event_type
                )
                event.outcome, event.error = (
                    WebhookEvent.Outcome.FAILED,
                    f"{type(error).__name__}: {error}"[:2000],
                )
            else:
                event.outcome, event.error = WebhookEvent.Outcome.PROCESSED, ""
                event.processed_at = timezone.now()
        event.save(update_fields=["outcome", "error", "processed_at"])
        return event.outcome


def webhooks_process_pending(limit: int = 500) -> dict:
    """Processes stored events that are not processed yet (oldest first)."""
    counts: dict[str, int] = {}
    ids = (
        WebhookEvent.objects.filter(processed_at__isnull=True)
        .order_by("received_at")
        .values_list("event_id", flat=True)[:limit]
    )
    for event_id in list(ids):
        outcome = webhook_event_process(event_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _data(event: WebhookEvent) -> dict:
    data = (event.payload or {}).get("data")
    return data if isinstance(data, dict) else {}


def _platform(value) -> str:
    value = str(value or "")
    return value.removesuffix("_ads") if value.endswith("_ads") else value


def _words(value) -> str:
    return str(value or "").replace("_", " ").replace(".", " ")


def _path(name: str, *args, fallback: str = "", query: dict | None = None, anchor: str = "") -> str:
    """A dashboard path by URL name; the literal fallback when another area's page is not
    there yet (the link still works once it is)."""
    try:
        path = reverse(name, args=args)
    except NoReverseMatch:
        path = fallback
    if query:
        path += "?" + urlencode({k: v for k, v in query.items() if v})
    return path + (f"#{anchor}" if anchor else "")


def _notice(
    event: WebhookEvent,
    kind: str,
    sentence: str,
    link: str,
    second_link: str = "",
    second_label: str = "",
):
    Notice.objects.get_or_create(
        event_id=event.event_id,
        kind=kind,
        defaults={
            "project_id": event.project_id,
            "sentence": sentence[:500],
            "link": link[:500],
            "second_link": second_link[:500],
            "second_label": second_label[:80],
        },
    )


def _approval_dispatched(event: WebhookEvent, data: dict) -> None:
    """The approved change reached the platform, or failed to: every cached read of the
    project is stale (the queue shows the new status), and a failure raises a notice."""
    project_id = event.project_id
    if project_id:
        project_cache_bump(project_id)
        _pending_record_update(project_id, data)
    if data.get("status") != "dispatch_failed" or not project_id:
        return
    platform = _platform(data.get("platform"))
    pending_id = str(data.get("pendingId") or "")
    reason = data.get("dispatchFailureReason") or "no reason given"
    sentence = (
        f"An approved {_words(data.get('actionType')) or 'change'} on "
        f"{PLATFORM_NAMES.get(platform, platform or 'the platform')} "
        f"could not be applied: {_words(reason)}."
    )
    link = _path(
        "queue",
        project_id,
        fallback=f"/projects/{project_id}/queue/",
        query={"platform": platform, "status": "dispatch_failed"},
        anchor=f"pa-{pending_id}" if pending_id else "",
    )
    verdict_id = data.get("verdictId")
    second = (
        _path(
            "verdict",
            project_id,
            verdict_id,
            fallback=f"/projects/{project_id}/verdicts/{verdict_id}/",
        )
        if verdict_id
        else ""
    )
    _notice(event, Notice.Kind.DISPATCH_FAILED, sentence, link, second, "Verdict" if second else "")


def _pending_record_update(project_id: str, data: dict) -> None:
    """The queue remembers the actions it rendered (to re-render one row after a decision);
    that copy gets the dispatch time or the failure reason too."""
    pending_id = data.get("pendingId")
    key = f"pending:record:{project_id}:{pending_id}"
    action = cache.get(key) if pending_id else None
    if action is None or not dataclasses.is_dataclass(action):
        return
    from dashboard.layers.records import parse_time  # the client's own time parser

    changes = {"status": data.get("status") or getattr(action, "status", None)}
    names = {f.name for f in dataclasses.fields(action)}
    if "dispatched_at" in names:
        changes["dispatched_at"] = parse_time(data.get("dispatchedAt"))
    if "dispatch_failure_reason" in names:
        changes["dispatch_failure_reason"] = data.get("dispatchFailureReason")
    cache.set(key, dataclasses.replace(action, **changes), timeout=3600)


def _run_completed(event: WebhookEvent, data: dict) -> None:
    """An optimizer run finished: its run page and the queue read fresh data, and people
    hear how many proposals wait for them."""
    project_id = event.project_id
    if not project_id:
        return
    project_cache_bump(project_id)
    platform = _platform(data.get("platform"))
    summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
    changes = data.get("changes") if isinstance(data.get("changes"), list) else []
    queued = summary.get("queued")
    if not isinstance(queued, int):
        queued = sum(1 for c in changes if isinstance(c, dict) and c.get("outcome") == "queued")
    dispatched = summary.get("dispatched") if isinstance(summary.get("dispatched"), int) else 0
    where = PLATFORM_NAMES.get(platform, platform or "a platform")
    if data.get("dryRun"):
        proposed = (
            summary.get("proposed") if isinstance(summary.get("proposed"), int) else len(changes)
        )
        sentence = (
            f"Optimizer dry run finished on {where}: "
            f"{proposed} change{'s' if proposed != 1 else ''} proposed, nothing applied."
        )
    else:
        sentence = (
            f"Optimizer run finished on {where}: "
            f"{queued} proposal{'s' if queued != 1 else ''} to review"
        )
        sentence += f", {dispatched} applied directly." if dispatched else "."
    run_id = str(data.get("runId") or "")
    queue = _path(
        "queue", project_id, fallback=f"/projects/{project_id}/queue/", query={"platform": platform}
    )
    run = (
        _path(
            "optimizer-run",
            project_id,
            run_id,
            fallback=f"/projects/{project_id}/optimizer/runs/{run_id}/",
        )
        if run_id
        else ""
    )
    _notice(event, Notice.Kind.RUN_COMPLETED, sentence, queue, run, "The run" if run else "")


def _write_denied(event: WebhookEvent, data: dict) -> None:
    project_id = event.project_id
    if not project_id:
        return
    from dashboard.services.verdicts import reason_sentence  # one wording for reasons everywhere

    platform = _platform(data.get("platform"))
    what = _words(data.get("entityType")) or "item"
    sentence = (
        f"Layers refused a change to a {what} on "
        f"{PLATFORM_NAMES.get(platform, platform or 'a platform')}: "
        f"{reason_sentence(data.get('reason'), axis=data.get('axis'), platform=platform)}"
    )
    verdict_id = str(data.get("verdictId") or "")
    link = (
        _path(
            "verdict",
            project_id,
            verdict_id,
            fallback=f"/projects/{project_id}/verdicts/{verdict_id}/",
        )
        if verdict_id
        else ""
    )
    _notice(event, Notice.Kind.DENIED, sentence, link)


def _job_completed(event: WebhookEvent, data: dict) -> None:
    if event.project_id:
        project_cache_bump(event.project_id)  # job pages and the lists they changed read fresh


def _nothing(event: WebhookEvent, data: dict) -> None:
    pass


HANDLERS = {
    "approval.dispatched": _approval_dispatched,
    "ads.optimizer.run.completed": _run_completed,
    "ads.write.denied": _write_denied,
    "job.completed": _job_completed,
    "job.failed": _job_completed,
    "job.canceled": _job_completed,
    "test.ping": _nothing,
}


# --- registering -------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    ok: bool
    sentence: str
    endpoint_id: str = ""


def webhook_register(*, url: str, project_id: str | None = None, events=EVENTS) -> Registration:
    """Creates a Layers webhook endpoint for our receiver and keeps its signing secret.
    Older secrets stay accepted (a rotation's overlap) except all but the newest two."""
    import uuid

    from dashboard.layers import LayersError
    from dashboard.services.upstream import layers

    parts = urlsplit(url)
    if not (
        parts.scheme == "https"
        or (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"))
    ):
        return Registration(
            False, "The receiver's URL must be https:// (http://localhost only while developing)."
        )
    try:
        endpoint = layers().webhook_endpoint_create(
            url=url,
            events=list(events),
            project_id=project_id,
            description="Layers Partner Dashboard",
            idempotency_key=str(uuid.uuid4()),
        )
    except LayersError as error:
        hint = ""
        if error.status in (404, 405):
            hint = (
                " This Layers API does not offer webhook endpoints (POST /v1/webhook-endpoints):"
                " point its deliveries at the receiver another way and put their signing secret"
                " in LAYERS_WEBHOOK_SECRET."
            )
        return Registration(
            False, f"Layers refused to register the webhook endpoint: {error.message}{hint}"
        )
    secret = getattr(endpoint, "signing_secret", None) or getattr(endpoint, "secret", None) or ""
    endpoint_id = getattr(endpoint, "endpoint_id", None) or getattr(endpoint, "id", None) or ""
    if not secret:
        return Registration(
            False,
            "Layers created the endpoint but sent no signing secret; rotate its secret in Layers.",
            endpoint_id,
        )
    WebhookSecret.objects.create(endpoint_id=endpoint_id, url=url, secret=secret)
    keep = list(
        WebhookSecret.objects.filter(retired_at__isnull=True)
        .order_by("-created_at")
        .values_list("id", flat=True)[:2]
    )
    WebhookSecret.objects.filter(retired_at__isnull=True).exclude(id__in=keep).update(
        retired_at=timezone.now()
    )
    return Registration(
        True,
        f"Registered {url} with Layers as endpoint {endpoint_id or '(no id)'}; "
        "its signing secret is stored.",
        endpoint_id,
    )
