from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard import sso, webhooks
from dashboard.views import (
    access,
    accounts,
    audit,
    campaigns,
    core,
    embed,
    inbox,
    mail,
    notices,
    optimizer,
    pending,
    projects,
    sharing,
    signin,
    verdicts,
)

handler404 = "dashboard.views.core.not_found"

urlpatterns = [
    path("", projects.project_list, name="home"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/fresh", inbox.fresh, name="inbox-fresh"),
    path("inbox/refresh", inbox.refresh, name="inbox-refresh"),
    path("inbox/bulk", inbox.bulk, name="inbox-bulk-start"),
    path("inbox/bulk/<str:form_key>/", inbox.bulk_page, name="inbox-bulk"),
    path(
        "inbox/<str:project_id>/<str:platform>/<str:pending_id>/",
        inbox.detail,
        name="inbox-detail",
    ),
    path(
        "inbox/<str:project_id>/<str:platform>/<str:pending_id>/decide",
        inbox.decide,
        name="inbox-decide",
    ),
    path("projects/<str:project_id>/", projects.project_overview, name="project"),
    path("projects/<str:project_id>/access/", access.access_page, name="project-access"),
    path("projects/<str:project_id>/owner/", projects.project_owner, name="project-owner"),
    path("projects/<str:project_id>/queue/", pending.queue, name="queue"),
    path("projects/<str:project_id>/queue/counts", pending.counts, name="queue-counts"),
    path("projects/<str:project_id>/queue/fresh", pending.fresh, name="queue-fresh"),
    path("projects/<str:project_id>/queue/bulk", pending.bulk_start, name="queue-bulk-start"),
    path(
        "projects/<str:project_id>/queue/bulk/preview",
        pending.bulk_preview,
        name="queue-bulk-preview",
    ),
    path(
        "projects/<str:project_id>/queue/bulk/<str:bulk_id>/", pending.bulk_page, name="queue-bulk"
    ),
    path(
        "projects/<str:project_id>/queue/bulk/<str:bulk_id>/retry",
        pending.bulk_retry,
        name="queue-bulk-retry",
    ),
    path(
        "projects/<str:project_id>/queue/bulk/<str:bulk_id>/resume",
        pending.bulk_resume,
        name="queue-bulk-resume",
    ),
    path(
        "projects/<str:project_id>/queue/holds/<uuid:hold_id>",
        pending.hold_status,
        name="queue-hold",
    ),
    path(
        "projects/<str:project_id>/queue/holds/<uuid:hold_id>/undo",
        pending.hold_undo,
        name="queue-hold-undo",
    ),
    path(
        "projects/<str:project_id>/queue/<str:platform>/<str:pending_id>/decide",
        pending.decide,
        name="queue-decide",
    ),
    path("projects/<str:project_id>/accounts/", accounts.accounts_page, name="accounts"),
    path(
        "projects/<str:project_id>/accounts/connect",
        accounts.connect_start,
        name="accounts-connect",
    ),
    path(
        "projects/<str:project_id>/accounts/connect/popup",
        accounts.connect_popup,
        name="accounts-connect-popup",
    ),
    path(
        "projects/<str:project_id>/accounts/connect/status",
        accounts.connect_status,
        name="accounts-connect-status",
    ),
    path(
        "projects/<str:project_id>/accounts/callback",
        accounts.connect_callback,
        name="accounts-callback",
    ),
    path("projects/<str:project_id>/campaigns/", campaigns.campaign_list, name="campaigns"),
    path("projects/<str:project_id>/campaigns/new", campaigns.campaign_new, name="campaign-new"),
    path(
        "projects/<str:project_id>/campaigns/<str:platform>/<str:campaign_id>/",
        campaigns.campaign_page,
        name="campaign",
    ),
    path(
        "projects/<str:project_id>/campaigns/<str:platform>/<str:campaign_id>/authority",
        campaigns.authority,
        name="campaign-authority",
    ),
    path(
        "projects/<str:project_id>/campaigns/<str:platform>/<str:campaign_id>/write",
        campaigns.campaign_write,
        name="campaign-write",
    ),
    path("projects/<str:project_id>/jobs/<str:job_id>/", campaigns.job_page, name="job"),
    path("projects/<str:project_id>/optimizer/run", optimizer.run_start, name="optimizer-start"),
    path(
        "projects/<str:project_id>/optimizer/runs/<str:run_id>/",
        optimizer.run_page,
        name="optimizer-run",
    ),
    path("projects/<str:project_id>/share/", sharing.share_manage, name="project-share"),
    path(
        "projects/<str:project_id>/share/<int:link_id>/revoke",
        sharing.share_revoke,
        name="project-share-revoke",
    ),
    path("projects/<str:project_id>/audit/", audit.audit_page, name="audit"),
    path("projects/<str:project_id>/audit/export/", audit.audit_export, name="audit-export"),
    path(
        "projects/<str:project_id>/audit/export/<uuid:export_id>/",
        audit.audit_export_progress_page,
        name="audit-export-progress",
    ),
    path(
        "projects/<str:project_id>/audit/export/<uuid:export_id>/download",
        audit.audit_export_download,
        name="audit-export-download",
    ),
    path(
        "projects/<str:project_id>/verdicts/<str:verdict_id>/",
        verdicts.verdict_page,
        name="verdict",
    ),
    path("notices/", notices.notices_page, name="notices"),
    path("notices/read", notices.notices_read, name="notices-read"),
    path("notices/count", notices.notices_count, name="notices-count"),
    path("settings/mail/", mail.mail_settings, name="mail-settings"),
    path("mail/unsubscribe/<str:token>", mail.mail_unsubscribe, name="mail-unsubscribe"),
    path("webhooks/layers", webhooks.receive, name="webhooks-layers"),
    path("s/<str:token>", sharing.share_open, name="share"),
    path("embed/start", embed.embed_start, name="embed-start"),
    path("health", core.health, name="health"),
    path("health/live", core.health_live, name="health-live"),
    path("metrics", core.metrics, name="metrics"),
    path("first-run/", core.first_run, name="first-run"),
    path("favicon.ico", core.favicon, name="favicon"),
    path("login/", signin.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Sign-in with the partner's identity provider (404 unless OIDC_RP_CLIENT_ID is set).
    path("oidc/start/", sso.SSOStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", sso.SSOCallbackView.as_view(), name="oidc_authentication_callback"),
]

if settings.SANDBOX_ENABLED:
    # The stand-in Layers API, mounted by name so nothing here imports it.
    urlpatterns.append(path("sandbox/", include("dashboard.sandbox.urls")))
if settings.DEMO_MODE:
    # A stand-in partner portal that embeds the dashboard from another origin. It needs no
    # login and mints approver tokens for any project: only ever in the demo (debug on,
    # the sandbox as the API).
    urlpatterns.append(path("demo-portal/", embed.demo_portal, name="demo-portal"))
