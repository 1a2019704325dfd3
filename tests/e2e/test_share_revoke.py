"""Revoking a share link in a real browser: it asks first, can be undone for a while (the same
link works again), and stays listed until dismissed; with JavaScript and without."""

import re

import pytest
from playwright.sync_api import Page, expect

from assessments.models import ShareLink
from assessments.sharing import create_share_link
from tests.conftest import scenario_answers
from tests.e2e.conftest import log_in, save_screenshot
from tests.factories import V1AssessmentFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000
LABEL = "for the CFO"


@pytest.fixture
def shared(owner_with_password):
    """The owner's complete assessment and an active link to it: (assessment, token)."""
    assessment = V1AssessmentFactory(
        project__owner=owner_with_password,
        project__name="Helpdesk assistant",
        answers=scenario_answers("support-bot"),
    )
    _, token = create_share_link(assessment, label=LABEL)
    return assessment, token


def link_row(page: Page):
    return page.locator("#share table.share-links tbody tr").filter(
        has=page.locator("th", has_text=LABEL)
    )


def is_post_to(fragment: str):
    return lambda response: response.request.method == "POST" and fragment in response.url


def test_confirm_revoke_undo_and_dismiss_in_place_with_javascript(
    live_server, page: Page, js_errors, artifacts_dir, owner, shared
):
    assessment, token = shared
    report_path = f"/assessments/{assessment.pk}/report/"
    shared_url = f"{live_server.url}/s/{token}/"
    log_in(page, live_server, report_path, owner.username)
    row = link_row(page)

    # Revoke asks in place; Cancel puts the Revoke button back, changing nothing.
    row.get_by_role("button", name=re.compile(r"^Revoke")).click()
    expect(row.get_by_role("button", name="Yes, revoke")).to_be_focused()
    row.get_by_role("link", name="Cancel").click()
    expect(row.get_by_role("button", name=re.compile(r"^Revoke"))).to_be_visible()
    expect(row.get_by_role("button", name="Yes, revoke")).to_have_count(0)
    assert page.request.get(shared_url).status == 200

    # Confirm: revoked in place, still listed, with Undo and Dismiss.
    row.get_by_role("button", name=re.compile(r"^Revoke")).click()
    expect(row.get_by_role("button", name="Yes, revoke")).to_be_focused()
    save_screenshot(page.locator("#share"), str(artifacts_dir / "share-revoke-confirm.png"))
    with page.expect_response(is_post_to("/revoke/")) as revoked:
        row.get_by_role("button", name="Yes, revoke").click()
    assert revoked.value.status == 200
    expect(page).to_have_url(live_server.url + report_path)
    expect(row.locator("td").last).to_contain_text("Revoked")
    expect(page.locator("#share .share-notice")).to_contain_text("revoked")
    save_screenshot(page.locator("#share"), str(artifacts_dir / "share-revoked-undo.png"))
    assert page.request.get(shared_url).status == 404

    # Undo: the same link works again.
    with page.expect_response(is_post_to("/undo/")) as undone:
        row.get_by_role("button", name=re.compile(r"^Undo")).click()
    assert undone.value.status == 200
    expect(page.locator("#share .share-notice")).to_contain_text("works again")
    expect(row.get_by_role("button", name=re.compile(r"^Revoke"))).to_be_visible()
    expect(row.locator("td").last).not_to_contain_text("Revoked")
    assert page.request.get(shared_url).status == 200

    # Revoke again and dismiss: gone from the list, and the link stays dead.
    row.get_by_role("button", name=re.compile(r"^Revoke")).click()
    row.get_by_role("button", name="Yes, revoke").click()
    with page.expect_response(is_post_to("/dismiss/")) as dismissed:
        row.get_by_role("button", name=re.compile(r"^Dismiss")).click()
    assert dismissed.value.status == 200
    expect(link_row(page)).to_have_count(0)
    expect(page.locator("#share table.share-links")).to_have_count(0)
    assert page.request.get(shared_url).status == 404
    assert ShareLink.objects.get(label=LABEL).dismissed_at is not None

    assert js_errors == []


def test_confirm_revoke_and_undo_without_javascript(live_server, browser, owner, shared):
    assessment, token = shared
    report_path = f"/assessments/{assessment.pk}/report/"
    shared_url = f"{live_server.url}/s/{token}/"
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        log_in(page, live_server, report_path, owner.username)

        # The Revoke button opens a confirmation page; its Cancel goes back, changing nothing.
        link_row(page).get_by_role("button", name=re.compile(r"^Revoke")).click()
        expect(page.locator("h1")).to_have_text(f"Revoke “{LABEL}”?")
        page.get_by_role("link", name="Cancel").click()
        expect(page).to_have_url(f"{live_server.url}{report_path}#share")
        assert context.request.get(shared_url).status == 200

        link_row(page).get_by_role("button", name=re.compile(r"^Revoke")).click()
        page.get_by_role("button", name="Yes, revoke").click()
        expect(page).to_have_url(f"{live_server.url}{report_path}#share")
        expect(page.locator(".messages")).to_contain_text("You can undo this for 10 minutes")
        row = link_row(page)
        expect(row.locator("td").last).to_contain_text("Revoked")
        assert context.request.get(shared_url).status == 404

        row.get_by_role("button", name=re.compile(r"^Undo")).click()
        expect(page).to_have_url(f"{live_server.url}{report_path}#share")
        expect(page.locator(".messages")).to_contain_text("works again")
        expect(link_row(page).get_by_role("button", name=re.compile(r"^Revoke"))).to_be_visible()
        assert context.request.get(shared_url).status == 200
    finally:
        context.close()
