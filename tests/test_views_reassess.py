"""Re-assess on rubric v2, through the test client: the button on a v1 report and on the
project page, the POST that starts the v2 assessment (owner only, CSRF, a refusal on a
current assessment), and what the v2 report then shows of where it started: the answers
carried over, the questions still to answer and, once complete, the v1 verdict beside v2's.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from assessments.models import Answer, Assessment, Project
from assessments.rubric import load_rubric
from assessments.services import reassessed_as
from assessments.sharing import create_share_link
from assessments.upgrade_view import carried_over_view
from tests.conftest import SUPPORT_BOT, scenario_answers
from tests.factories import (
    AssessmentFactory,
    ExampleProjectFactory,
    V1AssessmentFactory,
    loaded,
    set_answers,
    stored_answers,
)
from tests.test_upgrade import answers_per_spec

pytestmark = pytest.mark.django_db

QUERY_BUDGET = 12  # the report page's (tests/test_views_report.py)
# What support-bot's v1 answers leave to answer under v2, answered: knowledge over 1M tokens
# (K5: retrieval) and prompting well short of the bar (B3: fine-tuning) -> Hybrid, as in v1.
V2_REST = {
    "kb_size": "over_1m",
    "access_control": "shared",
    "prompt_baseline": "far",
    "ft_goal": "quality",
    "ft_availability": "hosted",
    "eval_set": "small",
    "monthly_queries": 20000,
    "data_residency": "any",
    "team_ml": "some",
    "error_cost": "medium",
}


def reassess_url(assessment: Assessment) -> str:
    return reverse("assessment_reassess", args=[assessment.pk])


def snapshot_of(assessment: Assessment) -> tuple:
    """Everything of an assessment that re-assessing must leave alone."""
    return (
        Assessment.objects.filter(pk=assessment.pk).values().get(),
        list(Answer.objects.filter(assessment=assessment).order_by("id").values()),
        list(assessment.share_links.order_by("id").values()),
    )


def newest(project: Project) -> Assessment:
    return Project.objects.with_assessments().get(pk=project.pk).current_assessment


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def carried_section(content: str) -> str:
    match = re.search(r'<section id="carried-over".*?</section>', content, flags=re.S)
    assert match, "no carried-over section"
    return match.group(0)


@pytest.fixture
def reassessed(owner_client, project, complete_assessment) -> Assessment:
    """support-bot's v1 assessment, re-assessed on v2 through the button."""
    owner_client.post(reassess_url(complete_assessment))
    return newest(project)


# --- The POST --------------------------------------------------------------------------


def test_reassessing_a_v1_assessment_starts_a_v2_one_and_opens_its_questions(
    owner_client, project, complete_assessment, complete_answers
):
    share, _ = create_share_link(complete_assessment, label="for the board")
    before = snapshot_of(complete_assessment)

    response = owner_client.post(reassess_url(complete_assessment))

    new = newest(project)
    assert response.status_code == 302
    assert response.url == reverse("questionnaire", args=[new.pk])
    assert (new.rubric_version, new.carried_from_id) == ("v2", complete_assessment.pk)
    assert stored_answers(new) == answers_per_spec(complete_answers)
    # The v1 assessment: its answers, its timestamps and its share links, all as they were.
    assert snapshot_of(complete_assessment) == before
    assert share.is_active()
    page = owner_client.get(response.url).content.decode()
    assert "New assessment on rubric v2 started from your rubric v1 answers" in page
    assert "The v1 assessment stays as it is." in page


def test_an_older_v1_assessment_can_be_reassessed_too(owner_client, project, complete_answers):
    older = V1AssessmentFactory(project=project, answers=complete_answers)
    V1AssessmentFactory(project=project, answers={"latency": "batch"})

    owner_client.post(reassess_url(older))

    assert newest(project).carried_from_id == older.pk


def test_reassessing_a_current_version_assessment_is_refused_and_changes_nothing(
    owner_client, project
):
    current = AssessmentFactory(project=project, answers={"latency": "batch"})
    count = Assessment.objects.count()
    before = snapshot_of(current)

    response = owner_client.post(reassess_url(current), follow=True)

    assert response.redirect_chain == [(reverse("project_detail", args=[project.pk]), 302)]
    assert "already uses rubric v2, the current one" in response.content.decode()
    assert "nothing was changed" in response.content.decode()
    assert Assessment.objects.count() == count
    assert snapshot_of(current) == before


def test_only_the_owner_can_reassess_anyone_else_gets_a_404(
    client, other_user, complete_assessment
):
    client.force_login(other_user)
    count = Assessment.objects.count()
    before = snapshot_of(complete_assessment)

    response = client.post(reassess_url(complete_assessment))

    assert response.status_code == 404
    assert Assessment.objects.count() == count
    assert snapshot_of(complete_assessment) == before


def test_a_worked_example_cannot_be_reassessed(owner_client, complete_answers):
    example = V1AssessmentFactory(project=ExampleProjectFactory(), answers=complete_answers)

    assert owner_client.post(reassess_url(example)).status_code == 404
    assert example.project.assessments.count() == 1


def test_reassessing_needs_a_post(owner_client, complete_assessment):
    count = Assessment.objects.count()

    assert owner_client.get(reassess_url(complete_assessment)).status_code == 405
    assert Assessment.objects.count() == count


def test_reassessing_needs_the_csrf_token(owner, complete_assessment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    count = Assessment.objects.count()

    assert client.post(reassess_url(complete_assessment)).status_code == 403
    assert Assessment.objects.count() == count

    # The form on the project page carries the token, and with it the POST works.
    page = client.get(reverse("project_detail", args=[complete_assessment.project_id]))
    token = page.cookies["csrftoken"].value
    response = client.post(reassess_url(complete_assessment), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Assessment.objects.count() == count + 1


# --- The button --------------------------------------------------------------------------


def reassess_form(content: str, assessment: Assessment) -> str:
    match = re.search(
        rf'<form method="post" action="{re.escape(reassess_url(assessment))}".*?</form>',
        content,
        flags=re.S,
    )
    return match.group(0) if match else ""


def test_the_v1_report_offers_to_reassess_on_v2(owner_client, complete_assessment):
    content = owner_client.get(reverse("report", args=[complete_assessment.pk])).content.decode()

    form = reassess_form(content, complete_assessment)
    assert "csrfmiddlewaretoken" in form
    assert "Re-assess on rubric v2" in form
    assert "starts a new assessment on rubric v2 from these answers; this one stays as it is" in (
        text(form)
    )


def test_a_v2_report_and_a_read_only_v1_report_offer_no_reassessing(
    owner_client, client, project, complete_answers
):
    v2 = AssessmentFactory(project=project, answers={"latency": "batch"})
    v1 = V1AssessmentFactory(project=project, answers=complete_answers)
    _, token = create_share_link(v1)
    example = V1AssessmentFactory(project=ExampleProjectFactory(), answers=complete_answers)

    pages = [
        owner_client.get(reverse("report", args=[v2.pk])),
        client.get(reverse("shared_report", args=[token])),
        client.get(reverse("example_report", args=[example.project.example_key])),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "Re-assess on rubric" not in page.content.decode()
        assert "/reassess/" not in page.content.decode()


def test_the_project_page_offers_to_reassess_each_v1_assessment(
    owner_client, project, complete_answers
):
    older = V1AssessmentFactory(project=project, answers=complete_answers)
    current = V1AssessmentFactory(project=project, answers=complete_answers)

    content = owner_client.get(reverse("project_detail", args=[project.pk])).content.decode()

    current_part = content.split('id="current-title"', 1)[1].split('id="history-title"', 1)[0]
    history = content.split('id="history-title"', 1)[1]
    assert "Re-assess on rubric v2" in reassess_form(current_part, current)
    assert "this one stays as it is" in text(reassess_form(current_part, current))
    assert "Re-assess on rubric v2" in reassess_form(history, older)
    assert "the older one stays as it is" in text(history)
    # One way on from the current v1 assessment: no second button doing the same.
    assert reverse("assessment_create", args=[project.pk]) not in content


def test_the_project_page_offers_no_reassessing_of_a_v2_assessment(
    owner_client, project, complete_assessment
):
    owner_client.post(reassess_url(complete_assessment))
    v2 = newest(project)

    content = owner_client.get(reverse("project_detail", args=[project.pk])).content.decode()

    assert reassess_form(content, v2) == ""
    assert reassess_form(content, complete_assessment) == ""  # re-assessed: v2 is the way on
    assert reverse("assessment_create", args=[project.pk]) in content  # a fresh v2 start


# --- Once re-assessed, the v1 assessment keeps its answers ------------------------------


def save_one(client: Client, assessment: Assessment, question_id: str, value: str, **extra):
    url = reverse("save_question", args=[assessment.pk, question_id])
    return client.post(url, {question_id: [value]}, **extra)


def test_a_reassessed_v1_assessment_refuses_an_autosave_and_says_where_to_change_it(
    owner_client, reassessed, complete_assessment
):
    before = snapshot_of(complete_assessment)

    response = save_one(
        owner_client, complete_assessment, "budget", "limited", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    words = text(response.content.decode())
    assert "Not saved" in words
    assert "re-assessed on rubric v2, so its answers stay as they were" in words
    assert snapshot_of(complete_assessment) == before


def test_a_reassessed_v1_assessment_refuses_a_save_without_javascript_too(
    owner_client, reassessed, complete_assessment
):
    before = snapshot_of(complete_assessment)
    report = reverse("report", args=[complete_assessment.pk])

    autosave = save_one(owner_client, complete_assessment, "budget", "limited", follow=True)
    form = owner_client.post(
        reverse("questionnaire", args=[complete_assessment.pk]), {"budget": "limited"}, follow=True
    )

    for response in (autosave, form):
        assert response.redirect_chain[-1] == (report, 302)
        assert "its answers stay as they were" in text(response.content.decode())
    assert "Nothing was saved." in text(form.content.decode())
    assert snapshot_of(complete_assessment) == before


def test_a_reassessed_v1_assessment_opens_as_its_report_which_points_to_the_new_one(
    owner_client, reassessed, complete_assessment
):
    questions = owner_client.get(reverse("questionnaire", args=[complete_assessment.pk]))
    assert questions.status_code == 302
    assert questions.url == reverse("report", args=[complete_assessment.pk])

    content = owner_client.get(questions.url).content.decode()
    assert "Re-assessed on rubric v2" in content
    assert reverse("report", args=[reassessed.pk]) in content
    questionnaire = reverse("questionnaire", args=[complete_assessment.pk])
    assert f'href="{questionnaire}"' not in content  # no "Edit answers"
    assert f'href="{questionnaire}#q-' not in content  # and no "Change" at any answer
    assert reassess_form(content, complete_assessment) == ""  # and no second re-assessing


def test_reassessing_twice_opens_the_first_reassessment_and_starts_nothing(
    owner_client, project, reassessed, complete_assessment
):
    count = Assessment.objects.count()

    response = owner_client.post(reassess_url(complete_assessment), follow=True)

    assert response.redirect_chain == [(reverse("questionnaire", args=[reassessed.pk]), 302)]
    assert "re-assessed on rubric v2 already" in text(response.content.decode())
    assert Assessment.objects.count() == count
    assert newest(project) == reassessed


def test_a_fresh_start_on_a_project_whose_current_assessment_is_v1_reassesses_it(
    owner_client, project
):
    """A page from before the v2 switch may still POST 'Start a new assessment': it goes
    through re-assessing (one re-assessment per assessment, the v1 one frozen)."""
    v1 = V1AssessmentFactory(project=project, answers={"latency": "batch"})

    response = owner_client.post(reverse("assessment_create", args=[project.pk]), follow=True)

    reassessed = newest(project)
    assert (reassessed.rubric_version, reassessed.carried_from_id) == ("v2", v1.pk)
    assert "started from your rubric v1 answers" in text(response.content.decode())
    assert reassessed_as(v1) == reassessed


def test_the_project_history_links_a_reassessed_v1_assessment_to_its_reassessment(
    owner_client, project, reassessed, complete_assessment
):
    content = owner_client.get(reverse("project_detail", args=[project.pk])).content.decode()
    history = content.split('id="history-title"', 1)[1]

    assert reassess_form(history, complete_assessment) == ""
    assert "Re-assessed as the rubric v2 assessment" in text(history)
    assert reverse("report", args=[reassessed.pk]) in history


def test_an_unfinished_reassessed_v1_assessment_is_listed_by_its_report(owner_client, project):
    v1 = V1AssessmentFactory(project=project, answers={"latency": "batch"})
    owner_client.post(reassess_url(v1))

    content = owner_client.get(reverse("project_detail", args=[project.pk])).content.decode()
    history = content.split('id="history-title"', 1)[1]

    assert reverse("report", args=[v1.pk]) in history
    assert f'href="{reverse("questionnaire", args=[v1.pk])}"' not in history


# --- What the re-assessed assessment shows -------------------------------------------------


def test_while_incomplete_the_report_lists_what_was_carried_over_and_what_to_answer(
    owner_client, reassessed, complete_assessment
):
    content = owner_client.get(reverse("report", args=[reassessed.pk])).content.decode()

    part = carried_section(content)
    words = text(part)
    assert "Re-assessed on rubric v2" in words
    assert reverse("report", args=[complete_assessment.pk]) in part  # the v1 report, untouched
    # Copied, renamed (old -> new by label), left unanswered (with why).
    assert "Knowledge changes Monthly" in words
    assert "Lookups at request time Yes → A hosted search or vector store" in words
    assert "Prompt baseline Was “Clearly short of what we need”." in words
    assert load_rubric("v2").upgrade.left_unanswered["prompt_baseline"].why in words
    # Still to answer: each asked, required and unanswered question, linked to its place.
    questionnaire = reverse("questionnaire", args=[reassessed.pk])
    for question_id in V2_REST:
        assert f'href="{questionnaire}#q-{question_id}"' in part, question_id
    assert "Still to answer (10)" in words
    # No comparison before the v2 verdict exists.
    assert "beside rubric v2" not in words
    assert "Both side by side" not in content


def test_each_autosave_on_a_reassessed_assessment_redraws_what_is_left_to_answer(
    owner_client, reassessed
):
    """With JavaScript the box follows the answers: one fewer to answer, then both verdicts."""
    *first, (last_id, last_value) = V2_REST.items()
    set_answers(reassessed, dict(first))

    response = save_one(owner_client, reassessed, last_id, str(last_value), HTTP_HX_REQUEST="true")

    content = response.content.decode()
    part = carried_section(content)
    assert 'hx-swap-oob="true"' in part.split(">", 1)[0]
    assert "Still to answer" not in text(part)
    assert "Rubric v1 beside rubric v2" in text(part)


def test_the_questions_page_lists_what_was_carried_over_and_what_to_answer(
    owner_client, reassessed
):
    """Re-assessing opens the questions: they say what came over and what is left."""
    questionnaire = reverse("questionnaire", args=[reassessed.pk])
    part = carried_section(owner_client.get(questionnaire).content.decode())

    words = text(part)
    assert "Re-assessed on rubric v2" in words
    assert "Lookups at request time Yes → A hosted search or vector store" in words
    for question_id in V2_REST:
        assert f'href="{questionnaire}#q-{question_id}"' in part, question_id
    assert "Still to answer (10)" in words


def test_a_carried_answer_worth_checking_is_flagged_until_the_user_changes_it(
    owner_client, project, complete_answers
):
    """v1's retrieval "no" also meant on-device systems that may keep a local index: the
    re-assessed page asks to check it, and stops asking once the answer is changed."""
    source = V1AssessmentFactory(project=project, answers=complete_answers)
    set_answers(source, {"retrieval_possible": "no"})
    owner_client.post(reassess_url(source))
    reassessed = newest(project)
    questionnaire = reverse("questionnaire", args=[reassessed.pk])

    part = carried_section(owner_client.get(questionnaire).content.decode())
    assert "Worth checking (1)" in text(part)
    assert f'href="{questionnaire}#q-retrieval_possible"' in part
    assert "local index" in text(part)

    set_answers(reassessed, {"retrieval_possible": "local_only"})
    part = carried_section(owner_client.get(questionnaire).content.decode())
    assert "Worth checking" not in text(part)


def test_once_complete_the_report_shows_the_v1_verdict_beside_the_v2_verdict(
    owner_client, reassessed, complete_assessment, django_assert_max_num_queries
):
    set_answers(reassessed, V2_REST)

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = owner_client.get(reverse("report", args=[reassessed.pk]))

    content = response.content.decode()
    words = text(carried_section(content))
    # At the top of the page, the v1 verdict in a sentence and a pointer to the comparison.
    assert (
        "Re-assessed from your rubric v1 assessment, whose verdict was Hybrid (high confidence, "
        "ready). The verdict is the same under both rubrics. Both side by side"
    ) in text(content)
    assert "Rubric v1 beside rubric v2" in words
    v1, v2 = load_rubric("v1"), load_rubric("v2")
    assert f"Verdict {v1.verdict_label('hybrid')} {v2.verdict_label('hybrid')} Confidence" in words
    assert f"The verdict is the same under both rubrics: {v2.verdict_label('hybrid')}." in words
    assert "Knowledge: retrieval · Behaviour: fine-tuning" in words
    # The deciding rules, naming the answers they read and where each came from.
    assert "Rule K5" in words and "Rule B3" in words
    assert "Knowledge size: Over 1M tokens (new in v2: v1 did not ask it)" in words
    assert (
        "Prompt baseline: Well short of the bar (asked again: the v1 answer “Clearly short of "
        "what we need” did not carry over)"
    ) in words
    # Still-to-answer is gone; the carried-over answers stay listed.
    assert "Still to answer" not in words
    assert "Lookups at request time Yes → A hosted search or vector store" in words


def test_the_top_of_the_report_says_when_readiness_changed_though_the_verdict_did_not(
    owner_client, reassessed
):
    set_answers(reassessed, V2_REST | {"eval_set": "none"})  # a blocker under v2

    content = text(owner_client.get(reverse("report", args=[reassessed.pk])).content.decode())

    assert (
        "The verdict is the same under both rubrics; readiness is not: Ready under rubric v1, "
        "Not ready under rubric v2."
    ) in content


def test_a_changed_verdict_is_called_changed(owner_client, reassessed):
    # Prompting meets the bar (B2, no reason to train): RAG now, Hybrid under v1.
    set_answers(reassessed, V2_REST | {"prompt_baseline": "meets"})

    view = carried_over_view(loaded(reassessed))

    comparison = view.comparison
    assert (comparison.old.verdict, comparison.new.verdict, comparison.changed) == (
        "hybrid",
        "rag",
        True,
    )
    assert comparison.summary.startswith("The verdict changed: ")
    content = owner_client.get(reverse("report", args=[reassessed.pk])).content.decode()
    assert "Changed" in text(carried_section(content))


def test_each_answer_a_deciding_rule_read_says_where_it_came_from(reassessed):
    # v1 said "Yes" (carried over as a hosted store); the team now has only a local index.
    set_answers(reassessed, V2_REST | {"retrieval_possible": "local_only"})

    view = carried_over_view(loaded(reassessed))

    reads = {a.question_id: a.note for rule in view.comparison.deciding for a in rule.answers}
    assert reads["retrieval_possible"] == "changed since v1 (was “A hosted search or vector store”)"
    assert reads["knowledge_needs"] == ""  # carried over unchanged
    assert reads["kb_size"] == reads["ft_availability"] == "new in v2: v1 did not ask it"
    assert reads["prompt_baseline"].startswith("asked again: ")


def test_the_comparison_reads_the_v1_verdict_from_the_untouched_v1_assessment(
    reassessed, complete_assessment
):
    set_answers(reassessed, V2_REST)

    view = carried_over_view(loaded(reassessed))

    v1 = load_rubric("v1")
    assert view.from_version == "v1" and view.source_id == complete_assessment.pk
    assert view.comparison.old.label == v1.verdict_label("hybrid")
    assert view.comparison.old.version == "v1"
    assert view.to_answer == ()


def test_a_v2_assessment_without_a_source_shows_nothing_of_this(owner_client, project):
    fresh = AssessmentFactory(project=project, answers=scenario_answers_v2_complete())

    response = owner_client.get(reverse("report", args=[fresh.pk]))

    assert response.context["carried_over"] is None
    assert 'id="carried-over"' not in response.content.decode()
    assert "Re-assessed" not in response.content.decode()
    assert carried_over_view(loaded(fresh)) is None


def test_a_v2_assessment_started_from_a_v2_one_shows_nothing_of_this(owner_client, project):
    AssessmentFactory(project=project, answers=scenario_answers_v2_complete())
    owner_client.post(reverse("assessment_create", args=[project.pk]))
    second = newest(project)
    assert second.carried_from_id is not None

    response = owner_client.get(reverse("report", args=[second.pk]))

    assert response.context["carried_over"] is None
    assert 'id="carried-over"' not in response.content.decode()


def test_a_shared_link_to_a_reassessed_report_shows_nothing_of_the_v1_assessment(reassessed):
    set_answers(reassessed, V2_REST)
    _, token = create_share_link(reassessed)

    content = Client().get(reverse("shared_report", args=[token])).content.decode()

    assert 'id="carried-over"' not in content
    assert "rubric v1" not in content


def test_the_source_deleted_leaves_the_reassessed_assessment_standing(
    owner_client, reassessed, complete_assessment
):
    complete_assessment.delete()

    reassessed.refresh_from_db()
    assert reassessed.carried_from_id is None
    assert owner_client.get(reverse("report", args=[reassessed.pk])).status_code == 200


def scenario_answers_v2_complete() -> dict:
    """support-bot's answers carried over to v2 and completed: a complete v2 answer set."""
    return answers_per_spec(scenario_answers(SUPPORT_BOT)) | V2_REST
