"""Fixtures for the browser tests: headless Debian Chromium driven by Playwright (sync API).

Run them with `.venv/bin/pytest tests/e2e`. They need /usr/bin/chromium; without it they are
skipped locally and fail in CI (CI=true), so a missing browser never silently passes there.
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio event loop in the test thread; Django would otherwise
# refuse the ORM calls made by fixtures and tests ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# E2E_CHROMIUM points at another Chromium build (e.g. on a laptop); the default is Debian's.
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 800}
REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-test-passphrase-42"  # what `owner_with_password` logs in with


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser test in real Chromium (Playwright)")
    config.addinivalue_line(
        "markers", "expect_csp_violation: the test provokes a CSP violation on purpose"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        message = "Chromium not found: install it with `apt-get install -y chromium` (as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def owner_with_password(transactional_db, owner):
    """The shared `owner`, with PASSWORD, to log in through the real login form. The live
    server answers from another thread, so the database is a transactional one (committed)."""
    owner.set_password(PASSWORD)
    owner.save(update_fields=["password"])
    return owner


@pytest.fixture
def js_errors(page) -> list[str]:
    """Uncaught JavaScript exceptions on `page`; tests that run scripts assert it stays empty."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(os.environ.get("ARTIFACTS_DIR") or REPO_ROOT / "artifacts" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


CSP_MARKER = "Content Security Policy"


@pytest.fixture(autouse=True)
def no_csp_violations(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Every browser context of a test records Content-Security-Policy violations reported
    to the console; the test fails if there is any (or, when marked
    `expect_csp_violation`, if there is none: that proves the detector works)."""
    if "browser" not in request.fixturenames:
        yield []
        return
    browser = request.getfixturevalue("browser")
    violations: list[str] = []
    original = browser.new_context

    def new_context(*args, **kwargs):
        context = original(*args, **kwargs)
        context.on(
            "console", lambda msg: violations.append(msg.text) if CSP_MARKER in msg.text else None
        )
        return context

    browser.new_context = new_context
    try:
        yield violations
    finally:
        browser.new_context = original
    if request.node.get_closest_marker("expect_csp_violation"):
        assert violations, "the CSP violation detector saw nothing"
    else:
        assert not violations, f"Content-Security-Policy violations: {violations}"


def log_in(page, live_server, next_path: str, username: str) -> None:
    """Open a login-protected page, get sent to the real login form, and come back to it."""
    from playwright.sync_api import expect

    page.goto(live_server.url + next_path)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.fill("input[name=login]", username)  # allauth's field: a username or an email
    page.fill("input[name=password]", PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + next_path)


def save_screenshot(target, path: str, *, full_page: bool = False) -> None:
    """Screenshot a page or a locator, caret left as it is.

    Playwright hides the caret by stamping `style=""` on every input; htmx's settle step then
    copies that attribute onto inputs it swaps in, which the strict CSP refuses. A visitor's
    browser never has the attribute, so a screenshot must not add it either."""
    options = {"full_page": full_page} if full_page else {}
    target.screenshot(path=path, caret="initial", **options)
