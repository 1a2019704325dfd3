"""The questionnaire as versioned data: load a rubric TOML into frozen dataclasses.

No Django imports here: the scoring service and the `score` command use this module alone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

RUBRIC_DIR = Path(__file__).resolve().parent
CURRENT_VERSION = "v2"
# The versions the web app can store and present. v2 is scored by the `score` command; its
# pages (questionnaire, report, memo) are not built yet, so the app holds no v2 assessment.
WEB_VERSIONS = ("v1", "v2")
APPROACHES = ("rag", "fine_tune", "hybrid")
READINESS = ("ready", "not_ready")
CONFIDENCE = ("high", "medium", "low")
NONE_CHOICE = "none"
# Derived facts a condition may test besides plain answers.
FACT_KEYS = ("knowledge_need", "behavior_need")

Answers = Mapping[str, Any]


class RubricError(ValueError):
    """The rubric file itself is inconsistent (a bug in the data, not in user input)."""


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # "single", "multi" or "integer"
    text: str
    why: str
    section_id: str
    required: bool = True
    choices: tuple[Choice, ...] = ()
    # v2 only: a short name, the condition under which the question is asked (None: always)
    # and that condition in words, and the choices in increasing order for thresholds.
    label: str = ""
    ask_if: Any = None
    asked_when: str = ""  # the ask_if in words ("Asked when …")
    order: tuple[str, ...] = ()

    @property
    def choice_ids(self) -> tuple[str, ...]:
        return tuple(choice.id for choice in self.choices)

    def label_for(self, choice_id: str) -> str:
        for choice in self.choices:
            if choice.id == choice_id:
                return choice.label
        return choice_id

    def describe(self, value: Any) -> str:
        """A human-readable rendering of an answer to this question."""
        if value is None:
            return "not answered"
        if self.kind == "multi":
            return ", ".join(self.label_for(item) for item in value)
        if self.kind == "integer":
            return f"{value:,}"
        return self.label_for(value)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Condition:
    """All keys must hold. Choice keys hold when the answer (or, for multi, any pick) is listed."""

    choices: tuple[tuple[str, frozenset[str]], ...] = ()
    facts: tuple[tuple[str, bool], ...] = ()
    ranges: tuple[tuple[str, int | None, int | None], ...] = ()

    def holds(self, answers: Answers, facts: Mapping[str, bool]) -> bool:
        for name, expected in self.facts:
            if facts[name] != expected:
                return False
        for question_id, allowed in self.choices:
            value = answers.get(question_id)
            picked = set(value) if isinstance(value, list) else {value}
            if not picked & allowed:
                return False
        for question_id, low, high in self.ranges:
            value = answers.get(question_id)
            if value is None:
                return False
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        return True

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q for q, _ in self.choices) + tuple(q for q, _, _ in self.ranges)


@dataclass(frozen=True)
class Signal:
    id: str
    label: str
    leans: str
    when: Condition


@dataclass(frozen=True)
class Weight:
    question: str
    when: Condition
    effect: Mapping[str, int]
    reason: str


@dataclass(frozen=True)
class Rule:
    id: str
    question: str
    when: Condition
    rules_out: tuple[str, ...]
    scope: str  # "fit" or "choice"
    reason: str


@dataclass(frozen=True)
class Text:
    message: str
    reason: str = ""
    question: str = ""


@dataclass(frozen=True)
class Rubric:
    engine: ClassVar[str] = "weights"  # v1's weights-and-rules engine (assessments/scoring.py)

    version: str
    title: str
    base_score: int
    confidence_high: int
    confidence_medium: int
    sections: tuple[Section, ...]
    signals: tuple[Signal, ...]
    weights: tuple[Weight, ...]
    rules: tuple[Rule, ...]
    approaches: Mapping[str, Mapping[str, str]]
    blockers: Mapping[str, Text]
    warnings: Mapping[str, Text]
    next_steps: Mapping[str, tuple[str, ...]]
    labels: Mapping[str, Mapping[str, str]]  # "readiness" and "confidence": code -> label
    questions: Mapping[str, Question] = field(default_factory=dict)

    @property
    def required_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions.values() if q.required)

    # The one source of every label a result is shown with: page, PDF and terminal.
    def verdict_label(self, verdict: str, lanes: Mapping[str, str] | None = None) -> str:
        """The verdict's label (`lanes`: rubric v2's; v1 has none, so they change nothing)."""
        return self.approaches[verdict]["label"]

    def result_label(self, result: Any) -> str:
        """A result's verdict, labelled (the same interface as rubric v2's)."""
        return self.verdict_label(result.verdict)

    def readiness_label(self, readiness: str) -> str:
        return self.labels["readiness"][readiness]

    def confidence_label(self, confidence: str) -> str:
        return self.labels["confidence"][confidence]


def _condition(raw: Mapping[str, Any], questions: Mapping[str, Question]) -> Condition:
    choices, facts, ranges = [], [], []
    for key, value in raw.items():
        if key in FACT_KEYS:
            facts.append((key, bool(value)))
        elif key not in questions:
            raise RubricError(f"condition names unknown question {key!r}")
        elif isinstance(value, dict):
            ranges.append((key, value.get("min"), value.get("max")))
        else:
            unknown = set(value) - set(questions[key].choice_ids)
            if unknown:
                raise RubricError(f"condition on {key!r} names unknown choices {sorted(unknown)}")
            choices.append((key, frozenset(value)))
    return Condition(tuple(choices), tuple(facts), tuple(ranges))


def _sections(data: Mapping[str, Any]) -> tuple[Section, ...]:
    sections = []
    for raw in data["sections"]:
        questions = tuple(
            Question(
                id=q["id"],
                kind=q["kind"],
                text=q["text"],
                why=q["why"],
                section_id=raw["id"],
                required=q.get("required", True),
                choices=tuple(Choice(c["id"], c["label"]) for c in q.get("choices", ())),
            )
            for q in raw["questions"]
        )
        sections.append(Section(raw["id"], raw["title"], raw.get("intro", ""), questions))
    return tuple(sections)


def _check_approaches(names: Any, where: str) -> None:
    unknown = set(names) - set(APPROACHES)
    if unknown:
        raise RubricError(f"{where} names unknown approaches {sorted(unknown)}")


def _check_labels(raw: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    labels = {}
    for kind, codes in (("readiness", READINESS), ("confidence", CONFIDENCE)):
        given = dict(raw.get(kind, {}))
        if set(given) != set(codes):
            raise RubricError(f"labels.{kind} must name exactly {list(codes)}, not {sorted(given)}")
        labels[kind] = given
    return labels


def parse_rubric(data: Mapping[str, Any]) -> Any:
    """Build a rubric from already-parsed TOML data, checking its internal references.

    A file with `engine = "lanes"` (v2 onwards) becomes an assessments.lanes LanesRubric;
    one without `engine` is a v1 Rubric, parsed exactly as before.
    """
    engine = data.get("engine", Rubric.engine)
    if engine == "lanes":
        from assessments.lanes.rubric import parse_lanes_rubric  # imports this module

        return parse_lanes_rubric(data)
    if engine != Rubric.engine:
        raise RubricError(f"unknown engine {engine!r}")
    return _parse_weights_rubric(data)


def _parse_weights_rubric(data: Mapping[str, Any]) -> Rubric:
    sections = _sections(data)
    questions = {q.id: q for section in sections for q in section.questions}

    def question_ref(question_id: str) -> str:
        if question_id not in questions:
            raise RubricError(f"reference to unknown question {question_id!r}")
        return question_id

    weights = []
    for raw in data["weights"]:
        _check_approaches(raw["effect"], f"weight on {raw['question']}")
        weights.append(
            Weight(
                question_ref(raw["question"]),
                _condition(raw["when"], questions),
                dict(raw["effect"]),
                raw["reason"],
            )
        )
    rules = []
    for raw in data["rules"]:
        _check_approaches(raw["rules_out"], f"rule {raw['id']}")
        rules.append(
            Rule(
                raw["id"],
                question_ref(raw["question"]),
                _condition(raw["when"], questions),
                tuple(raw["rules_out"]),
                raw["scope"],
                raw["reason"],
            )
        )
    signals = tuple(
        Signal(s["id"], s["label"], s["leans"], _condition(s["when"], questions))
        for s in data["signals"]
    )
    _check_approaches(data["approaches"], "approaches")
    unnamed = set(APPROACHES) - set(data["approaches"])
    if unnamed:
        raise RubricError(f"approaches lacks {sorted(unnamed)}")
    return Rubric(
        version=data["version"],
        title=data["title"],
        base_score=data["base_score"],
        confidence_high=data["confidence"]["high"],
        confidence_medium=data["confidence"]["medium"],
        sections=sections,
        signals=signals,
        weights=tuple(weights),
        rules=tuple(rules),
        approaches=data["approaches"],
        blockers={
            code: Text(raw["message"], raw["action"], question_ref(raw["question"]))
            for code, raw in data["blockers"].items()
        },
        warnings={
            code: Text(raw["message"], raw["reason"]) for code, raw in data["warnings"].items()
        },
        next_steps={path: tuple(steps) for path, steps in data["next_steps"].items()},
        labels=_check_labels(data.get("labels", {})),
        questions=questions,
    )


def available_versions() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in RUBRIC_DIR.glob("v*.toml")))


@cache
def load_rubric(version: str = CURRENT_VERSION) -> Any:
    """The rubric of one version, read once per process."""
    if version not in available_versions():
        raise RubricError(f"unknown rubric version {version!r}")
    with open(RUBRIC_DIR / f"{version}.toml", "rb") as handle:
        return parse_rubric(tomllib.load(handle))
