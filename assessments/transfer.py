"""Export a project with all its assessments as JSON, and import it back, losslessly."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from assessments.estimator import (
    available_books,
    current_book_id,
    has_estimator,
    load_config,
    load_price_book,
)
from assessments.models import Answer, Assessment, Project
from assessments.rubric import WEB_VERSIONS, load_rubric
from assessments.validation import InvalidAnswers, Problem, shortened, validate_answers

FORMAT = "advisor-project"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
FORMAT_VERSION = 1
MAX_ASSESSMENTS = 200


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_project(project: Project) -> dict[str, Any]:
    """Everything a project holds, in the order its assessments were made (oldest first); no
    ids, owners or share links. By id, not created_at: an import may set any created_at, and
    a re-assessment must come after the assessment it started from (carried_from)."""
    assessments = list(project.assessments.with_answers().order_by("id"))
    position = {assessment.pk: index for index, assessment in enumerate(assessments)}
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "project": {
            "name": project.name,
            "description": project.description,
            "created_at": _iso(project.created_at),
        },
        "assessments": [
            {
                "rubric_version": assessment.rubric_version,
                "created_at": _iso(assessment.created_at),
                "answers_changed_at": _iso(assessment.answers_changed_at),
                "answers": dict(sorted(assessment.answer_values.items())),
                # Run the numbers: the price book it is estimated with, the owner's edits.
                "price_book": assessment.price_book,
                "assumptions": dict(sorted(assessment.assumptions.items())),
                # Where a re-assessment started: the index of that earlier assessment here.
                "carried_from": position.get(assessment.carried_from_id),
            }
            for assessment in assessments
        ],
    }


def _timestamp(raw: Any, where: str, problems: list[Problem]) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        problems.append(Problem(where, "must be an ISO 8601 date and time"))
        return None
    moment = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    try:
        moment.astimezone(UTC)  # year 1 at +01:00 does not exist in UTC
    except OverflowError:
        problems.append(Problem(where, "must be an ISO 8601 date and time"))
        return None
    return moment


def _text(raw: Any, where: str, limit: int, problems: list[Problem], *, required: bool) -> str:
    if not isinstance(raw, str) or (required and not raw.strip()) or len(raw) > limit:
        problems.append(Problem(where, f"must be text of at most {limit} characters"))
        return ""
    # The forms refuse NUL and PostgreSQL cannot store it; JSON's "\ud800" has no UTF-8 form.
    if "\x00" in raw or _LONE_SURROGATE.search(raw):
        problems.append(
            Problem(where, "must not contain a NUL or an unpaired surrogate (\\u0000, \\ud800)")
        )
        return ""
    return raw


def _earlier_index(raw: Any, index: int, where: str, problems: list[Problem]) -> int | None:
    """`carried_from` names an assessment listed before this one (or none)."""
    if raw is None:
        return None
    if type(raw) is not int or not 0 <= raw < index:
        problems.append(
            Problem(
                f"{where}.carried_from",
                "must be the position of an assessment listed before this one, counting from 0",
            )
        )
        return None
    return raw


def _check_assessment(index: int, raw: Any, problems: list[Problem]) -> dict[str, Any]:
    where = f"assessments[{index}]"
    if not isinstance(raw, dict):
        problems.append(Problem(where, "must be an object"))
        return {}
    version = raw.get("rubric_version")
    if version not in WEB_VERSIONS:
        known = ", ".join(WEB_VERSIONS)
        problems.append(
            Problem(f"{where}.rubric_version", f"must be one of {known}, not {str(version)[:20]!r}")
        )
        return {}
    answers, answer_problems = validate_answers(
        raw.get("answers", {}), load_rubric(version), require_complete=False
    )
    problems += [Problem(f"{where}.answers.{p.question}", p.message) for p in answer_problems]
    price_book, assumptions = _numbers_settings(raw, version, where, problems)
    return {
        "rubric_version": version,
        "price_book": price_book,
        "assumptions": assumptions,
        "carried_from": _earlier_index(raw.get("carried_from"), index, where, problems),
        "created_at": _timestamp(raw.get("created_at"), f"{where}.created_at", problems),
        "answers_changed_at": _timestamp(
            raw.get("answers_changed_at"), f"{where}.answers_changed_at", problems
        ),
        "answers": answers,
    }


def _numbers_settings(
    raw: dict[str, Any], version: str, where: str, problems: list[Problem]
) -> tuple[str, dict[str, Any]]:
    """The price book and assumption edits of an exported assessment (both optional: an
    export made before Run the numbers has neither), checked as the page checks them."""
    book_id = raw.get("price_book", current_book_id())
    if book_id not in available_books():
        known = ", ".join(available_books())
        problems.append(Problem(f"{where}.price_book", f"must be one of {known}"))
        return current_book_id(), {}
    edits = raw.get("assumptions", {})
    if not isinstance(edits, dict):
        problems.append(Problem(f"{where}.assumptions", "must be an object"))
        return book_id, {}
    if not edits:
        return book_id, {}
    if not has_estimator(version):
        problems.append(Problem(f"{where}.assumptions", f"rubric {version} has no estimate"))
        return book_id, {}
    config = load_config(version)
    values, errors = config.parse_edits(edits, load_price_book(book_id))
    problems += [Problem(f"{where}.assumptions.{key}", message) for key, message in errors.items()]
    problems += [
        Problem(f"{where}.assumptions.{shortened(str(key))}", "unknown assumption")
        for key in edits
        if key not in config.assumptions
    ]
    return book_id, values


def parse_export(data: Any) -> dict[str, Any]:
    """A checked export, or InvalidAnswers listing every problem."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidAnswers([Problem("file", "is not an Advisor project export")])
    if data.get("version") != FORMAT_VERSION:
        raise InvalidAnswers([Problem("version", f"must be {FORMAT_VERSION}")])
    problems: list[Problem] = []
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    raw_assessments = data.get("assessments")
    if not isinstance(raw_assessments, list) or len(raw_assessments) > MAX_ASSESSMENTS:
        problems.append(Problem("assessments", f"must be a list of at most {MAX_ASSESSMENTS}"))
        raw_assessments = []
    parsed = {
        "name": _text(project.get("name"), "project.name", 120, problems, required=True),
        "description": _text(
            project.get("description", ""), "project.description", 4000, problems, required=False
        ),
        "created_at": _timestamp(project.get("created_at"), "project.created_at", problems),
        "assessments": [_check_assessment(i, a, problems) for i, a in enumerate(raw_assessments)],
    }
    if problems:
        raise InvalidAnswers(problems)
    return parsed


@transaction.atomic
def import_project(owner, data: Any) -> Project:
    """A new project for `owner` from an export; all of it, or nothing."""
    parsed = parse_export(data)
    project = Project.objects.create(
        owner=owner, name=parsed["name"], description=parsed["description"]
    )
    if parsed["created_at"]:
        Project.objects.filter(pk=project.pk).update(created_at=parsed["created_at"])
    created: list[Assessment] = []
    for item in parsed["assessments"]:
        source = None if item["carried_from"] is None else created[item["carried_from"]]
        assessment = Assessment.objects.create(
            project=project,
            rubric_version=item["rubric_version"],
            carried_from=source,
            price_book=item["price_book"],
            assumptions=item["assumptions"],
        )
        created.append(assessment)
        Answer.objects.bulk_create(
            Answer(assessment=assessment, question_id=q, value=v)
            for q, v in item["answers"].items()
        )
        Assessment.objects.filter(pk=assessment.pk).update(
            created_at=item["created_at"] or assessment.created_at,
            answers_changed_at=item["answers_changed_at"],
        )
    project.refresh_from_db()
    return project
