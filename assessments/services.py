"""The writes that span models, each in one transaction, and scoring stored assessments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from assessments.models import Answer, Assessment, Project
from assessments.rubric import Rubric, load_rubric
from assessments.scoring import Result, score
from assessments.validation import InvalidAnswers, Problem, check_answer, validate_answers


@dataclass(frozen=True)
class Evaluation:
    """Where a (possibly unfinished) assessment stands."""

    rubric: Rubric
    answers: dict[str, Any]
    missing: list[str]  # required questions not answered yet
    problems: list[Problem]  # e.g. "nothing to solve yet"
    result: Result | None  # only when complete and valid

    @property
    def answered_required(self) -> int:
        return len(self.rubric.required_ids) - len(self.missing)


def evaluate(answers: dict[str, Any], rubric: Rubric) -> Evaluation:
    clean, problems = validate_answers(answers, rubric, require_complete=False)
    missing = [q for q in rubric.required_ids if q not in clean]
    result = score(clean, rubric) if not problems and not missing else None
    return Evaluation(rubric, clean, missing, problems, result)


def evaluate_assessment(assessment: Assessment) -> Evaluation:
    return evaluate(assessment.answers_dict(), load_rubric(assessment.rubric_version))


def _touch(assessment: Assessment) -> None:
    now = timezone.now()
    Assessment.objects.filter(pk=assessment.pk).update(answers_changed_at=now, updated_at=now)
    Project.objects.filter(pk=assessment.project_id).update(updated_at=now)
    assessment.answers_changed_at = assessment.updated_at = now


def save_answer(assessment: Assessment, question_id: str, value: Any) -> None:
    """Save (or clear, with None) one answer; other questions are never touched."""
    rubric = load_rubric(assessment.rubric_version)
    question = rubric.questions.get(question_id)
    if question is None:
        raise InvalidAnswers([Problem(question_id, "unknown question id")])
    with transaction.atomic():
        if value is None:
            Answer.objects.filter(assessment=assessment, question_id=question_id).delete()
        else:
            clean, message = check_answer(question, value)
            if message:
                raise InvalidAnswers([Problem(question_id, message)])
            Answer.objects.update_or_create(
                assessment=assessment, question_id=question_id, defaults={"value": clean}
            )
        _touch(assessment)


def save_answers(assessment: Assessment, answers: dict[str, Any]) -> None:
    """Save several answers at once: all valid, or nothing is written."""
    rubric = load_rubric(assessment.rubric_version)
    clean, problems = validate_answers(answers, rubric, require_complete=False)
    if problems:
        raise InvalidAnswers(problems)
    with transaction.atomic():
        for question_id, value in clean.items():
            Answer.objects.update_or_create(
                assessment=assessment, question_id=question_id, defaults={"value": value}
            )
        _touch(assessment)


@transaction.atomic
def start_assessment(project: Project, *, copy_current: bool = True) -> Assessment:
    """A new assessment under the current rubric, pre-filled with the current answers."""
    previous = project.current_assessment() if copy_current else None
    assessment = Assessment.objects.create(project=project)
    if previous is not None:
        rubric = load_rubric(assessment.rubric_version)
        # Answers that the current rubric no longer accepts are left for the user to redo.
        carried, _ = validate_answers(
            {k: v for k, v in previous.answers_dict().items() if k in rubric.questions},
            rubric,
            require_complete=False,
        )
        Answer.objects.bulk_create(
            Answer(assessment=assessment, question_id=q, value=v) for q, v in carried.items()
        )
        if carried:
            _touch(assessment)
    return assessment
