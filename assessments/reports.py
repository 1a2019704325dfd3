"""Readable renderings of a Result shared by the terminal, the pages and the memo."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from assessments.rubric import Rubric
from assessments.scoring import Result

VERDICT_LABELS = {"rag": "RAG", "fine_tune": "Fine-tuning", "hybrid": "Hybrid"}
READINESS_LABELS = {"ready": "Ready", "not_ready": "Not ready"}


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent + "  ")


def result_as_text(result: Result, answers: Mapping[str, Any], rubric: Rubric) -> str:
    """A terminal summary: verdict first, then why, what would change it, and what to do."""
    lines = [
        f"Verdict:    {VERDICT_LABELS[result.verdict]} ({result.confidence} confidence)",
        f"Readiness:  {READINESS_LABELS[result.readiness]}",
    ]
    lines += [_wrap(f"- {b['message']} {b['action']}") for b in result.blockers]
    lines.append(
        "Scores:     "
        + ", ".join(f"{VERDICT_LABELS[a]} {s}" for a, s in result.scores.items())
        + f"   (rubric {result.rubric_version})"
    )
    lines += ["", "Signals:"]
    lines += [
        f"  [{'x' if s['raised'] else ' '}] {s['label']} (leans {VERDICT_LABELS[s['leans']]})"
        for s in result.signals
    ]
    lines += ["", "Why:"]
    for point in result.rationale:
        question = rubric.questions[point.question].text
        lines.append(_wrap(f"- {point.reason} [{question} {point.answer_text}]"))
    lines += ["", "What would change the verdict:"]
    lines += [_wrap(f"- {flip['text']}") for flip in result.flips] or ["  (no single answer)"]
    lines += ["", "Warnings:"]
    lines += [_wrap(f"- {w['message']} {w['reason']}") for w in result.warnings] or ["  (none)"]
    lines += ["", "Next steps:"]
    lines += [_wrap(f"[ ] {step}") for step in result.next_steps]
    return "\n".join(lines)
