from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard.views import access, core, projects

urlpatterns = [
    path("", projects.project_list, name="home"),
    path("projects/<str:project_id>/", projects.project_overview, name="project"),
    path("projects/<str:project_id>/access/", access.access_page, name="project-access"),
    path("health", core.health, name="health"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

if settings.SANDBOX_ENABLED:
    # The stand-in Layers API, mounted by name so nothing here imports it.
    urlpatterns.append(path("sandbox/", include("dashboard.sandbox.urls")))
