"""Key, projects, ad accounts (incl. OAuth URL), jobs, audit log and verdicts.

Sandbox extension (not in the Layers docs): `GET /v1/projects/:projectId/ads/verdicts/:verdictId`
(scope `ads:read`) returns the gate's decision record — verdictId, decision (allow | queue |
deny), reason, axis, authority in force, the request (method, path, sanitised body),
actorType, apiKeyId, platform, entityType, entityId, pendingId, jobId, createdAt."""

import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.urls import reverse

from .. import clock
from ..changes import expire_pending
from ..http import ApiError, Reply, body_platform, endpoint, not_found, tier_name, validation
from ..models import AdAccount, AuditEvent, Job, OAuthToken, Project, Verdict
from ..paging import page
from ..records import ORG_ID, ORG_NAME, account_row, audit_row, job_body, project_row, verdict_body
from ..runs import advance_runs, complete_jobs
from . import get_project

RETURN_HOSTS = {"127.0.0.1", "localhost", "::1"}
OAUTH_TTL = timedelta(minutes=10)


@endpoint("whoami")
def whoami(ctx):
    tier = tier_name(ctx.state)
    return Reply(
        200,
        {
            "organizationId": ORG_ID,
            "workspaceId": ORG_ID,
            "organizationName": ORG_NAME,
            "parentOrganizationId": None,
            "scopes": ctx.key.scopes,
            "rateLimitTier": tier if tier != "off" else "standard",
            "apiKeyId": ctx.key.key_id,
            "creditBalance": 2540,
            "killSwitch": False,
            "apiAccessRevoked": False,
        },
    )


@endpoint("projects.list", scope="projects:read")
def projects_list(ctx):
    qs = Project.objects.all()
    status = ctx.request.GET.get("status")
    if status:
        if status not in ("active", "archived"):
            raise validation({"status": "must be active or archived"})
        qs = qs.filter(status=status)
    if ctx.request.GET.get("search"):
        qs = qs.filter(name__icontains=ctx.request.GET["search"])
    if ctx.request.GET.get("customerExternalId"):
        qs = qs.filter(customer_external_id=ctx.request.GET["customerExternalId"])
    rows, cursor = page(
        qs,
        order=("created_at", "uuid"),
        cursor=ctx.request.GET.get("cursor"),
        limit=ctx.limit(25, 200),
        strict=True,
    )
    return Reply(200, {"items": [project_row(p) for p in rows], "nextCursor": cursor})


@endpoint("projects.get", scope="projects:read")
def project_get(ctx, project_id):
    project = get_project(project_id)
    layers = [
        {
            "layerId": layer.id,
            "template": f"{layer.platform}_ads_manager",
            "platform": f"{layer.platform}_ads",
            "isActive": True,
        }
        for layer in project.layers.order_by("platform")
    ]
    return Reply(
        200,
        {
            **project_row(project),
            "organizationId": ORG_ID,
            "brandContext": project.brand_context,
            "ingestState": "ready",
            "layers": layers,
            "approvalPolicy": {"mode": "manual"},
        },
    )


@endpoint("ad_accounts.list", scope="ads:read")
def ad_accounts(ctx, project_id):
    project = get_project(project_id)
    qs = AdAccount.objects.filter(project=project).order_by("connected_at", "id")
    platforms = ctx.query_list("platforms")
    if platforms:
        qs = qs.filter(platform__in=[body_platform(p, "platforms") for p in platforms])
    if ctx.request.GET.get("healthy") in ("true", "1"):
        qs = qs.filter(token_status="valid")
    return Reply(200, {"items": [account_row(a) for a in qs], "nextCursor": None})


@endpoint("ad_accounts.oauth_url", "POST", scope=("ads:write", "ads:write:connect"))
def oauth_url(ctx, project_id):
    project = get_project(project_id)
    body = ctx.body
    errors = {}
    if "platform" not in body:
        errors["platform"] = "is required"
    return_url = body.get("returnUrl") or body.get("redirectUrl")
    if not isinstance(return_url, str) or not return_url:
        errors["returnUrl"] = "is required"
    if body.get("state") is not None and not isinstance(body["state"], str):
        errors["state"] = "must be a string"
    if errors:
        raise validation(errors)
    platform = body_platform(body["platform"])
    parts = urlsplit(return_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise validation({"returnUrl": "must be an absolute http(s) URL"})
    if parts.hostname not in RETURN_HOSTS:
        raise ApiError(
            403,
            "RETURN_URL_NOT_ALLOWED",
            "That returnUrl host is not on this key's allowlist.",
            {"returnUrl": return_url, "allowedHosts": sorted(RETURN_HOSTS)},
        )
    token = OAuthToken.objects.create(
        token=secrets.token_urlsafe(24),
        project=project,
        platform=platform,
        return_url=return_url,
        state=body.get("state"),
        expires_at=ctx.now + OAUTH_TTL,
    )
    url = ctx.request.build_absolute_uri(reverse("sandbox:consent") + f"?t={token.token}")
    return Reply(200, {"url": url, "expiresAt": clock.iso(token.expires_at)})


@endpoint("jobs.get", scope="jobs:read")
def job_get(ctx, job_id):
    if not Job.objects.filter(pk=job_id).exists():
        raise not_found("job")
    complete_jobs(ctx.now, pk=job_id)
    advance_runs(ctx.now, job_id=job_id)
    body = job_body(Job.objects.get(pk=job_id))
    etag = '"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32] + '"'
    if etag in [tag.strip() for tag in ctx.request.headers.get("If-None-Match", "").split(",")]:
        return Reply(304, None, {"ETag": etag})
    return Reply(200, body, {"ETag": etag})


@endpoint("audit_log.list")
def audit_log(ctx):
    # Expiry is lazy; the org-wide feed must show every action already past its expiry.
    expire_pending(ctx.now)
    qs = AuditEvent.objects.all()
    get = ctx.request.GET
    for param, field in (("eventType", "event_type"), ("apiKeyId", "api_key_id")):
        if get.get(param):
            qs = qs.filter(**{field: get[param]})
    if get.get("projectId"):
        qs = qs.filter(project_id="prj_" + get["projectId"].removeprefix("prj_"))
    for param, lookup in (("since", "occurred_at__gte"), ("until", "occurred_at__lte")):
        if get.get(param):
            try:
                qs = qs.filter(**{lookup: clock.parse_iso(get[param])})
            except ValueError:
                raise validation({param: "must be an ISO 8601 timestamp with a timezone"}) from None
    rows, cursor = page(
        qs,
        order=("-occurred_at", "event_id"),
        cursor=get.get("cursor"),
        limit=ctx.limit(50, 200),
        strict=True,
    )
    return Reply(200, {"items": [audit_row(e) for e in rows], "nextCursor": cursor})


@endpoint("verdicts.get", scope="ads:read")
def verdict_get(ctx, project_id, verdict_id):
    project = get_project(project_id)
    verdict = Verdict.objects.filter(pk=verdict_id, project_id=project.public_id).first()
    if verdict is None:
        raise not_found("verdict")
    return Reply(200, verdict_body(verdict))


@endpoint("unknown", None)
def unknown(ctx, rest=""):
    raise not_found("endpoint")
