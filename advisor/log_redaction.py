"""Share tokens never reach a log.

A share link's token is its only secret (the database keeps just its hash), so a log line
holding one would be a working link. Both writers of request paths redact it: Django's own
records ("Not Found: /s/<token>/") through the console handler's filter below, and gunicorn's
access log through advisor.gunicorn_logger.
"""

from __future__ import annotations

import logging
import re

# A share path's token segment, wherever it appears: a path, a request line, a Referer.
SHARE_TOKEN = re.compile(r"/s/[^/?#\s\"']+")
REDACTED = "/s/[redacted]"


def redact(text: str) -> str:
    """`text` with every share token replaced by "[redacted]"."""
    return SHARE_TOKEN.sub(REDACTED, text)


class RedactShareTokens(logging.Filter):
    """Rewrites a record whose message names a share token; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format: logging reports it itself, the caller must not fail
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
