"""A rubric v2 assessment in the browser: the questions branch as needs are picked, the lanes
settle in the live panel, and the report and the memo follow; screenshots land in the
artifacts for a person to look at."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import log_in, save_screenshot
from tests.factories import AssessmentFactory, ProjectFactory, V1AssessmentFactory
from tests.test_views_reassess import V2_REST

# A handbook of under 50k tokens everyone may read, and a tone prompting cannot reach yet:
# K3 (in the prompt) and B3 (fine-tune): Hybrid.
ANSWERS = [
    ("knowledge_needs", ["documents"]),
    ("knowledge_change", "quarterly"),
    ("kb_size", "under_50k"),
    ("access_control", "shared"),
    ("kb_state", "clean"),
    ("retrieval_possible", "remote"),
    ("behavior_needs", ["tone"]),
    ("prompt_baseline", "far"),
    ("labeled_examples", "200_999"),
    ("ft_goal", "quality"),
    ("ft_availability", "hosted"),
    ("eval_set", "small"),
    ("latency", "interactive"),
    ("monthly_queries", "20000"),
    ("budget", "moderate"),
    ("prompt_volume", "no"),
    ("data_residency", "any"),
    ("team_ml", "some"),
    ("attribution", "helpful"),
    ("regulated", "no"),
    ("error_cost", "medium"),
]
KNOWLEDGE_ONLY = ["knowledge_change", "kb_size", "access_control", "kb_state", "retrieval_possible"]
BEHAVIOUR_ONLY = ["prompt_baseline", "labeled_examples", "ft_goal", "ft_availability"]


def answer(page, question_id, value):
    fieldset = page.locator(f"#q-{question_id}")
    if isinstance(value, int) or question_id == "monthly_queries":
        fieldset.locator("input").fill(str(value))
        fieldset.locator("input").press("Tab")
    else:
        for choice in value if isinstance(value, list) else [value]:
            fieldset.locator(f"input[value='{choice}']").check()
    expect(page.locator(f"#status-{question_id}")).to_contain_text("Saved")


def test_a_v2_assessment_branches_settles_and_reports(
    live_server, page, owner_with_password, artifacts_dir, js_errors
):
    assessment = AssessmentFactory(project=ProjectFactory(owner=owner_with_password, name="Voice"))
    path = f"/assessments/{assessment.pk}/"
    log_in(page, live_server, path, owner_with_password.username)

    for question_id in KNOWLEDGE_ONLY + BEHAVIOUR_ONLY:
        expect(page.locator(f"#q-{question_id}")).to_be_hidden()
    panel = page.locator("#verdict-panel")
    expect(panel).to_contain_text("0 of 12 required questions answered")
    save_screenshot(page, str(artifacts_dir / "questionnaire-v2-start.png"), full_page=True)

    for question_id, value in ANSWERS:
        answer(page, question_id, value)
        if question_id == "knowledge_needs":
            for shown in KNOWLEDGE_ONLY:
                expect(page.locator(f"#q-{shown}")).to_be_visible()
            expect(page.locator(f"#q-{BEHAVIOUR_ONLY[0]}")).to_be_hidden()
            expect(panel).to_contain_text("of 17 required questions answered")
        if question_id == "retrieval_possible":
            expect(panel.locator(".live-lanes")).to_contain_text("in the prompt")
            expect(panel.locator(".live-ladder .rung-possible")).to_have_count(2)
            save_screenshot(page, str(artifacts_dir / "questionnaire-v2-knowledge-settled.png"))
        if question_id == "behavior_needs":
            expect(page.locator(f"#q-{BEHAVIOUR_ONLY[0]}")).to_be_visible()
        if question_id == "ft_availability":
            expect(panel.locator(".live-ladder .rung-chosen")).to_contain_text("Hybrid")
    expect(panel).to_contain_text("21 of 21 required questions answered")
    save_screenshot(panel, str(artifacts_dir / "questionnaire-v2-panel-complete.png"))
    page.get_by_role("link", name="Open the full report").click()

    expect(page).to_have_url(re.compile(rf"/assessments/{assessment.pk}/report/$"))
    # Nothing is retrieved: the hybrid is fine-tuning plus the knowledge in the prompt.
    expect(page.locator("h2.verdict-name")).to_have_text(
        "Hybrid (fine-tuning + knowledge in the prompt)"
    )
    expect(page.locator(".lanes-line")).to_contain_text("Knowledge: in the prompt")
    save_screenshot(page, str(artifacts_dir / "report-v2-answered.png"), full_page=True)

    memo = page.request.get(live_server.url + f"/assessments/{assessment.pk}/memo.pdf")
    assert memo.status == 200
    assert memo.headers["content-type"] == "application/pdf"
    (artifacts_dir / "memo-v2-answered.pdf").write_bytes(memo.body())
    assert not js_errors


def test_a_v1_assessment_is_reassessed_on_v2_and_shows_both_verdicts(
    live_server, page, owner_with_password, complete_answers, artifacts_dir, js_errors
):
    """From the v1 report: re-assess, answer what v2 still asks, and read both verdicts."""
    project = ProjectFactory(owner=owner_with_password, name="Support bot")
    v1 = V1AssessmentFactory(project=project, answers=complete_answers)
    log_in(page, live_server, f"/assessments/{v1.pk}/report/", owner_with_password.username)

    page.get_by_role("button", name="Re-assess on rubric v2").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+/$"))
    carried = page.locator("#carried-over")
    expect(carried).to_contain_text(f"Still to answer ({len(V2_REST)})")
    save_screenshot(page, str(artifacts_dir / "reassess-v2-start.png"), full_page=True)

    for question_id, value in V2_REST.items():
        answer(page, question_id, value)
    # The box followed the answers: nothing left to answer, both verdicts side by side.
    expect(carried).to_contain_text("Rubric v1 beside rubric v2")
    panel = page.locator("#verdict-panel")
    expect(panel.locator(".live-ladder .rung-chosen")).to_contain_text("Hybrid")
    panel.get_by_role("link", name="Open the full report").click()

    expect(page).to_have_url(re.compile(r"/assessments/\d+/report/$"))
    expect(carried).to_contain_text("Rubric v1 beside rubric v2")
    expect(carried).to_contain_text("The verdict is the same under both rubrics")
    expect(carried).not_to_contain_text("Still to answer")
    save_screenshot(page.locator("#carried-over"), str(artifacts_dir / "reassess-v2-compared.png"))
    # The v1 report keeps its verdict and answers, and points to the v2 assessment.
    page.goto(f"{live_server.url}/assessments/{v1.pk}/report/")
    expect(page.locator(".verdict-banner .verdict-name")).to_have_text("Hybrid")
    expect(page.get_by_role("link", name="Edit answers")).to_have_count(0)
    page.get_by_role("link", name="Open the rubric v2 assessment").click()
    expect(page.locator("#carried-over")).to_contain_text("Rubric v1 beside rubric v2")
    assert not js_errors
