"""The fake platform consent page behind `POST …/ad-accounts/oauth-url`.

GET shows the platform's accounts; POST (Authorize / Deny) spends the single-use token and
redirects to the partner's returnUrl with `status=connected&accountId=…` or
`status=error&error=access_denied|expired` (+ `state`). A spent or unknown token gets a
400 page and never connects a second account."""

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from . import clock
from .models import AdAccount, Layer, OAuthToken

PLATFORM_NAMES = {"meta": "Meta", "tiktok": "TikTok", "apple": "Apple Ads"}


def platform_accounts(project, platform) -> list[dict]:
    """Two or three accounts the customer "has" on the platform, stable per project."""
    seed = int(hashlib.sha256(f"{project.uuid}:{platform}".encode()).hexdigest()[:12], 16)
    labels = ["Main", "Brand", "Testing"]
    accounts = []
    for n, label in enumerate(labels[: 2 + seed % 2]):
        number = str(seed * 7 + n)[-12:].rjust(12, "1")
        external = {"meta": f"act_{number}", "tiktok": f"7{number}", "apple": f"org-{number[-7:]}"}[
            platform
        ]
        accounts.append({"externalId": external, "name": f"{project.name} — {label}"})
    return accounts


def _redirect(token: OAuthToken, **params) -> HttpResponseRedirect:
    if token.state is not None:
        params["state"] = token.state
    parts = urlsplit(token.return_url)
    query = urlencode(parse_qsl(parts.query) + list(params.items()))
    return HttpResponseRedirect(urlunsplit(parts._replace(query=query)))


def _problem(request, message: str):
    return render(request, "sandbox/consent.html", {"problem": message}, status=400)


@csrf_exempt  # the single-use token in the form is the anti-forgery secret
def consent(request):
    token_value = request.GET.get("t") or request.POST.get("t") or ""
    now = clock.now()
    if request.method != "POST":
        token = OAuthToken.objects.filter(pk=token_value).select_related("project").first()
        if token is None or token.used_at:
            return _problem(request, "This sign-in link is not valid or has already been used.")
        return render(
            request,
            "sandbox/consent.html",
            {
                "token": token,
                "platform_name": PLATFORM_NAMES[token.platform],
                "accounts": platform_accounts(token.project, token.platform),
                "expired": token.expires_at <= now,
            },
        )
    with transaction.atomic():
        token = (
            OAuthToken.objects.select_for_update()
            .filter(pk=token_value)
            .select_related("project")
            .first()
        )
        if token is None or token.used_at:
            return _problem(request, "This sign-in link is not valid or has already been used.")
        token.used_at = now
        token.save()
        if token.expires_at <= now:
            return _redirect(token, status="error", error="expired")
        if "deny" in request.POST:
            return _redirect(token, status="error", error="access_denied")
        choice = next(
            (
                a
                for a in platform_accounts(token.project, token.platform)
                if a["externalId"] == request.POST.get("account")
            ),
            None,
        )
        if choice is None:
            transaction.set_rollback(True)  # let the customer pick again with the same link
            return _problem(request, "Choose one of the listed accounts.")
        account = AdAccount.objects.filter(
            project=token.project, platform=token.platform, external_id=choice["externalId"]
        ).first()
        if account is None:
            account = AdAccount(
                id=clock.ulid(now),
                project=token.project,
                platform=token.platform,
                external_id=choice["externalId"],
                # The customer's business currency: whatever their other accounts use.
                currency=AdAccount.objects.filter(project=token.project)
                .values_list("currency", flat=True)
                .first()
                or "USD",
            )
        account.name, account.token_status, account.connected_at = choice["name"], "valid", now
        account.save()
        if not Layer.objects.filter(project=token.project, platform=token.platform).exists():
            modes = {"creative": "draft", "tactical": "draft", "structural": "draft"}
            Layer.objects.create(
                id=clock.layer_id(),
                project=token.project,
                platform=token.platform,
                defaults=modes,
                ceiling=modes,
                consented=False,
                modified_at=now,
                modified_by={"actorType": "user", "actorOrganizationId": None},
            )
        return _redirect(token, status="connected", accountId=account.id)
