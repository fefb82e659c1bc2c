"""Typed, frozen records for what the Layers API returns.

A tolerant reader: unknown fields are ignored, unknown enum values are kept as the raw
string, missing optional fields take a default, timestamps parse with or without
milliseconds. A missing id (or another field we cannot do without), or an item that is not
a JSON object, raises LayersBadResponse. Platforms are turned into the dashboard's short
vocabulary (meta | tiktok | apple) whichever form the wire used.

One module per job: base.py (the readers, a page, the rate limit), projects.py (the key,
projects, ad accounts), campaigns.py (campaigns, authority, defaults, write answers),
pending.py (pending actions, decisions, optimizer runs, jobs), audit.py (verdicts, audit
rows, webhook endpoints). Every record is importable from here, as it always was."""

from ..wire import parse_time
from .audit import AuditEvent, Verdict, WebhookEndpoint
from .base import Page, RateLimit
from .campaigns import AXES, Authority, Campaign, CampaignAuthority, LayerDefaults, WriteResult
from .pending import (
    ACTION_AXIS,
    Decision,
    Job,
    OptimizerRun,
    OptimizerRunStart,
    PendingAction,
    RunStage,
)
from .projects import AdAccount, Layer, OAuthUrl, Project, WhoAmI

__all__ = [
    "ACTION_AXIS",
    "AXES",
    "AdAccount",
    "AuditEvent",
    "Authority",
    "Campaign",
    "CampaignAuthority",
    "Decision",
    "Job",
    "Layer",
    "LayerDefaults",
    "OAuthUrl",
    "OptimizerRun",
    "OptimizerRunStart",
    "Page",
    "PendingAction",
    "Project",
    "RateLimit",
    "RunStage",
    "Verdict",
    "WebhookEndpoint",
    "WhoAmI",
    "WriteResult",
    "parse_time",
]
