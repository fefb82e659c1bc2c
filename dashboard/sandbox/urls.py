"""Sandbox routes, mounted at /sandbox/ by dashboard/urls.py. API paths are exactly the
contract's (`/v1/...`); `{platform}` path segments are meta|tiktok|apple."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from . import control, oauth
from .views import campaigns, core, pending
from .views import webhook_endpoints as hooks

app_name = "sandbox"
ADS = "v1/projects/<str:project_id>/ads"
ONE = f"{ADS}/<str:platform>/campaigns/<str:campaign_id>"
HOOK = "v1/webhook-endpoints/<str:endpoint_id>"


def by_method(**handlers):
    """One URL, several verbs."""

    @csrf_exempt
    def view(request, **kwargs):
        # An unlisted verb goes to the first handler, which answers 405 with its Allow header.
        handler = handlers.get(request.method.lower()) or next(iter(handlers.values()))
        return handler(request, **kwargs)

    return view


urlpatterns = [
    path("v1/whoami", core.whoami),
    path("v1/projects", core.projects_list),
    path("v1/projects/<str:project_id>", core.project_get),
    path(f"{ADS}/ad-accounts", core.ad_accounts),
    path(f"{ADS}/ad-accounts/oauth-url", core.oauth_url),
    path(f"{ADS}/campaigns", campaigns.campaigns_list),
    path(f"{ADS}/verdicts/<str:verdict_id>", core.verdict_get),
    path(f"{ADS}/optimizer/run", pending.optimizer_run),
    path(f"{ADS}/optimizer/runs/<str:run_id>", pending.optimizer_run_get),
    path(f"{ADS}/<str:platform>/campaigns", campaigns.campaign_create),
    path(ONE, by_method(get=campaigns.campaign_get, delete=campaigns.campaign_delete)),
    path(f"{ONE}/budget", campaigns.campaign_budget),
    path(f"{ONE}/pause", campaigns.campaign_pause),
    path(f"{ONE}/resume", campaigns.campaign_resume),
    path(
        f"{ONE}/authority", by_method(get=campaigns.authority_get, patch=campaigns.authority_patch)
    ),
    path(
        f"{ADS}/<str:platform>/defaults",
        by_method(get=campaigns.defaults_get, patch=campaigns.defaults_patch),
    ),
    path(f"{ADS}/<str:platform>/pending", pending.pending_list),
    path(f"{ADS}/<str:platform>/pending/count", pending.pending_count),
    path(f"{ADS}/<str:platform>/pending/<str:pending_id>/approve", pending.pending_approve),
    path(f"{ADS}/<str:platform>/pending/<str:pending_id>/reject", pending.pending_reject),
    path("v1/jobs/<str:job_id>", core.job_get),
    path("v1/audit-log", core.audit_log),
    path(
        "v1/webhook-endpoints",
        by_method(get=hooks.endpoints_list, post=hooks.endpoint_create),
    ),
    path(HOOK, by_method(get=hooks.endpoint_get, patch=hooks.endpoint_patch)),
    path(f"{HOOK}/rotate-secret", hooks.endpoint_rotate),
    path(f"{HOOK}/test", hooks.endpoint_test),
    path(f"{HOOK}/deliveries", hooks.endpoint_deliveries),
    re_path(r"^v1/(?P<rest>.*)$", core.unknown),
    path("oauth/consent", oauth.consent, name="consent"),
    path("_control/<str:action>", control.control),
]
