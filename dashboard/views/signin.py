"""The sign-in page: throttled against guessing, and never shown inside a frame."""

from django.conf import settings
from django.contrib.auth import views as auth_views

from dashboard import sso
from dashboard.services import signin
from dashboard.views.embed import embed_session_ended


class LoginView(auth_views.LoginView):
    """The sign-in page; inside a partner's iframe, the "session ended" page instead.

    The login form must never be framed (clickjacking), so a framed request for it, which
    is what an embed session that expired leads to, would otherwise show the browser's
    refusal. Instead the frame says what happened and tells the portal, which can mint a
    fresh token for the page the person was on."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        """With an identity provider set up: its button, and why its last answer was refused."""
        context = super().get_context_data(**kwargs)
        if sso.sso_enabled():
            context["sso_name"] = sso.sso_provider_name()
            refused = self.request.session.pop(sso.REFUSED_KEY, "")
            if refused or self.request.GET.get("sso") == "refused":
                context["sso_refused"] = refused or (
                    f"Signing in with {context['sso_name']} did not work; try again."
                )
        return context

    def get(self, request, *args, **kwargs):
        if request.headers.get("Sec-Fetch-Dest") == "iframe" and settings.EMBED_ALLOWED_ORIGINS:
            return embed_session_ended(request)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        who = {
            "username": request.POST.get("username", "")[:150],
            "address": request.META.get("REMOTE_ADDR", ""),
        }
        if signin.signin_throttled(**who):
            wait = settings.SIGNIN_WINDOW_SECONDS
            context = self.get_context_data(
                form=self.get_form(), throttled=True, wait_minutes=max(1, wait // 60)
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            signin.signin_success_record(**who)
        else:
            signin.signin_failure_record(**who)
        return response
