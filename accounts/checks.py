"""Deploy checks (`manage.py check --deploy`): production must be able to send mail."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register

DUMMY_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_SENDER = "advisor@localhost"


@register(Tags.security, deploy=True)
def mail_is_configured(app_configs=None, **kwargs) -> list[Warning]:
    """Without mail, nobody can reset a password or verify an address."""
    if settings.DEBUG:
        return []
    problems = []
    if settings.EMAIL_BACKEND == DUMMY_BACKEND:
        problems.append(
            Warning(
                "EMAIL_URL is not set: no mail is sent (password resets, address "
                "verification, security notices).",
                hint="Set EMAIL_URL, e.g. smtp://user:password@mail.example.com:587?tls=1",
                id="accounts.W001",
            )
        )
    if settings.DEFAULT_FROM_EMAIL == DEFAULT_SENDER:
        problems.append(
            Warning(
                "DEFAULT_FROM_EMAIL is not set: mail would come from advisor@localhost.",
                hint="Set DEFAULT_FROM_EMAIL, e.g. Advisor <advisor@example.com>",
                id="accounts.W002",
            )
        )
    return problems
