"""gunicorn's logger with share tokens redacted from every access-log field (request line,
path, query, Referer, headers): `--logger-class advisor.gunicorn_logger.RedactingLogger` in
docker-compose.yml's web command. See advisor/log_redaction.py."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from advisor.log_redaction import redact


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(v) if isinstance(v, str) else v for key, v in atoms.items()}
