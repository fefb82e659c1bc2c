"""Embedding in a partner portal: signed embed tokens in, embed people and sessions out.

The partner's backend (never the browser) signs a short JWT with EMBED_SECRET:

    {"iss": "acme-portal", "aud": "layers-dashboard-embed", "sub": "u-123", "name": "Ana",
     "role": "approver", "projects": ["prj_…"], "exp": <now + ≤ 10 min>, "jti": "<random>",
     "parent_origin": "https://portal.partner.example", "next": "/projects/prj_…/queue/"}

and opens `/embed/start?token=…` in its iframe. We check the signature, audience, expiry,
lifetime, role, projects and parent origin, then spend the `jti` in the database (a unique
row, so a token opens the dashboard once across every web process), and make the person
`embed:<iss>:<sub>` with exactly the token's grants. The same pattern as Looker's signed
embed and Metabase's signed embedding (research/mission-anchors.md §4.3–4.4)."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from dashboard.models import ProjectGrant, Role
from dashboard.services.nonces import Kind, nonce_spend

AUDIENCE = "layers-dashboard-embed"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30  # clock skew between the partner's servers and ours
EMBED_ROLES = (Role.VIEWER, Role.APPROVER)  # an embed never administers a project
MAX_ID_LENGTH = 64
MAX_PROJECTS = 50
USERNAME_PREFIX = "embed"
USERNAME_MAX_LENGTH = 150  # Django's username field


class EmbedRefused(Exception):
    """A token we will not honour; `sentence` is shown to the person, `code` is for logs/tests."""

    def __init__(self, code: str, sentence: str, parent_origin: str | None = None):
        super().__init__(sentence)
        self.code = code
        self.sentence = sentence
        # The claimed parent, when it is on the allow-list: the refusal page may then be
        # shown inside that partner's frame instead of a blank "refused to connect".
        self.parent_origin = (
            parent_origin if parent_origin in settings.EMBED_ALLOWED_ORIGINS else None
        )


SENTENCES = {
    "not_configured": "Embedding is not set up on this dashboard (EMBED_SECRET is empty).",
    "missing": "This embed link has no token. Open the dashboard from the partner portal again.",
    "tampered": (
        "This embed link is not valid: its signature does not match. "
        "Reload the portal page to get a fresh one."
    ),
    "expired": "This embed link has expired. Reload the portal page to get a fresh one.",
    "audience": "This embed link was made for a different application, not this dashboard.",
    "incomplete": (
        "This embed link is missing some of what it must say "
        "(who, which projects, where it is shown)."
    ),
    "too_long": (
        "This embed link is valid for more than 10 minutes, which this dashboard does not "
        "accept. The portal must make shorter ones."
    ),
    "role": (
        "This embed link asks for a role the dashboard does not give to embedded people "
        "(viewer or approver)."
    ),
    "origin": (
        "This page is not allowed to embed the dashboard. "
        "Its address must be added to EMBED_ALLOWED_ORIGINS."
    ),
    "reused": (
        "This embed link was already used. "
        "Each link opens the dashboard once: reload the portal page."
    ),
    "next": "This embed link asks for a page outside the dashboard.",
    "top_level": (
        "This embed link opens the dashboard only inside the partner portal's frame, "
        "not as a page of its own. Go back to the portal."
    ),
}


@dataclass(frozen=True)
class EmbedClaims:
    issuer: str
    subject: str
    name: str
    role: str
    projects: tuple[str, ...]
    parent_origin: str
    next_path: str
    expires_at: int

    @property
    def username(self) -> str:
        """`embed:<iss>:<sub>`, with `%` and `:` inside either written %25 and %3A, so no two
        (issuer, subject) pairs share a name; a hash where that would not fit a username."""

        def part(value: str) -> str:
            return value.replace("%", "%25").replace(":", "%3A")

        name = f"{USERNAME_PREFIX}:{part(self.issuer)}:{part(self.subject)}"
        if len(name) <= USERNAME_MAX_LENGTH:
            return name
        digest = hashlib.sha256(f"{self.issuer}\0{self.subject}".encode()).hexdigest()
        return f"{USERNAME_PREFIX}:#{digest}"  # one colon: never equal to a name above


def _refuse(code: str, parent_origin: str | None = None) -> EmbedRefused:
    return EmbedRefused(code, SENTENCES[code], parent_origin)


def _claimed_origin(token: str) -> str | None:
    """The parent origin a token claims, read without trusting it (refusal pages only)."""
    try:
        origin = jwt.decode(token, options={"verify_signature": False}).get("parent_origin")
    except jwt.PyJWTError:
        return None
    return origin if isinstance(origin, str) else None


def embed_token_mint(
    *,
    issuer: str,
    subject: str,
    name: str,
    role: str,
    projects: list[str],
    parent_origin: str,
    next_path: str = "",
    lifetime: int = 300,
    audience: str = AUDIENCE,
    secret: str | None = None,
    now: float | None = None,
) -> str:
    """What a partner backend does (the demo portal and the tests use it)."""
    now = time.time() if now is None else now
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "name": name,
        "role": role,
        "projects": list(projects),
        "iat": int(now),
        "exp": int(now + lifetime),
        "jti": secrets.token_urlsafe(16),
        "parent_origin": parent_origin,
    }
    if next_path:
        claims["next"] = next_path
    return jwt.encode(claims, secret or settings.EMBED_SECRET, algorithm=ALGORITHM)


def embed_token_verify(*, token: str) -> EmbedClaims:
    """The token's claims, or EmbedRefused. Spends the token's jti: call once per request."""
    if not settings.EMBED_SECRET:
        raise _refuse("not_configured")
    if not token:
        raise _refuse("missing")
    claimed = _claimed_origin(token)
    try:
        data = jwt.decode(
            token,
            settings.EMBED_SECRET,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "aud", "iss", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise _refuse("expired", claimed) from None
    except jwt.InvalidAudienceError:
        raise _refuse("audience", claimed) from None
    except jwt.MissingRequiredClaimError:
        raise _refuse("incomplete", claimed) from None
    except jwt.PyJWTError:  # bad signature, malformed, wrong algorithm, immature …
        raise _refuse("tampered", claimed) from None

    origin = data.get("parent_origin")
    if not isinstance(origin, str) or origin not in settings.EMBED_ALLOWED_ORIGINS:
        raise _refuse("origin")  # never framed: the allow-list is the point
    now = time.time()
    exp = data["exp"]
    longest = settings.EMBED_TOKEN_MAX_SECONDS + LEEWAY_SECONDS
    iat = data.get("iat")
    if exp - now > longest or (
        isinstance(iat, (int, float)) and exp - iat > settings.EMBED_TOKEN_MAX_SECONDS
    ):
        raise _refuse("too_long", origin)
    if data.get("role") not in EMBED_ROLES:
        raise _refuse("role", origin)
    projects = data.get("projects")
    issuer, subject, jti = str(data["iss"]), str(data["sub"]), str(data["jti"])
    if (
        not isinstance(projects, list)
        or not projects
        or len(projects) > MAX_PROJECTS
        or not all(isinstance(p, str) and 0 < len(p) <= 80 for p in projects)
        or not (
            0 < len(issuer) <= MAX_ID_LENGTH
            and 0 < len(subject) <= MAX_ID_LENGTH
            and 0 < len(jti) <= 200
        )
    ):
        raise _refuse("incomplete", origin)
    next_path = data.get("next") or reverse("queue", args=[projects[0]])
    if (
        not isinstance(next_path, str)
        or not next_path.startswith("/")
        or not url_has_allowed_host_and_scheme(next_path, allowed_hosts=None)
    ):
        raise _refuse("next", origin)

    # Last, so a token refused for another reason is not spent. A unique row: of two
    # processes racing with one token, one wins, and no cache eviction forgets it.
    spent_until = datetime.fromtimestamp(exp, tz=UTC) + timedelta(seconds=2 * LEEWAY_SECONDS)
    if not nonce_spend(kind=Kind.EMBED_JTI, value=f"{issuer}\0{jti}", expires_at=spent_until):
        raise _refuse("reused", origin)
    return EmbedClaims(
        issuer=issuer,
        subject=subject,
        name=str(data.get("name") or subject)[:150],
        role=data["role"],
        projects=tuple(dict.fromkeys(projects)),
        parent_origin=origin,
        next_path=next_path,
        expires_at=int(exp),
    )


def embed_user_sync(*, claims: EmbedClaims):
    """The Django user for this portal person, with exactly the token's grants."""
    User = get_user_model()
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=claims.username)
        first_name = claims.name[:150]
        if created or user.has_usable_password() or user.first_name != first_name:
            user.set_unusable_password()  # only ever signs in through a token
            user.first_name = first_name
            user.save()
        ProjectGrant.objects.filter(user=user).exclude(project_id__in=claims.projects).delete()
        for project_id in claims.projects:
            ProjectGrant.objects.update_or_create(
                user=user, project_id=project_id, defaults={"role": claims.role}
            )
    return user


def embed_refuse_top_level(*, fetch_dest: str | None) -> None:
    """An embed token opens the dashboard inside a frame only. Browsers say where a
    navigation lands (`Sec-Fetch-Dest`); a link opened as a page of its own is refused
    before its token is read, so a token leaked into a URL cannot sign anyone in there.
    Without the header (older browsers, other clients) nothing is refused here."""
    if fetch_dest is not None and fetch_dest != "iframe":
        raise _refuse("top_level")


def embed_session_mark(*, session, claims: EmbedClaims) -> None:
    """After login: remember the parent origin and bound the session's life. The end is
    a date, not a length: a length would start again with every write to the session."""
    from dashboard.cookies import EMBED_SESSION_KEY

    session[EMBED_SESSION_KEY] = {
        "parent_origin": claims.parent_origin,
        "iss": claims.issuer,
        "sub": claims.subject,
        "name": claims.name,
    }
    session.set_expiry(timezone.now() + timedelta(seconds=settings.EMBED_SESSION_SECONDS))


# --- the demo portal ------------------------------------------------------------------

DEMO_ISSUER = "demo-portal"
DEMO_PEOPLE = {
    "ana": "Ana Souza",
    "ben": "Ben Okafor",
    "chloe": "Chloé Martin",
}
DEMO_VARIANTS = {
    "good": "A good token",
    "expired": "An expired token",
    "tampered": "A tampered token",
    "audience": "A token for another application",
    "too_long": "A token valid for an hour",
    "elsewhere": "A token meant for another portal's page",
}


def demo_projects() -> list[tuple[str, str]]:
    """(id, name) of the projects a partner backend would know about; empty if unreachable."""
    from dashboard.layers import LayersError
    from dashboard.services.projects import ORG_CACHE
    from dashboard.services.upstream import cached_read, layers

    def fetch():
        client = layers()
        return list(client.iter_pages(client.projects_list, max_pages=5))

    try:
        projects = cached_read(ORG_CACHE, "projects", fetch)
    except LayersError:
        return []
    return sorted(((p.id, p.name) for p in projects), key=lambda pair: pair[1].lower())


def demo_token_mint(
    *, person: str, role: str, project_id: str, variant: str = "good", next_path: str = ""
) -> str:
    """A token as the demo portal's backend would make it, or a deliberately bad one.
    `next_path` (the page to open) is kept only inside the token's project."""
    if not next_path.startswith(f"/projects/{project_id}/"):
        next_path = ""
    kwargs = dict(
        issuer=DEMO_ISSUER,
        subject=person,
        name=DEMO_PEOPLE.get(person, person),
        role=role,
        projects=[project_id],
        parent_origin=settings.EMBED_DEMO_PORTAL_ORIGIN,
        next_path=next_path,
    )
    if variant == "expired":
        return embed_token_mint(**kwargs, now=time.time() - 3600)
    if variant == "audience":
        return embed_token_mint(**kwargs, audience="some-other-app")
    if variant == "too_long":
        return embed_token_mint(**kwargs, lifetime=3600)
    if variant == "elsewhere":  # a good token, but this page is not the parent it names
        others = [
            o for o in settings.EMBED_ALLOWED_ORIGINS if o != settings.EMBED_DEMO_PORTAL_ORIGIN
        ]
        kwargs["parent_origin"] = others[0] if others else "https://portal.partner.example"
    token = embed_token_mint(**kwargs)
    if variant == "tampered":
        head, body, signature = token.split(".")
        return ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])
    return token
