"""Share tokens never reach a log: Django's records and gunicorn's access log redact them."""

import logging
import secrets
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from gunicorn.config import Config

from advisor.gunicorn_logger import RedactingLogger
from advisor.log_redaction import RedactShareTokens, redact

TOKEN = secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/s/{TOKEN}/", "/s/[redacted]/"),
        (f"GET /s/{TOKEN}/memo.pdf HTTP/1.1", "GET /s/[redacted]/memo.pdf HTTP/1.1"),
        (
            f"https://advisor.example.com/s/{TOKEN}/?x=1",
            "https://advisor.example.com/s/[redacted]/?x=1",
        ),
        ("/assessments/12/report/", "/assessments/12/report/"),
        ("/static/css/app.css", "/static/css/app.css"),
    ],
)
def test_a_share_token_is_redacted_wherever_it_appears_and_nothing_else_is(text, expected):
    assert redact(text) == expected


def test_djangos_not_found_record_loses_the_token_and_keeps_the_rest():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/s/{TOKEN}/",), None
    )

    assert RedactShareTokens().filter(record) is True
    assert record.getMessage() == "Not Found: /s/[redacted]/"


def test_the_console_handler_carries_the_filter():
    handler = settings.LOGGING["handlers"]["console"]
    assert "redact_share_tokens" in handler["filters"]
    assert settings.LOGGING["filters"]["redact_share_tokens"]["()"].endswith("RedactShareTokens")


def test_gunicorns_access_log_fields_are_redacted():
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/s/{TOKEN}/",
        "PATH_INFO": f"/s/{TOKEN}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://advisor.example.com/s/{TOKEN}/",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    request = SimpleNamespace(headers=[("REFERER", f"https://advisor.example.com/s/{TOKEN}/")])

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))

    assert not [key for key, value in atoms.items() if isinstance(value, str) and TOKEN in value]
    assert atoms["r"] == "GET /s/[redacted]/ HTTP/1.1"
    assert atoms["U"] == "/s/[redacted]/"


def test_gunicorns_error_log_is_redacted_too():
    logger = RedactingLogger(Config())
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, __file__, 1, "Error handling request %s %s",
        ("GET", f"/s/{TOKEN}/memo.pdf"), None,
    )  # fmt: skip

    assert all(f.filter(record) for f in logger.error_log.filters)
    assert record.getMessage() == "Error handling request GET /s/[redacted]/memo.pdf"


def test_a_record_whose_format_does_not_fit_its_arguments_passes_through():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d", ("not a number",), None)
    assert RedactShareTokens().filter(record) is True
