"""Sign-in with the partner's identity provider (OpenID Connect), through mozilla-django-oidc.

Switched on by OIDC_RP_CLIENT_ID; the provider's endpoints come from its discovery document
(OIDC_OP_ISSUER) or are given one by one (OIDC_OP_*_ENDPOINT). The authorization-code flow
runs with state, nonce and PKCE; the ID token must be signed with OIDC_RP_SIGN_ALGO (RS256 by
default) by a key of the provider's JWKS, name this dashboard as its audience and the issuer
as its `iss`, and be unexpired. The claim OIDC_USERNAME_CLAIM names the person: an account of
that username is signed in (or made, without access to anything, until an admin grants some).

Local accounts stay, for the demo and for break-glass admins, and the provider can never sign
in as one: an account with a password signs in with its password only. Nor can it sign in
as an embedded portal person (their usernames hold a ':').

This module, like the Layers client, talks HTTP to an upstream (the provider's discovery
document); the library itself fetches the token, the keys and the user info."""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

log = logging.getLogger("dashboard.sso")
REFUSED_KEY = "sso_refused"  # the session's sentence for the sign-in page after a refusal
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovered: dict[str, dict] = {}  # issuer -> its discovery document, once per process


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def sso_provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME or "your company account"


def sso_setting(name: str, *default):
    """A setting as the library reads it; an endpoint left empty comes from discovery."""
    value = import_from_settings(name, *default)
    if name in ENDPOINTS and not value and settings.OIDC_OP_ISSUER:
        value = _discovery().get(ENDPOINTS[name], "")
    return value


def _discovery() -> dict:
    issuer = settings.OIDC_OP_ISSUER.rstrip("/")
    if issuer not in _discovered:
        response = requests.get(
            f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
        )
        response.raise_for_status()
        document = response.json()
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise ImproperlyConfigured(
                f"The provider at {issuer} names another issuer in its discovery document."
            )
        _discovered[issuer] = document
    return _discovered[issuer]


def _refuse(request, sentence: str) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[REFUSED_KEY] = sentence


class SSOBackend(OIDCAuthenticationBackend):
    """The library's backend, configured only when a provider's sign-in comes back (a
    password sign-in never reads the provider's settings, let alone its discovery)."""

    get_settings = staticmethod(sso_setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()

    def _configure(self) -> None:
        for name in ("OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_USER_ENDPOINT", "OIDC_OP_JWKS_ENDPOINT"):
            setattr(self, name, self.get_settings(name, ""))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        if not sso_enabled() or request is None or "code" not in request.GET:
            return None
        try:
            self._configure()
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, jwt.InvalidTokenError) as error:
            log.warning("sign-in with the provider refused: %s", error)
            if REFUSED_KEY not in request.session:
                _refuse(
                    request,
                    f"The answer from {sso_provider_name()} could not be verified, so nobody "
                    "was signed in. Try again, or ask an administrator.",
                )
        except (requests.RequestException, ValueError, ImproperlyConfigured) as error:
            log.warning("sign-in with the provider failed: %s", error)
            _refuse(request, f"{sso_provider_name()} could not be reached; try again shortly.")
        return None

    def _verify_jws(self, payload, key):
        """The signature, and what the library leaves out: audience, issuer, expiry."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("The ID token is not signed with the expected algorithm.")
        issuer = settings.OIDC_OP_ISSUER.rstrip("/") or None
        return jwt.decode(
            payload,
            key,
            algorithms=[self.OIDC_RP_SIGN_ALGO],
            audience=self.OIDC_RP_CLIENT_ID,
            issuer=issuer,
            options={"require": ["exp", "iat", "aud", "sub"]},
            leeway=30,
        )

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, with the user-info endpoint's when there is one (for the
        same subject only)."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            more = super().get_userinfo(access_token, id_token, payload)
            if more.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The user info names another person than the token.")
            claims.update(more)
        return claims

    def _username(self, claims) -> str:
        value = claims.get(settings.OIDC_USERNAME_CLAIM)
        return value.strip() if isinstance(value, str) else ""

    def verify_claims(self, claims):
        name = self._username(claims)
        if not name or len(name) > 150 or ":" in name:
            _refuse(
                self.request,
                f"{sso_provider_name()} did not say who you are in a way the dashboard can "
                "use; ask an administrator.",
            )
            return False
        return True

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(username=self._username(claims))

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None and not settings.OIDC_CREATE_USER and self._username(payload):
            _refuse(
                self.request,
                f"“{self._username(payload)}” has no account here yet; ask an administrator "
                "to make one.",
            )
        return user

    def create_user(self, claims):  # only when OIDC_CREATE_USER is on (the library checks)
        log.info("sign-in with the provider made the person %s", self._username(claims))
        return self.UserModel.objects.create_user(
            self._username(claims), email=claims.get("email") or ""
        )  # no password: this person signs in with the provider only

    def update_user(self, user, claims):
        if user.has_usable_password():
            _refuse(
                self.request,
                f"“{user.get_username()}” is a local account: sign in with its password.",
            )
            raise SuspiciousOperation("the provider named a local account")
        email = claims.get("email")
        if isinstance(email, str) and email and email != user.email:
            user.email = email[:254]
            user.save(update_fields=["email"])
        return user


class _Switched:
    """The provider's views answer 404 while sign-in with a provider is off."""

    get_settings = staticmethod(sso_setting)

    def dispatch(self, request, *args, **kwargs):
        if not sso_enabled():
            raise Http404("Sign-in with an identity provider is not set up here.")
        return super().dispatch(request, *args, **kwargs)


class SSOStartView(_Switched, OIDCAuthenticationRequestView):
    """Sends the browser to the provider (with state, nonce and PKCE in the session)."""

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, ValueError, ImproperlyConfigured) as error:
            log.warning("the provider's discovery failed: %s", error)
            _refuse(request, f"{sso_provider_name()} could not be reached; try again shortly.")
            return HttpResponseRedirect(reverse("login"))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SSOCallbackView(_Switched, OIDCAuthenticationCallbackView):
    """The provider's answer: signed in, or back to the sign-in page with a sentence."""

    @property
    def failure_url(self):
        return reverse("login") + "?sso=refused"

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation as error:  # a state this browser never started
            log.warning("sign-in callback refused: %s", error)
            _refuse(request, "That sign-in link was not started here or was already used.")
            return self.login_failure()
