"""Plain data for the templates: what the questionnaire and the report show.

Built from the rubric, the answers and the scoring Result only, so the page, the shared
link and the PDF memo present exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assessments.charts import NARROW, score_chart
from assessments.rubric import APPROACHES, Rubric
from assessments.scoring import RationalePoint, Result

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
) -> list[dict[str, Any]]:
    """Sections with their questions, ready for the form. `submitted` values win over saved
    answers so a rejected submission shows what the user chose, not what was stored."""
    errors = errors or {}
    submitted = submitted or {}
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
                    "why": question.why,
                    "required": question.required,
                    "input_type": {"single": "radio", "multi": "checkbox"}.get(
                        question.kind, "number"
                    ),
                    "value": _field_text(value),
                    "answered": question.id in answers,
                    "error": errors.get(question.id, ""),
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


def answers_view(rubric: Rubric, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "title": section.title,
            "answers": [
                {
                    "question_id": q.id,
                    "question_text": q.text,
                    "answer_text": q.describe(answers.get(q.id)),
                    "answered": q.id in answers,
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


def report_view(result: Result, rubric: Rubric, answers: Mapping[str, Any]) -> dict[str, Any]:
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
        "answers": answers_view(rubric, answers),
        "rubric_version": result.rubric_version,
        "rubric_title": rubric.title,
    }
