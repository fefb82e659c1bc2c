"""The Layers Partner API client: typed records, an error tree, one HTTP path.

Only `dashboard.services` imports this package (views never do)."""

import threading

from .client import LayersClient
from .errors import (
    AuthorityDenied,
    Conflict,
    ForbiddenScope,
    IdempotencyConflict,
    KillSwitch,
    LayersBadResponse,
    LayersConnectionError,
    LayersError,
    LayersTimeout,
    NotFound,
    PlatformError,
    PlatformRejected,
    RateLimited,
    ReturnUrlNotAllowed,
    ServerError,
    Unauthenticated,
    ValidationFailed,
)
from .records import (
    AXES,
    AdAccount,
    AuditEvent,
    Authority,
    Campaign,
    CampaignAuthority,
    Decision,
    Job,
    Layer,
    LayerDefaults,
    OAuthUrl,
    OptimizerRun,
    OptimizerRunStart,
    Page,
    PendingAction,
    Project,
    RateLimit,
    RunStage,
    Verdict,
    WebhookEndpoint,
    WhoAmI,
    WriteResult,
)
from .webhooks import (
    ApprovalDispatched,
    EnvelopeUnreadable,
    JobFinished,
    Ping,
    RunCompleted,
    Verification,
    WebhookEnvelope,
    WriteDenied,
    signature_verify,
)
from .wire import PLATFORMS

_local = threading.local()


def client_from_settings(purpose: str = "pages", **options) -> LayersClient:
    """This thread's client for a purpose, built from the current settings (`options` go to
    LayersClient, e.g. the sync engine's own retries). Rebuilt when the settings it was built
    from change (tests point settings at a live sandbox per test)."""
    from django.conf import settings

    config = (
        settings.LAYERS_API_BASE_URL,
        settings.LAYERS_API_KEY,
        float(settings.LAYERS_CONNECT_TIMEOUT),
        float(settings.LAYERS_READ_TIMEOUT),
    )
    clients = _local.__dict__.setdefault("clients", {})
    client, built_from = clients.get(purpose, (None, None))
    if client is None or built_from != config:
        if client is not None:
            client.close()
        client = LayersClient(
            base_url=config[0],
            api_key=config[1],
            connect_timeout=config[2],
            read_timeout=config[3],
            **options,
        )
        clients[purpose] = (client, config)
    return client


__all__ = [
    "AXES",
    "PLATFORMS",
    "AdAccount",
    "ApprovalDispatched",
    "AuditEvent",
    "Authority",
    "AuthorityDenied",
    "Campaign",
    "CampaignAuthority",
    "Conflict",
    "Decision",
    "EnvelopeUnreadable",
    "ForbiddenScope",
    "IdempotencyConflict",
    "Job",
    "JobFinished",
    "KillSwitch",
    "Layer",
    "LayerDefaults",
    "LayersBadResponse",
    "LayersClient",
    "LayersConnectionError",
    "LayersError",
    "LayersTimeout",
    "NotFound",
    "OAuthUrl",
    "OptimizerRun",
    "OptimizerRunStart",
    "Page",
    "PendingAction",
    "Ping",
    "PlatformError",
    "PlatformRejected",
    "Project",
    "RateLimit",
    "RateLimited",
    "ReturnUrlNotAllowed",
    "RunCompleted",
    "RunStage",
    "ServerError",
    "Unauthenticated",
    "ValidationFailed",
    "Verdict",
    "Verification",
    "WebhookEndpoint",
    "WebhookEnvelope",
    "WhoAmI",
    "WriteDenied",
    "WriteResult",
    "client_from_settings",
    "signature_verify",
]
