"""Milestones: immutable, named, dated copies of an assessment as it stood."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from assessments.models import Assessment, Milestone
from assessments.services import Evaluation, evaluate_assessment

NAME_MAX_LENGTH = Milestone._meta.get_field("name").max_length


def result_summary(evaluation: Evaluation) -> dict[str, Any] | None:
    """What a list or a comparison of milestones shows without scoring again: the verdict
    with its label, lanes (rubric v2), readiness and confidence, labelled by the rubric."""
    result, rubric = evaluation.result, evaluation.rubric
    if result is None:
        return None
    lanes = getattr(result, "lanes", None)
    return {
        "verdict": result.verdict,
        "label": rubric.result_label(result),
        "lanes": dict(lanes) if lanes else None,
        "readiness": result.readiness,
        "readiness_label": rubric.readiness_label(result.readiness),
        "confidence": result.confidence,
        "confidence_label": rubric.confidence_label(result.confidence),
    }


def default_name(moment=None) -> str:
    when = timezone.localtime(moment or timezone.now())
    return f"Milestone of {date_format(when, 'j M Y, H:i')}"


@transaction.atomic
def create_milestone(assessment: Assessment, *, name: str = "", by=None) -> Milestone:
    """A milestone of the assessment as it is stored now: its row is locked (as a save locks
    it) and its answers and notes are read under the lock, so the copy is one state of the
    assessment, never half of a concurrent save."""
    Assessment.objects.select_for_update().filter(pk=assessment.pk).first()
    current = Assessment.objects.with_answers().get(pk=assessment.pk)
    now = timezone.now()
    return Milestone.objects.create(
        assessment=current,
        name=(name.strip() or default_name(now))[:NAME_MAX_LENGTH],
        created_at=now,
        created_by=by if getattr(by, "is_authenticated", False) else None,
        rubric_version=current.rubric_version,
        price_book=current.price_book,
        assumptions=dict(current.assumptions),
        answers=current.answer_values,
        notes=current.note_values,
        answers_changed_at=current.answers_changed_at or current.created_at,
        result=result_summary(evaluate_assessment(current, include_flips=False)),
    )


def same_content(milestone: Milestone, assessment: Assessment) -> bool:
    """Whether the assessment (loaded with answers) still holds what the milestone copied:
    nothing that changes the report was edited since."""
    return (
        milestone.assessment_id == assessment.pk
        and milestone.answers == assessment.answer_values
        and milestone.notes == assessment.note_values
        and milestone.assumptions == assessment.assumptions
        and milestone.price_book == assessment.price_book
    )
