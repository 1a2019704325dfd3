"""The v2 condition language: parse a condition from rubric data (checking every name it
uses) and evaluate it against answers and, once known, the lane results.

The language itself is documented at the top of assessments/rubric/v2.toml. Pure: no Django,
no I/O. Evaluation records which questions' answers it read, so every effect can name the
answers behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assessments.rubric import Question, RubricError


@dataclass(frozen=True)
class Threshold:
    name: str
    question: str
    label: str
    value: int | None = None  # a whole-number question: the number
    position: int | None = None  # a choice question: the threshold choice's place in `order`
    order: tuple[str, ...] = ()


@dataclass
class Facts:
    """What a condition is evaluated against. `answers` holds only asked questions."""

    answers: Mapping[str, Any]
    lanes: Mapping[str, str] = field(default_factory=dict)
    decided_by: frozenset[str] = frozenset()
    verdict: str | None = None
    read: set[str] = field(default_factory=set)
    # The answers each lane's deciding rule read: testing a lane reads them too.
    lane_questions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rule_lanes: Mapping[str, str] = field(default_factory=dict)  # deciding rule id -> lane

    def answer(self, question_id: str) -> Any:
        self.read.add(question_id)
        return self.answers.get(question_id)


class Condition:
    def holds(self, facts: Facts) -> bool:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def questions(self) -> frozenset[str]:
        """Every question this condition may read."""
        return frozenset()

    def uses_results(self) -> bool:
        """Whether it tests lane results, the deciding rules or the verdict."""
        return False


@dataclass(frozen=True)
class Always(Condition):
    def holds(self, facts: Facts) -> bool:
        return True


@dataclass(frozen=True)
class All(Condition):
    items: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return all(item.holds(facts) for item in self.items)

    def questions(self) -> frozenset[str]:
        return frozenset().union(*(item.questions() for item in self.items))

    def uses_results(self) -> bool:
        return any(item.uses_results() for item in self.items)


@dataclass(frozen=True)
class AnyOf(All):
    def holds(self, facts: Facts) -> bool:
        """When one item holds, only what that item read counts as read."""
        outer, tried = facts.read, set()
        try:
            for item in self.items:
                facts.read = set()
                if item.holds(facts):
                    outer |= facts.read
                    return True
                tried |= facts.read
            outer |= tried
            return False
        finally:
            facts.read = outer


@dataclass(frozen=True)
class Not(Condition):
    item: Condition

    def holds(self, facts: Facts) -> bool:
        return not self.item.holds(facts)

    def questions(self) -> frozenset[str]:
        return self.item.questions()

    def uses_results(self) -> bool:
        return self.item.uses_results()


@dataclass(frozen=True)
class AnswerIn(Condition):
    question: str
    choices: frozenset[str]

    def holds(self, facts: Facts) -> bool:
        return facts.answer(self.question) in self.choices

    def questions(self) -> frozenset[str]:
        return frozenset({self.question})


@dataclass(frozen=True)
class Includes(AnswerIn):
    def holds(self, facts: Facts) -> bool:
        value = facts.answer(self.question)
        return isinstance(value, list) and bool(self.choices.intersection(value))


@dataclass(frozen=True)
class Compare(Condition):
    question: str
    at_least: Threshold | None
    below: Threshold | None

    def holds(self, facts: Facts) -> bool:
        value = facts.answer(self.question)
        if value is None:
            return False
        return all(
            self._passes(value, threshold, at_least)
            for threshold, at_least in ((self.at_least, True), (self.below, False))
            if threshold is not None
        )

    @staticmethod
    def _passes(value: Any, threshold: Threshold, at_least: bool) -> bool:
        if threshold.value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                return False
            return (value >= threshold.value) == at_least
        if value not in threshold.order:
            return False  # outside the order (e.g. "unknown"): neither above nor below
        return (threshold.order.index(value) >= threshold.position) == at_least

    def questions(self) -> frozenset[str]:
        return frozenset({self.question})


@dataclass(frozen=True)
class Named(Condition):
    name: str
    item: Condition

    def holds(self, facts: Facts) -> bool:
        return self.item.holds(facts)

    def questions(self) -> frozenset[str]:
        return self.item.questions()

    def uses_results(self) -> bool:
        return self.item.uses_results()


@dataclass(frozen=True)
class LaneIn(Condition):
    lane: str
    values: frozenset[str]

    def holds(self, facts: Facts) -> bool:
        facts.read.update(facts.lane_questions.get(self.lane, ()))
        return facts.lanes.get(self.lane) in self.values

    def uses_results(self) -> bool:
        return True


@dataclass(frozen=True)
class DecidedBy(Condition):
    rules: frozenset[str]

    def holds(self, facts: Facts) -> bool:
        for rule in self.rules & facts.decided_by:
            facts.read.update(facts.lane_questions.get(facts.rule_lanes.get(rule, ""), ()))
        return bool(self.rules & facts.decided_by)

    def uses_results(self) -> bool:
        return True


@dataclass(frozen=True)
class VerdictIn(Condition):
    verdicts: frozenset[str]

    def holds(self, facts: Facts) -> bool:
        return facts.verdict in self.verdicts

    def uses_results(self) -> bool:
        return True


ALWAYS = Always()


@dataclass
class Vocabulary:
    """Every name a condition may use, to check it against."""

    questions: Mapping[str, Question]
    thresholds: Mapping[str, Threshold]
    lanes: Mapping[str, tuple[str, ...]]
    rule_ids: frozenset[str]
    verdicts: frozenset[str]
    named_raw: Mapping[str, Any]
    named: dict[str, Condition] = field(default_factory=dict)
    resolving: list[str] = field(default_factory=list)

    def named_condition(self, name: str, where: str) -> Condition:
        if name in self.named:
            return self.named[name]
        if name not in self.named_raw:
            raise RubricError(f"{where}: unknown named condition {name!r}")
        if name in self.resolving:
            cycle = " -> ".join([*self.resolving[self.resolving.index(name) :], name])
            raise RubricError(f"named conditions refer to each other in a circle: {cycle}")
        self.resolving.append(name)
        condition = parse_condition(self.named_raw[name], self, f"condition {name!r}")
        self.resolving.pop()
        self.named[name] = Named(name, condition)
        return self.named[name]


def _names(raw: Any, where: str, key: str) -> frozenset[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        raise RubricError(f"{where}: {key!r} must be a non-empty list of ids")
    return frozenset(raw)


def _unknown(given: frozenset[str], known: Any) -> list[str]:
    return sorted(given - set(known))


def _answer_condition(raw: Mapping[str, Any], vocab: Vocabulary, where: str) -> Condition:
    question_id = raw["answer"]
    question = vocab.questions.get(question_id)
    if question is None:
        raise RubricError(f"{where}: condition names unknown question {question_id!r}")
    keys = set(raw) - {"answer"}
    if keys in ({"in"}, {"includes"}):
        (key,) = keys
        wanted_kind = "multi" if key == "includes" else "single"
        if question.kind != wanted_kind:
            raise RubricError(
                f"{where}: {key!r} needs a {wanted_kind}-choice question, "
                f"{question_id!r} is {question.kind}"
            )
        choices = _names(raw[key], where, key)
        unknown = _unknown(choices, question.choice_ids)
        if unknown:
            raise RubricError(
                f"{where}: condition on {question_id!r} names unknown choices {unknown}"
            )
        return (Includes if key == "includes" else AnswerIn)(question_id, choices)
    if keys and keys <= {"at_least", "below"}:
        thresholds = {}
        for key in ("at_least", "below"):
            name = raw.get(key)
            if name is None:
                continue
            threshold = vocab.thresholds.get(name) if isinstance(name, str) else None
            if threshold is None:
                raise RubricError(f"{where}: unknown threshold {name!r}")
            if threshold.question != question_id:
                raise RubricError(
                    f"{where}: threshold {name!r} is about {threshold.question!r}, "
                    f"not {question_id!r}"
                )
            thresholds[key] = threshold
        return Compare(question_id, thresholds.get("at_least"), thresholds.get("below"))
    raise RubricError(f"{where}: malformed condition {dict(raw)!r}")


def _result_condition(raw: Mapping[str, Any], vocab: Vocabulary, where: str) -> Condition:
    if "lane" in raw:
        if set(raw) != {"lane", "in"}:
            raise RubricError(f"{where}: malformed condition {dict(raw)!r}")
        lane = raw["lane"]
        if lane not in vocab.lanes:
            raise RubricError(f"{where}: unknown lane {lane!r}")
        values = _names(raw["in"], where, "in")
        unknown = _unknown(values, vocab.lanes[lane])
        if unknown:
            raise RubricError(f"{where}: lane {lane!r} has no values {unknown}")
        return LaneIn(lane, values)
    if "decided_by" in raw:
        rules = _names(raw["decided_by"], where, "decided_by")
        unknown = _unknown(rules, vocab.rule_ids)
        if unknown:
            raise RubricError(f"{where}: unknown lane rules {unknown}")
        return DecidedBy(rules)
    verdicts = _names(raw["verdict"], where, "verdict")
    unknown = _unknown(verdicts, vocab.verdicts)
    if unknown:
        raise RubricError(f"{where}: unknown verdicts {unknown}")
    return VerdictIn(verdicts)


def parse_condition(raw: Any, vocab: Vocabulary, where: str) -> Condition:
    """A checked condition; RubricError names `where` and what is wrong."""
    if not isinstance(raw, Mapping) or not raw:
        raise RubricError(f"{where}: a condition must be a non-empty table, not {raw!r}")
    if set(raw) in ({"all"}, {"any"}):
        (key,) = raw
        items = raw[key]
        if not isinstance(items, list) or not items:
            raise RubricError(f"{where}: {key!r} must be a non-empty list of conditions")
        parsed = tuple(parse_condition(item, vocab, where) for item in items)
        return All(parsed) if key == "all" else AnyOf(parsed)
    if set(raw) == {"not"}:
        return Not(parse_condition(raw["not"], vocab, where))
    if set(raw) == {"is"}:
        return vocab.named_condition(raw["is"], where)
    if "answer" in raw:
        return _answer_condition(raw, vocab, where)
    if "lane" in raw or set(raw) in ({"decided_by"}, {"verdict"}):
        return _result_condition(raw, vocab, where)
    raise RubricError(f"{where}: malformed condition {dict(raw)!r}")


def parse_answer_condition(raw: Any, vocab: Vocabulary, where: str) -> Condition:
    """A condition evaluated before the lanes are known: answers and named conditions only."""
    condition = parse_condition(raw, vocab, where)
    if condition.uses_results():
        raise RubricError(
            f"{where}: cannot test lane results, deciding rules or the verdict "
            "(they are not known yet)"
        )
    return condition


def optional(
    raw: Any, parse: Callable[[Any, Vocabulary, str], Condition], vocab: Vocabulary, where: str
) -> Condition:
    """A `when` that may be left out (then it always holds)."""
    return ALWAYS if raw is None else parse(raw, vocab, where)
