"""EMAIL_URL: how Advisor sends mail, as one URL (the way DATABASE_URL names the database).

    smtp://user:password@mail.example.com:587?tls=1   SMTP, upgraded with STARTTLS
    smtps://user:password@mail.example.com:465        SMTP over TLS from the first byte
    smtp://mail.example.com:25                        plain SMTP, no login (a local relay)
    console://                                        print every mail on standard output

The user and password are percent-decoded (a "@" in a password is written %40). Query
options: tls=1 (STARTTLS), ssl=1 (the same as smtps://), timeout=<seconds>. Anything this
module cannot read stops start-up with a message, rather than mail silently not going out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_YES, _NO = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
_OPTIONS = {"tls", "ssl", "timeout"}


def email_settings(url: str) -> dict[str, Any]:
    """The Django EMAIL_* settings that `url` describes."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": CONSOLE_BACKEND}
    if scheme not in _DEFAULT_PORTS:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with smtp://, smtps:// or console://, not {scheme or '?'}://"
        )
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no host, e.g. smtp://mail.example.com:587")
    options = _options(parts.query)
    use_ssl = scheme == "smtps" or _flag(options, "ssl")
    use_tls = _flag(options, "tls")
    if use_ssl and use_tls:
        raise ImproperlyConfigured("EMAIL_URL asks for both tls (STARTTLS) and ssl: pick one")
    try:
        port = parts.port or _DEFAULT_PORTS["smtps" if use_ssl else "smtp"]
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a port that is not a number") from None
    return {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": _timeout(options),
    }


def _options(query: str) -> dict[str, str]:
    options = {key.lower(): values[-1] for key, values in parse_qs(query, True).items()}
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ImproperlyConfigured(
            f"EMAIL_URL has unknown options {sorted(unknown)}: it takes tls, ssl and timeout"
        )
    return options


def _flag(options: dict[str, str], name: str) -> bool:
    value = options.get(name, "").strip().lower()
    if value not in _YES | _NO:
        raise ImproperlyConfigured(f"EMAIL_URL {name}={value!r} is neither 1 nor 0")
    return value in _YES


def _timeout(options: dict[str, str]) -> int:
    value = options.get("timeout", "30")
    if not value.isdigit() or int(value) == 0:
        raise ImproperlyConfigured(f"EMAIL_URL timeout={value!r} is not a number of seconds")
    return int(value)
