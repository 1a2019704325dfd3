"""Mail: EMAIL_URL read into Django's settings, the console while DEBUG is on, a real SMTP
server in production (a password reset sent through one), and the deploy check."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from accounts.checks import mail_is_configured
from advisor.email_url import CONSOLE_BACKEND, SMTP_BACKEND, email_settings
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


def test_smtp_with_starttls_and_a_login():
    assert email_settings("smtp://advisor:s3cr%40t@mail.example.com:587?tls=1") == {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "advisor",
        "EMAIL_HOST_PASSWORD": "s3cr@t",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 30,
    }


def test_smtps_is_tls_from_the_first_byte_on_its_own_port():
    config = email_settings("smtps://advisor:pw@mail.example.com?timeout=10")
    assert (config["EMAIL_USE_SSL"], config["EMAIL_USE_TLS"]) == (True, False)
    assert (config["EMAIL_PORT"], config["EMAIL_TIMEOUT"]) == (465, 10)


def test_a_local_relay_needs_no_login():
    config = email_settings("smtp://localhost")
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("localhost", 25)
    assert (config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == ("", "")


def test_console_prints_mail():
    assert email_settings("console://") == {"EMAIL_BACKEND": CONSOLE_BACKEND}


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.com",
        "mail.example.com:587",
        "smtp://",
        "smtp://mail.example.com:port",
        "smtp://mail.example.com?tls=yes-please",
        "smtp://mail.example.com?tls=1&ssl=1",
        "smtp://mail.example.com?starttls=1",
        "smtp://mail.example.com?timeout=0",
    ],
)
def test_a_url_that_cannot_be_read_stops_start_up(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_settings(url)


def settings_in_a_new_process(**environment: str) -> dict[str, str]:
    """EMAIL_BACKEND and DEFAULT_FROM_EMAIL as settings.py reads them from `environment`."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if k not in ("EMAIL_URL", "DEFAULT_FROM_EMAIL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.EMAIL_BACKEND); print(settings.DEFAULT_FROM_EMAIL)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=inherited | {"DJANGO_SETTINGS_MODULE": "advisor.settings"} | environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    backend, sender = completed.stdout.strip().splitlines()[-2:]
    return {"backend": backend, "sender": sender}


def test_mail_goes_to_the_console_while_debug_is_on_and_nowhere_in_production_unset():
    assert settings_in_a_new_process(DEBUG="1")["backend"] == CONSOLE_BACKEND
    production = {"DEBUG": "0", "SECRET_KEY": "a-real-secret-key-for-this-test-only-0123456789"}
    assert settings_in_a_new_process(**production)["backend"] == (
        "django.core.mail.backends.dummy.EmailBackend"
    )
    configured = settings_in_a_new_process(
        **production,
        EMAIL_URL="smtp://advisor:pw@mail.example.com:587?tls=1",
        DEFAULT_FROM_EMAIL="Advisor <advisor@example.com>",
    )
    assert configured == {"backend": SMTP_BACKEND, "sender": "Advisor <advisor@example.com>"}


def test_the_deploy_check_asks_for_mail_in_production(settings):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "advisor@localhost"
    assert [w.id for w in mail_is_configured()] == ["accounts.W001", "accounts.W002"]

    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.DEFAULT_FROM_EMAIL = "Advisor <advisor@example.com>"
    assert mail_is_configured() == []
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    assert mail_is_configured() == []


# --- A real SMTP server ------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: keeps every message delivered to it, and who logged in."""

    def __init__(self) -> None:
        self.messages: list = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        good = (auth_data.login, auth_data.password) == (b"advisor", b"s3cr@t")
        if good:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=good)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,  # a loopback test server has no certificate
        auth_required=True,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_password_reset_is_sent_through_the_smtp_server_of_email_url(
    client, settings, smtp_server
):
    inbox, port = smtp_server
    for name, value in email_settings(f"smtp://advisor:s3cr%40t@127.0.0.1:{port}").items():
        setattr(settings, name, value)
    settings.DEFAULT_FROM_EMAIL = "Advisor <advisor@example.com>"
    UserFactory(username="alice", email="alice@example.com", password="plum-Harbour-42-kite")

    response = client.post(reverse("account_reset_password"), {"email": "alice@example.com"})

    assert response.status_code == 302
    assert inbox.logins == ["advisor"]
    (message,) = inbox.messages
    assert (message["To"], message["From"]) == (
        "alice@example.com",
        "Advisor <advisor@example.com>",
    )
    assert message["Subject"].startswith("[Advisor] ")
    assert "/accounts/password/reset/key/" in message.get_payload(decode=True).decode()
