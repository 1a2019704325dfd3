"""Plain data for the templates: what the questionnaire and the report show.

Built from the rubric, the answers and the scoring Result only, so the page, the shared
link and the PDF memo present exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from assessments.charts import (
    LADDER_NARROW,
    NARROW,
    LadderChart,
    RungInput,
    ladder_chart,
    score_chart,
)
from assessments.lanes.engine import LanesResult, checks_not_raised
from assessments.lanes.rubric import LanesRubric
from assessments.rubric import APPROACHES, Rubric
from assessments.scoring import RationalePoint, Result
from assessments.template_data import TemplateData
from assessments.validation import NOTE_MAX_LENGTH, asked_ids

TOP_REASONS = 3


def _effect_text(effect: Mapping[str, int], rubric: Rubric) -> str:
    return ", ".join(
        f"{rubric.verdict_label(a)} {'+' if effect[a] > 0 else '−'}{abs(effect[a])}"
        for a in APPROACHES
        if effect.get(a)
    )


def _field_text(value: Any) -> Any:
    """What a text field shows: a refused submission comes back as the strings typed (the
    last one, as a browser shows one), never as a Python list."""
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value[-1] if value else ""
    return value


def question_sections(
    rubric: Rubric,
    answers: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    submitted: Mapping[str, Any] | None = None,
    notes: Mapping[str, Mapping[str, Any]] | None = None,
    note_errors: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Sections with their questions, ready for the form. `submitted` values win over saved
    answers so a rejected submission shows what the user chose, not what was stored. `notes`
    are the notes to show (stored ones, or what a refused submission typed)."""
    errors = errors or {}
    submitted = submitted or {}
    notes = notes or {}
    note_errors = note_errors or {}
    # What the form shows decides what it asks: the stored answers, overlaid by the valid
    # values of a refused submission.
    shown_answers = {**answers, **{q: v for q, v in submitted.items() if q not in errors}}
    asked = set(asked_ids(rubric, {q: v for q, v in shown_answers.items() if v is not None}))
    sections = []
    for section in rubric.sections:
        questions = []
        for question in section.questions:
            value = submitted.get(question.id, answers.get(question.id))
            picked = set(value) if isinstance(value, list) else {value}
            questions.append(
                {
                    "id": question.id,
                    "kind": question.kind,
                    "text": question.text,
                    "label": question.label or question.text,
                    "why": question.why,
                    "required": question.required,
                    "input_type": {"single": "radio", "multi": "checkbox"}.get(
                        question.kind, "number"
                    ),
                    "value": _field_text(value),
                    "answered": question.id in answers,
                    "asked": question.id in asked,
                    "asked_when": question.asked_when,
                    "error": errors.get(question.id, ""),
                    "note": notes.get(question.id, {}).get("text", ""),
                    "not_applicable": bool(notes.get(question.id, {}).get("not_applicable")),
                    "note_error": note_errors.get(question.id, ""),
                    "note_max_length": NOTE_MAX_LENGTH,
                    "choices": [
                        {"id": c.id, "label": c.label, "checked": c.id in picked}
                        for c in question.choices
                    ],
                }
            )
        sections.append({"id": section.id, "title": section.title, "intro": section.intro,
                         "questions": questions})  # fmt: skip
    return sections


def _support(point: RationalePoint, verdict: str, rival: str | None) -> int:
    """How much a point pushed the verdict ahead of its closest rival."""
    rival_effect = point.effect.get(rival, 0) if rival else 0
    return point.effect.get(verdict, 0) - rival_effect


def _rival(result: Result) -> str | None:
    others = [a for a in APPROACHES if a != result.verdict]
    return result.runner_up or max(others, key=lambda a: result.raw_scores[a])


def reason_view(point: RationalePoint, rubric: Rubric) -> dict[str, Any]:
    return {
        "question_id": point.question,
        "question_text": rubric.questions[point.question].text,
        "answer_text": point.answer_text,
        "reason": point.reason,
        "kind": point.kind,
        "effect_text": _effect_text(point.effect, rubric),
        "leans": rubric.verdict_label(point.leans) if point.leans else "",
        "rules_out": [rubric.verdict_label(a) for a in point.rules_out],
    }


def top_reasons(result: Result, rubric: Rubric, limit: int = TOP_REASONS) -> list[dict[str, Any]]:
    rival = _rival(result)
    weighted = [p for p in result.rationale if p.kind == "weight"]
    ranked = sorted(weighted, key=lambda p: -_support(p, result.verdict, rival))
    return [
        reason_view(p, rubric) for p in ranked[:limit] if _support(p, result.verdict, rival) > 0
    ]


def verdict_view(result: Result, rubric: Rubric) -> dict[str, Any]:
    return {
        "code": result.verdict,
        "label": rubric.verdict_label(result.verdict),
        "confidence": result.confidence,
        "confidence_label": rubric.confidence_label(result.confidence),
        "readiness": result.readiness,
        "readiness_label": rubric.readiness_label(result.readiness),
        "blockers": result.blockers,
    }


def options_view(result: Result, rubric: Rubric) -> list[dict[str, Any]]:
    """Each approach with its score and why it won or lost."""
    rules = {rule.id: rule.reason for rule in rubric.rules}
    options = []
    for approach in APPROACHES:
        ruled_out = [rules[rule_id] for rule_id in result.ruled_out[approach]]
        if approach == result.verdict:
            why = "Chosen: the best-scoring approach that no decision rule rules out."
        elif ruled_out:
            why = "Ruled out: " + " ".join(ruled_out)
        else:
            why = "Scored lower than the verdict."
        options.append(
            {
                "code": approach,
                "label": rubric.verdict_label(approach),
                "summary": rubric.approaches[approach]["summary"],
                "score": result.scores[approach],
                "is_verdict": approach == result.verdict,
                "ruled_out": bool(ruled_out),
                "why": why,
            }
        )
    return options


def answers_view(
    rubric: Rubric,
    answers: Mapping[str, Any],
    notes: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    notes = notes or {}
    return [
        {
            "title": section.title,
            "answers": [
                {
                    "question_id": q.id,
                    "question_text": q.text,
                    "answer_text": q.describe(answers.get(q.id)),
                    "answered": q.id in answers,
                    "note": notes.get(q.id, {}).get("text", ""),
                    "not_applicable": bool(notes.get(q.id, {}).get("not_applicable")),
                }
                for q in section.questions
            ],
        }
        for section in rubric.sections
    ]


def headline(result: Result, rubric: Rubric) -> str:
    """One sentence: the verdict and how it compares with the next best approach."""
    rival = _rival(result)
    text = (
        f"{rubric.verdict_label(result.verdict)} is the best-scoring approach that no decision "
        f"rule rules out, with {result.scores[result.verdict]} of 100"
    )
    if rival:
        text += f"; the next best, {rubric.verdict_label(rival)}, has {result.scores[rival]}"
    return text + "."


def report_view(
    result: Result,
    rubric: Rubric,
    answers: Mapping[str, Any],
    notes: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything the report shows, in the order it shows it."""
    labels = {a: rubric.verdict_label(a) for a in APPROACHES}
    return {
        "result": result,
        "headline": headline(result, rubric),
        "verdict": verdict_view(result, rubric),
        "decisive": [reason_view(p, rubric) for p in result.rationale if p.kind == "rule"],
        "weighed": [reason_view(p, rubric) for p in result.rationale if p.kind == "weight"],
        "signals": [
            dict(signal, leans_label=rubric.verdict_label(signal["leans"]))
            for signal in result.signals
        ],
        "raised_count": sum(1 for s in result.signals if s["raised"]),
        "options": options_view(result, rubric),
        "chart": score_chart(result.scores, labels, result.verdict, result.ruled_out),
        "chart_narrow": score_chart(
            result.scores, labels, result.verdict, result.ruled_out, layout=NARROW
        ),
        "flips": [
            dict(
                flip,
                verdict_label=rubric.verdict_label(flip["verdict"]),
                question_text=rubric.questions[flip["question"]].text,
                to_text=rubric.questions[flip["question"]].describe(flip["to"]),
            )
            for flip in result.flips
        ],  # fmt: skip
        "warnings": result.warnings,
        "next_steps": result.next_steps,
        "answers": answers_view(rubric, answers, notes),
        "rubric_version": result.rubric_version,
        "rubric_title": rubric.title,
    }


# --- Rubric v2 ("lanes"): the report of a LanesResult -------------------------------------
#
# Typed, and built only from the result and its rubric: every label (verdicts, lanes, lane
# values, readiness, confidence, questions, choices) is the rubric's own. No 0-100 scores.

NOT_ASKED = "not asked"
NO_EFFECT = "recorded, no effect on this outcome"
# What an answer did through a blocker, soft spot, warning or signal that held ...
RAISED = {
    "blocker": "gated readiness",
    "soft_spot": "lowered confidence",
    "warning": "raised a warning",
    "signal": "raised a decision-matrix signal",
}
# ... and through one whose condition read it and did not hold (said only when the answer
# raised nothing of that kind: engine.checks_not_raised).
CHECKED = {
    "blocker": "checked for readiness",
    "soft_spot": "checked for confidence",
    "warning": "checked for warnings",
    "signal": "checked for decision-matrix signals",
}
CHECKED_PREFIX = "checked for "
NOTHING_RAISED = ": nothing raised"
RUNG_STATUS_TEXT = {"chosen": "✓ Verdict", "ruled_out": "✗ Ruled out", "not_needed": "Not needed"}


@dataclass(frozen=True)
class QuestionLink(TemplateData):
    """A question to go and answer: its id (the questionnaire's anchor #q-<id>) and name."""

    question_id: str
    label: str


def question_links(rubric: Any, question_ids: Any) -> tuple[QuestionLink, ...]:
    """Links to `question_ids` of `rubric`, named by each question's short label."""
    questions = rubric.questions
    return tuple(QuestionLink(q, questions[q].label or questions[q].text) for q in question_ids)


@dataclass(frozen=True)
class AnswerRef(TemplateData):
    """An answer a point read: linked to its row in "All answers"."""

    question_id: str
    label: str  # the question's short label
    answer_text: str


@dataclass(frozen=True)
class LaneView(TemplateData):
    id: str
    label: str
    value: str
    value_label: str
    rule: str  # the rule that decided it
    rule_text: str
    answers: tuple[AnswerRef, ...]


@dataclass(frozen=True)
class Rung(TemplateData):
    """One approach on the ladder, lightest first."""

    id: str
    label: str
    summary: str
    status: str  # "chosen", "ruled_out" or "not_needed"
    status_text: str
    reason: str
    answer: AnswerRef | None  # the answer behind the reason

    @property
    def is_verdict(self) -> bool:
        return self.status == "chosen"


@dataclass(frozen=True)
class Point(TemplateData):
    """A point of "Why": a deciding lane rule, or a blocker, soft spot or warning."""

    kind: str  # "lane_rule", "blocker", "soft_spot" or "warning"
    code: str  # the rule id or the effect's code
    title: str  # for a lane rule: "Knowledge: retrieval"
    text: str
    fix: str  # a blocker's fix, a soft spot's remedy
    answers: tuple[AnswerRef, ...]


@dataclass(frozen=True)
class FlipView(TemplateData):
    kind: str  # "action" or "situation"
    question_id: str  # the answer it changes (the sentence links to it)
    text: str  # the change as the rubric words it: "Collect 1,000+ reviewed examples"
    verdict: str
    verdict_label: str


@dataclass(frozen=True)
class SignalRow(TemplateData):
    id: str
    label: str
    raised: bool
    lane: str
    lane_label: str  # the lane it informs
    lane_value_label: str  # what that lane came out as here
    lane_rule: str  # and the rule that decided it
    leans: str
    leans_label: str
    leans_elsewhere: bool  # raised, and its seed lean is not this verdict: the row says so


@dataclass(frozen=True)
class AnswerRow(TemplateData):
    question_id: str
    label: str
    question_text: str
    answer_text: str
    answered: bool
    asked: bool
    effects: tuple[str, ...]  # what the answer did in this outcome
    note: str = ""  # why we answered so, where a figure comes from (plain text)
    not_applicable: bool = False  # marked "does not apply" (the note is the reason)

    @property
    def effect_text(self) -> str:
        """The effects in a sentence; the checks that raised nothing said once, together:
        "decided the Knowledge lane (K3); checked for readiness and warnings: nothing raised"."""
        if not self.asked:
            return NOT_ASKED
        if not self.effects:
            return NO_EFFECT
        did = [e for e in self.effects if e not in CHECKED.values()]
        checked = [e.removeprefix(CHECKED_PREFIX) for e in self.effects if e in CHECKED.values()]
        if checked:
            listed = ", ".join(checked[:-1]) + " and " + checked[-1] if checked[1:] else checked[0]
            did.append(f"{CHECKED_PREFIX}{listed}{NOTHING_RAISED}")
        return "; ".join(did)


@dataclass(frozen=True)
class AnswerSection(TemplateData):
    title: str
    answers: tuple[AnswerRow, ...]


@dataclass(frozen=True)
class NextStep(TemplateData):
    code: str
    text: str
    answers: tuple[AnswerRef, ...]


@dataclass(frozen=True)
class LanesReport(TemplateData):
    """Everything the v2 report (page, shared link, example) and its memo show."""

    engine: ClassVar[str] = "lanes"

    result: LanesResult
    verdict: str
    verdict_label: str
    headline: str
    lanes: tuple[LaneView, ...]
    lanes_text: str  # "Knowledge: retrieval · Behaviour: none"
    confidence: str
    confidence_label: str
    soft_spots: tuple[Point, ...]
    readiness: str
    readiness_label: str
    blockers: tuple[Point, ...]
    ladder: tuple[Rung, ...]
    chart: LadderChart
    chart_narrow: LadderChart
    deciding: tuple[Point, ...]  # one per lane rule that decided a lane
    effects: tuple[Point, ...]  # then the blockers, soft spots and warnings
    warnings: tuple[Point, ...]
    actions: tuple[FlipView, ...]
    situations: tuple[FlipView, ...]
    signals: tuple[SignalRow, ...]
    raised_count: int
    next_steps: tuple[NextStep, ...]
    answers: tuple[AnswerSection, ...]
    not_asked: tuple[AnswerRef, ...]  # answered, but the question was not asked
    rubric_version: str
    rubric_title: str


def _refs(rubric: LanesRubric, answers: Mapping[str, Any], questions: Any) -> tuple[AnswerRef, ...]:
    return tuple(
        AnswerRef(q, rubric.questions[q].label, rubric.questions[q].describe(answers.get(q)))
        for q in questions
        if q in rubric.questions
    )


def _ladder(
    result: LanesResult, rubric: LanesRubric, answers: Mapping[str, Any]
) -> tuple[Rung, ...]:
    others = {alt["approach"]: alt for alt in result.alternatives}
    rungs = []
    for approach in rubric.approaches:
        alt = others.get(approach.id)
        status = (
            "chosen" if approach.id == result.verdict else alt["status"] if alt else "not_needed"
        )
        answer = None
        if alt and alt.get("question") in rubric.questions:
            answer = _refs(rubric, answers, [alt["question"]])[0]
        rungs.append(
            Rung(
                id=approach.id,
                label=rubric.verdict_label(
                    approach.id, result.lanes if status == "chosen" else None
                ),
                summary=approach.summary,
                status=status,
                status_text=RUNG_STATUS_TEXT[status],
                reason=alt["reason"] if alt else "",
                answer=answer,
            )
        )
    return tuple(rungs)


def _answer_effects(
    result: LanesResult, rubric: LanesRubric, answers: Mapping[str, Any]
) -> dict[str, list[str]]:
    """question id -> what its answer did, in the report's words: what it decided or raised,
    then the checks it was read by that raised nothing."""
    effects: dict[str, list[str]] = {}

    def add(questions: Any, text: str) -> None:
        for q in questions:
            if text not in effects.setdefault(q, []):
                effects[q].append(text)

    for point in result.rationale:
        kind = point["kind"]
        if kind == "lane_rule":
            lane = rubric.lane(point["lane"])
            add(point["questions"], f"decided the {lane.label} lane ({point['rule']})")
        elif kind in RAISED:
            add(point["questions"], RAISED[kind])
    for step in result.next_steps:
        add(step["questions"], "shaped a next step")
    for alt in result.alternatives:
        if alt["status"] == "ruled_out" and alt.get("question"):
            add([alt["question"]], f"ruled out {rubric.verdict_label(alt['approach'])}")
    for signal in result.signals:
        if signal["raised"]:
            add(signal["questions"], RAISED["signal"])
    for check in checks_not_raised(answers, rubric):
        raised, checked = RAISED[check["kind"]], CHECKED[check["kind"]]
        add([q for q in check["questions"] if raised not in effects.get(q, ())], checked)
    return effects


def _effect_points(
    result: LanesResult, rubric: LanesRubric, answers: Mapping[str, Any]
) -> list[Point]:
    details = {
        "blocker": {b["code"]: (b["message"], b["fix"]) for b in result.blockers},
        "soft_spot": {s["code"]: (s["message"], s["remove"]) for s in result.soft_spots},
        "warning": {w["code"]: (w["message"], "") for w in result.warnings},
    }
    points = []
    for point in result.rationale:
        kind = point["kind"]
        if kind not in details:
            continue
        message, fix = details[kind][point["code"]]
        points.append(
            Point(kind, point["code"], "", message, fix, _refs(rubric, answers, point["questions"]))
        )
    return points


def lanes_report_view(
    result: LanesResult,
    rubric: LanesRubric,
    answers: Mapping[str, Any],
    notes: Mapping[str, Mapping[str, Any]] | None = None,
) -> LanesReport:
    """The v2 report of a LanesResult scored under `rubric` from `answers` (with `notes`:
    question id -> {"text", "not_applicable"}, as Assessment.note_values)."""
    notes = notes or {}
    lanes = []
    deciding = []
    for point in result.rationale:
        if point["kind"] != "lane_rule":
            continue
        lane = rubric.lane(point["lane"])
        rule = rubric.lane_rule(point["rule"])
        refs = _refs(rubric, answers, point["questions"])
        value_label = lane.value_label(point["value"])
        lanes.append(
            LaneView(lane.id, lane.label, point["value"], value_label, rule.id, rule.text, refs)
        )
        title = rubric.lane_text(lane.id, point["value"])
        deciding.append(Point("lane_rule", rule.id, title, rule.text, "", refs))
    lanes_text = " · ".join(point.title for point in deciding)
    effect_points = _effect_points(result, rubric, answers)
    ladder = _ladder(result, rubric, answers)
    rung_inputs = [RungInput(r.label, r.status, r.status_text) for r in ladder]
    verdict_label = rubric.result_label(result)

    flips = [
        FlipView(
            kind=flip["kind"],
            question_id=flip["question"],
            text=flip["text"],
            verdict=flip["verdict"],
            verdict_label=rubric.verdict_label(flip["verdict"], flip["lanes"]),
        )
        for flip in result.flips
    ]
    signal_lanes = {signal.id: signal.lane for signal in rubric.signals}
    lane_views = {lane.id: lane for lane in lanes}
    signals = []
    for signal in result.signals:
        lane_id = signal_lanes.get(signal["id"], "")
        lane_view = lane_views.get(lane_id)
        signals.append(
            SignalRow(
                id=signal["id"],
                label=signal["label"],
                raised=signal["raised"],
                lane=lane_id,
                lane_label=rubric.lane(lane_id).label if lane_id else "",
                lane_value_label=lane_view.value_label if lane_view else "",
                lane_rule=lane_view.rule if lane_view else "",
                leans=signal["leans"],
                leans_label=rubric.verdict_label(signal["leans"]),
                leans_elsewhere=signal["raised"] and signal["leans"] != result.verdict,
            )
        )

    effects = _answer_effects(result, rubric, answers)
    not_asked = set(result.not_asked)
    sections = tuple(
        AnswerSection(
            section.title,
            tuple(
                AnswerRow(
                    question_id=q.id,
                    label=q.label,
                    question_text=q.text,
                    answer_text=q.describe(answers.get(q.id)),
                    answered=q.id in answers,
                    asked=q.id not in not_asked,
                    effects=tuple(effects.get(q.id, ())) if q.id in answers else (),
                    note=notes.get(q.id, {}).get("text", ""),
                    not_applicable=bool(notes.get(q.id, {}).get("not_applicable")),
                )
                for q in section.questions
                if q.id in answers or q.id not in not_asked or q.id in notes
            ),
        )
        for section in rubric.sections
    )
    heavier = [r.label for r in ladder if r.status == "not_needed"]
    headline = (
        f"{verdict_label} is the lightest approach on the ladder that solves this problem "
        f"and that the team can build and run ({lanes_text})."
    )
    if heavier:
        headline += (
            " Not needed here, each for the reason on the ladder: " + "; ".join(heavier) + "."
        )
    return LanesReport(
        result=result,
        verdict=result.verdict,
        verdict_label=verdict_label,
        headline=headline,
        lanes=tuple(lanes),
        lanes_text=lanes_text,
        confidence=result.confidence,
        confidence_label=rubric.confidence_label(result.confidence),
        soft_spots=tuple(p for p in effect_points if p.kind == "soft_spot"),
        readiness=result.readiness,
        readiness_label=rubric.readiness_label(result.readiness),
        blockers=tuple(p for p in effect_points if p.kind == "blocker"),
        ladder=ladder,
        chart=ladder_chart(rung_inputs),
        chart_narrow=ladder_chart(rung_inputs, LADDER_NARROW),
        deciding=tuple(deciding),
        effects=tuple(effect_points),
        warnings=tuple(p for p in effect_points if p.kind == "warning"),
        actions=tuple(f for f in flips if f.kind == "action"),
        situations=tuple(f for f in flips if f.kind != "action"),
        signals=tuple(signals),
        raised_count=sum(1 for s in signals if s.raised),
        next_steps=tuple(
            NextStep(s["code"], s["text"], _refs(rubric, answers, s["questions"]))
            for s in result.next_steps
        ),
        answers=sections,
        not_asked=_refs(rubric, answers, [q for q in result.not_asked if q in answers]),
        rubric_version=result.rubric_version,
        rubric_title=rubric.title,
    )


def present_report(
    result: Any,
    rubric: Any,
    answers: Mapping[str, Any],
    notes: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """The report of any result, by the engine of the rubric it was scored with: the v2
    LanesReport, or v1's dict (report_view). `notes` (Assessment.note_values or a
    milestone's) put each note under its answer in "All answers"."""
    if rubric.engine == LanesReport.engine:
        return lanes_report_view(result, rubric, answers, notes)
    return report_view(result, rubric, answers, notes)
