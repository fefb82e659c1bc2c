"""The one settings module. Every value is read from the environment (or an optional
`.env` beside manage.py). Debug is off unless DJANGO_DEBUG asks for it (`make run` does);
with debug on, every value has a default that runs the embedded demo: SQLite, the
local-memory cache and the built-in Layers sandbox. With debug off, the demo's published
values are refused at start (see "Refuse to start" at the end). README.md lists every
setting and explains the security defaults."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# Off unless asked for: a deployment that forgets this variable gets no demo surface.
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# The demo's published values: used only with debug on, refused at start with debug off.
DEMO_SECRET_KEY = "django-insecure-embedded-demo-only-never-in-production"
DEMO_EMBED_SECRET = "embed-demo-secret-only-for-the-embedded-demo-never-in-production"
DEMO_SANDBOX_CONTROL_TOKEN = "sandbox-control"

# The embedded demo may run on a throwaway key; a real deployment must bring its own.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or (DEMO_SECRET_KEY if DEBUG else "")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "dashboard",
    "dashboard.sandbox",
]

MIDDLEWARE = [
    # Outermost: the request id (taken or made) for every log line, one line per request.
    "dashboard.observability.RequestLogMiddleware",
    # First, so its response half runs last: framing and partitioned cookies for embed
    # sessions, after every other middleware has written its headers and cookies.
    "dashboard.cookies.EmbedMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compress ~13:1; the sandbox's API answers are left alone (see the class).
    "dashboard.middleware.PageGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Each request reads the person's project grants once (dashboard/services/access.py).
    "dashboard.middleware.AccessMemoMiddleware",
    # Signed-in and share-link pages: never stored by a cache; sessions renewed while used.
    "dashboard.security.PrivatePagesMiddleware",
    "dashboard.security.SessionIdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.HtmxLoginMiddleware",
    "dashboard.middleware.UpstreamErrorMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
            "builtins": ["dashboard.templatetags.ui"],
        },
    }
]

# SQLite by default; PostgreSQL (or anything Django speaks) through DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (the dashboard and the sandbox answering it) write at once:
    # take the write lock up front and wait for it rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # WAL with synchronous=NORMAL: one fsync per checkpoint, not per commit (SQLite's own
        # advice for WAL; a power cut may lose the last commits, never corrupt the file).
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory, so the live server's threads share it; one per test process.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))

# Local memory by default; Redis through CACHE_URL (shared by all web workers).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://dashboard")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "dashboard.cache.RedisCache"  # one client per pool, not per call
# The sign-in throttle and the Layers rate budget live in the cache, so with debug off a
# per-process (local-memory) cache is accepted only when one web process serves.
ONE_WEB_PROCESS = env.bool("DJANGO_ONE_WEB_PROCESS", default=False)

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# A session ends after this long without a request (an embed session also ends at its
# fixed EMBED_SESSION_SECONDS). dashboard.security.SessionIdleMiddleware renews a session
# at most every SESSION_RENEW_SECONDS, so a person at work is never signed out mid-task.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_SECONDS", default=8 * 60 * 60)
SESSION_RENEW_SECONDS = 5 * 60
# Django's four validators, for passwords set through createsuperuser and changepassword.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("DJANGO_PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Background work (bulk decisions, webhook events) through Django's Tasks framework. The
# database queue survives restarts and serves several workers (`manage.py db_worker`,
# started by make run).
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        # "sync": the mirror's sync engine (dashboard/services/sync/), kept apart so a
        # long bulk decision never delays it (make run's worker serves both queues).
        "QUEUES": ["default", "sync"],
    }
}
# Housekeeping (expired sessions and one-time tokens, the share-link opening log) runs in
# the worker this often, scheduling its own next run (dashboard/tasks.py).
HOUSEKEEPING_SECONDS = env.int("HOUSEKEEPING_SECONDS", default=60 * 60)
# The sync engine (dashboard/services/sync/): the share of the key's read budget it may
# spend, the budget when Layers has not said yet, how often it ticks, how long an owner's
# lease lasts, and whether it reads the org-wide audit log as a change feed.
SYNC_READ_SHARE = env.float("SYNC_READ_SHARE", default=0.25)
SYNC_DEFAULT_READS_PER_MINUTE = env.int("SYNC_DEFAULT_READS_PER_MINUTE", default=120)
SYNC_TICK_SECONDS = env.float("SYNC_TICK_SECONDS", default=2.0)
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=30)
SYNC_FEED = env.bool("SYNC_FEED", default=True)
SYNC_FEED_SECONDS = env.float("SYNC_FEED_SECONDS", default=15.0)
SYNC_CHANGE_RESERVE = env.float("SYNC_CHANGE_RESERVE", default=0.15)
SYNC_RECONCILE_MIN_SECONDS = env.int("SYNC_RECONCILE_MIN_SECONDS", default=120)
SYNC_DISCOVERY_SECONDS = env.int("SYNC_DISCOVERY_SECONDS", default=600)
SYNC_ENABLED = env.bool("SYNC_ENABLED", default=True)
# A bulk decision whose worker shows no sign of life for this long is queued again.
BULK_STALE_SECONDS = env.int("BULK_STALE_SECONDS", default=300)
# How many pending actions one bulk decision (and "select all") takes at most.
BULK_MAX_ITEMS = env.int("BULK_MAX_ITEMS", default=2000)
# A decision (single or bulk) waits this long before it is sent, so Undo costs no write;
# 0 sends at once. A hold a worker took but left unfinished this long is sent again (under
# its own idempotency key: Layers replays the first answer).
DECISION_HOLD_SECONDS = env.int("DECISION_HOLD_SECONDS", default=10)
DECISION_HOLD_STALE_SECONDS = env.int("DECISION_HOLD_STALE_SECONDS", default=60)
# Audit CSV exports run in the background worker: each may spend this share of the key's
# read budget per minute (the rest stays for the people using the dashboard), and its file
# is kept this many hours after it finished.
AUDIT_EXPORT_READ_SHARE = env.float("AUDIT_EXPORT_READ_SHARE", default=0.25)
AUDIT_EXPORT_KEEP_HOURS = env.int("AUDIT_EXPORT_KEEP_HOURS", default=24)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Failed sign-ins per username and address, and per address, before that address must
# wait out the window (dashboard/services/signin.py).
SIGNIN_FAILURES_PER_NAME = env.int("SIGNIN_FAILURES_PER_NAME", default=5)
SIGNIN_FAILURES_PER_ADDRESS = env.int("SIGNIN_FAILURES_PER_ADDRESS", default=30)
SIGNIN_WINDOW_SECONDS = env.int("SIGNIN_WINDOW_SECONDS", default=15 * 60)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in with the partner's identity provider (OpenID Connect, dashboard/sso.py): on when
# OIDC_RP_CLIENT_ID is set. Endpoints from the issuer's discovery document, or one by one.
# Local accounts (passwords) keep working beside it, for the demo and break-glass admins.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "dashboard.sso.SSOBackend",  # does nothing unless a provider's sign-in comes back
]
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile")
OIDC_USERNAME_CLAIM = env("OIDC_USERNAME_CLAIM", default="preferred_username")
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", default="")
OIDC_CREATE_USER = env.bool("OIDC_CREATE_USER", default=True)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# In debug the files are served straight from static/; a deployment runs collectstatic.
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=None if DEBUG else str(BASE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = DEBUG

# Content Security Policy: our own scripts and styles only, htmx included (served
# locally by {% htmx_script %}). Framing is refused unless embedding allows a parent.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "https:"],  # creative thumbnails Layers links to
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],  # and the consent origins, added below with the Layers URL
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# The CSRF token lives in the session, so inside a partner's iframe only the session cookie
# has to survive (it is made SameSite=None; Secure; Partitioned there, see dashboard/cookies.py).
CSRF_USE_SESSIONS = True

# X-Forwarded-Proto is believed only when a proxy in front says so (and replaces whatever a
# client sent): otherwise any client could claim to have come over https.
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Load balancers and Prometheus reach the processes directly, over plain http.
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^health/live$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Layers ---------------------------------------------------------------------------

# Where the built-in sandbox listens when it serves as the API (the demo and the tests).
LAYERS_SANDBOX_PORT = env.int("LAYERS_SANDBOX_PORT", default=8000)
_SANDBOX_DEFAULT_URL = f"http://127.0.0.1:{LAYERS_SANDBOX_PORT}/sandbox"
LAYERS_API_BASE_URL = env("LAYERS_API_BASE_URL", default=_SANDBOX_DEFAULT_URL).rstrip("/")
# The sandbox's demo key has every ads scope. Never a real key in a default.
SANDBOX_DEMO_KEY = "lp_test_DEMOKEY0000000001_sandbox-demo-secret-not-a-real-key-000000"
LAYERS_API_KEY = env("LAYERS_API_KEY", default=SANDBOX_DEMO_KEY)
LAYERS_CONNECT_TIMEOUT = env.float("LAYERS_CONNECT_TIMEOUT", default=3.05)
LAYERS_READ_TIMEOUT = env.float("LAYERS_READ_TIMEOUT", default=10.0)
LAYERS_CACHE_SECONDS = env.int("LAYERS_CACHE_SECONDS", default=15)
LAYERS_PROJECT_CACHE_SECONDS = env.int("LAYERS_PROJECT_CACHE_SECONDS", default=300)
# The inbox's lines and counts are kept in the cache under the mirror's version stamp (a new
# one on every mirror write, so a decision or a sync shows at once) for at most this long
# (countdowns and "expires within 24 h" follow the clock); 0 turns it off.
INBOX_CACHE_SECONDS = env.int("INBOX_CACHE_SECONDS", default=30)
# Secrets Layers signs webhooks with (comma-separated: old and new overlap during a rotation).
# `manage.py webhooks_register` stores the secret of the endpoint it creates as well.
LAYERS_WEBHOOK_SECRET = env("LAYERS_WEBHOOK_SECRET", default="")

# Connecting an ad account posts to us and is redirected to the platform's consent page
# (the sandbox's, under the API's origin, in the demo): CSP form-action allows those only.
LAYERS_CONSENT_ORIGINS = env.list(
    "LAYERS_CONSENT_ORIGINS",
    default=[
        "https://www.facebook.com",
        "https://business-api.tiktok.com",
        "https://ads.tiktok.com",
        "https://appleid.apple.com",
    ],
)
_api = urlsplit(LAYERS_API_BASE_URL)
SECURE_CSP["form-action"] += [f"{_api.scheme}://{_api.netloc}", *LAYERS_CONSENT_ORIGINS]

# The sandbox is mounted at /sandbox/ unless a real API is configured.
SANDBOX_ENABLED = env.bool(
    "SANDBOX_ENABLED", default=LAYERS_API_BASE_URL == _SANDBOX_DEFAULT_URL or DEBUG
)
# Guards the sandbox's control surface (kill switch, faults, clock) used by tests and demo.
SANDBOX_CONTROL_TOKEN = env("SANDBOX_CONTROL_TOKEN", default=DEMO_SANDBOX_CONTROL_TOKEN)
# The demo: debug on and the built-in sandbox as the API. Only then is the demo portal
# served, does demo_setup make its published logins, and may the demo portal frame us.
DEMO_MODE = DEBUG and SANDBOX_ENABLED and LAYERS_API_BASE_URL == _SANDBOX_DEFAULT_URL
# The sandbox's rate-limit tier: "standard" | "pilot" | "partner" | "off" (demo default).
SANDBOX_RATE_TIER = env("SANDBOX_RATE_TIER", default="off")
# Answers beyond the contract (docs/sandbox-extensions.md); SANDBOX_EXTENSIONS=off hides them.
SANDBOX_EXTENSIONS = env.bool("SANDBOX_EXTENSIONS", default=True)
# New optimizer proposals per minute across all customers (0 = off; control `proposer` too).
SANDBOX_PROPOSER_PER_MINUTE = env.float("SANDBOX_PROPOSER_PER_MINUTE", default=0)

# --- E-mail: digests and alerts (dashboard/services/digests.py) ------------------------

# The console in the demo (mail is printed by the worker); SMTP in production, e.g.
# EMAIL_URL=smtp+tls://user:password@smtp.example.com:587 (Django 6.1's MAILERS setting).
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_smtp = {
    "host": _email.get("EMAIL_HOST"),
    "port": _email.get("EMAIL_PORT"),
    "username": _email.get("EMAIL_HOST_USER"),
    "password": _email.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _email.get("EMAIL_USE_TLS"),
    "use_ssl": _email.get("EMAIL_USE_SSL"),
    "timeout": env.float("EMAIL_TIMEOUT", default=10.0),
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {k: v for k, v in _smtp.items() if v not in (None, "")}
        if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Layers dashboard <dashboard@localhost>")
# The dashboard's own address, for the links in e-mail (no request to take it from).
DASHBOARD_BASE_URL = env(
    "DASHBOARD_BASE_URL", default=f"http://127.0.0.1:{LAYERS_SANDBOX_PORT}"
).rstrip("/")
MAIL_CHECK_SECONDS = env.int("MAIL_CHECK_SECONDS", default=300)
MAIL_ALERT_HOURS = env.int("MAIL_ALERT_HOURS", default=24)

# --- Embedding in a partner portal, and share links ----------------------------------

# The secret partner backends sign embed tokens with (HS256). Empty = embedding is off.
EMBED_SECRET = env("EMBED_SECRET", default="") or (DEMO_EMBED_SECRET if DEMO_MODE else "")
# The demo portal (served only with the sandbox) must sit on another origin than the
# dashboard: by default http://localhost:<port> embeds http://127.0.0.1:<port>.
EMBED_DEMO_PORTAL_ORIGIN = env(
    "EMBED_DEMO_PORTAL_ORIGIN", default=f"http://localhost:{LAYERS_SANDBOX_PORT}"
)
EMBED_DEMO_DASHBOARD_ORIGIN = env(
    "EMBED_DEMO_DASHBOARD_ORIGIN", default=f"http://127.0.0.1:{LAYERS_SANDBOX_PORT}"
)
# Exact origins (scheme://host[:port]) allowed to frame the dashboard. Never a wildcard.
EMBED_ALLOWED_ORIGINS = env.list(
    "EMBED_ALLOWED_ORIGINS",
    default=[EMBED_DEMO_PORTAL_ORIGIN] if DEMO_MODE else [],
)
for _origin in EMBED_ALLOWED_ORIGINS:
    if "*" in _origin or _origin.count("/") != 2 or not _origin.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            "EMBED_ALLOWED_ORIGINS takes exact origins like https://portal.example, "
            f"not {_origin!r}."
        )
# Longest lifetime an embed token may have (its exp minus now), and how long the embed
# session lasts.
EMBED_TOKEN_MAX_SECONDS = env.int("EMBED_TOKEN_MAX_SECONDS", default=600)
EMBED_SESSION_SECONDS = env.int("EMBED_SESSION_SECONDS", default=60 * 60)
# Read-only share links: default and longest life, in days.
SHARE_LINK_DAYS = env.int("SHARE_LINK_DAYS", default=14)
SHARE_LINK_MAX_DAYS = env.int("SHARE_LINK_MAX_DAYS", default=90)
# Openings kept per share link (the oldest go first), so a busy or hostile link cannot
# fill the database.
SHARE_LINK_LOG_MAX = env.int("SHARE_LINK_LOG_MAX", default=1000)

# --- Operations: health, metrics, logs, error reporting ---------------------------------

# The task worker beats this often; /health fails when it has shown no life for longer than
# WORKER_STALE_SECONDS (a stopped worker is seen within that time).
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=30)
WORKER_STALE_SECONDS = env.int("WORKER_STALE_SECONDS", default=90)
# /health fails when a synced list's last full refresh is older than this.
SYNC_LAG_LIMIT_SECONDS = env.int("SYNC_LAG_LIMIT_SECONDS", default=15 * 60)
# /health asks Layers (/v1/whoami) at most this often, whoever asks /health.
HEALTH_LAYERS_SECONDS = env.int("HEALTH_LAYERS_SECONDS", default=30)
# /metrics answers a bearer METRICS_TOKEN, or callers from METRICS_ALLOWED_IPS (addresses or
# networks, comma-separated). Neither set: /metrics refuses everyone.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# "plain" (default) or "json": one JSON object per line (python-json-logger).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOG_LEVEL = env("DASHBOARD_LOG_LEVEL", default="INFO")
_LOG_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "dashboard.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": _LOG_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "loggers": {
        "dashboard": {"handlers": ["console"], "level": LOG_LEVEL},
        "django_tasks_db": {"handlers": ["console"], "level": "INFO"},
    },
}
# Error reporting through Sentry, only when SENTRY_DSN is set (never personal data; the
# key, tokens and cookies are scrubbed: dashboard/observability.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
SENTRY_RELEASE = env("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)


# --- Refuse to start with the demo's values when debug is off -------------------------


def _start_problems() -> list[str]:
    """One sentence per setting that makes this a demo, or an unsafe deployment."""
    problems = []
    if EMBED_SECRET and len(EMBED_SECRET.encode()) < 32:
        problems.append("EMBED_SECRET is shorter than 32 bytes: use at least 32 random bytes.")
    if LOG_FORMAT not in ("plain", "json"):
        problems.append(f"LOG_FORMAT is plain or json, not {LOG_FORMAT!r}.")
    if DEBUG:
        return problems
    loopback = ("127.0.0.1", "localhost", "::1")
    if not SECRET_KEY:
        problems.append("Set DJANGO_SECRET_KEY.")
    elif SECRET_KEY == DEMO_SECRET_KEY:
        problems.append("DJANGO_SECRET_KEY is the demo's published key: set a secret one.")
    if EMBED_SECRET == DEMO_EMBED_SECRET:
        problems.append("EMBED_SECRET is the demo's published secret: set a secret one.")
    if SANDBOX_ENABLED and SANDBOX_CONTROL_TOKEN == DEMO_SANDBOX_CONTROL_TOKEN:
        problems.append(
            "The built-in sandbox would be served with the demo's control token: set "
            "LAYERS_API_BASE_URL and LAYERS_API_KEY for the real Layers API "
            "(and SANDBOX_ENABLED=false), or give the sandbox its own SANDBOX_CONTROL_TOKEN."
        )
    for origin in EMBED_ALLOWED_ORIGINS:
        if origin == EMBED_DEMO_PORTAL_ORIGIN or not origin.startswith("https://"):
            problems.append(
                f"EMBED_ALLOWED_ORIGINS lets {origin} frame the dashboard: "
                "list only partner portals' https:// origins."
            )
    if _api.scheme != "https" and _api.hostname not in loopback:
        problems.append(
            "LAYERS_API_BASE_URL must start with https:// (the API key goes with every request)."
        )
    if LAYERS_API_KEY == SANDBOX_DEMO_KEY and _api.hostname not in loopback:
        problems.append("Set LAYERS_API_KEY: it is still the sandbox's demo key.")
    backend = CACHES["default"]["BACKEND"]
    if backend.endswith("DummyCache"):
        problems.append(
            "CACHE_URL is a dummy cache: the sign-in throttle needs a real one (redis://…)."
        )
    if OIDC_RP_CLIENT_ID:
        given = [OIDC_OP_ISSUER, OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT]
        if not OIDC_OP_ISSUER and not (
            OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT and OIDC_OP_JWKS_ENDPOINT
        ):
            problems.append(
                "OIDC_RP_CLIENT_ID is set: set OIDC_OP_ISSUER (discovery), or the "
                "authorization, token and JWKS endpoints."
            )
        if any(u and not u.startswith("https://") for u in [*given, OIDC_OP_JWKS_ENDPOINT]):
            problems.append("The identity provider's addresses must start with https://.")
    if backend.endswith("LocMemCache") and not ONE_WEB_PROCESS:
        problems.append(
            "Set CACHE_URL=redis://… (shared by every web process): the local-memory cache "
            "keeps the sign-in throttle and the rate budget per process. With exactly one web "
            "process, DJANGO_ONE_WEB_PROCESS=true accepts it."
        )
    return problems


if _problems := _start_problems():
    raise ImproperlyConfigured(
        (
            "The dashboard will not start: "
            if DEBUG
            else "The dashboard will not start with DJANGO_DEBUG off (the default; `make run` "
            "turns it on for the demo): "
        )
        + " ".join(_problems)
    )
