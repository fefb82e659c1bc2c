"""The one request pipeline every API view goes through.

`endpoint(route, method, rate_class=..., scope=...)` wraps a view `fn(ctx, **url_kwargs) -> Reply`
with, in order: request id, injected latency, call statistics, the verb check (405), fault
injection (before auth: a fault stands in for the network or the server), key auth
(401 / 503 KILL_SWITCH), the per-key rate-limit bucket (429), the scope check (403), JSON
body parsing, idempotent replay for POST/PATCH/DELETE, a transaction around the view, and
the single error envelope. Views raise `ApiError` for plain errors (rolled back) and return
`Reply.error(...)` for decisions that must be recorded (gate denials are committed). The
injected faults themselves (which one a call takes, what it answers) are faults.py."""

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import clock, rows
from .models import ApiKey, Counter, IdempotencyRecord, State

log = logging.getLogger(__name__)

TIERS = {  # requests per minute per key and endpoint class (contract §1.8)
    "standard": {"read-light": 120, "write-light": 60, "long-running": 20},
    "pilot": {"read-light": 1200, "write-light": 600, "long-running": 60},
    "partner": {"read-light": 6000, "write-light": 3000, "long-running": 300},
}
WRITE_METHODS = {"POST", "PATCH", "DELETE"}
PLATFORMS = {"meta": "meta_ads", "tiktok": "tiktok_ads", "apple": "apple_ads"}  # path → body form
SHORT = {v: k for k, v in PLATFORMS.items()}


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: dict | None = None, headers=None
    ):
        super().__init__(message)
        self.reply = Reply.error(status, code, message, details, headers)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict = field(default_factory=dict)

    @classmethod
    def error(cls, status, code, message, details=None, headers=None):
        body = {
            "error": {"code": code, "message": message, "requestId": None, "details": details or {}}
        }
        return cls(status, body, dict(headers or {}))


@dataclass
class Ctx:
    request: Any
    request_id: str
    key: ApiKey
    state: State
    now: Any
    body: dict

    def query_list(self, name: str) -> list[str]:
        """Repeated (`?status=a&status=b`), bracketed (`status[]=`) or comma-joined values."""
        values = self.request.GET.getlist(name) + self.request.GET.getlist(f"{name}[]")
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def limit(self, default: int, maximum: int) -> int:
        raw = self.request.GET.get("limit")
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= maximum:
            raise validation({"limit": f"must be an integer between 1 and {maximum}"})
        return value


def validation(fields: dict, message: str = "The request is not valid.") -> ApiError:
    return ApiError(422, "VALIDATION", message, {"fields": fields})


def not_found(what: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"No such {what}.")


def path_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise validation({"platform": "must be one of meta, tiktok, apple"})
    return platform


def body_platform(value, field_name: str = "platform") -> str:
    """Body/query platform (`meta_ads`…) → short form; `apple_search_ads` is not a thing."""
    if value not in SHORT:
        raise validation({field_name: "must be one of meta_ads, tiktok_ads, apple_ads"})
    return SHORT[value]


def has_scope(scopes, required) -> bool:
    if required is None or "*" in scopes:
        return True
    for scope in required if isinstance(required, tuple) else (required,):
        if scope in scopes or (scope.startswith("ads:write:") and "ads:write" in scopes):
            return True
    return False


def get_state() -> State:
    state = rows.first(State, order_by_pk=True)  # State.objects.first(), uncompiled
    return state or State.objects.create()


def tier_name(state: State) -> str:
    return state.rate_tier or settings.SANDBOX_RATE_TIER or "off"


# --- pieces of the pipeline --------------------------------------------------------------


def authenticate(request) -> ApiKey:
    raw = request.headers.get("X-Api-Key")  # X-Api-Key wins over Bearer (older docs)
    if not raw:
        auth = request.headers.get("Authorization", "")
        raw = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    key = rows.first(ApiKey, secret=raw) if raw else None  # secret is unique
    if key is None or key.state == "revoked":
        raise ApiError(401, "UNAUTHENTICATED", "The API key is missing, malformed or revoked.")
    if key.state == "killed":
        raise ApiError(503, "KILL_SWITCH", "This API key has been killed.", {"scope": "key"})
    return key


def rate_limit(state: State, key: ApiKey | None, rate_class: str) -> dict:
    """Counts the call in this minute's bucket; raises 429 when the tier is enforced and empty."""
    tier = tier_name(state)
    limit = TIERS.get(tier, TIERS["standard"])[rate_class]
    now = clock.now(state).timestamp()
    window = int(now // 60)
    reset = (window + 1) * 60
    used = 0
    if key is not None:
        bucket = f"sandbox:{state.epoch}:rl:{key.key_id}:{rate_class}:{window}"
        cache.add(bucket, 0, timeout=180)
        try:
            used = cache.incr(bucket)
        except ValueError:  # evicted between add and incr
            cache.set(bucket, 1, timeout=180)
            used = 1
    enforced = tier in TIERS
    headers = {
        "X-RateLimit-Endpoint-Class": rate_class,
        "X-RateLimit-Limit": str(limit),
        # Unenforced ("off"): the bucket never empties, so say so; a pacing client must not wait.
        "X-RateLimit-Remaining": str(max(0, limit - used) if enforced else limit),
        # Epoch seconds on the caller's clock (the sandbox clock may be days ahead in tests).
        "X-RateLimit-Reset": str(int(time.time() + (reset - now))),
    }
    if enforced and used > limit:
        retry = max(1, int(reset - now + 0.999))
        raise ApiError(
            429,
            "RATE_LIMITED",
            f"Rate limit of {limit}/min for {rate_class} exceeded.",
            {"endpointClass": rate_class, "limit": limit},
            {**headers, "Retry-After": str(retry)},
        )
    return headers


def parse_body(request) -> dict:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        raise validation({"body": "must be valid JSON"}) from None
    if not isinstance(data, dict):
        raise validation({"body": "must be a JSON object"})
    return data


def with_idempotency(ctx: Ctx, run, idem_key: str) -> tuple[Reply, bool]:
    request = ctx.request
    route = f"{request.method} {request.path}"
    digest = hashlib.sha256(json.dumps(ctx.body, sort_keys=True).encode()).hexdigest()
    lookup = {"api_key_id": ctx.key.key_id, "route": route, "key": idem_key}
    rows.delete(IdempotencyRecord, **lookup, created_at__lt=ctx.now - timedelta(hours=24))
    try:
        with transaction.atomic():  # committed at once, so a concurrent duplicate sees it
            record = IdempotencyRecord.objects.create(
                **lookup, body_hash=digest, created_at=ctx.now
            )
    except IntegrityError:
        record = IdempotencyRecord.objects.filter(**lookup).first()
        if record is None:
            raise ApiError(
                409, "IDEMPOTENCY_CONFLICT", "Retry: the original request just expired."
            ) from None
        if record.body_hash != digest:
            raise ApiError(
                409, "IDEMPOTENCY_CONFLICT", "Idempotency-Key reused with a different body."
            ) from None
        if not record.done:
            raise ApiError(
                409, "IDEMPOTENCY_CONFLICT", "A request with this Idempotency-Key is in flight."
            ) from None
        return Reply(record.status, json.loads(record.body)), True
    try:
        reply = run()
    except BaseException:
        record.delete()  # never executed to completion: let a retry run it
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        done=True, status=reply.status, body=json.dumps(reply.body)
    )
    return reply, False


def render(reply: Reply, request_id: str, headers: dict) -> HttpResponse:
    extra = dict(reply.headers)
    raw = extra.pop("_raw", None)
    if raw is not None:
        response = HttpResponse(raw, status=reply.status, content_type="application/json")
    elif reply.status == 304 or reply.body is None:
        response = HttpResponse(status=reply.status)
    else:
        response = JsonResponse(reply.body, status=reply.status, safe=False)
    for name, value in {**headers, **extra, "X-Request-Id": request_id}.items():
        response[name] = value
    return response


def stamp(reply: Reply, request_id: str) -> Reply:
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    if isinstance(error, dict) and error.get("requestId") is None:
        error["requestId"] = request_id
    return reply


def endpoint(route: str, method: str | None = "GET", *, rate_class: str | None = None, scope=None):
    """`method` None accepts any verb (the catch-all); the endpoint class defaults to
    read-light for GET and write-light otherwise (long-running routes say so)."""
    rate_class = rate_class or ("read-light" if method in ("GET", None) else "write-light")

    def decorate(fn):
        @csrf_exempt
        @wraps(fn)
        def view(request, **kwargs):
            request_id = clock.new_id("req")
            state = get_state()
            # Not at the top: these modules import this one.
            from . import extensions, proposer
            from .faults import dropped, early_fault, late_fault, take_fault

            proposer.on_request(state)
            if state.latency_ms:
                time.sleep(state.latency_ms / 1000)
            verb = request.method
            write = verb in WRITE_METHODS
            Counter.bump(f"calls:{verb}", f"route:{verb} {route}")
            headers = rate_limit_headers_only(state, rate_class)
            fault, replayed = None, False
            try:
                if method and verb != method:
                    raise ApiError(
                        405,
                        "METHOD_NOT_ALLOWED",
                        f"Use {method} on this path.",
                        {"allowed": [method]},
                        {"Allow": method},
                    )
                fault = take_fault(state, verb, request.path)
                reply = early_fault(fault, write) if fault else None
                if reply is None:
                    key = authenticate(request)
                    headers = rate_limit(state, key, rate_class)
                    if route in extensions.ENDPOINTS and not extensions.enabled(state):
                        raise not_found("endpoint")  # as an unknown path answers
                    if not has_scope(key.scopes, scope):
                        required = scope[-1] if isinstance(scope, tuple) else scope
                        raise ApiError(
                            403,
                            "FORBIDDEN_SCOPE",
                            f"This key lacks the {required} scope.",
                            {"requiredScope": required},
                        )
                    ctx = Ctx(
                        request,
                        request_id,
                        key,
                        state,
                        clock.now(state),
                        parse_body(request) if write else {},
                    )

                    def run():
                        if fault and fault["kind"] == "slow":
                            # The work itself takes this long: an Idempotency-Key sent
                            # meanwhile meets its first request still in flight.
                            time.sleep(float(fault.get("delay", 2)))
                        try:
                            with transaction.atomic():
                                return stamp(fn(ctx, **kwargs), request_id)
                        except ApiError as exc:
                            return stamp(exc.reply, request_id)

                    idem_key = request.headers.get("Idempotency-Key")
                    if write and idem_key:
                        reply, replayed = with_idempotency(ctx, run, idem_key)
                    else:
                        reply = run()
                    if write and reply.status < 400:
                        Counter.bump(
                            "replayed" if replayed else "executed",
                            *([] if replayed else [f"executedRoute:{verb} {route}"]),
                        )
                    if fault and not write:
                        late_fault(fault, reply)
            except ApiError as exc:
                reply = exc.reply
            except Exception:
                log.exception("sandbox %s failed", route)
                reply = Reply.error(500, "INTERNAL", "The sandbox hit an unexpected error.")
            reply = stamp(reply, request_id)
            if not extensions.enabled(state):
                reply = extensions.strip(route, reply)
            response = render(reply, request_id, headers)
            if fault and fault["kind"] == "timeout":
                time.sleep(float(fault.get("delay", 5)))
            elif fault and fault["kind"] == "drop":
                return dropped(response, request.environ)
            return response

        view.route_name = route
        return view

    return decorate


def rate_limit_headers_only(state: State, rate_class: str) -> dict:
    """Bucket headers for answers given before the key is known (faults, 401)."""
    limit = TIERS.get(tier_name(state), TIERS["standard"])[rate_class]
    now = clock.now(state).timestamp()
    reset = (int(now // 60) + 1) * 60
    return {
        "X-RateLimit-Endpoint-Class": rate_class,
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(limit),
        # On the caller's clock, as rate_limit() does: the sandbox clock may be days ahead.
        "X-RateLimit-Reset": str(int(time.time() + (reset - now))),
    }
