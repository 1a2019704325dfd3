"""The spec's worked scenarios as read-only example projects (owned by no user).

Each scenario file names the rubric its answers are scored under (`rubric_version`; the
original file, without one, is v1). The examples are examples of their rubric, whatever
rubric new assessments use (CURRENT_VERSION), so they are loaded under the file's version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from assessments.models import Answer, Assessment, Project
from assessments.rubric import load_rubric
from assessments.services import evaluate_assessment
from assessments.validation import clean_answers

DATA_DIR = Path(__file__).resolve().parent / "data"
SCENARIOS_FILE = DATA_DIR / "scenarios.json"
SCENARIOS_V2_FILE = DATA_DIR / "scenarios-v2.json"
# What `load_examples` (and so `make run`) loads when given no file.
EXAMPLE_FILES = (SCENARIOS_FILE, SCENARIOS_V2_FILE)
# A scenario file without `rubric_version` holds the original (v1) worked cases.
DEFAULT_SCENARIO_VERSION = "v1"


def read_scenario_file(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(the rubric version the file's answers are under, its scenarios)."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return data.get("rubric_version", DEFAULT_SCENARIO_VERSION), data["scenarios"]


def load_scenarios(path: Path = SCENARIOS_FILE) -> list[dict[str, Any]]:
    return read_scenario_file(path)[1]


@transaction.atomic
def load_examples(*paths: Path) -> tuple[int, int]:
    """Create or refresh one example project per scenario of each file (by default every
    file of EXAMPLE_FILES). Returns (created, updated); unchanged examples are left alone."""
    created = updated = 0
    for path in paths or EXAMPLE_FILES:
        file_created, file_updated = _load_file(path)
        created += file_created
        updated += file_updated
    return created, updated


def _load_file(path: Path) -> tuple[int, int]:
    version, scenarios = read_scenario_file(path)
    rubric = load_rubric(version)
    created = updated = 0
    for scenario in scenarios:
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
        answers = clean_answers(scenario["answers"], rubric)
        if assessment is not None and (
            assessment.rubric_version == version and assessment.answer_values == answers
        ):
            continue
        # The answers' time dates the example's report and memo.
        if assessment is None:
            assessment = Assessment.objects.create(
                project=project, rubric_version=version, answers_changed_at=timezone.now()
            )
        else:
            assessment.answers.all().delete()
            assessment.rubric_version = version
            assessment.answers_changed_at = timezone.now()
            assessment.save(update_fields=["rubric_version", "answers_changed_at", "updated_at"])
        Answer.objects.bulk_create(
            Answer(assessment=assessment, question_id=q, value=v) for q, v in answers.items()
        )
        created += is_new
        updated += not is_new
    return created, updated


def example_gallery() -> list[dict[str, Any]]:
    """Every example with its result (verdict, confidence, readiness) and rubric version:
    the newest rubric's examples first, each rubric's in the order they were loaded."""
    gallery = []
    for project in Project.objects.examples().order_by("id").with_assessments():
        assessment = project.current_assessment
        if assessment is None:
            continue
        evaluation = evaluate_assessment(assessment, include_flips=False)
        gallery.append(
            {
                "project": project,
                "result": evaluation.result,
                "rubric_version": assessment.rubric_version,
            }
        )
    versions = sorted({e["rubric_version"] for e in gallery}, key=_version_number, reverse=True)
    return sorted(gallery, key=lambda e: versions.index(e["rubric_version"]))


def _version_number(version: str) -> int:
    digits = "".join(ch for ch in version if ch.isdigit())
    return int(digits) if digits else 0
