"""gunicorn's logger with share tokens redacted from every access-log field (request line,
path, query, Referer, headers): `--logger-class advisor.gunicorn_logger.RedactingLogger` in
docker-compose.yml's web command. See advisor/log_redaction.py."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from advisor.log_redaction import RedactShareTokens, redact


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # The error log names the request too ("Error handling request GET /s/<token>/...",
        # e.g. when a worker times out rendering a shared memo).
        self.error_log.addFilter(RedactShareTokens())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(v) if isinstance(v, str) else v for key, v in atoms.items()}
