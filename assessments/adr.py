"""A milestone as a Markdown architecture decision record (Michael Nygard's shape, as MADR
keeps it): title, status, date, context, decision, consequences, sign-off.

Everything a user typed (project name and description, milestone name, notes, sign-off
names, roles and comments) is plain text: it is escaped so that it can neither start a
heading, list, quote, table or code block, nor bring HTML or a link into a rendered record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.text import slugify

from assessments.milestones import adr_number, superseded_by
from assessments.models import Milestone
from assessments.numbers import numbers_view
from assessments.presenters import present_report, top_reasons
from assessments.services import Evaluation, evaluate_assessment

# Characters that format inline Markdown (or a table cell), strike text through (GFM "~"),
# start an HTML tag or an entity ("&amp;", not a lone "&"): shown literally, backslash-escaped
# (CommonMark escapes any ASCII punctuation, so the raw file stays readable: no "&lt;").
INLINE_SPECIALS = re.compile(r"([\\`*_\[\]|~<>]|&(?=#?[A-Za-z0-9]+;))")
# Text GitHub would turn into a link by itself: "https://..." or "www.".
AUTOLINK = re.compile(r"(?i)\b(https?|ftp)(:)|\b(www)(\.)")
# What makes a line a block (heading, quote, list, rule, setext underline, code fence): a
# leading marker, or a number followed by "." or ")" (an ordered list).
LEADING_MARKER = re.compile(r"^([#>+\-=~:])")
ORDERED_MARKER = re.compile(r"^(\d+)([.)])")
MAX_SLUG = 60


def md_inline(text: Any) -> str:
    """User text for one line of Markdown: one line, no markup, no HTML."""
    return md_line(" ".join(str(text).split()))


def md_line(line: str) -> str:
    line = INLINE_SPECIALS.sub(r"\\\1", line.strip())
    line = AUTOLINK.sub(lambda m: f"{m[1] or m[3]}\\{m[2] or m[4]}", line)
    line = LEADING_MARKER.sub(r"\\\1", line)
    return ORDERED_MARKER.sub(r"\1\\\2", line)


def md_block(text: Any) -> list[str]:
    """User text of several lines: each line escaped (and unindented, so no line turns into
    code); blank lines kept as paragraph breaks, runs of them collapsed."""
    lines: list[str] = []
    for raw in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = md_line(raw)
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def quoted(text: Any) -> list[str]:
    """User text as a blockquote."""
    return [f"> {line}" if line else ">" for line in md_block(text)]


def _date(moment: Any) -> str:
    return timezone.localtime(moment).date().isoformat() if moment else ""


def status_text(milestone: Milestone) -> str:
    """ "Proposed", or "Accepted (<date>, by <owner>)" once the owner marked it so."""
    if milestone.accepted_at is None:
        return "Proposed"
    accepted = (
        f"Accepted ({_date(milestone.accepted_at)}, by {md_inline(milestone.accepted_by_text)})"
    )
    newer = superseded_by(milestone)
    if newer is None:
        return accepted
    return (
        f"Superseded by ADR {adr_number(newer)}, “{md_inline(newer.name)}” (accepted "
        f"{_date(newer.accepted_at)}); {accepted[0].lower()}{accepted[1:]}"
    )


@dataclass(frozen=True)
class Outline:
    """What the record says about the outcome, read from the report presenter."""

    verdict: str
    facts: list[str]  # lanes, readiness, confidence
    reasons: list[str]
    decided_by: list[str]  # the question ids of the answers that decided it
    warnings: list[str]
    blockers: list[str]
    soft_spots: list[str]
    next_steps: list[str]


def _outline(evaluation: Evaluation) -> Outline:
    result, rubric, answers = evaluation.result, evaluation.rubric, evaluation.answers
    report = present_report(result, rubric, answers)
    readiness = f"Readiness: {rubric.readiness_label(result.readiness)}"
    confidence = f"Confidence: {rubric.confidence_label(result.confidence)}"
    if rubric.engine == "lanes":
        return Outline(
            verdict=report.verdict_label,
            facts=[f"{lane.label} lane: {lane.value_label}" for lane in report.lanes]
            + [readiness, confidence],
            reasons=[f"{point.title}: {point.text}" for point in report.deciding],
            decided_by=[ref.question_id for p in report.deciding for ref in p.answers],
            warnings=[point.text for point in report.warnings],
            blockers=[f"{point.text} Fix: {point.fix}" for point in report.blockers],
            soft_spots=[f"{point.text} To remove it: {point.fix}" for point in report.soft_spots],
            next_steps=[step.text for step in report.next_steps],
        )
    reasons = report["decisive"] + top_reasons(result, rubric)
    return Outline(
        verdict=report["verdict"]["label"],
        facts=[readiness, confidence],
        reasons=[f"{r['reason']} ({r['question_text']} {r['answer_text']})" for r in reasons],
        decided_by=[r["question_id"] for r in reasons],
        warnings=[f"{w['message']} {w.get('reason', '')}".strip() for w in report["warnings"]],
        blockers=[f"{b['message']} {b.get('action', '')}".strip() for b in result.blockers],
        soft_spots=[],
        next_steps=list(report["next_steps"]),
    )


def _bullets(items: list[str]) -> list[str]:
    return [f"- {md_inline(item)}" for item in items]


def _answers(milestone: Milestone, evaluation: Evaluation, question_ids: list[str]) -> list[str]:
    """The answers (with their notes) that decided the outcome, each once, in rubric order."""
    rubric, answers, notes = evaluation.rubric, evaluation.answers, milestone.note_values
    wanted = set(question_ids)
    lines = []
    for question in rubric.questions.values():
        if question.id not in wanted:
            continue
        name = question.label or question.text
        lines.append(
            f"- {md_inline(name)}: {md_inline(question.describe(answers.get(question.id)))}"
        )
        note = (notes.get(question.id) or {}).get("text", "")
        if note.strip():
            lines += ["", *[f"  {line}" for line in quoted(note)], ""]
    return lines


def _cost_line(milestone: Milestone, evaluation: Evaluation) -> str:
    numbers = numbers_view(milestone, evaluation)
    if numbers is None:
        return ""
    verdict = next((row for row in numbers.rows if row.is_verdict), None)
    line = f"At {numbers.volume} queries a month (price book {numbers.price_book})"
    if verdict is not None:
        line += f", {verdict.label} costs about {verdict.monthly} a month"
        if verdict.one_off:
            line += f" plus {verdict.one_off} once"
    line += "."
    if numbers.cheapest_note:
        line += f" {numbers.cheapest_note}"
    return line


def adr_markdown(milestone: Milestone, *, number: int, sign_offs: list[Any] | None = None) -> str:
    """The record of `milestone` (its assessment loaded with project), numbered `number`."""
    project = milestone.project
    evaluation = evaluate_assessment(milestone, include_flips=False)
    complete = evaluation.result is not None
    outline = _outline(evaluation) if complete else None
    project_name = md_inline(project.name)
    title = (
        f"Use {outline.verdict} for {project.name}"
        if outline
        else (f"Approach for {project.name}: no verdict yet")
    )
    out = [f"# {number}. {md_inline(title)}", ""]
    out += [
        f"- Status: {status_text(milestone)}",
        f"- Date: {_date(milestone.created_at)}",
        f"- Milestone: {md_inline(milestone.name)}, saved by {md_inline(milestone.made_by)}",
        f"- Rubric: {md_inline(milestone.rubric_version)} ({md_inline(evaluation.rubric.title)})",
        "",
        "## Context",
        "",
    ]
    if project.description.strip():
        out += [*md_block(project.description), ""]
    else:
        out += [f"{project_name}: no description was given.", ""]
    if outline is not None:
        out += [
            f"The answers that decided it (rubric {md_inline(milestone.rubric_version)}):",
            "",
            *_answers(milestone, evaluation, outline.decided_by),
        ]
        if out[-1]:
            out.append("")
    else:
        out += [
            f"The assessment was not complete when this milestone was saved: "
            f"{evaluation.answered_required} of {evaluation.required_total} required questions "
            "were answered.",
            "",
        ]
    out += ["## Decision", ""]
    if outline is None:
        out += ["No verdict yet: the decision is still open.", ""]
    else:
        out += [f"Use {md_inline(outline.verdict)}.", "", *_bullets(outline.facts), ""]
        if outline.reasons:
            out += ["Top reasons:", "", *_bullets(outline.reasons), ""]
        out += ["## Consequences", ""]
        for heading, items in (
            ("Warnings", outline.warnings),
            ("Blockers", outline.blockers),
            ("Soft spots", outline.soft_spots),
            ("Next steps", outline.next_steps),
        ):
            if items:
                out += [f"### {heading}", "", *_bullets(items), ""]
        cost = _cost_line(milestone, evaluation)
        if cost:
            out += ["### Cost", "", md_inline(cost), ""]
    out += ["## Sign-off", ""]
    responses = list(milestone.sign_offs.all()) if sign_offs is None else sign_offs
    if not responses:
        out += ["No responses yet.", ""]
    for response in responses:
        who = md_inline(response.name)
        if response.role:
            who += f" ({md_inline(response.role)})"
        out.append(f"- {who}: {response.get_decision_display()}, {_date(response.created_at)}")
        if response.comment.strip():
            out += ["", *[f"  {line}" for line in quoted(response.comment)], ""]
    if out[-1]:
        out.append("")
    out += [
        "---",
        "",
        f"Generated by Advisor from milestone “{md_inline(milestone.name)}” of "
        f"{_date(milestone.created_at)} (immutable).",
        "",
    ]
    return "\n".join(out)


def _slug(text: str, fallback: str) -> str:
    slug = slugify(text)
    if len(slug) > MAX_SLUG:
        slug = slug[: MAX_SLUG + 1].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG] else slug[:MAX_SLUG]
    return slug.strip("-") or fallback


def adr_filename(milestone: Milestone) -> str:
    """`<project-slug>-<milestone-slug>-adr.md`."""
    return f"{_slug(milestone.project.name, 'project')}-{_slug(milestone.name, 'milestone')}-adr.md"
