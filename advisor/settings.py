"""Advisor settings: one file, every deployment knob read from the environment.

Local use needs no configuration (SQLite, DEBUG on, a dev secret key). Production sets
DEBUG=0 and a real SECRET_KEY; without one the process refuses to start.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """A boolean setting. Anything but a known spelling stops start-up: a typo such as
    SECURE_PROXY_SSL=ture must never quietly mean "off"."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ImproperlyConfigured(
        f"{name}={value!r} is neither true nor false: use one of "
        f"{', '.join(sorted(_TRUE))} or {', '.join(sorted(_FALSE))}"
    )


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

DEV_SECRET_KEY = "django-insecure-advisor-local-development-only"
# Keys anyone can read in this repository: the development default and the placeholder of
# .env.example (tests/test_settings.py checks that file still holds this one).
PUBLIC_SECRET_KEYS = {DEV_SECRET_KEY, "change-me-to-a-long-random-string"}
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY or SECRET_KEY in PUBLIC_SECRET_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or is the development default. With DEBUG off, set "
            "SECRET_KEY to a long random value, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "django_htmx",
    "template_partials",
    "accounts",
    "assessments",
]

# The largest body a request may have, refused from its Content-Length before anything reads
# it (assessments.middleware.RequestSizeLimitMiddleware): a 1 MB import file and its envelope.
MAX_REQUEST_BYTES = 1_100_000

MIDDLEWARE = [
    "assessments.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "assessments.middleware.SessionIdleRefreshMiddleware",
    "assessments.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "assessments.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "advisor.urls"
WSGI_APPLICATION = "advisor.wsgi.application"
ASGI_APPLICATION = "advisor.asgi.application"

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
                "assessments.context_processors.csp_nonce",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several workers write one SQLite file: a transaction takes the write lock when it
    # begins (waiting up to `timeout` s) instead of failing with "database is locked" when
    # a read turns into a write while another worker is writing. WAL lets reads go on while
    # one writes, and a commit needs no fsync of its own (every request saves its session).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},  # checked when a password is set, never at sign-in
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project_list"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Content-Security-Policy: no inline code at all; our scripts and htmx carry a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Sessions end after this much inactivity: a signed-in request restarts the clock (saved at
# most once per SESSION_REFRESH_SECONDS, so the timeout is exact to within that).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(8 * 3600)))
SESSION_REFRESH_SECONDS = 60
# Sessions live in the database and are read through a cache (a query less on every
# signed-in request); logout and expiry remove both. Every web process must therefore
# share CACHE_DIR, as the sign-in rate limits already require.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Sign-in protection: after this many failed logins for one username from one address
# within the window, that pair is locked out until the window passes; one address gets at
# most LOGIN_IP_LIMIT failures (any usernames) and SIGNUP_LIMIT sign-up attempts per window.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_IP_LIMIT = int(os.environ.get("LOGIN_IP_LIMIT", "30"))
SIGNUP_LIMIT = int(os.environ.get("SIGNUP_LIMIT", "10"))
AUTH_LOCKOUT_WINDOW = int(os.environ.get("AUTH_LOCKOUT_WINDOW", "900"))

# File-based caches are shared by every worker process on one host, with no extra service.
CACHE_DIR = Path(os.environ.get("CACHE_DIR", BASE_DIR / ".cache"))
CACHES = {
    # Rate-limit counters. A file cache deletes a random third of its entries once it holds
    # MAX_ENTRIES, and a deleted counter would lift a lockout early: keep that far away.
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(CACHE_DIR / "default"),
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    },
    # Cached copies of sessions, apart from the counters so that many sessions can never
    # crowd counters out; a culled copy is simply read from the database again.
    "sessions": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(CACHE_DIR / "sessions"),
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    },
    # Rendered PDF memos, keyed by a hash of everything they show.
    "memos": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(CACHE_DIR / "memos"),
        "TIMEOUT": int(os.environ.get("MEMO_CACHE_SECONDS", str(30 * 24 * 3600))),
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

# Share links: a client that tries this many unknown tokens within the window is refused
# (HTTP 429) until the window has passed.
SHARE_BAD_TOKEN_LIMIT = int(os.environ.get("SHARE_BAD_TOKEN_LIMIT", "10"))
SHARE_BAD_TOKEN_WINDOW = int(os.environ.get("SHARE_BAD_TOKEN_WINDOW", "600"))
SHARE_UNDO_SECONDS = int(os.environ.get("SHARE_UNDO_SECONDS", "600"))
# Set when behind a proxy that appends the client address to X-Forwarded-For.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

# Behind a TLS-terminating proxy: trust its header and harden cookies when asked to.
if env_bool("SECURE_PROXY_SSL", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_share_tokens": {"()": "advisor.log_redaction.RedactShareTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_share_tokens"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO; only its warnings are worth reading.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
