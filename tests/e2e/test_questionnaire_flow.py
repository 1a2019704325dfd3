"""The questionnaire in a real browser: autosave, the live verdict, the report, no-JS, two tabs.

Screenshots for the visual review are written to $ARTIFACTS_DIR (default artifacts/screenshots).
"""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from assessments.models import Answer
from assessments.rubric import load_rubric
from tests.conftest import scenario_answers
from tests.e2e.conftest import PASSWORD, log_in
from tests.factories import stored_answers

pytestmark = [
    pytest.mark.e2e,
    # WhiteNoise warns that STATIC_ROOT is missing; the live server serves static files itself.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

RUBRIC = load_rubric("v1")
REQUIRED = len(RUBRIC.required_ids)

# Every question answered: the support-bot scenario (Hybrid, ready) plus the optional ones.
SUPPORT_BOT: dict[str, Any] = {
    **scenario_answers("support-bot"),
    "eval_set": "no",
    "monthly_queries": 50000,
}


# --- helpers ----------------------------------------------------------------------------------


def choice(page: Page, question_id: str, choice_id: str):
    return page.locator(f'input[name="{question_id}"][value="{choice_id}"]')


def number_input(page: Page, question_id: str):
    return page.locator(f'input[type="number"][name="{question_id}"]')


def is_autosave_of(question_id: str):
    def predicate(response) -> bool:
        return (
            response.request.method == "POST"
            and f"/questions/{question_id}/" in response.url
            and "/assessments/" in response.url
        )

    return predicate


def autosave(page: Page, question_id: str, action, *, status: int = 200) -> None:
    """Run `action` (one user change) and wait for the question's autosave response."""
    with page.expect_response(is_autosave_of(question_id)) as response_info:
        action()
    assert response_info.value.status == status, (
        f"autosave of {question_id}: HTTP {response_info.value.status}, expected {status}"
    )


def answer(page: Page, question_id: str, value: Any) -> None:
    """Answer one question as a user would, then wait until its status says Saved."""
    kind = RUBRIC.questions[question_id].kind
    if kind == "integer":
        field = number_input(page, question_id)
        field.fill(str(value))
        autosave(page, question_id, lambda: field.press("Tab"))
    else:
        for choice_id in value if kind == "multi" else [value]:
            box = choice(page, question_id, choice_id)
            autosave(page, question_id, box.check)
    status = page.locator(f"#status-{question_id}")
    expect(status).to_contain_text("Saved")
    expect(status).not_to_contain_text("Not saved")


def fill_without_saving(page: Page, answers: dict[str, Any]) -> None:
    """Set every field (no autosave involved: used with JavaScript off)."""
    for question_id, value in answers.items():
        kind = RUBRIC.questions[question_id].kind
        if kind == "integer":
            number_input(page, question_id).fill(str(value))
        else:
            for choice_id in value if kind == "multi" else [value]:
                choice(page, question_id, choice_id).check()


def expect_answers_shown(page: Page, answers: dict[str, Any]) -> None:
    for question_id, value in answers.items():
        question = RUBRIC.questions[question_id]
        if question.kind == "integer":
            expect(number_input(page, question_id)).to_have_value(str(value))
            continue
        chosen = set(value) if question.kind == "multi" else {value}
        for option in question.choices:
            box = choice(page, question_id, option.id)
            if option.id in chosen:
                expect(box).to_be_checked()
            else:
                expect(box).not_to_be_checked()


def screenshot(page: Page, artifacts_dir, name: str) -> None:
    """The whole page, from the top, so sticky parts sit where a visitor first sees them."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)


def viewport_screenshot(page: Page, artifacts_dir, name: str, anchor: str) -> None:
    """What a visitor sees at one moment: the viewport, scrolled to `anchor`."""
    page.locator(anchor).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / f"{name}.png"))


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def questionnaire_path(assessment) -> str:
    return f"/assessments/{assessment.pk}/"


# --- tests ------------------------------------------------------------------------------------


def test_sign_up_answer_everything_and_open_the_report(
    live_server, page: Page, js_errors, artifacts_dir
):
    assert set(SUPPORT_BOT) == set(RUBRIC.questions), "the test must answer every question"

    # Sign up, then create a project: it lands on its questionnaire.
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=username]", "e2e-newcomer")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{live_server.url}/projects/new/")
    page.fill("input[name=name]", "Support assistant")
    page.get_by_role("button", name="Create and start the questions").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Support assistant")
    expect(page.get_by_text("Every answer is saved as soon as you choose it")).to_be_visible()
    expect(page.get_by_text("nothing is saved before")).to_be_hidden()

    panel = page.locator("#verdict-panel")
    expect(panel).to_contain_text(f"0 of {REQUIRED} required questions answered")
    expect(panel.locator(".panel-verdict")).to_have_count(0)

    # Answer in page order; the panel follows along.
    for question_id in RUBRIC.questions:
        answer(page, question_id, SUPPORT_BOT[question_id])
        if question_id == "knowledge_needs":
            # One need known: still no verdict, the panel says what unlocks it.
            expect(panel.locator(".panel-verdict")).to_have_count(0)
            expect(panel).to_contain_text("to see a first verdict")
        elif question_id == "behavior_needs":
            # Both needs known: a first, provisional verdict.
            expect(panel.locator(".panel-verdict .badge")).to_be_visible()
            expect(panel.locator(".provisional")).to_have_text("provisional")
            expect(panel).to_contain_text("the verdict may still move")
            expect(panel).to_contain_text(f"4 of {REQUIRED} required questions answered")
            expect(panel.get_by_role("link", name="Open the full report")).to_have_count(0)
            screenshot(page, artifacts_dir, "questionnaire-partial-desktop")
            page.set_viewport_size(PHONE)
            screenshot(page, artifacts_dir, "questionnaire-partial-phone")
            viewport_screenshot(
                page, artifacts_dir, "questionnaire-partial-phone-viewport", "#q-behavior_needs"
            )
            page.set_viewport_size(DESKTOP)

    expect(panel).to_contain_text(f"{REQUIRED} of {REQUIRED} required questions answered")
    expect(panel.locator(".panel-verdict .badge")).to_have_text("Hybrid")
    expect(panel.locator(".provisional")).to_have_count(0)
    expect(panel.locator(".panel-reasons li").first).to_be_visible()

    # Everything was stored: a reload shows every answer again.
    page.reload()
    expect_answers_shown(page, SUPPORT_BOT)
    expect(panel.locator(".panel-verdict .badge")).to_have_text("Hybrid")

    # The full report.
    panel.get_by_role("link", name="Open the full report").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+/report/$"))
    expect(page.locator(".verdict-banner .verdict-name")).to_have_text("Hybrid")
    rationale = page.locator("#why li")
    expect(rationale.first).to_be_visible()
    assert rationale.count() > 0
    for text in rationale.all_inner_texts():
        assert text.strip(), "a rationale item is empty"
    expect(page.locator("#matrix tbody tr")).to_have_count(8)
    expect(page.locator("#scores svg.score-chart")).to_be_visible()
    screenshot(page, artifacts_dir, "report-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, artifacts_dir, "report-phone")

    assert js_errors == []


def test_nothing_to_solve_is_refused_and_can_be_fixed(
    live_server, page: Page, js_errors, owner_with_password, assessment, questionnaire_path
):
    log_in(page, live_server, questionnaire_path, owner_with_password.username)

    # "None" is exclusive within a multi-choice question.
    answer(page, "knowledge_needs", ["documents"])
    autosave(page, "knowledge_needs", choice(page, "knowledge_needs", "none").check)
    expect(choice(page, "knowledge_needs", "documents")).not_to_be_checked()
    expect(page.locator("#status-knowledge_needs")).to_contain_text("Saved")

    # No knowledge need and no behaviour need: the server refuses to store it.
    autosave(page, "behavior_needs", choice(page, "behavior_needs", "none").check, status=422)
    status = page.locator("#status-behavior_needs")
    expect(status).to_contain_text("Not saved")
    expect(status).to_contain_text("nothing to solve")
    expect(status).to_have_class(re.compile(r"\bis-error\b"))
    assert stored_answers(assessment) == {"knowledge_needs": ["none"]}
    panel = page.locator("#verdict-panel")
    expect(panel).to_contain_text(f"1 of {REQUIRED} required questions answered")
    expect(panel.locator(".panel-verdict")).to_have_count(0)

    # Naming a behaviour need clears "none" and saves.
    autosave(page, "behavior_needs", choice(page, "behavior_needs", "tone").check)
    expect(choice(page, "behavior_needs", "none")).not_to_be_checked()
    expect(status).to_contain_text("Saved")
    expect(status).not_to_contain_text("Not saved")
    assert stored_answers(assessment) == {
        "knowledge_needs": ["none"],
        "behavior_needs": ["tone"],
    }
    expect(panel.locator(".panel-verdict .badge")).to_be_visible()

    assert js_errors == []


def test_without_javascript_save_all_answers_leads_to_the_report(
    live_server, browser, owner_with_password, assessment, questionnaire_path
):
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, live_server, questionnaire_path, owner_with_password.username)
        # The page says what is true without the script: nothing is saved before the button.
        expect(page.get_by_text("nothing is saved before")).to_be_visible()
        expect(page.get_by_text("Every answer is saved as soon as you choose it")).to_be_hidden()
        fill_without_saving(page, SUPPORT_BOT)
        assert not Answer.objects.filter(assessment=assessment).exists()
        page.get_by_role("button", name="Save all answers").click()
        expect(page).to_have_url(f"{live_server.url}/assessments/{assessment.pk}/report/")
        expect(page.locator(".messages")).to_contain_text("Answers saved. Here is your report.")
        expect(page.locator(".verdict-banner .verdict-name")).to_have_text("Hybrid")
        expect(page.locator("#matrix tbody tr")).to_have_count(8)
        assert stored_answers(assessment) == SUPPORT_BOT
    finally:
        context.close()


def test_two_tabs_answering_different_questions_both_persist(
    live_server, context, page: Page, js_errors, owner_with_password, assessment, questionnaire_path
):
    log_in(page, live_server, questionnaire_path, owner_with_password.username)
    other = context.new_page()
    other.goto(live_server.url + questionnaire_path)  # same session, opened before any answer

    answer(page, "knowledge_change", "daily")
    answer(other, "budget", "limited")
    answer(page, "regulated", "yes")
    answer(other, "knowledge_needs", ["documents", "catalog"])

    expected = {
        "knowledge_change": "daily",
        "budget": "limited",
        "regulated": "yes",
        "knowledge_needs": ["documents", "catalog"],
    }
    assert stored_answers(assessment) == expected
    # Each tab's panel counts the answers saved from the other tab too.
    expect(other.locator("#verdict-panel")).to_contain_text(
        f"4 of {REQUIRED} required questions answered"
    )

    page.reload()
    expect_answers_shown(page, expected)
    other.reload()
    expect_answers_shown(other, expected)

    assert js_errors == []
