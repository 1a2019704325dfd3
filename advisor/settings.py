"""Advisor settings: one file, every deployment knob read from the environment.

Local use needs no configuration (SQLite, DEBUG on, a dev secret key). Production sets
DEBUG=0 and a real SECRET_KEY; without one the process refuses to start.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from advisor.email_url import CONSOLE_BACKEND, email_settings

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
    "django.contrib.humanize",  # allauth's session list says "5 minutes ago"
    # accounts before allauth: its templates override allauth's (accounts/templates/).
    "accounts",
    "assessments",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "axes",  # last, as django-axes asks: its signal handlers see every other app's setup
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
    "accounts.middleware.SessionIdleRefreshMiddleware",
    "assessments.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "assessments.middleware.HtmxLoginRedirectMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    # Last: it turns a sign-in that django-axes refused into the lockout page (429).
    "axes.middleware.AxesMiddleware",
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

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "project_list"
LOGOUT_REDIRECT_URL = "home"

# Accounts: django-allauth (sign-up, sign-in by username or email, email addresses, password
# reset, two-factor, the user's own sessions), our templates and forms (accounts/).
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "change_password": "accounts.forms.ChangePasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
# Optional: a new address gets a verification mail, and the account works at once. Mandatory
# would stop every account made before addresses were verified (none is) from signing in, and
# an address mistyped at sign-up would lock its owner out of their own projects. What needs
# the address proven asks for it anyway: two-factor can only be turned on once every address
# of the account is verified, and a password reset proves it (the link goes to that address).
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
# The sign-in and password reset forms never tell whether an account exists. Sign-up does say
# that a username or address is taken: allauth can only hide a taken address when verification
# is mandatory (a username can never be hidden, it must be unique to be chosen).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_PRESERVE_USERNAME_CASING = False  # "Alice" and "alice" are one account, stored lower
ACCOUNT_SESSION_REMEMBER = True  # sessions end after SESSION_IDLE_SECONDS idle, as always
ACCOUNT_LOGOUT_ON_GET = False  # a link can never sign anyone out: logging out is a POST
ACCOUNT_SIGNUP_REDIRECT_URL = "project_create"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Advisor] "
ACCOUNT_EMAIL_NOTIFICATIONS = True  # a mail when the password, an address or two-factor changes
ACCOUNT_RATE_LIMITS = {
    # django-axes owns sign-in lockouts (below); allauth's other limits stay as a second line.
    "login_failed": None,
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_FORMS = {"authenticate": "accounts.forms.TwoFactorAuthenticateForm"}
MFA_TOTP_ISSUER = "Advisor"
# Sessions are listed from their sign-in; their "last seen" is refreshed with the idle clock
# (accounts.middleware, at most once a minute) instead of a database write on every request.
USERSESSIONS_TRACK_ACTIVITY = False

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
# Sessions live in the database only: every web process and replica reads the same row, so
# a logout or an expiry ends a session everywhere at once.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Sign-in lockouts (django-axes, counted in the database; accounts/lockouts.py). Failed
# sign-ins are counted three ways, each with its own limit:
# - one username from one address: LOGIN_FAILURE_LIMIT, then that pair is locked out;
# - one address, whatever the usernames: LOGIN_IP_LIMIT, then that address is;
# - one username, whatever the addresses: LOGIN_USERNAME_LIMIT, then that username is (higher:
#   anyone can spend it, and it is only there to stop guessing spread over many addresses).
# A counter lasts until AUTH_LOCKOUT_WINDOW seconds have passed without a failure that it
# counts; so a lockout lifts that long after its last counted failure. A try while locked
# out is refused (429, with the seconds left in Retry-After) and counted nowhere, so it never
# extends a lockout. A sign-in resets only that username's counter from that address.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_IP_LIMIT = int(os.environ.get("LOGIN_IP_LIMIT", "30"))
LOGIN_USERNAME_LIMIT = int(os.environ.get("LOGIN_USERNAME_LIMIT", "20"))
AUTH_LOCKOUT_WINDOW = int(os.environ.get("AUTH_LOCKOUT_WINDOW", "900"))
# Sign-up attempts per client address, and wrong current passwords per user on the password
# change form (LOGIN_FAILURE_LIMIT), in the same window (accounts.quotas, in the database).
SIGNUP_LIMIT = int(os.environ.get("SIGNUP_LIMIT", "10"))

AXES_HANDLER = "accounts.lockouts.LockoutHandler"  # axes's database handler, a limit per lockout
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_FAILURE_LIMIT = "accounts.lockouts.failure_limit"
AXES_COOLOFF_TIME = "accounts.lockouts.cool_off"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "login"  # allauth's sign-in field: a username or an email address
AXES_USERNAME_CALLABLE = "accounts.lockouts.lockout_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockouts.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockouts.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every counted failure, kept as a security event
AXES_VERBOSE = False  # no start-up banner on every process (management commands' stderr)

# Web processes keep no state: sessions, lockouts, quota counters (accounts.quotas) and
# rendered memos (assessments.RenderedMemo) are rows in the database. The one cache is a
# table there too (created by the accounts migration 0002), for what third-party code keeps
# in Django's cache (django-allauth's rate limits): replicas share it with nothing but the
# database. MAX_ENTRIES is far above what it holds, because culling would drop counters.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "advisor_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}

# Rendered PDF memos: a memo not downloaded for MEMO_KEEP_DAYS is deleted, and at most
# MEMO_KEEP_COUNT are kept (those served most recently); pruned whenever a memo is stored.
MEMO_KEEP_DAYS = int(os.environ.get("MEMO_KEEP_DAYS", "30"))
MEMO_KEEP_COUNT = int(os.environ.get("MEMO_KEEP_COUNT", "2000"))
# Memo renders (WeasyPrint, the expensive part; a memo already stored is not counted): per
# signed-in user for their own memos, per client address for shared and example memos.
MEMO_RENDER_LIMIT = int(os.environ.get("MEMO_RENDER_LIMIT", "60"))
MEMO_RENDER_WINDOW = int(os.environ.get("MEMO_RENDER_WINDOW", "3600"))
# Project imports per signed-in user, refused before the file is read.
IMPORT_LIMIT = int(os.environ.get("IMPORT_LIMIT", "20"))
IMPORT_WINDOW = int(os.environ.get("IMPORT_WINDOW", "3600"))
# Invitations (each one tells the owner whether a username or verified address exists).
INVITE_LIMIT = int(os.environ.get("INVITE_LIMIT", "30"))
INVITE_WINDOW = int(os.environ.get("INVITE_WINDOW", "3600"))

# Share links: a client address that tries this many unknown tokens within the window is
# refused (HTTP 429) until the window has passed (accounts.quotas, counted in the database).
SHARE_BAD_TOKEN_LIMIT = int(os.environ.get("SHARE_BAD_TOKEN_LIMIT", "10"))
SHARE_BAD_TOKEN_WINDOW = int(os.environ.get("SHARE_BAD_TOKEN_WINDOW", "600"))
SHARE_UNDO_SECONDS = int(os.environ.get("SHARE_UNDO_SECONDS", "600"))
# Sign-off responses on a shared page, per link and client address: enough for a room of
# stakeholders behind one office address, too few to flood a project's sign-off list.
SHARE_RESPONSE_LIMIT = int(os.environ.get("SHARE_RESPONSE_LIMIT", "20"))
SHARE_RESPONSE_WINDOW = int(os.environ.get("SHARE_RESPONSE_WINDOW", "3600"))
SHARE_LINK_RESPONSE_LIMIT = int(os.environ.get("SHARE_LINK_RESPONSE_LIMIT", "200"))
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

# Mail: password resets, address verification, security notices. EMAIL_URL names the SMTP
# server (advisor/email_url.py: smtp://user:pass@host:587?tls=1, smtps://...). Without it mail
# is printed on the console while DEBUG is on; in production it is not sent at all (a reset
# link must never end up in a log) and `manage.py check --deploy` warns until it is set.
# (Not kept as a setting itself: the debug page would show its password; it hides
# EMAIL_HOST_PASSWORD.)
_email_url = os.environ.get("EMAIL_URL", "").strip()
if _email_url:
    globals().update(email_settings(_email_url))
else:
    EMAIL_BACKEND = CONSOLE_BACKEND if DEBUG else "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "advisor@localhost"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_share_tokens": {"()": "advisor.log_redaction.RedactShareTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_share_tokens"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO; only its warnings are worth reading.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
