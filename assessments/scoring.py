"""The scoring service: (clean answers, rubric) -> Result. Pure: no Django, no I/O.

How a verdict comes about:
1. Every weight of the rubric whose condition holds moves the approach scores and becomes one
   rationale point naming the answer behind it.
2. The decision rules rule approaches out (retrieval impossible, nothing to train, too few
   examples for hybrid...). The verdict is the best-scoring approach no rule rules out.
3. Confidence comes from how far the verdict's score leads the next-best approach; readiness
   from the prerequisites of the chosen approach; warnings, flips and next steps follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from assessments.rubric import APPROACHES, NONE_CHOICE, Rubric

USES_RAG = frozenset({"rag", "hybrid"})
USES_FINE_TUNING = frozenset({"fine_tune", "hybrid"})
FEW_EXAMPLES = frozenset({"none", "under_200"})
KB_NOT_READY = frozenset({"messy", "none"})
FAST_CHANGE = frozenset({"daily", "weekly", "monthly"})
# Ties go to the simpler, cheaper-to-change approach: RAG is the right default.
TIE_ORDER = {"rag": 0, "hybrid": 1, "fine_tune": 2}


@dataclass(frozen=True)
class RationalePoint:
    question: str
    answer: Any
    answer_text: str
    reason: str
    effect: dict[str, int]
    kind: str = "weight"  # "weight" moves scores; "rule" rules approaches out
    rules_out: list[str] = field(default_factory=list)

    @property
    def leans(self) -> str:
        """The approach this point helps most ('' when it only rules out)."""
        if not self.effect:
            return ""
        return max(self.effect, key=lambda a: (self.effect[a], -TIE_ORDER[a]))


@dataclass(frozen=True)
class Result:
    verdict: str
    confidence: str
    readiness: str
    blockers: list[dict[str, str]]
    scores: dict[str, int]
    raw_scores: dict[str, int]
    ruled_out: dict[str, list[str]]
    runner_up: str | None
    signals: list[dict[str, Any]]
    rationale: list[RationalePoint]
    flips: list[dict[str, Any]]
    warnings: list[dict[str, str]]
    next_steps: list[str]
    rubric_version: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rationale"] = [dict(asdict(point), leans=point.leans) for point in self.rationale]
        return data

    @property
    def warning_codes(self) -> list[str]:
        return [warning["code"] for warning in self.warnings]


def _real_picks(value: Any) -> bool:
    return isinstance(value, list) and any(item != NONE_CHOICE for item in value)


def derive_facts(answers: Mapping[str, Any]) -> dict[str, bool]:
    return {
        "knowledge_need": _real_picks(answers.get("knowledge_needs")),
        "behavior_need": _real_picks(answers.get("behavior_needs")),
    }


def _describe(rubric: Rubric, question_id: str, answers: Mapping[str, Any]) -> str:
    return rubric.questions[question_id].describe(answers.get(question_id))


def _weigh(
    answers: Mapping[str, Any], rubric: Rubric, facts: Mapping[str, bool]
) -> tuple[dict[str, int], list[RationalePoint]]:
    raw = dict.fromkeys(APPROACHES, rubric.base_score)
    points = []
    for weight in rubric.weights:
        if not weight.when.holds(answers, facts):
            continue
        for approach, delta in weight.effect.items():
            raw[approach] += delta
        points.append(
            RationalePoint(
                question=weight.question,
                answer=answers.get(weight.question),
                answer_text=_describe(rubric, weight.question, answers),
                reason=weight.reason,
                effect=dict(weight.effect),
            )
        )
    return raw, points


def _apply_rules(
    answers: Mapping[str, Any], rubric: Rubric, facts: Mapping[str, bool]
) -> tuple[dict[str, list[str]], set[str], list[RationalePoint]]:
    """Which rules rule out each approach, which approaches can't fit at all, and the points."""
    ruled_out: dict[str, list[str]] = {approach: [] for approach in APPROACHES}
    unfit: set[str] = set()
    points = []
    for rule in rubric.rules:
        if not rule.when.holds(answers, facts):
            continue
        for approach in rule.rules_out:
            ruled_out[approach].append(rule.id)
            if rule.scope == "fit":
                unfit.add(approach)
        points.append(
            RationalePoint(
                question=rule.question,
                answer=answers.get(rule.question),
                answer_text=_describe(rubric, rule.question, answers),
                reason=rule.reason,
                effect={},
                kind="rule",
                rules_out=list(rule.rules_out),
            )
        )
    return ruled_out, unfit, points


def _rank(raw: Mapping[str, int], candidates: set[str] | list[str] | tuple[str, ...]) -> list[str]:
    return sorted(candidates, key=lambda a: (-raw[a], TIE_ORDER[a]))


def _decide(
    raw: Mapping[str, int], ruled_out: Mapping[str, list[str]], unfit: set[str]
) -> tuple[str, str | None]:
    allowed = [a for a in APPROACHES if not ruled_out[a]]
    # Every valid answer set leaves one approach; the fallback keeps the function total.
    verdict = _rank(raw, allowed or APPROACHES)[0]
    contenders = [a for a in APPROACHES if a != verdict and a not in unfit]
    runner_up = _rank(raw, contenders)[0] if contenders else None
    return verdict, runner_up


def decide_verdict(answers: Mapping[str, Any], rubric: Rubric) -> str:
    """Only the verdict: what flips and property tests need, without building a Result."""
    facts = derive_facts(answers)
    raw, _ = _weigh(answers, rubric, facts)
    ruled_out, unfit, _ = _apply_rules(answers, rubric, facts)
    return _decide(raw, ruled_out, unfit)[0]


def _confidence(raw: Mapping[str, int], verdict: str, rubric: Rubric) -> str:
    lead = raw[verdict] - max(raw[a] for a in APPROACHES if a != verdict)
    if lead >= rubric.confidence_high:
        return "high"
    if lead >= rubric.confidence_medium:
        return "medium"
    return "low"


def _blockers(answers: Mapping[str, Any], verdict: str, rubric: Rubric) -> list[dict[str, str]]:
    codes = []
    if verdict in USES_FINE_TUNING and answers.get("labeled_examples") in FEW_EXAMPLES:
        codes.append("too_few_examples")
    if verdict in USES_RAG and answers.get("kb_state") in KB_NOT_READY:
        codes.append("knowledge_base_not_ready")
    return [
        {
            "code": code,
            "question": rubric.blockers[code].question,
            "message": rubric.blockers[code].message,
            "action": rubric.blockers[code].reason,
        }
        for code in codes
    ]


def _warning_codes(
    answers: Mapping[str, Any], facts: Mapping[str, bool], verdict: str, runner_up: str | None
) -> list[str]:
    """The spec's warning table, one line per code, whatever the verdict."""
    uses_ft = verdict in USES_FINE_TUNING
    uses_rag = verdict in USES_RAG
    few = answers.get("labeled_examples") in FEW_EXAMPLES
    conditions = {
        "ft_not_for_knowledge": facts["knowledge_need"]
        and (verdict == "fine_tune" or answers.get("retrieval_possible") == "no"),
        "too_few_examples": few and (uses_ft or runner_up in USES_FINE_TUNING),
        "messy_knowledge_base": facts["knowledge_need"] and answers.get("kb_state") in KB_NOT_READY,
        "retrieval_latency": uses_rag and answers.get("latency") == "realtime",
        "prompt_baseline_first": verdict == "fine_tune"
        and answers.get("prompt_baseline") in {"not_tried", "above_80"},
        "hybrid_train_with_context": verdict == "hybrid",
        "rag_hard_parts": uses_rag and answers.get("eval_set") != "yes",
        "plan_retraining": uses_ft and answers.get("knowledge_change") in FAST_CHANGE,
        "opaque_for_compliance": uses_ft
        and (answers.get("attribution") == "required" or answers.get("regulated") == "yes"),
        "hosting_cost": uses_ft and answers.get("budget") == "limited",
    }
    return [code for code, holds in conditions.items() if holds]


def _next_steps(verdict: str, facts: Mapping[str, bool], rubric: Rubric) -> list[str]:
    steps = rubric.next_steps
    if verdict == "rag":
        extra = steps["rag_with_behaviour"] if facts["behavior_need"] else ()
        return [*steps["rag"], *extra]
    if verdict == "fine_tune":
        return list(steps["fine_tune"])
    return [*steps["rag"], *steps["fine_tune"], *steps["hybrid"]]


def _signals(
    answers: Mapping[str, Any], facts: Mapping[str, bool], rubric: Rubric
) -> list[dict[str, Any]]:
    return [
        {
            "id": signal.id,
            "label": signal.label,
            "raised": signal.when.holds(answers, facts),
            "leans": signal.leans,
        }
        for signal in rubric.signals
    ]


def alternatives(question_id: str, value: Any, rubric: Rubric) -> list[Any]:
    """Every answer one change away from `value` (for multi questions: one choice toggled)."""
    question = rubric.questions[question_id]
    if question.kind == "single":
        return [choice for choice in question.choice_ids if choice != value]
    if question.kind != "multi":
        return []
    current = set(value or [])
    options = []
    for choice in question.choice_ids:
        if choice == NONE_CHOICE:
            picked = {NONE_CHOICE}
        elif choice in current:
            picked = (current - {choice}) or {NONE_CHOICE}
        else:
            picked = (current - {NONE_CHOICE}) | {choice}
        option = [c for c in question.choice_ids if c in picked]
        if option != value and option not in options:
            options.append(option)
    return options


def _is_solvable(answers: Mapping[str, Any]) -> bool:
    facts = derive_facts(answers)
    return facts["knowledge_need"] or facts["behavior_need"]


def find_flips(answers: Mapping[str, Any], verdict: str, rubric: Rubric) -> list[dict[str, Any]]:
    """Every single-answer change that would change the verdict, with the new verdict."""
    flips = []
    for question_id, question in rubric.questions.items():
        if question_id not in answers:
            continue
        for option in alternatives(question_id, answers[question_id], rubric):
            changed = {**answers, question_id: option}
            if not _is_solvable(changed):
                continue
            new_verdict = decide_verdict(changed, rubric)
            if new_verdict != verdict:
                flips.append(
                    {
                        "question": question_id,
                        "from": answers[question_id],
                        "to": option,
                        "verdict": new_verdict,
                        "text": (
                            f"With “{question.describe(option)}” for “{question.text}”, "
                            f"the verdict becomes {rubric.verdict_label(new_verdict)}."
                        ),
                    }
                )
    return flips


def score(answers: Mapping[str, Any], rubric: Any, *, include_flips: bool = True) -> Any:
    """Score clean answers (see validation.clean_answers) under `rubric`, with the engine
    the rubric names: v1's weights and rules (a Result), or v2's lanes (a LanesResult).

    Missing answers simply trigger no weight, which is what a provisional verdict needs.
    """
    if rubric.engine != Rubric.engine:
        from assessments.lanes.engine import score_lanes  # noqa: PLC0415 - imports this module

        return score_lanes(answers, rubric, include_flips=include_flips)
    facts = derive_facts(answers)
    raw, weight_points = _weigh(answers, rubric, facts)
    ruled_out, unfit, rule_points = _apply_rules(answers, rubric, facts)
    verdict, runner_up = _decide(raw, ruled_out, unfit)
    blockers = _blockers(answers, verdict, rubric)
    return Result(
        verdict=verdict,
        confidence=_confidence(raw, verdict, rubric),
        readiness="not_ready" if blockers else "ready",
        blockers=blockers,
        scores={a: max(0, min(100, raw[a])) for a in APPROACHES},
        raw_scores=raw,
        ruled_out=ruled_out,
        runner_up=runner_up,
        signals=_signals(answers, facts, rubric),
        rationale=weight_points + rule_points,
        flips=find_flips(answers, verdict, rubric) if include_flips else [],
        warnings=[
            {
                "code": code,
                "message": rubric.warnings[code].message,
                "reason": rubric.warnings[code].reason,
            }
            for code in _warning_codes(answers, facts, verdict, runner_up)
        ],
        next_steps=_next_steps(verdict, facts, rubric),
        rubric_version=rubric.version,
    )
