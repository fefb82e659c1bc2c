"""Sandbox extensions: what the sandbox answers beyond CONTRACT.md, and the switch that
turns them off, so the dashboard can be run against the documented API alone.

The switch is the setting SANDBOX_EXTENSIONS (env; `off` turns them off, default on) and
control `extensions {"on": false}` (`{"on": null}` goes back to the setting). Off, every
endpoint below answers 404 NOT_FOUND as an unknown path does, and every field below is
left out of answers and webhook payloads; nothing else changes (the sandbox still keeps
the data, enforces consent, records decisions). docs/sandbox-extensions.md lists them with
where the contract is silent.

Not extensions, so kept when off: the contract's own [I] choices for the stand-in (its §4.x
"Stand-in" shapes, `source` on pending rows, the `{count}` body, `details.currentStatus`
on a 409, the gate's `details.reason/axis/verdictId`, the audit rows of §7.2, the webhook
envelope and headers of §6.1–6.2, `killSwitch`/`apiAccessRevoked` on whoami) and what the
docs themselves name.

Applied on the way out (http.endpoint, webhooks.enqueue), so idempotent replays stored
while extensions were on lose them too."""

import copy

from django.conf import settings

from .http import Reply

ENDPOINTS = {"verdicts.get"}  # GET …/ads/verdicts/:verdictId

PENDING = ("verdictId", "decidedAt", "decidedBy", "decisionComment", "decisionReason")
WEBHOOK_ENDPOINT = ("scope", "metadata")
RUN_CHANGE = ("axis", "skipReason")
DELIVERY_KEPT = ("id", "status")  # the only delivery-row keys the contract names
WRITE_JOBS = ("ads_write", "ads_campaign_create")  # their `result` content is ours
# route → (where the rows are: None = the body itself, "items", or a key), fields to drop
FIELDS = {
    "pending.list": ("items", PENDING),
    "campaigns.get": (None, ("authoritySource",)),
    "defaults.get": (None, ("partnerWritesConsented",)),
    "defaults.patch": (None, ("partnerWritesConsented",)),
    "projects.get": (None, ("approvalPolicy",)),
    "webhook_endpoints.create": ("endpoint", WEBHOOK_ENDPOINT),
    "webhook_endpoints.list": ("items", WEBHOOK_ENDPOINT),
    "webhook_endpoints.get": (None, WEBHOOK_ENDPOINT),
    "webhook_endpoints.update": (None, WEBHOOK_ENDPOINT),
}
# error code → `details` keys the contract does not document
ERROR_DETAILS = {
    "VALIDATION": ("fields",),  # folded into the message instead
    "CONFLICT": ("decidedAt", "decidedBy", "runId", "jobId"),
    "RATE_LIMITED": ("endpointClass", "limit"),
    "RETURN_URL_NOT_ALLOWED": ("returnUrl", "allowedHosts"),
    "METHOD_NOT_ALLOWED": ("allowed",),
    "PLATFORM_REJECTED": ("verdictId",),
}


def enabled(state) -> bool:
    if state is not None and state.extensions is not None:
        return state.extensions
    return settings.SANDBOX_EXTENSIONS


def strip(route: str, reply: Reply) -> Reply:
    """The reply as an API without the extensions would give it."""
    body = copy.deepcopy(reply.body)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        _strip_error(error)
    elif isinstance(body, dict):
        if route in FIELDS:
            where, names = FIELDS[route]
            rows = body.get(where) if where else body
            for row in rows if isinstance(rows, list) else [rows]:
                _drop(row, names)
        if route == "optimizer.run_get":
            body["changes"] = run_changes(body.get("changes"))
        if route == "jobs.get" and body.get("kind") in WRITE_JOBS and "result" in body:
            body["result"] = {}
        if route == "webhook_endpoints.deliveries":
            body["items"] = [{k: r[k] for k in DELIVERY_KEPT if k in r} for r in body["items"]]
    return Reply(reply.status, body, reply.headers)


def webhook_data(event_type: str, data: dict) -> dict:
    """A webhook's `data` as an API without the extensions would send it."""
    if event_type == "ads.optimizer.run.completed":
        return {**data, "changes": run_changes(data.get("changes"))}
    if event_type == "job.completed" and data.get("kind") in WRITE_JOBS:
        return {**data, "result": {}}
    return data


def run_changes(changes):
    """An optimizer run's `changes` with only the keys of contract §6.3."""
    if not isinstance(changes, list):
        return changes
    return [{k: v for k, v in c.items() if k not in RUN_CHANGE} for c in changes]


def _strip_error(error: dict) -> None:
    details = error.get("details")
    if not isinstance(details, dict):
        return
    fields = details.get("fields") if error.get("code") == "VALIDATION" else None
    if isinstance(fields, dict) and fields:  # the human sentence keeps what was wrong
        error["message"] += " (" + "; ".join(f"{k}: {v}" for k, v in fields.items()) + ")"
    _drop(details, ERROR_DETAILS.get(error.get("code"), ()))


def _drop(row, names) -> None:
    if isinstance(row, dict):
        for name in names:
            row.pop(name, None)
