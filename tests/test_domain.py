"""Projects, assessments and answers: saving never loses or overwrites another answer."""

import pytest
from django.db import IntegrityError
from django.http import Http404

from assessments import services
from assessments.access import get_owned_assessment
from assessments.examples import load_examples
from assessments.models import Answer, Assessment, NotLoaded, Project
from assessments.rubric import CURRENT_VERSION, load_rubric
from assessments.services import create_project, evaluate_assessment, save_answers, start_assessment
from assessments.validation import InvalidAnswers, changes_from_values, parse_question
from tests.factories import ProjectFactory, V1AssessmentFactory, loaded, set_answers, stored_answers
from tests.test_upgrade import answers_per_spec

pytestmark = pytest.mark.django_db


def test_saving_one_question_leaves_the_others_alone(assessment):
    set_answers(assessment, {"latency": "batch"})
    set_answers(assessment, {"budget": "limited"})
    set_answers(assessment, {"latency": "realtime"})

    assert stored_answers(assessment) == {"latency": "realtime", "budget": "limited"}
    assert assessment.answers.count() == 2
    assessment.refresh_from_db()
    assert assessment.answers_changed_at is not None


def test_invalid_answer_changes_nothing(assessment):
    set_answers(assessment, {"latency": "batch"})
    with pytest.raises(InvalidAnswers):
        set_answers(assessment, {"latency": "slow"})
    with pytest.raises(InvalidAnswers):
        set_answers(assessment, {"no_such_question": "x"})
    with pytest.raises(InvalidAnswers):
        set_answers(assessment, {"budget": "limited", "latency": "slow"})
    assert stored_answers(assessment) == {"latency": "batch"}


def test_clearing_an_optional_answer_removes_its_row(assessment):
    set_answers(assessment, {"monthly_queries": 5000})
    set_answers(assessment, {"monthly_queries": None})
    assert stored_answers(assessment) == {}
    assert not Answer.objects.filter(assessment=assessment).exists()


def test_one_row_per_question_is_enforced_by_the_database(assessment):
    Answer.objects.create(assessment=assessment, question_id="latency", value="batch")
    with pytest.raises(IntegrityError):
        Answer.objects.create(assessment=assessment, question_id="latency", value="realtime")


def test_a_complete_assessment_is_scored_with_its_own_rubric(complete_assessment):
    evaluation = evaluate_assessment(loaded(complete_assessment))
    assert evaluation.missing == []
    assert evaluation.result.verdict == "hybrid"
    assert evaluation.result.rubric_version == complete_assessment.rubric_version == "v1"


def test_an_unfinished_assessment_reports_what_is_missing(project):
    assessment = V1AssessmentFactory(project=project, answers={"latency": "batch"})
    evaluation = evaluate_assessment(loaded(assessment))
    assert evaluation.result is None
    assert "latency" not in evaluation.missing
    assert evaluation.answered_required == 1


def test_answers_are_read_only_from_an_assessment_loaded_with_them(complete_assessment):
    plain = Assessment.objects.get(pk=complete_assessment.pk)
    with pytest.raises(NotLoaded):
        _ = plain.answer_values
    with pytest.raises(NotLoaded):
        evaluate_assessment(plain)
    assert evaluate_assessment(loaded(complete_assessment)).result is not None


def test_a_new_assessment_copies_the_current_answers(project, complete_assessment):
    """From a v1 current assessment: a v2 one, its answers carried over as the spec says."""
    first = complete_assessment
    v1_answers = stored_answers(first)
    second = start_assessment(project)

    assert Project.objects.with_assessments().get(pk=project.pk).current_assessment == second
    assert (second.rubric_version, second.carried_from_id) == (CURRENT_VERSION, first.pk)
    assert stored_answers(second) == answers_per_spec(v1_answers)
    # support-bot: retrieval_possible "yes" -> "remote"; prompt_baseline "below_80" is asked
    # differently now, so it is left unanswered; everything else is copied as is.
    assert v1_answers["retrieval_possible"] == "yes"
    assert stored_answers(second)["retrieval_possible"] == "remote"
    assert v1_answers["prompt_baseline"] == "below_80"
    assert "prompt_baseline" not in stored_answers(second)
    set_answers(second, {"latency": "batch"})
    assert stored_answers(first) == v1_answers
    assert stored_answers(first)["latency"] == "interactive"


def test_newest_assessment_is_current(project):
    first = V1AssessmentFactory(project=project)
    second = V1AssessmentFactory(project=project)
    current = Project.objects.with_assessments().get(pk=project.pk).current_assessment
    assert current == second != first
    assert list(project.assessments.all()) == [second, first]


def test_projects_come_with_their_current_assessment_its_answers_and_notes_in_four_queries(
    owner, complete_answers, django_assert_num_queries
):
    for name in ("One", "Two", "Three"):
        project = ProjectFactory(owner=owner, name=name)
        V1AssessmentFactory(project=project, answers={"latency": "batch"})
        V1AssessmentFactory(project=project, answers=complete_answers)
    ProjectFactory(owner=owner, name="Empty")

    with django_assert_num_queries(4):  # projects, assessments, answers, notes
        projects = list(Project.objects.owned_by(owner).with_assessments())
    with django_assert_num_queries(0):
        current = {p.name: p.current_assessment for p in projects}
        answers = {name: a.answer_values for name, a in current.items() if a is not None}
        assert all(a.note_values == {} for a in current.values() if a is not None)

    assert current["Empty"] is None
    assert answers == {name: complete_answers for name in ("One", "Two", "Three")}


def test_a_project_needs_an_owner_unless_it_is_an_example():
    with pytest.raises(IntegrityError):
        Project.objects.create(name="Orphan")


def test_examples_load_once_owned_by_no_one_and_score_as_the_spec_says():
    # The ten v1 worked cases and the twelve v2 ones, each under its own rubric.
    assert load_examples() == (22, 0)
    assert load_examples() == (0, 0)
    examples = Project.objects.examples()
    assert examples.count() == 22
    assert Assessment.objects.count() == 22
    assert Assessment.objects.filter(rubric_version="v2").count() == 12
    assert not examples.filter(owner__isnull=False).exists()
    policy = examples.with_assessments().get(example_key="policy-assistant")
    assert evaluate_assessment(policy.current_assessment).result.verdict == "rag"


def test_owned_by_never_returns_examples_or_other_peoples_projects(project, other_user):
    load_examples()
    assert list(Project.objects.owned_by(project.owner)) == [project]
    assert list(Project.objects.owned_by(other_user)) == []


def test_saving_the_same_value_again_changes_no_timestamp(assessment):
    assert set_answers(assessment, {"latency": "batch"}) is True
    assessment.refresh_from_db()
    changed_at = assessment.answers_changed_at
    assert set_answers(assessment, {"latency": "batch"}) is False
    # The same answer autosaved again (one question, as the form submits it).
    latency = load_rubric(assessment.rubric_version).questions["latency"]
    changes = parse_question(latency, ["batch"], stored_answers(assessment))
    assert save_answers(assessment, changes) is False
    assessment.refresh_from_db()
    assert assessment.answers_changed_at == changed_at


def test_required_answers_cannot_be_cleared(assessment):
    set_answers(assessment, {"latency": "batch"})
    with pytest.raises(InvalidAnswers):
        set_answers(assessment, {"latency": None})
    assert stored_answers(assessment) == {"latency": "batch"}


def test_no_need_at_all_is_refused_where_the_change_meets_the_stored_answers(assessment):
    set_answers(assessment, {"behavior_needs": ["none"], "latency": "batch"})
    rubric = load_rubric(assessment.rubric_version)
    # On its own the change is fine; with the stored "no new behaviour" it leaves nothing to do.
    changes = changes_from_values(rubric, {"knowledge_needs": ["none"]})

    with pytest.raises(InvalidAnswers) as refused:
        save_answers(assessment, changes)

    assert [p.question for p in refused.value.problems] == ["knowledge_needs"]
    assert stored_answers(assessment) == {"behavior_needs": ["none"], "latency": "batch"}


def test_an_owned_assessment_comes_with_its_answers_and_notes_in_three_queries(
    project, complete_assessment, complete_answers, django_assert_num_queries
):
    with django_assert_num_queries(3):  # the assessment with its project, answers, notes
        owned = get_owned_assessment(project.owner, complete_assessment.pk)
        assert owned.answer_values == complete_answers
        assert owned.note_values == {}
        assert owned.project == project
    set_answers(complete_assessment, {"latency": "batch"})
    assert owned.answer_values == complete_answers  # what was loaded, as with a prefetch
    reloaded = get_owned_assessment(project.owner, complete_assessment.pk)
    assert reloaded.answer_values["latency"] == "batch"


def test_an_assessment_of_another_owner_is_not_found(complete_assessment, other_user):
    with pytest.raises(Http404):
        get_owned_assessment(other_user, complete_assessment.pk)


# --- Creating a project ------------------------------------------------------------------


def test_a_new_project_comes_with_its_first_empty_assessment(owner):
    project, assessment = create_project(owner=owner, name="Bot", description="Answers mail.")

    project.refresh_from_db()
    assert (project.owner, project.name, project.description) == (owner, "Bot", "Answers mail.")
    assert not project.is_example
    assert assessment.project_id == project.pk
    assert assessment.rubric_version == CURRENT_VERSION
    assert stored_answers(assessment) == {}
    assert Project.objects.with_assessments().get(pk=project.pk).current_assessment == assessment


def test_no_project_is_left_when_its_first_assessment_cannot_be_created(owner, monkeypatch):
    def fail(project, **kwargs):
        raise RuntimeError("the assessment could not be created")

    monkeypatch.setattr(services, "start_assessment", fail)

    with pytest.raises(RuntimeError):
        create_project(owner=owner, name="Half made")

    assert not Project.objects.filter(owner=owner).exists()
    assert not Assessment.objects.exists()


def test_a_refreshed_assessment_never_serves_answers_older_than_the_database(
    complete_assessment,
):
    assessment = loaded(complete_assessment)
    set_answers(complete_assessment, {"latency": "batch"})
    assessment.refresh_from_db()
    with pytest.raises(NotLoaded):
        _ = assessment.answer_values


def test_the_current_assessment_is_read_only_from_a_project_loaded_with_its_assessments(
    project, complete_assessment
):
    with pytest.raises(NotLoaded):
        _ = Project.objects.get(pk=project.pk).current_assessment
    current = Project.objects.with_assessments().get(pk=project.pk).current_assessment
    assert current == complete_assessment
