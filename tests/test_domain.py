"""Projects, assessments and answers: saving never loses or overwrites another answer."""

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError
from django.http import Http404

from assessments.access import get_owned_assessment
from assessments.examples import load_examples
from assessments.models import Answer, Assessment, Project
from assessments.services import evaluate_assessment, start_assessment
from assessments.validation import InvalidAnswers
from tests.factories import set_answers, stored_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    owner = User.objects.create_user("lead", password="pw-not-used-123")
    return Project.objects.create(owner=owner, name="Support bot")


def test_saving_one_question_leaves_the_others_alone(project):
    assessment = start_assessment(project)
    set_answers(assessment, {"latency": "batch"})
    set_answers(assessment, {"budget": "limited"})
    set_answers(assessment, {"latency": "realtime"})

    assert stored_answers(assessment) == {"latency": "realtime", "budget": "limited"}
    assert assessment.answers.count() == 2
    assessment.refresh_from_db()
    assert assessment.answers_changed_at is not None


def test_invalid_answer_changes_nothing(project):
    assessment = start_assessment(project)
    set_answers(assessment, {"latency": "batch"})
    with pytest.raises(InvalidAnswers):
        set_answers(assessment, {"latency": "slow"})
    with pytest.raises(InvalidAnswers):
        set_answers(assessment, {"no_such_question": "x"})
    with pytest.raises(InvalidAnswers):
        set_answers(assessment, {"budget": "limited", "latency": "slow"})
    assert stored_answers(assessment) == {"latency": "batch"}


def test_clearing_an_optional_answer_removes_its_row(project):
    assessment = start_assessment(project)
    set_answers(assessment, {"monthly_queries": 5000})
    set_answers(assessment, {"monthly_queries": None})
    assert stored_answers(assessment) == {}


def test_one_row_per_question_is_enforced_by_the_database(project):
    assessment = start_assessment(project)
    Answer.objects.create(assessment=assessment, question_id="latency", value="batch")
    with pytest.raises(IntegrityError):
        Answer.objects.create(assessment=assessment, question_id="latency", value="realtime")


def test_a_complete_assessment_is_scored_with_its_own_rubric(project, complete_answers):
    assessment = start_assessment(project)
    set_answers(assessment, complete_answers)
    evaluation = evaluate_assessment(assessment)
    assert evaluation.missing == []
    assert evaluation.result.verdict == "hybrid"
    assert evaluation.result.rubric_version == assessment.rubric_version == "v1"


def test_an_unfinished_assessment_reports_what_is_missing(project):
    assessment = start_assessment(project)
    set_answers(assessment, {"latency": "batch"})
    evaluation = evaluate_assessment(assessment)
    assert evaluation.result is None
    assert "latency" not in evaluation.missing
    assert evaluation.answered_required == 1


def test_a_new_assessment_copies_the_current_answers(project, complete_answers):
    first = start_assessment(project)
    set_answers(first, complete_answers)
    second = start_assessment(project)

    assert project.current_assessment() == second
    assert stored_answers(second) == stored_answers(first)
    set_answers(second, {"latency": "batch"})
    assert stored_answers(first)["latency"] == "interactive"


def test_newest_assessment_is_current(project):
    first = start_assessment(project)
    second = start_assessment(project)
    assert project.current_assessment() == second != first
    assert list(project.assessments.all()) == [second, first]


def test_a_project_needs_an_owner_unless_it_is_an_example():
    with pytest.raises(IntegrityError):
        Project.objects.create(name="Orphan")


def test_examples_load_once_owned_by_no_one_and_score_as_the_spec_says():
    assert load_examples() == (10, 0)
    assert load_examples() == (0, 0)
    examples = Project.objects.examples()
    assert examples.count() == 10
    assert Assessment.objects.count() == 10
    assert not examples.filter(owner__isnull=False).exists()
    policy = examples.get(example_key="policy-assistant")
    assert evaluate_assessment(policy.current_assessment()).result.verdict == "rag"


def test_owned_by_never_returns_examples_or_other_peoples_projects(project):
    load_examples()
    other = User.objects.create_user("other", password="pw-not-used-123")
    assert list(Project.objects.owned_by(project.owner)) == [project]
    assert list(Project.objects.owned_by(other)) == []


def test_saving_the_same_value_again_changes_no_timestamp(project):
    assessment = start_assessment(project)
    assert set_answers(assessment, {"latency": "batch"}) is True
    assessment.refresh_from_db()
    changed_at = assessment.answers_changed_at
    assert set_answers(assessment, {"latency": "batch"}) is False
    set_answers(assessment, {"latency": "batch"})
    assessment.refresh_from_db()
    assert assessment.answers_changed_at == changed_at


def test_required_answers_cannot_be_cleared(project):
    assessment = start_assessment(project)
    set_answers(assessment, {"latency": "batch"})
    with pytest.raises(InvalidAnswers):
        set_answers(assessment, {"latency": None})
    assert stored_answers(assessment) == {"latency": "batch"}


def test_an_owned_assessment_comes_with_its_answers_in_two_queries(
    project, complete_answers, django_assert_num_queries
):
    assessment = start_assessment(project)
    set_answers(assessment, complete_answers)
    with django_assert_num_queries(2):
        loaded = get_owned_assessment(project.owner, assessment.pk)
        assert stored_answers(loaded) == complete_answers
        assert loaded.project == project
    set_answers(assessment, {"latency": "batch"})
    assert stored_answers(loaded) == complete_answers  # what was loaded, as with a prefetch
    loaded.refresh_from_db()
    assert stored_answers(loaded)["latency"] == "batch"


def test_an_assessment_of_another_owner_is_not_found(project, complete_answers):
    assessment = start_assessment(project)
    other = User.objects.create_user("mallory")
    with pytest.raises(Http404):
        get_owned_assessment(other, assessment.pk)
