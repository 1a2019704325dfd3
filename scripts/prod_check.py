"""`make prod-check`: the production stack, proven without Docker.

Prepares a PostgreSQL database like the compose `migrate` service (once), collects static
files like the image does, starts two gunicorn replicas with docker-compose.yml's web
command and production environment (DEBUG=0, one random SECRET_KEY, TRUST_X_FORWARDED_FOR=1)
on free loopback ports and the same database, and Debian's nginx in front of them with the
repository's deploy/nginx/advisor.conf (as compose's nginx service runs it). Then, through
nginx over HTTP, it drives a real session: sign-up, a project, every answer of the "support
bot" worked example through the HTMX autosave endpoint, the report, a static file served by
nginx, a share link opened without cookies, both PDF memos, and a 404 without the debug
page. Across the replicas it shows that a session signed in on one works on the other, a
logout on one ends it on both, a memo rendered by one is served from the database by the
other, a password reset (its mail caught by a local SMTP sink) works across them, and a
lockout reached through one holds on the other; at nginx, that slow clients never hold a
worker, an oversized upload is refused before it reaches Django, a client's X-Forwarded-For
is not believed, and no log holds a share token. Every process is always stopped. Exit status 0
when everything passed, 1 (with the reason) otherwise.

    .venv/bin/python scripts/prod_check.py [--database-url URL] [--workers N]

The database defaults to $PROD_CHECK_DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/advisor_prodcheck (created when missing).
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

from mail_sink import MailSink, body_text
from prodserver import (
    ROOT,
    ProductionServerError,
    nginx_proxy,
    port_is_open,
    prepare,
    production_replicas,
    replica_log,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/advisor_prodcheck"
# A worked case of the current rubric (v2), answered as a new user's assessment is.
SCENARIOS_FILE = "assessments/data/scenarios-v2.json"
SCENARIO = "v2-support-bot-hybrid"
EXPECTED_VERDICT = "Hybrid (fine-tuning + RAG)"
REQUEST_TIMEOUT = 60.0  # seconds per request (a first PDF render included)
USER_AGENT = "advisor-prod-check/1"
REPLICAS = 2
PROJECT_NAME = "Prod-check support bot"
# The replicas' environment beyond compose's web service: mail goes to the local sink (added
# in main()), and short windows for unknown share tokens and sign-in lockouts, so what the
# X-Forwarded-For and lockout checks provoke is over before the next run.
REPLICA_ENV = {
    "SHARE_BAD_TOKEN_LIMIT": "3",
    "SHARE_BAD_TOKEN_WINDOW": "10",
    # The default failure limit, and a lockout that lifts 30 s after the last failure.
    "LOGIN_FAILURE_LIMIT": "5",
    "AUTH_LOCKOUT_WINDOW": "30",
    # One memo render per user or address in 20 s: a second render of the same memo would be
    # refused, which shows that a memo another replica made is read from the database.
    "MEMO_RENDER_LIMIT": "1",
    "MEMO_RENDER_WINDOW": "20",
}
SLOW_LINES, SLOW_INTERVAL = 3, 2.0  # slow clients send a little every 2 s, three times
SLOW_BODY_BYTES = 4096  # what a slow body announces, far more than it ever sends
HEALTHZ_BUDGET = 1.0  # seconds /healthz may take through nginx beside the slow clients
OVERSIZED_UPLOAD_BYTES = 5_000_000
RESET_PATH = "/accounts/password/reset/"  # allauth's account_reset_password


class CheckFailed(Exception):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


PASSED: list[str] = []
PENDING: list[str] = []


def passed(message: str) -> None:
    PASSED.append(message)
    print(f"  ok  {message}", flush=True)


def pending(message: str) -> None:
    """A check that waits for work in progress: said plainly, never counted as passed."""
    PENDING.append(message)
    print(f"  --  pending: {message}", flush=True)


def section(title: str) -> None:
    print(f"-- {title}", flush=True)


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

    def at(self, base_url: str) -> Browser:
        """The same browser (the same cookies) talking to another server: a replica."""
        other = Browser(base_url)
        other.jar = self.jar
        other.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar)
        )
        return other

    def request(
        self,
        method: str,
        path: str,
        data: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
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
            with self.opener.open(req, timeout=timeout) as response:
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
        passed(message)

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
        self.memos(link)
        self.sign_off(link)
        self.facts["share_link"] = link
        # An unknown token too: Django logs its 404 ("Not Found: /s/...").
        expect_status(self.stranger.get(f"/s/{secrets.token_urlsafe(32)}/"), 404, "a bad token")

    def sign_up(self) -> None:
        form = expect_status(self.user.get("/accounts/signup/"), 200, "GET /accounts/signup/")
        username = f"prodcheck-{secrets.token_hex(6)}"
        password = secrets.token_urlsafe(18)
        fields = [
            ("csrfmiddlewaretoken", csrf_token(form, "sign-up page")),
            ("username", username),
            ("password1", password),
            ("password2", password),
        ]
        if Tags(form.text).find("input", name="email"):  # the reset check mails this address
            self.facts["email"] = f"{username}@example.com"
            fields.append(("email", str(self.facts["email"])))
        response = self.user.post("/accounts/signup/", fields)
        expect_status(response, 200, "POST /accounts/signup/")
        check(
            urlsplit(response.url).path == "/projects/new/",
            f"sign-up did not log in and redirect to /projects/new/ (ended at {response.url});"
            f" the form said:\n{response.text[:800]}",
        )
        check(self.user.cookie("sessionid"), "sign-up set no session cookie")
        self.facts["user"] = username
        self.facts["password"] = password
        self.step(f"sign up as {username} -> logged in, redirected to /projects/new/")

    def create_project(self) -> int:
        form = expect_status(self.user.get("/projects/new/"), 200, "GET /projects/new/")
        response = self.user.post(
            "/projects/new/",
            [
                ("csrfmiddlewaretoken", csrf_token(form, "new project page")),
                ("name", PROJECT_NAME),
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
        # Run the numbers: the price book and estimator data ship with the app.
        check(
            'id="numbers"' in report.text and 'class="cost-chart"' in report.text,
            "the report has no Run the numbers section with its cost chart",
        )
        self.step(f"GET the report -> 200, verdict {EXPECTED_VERDICT}, with its cost numbers")
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
            f"{hashed[0]} was not served as immutable "
            f"(Cache-Control: {response.header('Cache-Control')!r})",
        )
        self.facts["stylesheet"] = hashed[0]
        self.step(f"GET {hashed[0]} -> 200 text/css, immutable")

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
        check(policy == "same-origin", f"shared page has Referrer-Policy {policy!r}")
        check(EXPECTED_VERDICT in response.text, "the shared report does not show the verdict")
        check(
            self.facts["user"] not in response.text,
            "the shared report shows the owner's user name",
        )
        self.step("open the share link without cookies -> 200, Referrer-Policy: same-origin")

    def snapshot_path(self) -> str:
        """The milestone the new share link shows (a snapshot, the default), as the project
        page lists it."""
        projects = expect_status(self.user.get("/projects/"), 200, "GET /projects/")
        project = re.search(r'href="(/projects/\d+/)"', projects.text)
        check(project, "the owner's /projects/ links no project")
        page = expect_status(self.user.get(project.group(1)), 200, "GET the project page")
        milestone = re.search(r'href="(/milestones/\d+/)"', page.text)
        check(milestone, "the project page lists no milestone after a snapshot was shared")
        return milestone.group(1)

    def memos(self, link: str) -> None:
        """The shared snapshot's memo, and the owner's copy of the same milestone's memo:
        rendered once, then served from the store (no render: the owner's one render of the
        window stays for check_memo_served_from_store_by_other_replica)."""
        bodies = []
        for who, browser, url in [
            ("shared", self.stranger, link + "memo.pdf"),
            ("owner's snapshot", self.user, self.snapshot_path() + "memo.pdf"),
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
            bodies.append(response.body)
        check(bodies[0] == bodies[1], "the owner's memo of the shared snapshot differs")

    def sign_off(self, link: str) -> None:
        """A reader without an account approves through the link: a CSRF-protected form of
        an anonymous page, behind nginx; the page then lists the response. A browser of its
        own, keeping cookies (the CSRF cookie) but signed in to nothing."""
        reader = Browser(self.base_url)
        page = expect_status(reader.get(link), 200, "GET the share link for sign-off")
        form = [
            ("csrfmiddlewaretoken", csrf_token(page, "sign-off form")),
            ("name", "Prod Check Reader"),
            ("role", "CFO"),
            ("decision", "approve"),
            ("comment", "Approved <b>as shown</b>."),
            ("seen", ""),
        ]
        done = expect_status(reader.post(link + "respond/", form), 200, "POST a sign-off")
        back = done.url.split("#")[0]
        check(back == link, f"the sign-off went on to {done.url!r}, not back to the page")
        check("Thank you: your response is recorded." in done.text, "no thanks after signing off")
        check(
            "Approved &lt;b&gt;as shown&lt;/b&gt;." in done.text,
            "the response's comment is not listed, escaped, on the shared page",
        )
        self.step("sign off on the share link without an account -> 303, listed, escaped")


# --- the stack: nginx in front of the replicas ---------------------------------------------


@dataclass
class Stack:
    """What main() started: nginx (base_url) in front of the replicas, their logs, the mail
    sink the replicas send through."""

    base_url: str
    replicas: list[str]
    log_dir: Path
    workers: int
    mail: MailSink

    @property
    def nginx_dir(self) -> Path:
        return self.log_dir / "nginx"

    def replica_logs(self) -> str:
        return "\n".join(
            replica_log(self.log_dir, n).read_text(errors="replace")
            for n in range(1, len(self.replicas) + 1)
        )

    def nginx_log(self) -> str:
        """nginx's access log (its standard output), one line a request."""
        return (self.nginx_dir / "nginx.log").read_text(errors="replace")


def log_in(browser: Browser, username: str, password: str) -> Response:
    """Sign in with the sign-in form as the server shows it (allauth names the username field
    "login", Django's own form "username")."""
    form = expect_status(browser.get("/accounts/login/"), 200, "GET /accounts/login/")
    field = "login" if Tags(form.text).find("input", name="login") else "username"
    return browser.post(
        "/accounts/login/",
        [
            ("csrfmiddlewaretoken", csrf_token(form, "sign-in page")),
            (field, username),
            ("password", password),
        ],
    )


def signed_in(base_url: str, session_id: str) -> bool:
    """Whether `session_id` (sent as the cookie, by hand) is a signed-in session there."""
    response = Browser(base_url, cookies=False).get(
        "/projects/", headers={"Cookie": f"sessionid={session_id}"}
    )
    return response.status == 200 and urlsplit(response.url).path == "/projects/"


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _where(url: str) -> str:
    return urlsplit(url).netloc


def check_session_shared_across_replicas(stack: Stack, facts: dict[str, object]) -> Browser:
    """(a) Sign in directly on replica 1; the same cookie is signed in on replica 2."""
    first, second = stack.replicas[0], stack.replicas[1]
    browser = Browser(first)
    response = log_in(browser, str(facts["user"]), str(facts["password"]))
    check(
        response.status == 200 and urlsplit(response.url).path == "/projects/",
        f"signing in on replica 1 ({_where(first)}) ended at {response.url} "
        f"(HTTP {response.status}):\n{response.text[:600]}",
    )
    projects = expect_status(browser.at(second).get("/projects/"), 200, "GET /projects/ on 2")
    check(
        urlsplit(projects.url).path == "/projects/" and PROJECT_NAME in projects.text,
        f"the session signed in on replica 1 is not signed in on replica 2 ({_where(second)}): "
        f"GET /projects/ ended at {projects.url}",
    )
    passed(
        f"a session signed in on replica 1 ({_where(first)}) is signed in on replica 2 "
        f"({_where(second)}): its /projects/ lists the project"
    )
    return browser


def check_logout_ends_session_everywhere(stack: Stack, browser: Browser) -> None:
    """(b) Log out on replica 2; the old session cookie, sent again by hand, is signed in
    nowhere: not on replica 1, not on replica 2, not through nginx."""
    session_id = browser.cookie("sessionid")
    check(session_id, "no session cookie after signing in on replica 1")
    second = browser.at(stack.replicas[1])
    response = second.post(
        "/accounts/logout/", [("csrfmiddlewaretoken", second.cookie("csrftoken"))]
    )
    expect_status(response, 200, "POST /accounts/logout/ on replica 2")
    still = [url for url in [*stack.replicas, stack.base_url] if signed_in(url, session_id)]
    check(not still, f"after a logout on replica 2 the session is still signed in at {still}")
    passed(
        "a logout on replica 2 ends the session on both replicas and through nginx "
        "(its old cookie, sent again, is signed out everywhere)"
    )


def check_static_served_by_nginx(stack: Stack, path: str) -> None:
    """The hashed stylesheet came from nginx's disk: no replica's access log names it."""
    check(path not in stack.replica_logs(), f"{path} reached a replica: nginx did not serve it")
    passed(f"{path} was served by nginx from the collected files (no replica saw it)")


@dataclass
class SlowClient:
    """A raw connection to nginx that sends its request a little at a time and never ends it:
    the headers one line at a time (never the blank line after them), or, for a POST to the
    sign-in form (whose CSRF check reads the body), the whole headers and then the body a few
    bytes at a time (never all of it)."""

    sock: socket.socket
    sends_body: bool

    @classmethod
    def open(cls, url: str, path: str, *, sends_body: bool) -> SlowClient:
        where = urlsplit(url)
        sock = socket.create_connection((where.hostname, where.port), timeout=5)
        if sends_body:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {where.netloc}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                # A well-formed CSRF cookie: the check then reads the body for the form's token.
                f"Cookie: csrftoken={'a' * 32}\r\n"
                f"Content-Length: {SLOW_BODY_BYTES}\r\n\r\n"
            )
        else:
            head = f"GET {path} HTTP/1.1\r\nHost: {where.netloc}\r\n"
        sock.sendall(head.encode())
        return cls(sock, sends_body)

    def trickle(self, n: int) -> None:
        piece = f"a{n}=slow&" if self.sends_body else f"X-Slow: {n}\r\n"
        try:
            self.sock.sendall(piece.encode())
        except OSError as error:
            raise CheckFailed(f"nginx cut a slow client off ({error})") from error

    def still_waiting(self) -> bool:
        """Nothing answered and nothing closed yet: nginx is still reading the request."""
        self.sock.settimeout(0.05)
        try:
            self.sock.recv(1024)
        except TimeoutError:
            return True
        return False


def healthz_timings(base_url: str, seconds: float) -> list[float]:
    """GET /healthz every quarter of a second for `seconds`: how long each took."""
    timings: list[float] = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = Browser(base_url, cookies=False).get("/healthz", timeout=HEALTHZ_BUDGET * 5)
        except CheckFailed as error:
            raise CheckFailed(f"{error}: the slow clients hold every gunicorn worker") from error
        timings.append(time.perf_counter() - started)
        expect_status(response, 200, "GET /healthz beside the slow clients")
        time.sleep(0.25)
    return timings


def check_slow_clients_hold_no_worker(stack: Stack) -> None:
    """(c) Slow clients, as many as there are gunicorn workers in all replicas together,
    trickle their headers, and as many again their bodies, to nginx. Handed to gunicorn, each
    would hold a sync worker and /healthz could not be answered; through nginx (which reads
    every request whole first) it answers within HEALTHZ_BUDGET s all the while, and no
    replica ever sees the slow requests."""
    count = max(3, stack.workers * len(stack.replicas))
    # A worker's first request imports the URLconf and views (most of a second): let every
    # worker have had one, so that only waiting could make /healthz slow.
    healthz_timings(stack.base_url, 2.0)
    marker = f"slow-client-{secrets.token_hex(4)}"
    clients: list[SlowClient] = []
    timings: list[float] = []
    try:
        for n in range(count):
            clients.append(SlowClient.open(stack.base_url, f"/{marker}-{n}/", sends_body=False))
            body_path = f"/accounts/login/?{marker}={n}"
            clients.append(SlowClient.open(stack.base_url, body_path, sends_body=True))
        for line in range(SLOW_LINES):
            for client in clients:
                client.trickle(line)
            timings += healthz_timings(stack.base_url, SLOW_INTERVAL)
        check(all(c.still_waiting() for c in clients), "nginx answered or closed a slow client")
    finally:
        for client in clients:
            client.sock.close()
    check(
        max(timings) < HEALTHZ_BUDGET,
        f"GET /healthz took up to {max(timings):.2f} s beside {2 * count} slow clients",
    )
    check(marker not in stack.replica_logs(), "a slow client's request reached a replica")
    passed(
        f"{count} slow clients trickling headers and {count} trickling bodies (each as many as "
        f"all gunicorn workers) for {SLOW_LINES * SLOW_INTERVAL:.0f} s: {len(timings)} GET "
        f"/healthz through nginx, slowest {max(timings) * 1000:.0f} ms; no replica saw them"
    )


def check_oversized_upload_refused_by_nginx(stack: Stack) -> None:
    """(d) A 5 MB import upload gets nginx's 413; no replica ever sees the request."""
    url = urlsplit(stack.base_url)
    marker = secrets.token_hex(6)
    path = f"/projects/import/?prodcheck={marker}"
    size = OVERSIZED_UPLOAD_BYTES
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=REQUEST_TIMEOUT)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "multipart/form-data; boundary=prodcheck")
        connection.putheader("Content-Length", str(size))
        connection.putheader("User-Agent", USER_AGENT)
        connection.endheaders()
        chunk = b"x" * 65536
        try:
            for _ in range(size // len(chunk)):
                connection.send(chunk)
            connection.send(b"x" * (size % len(chunk)))
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx may stop reading once it has answered; its answer is what counts
        response = connection.getresponse()
        body = response.read().decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException) as error:
        raise CheckFailed(f"POST {size:,} bytes to {path}: no answer ({error})") from error
    finally:
        connection.close()
    check(response.status == 413, f"a {size:,}-byte upload got HTTP {response.status}: {body}")
    check("Too large" in body, f"the 413 is not nginx's plain page: {body[:300]!r}")
    # nginx logs a request once it has finished with it: after reading and discarding the body.
    check(
        wait_until(lambda: marker in stack.nginx_log(), timeout=5.0),
        "nginx's access log does not show the oversized upload",
    )
    check(marker not in stack.replica_logs(), "the oversized upload reached a replica")
    passed(
        f"a {size / 1e6:.0f} MB POST to /projects/import/ -> 413 from nginx "
        "(client_max_body_size = MAX_REQUEST_BYTES); no replica saw it"
    )


def check_forwarded_for_not_believed(stack: Stack) -> None:
    """(e) A client's own X-Forwarded-For is not believed: unknown share tokens, each sent
    with a different forged address, are all counted against the real one and refused (429)
    once SHARE_BAD_TOKEN_LIMIT is reached. Run it last: that address is then refused share
    links until SHARE_BAD_TOKEN_WINDOW has passed."""
    limit = int(REPLICA_ENV["SHARE_BAD_TOKEN_LIMIT"])
    stranger = Browser(stack.base_url, cookies=False)
    statuses: list[int] = []
    for n in range(limit + 1):
        forged = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
        response = stranger.get(f"/s/{secrets.token_urlsafe(32)}/", headers=forged)
        statuses.append(response.status)
        if response.status == 429:
            break
    check(
        statuses[-1] == 429,
        f"unknown share tokens with forged X-Forwarded-For addresses were never refused "
        f"(statuses {statuses}): the app believes the client's header",
    )
    passed(
        f"a forged X-Forwarded-For is not believed: {len(statuses)} unknown share tokens from "
        f"as many forged addresses -> {', '.join(map(str, statuses))} (counted against the "
        "real address)"
    )


def check_logs_redact_share_tokens(stack: Stack, link: str) -> None:
    """Every log (the replicas' access logs and Django's records, nginx's access log) names
    share paths, never a token."""
    token = link.rstrip("/").rsplit("/", 1)[1]
    replicas, nginx = stack.replica_logs(), stack.nginx_log()
    check(token not in replicas, "a share token appears in a replica's log")
    check(token not in nginx, "a share token appears in nginx's access log")
    check("/s/[redacted]/" in replicas, "the replicas' logs show no redacted share path")
    check(
        "Not Found: /s/[redacted]/" in replicas,
        "Django's 404 record of a bad token is not redacted",
    )
    check("/s/[redacted]/" in nginx, "nginx's access log shows no redacted share path")
    passed("the replicas' and nginx's logs show share paths as /s/[redacted]/, never a token")


def check_lockout_holds_across_replicas(stack: Stack, facts: dict[str, object]) -> None:
    """A lockout reached through one replica holds on the other (django-axes, counted in the
    database): LOGIN_FAILURE_LIMIT wrong passwords for the user on replica 1, then the right
    one on replica 2 gets 429 with Retry-After and signs nobody in. Run it after every other
    check that signs this user in; the replicas' short AUTH_LOCKOUT_WINDOW (REPLICA_ENV)
    lifts the lockout before the next run."""
    first, second = stack.replicas[0], stack.replicas[1]
    user = str(facts["user"])
    limit = int(REPLICA_ENV["LOGIN_FAILURE_LIMIT"])
    for attempt in range(1, limit + 1):
        failed = log_in(Browser(first), user, f"wrong-{secrets.token_hex(8)}")
        check(
            failed.status in (200, 429) and urlsplit(failed.url).path != "/projects/",
            f"wrong password {attempt} on replica 1: HTTP {failed.status} at {failed.url}",
        )
    browser = Browser(second)
    refused = log_in(browser, user, str(facts["password"]))
    check(
        refused.status == 429,
        f"after {limit} failed sign-ins on replica 1, the right password on replica 2 got "
        f"HTTP {refused.status} at {refused.url}: the lockout does not hold there",
    )
    check(refused.header("Retry-After").isdigit(), "the lockout's 429 has no Retry-After")
    still_out = browser.get("/projects/")
    check(
        urlsplit(still_out.url).path != "/projects/",
        "the locked-out sign-in on replica 2 signed the user in",
    )
    passed(
        f"{limit} failed sign-ins on replica 1 lock the account on replica 2: the right "
        f"password there -> 429, Retry-After {refused.header('Retry-After')} s"
    )


def check_memo_served_from_store_by_other_replica(stack: Stack, session: Session) -> None:
    """A memo rendered through one replica is served from the database store by the other.

    The owner gives the project a new description on replica 1 (a memo shows it, so no memo
    of that content exists yet) and downloads the memo there: rendered and stored, using the
    owner's one render of the window (MEMO_RENDER_LIMIT=1 in REPLICA_ENV). Replica 2 then
    serves the same bytes: had it rendered them again, that quota would have refused it."""
    owner = session.user  # signed in through nginx by the flow
    first, second = owner.at(stack.replicas[0]), owner.at(stack.replicas[1])
    projects = expect_status(first.get("/projects/"), 200, "GET /projects/ on replica 1")
    found = re.search(r'href="/projects/(\d+)/"', projects.text)
    check(found, "the owner's /projects/ on replica 1 links no project")
    edit = f"/projects/{found.group(1)}/edit/"
    form = expect_status(first.get(edit), 200, f"GET {edit} on replica 1")
    saved = first.post(
        edit,
        [
            ("csrfmiddlewaretoken", csrf_token(form, "project form")),
            ("name", PROJECT_NAME),
            ("description", f"Edited on replica 1 by make prod-check ({secrets.token_hex(4)})."),
        ],
    )
    expect_status(saved, 200, f"POST {edit} on replica 1")
    path = f"/assessments/{session.facts['assessment']}/memo.pdf"
    rendered = expect_status(first.get(path), 200, "the new memo on replica 1")
    check(rendered.body.startswith(b"%PDF"), "replica 1's memo is not a PDF")
    served = second.get(path)
    check(
        served.status == 200,
        f"replica 2 answered HTTP {served.status} for the memo replica 1 had just made: it "
        "tried to render it again (the render quota refused) instead of reading the store",
    )
    check(served.body == rendered.body, "replica 2 served a different PDF than replica 1 made")
    passed(
        f"a memo rendered on replica 1 ({len(rendered.body) // 1024} KiB) is served by "
        "replica 2 from the database, byte for byte, with no render left in its quota"
    )


def check_password_reset_by_mail(stack: Stack, facts: dict[str, object]) -> None:
    """A password reset across the replicas, its mail caught by the local SMTP sink: ask on
    replica 1, follow the mailed link and set a new password on replica 2, sign in with it on
    replica 1. Pending while the app has no allauth reset page (account_reset_password) or
    the sign-up step records no email address (facts["email"])."""
    first, second = stack.replicas[0], stack.replicas[1]
    email = str(facts.get("email") or "")
    browser = Browser(first)
    form = browser.get(RESET_PATH)
    if form.status == 404 or not email:
        reason = (
            "no reset page" if form.status == 404 else 'the sign-up step sets no facts["email"]'
        )
        pending(f"a password reset through the mail sink ({reason})")
        return
    expect_status(form, 200, f"GET {RESET_PATH}")
    asked = browser.post(
        RESET_PATH,
        [("csrfmiddlewaretoken", csrf_token(form, "reset page")), ("email", email)],
    )
    expect_status(asked, 200, f"POST {RESET_PATH}")
    message = stack.mail.wait_for(lambda m: email in str(m.get("To", "")) and bool(_reset_links(m)))
    check(
        message is not None,
        f"no mail with a reset link to {email} reached the SMTP sink; it has "
        f"{[str(m.get('Subject')) for m in stack.mail.messages]}",
    )
    path = urlsplit(_reset_links(message)[0]).path
    other = Browser(second)
    key_page = expect_status(other.get(path), 200, "GET the mailed reset link on replica 2")
    new_password = secrets.token_urlsafe(18)
    done = other.post(
        urlsplit(key_page.url).path,
        [
            ("csrfmiddlewaretoken", csrf_token(key_page, "set-password page")),
            ("password1", new_password),
            ("password2", new_password),
        ],
    )
    expect_status(done, 200, "POST the new password on replica 2")
    signed = log_in(Browser(first), str(facts["user"]), new_password)
    check(
        urlsplit(signed.url).path == "/projects/",
        f"signing in with the reset password on replica 1 ended at {signed.url}",
    )
    facts["password"] = new_password
    passed(
        "a password reset: asked on replica 1, mailed through the SMTP sink, set on replica 2, "
        "signed in with on replica 1"
    )


def _reset_links(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://\S+/accounts/password/reset/key/\S+/", body_text(message))


def run_stack_checks(stack: Stack, session: Session) -> None:
    facts = session.facts
    section("across the replicas (one database, nothing else shared)")
    browser = check_session_shared_across_replicas(stack, facts)
    check_logout_ends_session_everywhere(stack, browser)
    check_memo_served_from_store_by_other_replica(stack, session)
    check_password_reset_by_mail(stack, facts)
    check_lockout_holds_across_replicas(stack, facts)  # last to sign this user in
    section("at nginx")
    check_static_served_by_nginx(stack, str(facts["stylesheet"]))
    check_slow_clients_hold_no_worker(stack)
    check_oversized_upload_refused_by_nginx(stack)
    check_forwarded_for_not_believed(stack)  # last to use share links: see its docstring
    check_logs_redact_share_tokens(stack, str(facts["share_link"]))


# --- main -----------------------------------------------------------------------------------


def _exit_on_signal(signum: int, _frame: object) -> None:
    print(f"prod-check interrupted by signal {signum}: stopping", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)  # unwinds through the context manager: gunicorn stops


def _display(database_url: str) -> str:
    password = urlsplit(database_url).password
    return database_url.replace(f":{password}@", ":***@", 1) if password else database_url


def run(database_url: str, workers: int, log_dir: Path, ports: list[int]) -> None:
    """Start everything, run every check, stop everything (also on failure). `ports` gets
    each server's port as it starts, so main() can show they are all closed afterwards."""
    prepare(database_url)
    passed("database ready, migrations applied once, static files collected")
    with MailSink() as mail:
        env = {**REPLICA_ENV, "EMAIL_URL": mail.email_url}
        with production_replicas(
            database_url, REPLICAS, workers=workers, env=env, log_dir=log_dir
        ) as replicas:
            ports += [urlsplit(url).port or 0 for url in replicas]
            passed(
                f"{REPLICAS} gunicorn replicas ({workers} workers each, one database) healthy "
                f"at {', '.join(replicas)}"
            )
            with nginx_proxy(replicas, directory=log_dir / "nginx") as base_url:
                ports.append(urlsplit(base_url).port or 0)
                passed(f"nginx with deploy/nginx/advisor.conf healthy at {base_url}")
                section("a session through nginx")
                session = Session(base_url)
                session.run()
                stack = Stack(base_url, replicas, log_dir, workers, mail)
                run_stack_checks(stack, session)


def _print_logs(log_dir: Path) -> None:
    """The end of every server's log, after a failure."""
    logs = [replica_log(log_dir, n) for n in range(1, REPLICAS + 1)]
    logs += [log_dir / "nginx" / "error.log", log_dir / "nginx" / "nginx.log"]
    for path in logs:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        if lines:
            print(f"--- {path.name} (last 30 lines) ---", file=sys.stderr)
            print("\n".join(lines[-30:]), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PROD_CHECK_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per replica")
    args = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)

    started = time.monotonic()
    print(
        f"== prod-check: nginx in front of {REPLICAS} gunicorn replicas, DEBUG=0, "
        f"{_display(args.database_url)}",
        flush=True,
    )
    ports: list[int] = []
    failure = ""
    with tempfile.TemporaryDirectory(prefix="advisor-prodcheck-") as tmp:
        try:
            run(args.database_url, args.workers, Path(tmp), ports)
        except (CheckFailed, ProductionServerError) as error:
            failure = str(error)
        except KeyboardInterrupt:
            failure = "interrupted"
        except Exception as error:  # an unexpected answer must still end in a clear message
            failure = f"unexpected {type(error).__name__}: {error}"
            traceback.print_exc()
        if failure:
            _print_logs(Path(tmp))
    still_open = [port for port in ports if port and port_is_open(port)]
    if still_open:
        failure = f"{failure}\nports {still_open} still accept connections after shutdown"
    if failure:
        print(f"prod-check FAILED: {failure.strip()}", file=sys.stderr)
        return 1
    print(
        f"prod-check passed in {time.monotonic() - started:.1f} s: {len(PASSED)} checks passed"
        + (f", {len(PENDING)} pending ({'; '.join(PENDING)})" if PENDING else "")
        + f"; nginx and {REPLICAS} replicas stopped (ports {', '.join(map(str, ports))} closed)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
