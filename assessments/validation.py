"""The one place that decides whether answers are acceptable.

Forms, the `score` command and imports all call this module, so a given input is accepted or
rejected the same way everywhere. Each problem names its question. No Django imports.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assessments.rubric import NONE_CHOICE, Question, Rubric

NOTHING_TO_SOLVE = (
    "nothing to solve yet: you said the model needs no new knowledge and no new behaviour; "
    "pick at least one need in either question"
)
MAX_MONTHLY_QUERIES = 10**12
REQUIRED_NOT_ANSWERED = "is required but was not answered"


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


ECHO_LIMIT = 40


def shown(value: Any, limit: int = ECHO_LIMIT) -> str:
    """A value as echoed in a message: its repr, cut short so a huge answer never comes
    back whole (and a huge integer is never turned into its thousands of digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "a number too large to show"
    return shortened(_short_repr(value), limit)


def shortened(text: str, limit: int = ECHO_LIMIT) -> str:
    """Text echoed from the input, cut to `limit` characters, with a lone surrogate (JSON's
    "\ud800", which no page or terminal can encode) written as its escape."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_repr(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return repr(value)
    return f"a {type(value).__name__}"


def _choices_text(question: Question) -> str:
    """The choices as people read them (their labels), never their internal ids."""
    return "choose from: " + "; ".join(f"“{choice.label}”" for choice in question.choices)


def check_answer(question: Question, value: Any) -> tuple[Any, str | None]:
    """One answer: (clean value, None) or (None, message)."""
    if question.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"must be a whole number, got {type(value).__name__} {shown(value)}"
        if not 0 <= value <= MAX_MONTHLY_QUERIES:
            return None, f"must be between 0 and {MAX_MONTHLY_QUERIES:,}, got {shown(value)}"
        return value, None
    if question.kind == "single":
        if not isinstance(value, str):
            return None, f"must be one choice ({_choices_text(question)})"
        if value not in question.choice_ids:
            return None, f"{shown(value)} is not a valid choice ({_choices_text(question)})"
        return value, None
    return _check_multi(question, value)


def _check_multi(question: Question, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None, f"must be a list of choices ({_choices_text(question)})"
    if not value:
        return None, f"pick at least one choice ({_choices_text(question)})"
    invalid = [item for item in value if item not in question.choice_ids]
    if invalid:
        listed = ", ".join(shown(item) for item in invalid[:5])
        more = f" and {len(invalid) - 5} more" if len(invalid) > 5 else ""
        return None, f"{listed}{more} not valid choices ({_choices_text(question)})"
    if NONE_CHOICE in value and len(set(value)) > 1:
        return None, f"“{question.label_for(NONE_CHOICE)}” cannot be combined with other choices"
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
            problems.append(Problem(shortened(str(question_id)), "unknown question id"))
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
            Problem(question_id, REQUIRED_NOT_ANSWERED)
            for question_id in asked_required_ids(rubric, clean)
            if question_id not in clean and question_id not in raw
        ]
    return clean, problems + combination_problems(clean)


class SingleChangeCheck:
    """What validate_answers would newly report if one answer of `answers` changed, without
    re-checking the answers that did not change: each answer's own check reads that answer
    alone, so a change can add only its own problem, a newly asked required question left
    unanswered, or a combination problem. Flips try dozens of changes per report."""

    def __init__(self, answers: Mapping[str, Any], rubric: Rubric):
        self.answers = answers
        self.rubric = rubric
        self.unanswered = set(unanswered_required_ids(rubric, answers))
        self.combination = combination_problems(answers)

    def problems(self, question_id: str, value: Any) -> list[Problem]:
        _, message = check_answer(self.rubric.questions[question_id], value)
        if message:
            return [Problem(question_id, message)]
        changed = {**self.answers, question_id: value}
        problems = [
            Problem(question, REQUIRED_NOT_ANSWERED)
            for question in self._unanswered_required_ids(changed, question_id)
            if question not in self.unanswered
        ]
        return problems + [p for p in combination_problems(changed) if p not in self.combination]

    def _unanswered_required_ids(self, changed: Mapping[str, Any], question_id: str) -> list[str]:
        if question_id not in gating_ids(self.rubric):
            return []  # the same questions are asked, and none is newly left unanswered
        return unanswered_required_ids(self.rubric, changed)


def gating_ids(rubric: Rubric) -> frozenset[str]:
    """The questions whose answer decides whether another is asked (see asked_ids)."""
    return getattr(rubric, "gating_ids", frozenset())


def unanswered_required_ids(rubric: Rubric, answers: Mapping[str, Any]) -> list[str]:
    """The required questions asked for these answers that they leave unanswered."""
    return [q for q in asked_required_ids(rubric, answers) if q not in answers]


def asked_ids(rubric: Rubric, answers: Mapping[str, Any]) -> tuple[str, ...]:
    """The questions asked for these answers: under a rubric with ask_if (v2), those whose
    ask_if holds; under one without, all of them."""
    by_ask_if = getattr(rubric, "asked_ids", None)
    return by_ask_if(answers) if by_ask_if else tuple(rubric.questions)


def asked_required_ids(rubric: Rubric, clean: Mapping[str, Any]) -> tuple[str, ...]:
    """The required questions asked (see asked_ids)."""
    asked = set(asked_ids(rubric, clean))
    return tuple(q for q in rubric.required_ids if q in asked)


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


@dataclass(frozen=True)
class AnswerChanges:
    """Checked changes to one assessment's answers: clean new values, and the optional
    questions to clear. Only this module makes them; services.save_answers takes them."""

    values: Mapping[str, Any]
    cleared: frozenset[str] = frozenset()


REQUIRED_NOT_CLEARED = "choose an answer (it cannot be cleared)"
NO_ANSWER = "choose an answer"
# What an empty answer means for an optional question: clear it.
CLEAR = object()


def _empty_answer(question: Question, answered: bool) -> tuple[Any, str | None]:
    """An answer left empty: an optional one is cleared; a required one that was answered
    cannot be (so an accidental empty submission never loses an answer); a required one
    never answered is simply still missing (None)."""
    if not question.required:
        return CLEAR, None
    return None, REQUIRED_NOT_CLEARED if answered else None


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
        significant = text.lstrip("0") or "0"  # int() refuses over 4,300 digits, zeros too
        if len(significant) > len(str(MAX_MONTHLY_QUERIES)):
            return None, f"must be between 0 and {MAX_MONTHLY_QUERIES:,}"
        return check_answer(question, int(significant))
    return check_answer(question, values[0])


def _form_answer(
    question: Question, values: list[str], current: Mapping[str, Any]
) -> tuple[Any, str | None]:
    """(clean value, CLEAR or None when nothing was given, error message or None)."""
    value, message = parse_form_value(question, values)
    if message is None and value is None:
        return _empty_answer(question, question.id in current)
    return value, message


def parse_question(
    question: Question, values: list[str], current: Mapping[str, Any]
) -> AnswerChanges:
    """One question as autosave submits it; InvalidAnswers names the problem."""
    value, message = _form_answer(question, values, current)
    if message is None and value is None:
        message = NO_ANSWER  # an autosave always means to answer
    if message:
        raise InvalidAnswers([Problem(question.id, message)])
    if value is CLEAR:
        return AnswerChanges({}, frozenset({question.id}))
    return AnswerChanges({question.id: value})


def parse_questionnaire(
    rubric: Rubric, data: Mapping[str, list[str]], current: Mapping[str, Any]
) -> tuple[AnswerChanges, dict[str, Any], dict[str, str]]:
    """A whole submitted questionnaire -> (changes, submitted values, errors by question).

    Only answers that differ from `current` become changes; a question left empty that was
    never answered changes nothing. The combination of the answers is checked where it is
    saved (services.save_answers), against the answers stored at that moment.
    """
    values: dict[str, Any] = {}
    cleared: set[str] = set()
    submitted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in rubric.questions.values():
        raw_values = list(data.get(question.id, []))
        value, message = _form_answer(question, raw_values, current)
        if raw_values:
            submitted[question.id] = raw_values if message else (None if value is CLEAR else value)
        if message:
            errors[question.id] = message
        elif value is CLEAR:
            if question.id in current:
                cleared.add(question.id)
        elif value is not None and current.get(question.id) != value:
            values[question.id] = value
    return AnswerChanges(values, frozenset(cleared)), submitted, errors


def changes_from_values(rubric: Rubric, raw: Mapping[str, Any]) -> AnswerChanges:
    """Typed answers (as in JSON; None to clear an optional one) -> changes, or
    InvalidAnswers listing every problem. None asks to clear, which a required answer never
    is, answered yet or not."""
    values, problems = validate_answers(
        {q: v for q, v in raw.items() if v is not None}, rubric, require_complete=False
    )
    cleared: set[str] = set()
    for question_id in sorted(q for q, v in raw.items() if v is None):
        question = rubric.questions.get(question_id)
        if question is None:
            problems.append(Problem(question_id, "unknown question id"))
            continue
        value, message = _empty_answer(question, answered=True)
        if message:
            problems.append(Problem(question_id, message))
        elif value is CLEAR:
            cleared.add(question_id)
    if problems:
        raise InvalidAnswers(problems)
    return AnswerChanges(values, frozenset(cleared))


NOTE_MAX_LENGTH = 2000
# Kept in multi-line text (notes, comments): line breaks (and tabs, as spaces); in one-line
# text (a name, a role, a label): nothing.
_KEPT_IN_COMMENTS = {"\n": "\n", "\t": " "}


def plain_text(value: str, *, multiline: bool = False) -> str:
    """Text as typed, without control or format characters (NUL, escapes, bidirectional
    overrides, zero-width joiners...) that would hide or reorder what others read; Windows
    line breaks become plain ones. What is left is shown escaped, never as HTML."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in value:
        if multiline and char in _KEPT_IN_COMMENTS:
            kept.append(_KEPT_IN_COMMENTS[char])
        elif unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}:
            kept.append("" if multiline or char not in "\t\n" else " ")
        else:
            kept.append(char)
    return "".join(kept).strip()


def check_note(
    question: Question, text: Any, not_applicable: Any
) -> tuple[dict[str, Any], str | None]:
    """A note on `question` as stored ({"text", "not_applicable"}), or the message saying
    why not: text of at most NOTE_MAX_LENGTH characters (plain_text: control and format
    characters other than line breaks dropped), and "does not apply" only for an optional
    question, with a reason."""
    if not isinstance(text, str) or not isinstance(not_applicable, bool):
        return {}, "a note must be text, and “does not apply” true or false"
    text = plain_text(text, multiline=True)
    if len(text) > NOTE_MAX_LENGTH:
        return {}, f"the note is {len(text):,} characters long; at most {NOTE_MAX_LENGTH:,} fit"
    if not_applicable and question.required:
        return {}, "is required, so it cannot be marked “does not apply”"
    if not_applicable and not text:
        return {}, "to mark it “does not apply”, say why in the note"
    return {"text": text, "not_applicable": not_applicable}, None


def validate_notes(raw: Any, rubric: Rubric) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Notes as exported ({question id: {"text", "not_applicable"}}), checked one by one with
    check_note; empty notes that do not mark anything are dropped."""
    if not isinstance(raw, Mapping):
        return {}, [Problem("notes", "must be an object mapping question ids to notes")]
    clean: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for question_id, note in raw.items():
        question = rubric.questions.get(question_id)
        if question is None:
            problems.append(Problem(shortened(str(question_id)), "unknown question id"))
            continue
        if not isinstance(note, Mapping):
            problems.append(Problem(question_id, "must be an object with text and not_applicable"))
            continue
        checked, message = check_note(
            question, note.get("text", ""), note.get("not_applicable", False)
        )
        if message:
            problems.append(Problem(question_id, message))
        elif checked["text"] or checked["not_applicable"]:
            clean[question_id] = checked
    return clean, problems


@dataclass(frozen=True)
class NoteChange:
    """A checked note on one question (see parse_note): empty text and not marked means
    "no note". Only this module makes them; services.save_note takes them."""

    question_id: str
    text: str = ""
    not_applicable: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "not_applicable": self.not_applicable}

    @property
    def is_empty(self) -> bool:
        return not self.text and not self.not_applicable


# A checkbox as a browser submits it when ticked ("on" without a value attribute).
TICKED = frozenset({"on", "1", "true", "yes"})


def ticked(values: list[str]) -> bool:
    return any(value.strip().lower() in TICKED for value in values)


def parse_note(question: Question, text: str, not_applicable: bool) -> NoteChange:
    """One question's note as a form submits it; InvalidAnswers names the question."""
    checked, message = check_note(question, text, not_applicable)
    if message:
        raise InvalidAnswers([Problem(question.id, message)])
    return NoteChange(question.id, **checked)


def note_field(question_id: str) -> str:
    """The questionnaire's field names for a question's note and its "does not apply" box."""
    return f"note-{question_id}"


def not_applicable_field(question_id: str) -> str:
    return f"not_applicable-{question_id}"


def parse_questionnaire_notes(
    rubric: Rubric, data: Mapping[str, list[str]], current: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, NoteChange], dict[str, dict[str, Any]], dict[str, str]]:
    """The notes of a whole submitted questionnaire -> (changes, submitted, errors by question).

    Only questions whose note field was submitted are read (a form without note fields
    leaves the notes alone), and only notes that differ from `current` become changes.
    `submitted` keeps what the user typed, to show it again when the form is refused.
    """
    changes: dict[str, NoteChange] = {}
    submitted: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    empty = NoteChange("").as_dict()
    for question in rubric.questions.values():
        field = note_field(question.id)
        if field not in data:
            continue
        text = "\n".join(data[field])
        marked = ticked(list(data.get(not_applicable_field(question.id), [])))
        submitted[question.id] = {"text": text, "not_applicable": marked}
        checked, message = check_note(question, text, marked)
        if message:
            errors[question.id] = message
        elif checked != dict(current.get(question.id, empty)):
            changes[question.id] = NoteChange(question.id, **checked)
    return changes, submitted, errors
