"""A local SMTP server that keeps every message it is sent, for `make prod-check`.

    with MailSink() as sink:  # listening on 127.0.0.1:<free port>
        env = {"EMAIL_URL": sink.email_url}  # what the replicas send mail through
        ...
        message = sink.wait_for(lambda m: m["To"] == "someone@example.com")

Nothing leaves the machine: aiosmtpd accepts on loopback and stores each message in memory.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from prodserver import LOOPBACK, free_port


class _Collector:
    """aiosmtpd's handler: parse each DATA into a message and wake up whoever waits."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        message = email.message_from_bytes(content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 OK"


class MailSink:
    """An SMTP server on a free loopback port for the length of a `with` block."""

    def __init__(self) -> None:
        self.port = free_port()
        self._collector = _Collector()
        self._controller = Controller(self._collector, hostname=LOOPBACK, port=self.port)

    @property
    def email_url(self) -> str:
        """The EMAIL_URL that sends through this sink (plain SMTP, no TLS, no login)."""
        return f"smtp://{LOOPBACK}:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._collector.arrived:
            return list(self._collector.messages)

    def wait_for(
        self, matches: Callable[[EmailMessage], bool], timeout: float = 20.0
    ) -> EmailMessage | None:
        """The first message `matches` accepts, waiting up to `timeout` s for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._collector.arrived:
            while True:
                found = next((m for m in self._collector.messages if matches(m)), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    return found
                self._collector.arrived.wait(left)

    def __enter__(self) -> MailSink:
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._controller.stop()


def body_text(message: EmailMessage) -> str:
    """The plain-text body of a message (its text/plain part when it has several)."""
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""
