"""Embedding, in one middleware: who may frame a response, and cookies that survive an iframe.

An embed session (started by /embed/start from a signed token, see services/embedding.py)
remembers the partner page's exact origin. Every response served to that session:
  * may be framed by that origin only: CSP `frame-ancestors <origin>`, no X-Frame-Options;
  * carries its session cookie as `SameSite=None; Secure; Partitioned` (CHIPS), because a
    cross-site iframe gets no Lax cookie and Chrome/Safari/Firefox now want third-party
    cookies partitioned by the top-level site.
Every other response keeps `frame-ancestors 'none'`, `X-Frame-Options: DENY` and Lax
cookies, so normal top-level logins are untouched (setting None when not embedded breaks
them, metabase PR #35473).

CSRF_USE_SESSIONS is on, so the session cookie is the only cookie that has to survive
(every cookie of an embed response is partitioned all the same).

Place this middleware FIRST in MIDDLEWARE: its response half then runs last, after the
session, CSRF, clickjacking and CSP middleware have written their cookies and headers."""

from http import cookies

from django.conf import settings
from django.utils.csp import CSP

# Django 6.1 and Python < 3.14 cannot write the `Partitioned` cookie attribute (Django
# ticket #34613, PR #19603 targets 6.2; CPython 3.14 adds it to Morsel). Teach Morsel the
# flag, once, the way both of those changes do. Remove when both are released here.
if "partitioned" not in cookies.Morsel._flags:
    cookies.Morsel._flags.add("partitioned")
    cookies.Morsel._reserved.setdefault("partitioned", "Partitioned")

EMBED_SESSION_KEY = "embed"  # {"parent_origin", "iss", "sub", "name"} for an embed session
SHARE_REQUEST_ATTR = "share_link"  # set by the share view; such responses never get framed
FRAME_ANCESTORS = "frame-ancestors"


def embed_parent_origin(session) -> str | None:
    """The verified parent origin of an embed session, if it is still allowed."""
    embed = session.get(EMBED_SESSION_KEY) if session is not None else None
    origin = embed.get("parent_origin") if isinstance(embed, dict) else None
    return origin if origin and origin in settings.EMBED_ALLOWED_ORIGINS else None


def frame_ancestors_replace(policy: str, sources: str) -> str:
    """The policy with its frame-ancestors directive set to `sources` (added if missing)."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    kept = [d for d in directives if d.split()[0].lower() != FRAME_ANCESTORS]
    return "; ".join([*kept, f"{FRAME_ANCESTORS} {sources}"])


class EmbedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.embed_parent_origin = None
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # A view may allow one response to be framed without an embed session (the clear
        # refusal page of a bad token, or the "session ended" page, shown inside the
        # partner's frame); only origins on the allow-list count.
        named = getattr(response, "embed_frame_origins", ())
        origins = [o for o in named if o in settings.EMBED_ALLOWED_ORIGINS]
        was_embed = request.embed_parent_origin  # noted before the view (logout flushes)
        now_embed = embed_parent_origin(session)
        if not origins and (now_embed or was_embed):
            origins = [now_embed or was_embed]
        if getattr(request, SHARE_REQUEST_ATTR, None) is not None:
            origins = []
        if origins:
            self._allow_framing(response, " ".join(origins))
        if now_embed or was_embed:
            self._partition_cookies(response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Runs after SessionMiddleware has attached the session: templates read this
        # (`request.embed_parent_origin`) to switch to embed mode.
        request.embed_parent_origin = embed_parent_origin(getattr(request, "session", None))
        return None

    @staticmethod
    def _allow_framing(response, sources: str) -> None:
        if "X-Frame-Options" in response:
            del response["X-Frame-Options"]
        header = str(CSP.HEADER_ENFORCE)
        if header in response:
            response[header] = frame_ancestors_replace(response[header], sources)
        else:
            response[header] = f"{FRAME_ANCESTORS} {sources}"

    @staticmethod
    def _partition_cookies(response) -> None:
        # Every cookie of an embed response: the session above all, but also the messages
        # cookie (a redirect's "Approved." note) and any other, or it is lost in the frame.
        # Deletions too: only a partitioned Set-Cookie can clear a partitioned cookie.
        for morsel in response.cookies.values():
            morsel["secure"] = True
            morsel["samesite"] = "None"
            morsel["partitioned"] = True
