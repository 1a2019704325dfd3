"""The spec's worked scenarios as read-only example projects (owned by no user)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from assessments.models import Answer, Assessment, Project
from assessments.rubric import CURRENT_VERSION, load_rubric
from assessments.services import evaluate_assessment
from assessments.validation import clean_answers

SCENARIOS_FILE = Path(__file__).resolve().parent / "data" / "scenarios.json"


def load_scenarios(path: Path = SCENARIOS_FILE) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["scenarios"]


@transaction.atomic
def load_examples(path: Path = SCENARIOS_FILE) -> tuple[int, int]:
    """Create or refresh one example project per scenario. Returns (created, updated)."""
    created = updated = 0
    for scenario in load_scenarios(path):
        project, is_new = Project.objects.update_or_create(
            example_key=scenario["id"],
            defaults={
                "name": scenario["title"],
                "description": f"Worked example “{scenario['id']}” from the decision framework.",
                "is_example": True,
                "owner": None,
            },
        )
        assessment = project.assessments.with_answers().first()
        # Checked like any other answers: a bad scenario file fails loudly, naming the question.
        answers = clean_answers(scenario["answers"], load_rubric(CURRENT_VERSION))
        if assessment is not None and (
            assessment.rubric_version == CURRENT_VERSION and assessment.answer_values == answers
        ):
            continue
        # The answers' time dates the example's report and memo.
        if assessment is None:
            assessment = Assessment.objects.create(
                project=project, answers_changed_at=timezone.now()
            )
        else:
            assessment.answers.all().delete()
            assessment.rubric_version = CURRENT_VERSION
            assessment.answers_changed_at = timezone.now()
            assessment.save(update_fields=["rubric_version", "answers_changed_at", "updated_at"])
        Answer.objects.bulk_create(
            Answer(assessment=assessment, question_id=q, value=v) for q, v in answers.items()
        )
        created += is_new
        updated += not is_new
    return created, updated


def example_gallery() -> list[dict[str, Any]]:
    gallery = []
    for project in Project.objects.examples().order_by("id").with_assessments():
        assessment = project.current_assessment
        if assessment is None:
            continue
        evaluation = evaluate_assessment(assessment, include_flips=False)
        gallery.append({"project": project, "result": evaluation.result})
    return gallery
