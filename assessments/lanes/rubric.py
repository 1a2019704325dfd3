"""A v2 ("lanes") rubric as frozen dataclasses, checked for consistency while it is parsed.

Every failure is a RubricError naming what is wrong. No Django imports, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import product
from typing import Any, ClassVar

from assessments.lanes.conditions import (
    ALWAYS,
    Condition,
    Facts,
    Threshold,
    Vocabulary,
    optional,
    parse_answer_condition,
    parse_condition,
)
from assessments.rubric import Choice, Question, RubricError, Section, _check_labels

QUESTION_KINDS = ("single", "multi", "integer")


@dataclass(frozen=True)
class LaneValue:
    id: str
    label: str


@dataclass(frozen=True)
class Case:
    when: Condition
    then: str


@dataclass(frozen=True)
class LaneRule:
    id: str
    lane: str
    when: Condition
    cases: tuple[Case, ...]  # a plain `then` is one unconditional case
    text: str


@dataclass(frozen=True)
class Lane:
    id: str
    label: str
    values: tuple[LaneValue, ...]
    rules: tuple[LaneRule, ...]

    def value_label(self, value: str) -> str:
        return next(v.label for v in self.values if v.id == value)


@dataclass(frozen=True)
class VerdictRow:
    lanes: tuple[tuple[str, frozenset[str]], ...]  # (lane id, values) for every lane
    verdict: str


@dataclass(frozen=True)
class Reason:
    when: Condition
    question: str
    reason: str


@dataclass(frozen=True)
class Approach:
    id: str
    label: str
    summary: str
    ruled_out: tuple[Reason, ...]
    not_needed: tuple[Reason, ...]


@dataclass(frozen=True)
class Effect:
    """A blocker, soft spot, warning or next step: raised whenever `when` holds."""

    code: str
    when: Condition
    questions: tuple[str, ...]  # the answers behind it (the first is "the" question)
    message: str
    fix: str = ""  # blockers: what to do; soft spots: what would remove it

    @property
    def question(self) -> str:
        return self.questions[0]


@dataclass(frozen=True)
class Signal:
    id: str
    label: str
    leans: str
    when: Condition
    lane: str = ""  # the lane it informs (the report's decision matrix says so)


@dataclass(frozen=True)
class LanesRubric:
    engine: ClassVar[str] = "lanes"

    version: str
    title: str
    sections: tuple[Section, ...]
    questions: Mapping[str, Question]
    thresholds: Mapping[str, Threshold]
    conditions: Mapping[str, Condition]
    lanes: tuple[Lane, ...]
    verdict_table: tuple[VerdictRow, ...]
    no_verdict: tuple[tuple[str, str], ...]
    approaches: tuple[Approach, ...]
    blockers: tuple[Effect, ...]
    soft_spots: tuple[Effect, ...]
    warnings: tuple[Effect, ...]
    next_steps: tuple[Effect, ...]
    signals: tuple[Signal, ...]
    action_questions: frozenset[str]
    confidence_high: int
    confidence_medium: int
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def rules(self) -> tuple[LaneRule, ...]:
        """Every lane rule, lane by lane, in order."""
        return tuple(rule for lane in self.lanes for rule in lane.rules)

    @property
    def required_ids(self) -> tuple[str, ...]:
        """Questions required when asked (see asked_ids)."""
        return tuple(q.id for q in self.questions.values() if q.required)

    def asked_ids(self, answers: Mapping[str, Any]) -> tuple[str, ...]:
        """The questions whose ask_if holds for these answers, in rubric order.

        An ask_if reads only earlier questions (checked on load), and only their answers if
        those were asked themselves.
        """
        asked: dict[str, Any] = {}
        order = []
        for question in self.questions.values():
            if question.ask_if is None or question.ask_if.holds(Facts(asked)):
                order.append(question.id)
                if question.id in answers:
                    asked[question.id] = answers[question.id]
        return tuple(order)

    def lane(self, lane_id: str) -> Lane:
        return next(lane for lane in self.lanes if lane.id == lane_id)

    def approach(self, approach_id: str) -> Approach:
        return next(a for a in self.approaches if a.id == approach_id)

    def verdict_label(self, verdict: str) -> str:
        return self.approach(verdict).label

    def readiness_label(self, readiness: str) -> str:
        return self.labels["readiness"][readiness]

    def confidence_label(self, confidence: str) -> str:
        return self.labels["confidence"][confidence]


def _unique(codes: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise RubricError(f"duplicate {what} {code!r}")
        seen.add(code)


def _question(raw: Mapping[str, Any], section_id: str) -> Question:
    kind = raw["kind"]
    if kind not in QUESTION_KINDS:
        raise RubricError(f"question {raw['id']!r} has unknown kind {kind!r}")
    choices = tuple(Choice(c["id"], c["label"]) for c in raw.get("choices", ()))
    _unique((c.id for c in choices), f"choice of {raw['id']!r}")
    if kind == "integer" and choices:
        raise RubricError(f"question {raw['id']!r} is a whole number and cannot have choices")
    if kind != "integer" and not choices:
        raise RubricError(f"question {raw['id']!r} has no choices")
    order = tuple(raw.get("order", ()))
    unknown = sorted(set(order) - {c.id for c in choices})
    if unknown:
        raise RubricError(f"order of {raw['id']!r} names unknown choices {unknown}")
    return Question(
        id=raw["id"],
        kind=kind,
        text=raw["text"],
        why=raw["why"],
        section_id=section_id,
        required=raw.get("required", True),
        choices=choices,
        label=raw.get("label", raw["id"]),
        order=order,
    )


def _thresholds(raw: Mapping[str, Any], questions: Mapping[str, Question]) -> dict[str, Threshold]:
    thresholds = {}
    for name, spec in raw.items():
        question = questions.get(spec.get("question"))
        if question is None:
            raise RubricError(f"threshold {name!r} names unknown question {spec.get('question')!r}")
        label = spec.get("label", name)
        if question.kind == "integer":
            value = spec.get("value")
            if isinstance(value, bool) or not isinstance(value, int):
                raise RubricError(f"threshold {name!r} needs a whole-number value")
            thresholds[name] = Threshold(name, question.id, label, value=value)
            continue
        if not question.order:
            raise RubricError(f"threshold {name!r}: question {question.id!r} has no order")
        choice = spec.get("choice")
        if choice not in question.order:
            raise RubricError(
                f"threshold {name!r}: {choice!r} is not in the order of {question.id!r}"
            )
        thresholds[name] = Threshold(
            name, question.id, label, position=question.order.index(choice), order=question.order
        )
    return thresholds


def _sections(data: Mapping[str, Any]) -> tuple[Section, ...]:
    sections = []
    for raw in data["sections"]:
        questions = tuple(_question(q, raw["id"]) for q in raw["questions"])
        sections.append(Section(raw["id"], raw["title"], raw.get("intro", ""), questions))
    return tuple(sections)


def _with_ask_if(
    sections: tuple[Section, ...], data: Mapping[str, Any], vocab: Vocabulary
) -> tuple[Section, ...]:
    """The sections again, each question with its parsed ask_if (earlier questions only)."""
    raw_ask_if = {q["id"]: q.get("ask_if") for s in data["sections"] for q in s["questions"]}
    seen: set[str] = set()
    result = []
    for section in sections:
        questions = []
        for question in section.questions:
            raw = raw_ask_if[question.id]
            ask_if = None
            if raw is not None:
                where = f"ask_if of {question.id!r}"
                ask_if = parse_answer_condition(raw, vocab, where)
                later = sorted(ask_if.questions() - seen)
                if later:
                    raise RubricError(f"{where} reads {later}, which are not asked before it")
            seen.add(question.id)
            questions.append(replace(question, ask_if=ask_if))
        result.append(Section(section.id, section.title, section.intro, tuple(questions)))
    return tuple(result)


def _lanes(data: Mapping[str, Any], vocab: Vocabulary) -> tuple[Lane, ...]:
    lanes = []
    for raw in data["lanes"]:
        lane_id = raw["id"]
        values = tuple(LaneValue(v["id"], v["label"]) for v in raw["values"])
        value_ids = {v.id for v in values}
        rules = []
        for rule in raw["rules"]:
            where = f"lane rule {rule['id']}"
            if ("then" in rule) == ("cases" in rule):
                raise RubricError(f"{where}: give exactly one of `then` and `cases`")
            raw_cases = rule["cases"] if "cases" in rule else [{"then": rule["then"]}]
            cases = []
            for case in raw_cases:
                if case.get("then") not in value_ids:
                    raise RubricError(
                        f"{where}: lane {lane_id!r} has no value {case.get('then')!r}"
                    )
                cases.append(
                    Case(
                        optional(case.get("when"), parse_answer_condition, vocab, where),
                        case["then"],
                    )
                )
            if cases[-1].when is not ALWAYS:
                raise RubricError(f"{where}: the last case must have no `when`")
            when = optional(rule.get("when"), parse_answer_condition, vocab, where)
            rules.append(LaneRule(rule["id"], lane_id, when, tuple(cases), rule["text"]))
        if not rules or rules[-1].when is not ALWAYS:
            raise RubricError(
                f"lane {lane_id!r}: the last rule must have no `when`, so every answer set "
                "gets a value"
            )
        lanes.append(Lane(lane_id, raw["label"], values, tuple(rules)))
    return tuple(lanes)


def _verdict_table(
    raw: Mapping[str, Any], lanes: tuple[Lane, ...], verdicts: frozenset[str]
) -> tuple[tuple[VerdictRow, ...], tuple[tuple[str, str], ...]]:
    lane_values = {lane.id: [v.id for v in lane.values] for lane in lanes}
    rows = []
    for index, row in enumerate(raw["table"]):
        where = f"verdict table row {index + 1}"
        if row.get("verdict") not in verdicts:
            raise RubricError(f"{where}: unknown verdict {row.get('verdict')!r}")
        picked = []
        for lane_id, values in lane_values.items():
            given = frozenset(row.get(lane_id, ()))
            unknown = sorted(given - set(values))
            if not given or unknown:
                raise RubricError(
                    f"{where}: lane {lane_id!r} needs values from {values}, not {sorted(given)}"
                )
            picked.append((lane_id, given))
        rows.append(VerdictRow(tuple(picked), row["verdict"]))
    no_verdict = tuple((lane_id, raw["no_verdict"][lane_id]) for lane_id in lane_values)
    for combination in product(*lane_values.values()):
        pairs = tuple(zip(lane_values, combination, strict=True))
        matches = [
            r
            for r in rows
            if all(value in values for (_, values), (_, value) in zip(r.lanes, pairs, strict=True))
        ]
        named = ", ".join(f"{lane}={value}" for lane, value in pairs)
        if pairs == no_verdict:
            if matches:
                raise RubricError(f"verdict table gives a verdict for the no-verdict pair {named}")
        elif len(matches) != 1:
            raise RubricError(
                f"verdict table has {len(matches)} verdicts for {named} (it needs exactly one)"
            )
    return tuple(rows), no_verdict


def _effects(
    raw_list: list[Mapping[str, Any]],
    what: str,
    vocab: Vocabulary,
    *,
    fix_key: str | None = None,
) -> tuple[Effect, ...]:
    _unique((raw["code"] for raw in raw_list), what)
    effects = []
    for raw in raw_list:
        where = f"{what} {raw['code']}"
        questions = tuple(raw.get("questions", [raw.get("question")]))
        unknown = [q for q in questions if q not in vocab.questions]
        if not questions or unknown:
            raise RubricError(f"{where} names unknown questions {unknown}")
        effects.append(
            Effect(
                raw["code"],
                parse_condition(raw["when"], vocab, where),
                questions,
                raw.get("message", raw.get("text", "")),
                raw.get(fix_key, "") if fix_key else "",
            )
        )
    return tuple(effects)


def _reasons(
    raw_list: list[Mapping[str, Any]], vocab: Vocabulary, where: str
) -> tuple[Reason, ...]:
    reasons = []
    for raw in raw_list:
        if raw.get("question") not in vocab.questions:
            raise RubricError(f"{where} names unknown question {raw.get('question')!r}")
        reasons.append(
            Reason(
                optional(raw.get("when"), parse_condition, vocab, where),
                raw["question"],
                raw["reason"],
            )
        )
    return tuple(reasons)


def _approaches(data: Mapping[str, Any], vocab: Vocabulary) -> tuple[Approach, ...]:
    approaches = []
    for raw in data["approaches"]:
        where = f"approach {raw['id']}"
        not_needed = _reasons(raw.get("not_needed", []), vocab, f"{where} not_needed")
        if not not_needed or not_needed[-1].when is not ALWAYS:
            raise RubricError(f"{where}: the last not_needed reason must have no `when`")
        approaches.append(
            Approach(
                raw["id"],
                raw["label"],
                raw.get("summary", ""),
                _reasons(raw.get("ruled_out", []), vocab, f"{where} ruled_out"),
                not_needed,
            )
        )
    return tuple(approaches)


def parse_lanes_rubric(data: Mapping[str, Any]) -> LanesRubric:
    """Build a LanesRubric, checking every reference and code (RubricError otherwise)."""
    sections = _sections(data)
    _unique((s.id for s in sections), "section")
    all_questions = [q for s in sections for q in s.questions]
    _unique((q.id for q in all_questions), "question")
    questions = {q.id: q for q in all_questions}
    rule_ids = [rule["id"] for lane in data["lanes"] for rule in lane["rules"]]
    _unique(rule_ids, "lane rule")
    _unique((lane["id"] for lane in data["lanes"]), "lane")
    for lane in data["lanes"]:
        _unique((v["id"] for v in lane["values"]), f"value of lane {lane['id']!r}")
    approach_ids = [a["id"] for a in data["approaches"]]
    _unique(approach_ids, "approach")
    vocab = Vocabulary(
        questions=questions,
        thresholds=_thresholds(data.get("thresholds", {}), questions),
        lanes={lane["id"]: tuple(v["id"] for v in lane["values"]) for lane in data["lanes"]},
        rule_ids=frozenset(rule_ids),
        verdicts=frozenset(approach_ids),
        named_raw=data.get("conditions", {}),
    )
    for name in vocab.named_raw:
        vocab.named_condition(name, "conditions")
    sections = _with_ask_if(sections, data, vocab)
    questions = {q.id: q for s in sections for q in s.questions}
    lanes = _lanes(data, vocab)
    table, no_verdict = _verdict_table(data["verdicts"], lanes, vocab.verdicts)
    signals = tuple(
        Signal(
            s["id"],
            s["label"],
            s["leans"],
            parse_condition(s["when"], vocab, f"signal {s['id']}"),
            s.get("lane", ""),
        )
        for s in data["signals"]
    )
    _unique((s.id for s in signals), "signal")
    for s in signals:
        if s.leans not in vocab.verdicts:
            raise RubricError(f"signal {s.id} leans to unknown approach {s.leans!r}")
        if s.lane not in vocab.lanes:
            raise RubricError(f"signal {s.id} informs unknown lane {s.lane!r}")
    action = frozenset(data["flips"]["action"])
    unknown = sorted(action - set(questions))
    if unknown:
        raise RubricError(f"flips.action names unknown questions {unknown}")
    confidence = data["confidence"]
    return LanesRubric(
        version=data["version"],
        title=data["title"],
        sections=sections,
        questions=questions,
        thresholds=vocab.thresholds,
        conditions=dict(vocab.named),
        lanes=lanes,
        verdict_table=table,
        no_verdict=no_verdict,
        approaches=_approaches(data, vocab),
        blockers=_effects(data["blockers"], "blocker", vocab, fix_key="fix"),
        soft_spots=_effects(data["soft_spots"], "soft spot", vocab, fix_key="remove"),
        warnings=_effects(data["warnings"], "warning", vocab),
        next_steps=_effects(data["next_steps"], "next step", vocab),
        signals=signals,
        action_questions=action,
        confidence_high=confidence["high"],
        confidence_medium=confidence["medium"],
        labels=_check_labels(data.get("labels", {})),
    )
