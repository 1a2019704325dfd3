"""The report through the test client: the owner's report, an unfinished one, the public
worked examples and the home page gallery."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from assessments.examples import load_examples, load_scenarios
from assessments.models import Answer, Project
from assessments.rubric import load_rubric
from assessments.scoring import score
from tests.factories import UserFactory, V1AssessmentFactory, set_answers, stored_answers

pytestmark = pytest.mark.django_db

RUBRIC = load_rubric("v1")
SCENARIOS = load_scenarios()
EXAMPLE_KEYS = [scenario["id"] for scenario in SCENARIOS]
QUERY_BUDGET = 12


@pytest.fixture
def report_page(owner_client, complete_assessment):
    response = owner_client.get(reverse("report", args=[complete_assessment.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def result(complete_answers):
    return score(complete_answers, RUBRIC)


@pytest.fixture
def examples():
    """The worked examples, by key, each with its current assessment loaded."""
    load_examples()
    return {p.example_key: p for p in Project.objects.examples().with_assessments()}


def section(content: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', content, flags=re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


# --- The owner's report ------------------------------------------------------------------


def test_report_shows_the_verdict_banner(report_page, result):
    banner = re.search(r'<section class="verdict-banner.*?</section>', report_page, re.S).group(0)
    assert result.verdict == "hybrid"
    assert 'class="verdict-banner verdict-hybrid"' in banner
    assert ">Hybrid</h2>" in banner
    assert "High" in banner
    assert "✓ Ready" in banner
    raised = sum(1 for s in result.signals if s["raised"])
    assert f"{raised} of 8" in banner


def test_report_shows_every_point_of_the_rationale(report_page, result):
    why = section(report_page, "why")
    assert result.rationale
    for point in result.rationale:
        assert escape(point.reason) in why
        assert escape(RUBRIC.questions[point.question].text) in why
        assert f'href="#answer-{point.question}"' in why


def test_report_decision_matrix_lists_all_eight_signals(report_page, result):
    matrix = section(report_page, "matrix")
    assert len(RUBRIC.signals) == 8
    for signal in RUBRIC.signals:
        assert f'<th scope="row">{escape(signal.label)}</th>' in matrix
    raised = {s["label"] for s in result.signals if s["raised"]}
    assert matrix.count("● Raised") == len(raised)
    assert matrix.count("○ Not raised") == 8 - len(raised)


def test_report_shows_the_score_chart_as_accessible_svg_and_as_a_table(report_page, result):
    scores = section(report_page, "scores")
    svg = re.search(r"<svg[^>]*>", scores)
    assert svg
    assert 'role="img"' in svg.group(0)
    assert "<title" in scores
    assert "Options considered (the chart as text)" in scores
    for approach, value in result.scores.items():
        assert RUBRIC.verdict_label(approach) in scores
        assert f"<td>{value} / 100</td>" in scores
    assert 'class="is-verdict"' in scores


def test_report_shows_what_would_flip_the_verdict(report_page, result):
    flips = section(report_page, "flips")
    assert result.flips
    for flip in result.flips:
        assert escape(RUBRIC.questions[flip["question"]].text) in flips
        assert f"badge-{flip['verdict']}" in flips


def test_report_shows_warnings_and_next_steps(report_page, result):
    warnings = section(report_page, "warnings")
    codes = {w["code"] for w in result.warnings}
    assert {"hybrid_train_with_context", "plan_retraining"} <= codes
    for warning in result.warnings:
        assert f'id="warning-{warning["code"]}"' in warnings
        assert escape(warning["message"]) in warnings
    steps = section(report_page, "next-steps")
    assert result.next_steps
    for step in result.next_steps:
        assert escape(step) in steps


def test_report_lists_all_answers_with_rubric_version_and_last_change(
    report_page, complete_answers, complete_assessment
):
    answers = section(report_page, "answers")
    for question in RUBRIC.questions.values():
        assert f'id="answer-{question.id}"' in answers
        assert escape(question.text) in answers
        assert escape(question.describe(complete_answers.get(question.id))) in answers
    assert "Rubric v1" in answers
    assert "Answers last changed:" in answers
    complete_assessment.refresh_from_db()
    assert f'<time datetime="{complete_assessment.answers_changed_at.isoformat()}">' in answers


def test_owner_report_links_each_answer_to_its_question(report_page, complete_assessment):
    questionnaire = reverse("questionnaire", args=[complete_assessment.pk])
    for question_id in RUBRIC.questions:
        assert f'href="{questionnaire}#q-{question_id}"' in report_page
    assert "Edit answers" in report_page
    assert reverse("project_detail", args=[complete_assessment.project_id]) in report_page


def test_report_shows_the_project_name_and_description(report_page):
    assert "<h1>Support bot</h1>" in report_page
    assert "Answers customers in our voice." in report_page


def test_a_changed_answer_is_shown_at_the_next_view(
    owner_client, complete_assessment, complete_answers
):
    """Nothing of a report is kept between views (no cache to serve an old verdict)."""
    url = reverse("report", args=[complete_assessment.pk])
    verdict = re.compile(r'<h2 id="verdict-title"[^>]*>([^<]+)</h2>')
    before = score(complete_answers, RUBRIC)
    assert verdict.search(owner_client.get(url).content.decode())[1] == RUBRIC.verdict_label(
        before.verdict
    )
    flip = before.flips[0]  # a single change that changes the verdict
    set_answers(complete_assessment, {flip["question"]: flip["to"]})
    shown = verdict.search(owner_client.get(url).content.decode())[1]
    assert shown == RUBRIC.verdict_label(flip["verdict"]) != RUBRIC.verdict_label(before.verdict)


def test_report_shows_blockers_when_not_ready(owner_client, complete_assessment):
    set_answers(complete_assessment, {"kb_state": "messy", "labeled_examples": "none"})
    evaluation = score(stored_answers(complete_assessment), RUBRIC)
    assert evaluation.readiness == "not_ready"

    content = owner_client.get(reverse("report", args=[complete_assessment.pk])).content.decode()

    assert "⚠ Not ready" in content
    assert "Blockers before you start" in content
    for blocker in evaluation.blockers:
        assert escape(blocker["message"]) in content


def test_incomplete_assessment_report_says_it_is_not_ready_yet(owner_client, assessment):
    set_answers(assessment, {"latency": "batch"})

    response = owner_client.get(reverse("report", args=[assessment.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "The report is not ready yet" in content
    assert "1 of 13 required questions are answered." in content
    assert reverse("questionnaire", args=[assessment.pk]) in content
    assert 'id="matrix"' not in content
    assert "<svg" not in content


def test_report_of_an_assessment_with_nothing_to_solve_explains_why(owner_client, assessment):
    # Stored before the combination rule existed, say: the page must still explain it.
    Answer.objects.create(assessment=assessment, question_id="knowledge_needs", value=["none"])
    Answer.objects.create(assessment=assessment, question_id="behavior_needs", value=["none"])

    content = owner_client.get(reverse("report", args=[assessment.pk])).content.decode()

    assert "The report is not ready yet" in content
    assert "Nothing to solve yet" in content


# --- Worked examples ---------------------------------------------------------------------


@pytest.mark.parametrize("key", EXAMPLE_KEYS)
def test_example_report_is_public_and_read_only(client, examples, key):
    project = examples[key]
    assessment = project.current_assessment

    response = client.get(reverse("example_report", args=[key]))

    assert response.status_code == 200
    content = response.content.decode()
    assert escape(project.name) in content
    assert "Worked example: a read-only report." in content
    assert 'class="verdict-banner' in content
    assert re.search(r'<svg[^>]*role="img"', content)
    assert "edit-link" not in content
    assert "Edit answers" not in content
    assert reverse("questionnaire", args=[assessment.pk]) not in content
    assert reverse("project_detail", args=[project.pk]) not in content
    assert reverse("share_create", args=[assessment.pk]) not in content


def test_example_report_shows_the_verdict_the_spec_expects(client, examples):
    expected = {s["id"]: s["expect"]["verdict"] for s in SCENARIOS}
    for key, verdict in expected.items():
        content = client.get(reverse("example_report", args=[key])).content.decode()
        assert f"verdict-banner verdict-{verdict}" in content, key


def test_example_report_is_read_only_for_logged_in_users_too(owner_client, examples):
    content = owner_client.get(reverse("example_report", args=["support-bot"])).content.decode()
    assert "edit-link" not in content
    assert "Edit answers" not in content


def test_unknown_example_is_404(client, examples):
    response = client.get(reverse("example_report", args=["no-such-example"]))
    assert response.status_code == 404


def test_a_users_own_project_is_not_reachable_as_an_example(client, complete_assessment):
    Project.objects.filter(pk=complete_assessment.project_id).update(example_key="mine")
    assert client.get(reverse("example_report", args=["mine"])).status_code == 404


def test_home_page_lists_the_ten_v1_examples_and_the_twelve_v2_ones(client, examples):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    content = response.content.decode()
    assert len(examples) == 10 + 12
    for key, project in examples.items():
        assert f'href="{reverse("example_report", args=[key])}"' in content
        assert escape(project.name) in content
    assert content.count('class="badge badge-outline"') == 22
    assert content.count('<span class="rubric-version">v1</span>') == 10
    assert reverse("account_signup") in content


def test_home_page_without_examples_says_so_and_tells_only_staff_how_to_load_them(client):
    content = client.get(reverse("home")).content.decode()
    assert "No worked examples are available right now." in content
    assert "load_examples" not in content
    client.force_login(UserFactory(username="admin", is_staff=True))
    assert "load_examples" in client.get(reverse("home")).content.decode()


# --- Query budget ------------------------------------------------------------------------


@pytest.mark.parametrize("answered", ["one", "all"])
def test_report_runs_a_constant_number_of_queries(
    owner_client, project, complete_answers, answered, django_assert_max_num_queries
):
    answers = complete_answers if answered == "all" else {"latency": "batch"}
    assessment = V1AssessmentFactory(project=project, answers=answers)

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = owner_client.get(reverse("report", args=[assessment.pk]))

    assert response.status_code == 200


def test_report_queries_do_not_grow_with_the_number_of_answers(
    owner_client, project, complete_answers
):
    few = V1AssessmentFactory(project=project, answers={"latency": "batch"})
    full = V1AssessmentFactory(project=project, answers=complete_answers)

    with CaptureQueriesContext(connection) as one:
        owner_client.get(reverse("report", args=[few.pk]))
    with CaptureQueriesContext(connection) as all_answers:
        owner_client.get(reverse("report", args=[full.pk]))

    assert len(all_answers) == len(one)


def test_example_report_and_home_run_a_constant_number_of_queries(
    client, examples, django_assert_max_num_queries
):
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert client.get(reverse("example_report", args=["support-bot"])).status_code == 200
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert client.get(reverse("home")).status_code == 200
