"""E-mail settings (signed in), and the unsubscribe link (no sign-in: its token is the key)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from dashboard.models import MailPreference
from dashboard.services import digests


@login_required
@require_http_methods(["GET", "POST"])
def mail_settings(request):
    pref = digests.mail_preference_get(request.user)
    form_error = None
    typed = {
        "mode": pref.mode,
        "hour": str(pref.hour),
        "time_zone": pref.time_zone,
        "email": request.user.email,
    }
    if request.method == "POST":
        typed = {name: request.POST.get(name, "") for name in typed}
        try:
            digests.mail_preference_set(user=request.user, **typed)
            messages.success(request, "E-mail settings saved.")
            return redirect("mail-settings")
        except ValueError as error:
            form_error = str(error)
    context = {
        "typed": typed,
        "modes": MailPreference.Mode.choices,
        "hours": [(str(h), f"{h:02d}:00") for h in range(24)],
        "zones": digests.mail_time_zones(),
        "form_error": form_error,
    }
    return render(request, "mail/settings.html", context, status=422 if form_error else 200)


@csrf_exempt  # one-click unsubscribe (RFC 8058): mail clients POST without a form of ours
@require_http_methods(["GET", "POST"])
def mail_unsubscribe(request, token):
    """GET asks (link scanners open links; they must not unsubscribe anyone); POST does it."""
    pref = digests.mail_unsubscribe_find(token)
    if pref is None:
        raise Http404("This unsubscribe link is not valid.")
    if request.method == "POST":
        digests.mail_unsubscribe(token)
        return render(request, "mail/unsubscribed.html", {"pref": pref})
    return render(request, "mail/unsubscribe.html", {"pref": pref, "token": token})
