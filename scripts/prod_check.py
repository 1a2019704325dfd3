"""`make prod-check`: the production stack, proven without Docker.

Prepares a PostgreSQL database like the compose `migrate` service, collects static files
like the image does, starts gunicorn with docker-compose.yml's web command and production
environment (DEBUG=0, a random SECRET_KEY) on a free loopback port, and drives a real session
through it over HTTP: sign-up, a project, every answer of the "support bot" worked example
through the HTMX autosave endpoint, the report, a static file from whitenoise, a share link
opened without cookies, both PDF memos, and a 404 without the debug page. The server is
always stopped. Exit status 0 when everything passed, 1 (with the reason) otherwise.

    .venv/bin/python scripts/prod_check.py [--database-url URL] [--workers N]

The database defaults to $PROD_CHECK_DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/advisor_prodcheck (created when missing).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import signal
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

from prodserver import ROOT, ProductionServerError, port_is_open, prepare, production_server

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/advisor_prodcheck"
# A worked case of the current rubric (v2), answered as a new user's assessment is.
SCENARIOS_FILE = "assessments/data/scenarios-v2.json"
SCENARIO = "v2-support-bot-hybrid"
EXPECTED_VERDICT = "Hybrid (fine-tuning + RAG)"
REQUEST_TIMEOUT = 60.0  # seconds per request (a first PDF render included)
USER_AGENT = "advisor-prod-check/1"


class CheckFailed(Exception):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class Browser:
    """A client that keeps cookies (or not) and sends Origin/Referer like a browser."""

    def __init__(self, base_url: str, *, cookies: bool = True) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if cookies:
            handlers.append(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener = urllib.request.build_opener(*handlers)
        self.requests = 0

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def request(
        self,
        method: str,
        path: str,
        data: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        url = urljoin(self.base_url + "/", path)
        all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        body = None
        if data is not None:
            body = urlencode(data).encode("ascii")
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers.setdefault("Origin", self.base_url)
            all_headers.setdefault("Referer", url)
        req = urllib.request.Request(url, data=body, headers=all_headers, method=method)
        self.requests += 1
        try:
            with self.opener.open(req, timeout=REQUEST_TIMEOUT) as response:
                return Response(
                    response.geturl(),
                    response.status,
                    {k.lower(): v for k, v in response.headers.items()},
                    response.read(),
                )
        except urllib.error.HTTPError as error:  # 4xx/5xx: still a response to check
            with error:
                return Response(
                    error.geturl(),
                    error.code,
                    {k.lower(): v for k, v in error.headers.items()},
                    error.read(),
                )
        except (urllib.error.URLError, OSError) as error:
            raise CheckFailed(f"{method} {path}: no response ({error})") from error

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: list[tuple[str, str]], **kwargs) -> Response:
        return self.request("POST", path, data=data, **kwargs)


class Tags(HTMLParser):
    """Every start tag of a page with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            found
            for name, found in self.tags
            if name == tag and all(found.get(k) == v for k, v in attrs.items())
        ]


def expect_status(response: Response, status: int, what: str) -> Response:
    check(
        response.status == status,
        f"{what}: expected HTTP {status}, got {response.status} from {response.url}\n"
        f"{response.text[:800]}",
    )
    return response


def csrf_token(page: Response, what: str) -> str:
    inputs = Tags(page.text).find("input", name="csrfmiddlewaretoken")
    check(inputs and inputs[0].get("value"), f"{what}: no csrfmiddlewaretoken in the form")
    return inputs[0]["value"]


# --- the session ----------------------------------------------------------------------------


def scenario_answers() -> dict[str, object]:
    data = json.loads((ROOT / SCENARIOS_FILE).read_text(encoding="utf-8"))
    for scenario in data["scenarios"]:
        if scenario["id"] == SCENARIO:
            return scenario["answers"]
    raise CheckFailed(f"scenario {SCENARIO!r} not found in {SCENARIOS_FILE}")


class Session:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.user = Browser(base_url)
        self.stranger = Browser(base_url, cookies=False)
        self.facts: dict[str, object] = {}

    def step(self, message: str) -> None:
        print(f"  ok  {message}", flush=True)

    def run(self) -> None:
        health = expect_status(self.user.get("/healthz"), 200, "GET /healthz")
        check(json.loads(health.body).get("status") == "ok", f"/healthz said {health.text}")
        self.step("GET /healthz -> 200 (database ok)")

        expect_status(self.user.get("/"), 200, "GET /")
        self.step("GET / -> 200")

        missing = self.user.get(f"/no-such-page-{secrets.token_hex(4)}/")
        expect_status(missing, 404, "GET a missing URL")
        check(
            "Using the URLconf" not in missing.text and "Django tried these" not in missing.text,
            "a missing URL shows Django's debug page: DEBUG is on in production",
        )
        self.step("GET a missing URL -> 404 without the debug page (DEBUG is off)")

        self.sign_up()
        assessment_id = self.create_project()
        self.answer_questions(assessment_id)
        report = self.report(assessment_id)
        self.static_file(report)
        link = self.share(assessment_id)
        self.shared(link)
        self.memos(assessment_id, link)
        self.facts["share_link"] = link
        # An unknown token too: Django logs its 404 ("Not Found: /s/...").
        expect_status(self.stranger.get(f"/s/{secrets.token_urlsafe(32)}/"), 404, "a bad token")

    def sign_up(self) -> None:
        form = expect_status(self.user.get("/accounts/signup/"), 200, "GET /accounts/signup/")
        username = f"prodcheck-{secrets.token_hex(6)}"
        password = secrets.token_urlsafe(18)
        response = self.user.post(
            "/accounts/signup/",
            [
                ("csrfmiddlewaretoken", csrf_token(form, "sign-up page")),
                ("username", username),
                ("password1", password),
                ("password2", password),
            ],
        )
        expect_status(response, 200, "POST /accounts/signup/")
        check(
            urlsplit(response.url).path == "/projects/new/",
            f"sign-up did not log in and redirect to /projects/new/ (ended at {response.url});"
            f" the form said:\n{response.text[:800]}",
        )
        check(self.user.cookie("sessionid"), "sign-up set no session cookie")
        self.facts["user"] = username
        self.step(f"sign up as {username} -> logged in, redirected to /projects/new/")

    def create_project(self) -> int:
        form = expect_status(self.user.get("/projects/new/"), 200, "GET /projects/new/")
        response = self.user.post(
            "/projects/new/",
            [
                ("csrfmiddlewaretoken", csrf_token(form, "new project page")),
                ("name", "Prod-check support bot"),
                ("description", "Created by make prod-check through gunicorn."),
            ],
        )
        expect_status(response, 200, "POST /projects/new/")
        match = re.fullmatch(r"/assessments/(\d+)/", urlsplit(response.url).path)
        check(match, f"creating a project did not open the questions (ended at {response.url})")
        assessment_id = int(match.group(1))
        self.facts["assessment"] = assessment_id
        self.questionnaire = Tags(response.text)
        self.step(f"create a project -> questionnaire /assessments/{assessment_id}/")
        return assessment_id

    def answer_questions(self, assessment_id: int) -> None:
        answers = scenario_answers()
        on_page = {
            attrs["id"][2:]
            for attrs in self.questionnaire.find("fieldset")
            if attrs.get("id", "").startswith("q-")
        }
        check(on_page, "the questionnaire shows no questions (no fieldset#q-...)")
        unknown = sorted(set(answers) - on_page)
        check(not unknown, f"scenario answers questions the page does not show: {unknown}")
        token = self.user.cookie("csrftoken")
        check(token, "no csrftoken cookie for the HTMX requests")
        page = f"{self.base_url}/assessments/{assessment_id}/"
        last = None
        for question_id, value in answers.items():
            values = value if isinstance(value, list) else [value]
            path = f"/assessments/{assessment_id}/questions/{question_id}/"
            last = self.user.post(
                path,
                [(question_id, str(v)) for v in values],
                headers={
                    "HX-Request": "true",
                    "HX-Current-URL": page,
                    "X-CSRFToken": token,
                    "Referer": page,
                },
            )
            expect_status(last, 200, f"autosave {question_id}")
            check("Saved" in last.text, f"autosave {question_id}: no “Saved” in\n{last.text[:800]}")
        check(
            last is not None and "Open the full report" in last.text,
            "after every answer the live verdict panel offers no report",
        )
        skipped = sorted(on_page - set(answers))
        self.facts["answers"] = len(answers)
        self.step(
            f"autosave {len(answers)} answers over HTMX -> 200 “Saved” each"
            + (f" (optional, not in the scenario: {', '.join(skipped)})" if skipped else "")
        )

    def report(self, assessment_id: int) -> Response:
        path = f"/assessments/{assessment_id}/report/"
        report = expect_status(self.user.get(path), 200, f"GET {path}")
        check(EXPECTED_VERDICT in report.text, f"the report does not say {EXPECTED_VERDICT!r}")
        self.step(f"GET the report -> 200, verdict {EXPECTED_VERDICT}")
        return report

    def static_file(self, page: Response) -> None:
        hrefs = [
            attrs["href"]
            for attrs in Tags(page.text).find("link", rel="stylesheet")
            if attrs.get("href", "").startswith("/static/")
        ]
        hashed = [h for h in hrefs if re.search(r"\.[0-9a-f]{12}\.css$", h)]
        check(hashed, f"no hashed stylesheet link (manifest storage) on the report: {hrefs}")
        response = expect_status(self.stranger.get(hashed[0]), 200, f"GET {hashed[0]}")
        check(
            response.header("Content-Type").startswith("text/css"),
            f"{hashed[0]} has Content-Type {response.header('Content-Type')!r}",
        )
        check(
            "immutable" in response.header("Cache-Control"),
            f"whitenoise did not serve {hashed[0]} as immutable "
            f"(Cache-Control: {response.header('Cache-Control')!r})",
        )
        self.step(f"GET {hashed[0]} -> 200 text/css, immutable (whitenoise)")

    def share(self, assessment_id: int) -> str:
        path = f"/assessments/{assessment_id}/shares/"
        response = self.user.post(
            path,
            [
                ("csrfmiddlewaretoken", self.user.cookie("csrftoken")),
                ("label", "prod-check"),
                ("expiry", "7"),
            ],
        )
        expect_status(response, 200, f"POST {path}")
        inputs = Tags(response.text).find("input", id="new-share-url")
        check(inputs and inputs[0].get("value"), "no input#new-share-url after creating a link")
        link = inputs[0]["value"]
        check(
            link.startswith(self.base_url + "/s/") and link.endswith("/"),
            f"unexpected share link {link!r}",
        )
        self.step("create a share link (7 days) -> shown once in input#new-share-url")
        return link

    def shared(self, link: str) -> None:
        response = expect_status(self.stranger.get(link), 200, "GET the share link")
        policy = response.header("Referrer-Policy")
        check(policy == "no-referrer", f"shared page has Referrer-Policy {policy!r}")
        check(EXPECTED_VERDICT in response.text, "the shared report does not show the verdict")
        check(
            self.facts["user"] not in response.text,
            "the shared report shows the owner's user name",
        )
        self.step("open the share link without cookies -> 200, Referrer-Policy: no-referrer")

    def memos(self, assessment_id: int, link: str) -> None:
        for who, browser, url in [
            ("shared", self.stranger, link + "memo.pdf"),
            ("owner's", self.user, f"/assessments/{assessment_id}/memo.pdf"),
        ]:
            started = time.perf_counter()
            response = expect_status(browser.get(url), 200, f"GET the {who} memo")
            elapsed = time.perf_counter() - started
            check(response.body.startswith(b"%PDF"), f"the {who} memo is not a PDF")
            check(
                response.header("Content-Type") == "application/pdf",
                f"the {who} memo has Content-Type {response.header('Content-Type')!r}",
            )
            self.step(
                f"GET the {who} memo.pdf -> 200 %PDF, {len(response.body) // 1024} KiB "
                f"in {elapsed:.2f} s"
            )


def check_log_redacts_share_tokens(log_path: Path, link: str) -> None:
    """The server's log (access log and Django's records) names share paths, never tokens."""
    log = log_path.read_text(errors="replace")
    token = link.rstrip("/").rsplit("/", 1)[1]
    check(token not in log, "a share token appears in the server's log")
    check("/s/[redacted]/" in log, "the server's log shows no redacted share path")
    check("Not Found: /s/[redacted]/" in log, "Django's 404 record of a bad token is not redacted")
    print("  ok  the server's log shows share paths as /s/[redacted]/, never a token", flush=True)


# --- main -----------------------------------------------------------------------------------


def _exit_on_signal(signum: int, _frame: object) -> None:
    print(f"prod-check interrupted by signal {signum}: stopping", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)  # unwinds through the context manager: gunicorn stops


def _display(database_url: str) -> str:
    password = urlsplit(database_url).password
    return database_url.replace(f":{password}@", ":***@", 1) if password else database_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PROD_CHECK_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)

    started = time.monotonic()
    print(f"== prod-check: gunicorn, DEBUG=0, {_display(args.database_url)}", flush=True)
    base_url = ""
    session = None
    failure = ""
    with tempfile.TemporaryDirectory(prefix="advisor-prodcheck-") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        try:
            prepare(args.database_url)
            print("  ok  database ready, migrations applied, static files collected", flush=True)
            with production_server(
                args.database_url, workers=args.workers, log_path=log_path
            ) as base_url:
                print(f"  ok  gunicorn ({args.workers} workers) healthy at {base_url}", flush=True)
                session = Session(base_url)
                session.run()
                check_log_redacts_share_tokens(log_path, session.facts["share_link"])
        except (CheckFailed, ProductionServerError) as error:
            failure = str(error)
        except KeyboardInterrupt:
            failure = "interrupted"
        except Exception as error:  # an unexpected answer must still end in a clear message
            failure = f"unexpected {type(error).__name__}: {error}"
            traceback.print_exc()
        if failure:
            log = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
            if log:
                print("--- gunicorn log (last 40 lines) ---", file=sys.stderr)
                print("\n".join(log[-40:]), file=sys.stderr)
    port = urlsplit(base_url).port if base_url else None
    if port is not None and port_is_open(port):
        failure = f"{failure}\nport {port} still accepts connections after gunicorn was stopped"
    if failure:
        print(f"prod-check FAILED: {failure.strip()}", file=sys.stderr)
        return 1
    assert session is not None
    requests = session.user.requests + session.stranger.requests
    print(
        f"prod-check passed in {time.monotonic() - started:.1f} s: {requests} requests through "
        f"gunicorn, {session.facts['answers']} answers saved, verdict {EXPECTED_VERDICT}, "
        f"share link and both memos served; gunicorn stopped (port {port} closed)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
