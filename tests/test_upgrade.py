"""Re-assessing on rubric v2: the v1 answers carried over as the spec says
(shared/spec/rubric-v2.md, "Upgrading a v1 assessment"), and the service that starts the new
assessment from them.

The spec's mapping is restated here on its own (SPEC_RENAMES, SPEC_LEFT_UNANSWERED), so the
rubric's [upgrade] table is checked against the spec, not against itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from assessments.examples import SCENARIOS_V2_FILE, load_scenarios
from assessments.lanes.upgrade import carry_over
from assessments.models import Answer, Assessment, Project
from assessments.rubric import CURRENT_VERSION, load_rubric
from assessments.services import (
    AnswersFrozen,
    evaluate_assessment,
    reassess,
    reassessed_as,
    save_answers,
    start_assessment,
)
from assessments.sharing import create_share_link
from assessments.validation import clean_answers, parse_question
from tests.factories import (
    AssessmentFactory,
    ProjectFactory,
    V1AssessmentFactory,
    loaded,
    set_answers,
    stored_answers,
)

# The spec, question by question: (question, v1 choice) -> v2 choice ...
SPEC_RENAMES = {
    ("prompt_baseline", "not_tried"): "not_measured",
    ("eval_set", "yes"): "small",
    ("eval_set", "no"): "none",
    ("retrieval_possible", "yes"): "remote",
}
# ... and the v1 answers it leaves unanswered (asked differently now).
SPEC_LEFT_UNANSWERED = {
    ("labeled_examples", "under_200"),
    ("prompt_baseline", "below_80"),
    ("prompt_baseline", "above_80"),
}
# Questions v1 never asked: a re-assessed assessment starts without an answer to them.
NEW_IN_V2 = {"kb_size", "access_control", "ft_goal", "ft_availability", "data_residency",
             "team_ml", "error_cost"}  # fmt: skip
V1_SCENARIOS = load_scenarios()


def answers_per_spec(v1_answers: dict[str, Any]) -> dict[str, Any]:
    """What the spec says a v2 assessment re-assessed from these v1 answers starts with."""
    carried = {}
    for question, value in v1_answers.items():
        key = (question, value) if isinstance(value, str) else None
        if key in SPEC_LEFT_UNANSWERED:
            continue
        carried[question] = SPEC_RENAMES.get(key, value) if key else value
    return carried


def _pairs(items) -> dict[str, tuple[Any, Any]]:
    return {item.question_id: (item.old_value, item.value) for item in items}


# --- The mapping (pure) -------------------------------------------------------------------


@pytest.mark.parametrize("scenario", V1_SCENARIOS, ids=[s["id"] for s in V1_SCENARIOS])
def test_every_v1_worked_example_is_carried_over_as_the_spec_says(scenario):
    answers = clean_answers(scenario["answers"], load_rubric("v1"))  # as stored

    carried = carry_over(load_rubric("v1"), load_rubric("v2"), answers)

    single = {q: v for q, v in answers.items() if isinstance(v, str)}
    renamed = {q: (v, SPEC_RENAMES[(q, v)]) for q, v in single.items() if (q, v) in SPEC_RENAMES}
    left = {q: (v, None) for q, v in single.items() if (q, v) in SPEC_LEFT_UNANSWERED}
    copied = {q: (v, v) for q, v in answers.items() if q not in renamed and q not in left}
    assert _pairs(carried.renamed) == renamed
    assert _pairs(carried.left_unanswered) == left
    assert _pairs(carried.copied) == copied
    assert carried.answers == answers_per_spec(answers)
    assert not NEW_IN_V2 & carried.answers.keys()
    for item in carried.left_unanswered:
        assert item.why, item.question_id


def test_the_worked_examples_cover_every_kind_of_carry_over():
    carried = [carry_over(load_rubric("v1"), load_rubric("v2"), s["answers"]) for s in V1_SCENARIOS]
    assert {(i.question_id, i.old_value) for c in carried for i in c.renamed} == {
        ("retrieval_possible", "yes"),
        ("prompt_baseline", "not_tried"),
    }
    assert {(i.question_id, i.old_value) for c in carried for i in c.left_unanswered} == {
        ("labeled_examples", "under_200"),
        ("prompt_baseline", "below_80"),
    }


@pytest.mark.parametrize(
    ("question", "v1_choice", "v2_choice"),
    [
        ("eval_set", "yes", "small"),
        ("eval_set", "no", "none"),
        ("retrieval_possible", "yes", "remote"),
        ("prompt_baseline", "not_tried", "not_measured"),
    ],
)
def test_a_renamed_choice_is_carried_to_its_v2_id_and_shown_by_both_labels(
    question, v1_choice, v2_choice
):
    v1, v2 = load_rubric("v1"), load_rubric("v2")

    carried = carry_over(v1, v2, {question: v1_choice})

    (item,) = carried.renamed
    assert (item.question_id, item.value) == (question, v2_choice)
    assert item.old_text == v1.questions[question].label_for(v1_choice)
    assert item.text == v2.questions[question].label_for(v2_choice)
    assert item.label == v2.questions[question].label
    assert carried.copied == carried.left_unanswered == ()


@pytest.mark.parametrize(
    ("question", "v1_choice"),
    [
        ("retrieval_possible", "no"),
        ("labeled_examples", "none"),
        ("labeled_examples", "200_999"),
        ("labeled_examples", "1000_plus"),
        ("kb_state", "none"),
    ],
)
def test_an_answer_whose_question_and_choice_exist_in_v2_is_copied_as_is(question, v1_choice):
    carried = carry_over(load_rubric("v1"), load_rubric("v2"), {question: v1_choice})

    assert _pairs(carried.copied) == {question: (v1_choice, v1_choice)}
    assert carried.renamed == carried.left_unanswered == ()


@pytest.mark.parametrize(
    ("question", "v1_choice"), sorted(SPEC_LEFT_UNANSWERED), ids=lambda x: str(x)
)
def test_an_answer_asked_differently_now_is_left_unanswered_with_why(question, v1_choice):
    v1, v2 = load_rubric("v1"), load_rubric("v2")

    carried = carry_over(v1, v2, {question: v1_choice})

    (item,) = carried.left_unanswered
    assert (item.question_id, item.old_value, item.value) == (question, v1_choice, None)
    assert item.old_text == v1.questions[question].label_for(v1_choice)
    assert item.why == v2.upgrade.left_unanswered[question].why
    assert carried.answers == {}


def test_a_carried_answer_that_may_mean_less_now_says_why_to_check_it():
    """v1's retrieval "no" is copied as the spec says, but flagged: it also covered systems
    that can keep a local index, which v2 asks apart."""
    v1, v2 = load_rubric("v1"), load_rubric("v2")

    flagged = carry_over(v1, v2, {"retrieval_possible": "no"})
    plain = carry_over(v1, v2, {"retrieval_possible": "yes", "latency": "batch"})

    (item,) = flagged.copied
    assert item.check == v2.upgrade.worth_checking["retrieval_possible"].why
    assert "local index" in item.check
    assert [i.check for i in (*plain.copied, *plain.renamed)] == ["", ""]


def test_multi_choice_and_whole_number_answers_are_copied_as_is():
    answers = {"knowledge_needs": ["documents", "catalog"], "monthly_queries": 0}

    carried = carry_over(load_rubric("v1"), load_rubric("v2"), answers)

    assert carried.answers == answers
    assert [item.text for item in carried.copied] == [
        "Internal documents and policies, Products, prices, a catalog",
        "0",
    ]


def test_carry_over_needs_a_rubric_that_upgrades_from_the_old_one():
    with pytest.raises(ValueError, match="^rubric v2 has no upgrade from rubric v2$"):
        carry_over(load_rubric("v2"), load_rubric("v2"), {})


def test_the_carry_over_module_needs_no_django():
    code = (
        "import json, sys, assessments.lanes.upgrade; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(completed.stdout) == []


# --- The service ------------------------------------------------------------------------


def snapshot_of(assessment: Assessment) -> tuple:
    """Everything of an assessment a re-assessment must leave alone."""
    return (
        Assessment.objects.filter(pk=assessment.pk).values().get(),
        list(Answer.objects.filter(assessment=assessment).order_by("id").values()),
        list(assessment.share_links.order_by("id").values()),
    )


@pytest.mark.django_db
def test_reassessing_starts_a_v2_assessment_from_the_v1_answers_and_records_where(
    project, complete_assessment
):
    share, _ = create_share_link(complete_assessment, label="for the board")
    before = snapshot_of(complete_assessment)
    v1_answers = stored_answers(complete_assessment)

    new = start_assessment(project, source=loaded(complete_assessment))

    assert new.rubric_version == CURRENT_VERSION == "v2"
    assert new.project_id == project.pk
    assert Assessment.objects.get(pk=new.pk).carried_from_id == complete_assessment.pk
    assert stored_answers(new) == answers_per_spec(v1_answers)
    assert snapshot_of(complete_assessment) == before  # answers, updated_at, share links
    assert Project.objects.with_assessments().get(pk=project.pk).current_assessment == new


@pytest.mark.django_db
def test_reassessing_an_older_v1_assessment_starts_from_that_one(project, complete_answers):
    older = V1AssessmentFactory(project=project, answers=complete_answers)
    V1AssessmentFactory(project=project, answers={"latency": "batch"})

    new = start_assessment(project, source=loaded(older))

    assert new.carried_from_id == older.pk
    assert stored_answers(new) == answers_per_spec(complete_answers)


@pytest.mark.django_db
def test_a_new_assessment_from_a_v2_one_copies_its_answers_as_they_are(project):
    v2_answers = load_scenarios(SCENARIOS_V2_FILE)[0]["answers"]
    first = AssessmentFactory(project=project, answers=v2_answers)

    second = start_assessment(project)

    assert second.carried_from_id == first.pk
    assert stored_answers(second) == stored_answers(first) == v2_answers


@pytest.mark.django_db
def test_a_new_assessment_without_a_source_starts_empty_and_from_nothing(project):
    V1AssessmentFactory(project=project, answers={"latency": "batch"})

    new = start_assessment(project, copy_current=False)

    assert new.carried_from is None
    assert stored_answers(new) == {}


@pytest.mark.django_db
def test_a_source_from_another_project_is_refused(project, complete_assessment):
    other = ProjectFactory(owner=project.owner, name="Other")

    with pytest.raises(ValueError, match="own project"):
        start_assessment(other, source=loaded(complete_assessment))

    assert not other.assessments.exists()


@pytest.mark.django_db
def test_reassessing_is_one_transaction(project, complete_assessment, monkeypatch):
    before = snapshot_of(complete_assessment)
    count = Assessment.objects.count()

    def fail(*args, **kwargs):
        raise RuntimeError("the answers could not be written")

    monkeypatch.setattr(Answer.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        start_assessment(project, source=loaded(complete_assessment))

    assert Assessment.objects.count() == count  # no half-made assessment is left
    assert snapshot_of(complete_assessment) == before


@pytest.mark.django_db
def test_changing_the_reassessed_answers_leaves_the_v1_assessment_alone(
    project, complete_assessment
):
    before = snapshot_of(complete_assessment)
    new = start_assessment(project, source=loaded(complete_assessment))

    set_answers(new, {"latency": "batch", "prompt_baseline": "far"})

    assert snapshot_of(complete_assessment) == before
    assert evaluate_assessment(loaded(complete_assessment)).result.rubric_version == "v1"


@pytest.mark.django_db
def test_a_reassessed_assessment_refuses_every_save(project, complete_assessment):
    successor, created = reassess(loaded(complete_assessment))
    budget = load_rubric("v1").questions["budget"]
    changes = parse_question(budget, ["limited"], loaded(complete_assessment).answer_values)

    with pytest.raises(AnswersFrozen) as frozen:
        save_answers(loaded(complete_assessment), changes)

    assert created and frozen.value.successor == successor
    assert reassessed_as(loaded(complete_assessment)) == successor


@pytest.mark.django_db
def test_reassessing_the_same_assessment_again_returns_the_first_reassessment(
    project, complete_assessment
):
    first, created = reassess(loaded(complete_assessment))
    again, created_again = reassess(loaded(complete_assessment))

    assert (created, created_again) == (True, False)
    assert again == first
    assert project.assessments.count() == 2


@pytest.mark.django_db
def test_a_v2_assessment_copied_into_a_new_one_stays_editable(project):
    """Only re-assessing on a newer rubric freezes: a fresh start from a v2 assessment does not."""
    v2 = AssessmentFactory(project=project, answers={"latency": "batch"})
    start_assessment(project, source=loaded(v2))

    assert reassessed_as(v2) is None
    changes = parse_question(load_rubric("v2").questions["budget"], ["limited"], {})
    assert save_answers(loaded(v2), changes)
