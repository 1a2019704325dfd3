"""The production shape: nginx in front of gunicorn replicas, one configuration for compose and
make prod-check (deploy/nginx/advisor.conf), and docker-compose.yml wiring them together.

nginx itself checks the configuration (`nginx -t`) when it is installed; CI installs Debian's,
so there a missing nginx fails instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import prodserver  # noqa: E402

NGINX_CONF = ROOT / "deploy" / "nginx" / "advisor.conf"
COMPOSE_PARTS = ROOT / "deploy" / "nginx" / "compose"


# --- reading nginx's configuration ------------------------------------------------------------


def nginx_tokens(text: str) -> list[str]:
    """nginx's configuration as tokens: words, quoted strings (unquoted), `{`, `}` and `;`;
    comments dropped (a `#` inside quotes is not one)."""
    tokens: list[str] = []
    pattern = re.compile(
        r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|(#[^\n]*)|([{};])|([^\s{};"\']+)'
    )
    for match in pattern.finditer(text):
        double, single, comment, punctuation, word = match.groups()
        if comment is not None:
            continue
        tokens.append(next(t for t in (double, single, punctuation, word) if t is not None))
    return tokens


def nginx_directives(text: str) -> list[list[str]]:
    """Every simple directive (`name arg ...;`), wherever it is, as [name, *args]."""
    directives: list[list[str]] = []
    current: list[str] = []
    for token in nginx_tokens(text):
        if token == ";":
            directives.append(current)
            current = []
        elif token in ("{", "}"):
            current = []  # a block's name and arguments, or its end
        else:
            current.append(token)
    return directives


def directive(name: str, text: str | None = None) -> list[list[str]]:
    """The arguments of every `name` directive in advisor.conf (or `text`)."""
    text = NGINX_CONF.read_text() if text is None else text
    return [args for head, *args in nginx_directives(text) if head == name]


def nginx_size(value: str) -> int:
    """A size as nginx reads it: bytes, or with k/K or m/M (1024-based), or g/G."""
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * units[unit.lower()]


def test_the_nginx_reader_keeps_quoted_text_whole():
    text = 'map $a $b { "~^/s/[^/?#]+" "x;y"; } # a comment; not a directive\nlisten 80;'
    assert nginx_directives(text) == [["~^/s/[^/?#]+", "x;y"], ["listen", "80"]]
    assert [nginx_size(v) for v in ["1100000", "1075k", "2m"]] == [1100000, 1100800, 2097152]


# --- what the configuration says ------------------------------------------------------------


def test_nginx_refuses_exactly_the_bodies_django_refuses():
    (limit,) = directive("client_max_body_size")
    size = nginx_size(limit[0])
    # Never below Django's limit (a valid import would be refused by nginx), and close to it
    # (larger bodies must stop at nginx, not reach a worker to be refused there).
    assert settings.MAX_REQUEST_BYTES <= size <= settings.MAX_REQUEST_BYTES * 1.05


def test_nginx_reads_whole_requests_and_responses_before_a_worker_is_involved():
    assert directive("proxy_request_buffering") == [["on"]]
    assert directive("proxy_buffering") == [["on"]]
    assert directive("client_header_timeout") and directive("client_body_timeout")


def test_nginx_tells_the_app_only_what_it_saw_itself():
    headers = {args[0].lower(): args[1:] for args in directive("proxy_set_header")}
    # Overwritten with the peer's address: a client's own X-Forwarded-For never gets through.
    assert headers["x-forwarded-for"] == ["$remote_addr"]
    assert headers["x-forwarded-proto"] == ["$scheme"]
    assert headers["host"] == ["$http_host"]
    # Other scheme headers gunicorn would believe from the proxy are emptied (not passed on).
    assert headers["x-forwarded-ssl"] == headers["x-forwarded-protocol"] == [""]
    assert "$proxy_add_x_forwarded_for" not in NGINX_CONF.read_text()


def test_nginx_serves_static_files_itself_with_long_caching_for_hashed_names():
    text = NGINX_CONF.read_text()
    assert re.search(r"location /static/ \{[^}]*include advisor\.d/static\.conf;", text)
    assert "public, max-age=31536000, immutable" in text
    assert directive("proxy_pass") == [["http://advisor_web"]]


def test_nginx_access_log_redacts_share_tokens():
    (log_format,) = directive("log_format")
    logged = set(re.findall(r"\$(\w+)", " ".join(log_format)))
    # Only the redacted forms of what may hold a share path: never the raw request or Referer.
    assert {"advisor_logged_request", "advisor_logged_referer"} <= logged
    assert not logged & {"request", "request_uri", "uri", "http_referer", "args"}
    # Every access log uses that format (static files are not logged at all).
    assert sorted(directive("access_log")) == [["/dev/stdout", "advisor"], ["off"]]


# --- nginx's own check ----------------------------------------------------------------------


def nginx_or_skip() -> str:
    nginx = prodserver.nginx_executable()
    if nginx is None:
        message = "nginx is not installed (apt-get install -y nginx, as .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return nginx


def nginx_test(conf: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        prodserver.nginx_command(conf, "-t"), capture_output=True, text=True, timeout=30
    )


def test_nginx_accepts_the_configuration_prod_check_runs(tmp_path):
    nginx_or_skip()
    conf = prodserver.render_nginx(
        tmp_path,
        upstreams=["127.0.0.1:8001", "127.0.0.1:8002"],
        listen="127.0.0.1:8080",
        static_dir=tmp_path / "static",
    )
    completed = nginx_test(conf)
    assert completed.returncode == 0, completed.stderr
    assert "test is successful" in completed.stderr
    # The shared file is included as it is, not a copy of it.
    assert f'include "{NGINX_CONF}";' in conf.read_text()


def test_nginx_accepts_the_configuration_compose_runs(tmp_path):
    """compose's listen and static parts, and the shared file; the upstream stays on loopback,
    since the name `web` only resolves inside compose's network."""
    nginx_or_skip()
    conf = prodserver.render_nginx(
        tmp_path, upstreams=["127.0.0.1:8001"], listen="127.0.0.1:8080", static_dir=tmp_path
    )
    for part in ("listen.conf", "static.conf"):
        shutil.copy(COMPOSE_PARTS / part, tmp_path / "advisor.d" / part)
    completed = nginx_test(conf)
    assert completed.returncode == 0, completed.stderr


def test_prod_check_renders_its_replicas_address_and_static_files(tmp_path):
    prodserver.render_nginx(
        tmp_path, upstreams=["127.0.0.1:1", "127.0.0.1:2"], listen="127.0.0.1:3", static_dir=ROOT
    )
    parts = tmp_path / "advisor.d"
    assert nginx_directives((parts / "upstream.conf").read_text()) == [
        ["server", "127.0.0.1:1"],
        ["server", "127.0.0.1:2"],
    ]
    assert nginx_directives((parts / "listen.conf").read_text()) == [["listen", "127.0.0.1:3"]]
    assert nginx_directives((parts / "static.conf").read_text()) == [["alias", f"{ROOT}/"]]


# --- docker-compose.yml ---------------------------------------------------------------------


def compose_value(service: str, key: str) -> str:
    """The value of the first one-line `key: value` in a service of docker-compose.yml."""
    lines = prodserver.compose_service(service)
    found = [line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{key}:")]
    return found[0] if found else ""


def test_compose_nginx_mounts_the_same_configuration():
    lines = prodserver.compose_service("nginx")
    assert "- ./deploy/nginx/advisor.conf:/etc/nginx/conf.d/default.conf:ro" in lines
    assert "- ./deploy/nginx/compose:/etc/nginx/advisor.d:ro" in lines
    assert "server web:8000;" in (COMPOSE_PARTS / "upstream.conf").read_text()
    assert "alias /srv/advisor/static/;" in (COMPOSE_PARTS / "static.conf").read_text()
    assert (
        "COPY --from=web /app/staticfiles /srv/advisor/static" in (ROOT / "Dockerfile").read_text()
    )


def test_compose_publishes_nginx_and_keeps_web_internal():
    assert "ports:" in prodserver.compose_service("nginx")
    assert "ports:" not in prodserver.compose_service("web")
    assert compose_value("web", "TRUST_X_FORWARDED_FOR") == '"1"'


def test_gunicorn_trusts_forwarded_headers_only_from_nginx():
    nginx_address = compose_value("nginx", "ipv4_address")
    command = prodserver.compose_command("web")
    assert command[command.index("--forwarded-allow-ips") + 1] == nginx_address
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"


def test_compose_web_command_keeps_the_redacting_access_log():
    command = prodserver.compose_command("web")
    assert command[command.index("--access-logfile") + 1] == "-"
    logger = command[command.index("--logger-class") + 1]
    assert logger == "advisor.gunicorn_logger.RedactingLogger"


def test_prod_check_runs_compose_web_command_on_loopback_behind_loopback_nginx():
    command = prodserver.compose_command("web")
    local = prodserver.web_command(8123)
    assert local[1:] == [
        {"0.0.0.0:8000": "127.0.0.1:8123", compose_value("nginx", "ipv4_address"): "127.0.0.1"}.get(
            arg, arg
        )
        for arg in command[1:]
    ]
