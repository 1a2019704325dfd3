"""Export a project with all its assessments as JSON, and import it back, losslessly."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from assessments.estimator import (
    available_books,
    current_book_id,
    has_estimator,
    load_config,
    load_price_book,
)
from assessments.forms import SignOffForm
from assessments.milestones import result_summary
from assessments.models import (
    Answer,
    AnswerNote,
    Assessment,
    Milestone,
    Project,
    SignOff,
)
from assessments.rubric import WEB_VERSIONS, Rubric, load_rubric
from assessments.services import evaluate
from assessments.validation import (
    InvalidAnswers,
    Problem,
    shortened,
    validate_answers,
    validate_notes,
)

FORMAT = "advisor-project"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
FORMAT_VERSION = 1
MAX_ASSESSMENTS = 200
MAX_MILESTONES = 200  # per assessment
MAX_SIGN_OFFS = 500  # per milestone
# Per file: each milestone is scored on import and listed on the project page.
MAX_PROJECT_MILESTONES = 500
MAX_PROJECT_SIGN_OFFS = 2000


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _export_notes(notes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        q: {"text": n["text"], "not_applicable": n["not_applicable"]}
        for q, n in sorted(notes.items())
    }


def _export_milestone(milestone: Milestone) -> dict[str, Any]:
    """A milestone as it was copied, and the stakeholders' responses to it (their names are
    what they typed; no share links, no users)."""
    return {
        "name": milestone.name,
        "created_at": _iso(milestone.created_at),
        "project_name": milestone.project_name,
        "project_description": milestone.project_description,
        "rubric_version": milestone.rubric_version,
        "price_book": milestone.price_book,
        "assumptions": dict(sorted(milestone.assumptions.items())),
        "answers": dict(sorted(milestone.answers.items())),
        "notes": _export_notes(milestone.notes),
        "answers_changed_at": _iso(milestone.answers_changed_at),
        "accepted_at": _iso(milestone.accepted_at),
        "sign_offs": [
            {
                "name": sign_off.name,
                "role": sign_off.role,
                "decision": sign_off.decision,
                "comment": sign_off.comment,
                "created_at": _iso(sign_off.created_at),
            }
            for sign_off in milestone.sign_offs.all()
        ],
    }


def export_project(project: Project) -> dict[str, Any]:
    """Everything a project holds, in the order its assessments were made (oldest first),
    with their notes, milestones and the responses to them; no ids, owners, members or share
    links. By id, not created_at: an import may set any created_at, and a re-assessment must
    come after the assessment it started from (carried_from)."""
    milestones = Prefetch(
        "milestones",
        queryset=Milestone.objects.order_by("id").prefetch_related(
            Prefetch("sign_offs", queryset=SignOff.objects.order_by("id"))
        ),
    )
    assessments = list(
        project.assessments.with_answers().prefetch_related(milestones).order_by("id")
    )
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
                "notes": _export_notes(assessment.note_values),
                # Run the numbers: the price book it is estimated with, the owner's edits.
                "price_book": assessment.price_book,
                "assumptions": dict(sorted(assessment.assumptions.items())),
                # Where a re-assessment started: the index of that earlier assessment here.
                "carried_from": position.get(assessment.carried_from_id),
                "milestones": [_export_milestone(m) for m in assessment.milestones.all()],
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


def _answered_state(
    raw: dict[str, Any], where: str, problems: list[Problem]
) -> tuple[str, Rubric, dict[str, Any], str, dict[str, Any]] | None:
    """What an exported assessment and an exported milestone both hold: a rubric version, the
    answers under it, a price book and assumption edits, checked as the app checks them; None
    (with the problem) when the rubric version is unknown."""
    version = raw.get("rubric_version")
    if version not in WEB_VERSIONS:
        known = ", ".join(WEB_VERSIONS)
        problems.append(
            Problem(f"{where}.rubric_version", f"must be one of {known}, not {str(version)[:20]!r}")
        )
        return None
    rubric = load_rubric(version)
    answers, answer_problems = validate_answers(
        raw.get("answers", {}), rubric, require_complete=False
    )
    problems += [Problem(f"{where}.answers.{p.question}", p.message) for p in answer_problems]
    price_book, assumptions = _numbers_settings(raw, version, where, problems)
    return version, rubric, answers, price_book, assumptions


def _check_assessment(index: int, raw: Any, problems: list[Problem]) -> dict[str, Any]:
    where = f"assessments[{index}]"
    if not isinstance(raw, dict):
        problems.append(Problem(where, "must be an object"))
        return {}
    state = _answered_state(raw, where, problems)
    if state is None:
        return {}
    version, rubric, answers, price_book, assumptions = state
    raw_milestones = raw.get("milestones", [])
    if not isinstance(raw_milestones, list) or len(raw_milestones) > MAX_MILESTONES:
        problems.append(
            Problem(f"{where}.milestones", f"must be a list of at most {MAX_MILESTONES}")
        )
        raw_milestones = []
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
        "notes": _notes(raw.get("notes", {}), rubric, answers, where, problems),
        "milestones": [
            _check_milestone(f"{where}.milestones[{i}]", m, problems)
            for i, m in enumerate(raw_milestones)
        ],
    }


def _notes(
    raw: Any, rubric: Rubric, answers: dict[str, Any], where: str, problems: list[Problem]
) -> dict[str, dict[str, Any]]:
    """Notes checked as the questionnaire checks them (validation.validate_notes); a question
    that does not apply has no answer."""
    notes, note_problems = validate_notes(raw, rubric)
    problems += [Problem(f"{where}.notes.{p.question}", p.message) for p in note_problems]
    problems += [
        Problem(f"{where}.notes.{q}", "is marked “does not apply” but is answered")
        for q, note in notes.items()
        if note["not_applicable"] and q in answers
    ]
    return notes


def _check_milestone(where: str, raw: Any, problems: list[Problem]) -> dict[str, Any]:
    """A milestone of an export, checked like an assessment. Its result is not read from the
    file but scored again from its answers, so an edited file cannot forge a verdict."""
    if not isinstance(raw, dict):
        problems.append(Problem(where, "must be an object"))
        return {}
    before = len(problems)
    state = _answered_state(raw, where, problems)
    if state is None:
        return {}
    version, rubric, answers, price_book, assumptions = state
    raw_sign_offs = raw.get("sign_offs", [])
    if not isinstance(raw_sign_offs, list) or len(raw_sign_offs) > MAX_SIGN_OFFS:
        problems.append(Problem(f"{where}.sign_offs", f"must be a list of at most {MAX_SIGN_OFFS}"))
        raw_sign_offs = []
    milestone = {
        "name": _text(raw.get("name"), f"{where}.name", 120, problems, required=True),
        # Without them (an export from before milestones kept them): the project's, on import.
        "project_name": _text(
            raw["project_name"], f"{where}.project_name", 120, problems, required=True
        )
        if "project_name" in raw
        else None,
        "project_description": _text(
            raw["project_description"],
            f"{where}.project_description",
            4000,
            problems,
            required=False,
        )
        if "project_description" in raw
        else None,
        "created_at": _timestamp(raw.get("created_at"), f"{where}.created_at", problems),
        "rubric_version": version,
        "price_book": price_book,
        "assumptions": assumptions,
        "answers": answers,
        "notes": _notes(raw.get("notes", {}), rubric, answers, where, problems),
        "answers_changed_at": _timestamp(
            raw.get("answers_changed_at"), f"{where}.answers_changed_at", problems
        ),
        "accepted_at": _timestamp(raw.get("accepted_at"), f"{where}.accepted_at", problems),
        "sign_offs": [
            _check_sign_off(f"{where}.sign_offs[{i}]", s, problems)
            for i, s in enumerate(raw_sign_offs)
        ],
    }
    if len(problems) == before:
        milestone["result"] = result_summary(evaluate(answers, rubric, include_flips=False))
    return milestone


def _check_sign_off(where: str, raw: Any, problems: list[Problem]) -> dict[str, Any]:
    """A response checked by the form a reader fills in (the one place that validates it)."""
    if not isinstance(raw, dict):
        problems.append(Problem(where, "must be an object"))
        return {}
    fields = ("name", "role", "decision", "comment")
    form = SignOffForm(
        {field: raw.get(field, "") if isinstance(raw.get(field, ""), str) else None
         for field in fields}
    )  # fmt: skip
    created_at = _timestamp(raw.get("created_at"), f"{where}.created_at", problems)
    if not form.is_valid():
        problems += [
            Problem(f"{where}.{field}", " ".join(errors)) for field, errors in form.errors.items()
        ]
        return {}
    return {field: form.cleaned_data[field] for field in fields} | {"created_at": created_at}


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


def _lists(items: list[Any], key: str) -> list[list[Any]]:
    return [
        item[key] for item in items if isinstance(item, dict) and isinstance(item.get(key), list)
    ]


def _too_many_milestones(raw_assessments: list[Any], problems: list[Problem]) -> bool:
    """Whether the whole file holds more milestones or responses than a project may (checked
    before any of them is scored)."""
    milestones = [m for listed in _lists(raw_assessments, "milestones") for m in listed]
    sign_offs = sum(len(listed) for listed in _lists(milestones, "sign_offs"))
    if len(milestones) > MAX_PROJECT_MILESTONES:
        problems.append(
            Problem("assessments", f"must hold at most {MAX_PROJECT_MILESTONES} milestones in all")
        )
    if sign_offs > MAX_PROJECT_SIGN_OFFS:
        problems.append(
            Problem("assessments", f"must hold at most {MAX_PROJECT_SIGN_OFFS} responses in all")
        )
    return bool(problems)


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
    if _too_many_milestones(raw_assessments, problems):
        raise InvalidAnswers(problems)
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


def _import_milestone(assessment: Assessment, item: dict[str, Any]) -> None:
    """A milestone and its responses, marked as imported (they were not made or given here)."""
    sign_offs = item.pop("sign_offs")
    created_at = item.pop("created_at") or timezone.now()
    project = assessment.project
    if item["project_name"] is None:
        item["project_name"] = project.name
    if item["project_description"] is None:
        item["project_description"] = project.description
    milestone = Milestone.objects.create(
        assessment=assessment,
        created_at=created_at,
        origin=Milestone.Origin.IMPORTED,
        **item,
    )
    SignOff.objects.bulk_create(
        SignOff(
            milestone=milestone,
            imported=True,
            name=s["name"],
            role=s["role"],
            decision=s["decision"],
            comment=s["comment"],
            created_at=s["created_at"] or created_at,
        )
        for s in sign_offs
    )


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
        AnswerNote.objects.bulk_create(
            AnswerNote(assessment=assessment, question_id=q, **note)
            for q, note in item["notes"].items()
        )
        Assessment.objects.filter(pk=assessment.pk).update(
            created_at=item["created_at"] or assessment.created_at,
            answers_changed_at=item["answers_changed_at"],
        )
        for milestone in item["milestones"]:
            _import_milestone(assessment, milestone)
    project.refresh_from_db()
    return project
