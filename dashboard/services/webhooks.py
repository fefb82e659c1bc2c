"""Layers webhooks: acting on a stored event, and registering our receiver with Layers.

The receiver (dashboard/webhooks.py, then webhook_inbox.py) only verifies, stores and
queues, so Layers gets its 200 fast; `webhook_event_process` runs in the task worker
(dashboard/tasks.py) and again from `manage.py webhooks_process` for anything left
unprocessed. Processing is idempotent: an event is processed once (row lock +
processed_at), and its notice is unique per event. Reading the payload is the client's job
(dashboard.layers.WebhookEnvelope): here every event arrives as a typed record."""

import dataclasses
import logging
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from dashboard.layers import (
    ApprovalDispatched,
    LayersError,
    RunCompleted,
    WebhookEnvelope,
    WriteDenied,
)
from dashboard.models import Notice, WebhookEvent, WebhookSecret
from dashboard.services.pending import pending_recall, pending_remember
from dashboard.services.upstream import layers, project_cache_bump
from dashboard.wording import platform_name, reason_sentence, status_words

log = logging.getLogger("dashboard.webhooks")

EVENTS = (
    "approval.dispatched",
    "ads.optimizer.run.completed",
    "ads.write.denied",
    "job.completed",
    "job.failed",
    "job.canceled",
)  # what HANDLERS below act on


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
                    envelope = WebhookEnvelope.from_wire(event.payload, event_id=event.event_id)
                    handler(event, envelope.event)
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


def _where(platform: str, otherwise: str) -> str:
    return platform_name(platform) if platform else otherwise


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


def _verdict_path(project_id: str, verdict_id: str) -> str:
    if not verdict_id:
        return ""
    fallback = f"/projects/{project_id}/verdicts/{verdict_id}/"
    return _path("verdict", project_id, verdict_id, fallback=fallback)


def _notice(event, kind, sentence, link, second_link="", second_label=""):
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


def _dispatch_note(
    *, project_id: str, pending_id: str, status: str, dispatched_at, failure_reason: str
) -> None:
    """A dispatch reported by a webhook: the remembered copy of the action (if any) gets
    its new status, dispatch time or failure reason too."""
    action = pending_recall(project_id, pending_id) if pending_id else None
    if action is None:
        return
    pending_remember(
        project_id,
        dataclasses.replace(
            action,
            status=status or action.status,
            dispatched_at=dispatched_at,
            dispatch_failure_reason=failure_reason or None,
        ),
    )


def _approval_dispatched(event: WebhookEvent, data: ApprovalDispatched) -> None:
    """The approved change reached the platform, or failed to: every cached read of the
    project is stale (the queue shows the new status), and a failure raises a notice."""
    project_id = event.project_id
    if not project_id:
        return
    project_cache_bump(project_id)
    _dispatch_note(
        project_id=project_id,
        pending_id=data.pending_id,
        status=data.status,
        dispatched_at=data.dispatched_at,
        failure_reason=data.failure_reason,
    )
    if data.status != "dispatch_failed":
        return
    sentence = (
        f"An approved {status_words(data.action_type) or 'change'} on "
        f"{_where(data.platform, 'the platform')} "
        f"could not be applied: {status_words(data.failure_reason or 'no reason given')}."
    )
    link = _path(
        "queue",
        project_id,
        fallback=f"/projects/{project_id}/queue/",
        query={"platform": data.platform, "status": "dispatch_failed"},
        anchor=f"pa-{data.pending_id}" if data.pending_id else "",
    )
    second = _verdict_path(project_id, data.verdict_id)
    _notice(event, Notice.Kind.DISPATCH_FAILED, sentence, link, second, "Verdict" if second else "")


def _run_completed(event: WebhookEvent, data: RunCompleted) -> None:
    """An optimizer run finished: its run page and the queue read fresh data, and people
    hear how many proposals wait for them."""
    project_id = event.project_id
    if not project_id:
        return
    project_cache_bump(project_id)
    where = _where(data.platform, "a platform")
    if data.dry_run:
        sentence = (
            f"Optimizer dry run finished on {where}: {data.proposed} "
            f"change{'s' if data.proposed != 1 else ''} proposed, nothing applied."
        )
    else:
        sentence = (
            f"Optimizer run finished on {where}: "
            f"{data.queued} proposal{'s' if data.queued != 1 else ''} to review"
        )
        sentence += f", {data.dispatched} applied directly." if data.dispatched else "."
    queue = _path(
        "queue",
        project_id,
        fallback=f"/projects/{project_id}/queue/",
        query={"platform": data.platform},
    )
    run = (
        _path(
            "optimizer-run",
            project_id,
            data.run_id,
            fallback=f"/projects/{project_id}/optimizer/runs/{data.run_id}/",
        )
        if data.run_id
        else ""
    )
    _notice(event, Notice.Kind.RUN_COMPLETED, sentence, queue, run, "The run" if run else "")


def _write_denied(event: WebhookEvent, data: WriteDenied) -> None:
    if not event.project_id:
        return
    sentence = (
        f"Layers refused a change to a {status_words(data.entity_type) or 'item'} on "
        f"{_where(data.platform, 'a platform')}: "
        f"{reason_sentence(data.reason, axis=data.axis, platform=data.platform)}"
    )
    link = _verdict_path(event.project_id, data.verdict_id)
    _notice(event, Notice.Kind.DENIED, sentence, link)


def _job_finished(event: WebhookEvent, data) -> None:
    if event.project_id:
        project_cache_bump(event.project_id)  # job pages and the lists they changed read fresh


def _nothing(event: WebhookEvent, data) -> None:
    pass


HANDLERS = {
    "approval.dispatched": _approval_dispatched,
    "ads.optimizer.run.completed": _run_completed,
    "ads.write.denied": _write_denied,
    "job.completed": _job_finished,
    "job.failed": _job_finished,
    "job.canceled": _job_finished,
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
    if not endpoint.signing_secret:
        return Registration(
            False,
            "Layers created the endpoint but sent no signing secret; rotate its secret in Layers.",
            endpoint.id,
        )
    WebhookSecret.objects.create(endpoint_id=endpoint.id, url=url, secret=endpoint.signing_secret)
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
        f"Registered {url} with Layers as endpoint {endpoint.id or '(no id)'}; "
        "its signing secret is stored.",
        endpoint.id,
    )
