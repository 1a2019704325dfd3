"""How a flip reads: the rubric's [flips.text] wording, checked on load and turned into one
sentence per single-answer change ("Collect 1,000+ reviewed examples", "If the knowledge
grew past 200k tokens"). The verdict it leads to is shown beside the sentence, not in it.

Pure: no Django, no I/O. The table's shape is documented at [flips.text] in
assessments/rubric/v2.toml; every failure is a RubricError naming the question and choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assessments.lanes.conditions import Threshold
from assessments.rubric import NONE_CHOICE, Question, RubricError

CHOICE = "{choice}"
THRESHOLD = "{threshold}"
# The keys each kind of question takes; `up`/`down` only with an `order`.
KEYS = {
    "single": frozenset({"to", "up", "down", "situations"}),
    "multi": frozenset({"to", "add", "remove", "phrases"}),
    "integer": frozenset({"reached", "below"}),
}
CHOICE_MAPS = ("to", "up", "down", "phrases")
TEMPLATES = {"add": CHOICE, "remove": CHOICE, "reached": THRESHOLD, "below": THRESHOLD}


@dataclass(frozen=True)
class FlipWording:
    """One question's wording. Single: `to` per choice, `up`/`down` for a move along the
    order. Multi: `add`/`remove` templates filled with `phrases`, `to` for the exclusive
    choice. Whole number: `reached`/`below` templates filled with the threshold's label."""

    question: str
    to: Mapping[str, str] = field(default_factory=dict)
    up: Mapping[str, str] = field(default_factory=dict)
    down: Mapping[str, str] = field(default_factory=dict)
    phrases: Mapping[str, str] = field(default_factory=dict)
    add: str = ""
    remove: str = ""
    reached: str = ""
    below: str = ""
    # An action question's choices a change to which is the situation differing (losing
    # what the team has), not something to do.
    situations: frozenset[str] = frozenset()

    def is_deed(self, question: Question, before: Any, after: Any) -> bool:
        """Whether changing an action question's answer is something the team can do: not
        a move down its order (fewer examples) and not a change to one of its situations."""
        order = question.order
        if before in order and after in order and order.index(after) < order.index(before):
            return False
        return after not in self.situations


def flip_sentence(
    wording: FlipWording,
    question: Question,
    thresholds: Iterable[Threshold],
    before: Any,
    after: Any,
) -> str:
    """The sentence for changing `question`'s answer from `before` to `after`."""
    if question.kind == "integer":
        crossed = [t for t in thresholds if t.question == question.id and t.value is not None]
        up = [t for t in crossed if before < t.value <= after]
        if up:
            return wording.reached.replace(THRESHOLD, max(up, key=lambda t: t.value).label)
        down = [t for t in crossed if after < t.value <= before]
        if down:
            return wording.below.replace(THRESHOLD, min(down, key=lambda t: t.value).label)
        raise ValueError(f"{question.id}: {before!r} -> {after!r} crosses no threshold")
    if question.kind == "multi":
        added = [c for c in after if c not in before]
        removed = [c for c in before if c not in after]
        if len(after) == 1 and after[0] in wording.to and added:
            return wording.to[after[0]]
        if added:
            return wording.add.replace(CHOICE, wording.phrases[added[0]])
        return wording.remove.replace(CHOICE, wording.phrases[removed[0]])
    order = question.order
    if before in order and after in order:
        moves = wording.up if order.index(after) > order.index(before) else wording.down
        if after in moves:
            return moves[after]
    return wording.to[after]


def can_flip(lanes: Iterable[Any], questions: Mapping[str, Question], action: Iterable[str]):
    """Every question whose answer can change the verdict: read by a lane rule, or by the
    ask_if of one so read (it decides whether that answer counts), and every action."""
    found: set[str] = set(action)
    for lane in lanes:
        for rule in lane.rules:
            found |= rule.when.questions()
            for case in rule.cases:
                found |= case.when.questions()
    pending = list(found)
    while pending:
        ask_if = questions[pending.pop()].ask_if
        for question_id in ask_if.questions() if ask_if is not None else ():
            if question_id not in found:
                found.add(question_id)
                pending.append(question_id)
    return [q for q in questions if q in found]


def _choice_map(raw: Any, question: Question, where: str) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not all(isinstance(v, str) and v for v in raw.values()):
        raise RubricError(f"{where} must map choices to text")
    unknown = sorted(set(raw) - set(question.choice_ids))
    if unknown:
        raise RubricError(f"{where} names unknown choices {unknown}")
    return dict(raw)


def _choices(raw: Any, question: Question, where: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise RubricError(f"{where} must be a list of choices")
    unknown = sorted(set(raw) - set(question.choice_ids))
    if unknown:
        raise RubricError(f"{where} names unknown choices {unknown}")
    return frozenset(raw)


def _wording(raw: Any, question: Question, action: bool) -> FlipWording:
    where = f"flips.text.{question.id}"
    if not isinstance(raw, Mapping):
        raise RubricError(f"{where} must be a table")
    if "situations" in raw and not action:
        raise RubricError(f"{where}.situations: {question.id!r} is not an action question")
    allowed = KEYS[question.kind] - (set() if question.order else {"up", "down"})
    allowed -= set() if action else {"situations"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        without = " without an order" if question.kind == "single" and not question.order else ""
        raise RubricError(
            f"{where}: {question.kind} questions{without} take {sorted(allowed)}, not {unknown}"
        )
    given: dict[str, Any] = {}
    for key in sorted(allowed):
        if key == "situations":
            given[key] = _choices(raw.get(key, []), question, f"{where}.{key}")
            continue
        if key in CHOICE_MAPS:
            given[key] = _choice_map(raw.get(key, {}), question, f"{where}.{key}")
            continue
        template = raw.get(key)
        if not isinstance(template, str) or TEMPLATES[key] not in template:
            raise RubricError(f"{where}.{key} must be text containing {TEMPLATES[key]}")
        given[key] = template
    wording = FlipWording(question.id, **given)
    _check_complete(wording, question, where)
    return wording


def _check_complete(wording: FlipWording, question: Question, where: str) -> None:
    """A sentence for every change the question's answer can make."""

    def missing(choice: str, move: str = "") -> RubricError:
        return RubricError(f"{where} has no sentence for a change{move} to {choice!r}")

    if question.kind == "integer":
        return  # both templates are there (checked above)
    if question.kind == "multi":
        for choice in question.choice_ids:
            if choice == NONE_CHOICE:  # exclusive: it replaces every other choice
                if choice not in wording.to:
                    raise missing(choice)
            elif choice not in wording.phrases:
                raise RubricError(f"{where}.phrases has no phrase for {choice!r}")
        return
    order = question.order
    outside = [c for c in question.choice_ids if c not in order]
    for choice in question.choice_ids:
        if choice in wording.to:
            continue
        if choice not in order or outside:  # reached from a choice outside the order
            raise missing(choice)
        position = order.index(choice)
        if position > 0 and choice not in wording.up:
            raise missing(choice, " up")
        if position < len(order) - 1 and choice not in wording.down:
            raise missing(choice, " down")


def parse_flip_wording(
    raw: Any, questions: Mapping[str, Question], must: Iterable[str], action: Iterable[str]
) -> dict[str, FlipWording]:
    """[flips.text], complete for every question in `must` (and for any it words)."""
    if not isinstance(raw, Mapping):
        raise RubricError("flips.text must be a table of questions")
    unknown = sorted(set(raw) - set(questions))
    if unknown:
        raise RubricError(f"flips.text names unknown questions {unknown}")
    for question_id in must:
        if question_id not in raw:
            raise RubricError(
                f"flips.text has no wording for {question_id!r}, whose answer can change "
                "the verdict"
            )
    action = set(action)
    return {q: _wording(raw[q], questions[q], q in action) for q in questions if q in raw}
