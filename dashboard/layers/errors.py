"""The error tree of the Layers client.

Every failure the client raises is a `LayersError`. `.message` is a sentence we wrote for a
person (never Layers' own text alone: the contract says never to branch on it, and it may be
technical); `.upstream_message` keeps Layers' text for logs. `.code` is the wire code when
there was one (an unknown code is kept, and the class is chosen by HTTP status)."""

from __future__ import annotations

from .wire import parse_time


class LayersError(Exception):
    default_message = "The Layers API could not complete the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        details: dict | None = None,
        retry_after: float | None = None,
        upstream_message: str | None = None,
    ):
        self.message = message or self.default_message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.details = details if isinstance(details, dict) else {}
        self.retry_after = retry_after
        self.upstream_message = upstream_message
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.code or self.status:
            parts.append(f"({self.code or '-'} {self.status or '-'})")
        if self.request_id:
            parts.append(f"request {self.request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"request_id={self.request_id!r})"
        )


class Unauthenticated(LayersError):
    default_message = (
        "The Layers API key was rejected (revoked or invalid). "
        "An administrator needs to update LAYERS_API_KEY."
    )


class ForbiddenScope(LayersError):
    default_message = "The Layers API key is not allowed to do this (a scope is missing)."

    @property
    def required_scope(self) -> str | None:
        return self.details.get("requiredScope")

    @classmethod
    def sentence(cls, details: dict) -> str:
        scope = details.get("requiredScope") if isinstance(details, dict) else None
        if isinstance(scope, str) and scope:
            return f"The Layers API key is not allowed to do this: it lacks the {scope} scope."
        return cls.default_message


class NotFound(LayersError):
    default_message = (
        "Layers has no such item; it may have been deleted or belong to another organization."
    )


class ValidationFailed(LayersError):
    default_message = "Layers did not accept the request: some values are not valid."

    @property
    def fields(self) -> dict:
        fields = self.details.get("fields")
        return dict(fields) if isinstance(fields, dict) else {}


AUTHORITY_REASONS = {
    "authority_axis_off": (
        "The customer has turned this kind of change off for this campaign "
        "({axis} authority is off)."
    ),
    "kill_switch_active": (
        "The customer's kill switch is on for this platform, so Layers refuses every change."
    ),
    "partner_consent_missing": (
        "The customer has not yet allowed partners to make changes on this platform."
    ),
    "partner_escalation_forbidden": (
        "A partner cannot give a campaign more authority than the customer allows."
    ),
}


class AuthorityDenied(LayersError):
    default_message = "Layers' authority gate refused this change."

    @property
    def reason(self) -> str | None:
        return self.details.get("reason")

    @property
    def axis(self) -> str | None:
        return self.details.get("axis")

    @property
    def verdict_id(self) -> str | None:
        return self.details.get("verdictId")

    @classmethod
    def sentence(cls, details: dict) -> str:
        reason = details.get("reason") if isinstance(details, dict) else None
        axis = (details.get("axis") if isinstance(details, dict) else None) or "the"
        if isinstance(reason, str) and reason in AUTHORITY_REASONS:
            return AUTHORITY_REASONS[reason].format(axis=axis)
        if isinstance(reason, str) and reason.startswith("guardrail_"):
            rule = reason.removeprefix("guardrail_").replace("_", " ")
            return f"Layers' safety guardrail ({rule}) refused this change."
        return cls.default_message


class Conflict(LayersError):
    default_message = "This was already decided or changed by someone else."

    @property
    def current_status(self) -> str | None:
        return self.details.get("currentStatus")

    @property
    def decided_at(self):
        return parse_time(self.details.get("decidedAt"))

    @property
    def decided_by(self) -> dict | None:
        value = self.details.get("decidedBy")
        return value if isinstance(value, dict) else None

    @classmethod
    def sentence(cls, details: dict) -> str:
        status = details.get("currentStatus") if isinstance(details, dict) else None
        if isinstance(status, str) and status:
            return f"This action is already {status.replace('_', ' ')}; nothing was changed."
        return cls.default_message


class IdempotencyConflict(LayersError):
    default_message = (
        "Layers saw this request before with different content; it was not applied again."
    )


class RateLimited(LayersError):
    default_message = "Layers is rate limiting this API key; try again in a moment."

    @classmethod
    def sentence(cls, retry_after: float | None) -> str:
        if retry_after:
            seconds = int(retry_after + 0.999)
            return f"Layers is rate limiting this API key; try again in {seconds} seconds."
        return cls.default_message


class KillSwitch(LayersError):
    default_message = (
        "Layers has suspended this API key or organization (kill switch). "
        "An administrator needs to contact Layers or rotate the key."
    )


class ReturnUrlNotAllowed(LayersError):
    default_message = "Layers does not allow this return address for ad-account connection."


class PlatformRejected(LayersError):
    default_message = "The ad platform refused this change."


class ServerError(LayersError):
    default_message = "The Layers API had a problem on its side; try again shortly."


class PlatformError(ServerError):
    """502 PLATFORM_ERROR: the ad platform behind Layers failed (transient, like a 5xx)."""

    default_message = "The ad platform behind Layers is not answering properly; try again shortly."


class LayersTimeout(LayersError):
    default_message = "The Layers API did not answer in time; try again shortly."


class LayersConnectionError(LayersError):
    default_message = "The Layers API could not be reached; try again shortly."


class LayersBadResponse(LayersError):
    default_message = "The Layers API sent an answer the dashboard could not read."


# Wire code → class. [I] statuses per contract §1.7; unknown codes fall back to BY_STATUS.
BY_CODE: dict[str, type[LayersError]] = {
    "UNAUTHENTICATED": Unauthenticated,
    "FORBIDDEN_SCOPE": ForbiddenScope,
    "NOT_FOUND": NotFound,
    "VALIDATION": ValidationFailed,
    "AUTHORITY_DENIED": AuthorityDenied,
    "CONFLICT": Conflict,
    "IDEMPOTENCY_CONFLICT": IdempotencyConflict,
    "RATE_LIMITED": RateLimited,
    "KILL_SWITCH": KillSwitch,
    "RETURN_URL_NOT_ALLOWED": ReturnUrlNotAllowed,
    "PLATFORM_REJECTED": PlatformRejected,
    "PLATFORM_ERROR": PlatformError,
    "INTERNAL": ServerError,
}

BY_STATUS: dict[int, type[LayersError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: ForbiddenScope,
    404: NotFound,
    409: Conflict,
    410: NotFound,
    422: ValidationFailed,
    429: RateLimited,
}


def error_class(code: str | None, status: int) -> type[LayersError]:
    if code and code in BY_CODE:
        return BY_CODE[code]
    if status in BY_STATUS:
        return BY_STATUS[status]
    if status >= 500:
        return ServerError
    return LayersError


def error_from_response(
    *,
    status: int,
    code: str | None,
    upstream_message: str | None,
    request_id: str | None,
    details: dict | None,
    retry_after: float | None,
) -> LayersError:
    cls = error_class(code, status)
    details = details if isinstance(details, dict) else {}
    if cls is RateLimited:
        message = RateLimited.sentence(retry_after)
    elif hasattr(cls, "sentence"):
        message = cls.sentence(details)
    else:
        message = cls.default_message
    return cls(
        message,
        code=code,
        status=status,
        request_id=request_id,
        details=details,
        retry_after=retry_after,
        upstream_message=upstream_message,
    )
