"""The questionnaire in a real browser: autosave, the live verdict, the report, no-JS, two tabs.

New assessments are on rubric v2, so these walk v2; the two-tabs test runs on a v1 assessment
too, since assessments started before v2 can still be answered.

Screenshots for the visual review are written to $ARTIFACTS_DIR (default artifacts/screenshots).
"""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from assessments.models import Answer
from assessments.rubric import load_rubric
from tests.conftest import V2_SUPPORT_BOT, scenario_answers
from tests.e2e.conftest import PASSWORD, log_in, save_screenshot
from tests.factories import AssessmentFactory, V1AssessmentFactory, stored_answers

pytestmark = [
    pytest.mark.e2e,
    # WhiteNoise warns that STATIC_ROOT is missing; the live server serves static files itself.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

RUBRIC = load_rubric("v2")
# Every question the support bot is asked, answered: Hybrid, ready, high confidence.
SUPPORT_BOT: dict[str, Any] = scenario_answers(V2_SUPPORT_BOT)
# Required whatever the answers; a knowledge need adds 5, a behaviour need 4.
ALWAYS_REQUIRED = 12
SUPPORT_BOT_REQUIRED = ALWAYS_REQUIRED + 5 + 4
HYBRID = "Hybrid (fine-tuning + RAG)"


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


def choices_of(value: Any) -> list[str]:
    """The choice ids an answer checks: a list for a multi-choice question, else one."""
    return value if isinstance(value, list) else [value]


def answer(page: Page, question_id: str, value: Any) -> None:
    """Answer one question as a user would, then wait until its status says Saved."""
    if isinstance(value, int):
        field = number_input(page, question_id)
        field.fill(str(value))
        autosave(page, question_id, lambda: field.press("Tab"))
    else:
        for choice_id in choices_of(value):
            box = choice(page, question_id, choice_id)
            autosave(page, question_id, box.check)
    status = page.locator(f"#status-{question_id}")
    expect(status).to_contain_text("Saved")
    expect(status).not_to_contain_text("Not saved")


def fill_without_saving(page: Page, answers: dict[str, Any]) -> None:
    """Set every field (no autosave involved: used with JavaScript off)."""
    for question_id, value in answers.items():
        if isinstance(value, int):
            number_input(page, question_id).fill(str(value))
        else:
            for choice_id in choices_of(value):
                choice(page, question_id, choice_id).check()


def expect_answers_shown(page: Page, answers: dict[str, Any]) -> None:
    """Each answer is shown, and nothing else is checked in its question."""
    for question_id, value in answers.items():
        if isinstance(value, int):
            expect(number_input(page, question_id)).to_have_value(str(value))
            continue
        expect(page.locator(f'input[name="{question_id}"]:checked')).to_have_count(
            len(choices_of(value))
        )
        for choice_id in choices_of(value):
            expect(choice(page, question_id, choice_id)).to_be_checked()


def screenshot(page: Page, artifacts_dir, name: str) -> None:
    """The whole page, from the top, so sticky parts sit where a visitor first sees them."""
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, str(artifacts_dir / f"{name}.png"), full_page=True)


def viewport_screenshot(page: Page, artifacts_dir, name: str, anchor: str) -> None:
    """What a visitor sees at one moment: the viewport, scrolled to `anchor`."""
    page.locator(anchor).scroll_into_view_if_needed()
    save_screenshot(page, str(artifacts_dir / f"{name}.png"))


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def v2_assessment(project):
    return AssessmentFactory(project=project)


# --- tests ------------------------------------------------------------------------------------


def test_sign_up_answer_everything_and_open_the_report(
    live_server, page: Page, js_errors, artifacts_dir
):
    # Sign up, then create a project: it lands on its questionnaire.
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=username]", "e2e-newcomer")
    page.fill("input[name=email]", "e2e-newcomer@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main").get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{live_server.url}/projects/new/")
    page.fill("input[name=name]", "Support assistant")
    page.get_by_role("button", name="Create and start the questions").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Support assistant")
    expect(page.get_by_text("Every answer is saved as soon as you choose it")).to_be_visible()
    expect(page.get_by_text("nothing is saved before")).to_be_hidden()

    panel = page.locator("#verdict-panel")
    lanes = panel.locator(".live-lanes")
    expect(panel).to_contain_text(f"0 of {ALWAYS_REQUIRED} required questions answered")
    expect(panel.locator(".live-ladder .rung-chosen")).to_have_count(0)

    # Answer in page order: each question the support bot answers shows up by the time its
    # turn comes (the needs open their lane's questions), and the panel follows along.
    for question_id in RUBRIC.questions:
        if question_id not in SUPPORT_BOT:
            expect(page.locator(f"#q-{question_id}")).to_be_hidden()
            continue
        expect(page.locator(f"#q-{question_id}")).to_be_visible()
        answer(page, question_id, SUPPORT_BOT[question_id])
        if question_id == "knowledge_needs":
            expect(lanes).to_contain_text("waiting for")
            expect(panel).to_contain_text(f"of {ALWAYS_REQUIRED + 5} required questions")
        elif question_id == "retrieval_possible":
            expect(lanes.locator(".is-settled")).to_contain_text("retrieval")
        elif question_id == "behavior_needs":
            # Knowledge settled, behaviour not: no verdict yet, the panel says what it waits for.
            expect(panel).to_contain_text(f"of {SUPPORT_BOT_REQUIRED} required questions")
            expect(lanes.locator(".is-settled")).to_have_count(1)
            expect(lanes).to_contain_text("waiting for")
            expect(panel.locator(".live-ladder .rung-chosen")).to_have_count(0)
            expect(panel).to_contain_text("The verdict appears when both lanes have settled")
            expect(panel.get_by_role("link", name="Open the full report")).to_have_count(0)
            screenshot(page, artifacts_dir, "questionnaire-partial-desktop")
            page.set_viewport_size(PHONE)
            screenshot(page, artifacts_dir, "questionnaire-partial-phone")
            viewport_screenshot(
                page, artifacts_dir, "questionnaire-partial-phone-viewport", "#q-behavior_needs"
            )
            page.set_viewport_size(DESKTOP)
        elif question_id == "ft_availability":
            # Both lanes settled: the verdict is known before the last answers.
            expect(panel.locator(".live-ladder .rung-chosen")).to_contain_text(HYBRID)
            expect(panel).to_contain_text("can change readiness and confidence, not this verdict")

    expect(panel).to_contain_text(
        f"{SUPPORT_BOT_REQUIRED} of {SUPPORT_BOT_REQUIRED} required questions answered"
    )
    expect(panel.locator(".live-ladder .rung-chosen")).to_contain_text(HYBRID)
    expect(panel.locator(".panel-facts")).to_contain_text("Ready")
    expect(panel.locator(".panel-reasons li").first).to_be_visible()
    screenshot(page, artifacts_dir, "questionnaire-complete-desktop")

    # Everything was stored: a reload shows every answer again.
    page.reload()
    expect_answers_shown(page, SUPPORT_BOT)
    expect(panel.locator(".live-ladder .rung-chosen")).to_contain_text(HYBRID)

    # The full report.
    panel.get_by_role("link", name="Open the full report").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+/report/$"))
    expect(page.locator(".verdict-banner .verdict-name")).to_have_text(HYBRID)
    expect(page.locator(".lanes-line")).to_contain_text("Knowledge: retrieval")
    expect(page.locator(".lanes-line")).to_contain_text("Behaviour: fine-tuning")
    rationale = page.locator("#why li")
    expect(rationale.first).to_be_visible()
    for text in rationale.all_inner_texts():
        assert text.strip(), "a rationale item is empty"
    expect(page.locator("svg.ladder-chart")).to_be_visible()
    screenshot(page, artifacts_dir, "report-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, artifacts_dir, "report-phone")

    assert js_errors == []


def test_nothing_to_solve_is_refused_and_can_be_fixed(
    live_server, page: Page, js_errors, owner_with_password, v2_assessment
):
    log_in(page, live_server, f"/assessments/{v2_assessment.pk}/", owner_with_password.username)

    # "None" is exclusive within a multi-choice question.
    answer(page, "knowledge_needs", ["documents"])
    autosave(page, "knowledge_needs", choice(page, "knowledge_needs", "none").check)
    expect(choice(page, "knowledge_needs", "documents")).not_to_be_checked()
    expect(page.locator("#status-knowledge_needs")).to_contain_text("Saved")
    expect(page.locator("#q-knowledge_change")).to_be_hidden()

    # No knowledge need and no behaviour need: the server refuses to store it.
    autosave(page, "behavior_needs", choice(page, "behavior_needs", "none").check, status=422)
    status = page.locator("#status-behavior_needs")
    expect(status).to_contain_text("Not saved")
    expect(status).to_contain_text("nothing to solve")
    expect(status).to_have_class(re.compile(r"\bis-error\b"))
    assert stored_answers(v2_assessment) == {"knowledge_needs": ["none"]}
    panel = page.locator("#verdict-panel")
    expect(panel).to_contain_text(f"1 of {ALWAYS_REQUIRED} required questions answered")
    expect(panel.locator(".live-ladder .rung-chosen")).to_have_count(0)

    # Naming a behaviour need clears "none", saves, and opens the behaviour questions.
    autosave(page, "behavior_needs", choice(page, "behavior_needs", "tone").check)
    expect(choice(page, "behavior_needs", "none")).not_to_be_checked()
    expect(status).to_contain_text("Saved")
    expect(status).not_to_contain_text("Not saved")
    assert stored_answers(v2_assessment) == {
        "knowledge_needs": ["none"],
        "behavior_needs": ["tone"],
    }
    expect(page.locator("#q-prompt_baseline")).to_be_visible()
    expect(panel).to_contain_text(f"2 of {ALWAYS_REQUIRED + 4} required questions answered")

    assert js_errors == []


def test_without_javascript_save_all_answers_leads_to_the_report(
    live_server, browser, owner_with_password, v2_assessment
):
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, live_server, f"/assessments/{v2_assessment.pk}/", owner_with_password.username)
        # The page says what is true without the script: nothing is saved before the button,
        # and every question is on the page, those that may not apply saying so.
        expect(page.get_by_text("nothing is saved before")).to_be_visible()
        expect(page.get_by_text("Every answer is saved as soon as you choose it")).to_be_hidden()
        expect(page.locator("#q-knowledge_change")).to_be_visible()
        expect(page.locator("#q-knowledge_change")).to_contain_text("Not asked with your answers")
        fill_without_saving(page, SUPPORT_BOT)
        assert not Answer.objects.filter(assessment=v2_assessment).exists()
        page.get_by_role("button", name="Save all answers").click()
        expect(page).to_have_url(f"{live_server.url}/assessments/{v2_assessment.pk}/report/")
        expect(page.locator(".messages")).to_contain_text("Answers saved. Here is your report.")
        expect(page.locator(".verdict-banner .verdict-name")).to_have_text(HYBRID)
        assert stored_answers(v2_assessment) == SUPPORT_BOT
    finally:
        context.close()


@pytest.mark.parametrize("factory", [AssessmentFactory, V1AssessmentFactory], ids=["v2", "v1"])
def test_two_tabs_answering_different_questions_both_persist(
    live_server, context, page: Page, js_errors, owner_with_password, project, factory
):
    questionnaire_path = f"/assessments/{factory(project=project).pk}/"
    log_in(page, live_server, questionnaire_path, owner_with_password.username)
    other = context.new_page()
    other.goto(live_server.url + questionnaire_path)  # same session, opened before any answer

    answer(page, "latency", "batch")
    answer(other, "budget", "limited")
    answer(page, "regulated", "yes")
    answer(other, "knowledge_needs", ["documents", "catalog"])

    expected = {
        "latency": "batch",
        "budget": "limited",
        "regulated": "yes",
        "knowledge_needs": ["documents", "catalog"],
    }
    assessment = factory._meta.model.objects.get(project=project)
    assert stored_answers(assessment) == expected
    # Each tab's panel counts the answers saved from the other tab too.
    expect(other.locator("#verdict-panel")).to_contain_text("4 of ")

    page.reload()
    expect_answers_shown(page, expected)
    other.reload()
    expect_answers_shown(other, expected)

    assert js_errors == []
