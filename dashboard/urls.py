from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard.views import access, core, embed, pending, projects, sharing

urlpatterns = [
    path("", projects.project_list, name="home"),
    path("projects/<str:project_id>/", projects.project_overview, name="project"),
    path("projects/<str:project_id>/access/", access.access_page, name="project-access"),
    path("projects/<str:project_id>/queue/", pending.queue, name="queue"),
    path("projects/<str:project_id>/queue/counts", pending.counts, name="queue-counts"),
    path(
        "projects/<str:project_id>/queue/<str:platform>/<str:pending_id>/decide",
        pending.decide,
        name="queue-decide",
    ),
    path("projects/<str:project_id>/share/", sharing.share_manage, name="project-share"),
    path("projects/<str:project_id>/share/<int:link_id>/revoke", sharing.share_revoke, name="project-share-revoke"),
    path("s/<str:token>", sharing.share_open, name="share"),
    path("embed/start", embed.embed_start, name="embed-start"),
    path("health", core.health, name="health"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

if settings.SANDBOX_ENABLED:
    # The stand-in Layers API, mounted by name so nothing here imports it.
    urlpatterns.append(path("sandbox/", include("dashboard.sandbox.urls")))
    # A stand-in partner portal that embeds the dashboard from another origin (demo only).
    urlpatterns.append(path("demo-portal/", embed.demo_portal, name="demo-portal"))
