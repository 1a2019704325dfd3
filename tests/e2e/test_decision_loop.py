"""The decision loop end to end, in a real browser: the owner shares a snapshot; a reader with
only the link approves with a comment; the owner edits, and the shared page still shows the
snapshot; the owner compares the two; an editor and a viewer each see what their role allows.

Screenshots for the visual review are written to $ARTIFACTS_DIR (default artifacts/screenshots).
"""

import re

import pytest
from playwright.sync_api import Page, expect

from assessments.models import Membership, Milestone, SignOff
from assessments.sharing import create_share_link, revoke_share_link
from tests.e2e.conftest import PASSWORD, log_in, save_screenshot
from tests.factories import AssessmentFactory, ProjectFactory, UserFactory, set_answers

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PROJECT_NAME = "Support assistant"
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000
HYBRID = re.compile(r"^Hybrid")


def member(project, username: str, role: str):
    user = UserFactory(username=username)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    Membership.objects.create(project=project, user=user, role=role, added_by=project.owner)
    return user


def fresh_page(browser) -> tuple:
    """A new context (no cookies: nobody signed in) and its page."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def answer_behaviour_needs_none(page: Page) -> None:
    """The owner's edit after sharing: no behaviour need any more ("None" clears the rest)."""
    fieldset = page.locator("#q-behavior_needs")
    fieldset.locator("input[value='none']").check()
    expect(page.locator("#status-behavior_needs")).to_contain_text("Saved")


def test_share_a_snapshot_sign_off_edit_compare_and_team_roles(
    live_server, browser, page: Page, owner_with_password, complete_v2_answers, artifacts_dir
):
    project = ProjectFactory(owner=owner_with_password, name=PROJECT_NAME)
    assessment = AssessmentFactory(project=project, answers=complete_v2_answers)
    editor = member(project, "erin", "editor")
    viewer = member(project, "victor", "viewer")
    report_path = f"/assessments/{assessment.pk}/report/"

    # 1. The owner shares a snapshot (the default) from the report.
    log_in(page, live_server, report_path, owner_with_password.username)
    expect(page.locator(".verdict-banner .verdict-name")).to_have_text(HYBRID)
    verdict_shared = page.locator(".verdict-banner .verdict-name").inner_text()
    share = page.locator("#share")
    share.locator("input[name=label]").fill("for the CFO")
    expect(share.locator("select[name=shows]")).to_have_value(
        share.locator("select[name=shows] option").first.get_attribute("value")
    )
    share.get_by_role("button", name="Create link").click()
    share_url = page.locator("input#new-share-url").input_value()
    assert share_url.startswith(live_server.url + "/s/")
    snapshot = Milestone.objects.get(assessment=assessment)
    expect(share.locator(".share-snapshot")).to_contain_text(snapshot.name)

    # 2. A reader with only the link (a fresh context) approves with a comment.
    reader_context, reader = fresh_page(browser)
    try:
        reader.goto(share_url)
        expect(reader.locator(".shared-shows")).to_contain_text("A snapshot")
        expect(reader.locator(".verdict-banner .verdict-name")).to_have_text(verdict_shared)
        panel = reader.locator("#sign-off")
        panel.get_by_label("Your name").fill("Dana Price")
        panel.get_by_label("Your role (optional)").fill("CFO")
        panel.get_by_label("Approve", exact=True).check()
        panel.get_by_label("Comment").fill("Approved <b>within</b> budget.\nRevisit in Q3.")
        panel.get_by_role("button", name="Send my response").click()
        expect(panel.locator(".sign-off-item")).to_have_count(1)
        expect(panel.locator(".sign-off-comment")).to_contain_text(
            "Approved <b>within</b> budget."  # as text, never as HTML
        )
        save_screenshot(panel, str(artifacts_dir / "loop-sign-off.png"))
        sign_off = SignOff.objects.get()
        assert (sign_off.milestone_id, sign_off.decision) == (snapshot.pk, "approve")

        # 3. The owner edits an answer that changes the verdict; the shared page does not move.
        page.goto(live_server.url + f"/assessments/{assessment.pk}/")
        answer_behaviour_needs_none(page)
        page.goto(live_server.url + report_path)
        verdict_now = page.locator(".verdict-banner .verdict-name").inner_text()
        assert verdict_now != verdict_shared
        reader.reload()
        expect(reader.locator(".verdict-banner .verdict-name")).to_have_text(verdict_shared)
        expect(reader.locator("#sign-off .sign-off-item")).to_have_count(1)
    finally:
        reader_context.close()

    # A later milestone: the compare page's default would now be that one, not the snapshot.
    page.locator("#milestone-name").fill("After the edit")
    page.locator("#milestone-save").get_by_role("button", name="Save a milestone").click()
    expect(page.locator("#milestone-save")).to_contain_text("After the edit")
    page.reload()
    # The owner sees the response on the report, and that the project changed since.
    expect(page.locator("#share .share-changed")).to_contain_text("changed since")
    expect(page.get_by_text("Dana Price").first).to_be_visible()

    # 4. The owner compares the snapshot with the current answers.
    page.locator("#share .share-changed").get_by_role("link", name=re.compile("^Compare")).click()
    expect(page).to_have_url(re.compile(rf"/compare/\?left=m{snapshot.pk}&right=a{assessment.pk}$"))
    expect(page.locator("select[name=left]")).to_have_value(f"m{snapshot.pk}")
    expect(page.locator("#compare-behavior_needs")).to_have_class(re.compile(r"\bis-changed\b"))
    moved = page.locator("#moved-title").locator("xpath=..")
    expect(moved).to_contain_text(verdict_shared)
    expect(moved).to_contain_text(verdict_now)
    save_screenshot(page, str(artifacts_dir / "loop-compare.png"), full_page=True)

    # 5. An editor answers and shares; a viewer reads, compares and downloads, nothing more.
    editor_context, editor_page = fresh_page(browser)
    try:
        log_in(editor_page, live_server, report_path, editor.username)
        expect(editor_page.get_by_role("link", name="Edit answers")).to_be_visible()
        expect(editor_page.locator("#share")).to_be_visible()
        expect(editor_page.locator("#milestone-save")).to_be_visible()
        editor_page.get_by_role("link", name="Edit answers").click()
        editor_page.locator("#q-latency input[value='batch']").check()
        expect(editor_page.locator("#status-latency")).to_contain_text("Saved")
    finally:
        editor_context.close()

    viewer_context, viewer_page = fresh_page(browser)
    try:
        log_in(viewer_page, live_server, report_path, viewer.username)
        expect(viewer_page.locator(".verdict-banner .verdict-name")).to_have_text(verdict_now)
        expect(viewer_page.get_by_role("link", name="Edit answers")).to_have_count(0)
        expect(viewer_page.locator("a.edit-link")).to_have_count(0)
        expect(viewer_page.locator("#share")).to_have_count(0)
        expect(viewer_page.locator("#milestone-save")).to_have_count(0)
        expect(viewer_page.get_by_role("link", name="Download PDF memo")).to_be_visible()
        response = viewer_page.goto(live_server.url + f"/assessments/{assessment.pk}/")
        assert response is not None and response.status == 404
        viewer_page.goto(live_server.url + f"/projects/{project.pk}/")
        expect(viewer_page.get_by_role("link", name="Delete")).to_have_count(0)
        viewer_page.goto(live_server.url + f"/milestones/{snapshot.pk}/")
        expect(viewer_page.get_by_role("button", name="Mark as accepted")).to_have_count(0)
        with viewer_page.expect_download() as adr:
            viewer_page.get_by_role("link", name=re.compile("^Download ADR")).click()
        assert adr.value.suggested_filename.endswith("-adr.md")
    finally:
        viewer_context.close()


def test_a_reader_signs_off_without_javascript(
    live_server, browser, owner_with_password, complete_v2_answers
):
    """A plain form POST from the shared page: the browser sends a real Origin (the page's
    referrer policy allows it on the same site), so the CSRF check lets it through."""
    assessment = AssessmentFactory(
        project=ProjectFactory(owner=owner_with_password, name=PROJECT_NAME),
        answers=complete_v2_answers,
    )
    _, token = create_share_link(assessment, label="for the board")
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        reader = context.new_page()
        reader.goto(f"{live_server.url}/s/{token}/")
        panel = reader.locator("#sign-off")
        panel.get_by_label("Your name").fill("Omar")
        panel.get_by_label("Object").check()
        panel.get_by_label("Comment").fill("Too early: no evaluation set yet.")
        panel.get_by_role("button", name="Send my response").click()
        expect(reader).to_have_url(f"{live_server.url}/s/{token}/#sign-off")
        expect(panel.get_by_text("Thank you: your response is recorded.")).to_be_in_viewport()
        expect(reader.locator("#sign-off .sign-off-item")).to_contain_text("Omar")
    finally:
        context.close()
    assert SignOff.objects.get().decision == "object"


def test_a_reader_of_a_live_page_is_shown_the_new_answers_before_responding_to_them(
    live_server, browser, owner_with_password, complete_v2_answers
):
    """The answers change while the page is open: the response is refused and the whole
    page (not only the sign-off panel) shows the answers now, the typed response kept."""
    assessment = AssessmentFactory(
        project=ProjectFactory(owner=owner_with_password, name=PROJECT_NAME),
        answers=complete_v2_answers,
    )
    _, token = create_share_link(assessment, label="live", milestone=None)
    context, reader = fresh_page(browser)
    try:
        reader.goto(f"{live_server.url}/s/{token}/")
        before = reader.locator(".verdict-banner .verdict-name").inner_text()
        panel = reader.locator("#sign-off")
        panel.get_by_label("Your name").fill("Dana")
        panel.get_by_label("Approve", exact=True).check()
        set_answers(assessment, {"behavior_needs": ["none"]})  # the owner edits meanwhile

        panel.get_by_role("button", name="Send my response").click()

        expect(reader.locator("#sign-off [role=alert]")).to_contain_text("changed")
        expect(reader.locator(".verdict-banner .verdict-name")).not_to_have_text(before)
        expect(reader.locator("#sign-off").get_by_label("Your name")).to_have_value("Dana")
        reader.locator("#sign-off").get_by_role("button", name="Send my response").click()
        expect(reader.locator("#sign-off .sign-off-item")).to_have_count(1)
    finally:
        context.close()
    assert SignOff.objects.get().milestone.answers["behavior_needs"] == ["none"]


def test_a_closed_door_says_so_a_revoked_link_and_a_removed_editor(
    live_server, browser, page: Page, owner_with_password, complete_v2_answers
):
    """The page was open when access ended: the reader's response and the editor's autosave
    are refused with a 404, and each says why in words rather than as a server fault."""
    project = ProjectFactory(owner=owner_with_password, name=PROJECT_NAME)
    assessment = AssessmentFactory(project=project, answers=complete_v2_answers)
    link, token = create_share_link(assessment, label="board")
    editor = member(project, "erin", "editor")

    reader_context, reader = fresh_page(browser)
    try:
        reader.goto(f"{live_server.url}/s/{token}/")
        panel = reader.locator("#sign-off")
        panel.get_by_label("Your name").fill("Dana")
        panel.get_by_label("Approve", exact=True).check()
        revoke_share_link(link)
        panel.get_by_role("button", name="Send my response").click()
        expect(panel.locator("[role=alert]")).to_contain_text("This link no longer works")
    finally:
        reader_context.close()

    log_in(page, live_server, f"/assessments/{assessment.pk}/", editor.username)
    Membership.objects.filter(user=editor).delete()
    page.locator("#q-latency input[value='batch']").check()
    expect(page.locator("#status-latency")).to_contain_text("no longer yours to change")
    assert not SignOff.objects.exists()
