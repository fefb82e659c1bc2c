"""Injected faults (control `faults`): which queued fault a call takes, the answers that
replace a response before the view runs (`early_fault`), the ones that distort a real read
after it (`late_fault`), and a connection cut off halfway (`dropped`). The pipeline in
http.py applies them; timeouts and slow work are waits there."""

import socket

from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse

from . import clock
from .http import Reply
from .models import State

ENUM_FIELDS = {"status", "actionType", "stage", "tokenStatus", "decision"}


def take_fault(state: State, method: str, path: str) -> dict | None:
    """Consumes one use of the first matching queued fault (row-locked: concurrent calls
    never both take the last use)."""
    if not state.faults:
        return None
    with transaction.atomic():
        locked = State.objects.select_for_update().get(pk=state.pk)
        for fault in locked.faults:
            if fault.get("method") and fault["method"].upper() != method:
                continue
            if fault.get("pathContains") and fault["pathContains"] not in path:
                continue
            fault["count"] = int(fault.get("count", 1)) - 1
            locked.faults = [f for f in locked.faults if f["count"] > 0]
            locked.save(update_fields=["faults"])
            return fault
    return None


def early_fault(fault: dict, write: bool) -> Reply | None:
    """Faults that replace the response without running the view."""
    kind = fault["kind"]
    if kind == "status":
        status = int(fault.get("status", 500))
        code = {502: "PLATFORM_ERROR", 429: "RATE_LIMITED"}.get(status, "INTERNAL")
        details = {"platformCode": "upstream_unavailable"} if status == 502 else {}
        return Reply.error(status, code, "Injected failure.", details)
    if kind == "rate_limited":
        retry = str(fault.get("retryAfter", 1))
        return Reply.error(429, "RATE_LIMITED", "Rate limit exceeded.", {}, {"Retry-After": retry})
    if kind == "revoked_key":
        return Reply.error(401, "UNAUTHENTICATED", "The API key is missing, malformed or revoked.")
    if kind == "kill_switch":
        return Reply.error(503, "KILL_SWITCH", "This API key has been killed.", {"scope": "key"})
    if kind == "malformed_json":
        return Reply(200, None, {"_raw": '{"items": [ {"oops": <html>Bad gateway</html>'})
    if write and kind == "missing_field":  # a write fault never executes the write
        return Reply(202, {"jobId": None, "status": "pending"})
    if write and kind == "unknown_enum":
        return Reply(
            202, {"jobId": None, "verdictId": clock.new_id("ver"), "status": "future_value"}
        )
    return None


def late_fault(fault: dict, reply: Reply) -> None:
    """Faults that distort a real read response after the view ran."""
    body = reply.body
    if reply.status >= 300 or not isinstance(body, dict):
        return
    if fault["kind"] == "missing_field":
        target = body["items"][0] if body.get("items") else body
        if isinstance(target, dict) and target:
            target.pop(next(iter(target)))  # rows lead with their id field
    elif fault["kind"] == "unknown_enum":
        _future(body)


def _future(value):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ENUM_FIELDS and isinstance(v, str):
                value[k] = "future_value"
            else:
                _future(v)
    elif isinstance(value, list):
        for item in value:
            _future(item)


def dropped(response: HttpResponse, environ: dict) -> StreamingHttpResponse:
    """Promises the whole body, sends half, then shuts the socket: the client sees a broken
    connection (incomplete read) after the server has done the work."""
    content = response.content

    def half_then_sever():
        yield content[: len(content) // 2]
        sock = environ.get("gunicorn.socket")
        if sock is None:  # runserver / live server: wsgi.input wraps the socket's reader
            reader = getattr(getattr(environ.get("wsgi.input"), "_read", None), "__self__", None)
            sock = getattr(getattr(reader, "raw", None), "_sock", None)
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)

    broken = StreamingHttpResponse(half_then_sever(), status=response.status_code)
    for name, value in response.items():
        broken[name] = value
    broken["Content-Length"] = str(len(content))
    return broken
