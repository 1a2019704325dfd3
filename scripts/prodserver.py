"""Run Advisor the way docker-compose.yml does, without Docker, on free loopback ports.

    from prodserver import prepare, production_replicas, nginx_proxy

    prepare(database_url)  # create the PostgreSQL database if missing, migrate, collectstatic
    with production_replicas(database_url, 2, log_dir=tmp) as replicas:  # gunicorn x 2
        with nginx_proxy(replicas, directory=tmp / "nginx") as base_url:  # nginx in front
            ...  # /healthz already answered 200 through each

`production_server(database_url)` starts a single gunicorn. `make prod-check` and `make bench`
both run the two replicas behind nginx shown above.

The commands are not repeated here: the `migrate` and `web` services' `command:` lines are
read from docker-compose.yml; only gunicorn's bind address, the proxy address it trusts
(--forwarded-allow-ips: nginx is on loopback here) and, if asked, its worker count are
replaced. The environment is the web service's: DEBUG=0, a random SECRET_KEY (one for all
replicas), ALLOWED_HOSTS=127.0.0.1,localhost, TRUST_X_FORWARDED_FOR=1 and the given
DATABASE_URL (PostgreSQL or SQLite, e.g. `sqlite:////tmp/advisor.db`). SECURE_PROXY_SSL is
off on purpose (plain HTTP on loopback, no TLS), and each server gets its own gunicorn
control socket (gunicorn 27+), so servers can run side by side. Replicas share nothing but
the database, as in production.

nginx is Debian's, run unprivileged with the repository's deploy/nginx/advisor.conf
unchanged: `render_nginx()` writes the three small files it includes (this run's replicas,
address and static directory) and a main nginx.conf that keeps the pid file, the logs and
nginx's temporary files in a temporary directory.

Static files are collected into the project's STATIC_ROOT (`staticfiles/`, as the Dockerfile
does in the image); nginx serves them from there.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx" / "advisor.conf"
NGINX_MIME_TYPES = Path("/etc/nginx/mime.types")  # Debian's, as in the official image
LOOPBACK = "127.0.0.1"
ALLOWED_HOSTS = "127.0.0.1,localhost"
STOP_TIMEOUT = 40.0  # gunicorn's graceful_timeout is 30 s; then the group is killed
COMMAND_TIMEOUT = 600.0  # migrate / collectstatic


class ProductionServerError(RuntimeError):
    pass


# --- docker-compose.yml -------------------------------------------------------------------


def compose_service(service: str, compose_file: Path = COMPOSE_FILE) -> list[str]:
    """The lines of one service's block in docker-compose.yml, stripped, comments left out.

    No YAML parser is needed for what is read from them: one-line keys and flow-style lists.
    """
    lines = compose_file.read_text(encoding="utf-8").splitlines()
    in_services = False
    service_indent: int | None = None
    found: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_services = stripped == "services:"
            service_indent = None
            continue
        if not in_services:
            continue
        if service_indent is None or indent <= service_indent:
            service_indent = indent if stripped == f"{service}:" else None
            continue
        found.append(stripped)
    return found


def compose_command(service: str, compose_file: Path = COMPOSE_FILE) -> list[str]:
    """The `command: [...]` of a service in docker-compose.yml, as an argv list (written in
    flow style, which is valid JSON)."""
    for stripped in compose_service(service, compose_file):
        if stripped.startswith("command:"):
            value = stripped[len("command:") :].strip()
            try:
                argv = json.loads(value)
            except json.JSONDecodeError as error:
                raise ProductionServerError(
                    f"{compose_file.name}: the {service} service's command must be a one-line "
                    f'JSON-style list, e.g. command: ["gunicorn", ...]; got {value!r}'
                ) from error
            if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
                raise ProductionServerError(f"{compose_file.name}: bad {service} command {argv!r}")
            return argv
    raise ProductionServerError(f"{compose_file.name}: no command for service {service!r}")


def _replace_option(argv: list[str], option: str, value: str) -> list[str]:
    """argv with `option value` (or `option=value`) replaced; appended when absent."""
    result: list[str] = []
    found = False
    skip = False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == option and index + 1 < len(argv):
            result += [option, value]
            found = skip = True
        elif arg.startswith(option + "="):
            result.append(f"{option}={value}")
            found = True
        else:
            result.append(arg)
    return result if found else [*result, option, value]


def _executable(name: str) -> str:
    """`python` is this interpreter; other programs come from this venv's bin, then PATH."""
    if name in {"python", "python3"}:
        return sys.executable
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise ProductionServerError(f"{name!r} not found next to {sys.executable} or on PATH")
    return found


def _has_control_socket() -> bool:
    """gunicorn 27+ opens a control socket, by default one per user (~/.gunicorn/)."""
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return False
    return any(setting.name == "control_socket" for setting in KNOWN_SETTINGS)


def web_command(
    port: int, *, workers: int | None = None, control_socket: Path | None = None
) -> list[str]:
    """The compose web command, bound to 127.0.0.1:<port> instead of 0.0.0.0:8000 and
    trusting the proxy on loopback instead of compose's nginx address; with `control_socket`,
    gunicorn's control socket (if it has one) is there, so servers running side by side do
    not share one."""
    argv = _replace_option(compose_command("web"), "--bind", f"{LOOPBACK}:{port}")
    argv = _replace_option(argv, "--forwarded-allow-ips", LOOPBACK)
    if workers is not None:
        argv = _replace_option(argv, "--workers", str(workers))
    if control_socket is not None and _has_control_socket():
        argv = _replace_option(argv, "--control-socket", str(control_socket))
    return [_executable(argv[0]), *argv[1:]]


def migrate_command() -> list[str]:
    argv = compose_command("migrate")
    return [_executable(argv[0]), *argv[1:]]


def collectstatic_command() -> list[str]:
    # As in the Dockerfile: `python manage.py collectstatic --noinput` with DEBUG=0.
    return [sys.executable, "manage.py", "collectstatic", "--noinput"]


# --- environment and preparation ----------------------------------------------------------


def production_env(
    database_url: str, *, extra: Mapping[str, str] | None = None, secret_key: str | None = None
) -> dict[str, str]:
    """The web service's environment for this database; `extra` overrides anything."""
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=secret_key or secrets.token_urlsafe(50),
        ALLOWED_HOSTS=ALLOWED_HOSTS,
        DATABASE_URL=database_url,
        # As compose's web service: behind nginx, which overwrites X-Forwarded-For.
        TRUST_X_FORWARDED_FOR="1",
        SECURE_PROXY_SSL="0",
        CSRF_TRUSTED_ORIGINS="",
        DJANGO_SETTINGS_MODULE="advisor.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def _run(argv: list[str], env: Mapping[str, str], what: str) -> None:
    try:
        completed = subprocess.run(
            argv,
            cwd=ROOT,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        raise ProductionServerError(f"{what} took longer than {COMMAND_TIMEOUT:.0f} s") from error
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise ProductionServerError(
            f"{what} failed (exit {completed.returncode}): {' '.join(argv)}\n{output[-3000:]}"
        )


def ensure_database(database_url: str) -> str:
    """Make sure the database can be migrated: create a missing PostgreSQL database (with
    psql, as CI does) or a missing SQLite file's directory. Returns what was done."""
    url = urlsplit(database_url)
    scheme = url.scheme.split("+")[0]
    if scheme == "sqlite":
        path = unquote(url.path)
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return f"SQLite {path}"
    if scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ProductionServerError(f"unsupported DATABASE_URL scheme {url.scheme!r}")
    name = unquote(url.path.lstrip("/"))
    if not name:
        raise ProductionServerError(f"no database name in {database_url!r}")
    psql = shutil.which("psql")
    if psql is None:
        raise ProductionServerError("psql not found: it is needed to create the database")
    argv = [psql, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-v", f"name={name}"]
    argv += ["-h", url.hostname or LOOPBACK, "-p", str(url.port or 5432)]
    argv += ["-U", unquote(url.username or "postgres"), "-d", "postgres"]
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    if url.password:
        env["PGPASSWORD"] = unquote(url.password)
    # Variables are interpolated only in psql's input, so the SQL goes to stdin.
    sql = (
        "SELECT 'CREATE DATABASE ' || quote_ident(:'name')\n"
        "WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \\gexec\n"
    )
    try:
        completed = subprocess.run(
            argv, input=sql, env=env, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired as error:
        raise ProductionServerError("psql did not answer within 60 s") from error
    if completed.returncode != 0:
        raise ProductionServerError(
            f"could not create PostgreSQL database {name!r}: {completed.stderr.strip()}"
        )
    return f"PostgreSQL database {name!r} on {url.hostname or LOOPBACK}:{url.port or 5432}"


def prepare(database_url: str, *, env: Mapping[str, str] | None = None) -> None:
    """What must happen before the web service starts: the database exists, migrations are
    applied (the compose `migrate` service) and static files are collected (the image)."""
    env = env or production_env(database_url)
    ensure_database(database_url)
    _run(migrate_command(), env, "migrate")
    _run(collectstatic_command(), env, "collectstatic")


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((LOOPBACK, port)) == 0


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _healthy(base_url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(base_url + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the gunicorn master (graceful), then SIGKILL to its process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Still alive, so its group (gunicorn and its workers) still exists.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _became_healthy(
    base_url: str,
    process: subprocess.Popen,
    timeout: float,
    what: str,
    log_tail: Callable[[], str],
) -> bool:
    """Whether `process` answered /healthz with 200 before it exited (False: it exited, e.g.
    its port was taken); raises when it is still silent after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not _healthy(base_url):
        if process.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise ProductionServerError(
                f"{what} did not answer /healthz with 200 within {timeout:.0f} s; "
                f"its log:\n{log_tail()}"
            )
        time.sleep(0.1)
    return True


def _start(argv: list[str], env: Mapping[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole, never orphaned
    )


@contextmanager
def production_server(
    database_url: str,
    *,
    workers: int = 3,
    env: Mapping[str, str] | None = None,
    log_path: str | Path | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[str]:
    """Start gunicorn with the compose web command and the production environment on a free
    loopback port, wait until /healthz answers 200, yield the base URL, then stop it (also on
    error). Call `prepare()` first. `env` adds to or overrides the production environment;
    gunicorn's output (access log included) goes to `log_path` (a temporary file if None)."""
    with tempfile.TemporaryDirectory(prefix="advisor-prodserver-") as tmp:
        server_env = production_env(database_url, extra=env)
        log_file = Path(log_path) if log_path else Path(tmp) / "gunicorn.log"
        with open(log_file, "ab", buffering=0) as log:
            for attempt in range(3):  # another process may grab the free port first
                port = free_port()
                base_url = f"http://{LOOPBACK}:{port}"
                argv = web_command(port, workers=workers, control_socket=Path(tmp) / "gunicorn.ctl")
                process = _start(argv, server_env, log)
                try:
                    if _became_healthy(
                        base_url, process, startup_timeout, "gunicorn", lambda: _tail(log_file)
                    ):
                        yield base_url
                        return
                    log_text = _tail(log_file)
                    if "Address already in use" in log_text and attempt < 2:
                        continue
                    raise ProductionServerError(
                        f"gunicorn exited with status {process.returncode} before it was "
                        f"healthy; its log:\n{log_text}"
                    )
                finally:
                    _stop(process)
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def production_replicas(
    database_url: str,
    count: int = 2,
    *,
    workers: int = 3,
    env: Mapping[str, str] | None = None,
    log_dir: Path,
    startup_timeout: float = 60.0,
) -> Iterator[list[str]]:
    """`count` gunicorn servers on one database, as `docker compose up --scale web=N` runs:
    the same command and environment, one SECRET_KEY (a session or CSRF token signed by one
    must hold on the others), nothing else shared. Yields their base URLs; replica n logs to
    `log_dir/replica-n.log`. Call `prepare()` first (migrations run once, not per replica)."""
    shared_env = {"SECRET_KEY": secrets.token_urlsafe(50), **(env or {})}
    with ExitStack() as servers:
        yield [
            servers.enter_context(
                production_server(
                    database_url,
                    workers=workers,
                    env=shared_env,
                    log_path=replica_log(log_dir, number),
                    startup_timeout=startup_timeout,
                )
            )
            for number in range(1, count + 1)
        ]


def replica_log(log_dir: Path, number: int) -> Path:
    return Path(log_dir) / f"replica-{number}.log"


# --- nginx in front -----------------------------------------------------------------------


def nginx_executable() -> str | None:
    """Debian's nginx lives in /usr/sbin, which an unprivileged PATH may not include."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def static_root() -> Path:
    """Where collectstatic writes: settings.STATIC_ROOT, read the way settings read it."""
    return Path(os.environ.get("STATIC_ROOT", ROOT / "staticfiles"))


_NGINX_MAIN = """\
# prod-check's and bench's main configuration (scripts/prodserver.py): what the nginx image's
# /etc/nginx/nginx.conf does, but with everything nginx writes under this directory.
{user}worker_processes 1;
pid "{dir}/nginx.pid";
error_log "{dir}/error.log" info;
events {{
    worker_connections 512;
}}
http {{
    include "{mime_types}";
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path "{dir}/temp/body";
    proxy_temp_path "{dir}/temp/proxy";
    fastcgi_temp_path "{dir}/temp/fastcgi";
    uwsgi_temp_path "{dir}/temp/uwsgi";
    scgi_temp_path "{dir}/temp/scgi";
    include "{advisor_conf}";
}}
"""


def render_nginx(
    directory: Path, *, upstreams: Sequence[str], listen: str, static_dir: Path
) -> Path:
    """Write nginx.conf and the advisor.d/ files that deploy/nginx/advisor.conf includes into
    `directory`: this run's replicas (`host:port` each), listen address and static files.
    Returns the path of nginx.conf, for `nginx -p <directory>/ -c <it>`."""
    directory = Path(directory).resolve()
    parts = directory / "advisor.d"
    parts.mkdir(parents=True, exist_ok=True)
    (directory / "temp").mkdir(exist_ok=True)
    (parts / "upstream.conf").write_text("".join(f"server {u};\n" for u in upstreams))
    (parts / "listen.conf").write_text(f"listen {listen};\n")
    (parts / "static.conf").write_text(f'alias "{Path(static_dir).resolve()}/";\n')
    # As root, nginx would run its workers as nobody, who may not read this directory.
    user = f"user {_user_name()};\n" if os.geteuid() == 0 else ""
    main = directory / "nginx.conf"
    main.write_text(
        _NGINX_MAIN.format(
            user=user, dir=directory, mime_types=NGINX_MIME_TYPES, advisor_conf=NGINX_CONF
        )
    )
    return main


def _user_name() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def nginx_command(conf: Path, *extra: str) -> list[str]:
    """nginx with its prefix, configuration and error log all in `conf`'s directory."""
    nginx = nginx_executable()
    if nginx is None:
        raise ProductionServerError(
            "nginx not found: install Debian's (apt-get install -y nginx), as .ci/run does"
        )
    directory = conf.parent
    return [
        nginx,
        "-p",
        f"{directory}/",
        "-c",
        str(conf),
        "-e",
        str(directory / "error.log"),
        *extra,
    ]


@contextmanager
def nginx_proxy(
    upstreams: Sequence[str],
    *,
    directory: Path,
    static_dir: Path | None = None,
    startup_timeout: float = 20.0,
) -> Iterator[str]:
    """nginx with deploy/nginx/advisor.conf in front of `upstreams` (base URLs or host:port)
    on a free loopback port; yields its base URL once /healthz answered 200 through it, and
    stops it afterwards. Its output (the access log, one line a request) goes to
    `directory/nginx.log`, its error log to `directory/error.log`."""
    servers = [urlsplit(u).netloc if "://" in u else u for u in upstreams]
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    error_log = directory / "error.log"
    with open(directory / "nginx.log", "ab", buffering=0) as log:
        for attempt in range(3):  # another process may grab the free port first
            port = free_port()
            base_url = f"http://{LOOPBACK}:{port}"
            conf = render_nginx(
                directory,
                upstreams=servers,
                listen=f"{LOOPBACK}:{port}",
                static_dir=static_dir or static_root(),
            )
            process = _start(nginx_command(conf, "-g", "daemon off;"), os.environ, log)
            try:
                if _became_healthy(
                    base_url, process, startup_timeout, "nginx", lambda: _tail(error_log)
                ):
                    yield base_url
                    return
                errors = _tail(directory / "error.log") + "\n" + _tail(directory / "nginx.log")
                if "Address already in use" in errors and attempt < 2:
                    continue
                raise ProductionServerError(
                    f"nginx exited with status {process.returncode} before it was healthy; "
                    f"its log:\n{errors.strip()}"
                )
            finally:
                _stop(process)
    raise AssertionError("unreachable")  # pragma: no cover
