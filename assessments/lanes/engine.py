"""Score answers under a v2 ("lanes") rubric. Pure: no Django, no I/O.

1. Questions whose ask_if does not hold are set aside (listed as not asked, never read).
2. Each lane's rules are tried in order; the first that applies decides its value.
3. The rubric's table turns the two lane values into the verdict.
4. Blockers (readiness), soft spots (confidence), warnings, next steps, signals and the
   alternatives are the rubric's conditions evaluated against the answers and lane results;
   flips re-decide the verdict for every single-answer change.

The engine names no question choice: every rule, threshold and text comes from the rubric.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from assessments.lanes.conditions import Condition, Facts
from assessments.lanes.rubric import Effect, Lane, LaneRule, LanesRubric
from assessments.scoring import alternatives as answer_alternatives


class NoVerdict(ValueError):
    """The lanes came out as the rubric's no-verdict pair (validation refuses such answers)."""


@dataclass(frozen=True)
class LaneDecision:
    lane: str
    value: str
    rule: LaneRule
    questions: tuple[str, ...]  # the answers the rules read up to the deciding one


@dataclass(frozen=True)
class LanesResult:
    rubric_version: str
    verdict: str
    lanes: dict[str, str]
    deciding_rules: dict[str, str]
    confidence: str
    soft_spots: list[dict[str, Any]]
    readiness: str
    blockers: list[dict[str, Any]]
    signals: list[dict[str, Any]]
    rationale: list[dict[str, Any]]
    alternatives: list[dict[str, Any]]
    flips: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    next_steps: list[dict[str, Any]]
    not_asked: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def warning_codes(self) -> list[str]:
        return [warning["code"] for warning in self.warnings]

    @property
    def blocker_codes(self) -> list[str]:
        return [blocker["code"] for blocker in self.blockers]

    @property
    def soft_spot_codes(self) -> list[str]:
        return [spot["code"] for spot in self.soft_spots]


def asked_answers(
    answers: Mapping[str, Any], rubric: LanesRubric
) -> tuple[dict[str, Any], list[str]]:
    """(the answers to asked questions, the ids of questions not asked), in rubric order."""
    asked_ids = rubric.asked_ids(answers)
    asked = {q: answers[q] for q in asked_ids if q in answers}
    return asked, [q for q in rubric.questions if q not in asked_ids]


def _ordered(
    rubric: LanesRubric, questions: Iterable[str], asked: Mapping[str, Any]
) -> tuple[str, ...]:
    wanted = set(questions)
    return tuple(q for q in rubric.questions if q in wanted and q in asked)


def _decide_lane(
    lane: Lane, asked: Mapping[str, Any], rubric: LanesRubric
) -> tuple[LaneDecision, set[str]]:
    """The lane's first rule that applies and its value, with every question the rules read
    on the way (answered or not)."""
    facts = Facts(asked)
    # A lane's last rule has no `when` (checked on load), so one always applies.
    rule = next(rule for rule in lane.rules if rule.when.holds(facts))
    value = next(case.then for case in rule.cases if case.when.holds(facts))
    return LaneDecision(lane.id, value, rule, _ordered(rubric, facts.read, asked)), facts.read


def decide_lanes(asked: Mapping[str, Any], rubric: LanesRubric) -> dict[str, LaneDecision]:
    return {lane.id: _decide_lane(lane, asked, rubric)[0] for lane in rubric.lanes}


def values_of(decisions: Mapping[str, LaneDecision]) -> dict[str, str]:
    """Each lane's value: {"knowledge": "retrieval", "behaviour": "fine_tune"}."""
    return {lane: decision.value for lane, decision in decisions.items()}


@dataclass(frozen=True)
class LaneProgress:
    """A lane of an unfinished assessment: settled (no answer still to give can change it)
    with its decision, or waiting for the answers its rules would read next."""

    lane: str
    decision: LaneDecision | None
    waiting_for: tuple[str, ...] = ()

    @property
    def settled(self) -> bool:
        return self.decision is not None


def lane_progress(answers: Mapping[str, Any], rubric: LanesRubric) -> dict[str, LaneProgress]:
    """Each lane as it stands while answers are still coming in.

    A condition's outcome depends only on the answers it read (evaluation short-circuits and
    records exactly those), and a missing answer reads as "no". So a lane is settled when
    every answer its rules read up to the deciding one is given; otherwise it waits for the
    unanswered ones among them. A question that is not asked reads as "no" for good.
    """
    asked_ids = rubric.asked_ids(answers)
    asked = {q: answers[q] for q in asked_ids if q in answers}
    progress = {}
    for lane in rubric.lanes:
        decision, read = _decide_lane(lane, asked, rubric)
        waiting = tuple(q for q in asked_ids if q in read and q not in asked)
        progress[lane.id] = LaneProgress(lane.id, None if waiting else decision, waiting)
    return progress


def possible_verdicts(settled: Mapping[str, str], rubric: LanesRubric) -> tuple[str, ...]:
    """The verdicts still possible given the lanes settled so far, in the rubric's order."""
    found = []
    for row in rubric.verdict_table:
        fits = all(settled[lane] in values for lane, values in row.lanes if lane in settled)
        if fits and row.verdict not in found:
            found.append(row.verdict)
    return tuple(a.id for a in rubric.approaches if a.id in found)


def verdict_for(lanes: Mapping[str, str], rubric: LanesRubric) -> str:
    for row in rubric.verdict_table:
        if all(lanes[lane_id] in values for lane_id, values in row.lanes):
            return row.verdict
    raise NoVerdict("nothing to solve yet: no knowledge need and no behaviour need")


def lane_values(answers: Mapping[str, Any], rubric: LanesRubric) -> dict[str, str]:
    """Each lane's value under `answers` (questions not asked set aside): what flips need."""
    asked, _ = asked_answers(answers, rubric)
    return values_of(decide_lanes(asked, rubric))


def decide(answers: Mapping[str, Any], rubric: LanesRubric) -> str:
    """Only the verdict: what property tests need."""
    return verdict_for(lane_values(answers, rubric), rubric)


class _Context:
    """Answers and lane results, to evaluate the effects' conditions against."""

    def __init__(
        self,
        rubric: LanesRubric,
        asked: Mapping[str, Any],
        decisions: Mapping[str, LaneDecision],
        verdict: str,
    ):
        self.rubric = rubric
        self.asked = asked
        self.lanes = values_of(decisions)
        self.rules = frozenset(d.rule.id for d in decisions.values())
        self.verdict = verdict
        self.lane_questions = {lane: d.questions for lane, d in decisions.items()}
        self.rule_lanes = {d.rule.id: lane for lane, d in decisions.items()}

    def check(
        self, condition: Condition, *, through_lanes: bool = True
    ) -> tuple[bool, tuple[str, ...]]:
        """Whether it holds, and the asked questions it read: with `through_lanes`, testing a
        lane or a deciding rule reads the answers that decided the lane too; without, only
        the answers the condition tested itself."""
        facts = Facts(
            self.asked,
            self.lanes,
            self.rules,
            self.verdict,
            lane_questions=self.lane_questions if through_lanes else {},
            rule_lanes=self.rule_lanes if through_lanes else {},
        )
        holds = condition.holds(facts)
        return holds, _ordered(self.rubric, facts.read, self.asked)

    def raised(self, effects: Iterable[Effect]) -> list[tuple[Effect, tuple[str, ...]]]:
        """The effects that hold, each with the asked questions behind it (its own first)."""
        found = []
        for effect in effects:
            holds, read = self.check(effect.when)
            if holds:
                own = [q for q in effect.questions if q in self.asked and (q in read or not read)]
                found.append((effect, tuple(dict.fromkeys([*own, *read]))))
        return found


def _context(
    answers: Mapping[str, Any], rubric: LanesRubric
) -> tuple[_Context, dict[str, LaneDecision], list[str]]:
    """The answers and lane results to evaluate effects against, the lane decisions and the
    questions not asked. Raises NoVerdict for the rubric's no-verdict pair."""
    asked, not_asked = asked_answers(answers, rubric)
    decisions = decide_lanes(asked, rubric)
    verdict = verdict_for(values_of(decisions), rubric)
    return _Context(rubric, asked, decisions, verdict), decisions, not_asked


def checks_not_raised(answers: Mapping[str, Any], rubric: LanesRubric) -> list[dict[str, Any]]:
    """The blockers, soft spots, warnings and signals that were checked and did not hold,
    each with the asked answers its condition tested itself, in rubric order:
    [{"kind": "blocker", "code": "no_eval_set", "questions": ["eval_set"]}, ...].

    kind is "blocker", "soft_spot", "warning" or "signal" (code: the signal's id). What a
    condition read through a lane or a deciding rule is left out: those answers decided the
    lane, which the lane's own rationale already says. Checks that read no asked answer are
    left out. Not part of the LanesResult (its keys are a stable contract): the report asks
    for it beside the result of the same answers.
    """
    context, _, _ = _context(answers, rubric)
    checks = []
    for kind, items in (
        ("blocker", rubric.blockers),
        ("soft_spot", rubric.soft_spots),
        ("warning", rubric.warnings),
    ):
        for effect in items:
            holds, read = context.check(effect.when, through_lanes=False)
            if not holds and read:
                checks.append({"kind": kind, "code": effect.code, "questions": list(read)})
    for signal in rubric.signals:
        holds, read = context.check(signal.when, through_lanes=False)
        if not holds and read:
            checks.append({"kind": "signal", "code": signal.id, "questions": list(read)})
    return checks


def _answers_text(context: _Context, questions: Iterable[str]) -> str:
    rubric_questions = context.rubric.questions
    return "; ".join(
        f"{rubric_questions[q].label}: {rubric_questions[q].describe(context.asked[q])}"
        for q in questions
    )


def _with_answers(text: str, context: _Context, questions: tuple[str, ...]) -> str:
    answers = _answers_text(context, questions)
    return f"{text} ({answers})" if answers else text


def _rationale(
    context: _Context,
    decisions: Mapping[str, LaneDecision],
    raised: Iterable[tuple[str, list[tuple[Effect, tuple[str, ...]]]]],
) -> list[dict[str, Any]]:
    rubric = context.rubric
    points = []
    for decision in decisions.values():
        lane = rubric.lane(decision.lane)
        points.append(
            {
                "rule": decision.rule.id,
                "kind": "lane_rule",
                "lane": lane.id,
                "value": decision.value,
                "questions": list(decision.questions),
                "text": _with_answers(
                    f"{lane.label}: {lane.value_label(decision.value)}. {decision.rule.text}",
                    context,
                    decision.questions,
                ),
            }
        )
    for kind, effects in raised:
        for effect, questions in effects:
            points.append(
                {
                    "code": effect.code,
                    "kind": kind,
                    "questions": list(questions),
                    "text": _with_answers(effect.message, context, questions),
                }
            )
    return points


def _alternatives(context: _Context) -> list[dict[str, Any]]:
    found = []
    for approach in context.rubric.approaches:
        if approach.id == context.verdict:
            continue
        for status, reasons in (
            ("ruled_out", approach.ruled_out),
            ("not_needed", approach.not_needed),
        ):
            reason = next((r for r in reasons if context.check(r.when)[0]), None)
            if reason is not None:
                found.append(
                    {
                        "approach": approach.id,
                        "label": approach.label,
                        "status": status,
                        "reason": reason.reason,
                        "question": reason.question,
                    }
                )
                break
    return found


def _options(question_id: str, value: Any, rubric: LanesRubric) -> list[Any]:
    """Every single-answer change: another choice, one choice toggled, or for a whole
    number the nearest value across each of its thresholds."""
    question = rubric.questions[question_id]
    if question.kind != "integer":
        return answer_alternatives(question_id, value, rubric)  # type: ignore[arg-type]
    options = []
    for threshold in rubric.thresholds.values():
        if threshold.question != question_id or threshold.value is None:
            continue
        option = threshold.value - 1 if value >= threshold.value else threshold.value
        if option >= 0 and option not in options:
            options.append(option)
    return options


def find_flips(
    answers: Mapping[str, Any],
    asked: Mapping[str, Any],
    decisions: Mapping[str, LaneDecision],
    rubric: LanesRubric,
) -> list[dict[str, Any]]:
    """Every single change of an asked answer that changes the verdict, actions first.

    A change that leaves the answers invalid (nothing to solve, or a newly asked question
    without an answer) is not a flip: its verdict is not known.
    """
    from assessments.validation import SingleChangeCheck  # noqa: PLC0415 - imports scoring

    verdict = verdict_for(values_of(decisions), rubric)
    read_by_lanes = {question for d in decisions.values() for question in d.questions}
    check = SingleChangeCheck(answers, rubric)
    flips = []
    for question_id, value in asked.items():
        if question_id not in read_by_lanes and question_id not in rubric.gating_ids:
            continue  # no rule deciding a lane read it, and the same questions stay asked
        for option in _options(question_id, value, rubric):
            if check.problems(question_id, option):
                continue
            if question_id in rubric.gating_ids:
                changed_asked, _ = asked_answers({**answers, question_id: option}, rubric)
            else:  # the same questions are asked: only this answer differs
                changed_asked = {**asked, question_id: option}
            lanes = values_of(decide_lanes(changed_asked, rubric))
            try:
                new_verdict = verdict_for(lanes, rubric)
            except NoVerdict:
                continue
            if new_verdict == verdict:
                continue
            kind = rubric.flip_kind(question_id, value, option)
            flips.append(
                {
                    "question": question_id,
                    "from": value,
                    "to": option,
                    "verdict": new_verdict,
                    "lanes": lanes,  # the verdict's label depends on them (labels_by_lane)
                    "kind": kind,
                    # The change as a sentence ("Collect 1,000+ reviewed examples"),
                    # worded by the rubric; the verdict it leads to is shown beside it.
                    "text": rubric.flip_text(question_id, value, option),
                }
            )
    return sorted(flips, key=lambda flip: flip["kind"] != "action")


def _confidence(count: int, rubric: LanesRubric) -> str:
    if count <= rubric.confidence_high:
        return "high"
    if count <= rubric.confidence_medium:
        return "medium"
    return "low"


def score_lanes(
    answers: Mapping[str, Any], rubric: LanesRubric, *, include_flips: bool = True
) -> LanesResult:
    """Score clean answers (see validation.clean_answers) under a v2 rubric."""
    context, decisions, not_asked = _context(answers, rubric)
    asked, lanes, verdict = context.asked, context.lanes, context.verdict
    blockers = context.raised(rubric.blockers)
    soft_spots = context.raised(rubric.soft_spots)
    warnings = context.raised(rubric.warnings)
    next_steps = context.raised(rubric.next_steps)
    signals = []
    for signal in rubric.signals:
        holds, read = context.check(signal.when)
        signals.append(
            {
                "id": signal.id,
                "label": signal.label,
                "raised": holds,
                "leans": signal.leans,
                "questions": list(read),
            }
        )
    return LanesResult(
        rubric_version=rubric.version,
        verdict=verdict,
        lanes=lanes,
        deciding_rules={lane: d.rule.id for lane, d in decisions.items()},
        confidence=_confidence(len(soft_spots), rubric),
        soft_spots=[
            {
                "code": e.code,
                "question": qs[0] if qs else e.question,
                "message": e.message,
                "remove": e.fix,
            }
            for e, qs in soft_spots
        ],
        readiness="not_ready" if blockers else "ready",
        blockers=[
            {
                "code": e.code,
                "question": qs[0] if qs else e.question,
                "message": e.message,
                "fix": e.fix,
            }
            for e, qs in blockers
        ],
        signals=signals,
        rationale=_rationale(
            context,
            decisions,
            (("blocker", blockers), ("soft_spot", soft_spots), ("warning", warnings)),
        ),
        alternatives=_alternatives(context),
        flips=find_flips(answers, asked, decisions, rubric) if include_flips else [],
        warnings=[
            {"code": e.code, "question": qs[0] if qs else e.question, "message": e.message}
            for e, qs in warnings
        ],
        next_steps=[
            {"code": e.code, "text": e.message, "questions": list(qs)} for e, qs in next_steps
        ],
        not_asked=not_asked,
    )
