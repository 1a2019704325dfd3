"""Sharing a report by link in a real browser: create, copy, read as a stranger, download the
memo, revoke; and the same forms with JavaScript off.

Screenshots for the visual review are written to $ARTIFACTS_DIR (default artifacts/screenshots).
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from assessments.models import ShareLink
from tests.conftest import scenario_answers
from tests.e2e.conftest import log_in, save_screenshot
from tests.factories import V1AssessmentFactory

pytestmark = [
    pytest.mark.e2e,
    # WhiteNoise warns that STATIC_ROOT is missing; the live server serves static files itself.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PROJECT_NAME = "Helpdesk assistant"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000

SUPPORT_BOT = scenario_answers("support-bot")
SHARED_HEADERS = {
    "referrer-policy": "same-origin",
    "x-robots-tag": "noindex, nofollow",
    "cache-control": "no-store",
}
MEMO_FILENAME = re.compile(r"^[a-z0-9-]+-decision-memo-\d{4}-\d{2}-\d{2}\.pdf$")
SHARE_URL = re.compile(r"^http://[^/]+/s/[A-Za-z0-9_-]{20,}/$")


# --- helpers ----------------------------------------------------------------------------------


def fill_share_form(page: Page, label: str, expiry: str) -> None:
    share = page.locator("#share")
    share.locator("input[name=label]").fill(label)
    share.locator("select[name=expiry]").select_option(expiry)


def link_row(page: Page, label: str):
    return page.locator("#share table.share-links tbody tr").filter(
        has=page.locator("th", has_text=label)
    )


def is_post_to(fragment: str):
    def predicate(response) -> bool:
        return response.request.method == "POST" and fragment in response.url

    return predicate


def expect_shared_headers(headers: dict[str, str], what: str) -> None:
    for name, value in SHARED_HEADERS.items():
        assert headers.get(name) == value, f"{what}: {name} is {headers.get(name)!r}"


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def helpdesk_assessment(owner_with_password):
    """The owner's complete assessment (Hybrid) of the project PROJECT_NAME."""
    return V1AssessmentFactory(
        project__owner=owner_with_password, project__name=PROJECT_NAME, answers=SUPPORT_BOT
    )


@pytest.fixture
def report_path(helpdesk_assessment) -> str:
    return f"/assessments/{helpdesk_assessment.pk}/report/"


# --- tests ------------------------------------------------------------------------------------


def test_owner_shares_a_link_a_stranger_reads_it_downloads_the_pdf_and_revocation_ends_it(
    live_server, browser, page: Page, js_errors, artifacts_dir, tmp_path, owner, report_path
):
    # The owner's username is "alice": in no template or rubric text, so a leak would show.
    log_in(page, live_server, report_path, owner.username)
    share = page.locator("#share")
    expect(share.get_by_role("heading", name="Share this report")).to_be_visible()
    expect(share.locator("table.share-links")).to_have_count(0)  # no link yet

    # Create a link: HTMX swaps the #share section in place, showing the new URL once.
    fill_share_form(page, "for the CFO", "7")
    with page.expect_response(is_post_to("/shares/")) as created:
        share.get_by_role("button", name="Create link").click()
    assert created.value.status == 200
    expect(page).to_have_url(live_server.url + report_path)  # swapped, not navigated
    new_url = page.locator("input#new-share-url")
    expect(new_url).to_have_value(SHARE_URL)
    share_url = new_url.input_value()
    assert share_url.startswith(live_server.url + "/s/")
    # The form is reset for the next link and the table lists this one.
    expect(share.locator("input[name=label]")).to_have_value("")
    expect(link_row(page, "for the CFO")).to_have_count(1)

    copy = share.locator("button[data-copy-target=new-share-url]")  # its name changes on click
    expect(copy).to_have_text("Copy link")
    copy.click()
    expect(copy).to_have_text("Copied ✓")

    page.locator("#share").scroll_into_view_if_needed()
    save_screenshot(page.locator("#share"), str(artifacts_dir / "report-share-panel.png"))
    page.set_viewport_size(PHONE)
    save_screenshot(page.locator("#share"), str(artifacts_dir / "report-share-panel-phone.png"))
    page.set_viewport_size(DESKTOP)

    # A stranger: a fresh context, no cookies, only the link.
    stranger_context = browser.new_context(viewport=DESKTOP)
    stranger_context.set_default_timeout(TIMEOUT_MS)
    try:
        stranger = stranger_context.new_page()
        stranger_errors: list[str] = []
        stranger.on("pageerror", lambda error: stranger_errors.append(str(error)))

        response = stranger.goto(share_url)
        assert response is not None and response.status == 200
        expect_shared_headers(response.all_headers(), "shared report")
        expect(stranger.locator(".verdict-banner .verdict-name")).to_have_text("Hybrid")
        expect(stranger.locator("h1")).to_have_text(PROJECT_NAME)
        expect(stranger.locator("#share")).to_have_count(0)
        expect(stranger.get_by_text("Share this report")).to_have_count(0)
        expect(stranger.get_by_role("link", name="Edit answers")).to_have_count(0)
        expect(stranger.locator("a.edit-link")).to_have_count(0)
        expect(stranger.get_by_role("link", name="Sign in")).to_be_visible()  # truly anonymous
        assert owner.username not in stranger.content()

        with stranger.expect_download() as download_info:
            stranger.get_by_role("link", name="Download PDF memo").click()
        download = download_info.value
        assert download.failure() is None
        assert MEMO_FILENAME.match(download.suggested_filename), download.suggested_filename
        # The snapshot's memo: named after the project and the milestone it shows.
        assert download.suggested_filename.startswith(
            "helpdesk-assistant-shared-for-the-cfo-decision-memo-"
        )
        pdf_path = tmp_path / download.suggested_filename
        download.save_as(pdf_path)
        assert Path(pdf_path).read_bytes().startswith(b"%PDF")
        text = "\n".join(p.extract_text() or "" for p in PdfReader(pdf_path).pages)
        assert "Decision memo" in text
        assert "Hybrid" in text
        assert owner.username not in text

        # Back with the owner: the table counts the stranger's visit.
        page.reload()
        row = link_row(page, "for the CFO")
        expect(row).to_have_count(1)
        cells = row.locator("td")
        expect(cells.nth(1)).not_to_have_text("Never")  # expires in 7 days
        views = cells.nth(2).inner_text().strip()
        assert views.isdigit() and int(views) >= 1, f"Views shows {views!r}"
        expect(cells.nth(3)).not_to_have_text("—")  # last view is recorded
        expect(page.locator("input#new-share-url")).to_have_count(0)  # shown only once

        # Revoking asks first: an in-place confirm step, rendered by the server.
        row.get_by_role("button", name=re.compile(r"^Revoke")).click()
        confirm = row.get_by_role("button", name="Yes, revoke")
        expect(confirm).to_be_focused()
        assert ShareLink.objects.get(label="for the CFO").revoked_at is None
        with page.expect_response(is_post_to("/revoke/")) as revoked:
            confirm.click()
        assert revoked.value.status == 200
        expect(page).to_have_url(live_server.url + report_path)
        row = link_row(page, "for the CFO")
        expect(row.locator("td").last).to_contain_text("Revoked")
        expect(row.get_by_role("button", name=re.compile(r"^Revoke"))).to_have_count(0)
        assert ShareLink.objects.get(label="for the CFO").revoked_at is not None

        # The stranger's link is dead now, and says no more than "not found".
        response = stranger.reload()
        assert response is not None and response.status == 404
        expect_shared_headers(response.all_headers(), "revoked link")
        expect(stranger.locator("h1")).to_have_text("Page not found")
        expect(stranger.locator(".verdict-banner")).to_have_count(0)
        assert PROJECT_NAME not in stranger.content()
        memo = stranger_context.request.get(share_url + "memo.pdf")
        assert memo.status == 404

        assert stranger_errors == []
    finally:
        stranger_context.close()

    assert js_errors == []


def test_share_form_works_without_javascript(
    live_server, browser, owner, helpdesk_assessment, report_path
):
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        log_in(page, live_server, report_path, owner.username)

        # A plain form POST renders the whole report with the new link.
        fill_share_form(page, "for the board", "30")
        page.locator("#share").get_by_role("button", name="Create link").click()
        expect(page).to_have_url(f"{live_server.url}/assessments/{helpdesk_assessment.pk}/shares/")
        expect(page.locator(".verdict-banner .verdict-name")).to_have_text("Hybrid")
        new_url = page.locator("input#new-share-url")
        expect(new_url).to_have_value(SHARE_URL)
        share_url = new_url.input_value()
        row = link_row(page, "for the board")
        expect(row).to_have_count(1)
        expect(row.get_by_role("button", name=re.compile(r"^Revoke"))).to_be_visible()
        assert context.request.get(share_url).status == 200

        # Revoking asks on a page of its own; its plain POST redirects back to the panel.
        row.get_by_role("button", name=re.compile(r"^Revoke")).click()
        expect(page.locator("h1")).to_have_text("Revoke “for the board”?")
        assert context.request.get(share_url).status == 200
        page.get_by_role("button", name="Yes, revoke").click()
        expect(page).to_have_url(f"{live_server.url}{report_path}#share")
        expect(page.locator(".messages")).to_contain_text("revoked")
        row = link_row(page, "for the board")
        expect(row.locator("td").last).to_contain_text("Revoked")
        expect(row.get_by_role("button", name=re.compile(r"^Revoke"))).to_have_count(0)
        expect(page.locator("input#new-share-url")).to_have_count(0)
        assert context.request.get(share_url).status == 404
    finally:
        context.close()
