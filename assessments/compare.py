"""Comparing two states of a project (assessments or milestones): their answers side by side,
both outcomes, and in one sentence per changed answer what that change moves on its own.

Pure: no Django, no I/O. A side is its answers, notes, rubric and evaluation; the caller
passes `evaluate` (services.evaluate) to score the left answers with one change applied, so
that every sentence is the app's own scoring of a concrete "what if".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

NO_VERDICT = "no verdict yet"


@dataclass(frozen=True)
class Side:
    """One of the two states compared."""

    key: str  # the form value: "a<assessment id>" or "m<milestone id>"
    title: str  # "Assessment of 1 Dec 2026 (current)", "Milestone: Board review, 1 Dec 2026"
    rubric: Any
    answers: Mapping[str, Any]
    notes: Mapping[str, Mapping[str, Any]]
    evaluation: Any  # services.Evaluation of `answers` under `rubric`


@dataclass(frozen=True)
class Part:
    """One part of an outcome: the verdict, one lane, readiness or confidence."""

    id: str  # "verdict", "lane:<lane id>", "readiness", "confidence"
    name: str  # how a sentence names it: "the verdict", "the Knowledge lane"
    title: str  # a table's row header: "Verdict", "Knowledge lane"
    value: str
    label: str


@dataclass(frozen=True)
class Outcome:
    verdict: str
    label: str
    parts: tuple[Part, ...]

    def part(self, part_id: str) -> Part | None:
        return next((p for p in self.parts if p.id == part_id), None)


def outcome_of(evaluation: Any) -> Outcome | None:
    """The outcome of a complete, valid evaluation, labelled by its rubric; None without one
    (an incomplete side has "no verdict yet", whatever it leans to)."""
    result = getattr(evaluation, "result", None)
    if result is None:
        return None
    rubric = evaluation.rubric
    label = rubric.result_label(result)
    # The verdict is compared by its label: under rubric v2 the lanes can change the label of
    # one approach, and the label is what a reader sees change.
    parts = [Part("verdict", "the verdict", "Verdict", label, label)]
    for lane_id, value in (getattr(result, "lanes", None) or {}).items():
        lane = rubric.lane(lane_id)
        parts.append(
            Part(
                f"lane:{lane_id}",
                f"the {lane.label} lane",
                f"{lane.label} lane",
                value,
                lane.value_label(value),
            )
        )
    parts.append(
        Part(
            "readiness",
            "readiness",
            "Readiness",
            result.readiness,
            rubric.readiness_label(result.readiness),
        )
    )
    parts.append(
        Part(
            "confidence",
            "confidence",
            "Confidence",
            result.confidence,
            rubric.confidence_label(result.confidence),
        )
    )
    return Outcome(result.verdict, label, tuple(parts))


@dataclass(frozen=True)
class Move:
    part: Part  # as it was (left)
    to: Part  # as it becomes

    @property
    def text(self) -> str:
        return f"{self.part.name} from {self.part.label} to {self.to.label}"


def moves_between(before: Outcome, after: Outcome) -> tuple[Move, ...]:
    """The parts of `before` that `after` has with another value."""
    moves = []
    for part in before.parts:
        other = after.part(part.id)
        if other is not None and other.value != part.value:
            moves.append(Move(part, other))
    return tuple(moves)


@dataclass(frozen=True)
class OutcomeRow:
    """One line of the side-by-side outcome table."""

    title: str
    left: str
    right: str

    @property
    def changed(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class AnswerRow:
    question_id: str
    question: str  # the question's text, from the rubric
    left: str  # the answer, described by its side's rubric
    right: str
    changed: bool  # the answers differ (the same question under both sides' rubrics)
    left_note: str
    right_note: str

    @property
    def notes_differ(self) -> bool:
        return self.left_note != self.right_note


@dataclass(frozen=True)
class Attribution:
    """What one changed answer does on its own, applied to the left side's answers."""

    question_id: str
    sentence: str
    moves: tuple[Move, ...]


@dataclass(frozen=True)
class Comparison:
    left: Side
    right: Side
    left_outcome: Outcome | None
    right_outcome: Outcome | None
    outcome_rows: tuple[OutcomeRow, ...]
    rows: tuple[AnswerRow, ...]
    same_rubric: bool
    attributions: tuple[Attribution, ...]  # one per changed answer (same rubric only)
    together: tuple[str, ...]  # what only the changes together move
    note: str  # e.g. why there is no per-answer attribution

    @property
    def changed_count(self) -> int:
        return sum(1 for row in self.rows if row.changed)

    @property
    def outcome_changed(self) -> bool:
        return any(row.changed for row in self.outcome_rows)


def _joined(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _question_name(question: Any) -> str:
    return question.label or question.text


def _note_text(note: Mapping[str, Any] | None) -> str:
    if not note:
        return ""
    text = str(note.get("text") or "").strip()
    if note.get("not_applicable"):
        return f"Does not apply: {text}" if text else "Does not apply"
    return text


def _answer_text(rubric: Any, question_id: str, side: Side) -> str:
    if question_id not in rubric.questions:
        return f"not in rubric {rubric.version}"
    value = side.answers.get(question_id)
    if value is None and (side.notes.get(question_id) or {}).get("not_applicable"):
        return "Does not apply"
    return rubric.questions[question_id].describe(value)


def _question_ids(left: Side, right: Side) -> list[str]:
    """The right rubric's questions in its order, then any only the left rubric has."""
    ids = [q.id for section in right.rubric.sections for q in section.questions]
    seen = set(ids)
    ids += [q.id for s in left.rubric.sections for q in s.questions if q.id not in seen]
    return ids


def answer_rows(left: Side, right: Side) -> tuple[AnswerRow, ...]:
    rows = []
    for question_id in _question_ids(left, right):
        question = right.rubric.questions.get(question_id) or left.rubric.questions[question_id]
        shared = question_id in left.rubric.questions and question_id in right.rubric.questions
        rows.append(
            AnswerRow(
                question_id=question_id,
                question=question.text,
                left=_answer_text(left.rubric, question_id, left),
                right=_answer_text(right.rubric, question_id, right),
                changed=shared and left.answers.get(question_id) != right.answers.get(question_id),
                left_note=_note_text(left.notes.get(question_id)),
                right_note=_note_text(right.notes.get(question_id)),
            )
        )
    return tuple(rows)


def _outcome_rows(left: Outcome | None, right: Outcome | None) -> tuple[OutcomeRow, ...]:
    parts: dict[str, str] = {}  # part id -> title, in the order they come
    for outcome in (left, right):
        for part in outcome.parts if outcome else ():
            parts.setdefault(part.id, part.title)
    if not parts:
        return (OutcomeRow("Verdict", NO_VERDICT, NO_VERDICT),)

    def shown(outcome: Outcome | None, part_id: str) -> str:
        if outcome is None:
            return NO_VERDICT
        part = outcome.part(part_id)
        return part.label if part else "—"

    return tuple(OutcomeRow(title, shown(left, p), shown(right, p)) for p, title in parts.items())


def attribute(
    row: AnswerRow,
    left: Side,
    right: Side,
    before: Outcome | None,
    evaluate: Callable[[dict[str, Any], Any], Any],
) -> Attribution:
    """The sentence for one changed answer: the left answers with just this change, scored."""
    question = left.rubric.questions[row.question_id]
    answers = dict(left.answers)
    if right.answers.get(row.question_id) is None:
        answers.pop(row.question_id, None)
    else:
        answers[row.question_id] = right.answers[row.question_id]
    after = outcome_of(evaluate(answers, left.rubric))
    change = f"Changing “{_question_name(question)}” from {row.left} to {row.right}"
    if before is None and after is None:
        return Attribution(
            row.question_id, f"{change} does not give a verdict on its own ({NO_VERDICT}).", ()
        )
    if before is None:
        return Attribution(
            row.question_id, f"{change} on its own would give a verdict: {after.label}.", ()
        )
    if after is None:
        return Attribution(
            row.question_id,
            f"{change} on its own leaves no verdict: with the other answers as they were, the "
            "answers would be incomplete or inconsistent.",
            (),
        )
    moves = moves_between(before, after)
    if not moves:
        return Attribution(row.question_id, f"{change} does not change the outcome on its own.", ())
    return Attribution(
        row.question_id, f"{change} moves {_joined([m.text for m in moves])}.", moves
    )


def _together(
    before: Outcome | None, target: Outcome | None, attributions: tuple[Attribution, ...]
) -> tuple[str, ...]:
    """The parts that differ between the two outcomes that no single change moves there."""
    if before is None or target is None:
        return ()
    sentences = []
    for move in moves_between(before, target):
        explained = any(
            m.part.id == move.part.id and m.to.value == move.to.value
            for a in attributions
            for m in a.moves
        )
        if not explained:
            sentences.append(
                f"Only together do the changes move {move.text}: no single change does so on "
                "its own."
            )
    return tuple(sentences)


def compare(
    left: Side, right: Side, *, evaluate: Callable[[dict[str, Any], Any], Any]
) -> Comparison:
    """Compare `left` (the earlier state, usually) with `right`. `evaluate(answers, rubric)`
    scores answers as the app does (services.evaluate)."""
    before, target = outcome_of(left.evaluation), outcome_of(right.evaluation)
    rows = answer_rows(left, right)
    same_rubric = left.rubric.version == right.rubric.version
    attributions: tuple[Attribution, ...] = ()
    together: tuple[str, ...] = ()
    note = ""
    if same_rubric:
        attributions = tuple(
            attribute(row, left, right, before, evaluate) for row in rows if row.changed
        )
        together = _together(before, target, attributions)
    else:
        note = (
            f"The two use different rubrics ({left.rubric.version} and "
            f"{right.rubric.version}): the answers are shown by the questions they share, and "
            "which answer moved the outcome cannot be said across rubrics, whose questions and "
            "rules differ."
        )
    return Comparison(
        left=left,
        right=right,
        left_outcome=before,
        right_outcome=target,
        outcome_rows=_outcome_rows(before, target),
        rows=rows,
        same_rubric=same_rubric,
        attributions=attributions,
        together=together,
        note=note,
    )
