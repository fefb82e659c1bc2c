"""The one settings module. Every value is read from the environment (or an optional
`.env` beside manage.py) and has a default that runs the embedded demo: SQLite, the
local-memory cache and the built-in Layers sandbox. README.md lists every setting."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# The embedded demo may run on a throwaway key; a real deployment must bring its own.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-embedded-demo-only-never-in-production"

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

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Background work (bulk decisions, webhook events) through Django's Tasks framework. The
# database queue survives restarts and serves several workers (`manage.py db_worker`,
# started by make run).
TASKS = {"default": {"BACKEND": env("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Failed sign-ins per username and address, and per address, before that address must
# wait out the window (dashboard/services/signin.py).
SIGNIN_FAILURES_PER_NAME = env.int("SIGNIN_FAILURES_PER_NAME", default=5)
SIGNIN_FAILURES_PER_ADDRESS = env.int("SIGNIN_FAILURES_PER_ADDRESS", default=30)
SIGNIN_WINDOW_SECONDS = env.int("SIGNIN_WINDOW_SECONDS", default=15 * 60)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF, "http:", "https:"],
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

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
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
# Secrets Layers signs webhooks with (comma-separated: old and new overlap during a rotation).
# `manage.py webhooks_register` stores the secret of the endpoint it creates as well.
LAYERS_WEBHOOK_SECRET = env("LAYERS_WEBHOOK_SECRET", default="")

# The sandbox is mounted at /sandbox/ unless a real API is configured.
SANDBOX_ENABLED = env.bool(
    "SANDBOX_ENABLED", default=LAYERS_API_BASE_URL == _SANDBOX_DEFAULT_URL or DEBUG
)
# Guards the sandbox's control surface (kill switch, faults, clock) used by tests and demo.
SANDBOX_CONTROL_TOKEN = env("SANDBOX_CONTROL_TOKEN", default="sandbox-control")
# The sandbox's rate-limit tier: "standard" | "pilot" | "partner" | "off" (demo default).
SANDBOX_RATE_TIER = env("SANDBOX_RATE_TIER", default="off")
# Answers beyond the contract (docs/sandbox-extensions.md); SANDBOX_EXTENSIONS=off hides them.
SANDBOX_EXTENSIONS = env.bool("SANDBOX_EXTENSIONS", default=True)
# New optimizer proposals per minute across all customers (0 = off; control `proposer` too).
SANDBOX_PROPOSER_PER_MINUTE = env.float("SANDBOX_PROPOSER_PER_MINUTE", default=0)

# --- Embedding in a partner portal, and share links ----------------------------------

# The secret partner backends sign embed tokens with (HS256). Empty = embedding is off.
EMBED_SECRET = env("EMBED_SECRET", default="")
if not EMBED_SECRET and DEBUG:
    EMBED_SECRET = "embed-demo-secret-only-for-the-embedded-demo-never-in-production"
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
    default=[EMBED_DEMO_PORTAL_ORIGIN] if (DEBUG or SANDBOX_ENABLED) else [],
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "dashboard": {"handlers": ["console"], "level": env("DASHBOARD_LOG_LEVEL", default="INFO")},
    },
}
