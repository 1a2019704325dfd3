"""A v2 ("lanes") rubric as frozen dataclasses, checked for consistency while it is parsed.

Every failure is a RubricError naming what is wrong. No Django imports, and no I/O but
reading the earlier rubric an [upgrade] table names (to check the upgrade against it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
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
from assessments.lanes.flips import FlipWording, can_flip, flip_sentence, parse_flip_wording
from assessments.rubric import (
    Choice,
    Question,
    RubricError,
    Section,
    _check_labels,
    load_rubric,
)

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
    # (lane, value, label): the label once a result's lanes are known, where they change it
    labels_by_lane: tuple[tuple[str, str, str], ...] = ()


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
class UpgradeNote:
    """Answers of an earlier rubric an upgrade says something about: why they are left
    unanswered, or why a carried one is worth checking."""

    question: str
    choices: frozenset[str]  # empty: every answer to the question
    why: str


@dataclass(frozen=True)
class Upgrade:
    """The [upgrade] table: how an assessment of rubric `from_version` starts under this one
    (assessments/lanes/upgrade.py applies it). An answer whose question and choice both exist
    here is copied as is; a renamed choice is carried to its new id; anything else is left
    unanswered."""

    from_version: str
    renames: Mapping[str, Mapping[str, str]]  # question id -> {old choice: new choice}
    left_unanswered: Mapping[str, UpgradeNote]  # question id -> what is not carried
    # question id -> carried answers that may mean something narrower now (shown to check)
    worth_checking: Mapping[str, UpgradeNote] = field(default_factory=dict)


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
    upgrade: Upgrade | None = None  # how an assessment of an earlier rubric starts under this
    flip_wording: Mapping[str, FlipWording] = field(default_factory=dict)  # [flips.text]

    # Computed once (the rubric never changes): flips read these dozens of times per report.
    @cached_property
    def rules(self) -> tuple[LaneRule, ...]:
        """Every lane rule, lane by lane, in order."""
        return tuple(rule for lane in self.lanes for rule in lane.rules)

    @cached_property
    def required_ids(self) -> tuple[str, ...]:
        """Questions required when asked (see asked_ids)."""
        return tuple(q.id for q in self.questions.values() if q.required)

    @cached_property
    def gating_ids(self) -> frozenset[str]:
        """The questions some ask_if reads: changing any other answer asks the same questions."""
        return frozenset(
            question_id
            for question in self.questions.values()
            if question.ask_if is not None
            for question_id in question.ask_if.questions()
        )

    def asked_ids(self, answers: Mapping[str, Any]) -> tuple[str, ...]:
        """The questions whose ask_if holds for these answers, in rubric order.

        An ask_if reads only earlier questions (checked on load), and only their answers if
        those were asked themselves.
        """
        asked: dict[str, Any] = {}
        facts = Facts(asked)  # sees `asked` grow: each ask_if reads only earlier questions
        order = []
        for question in self.questions.values():
            if question.ask_if is None or question.ask_if.holds(facts):
                order.append(question.id)
                if question.id in answers:
                    asked[question.id] = answers[question.id]
        return tuple(order)

    def lane(self, lane_id: str) -> Lane:
        return next(lane for lane in self.lanes if lane.id == lane_id)

    def lane_rule(self, rule_id: str) -> LaneRule:
        return next(rule for rule in self.rules if rule.id == rule_id)

    def lane_text(self, lane_id: str, value: str) -> str:
        """How a lane's outcome reads everywhere: "Knowledge: retrieval"."""
        lane = self.lane(lane_id)
        return f"{lane.label}: {lane.value_label(value)}"

    def approach(self, approach_id: str) -> Approach:
        return next(a for a in self.approaches if a.id == approach_id)

    def verdict_label(self, verdict: str, lanes: Mapping[str, str] | None = None) -> str:
        """The verdict's label; with the lanes that led to it, the one that fits them ("Hybrid
        (fine-tuning + knowledge in the prompt)" when nothing is retrieved)."""
        approach = self.approach(verdict)
        for lane, value, label in approach.labels_by_lane if lanes else ():
            if lanes.get(lane) == value:
                return label
        return approach.label

    def result_label(self, result: Any) -> str:
        """A result's verdict, labelled for its lanes."""
        return self.verdict_label(result.verdict, result.lanes)

    def readiness_label(self, readiness: str) -> str:
        return self.labels["readiness"][readiness]

    def confidence_label(self, confidence: str) -> str:
        return self.labels["confidence"][confidence]

    def flip_text(self, question_id: str, before: Any, after: Any) -> str:
        """The sentence for a flip: changing one answer from `before` to `after`."""
        return flip_sentence(
            self.flip_wording[question_id],
            self.questions[question_id],
            self.thresholds.values(),
            before,
            after,
        )

    def flip_kind(self, question_id: str, before: Any, after: Any) -> str:
        """The flip's kind: "action" for a change the team can make (a deed of an action
        question, see FlipWording.is_deed), else "situation"."""
        if question_id in self.action_questions and self.flip_wording[question_id].is_deed(
            self.questions[question_id], before, after
        ):
            return "action"
        return "situation"


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
    asked_when = {
        q["id"]: q.get("asked_when", "") for s in data["sections"] for q in s["questions"]
    }
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
                if not asked_when[question.id]:
                    # The form without JavaScript shows every question with this line.
                    raise RubricError(f"question {question.id!r} has an ask_if but no asked_when")
            elif asked_when[question.id]:
                raise RubricError(f"question {question.id!r} has asked_when but no ask_if")
            seen.add(question.id)
            questions.append(replace(question, ask_if=ask_if, asked_when=asked_when[question.id]))
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
                _labels_by_lane(raw.get("labels_by_lane", []), data, where),
            )
        )
    return tuple(approaches)


def _labels_by_lane(raw: Any, data: Mapping[str, Any], where: str) -> tuple:
    """An approach's `labels_by_lane`: [{lane, value, label}], each naming a real lane value."""
    values = {lane["id"]: {v["id"] for v in lane["values"]} for lane in data["lanes"]}
    labels = []
    for entry in raw:
        lane, value, label = (entry.get(key) for key in ("lane", "value", "label"))
        if value not in values.get(lane, ()) or not isinstance(label, str) or not label:
            raise RubricError(
                f"{where} labels_by_lane: {entry!r} must name a lane, one of its values and a label"
            )
        labels.append((lane, value, label))
    return tuple(labels)


def _upgrade(raw: Any, version: str, questions: Mapping[str, Question]) -> Upgrade | None:
    """The [upgrade] table, checked against the rubric it upgrades from (check_upgrade)."""
    if raw is None:
        return None
    from_version = raw.get("from")
    if from_version == version:
        raise RubricError(f"upgrade.from names this rubric's own version {version!r}")
    try:
        old = load_rubric(from_version) if isinstance(from_version, str) else None
    except RubricError:
        old = None
    if old is None:
        raise RubricError(f"upgrade.from: unknown rubric version {from_version!r}")
    renames = {}
    for question_id, mapping in raw.get("renames", {}).items():
        if not isinstance(mapping, Mapping) or not all(
            isinstance(choice, str) for choice in mapping.values()
        ):
            raise RubricError(
                f"upgrade.renames of {question_id!r} must map {from_version} choices to "
                f"{version} choices"
            )
        renames[question_id] = dict(mapping)
    left = _upgrade_notes(raw, "left_unanswered", "leave every answer unanswered")
    checks = _upgrade_notes(raw, "worth_checking", "flag every answer")
    upgrade = Upgrade(from_version, renames, left, checks)
    check_upgrade(upgrade, old, questions, version)
    return upgrade


def _upgrade_notes(raw: Mapping, table: str, without_choices: str) -> dict[str, UpgradeNote]:
    """One of [upgrade]'s note tables: question id -> {choices (optional), why}."""
    notes = {}
    for question_id, entry in raw.get(table, {}).items():
        if not isinstance(entry, Mapping) or not entry.get("why"):
            raise RubricError(f"upgrade.{table} of {question_id!r} needs a `why`")
        choices = entry.get("choices")  # left out: every answer to the question
        if choices is not None and (
            not isinstance(choices, list)
            or not choices
            or not all(isinstance(choice, str) for choice in choices)
        ):
            raise RubricError(
                f"upgrade.{table} of {question_id!r}: `choices` must be a non-empty "
                f"list of ids (leave it out to {without_choices})"
            )
        notes[question_id] = UpgradeNote(question_id, frozenset(choices or ()), entry["why"])
    return notes


def check_upgrade(
    upgrade: Upgrade, old: Any, questions: Mapping[str, Question], version: str
) -> None:
    """Every question and choice the upgrade names exists in the old rubric (`old`) and in
    this one (`questions`), and every choice of the old rubric has a fate: copied as is (the
    same id exists here), renamed, or left unanswered. RubricError otherwise."""
    old_version = upgrade.from_version

    def question_of(table: str, question_id: str, rubric_version: str, known: Mapping) -> Any:
        if question_id not in known:
            raise RubricError(
                f"upgrade.{table}: {question_id!r} is not a question of {rubric_version}"
            )
        return known[question_id]

    def check_choices(table: str, question: Question, given: Any, rubric_version: str) -> None:
        unknown = sorted(set(given) - set(question.choice_ids))
        if unknown:
            raise RubricError(
                f"upgrade.{table} of {question.id!r}: {rubric_version} has no choices {unknown}"
            )

    for question_id, mapping in upgrade.renames.items():
        old_question = question_of("renames", question_id, old_version, old.questions)
        new_question = question_of("renames", question_id, version, questions)
        check_choices("renames", old_question, mapping.keys(), old_version)
        check_choices("renames", new_question, mapping.values(), version)
    for question_id, left in upgrade.left_unanswered.items():
        old_question = question_of("left_unanswered", question_id, old_version, old.questions)
        check_choices("left_unanswered", old_question, left.choices, old_version)
        kept = sorted(left.choices & set(getattr(questions.get(question_id), "choice_ids", ())))
        if kept:
            raise RubricError(
                f"upgrade.left_unanswered of {question_id!r}: {kept} are choices of {version} "
                "too (they are copied as is)"
            )
        every = left.choices or set(old_question.choice_ids)  # no choices: all of them
        renamed = sorted(every & set(upgrade.renames.get(question_id, {})))
        if renamed:
            raise RubricError(
                f"upgrade.left_unanswered of {question_id!r}: {renamed} are renamed too"
            )
    for question_id, note in upgrade.worth_checking.items():
        old_question = question_of("worth_checking", question_id, old_version, old.questions)
        question_of("worth_checking", question_id, version, questions)
        check_choices("worth_checking", old_question, note.choices, old_version)
        left = upgrade.left_unanswered.get(question_id)
        every = note.choices or set(old_question.choice_ids)
        dropped = sorted(every & left.choices) if left and left.choices else sorted(every)
        if left is not None and dropped:
            raise RubricError(
                f"upgrade.worth_checking of {question_id!r}: {dropped} are left unanswered "
                "(only a carried answer can be worth checking)"
            )
    for question_id, old_question in old.questions.items():
        left = upgrade.left_unanswered.get(question_id)
        if left is not None and not left.choices:
            continue  # no answer to it is carried over
        new_question = questions.get(question_id)
        if new_question is None or new_question.kind != old_question.kind:
            now = f"is {new_question.kind} in" if new_question else "is not a question of"
            raise RubricError(
                f"upgrade from {old_version}: {question_id!r} {now} {version}: leave it unanswered"
            )
        fated = (
            set(new_question.choice_ids)
            | set(upgrade.renames.get(question_id, {}))
            | (left.choices if left else set())
        )
        unfated = [choice for choice in old_question.choice_ids if choice not in fated]
        if unfated:
            raise RubricError(
                f"upgrade from {old_version}: choices {unfated} of {question_id!r} are not in "
                f"{version}, not renamed and not left unanswered"
            )


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
    flip_wording = parse_flip_wording(
        data["flips"].get("text", {}), questions, can_flip(lanes, questions, action), action
    )
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
        upgrade=_upgrade(data.get("upgrade"), data["version"], questions),
        flip_wording=flip_wording,
    )
