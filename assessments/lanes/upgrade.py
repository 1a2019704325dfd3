"""Carry the answers of an assessment under an earlier rubric over to a newer one.

Pure: no Django, no I/O. The mapping is the newer rubric's data (its [upgrade] table, checked
when the rubric loads); this module names no question and no choice:

1. an answer whose question id and choice(s) both exist in the new rubric is copied as is;
2. a choice the upgrade renames is carried to its new id (shown old -> new by their labels);
   either way, an answer the upgrade lists as worth checking carries its reason (`check`);
3. anything else (a choice the upgrade leaves unanswered, a question the new rubric does not
   ask, an answer the new rubric would refuse) is left unanswered, with why.

Questions new in the new rubric are simply not in the result: they start unanswered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assessments.lanes.rubric import LanesRubric
from assessments.validation import check_answer

NOT_ASKED_NOW = "Rubric {version} does not ask this question."
REFUSED_NOW = "Rubric {version} does not accept this answer: {message}."


@dataclass(frozen=True)
class CarriedAnswer:
    question_id: str
    label: str  # the question's short name in the new rubric (its text in the old one if gone)
    old_value: Any
    old_text: str  # the old answer, by the old rubric's labels
    value: Any = None  # the new answer (None when left unanswered)
    text: str = ""  # the new answer, by the new rubric's labels
    why: str = ""  # left unanswered: why
    check: str = ""  # carried, but may mean something narrower now: why to check it


@dataclass(frozen=True)
class CarriedAnswers:
    from_version: str
    to_version: str
    copied: tuple[CarriedAnswer, ...]  # the same answer under the new rubric
    renamed: tuple[CarriedAnswer, ...]  # a choice carried to its new id
    left_unanswered: tuple[CarriedAnswer, ...]  # not carried over, each with why

    @property
    def answers(self) -> dict[str, Any]:
        """The new rubric's answers: the copied and the renamed ones."""
        return {item.question_id: item.value for item in (*self.copied, *self.renamed)}


def carry_over(old: Any, new: LanesRubric, answers: Mapping[str, Any]) -> CarriedAnswers:
    """`answers` (valid under `old`) as `new` takes them, in `new`'s question order.

    ValueError when `new` has no upgrade from `old`'s version."""
    upgrade = new.upgrade
    if upgrade is None or upgrade.from_version != old.version:
        raise ValueError(f"rubric {new.version} has no upgrade from rubric {old.version}")
    order = {question_id: index for index, question_id in enumerate(new.questions)}
    copied, renamed, left = [], [], []
    given = [q for q in old.questions if answers.get(q) is not None]
    for question_id in sorted(given, key=lambda q: order.get(q, len(order))):
        old_question = old.questions[question_id]
        old_value = answers[question_id]
        new_question = new.questions.get(question_id)
        item = CarriedAnswer(
            question_id,
            new_question.label if new_question else old_question.text,
            old_value,
            old_question.describe(old_value),
        )
        skipped = upgrade.left_unanswered.get(question_id)
        picks = old_value if isinstance(old_value, list) else [old_value]
        if new_question is None:
            left.append(_left(item, NOT_ASKED_NOW.format(version=new.version)))
            continue
        if skipped is not None and (not skipped.choices or skipped.choices.intersection(picks)):
            left.append(_left(item, skipped.why))
            continue
        names = upgrade.renames.get(question_id, {})
        if new_question.kind == "integer":
            value = old_value
        else:
            mapped = [names.get(pick, pick) for pick in picks]
            value = mapped if new_question.kind == "multi" else mapped[0]
        clean, message = check_answer(new_question, value)
        if message:
            left.append(_left(item, REFUSED_NOW.format(version=new.version, message=message)))
            continue
        note = upgrade.worth_checking.get(question_id)
        check = note.why if note and (not note.choices or note.choices.intersection(picks)) else ""
        carried = _carried(item, clean, new_question.describe(clean), check)
        (renamed if any(pick in names for pick in picks) else copied).append(carried)
    return CarriedAnswers(old.version, new.version, tuple(copied), tuple(renamed), tuple(left))


def _left(item: CarriedAnswer, why: str) -> CarriedAnswer:
    return CarriedAnswer(item.question_id, item.label, item.old_value, item.old_text, why=why)


def _carried(item: CarriedAnswer, value: Any, text: str, check: str) -> CarriedAnswer:
    return CarriedAnswer(
        item.question_id, item.label, item.old_value, item.old_text, value, text, check=check
    )
