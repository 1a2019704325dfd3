"""The one place that decides whether answers are acceptable.

Forms, the `score` command and imports all call this module, so a given input is accepted or
rejected the same way everywhere. Each problem names its question. No Django imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assessments.rubric import NONE_CHOICE, Question, Rubric

NOTHING_TO_SOLVE = (
    "nothing to solve yet: you said the model needs no new knowledge and no new behaviour; "
    "pick at least one need in either question"
)
MAX_MONTHLY_QUERIES = 10**12


@dataclass(frozen=True)
class Problem:
    question: str  # a question id, or "answers" for the input as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.question}: {self.message}"


class InvalidAnswers(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _choices_text(question: Question) -> str:
    return ", ".join(question.choice_ids)


def check_answer(question: Question, value: Any) -> tuple[Any, str | None]:
    """One answer: (clean value, None) or (None, message)."""
    if question.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"must be a whole number, got {type(value).__name__} {value!r}"
        if not 0 <= value <= MAX_MONTHLY_QUERIES:
            return None, f"must be between 0 and {MAX_MONTHLY_QUERIES:,}, got {value}"
        return value, None
    if question.kind == "single":
        if not isinstance(value, str):
            return None, f"must be one choice as a string ({_choices_text(question)})"
        if value not in question.choice_ids:
            return None, f"{value!r} is not a valid choice ({_choices_text(question)})"
        return value, None
    return _check_multi(question, value)


def _check_multi(question: Question, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None, f"must be a list of choices ({_choices_text(question)})"
    if not value:
        return None, f"pick at least one choice, or 'none' ({_choices_text(question)})"
    invalid = [item for item in value if item not in question.choice_ids]
    if invalid:
        shown = ", ".join(repr(item) for item in invalid)
        return None, f"{shown} not valid choices ({_choices_text(question)})"
    if NONE_CHOICE in value and len(set(value)) > 1:
        return None, "'none' cannot be combined with other choices"
    # Canonical order (the rubric's) so equal answers compare and hash equal.
    picked = set(value)
    return [choice for choice in question.choice_ids if choice in picked], None


def validate_answers(
    raw: Any, rubric: Rubric, *, require_complete: bool = True
) -> tuple[dict[str, Any], list[Problem]]:
    """Clean answers and the list of problems; the clean dict is only usable if no problems.

    With require_complete=False (a draft being filled in), missing answers are fine but every
    given answer must be valid.
    """
    if not isinstance(raw, Mapping):
        return {}, [Problem("answers", "must be an object mapping question ids to answers")]
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    for question_id, value in raw.items():
        question = rubric.questions.get(question_id)
        if question is None:
            problems.append(Problem(str(question_id), "unknown question id"))
            continue
        if value is None and not question.required:
            continue
        cleaned, message = check_answer(question, value)
        if message:
            problems.append(Problem(question_id, message))
        else:
            clean[question_id] = cleaned
    if require_complete:
        problems += [
            Problem(question_id, "is required but was not answered")
            for question_id in rubric.required_ids
            if question_id not in clean and question_id not in raw
        ]
    return clean, problems + combination_problems(clean)


def combination_problems(answers: Mapping[str, Any]) -> list[Problem]:
    """Problems no single answer has on its own."""
    needs = (answers.get("knowledge_needs"), answers.get("behavior_needs"))
    if needs == ([NONE_CHOICE], [NONE_CHOICE]):
        return [Problem("knowledge_needs", NOTHING_TO_SOLVE)]
    return []


def clean_answers(raw: Any, rubric: Rubric) -> dict[str, Any]:
    """Complete, valid answers, or InvalidAnswers listing every problem."""
    clean, problems = validate_answers(raw, rubric)
    if problems:
        raise InvalidAnswers(problems)
    return clean


def parse_form_value(question: Question, values: list[str]) -> tuple[Any, str | None]:
    """Turn submitted form strings into an answer value and check it.

    Returns (None, None) when the question was left empty.
    """
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return None, None
    if question.kind == "multi":
        return check_answer(question, values)
    if len(values) > 1:
        return None, "choose only one answer"
    if question.kind == "integer":
        text = values[0].replace(",", "").replace("_", "")
        if not (text.isascii() and text.isdigit()):
            return None, "enter a whole number of queries, e.g. 50000"
        if len(text.lstrip("0")) > len(str(MAX_MONTHLY_QUERIES)):  # before int(): no huge parse
            return None, f"must be between 0 and {MAX_MONTHLY_QUERIES:,}"
        return check_answer(question, int(text))
    return check_answer(question, values[0])


def parse_questionnaire(
    rubric: Rubric, data: Mapping[str, list[str]], current: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """A whole submitted questionnaire -> (changes, submitted values, errors by question).

    `changes` maps question ids to their new value, or None to clear an optional answer.
    A required answer cannot be cleared: leaving it empty after answering it is an error,
    so an accidental empty submission never loses an answer.
    """
    changes: dict[str, Any] = {}
    submitted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in rubric.questions.values():
        raw_values = list(data.get(question.id, []))
        value, message = parse_form_value(question, raw_values)
        if raw_values:
            submitted[question.id] = value if message is None else raw_values
        if message:
            errors[question.id] = message
        elif value is not None:
            if current.get(question.id) != value:
                changes[question.id] = value
        elif question.id in current:
            if question.required:
                errors[question.id] = "was answered before: choose an answer (it cannot be cleared)"
            else:
                changes[question.id] = None
    if not errors:
        merged = {k: v for k, v in {**current, **changes}.items() if v is not None}
        errors.update({p.question: p.message for p in combination_problems(merged)})
    return changes, submitted, errors
