"""What a re-assessed assessment shows about where it started: the answers carried over from
the earlier rubric's assessment, the questions still to answer and, once it is complete, the
earlier verdict beside the new one with what changed and why.

Rendered by templates/assessments/_carried_over.html on the report page and the
questionnaire. Typed data only; every label comes from the two rubrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assessments.lanes.upgrade import CarriedAnswer, CarriedAnswers, carry_over
from assessments.models import Assessment
from assessments.presenters import QuestionLink, question_links
from assessments.rubric import CURRENT_VERSION, load_rubric
from assessments.services import Evaluation, evaluate_assessment


@dataclass(frozen=True)
class AnswerLine:
    question_id: str
    label: str
    text: str  # the answer now (copied, renamed), or the old answer (left unanswered)
    old_text: str = ""  # renamed: the old answer, by the old rubric's labels
    why: str = ""  # left unanswered: why, or carried but worth checking: why


@dataclass(frozen=True)
class VerdictSide:
    version: str
    verdict: str
    label: str
    confidence_label: str
    readiness: str
    readiness_label: str
    lanes_text: str = ""  # v2 onwards: "Knowledge: retrieval · Behaviour: prompting"


@dataclass(frozen=True)
class ReadAnswer:
    """An answer a deciding rule read, and where it came from."""

    question_id: str
    label: str
    text: str
    note: str  # "" when carried over unchanged


@dataclass(frozen=True)
class DecidingRule:
    code: str
    title: str  # "Knowledge: retrieval"
    text: str
    answers: tuple[ReadAnswer, ...]


@dataclass(frozen=True)
class Comparison:
    old: VerdictSide | None  # None: the earlier assessment had no verdict (incomplete)
    new: VerdictSide
    changed: bool  # both have a verdict, and they differ
    summary: str
    deciding: tuple[DecidingRule, ...]


@dataclass(frozen=True)
class CarriedOverView:
    assessment_id: int
    source_id: int
    source_created_at: datetime
    from_version: str
    to_version: str
    copied: tuple[AnswerLine, ...]
    renamed: tuple[AnswerLine, ...]
    left_unanswered: tuple[AnswerLine, ...]
    # carried answers that may mean something narrower now, while still as carried
    worth_checking: tuple[AnswerLine, ...]
    to_answer: tuple[QuestionLink, ...]  # asked and required, not answered yet
    comparison: Comparison | None  # once the assessment is complete

    @property
    def complete(self) -> bool:
        return self.comparison is not None


def carried_over_view(
    assessment: Assessment, *, evaluation: Evaluation | None = None
) -> CarriedOverView | None:
    """For an assessment (loaded with answers) started from one of an earlier rubric; None
    for any other (no source, or a source of the same rubric). Two queries when there is a
    source, none otherwise. `evaluation`: the assessment's own, if the caller has it."""
    if assessment.carried_from_id is None:
        return None
    source = (
        Assessment.objects.with_answers()
        .filter(pk=assessment.carried_from_id, project_id=assessment.project_id)
        .first()
    )
    if source is None or source.rubric_version == assessment.rubric_version:
        return None
    old_rubric = load_rubric(source.rubric_version)
    rubric = load_rubric(assessment.rubric_version)
    carried = carry_over(old_rubric, rubric, source.answer_values)
    evaluation = evaluation or evaluate_assessment(assessment)
    comparison = None
    if evaluation.result is not None:
        comparison = _comparison(evaluate_assessment(source), evaluation, carried)
    return CarriedOverView(
        assessment_id=assessment.pk,
        source_id=source.pk,
        source_created_at=source.created_at,
        from_version=source.rubric_version,
        to_version=assessment.rubric_version,
        copied=tuple(AnswerLine(i.question_id, i.label, i.text) for i in carried.copied),
        renamed=tuple(
            AnswerLine(i.question_id, i.label, i.text, old_text=i.old_text) for i in carried.renamed
        ),
        left_unanswered=tuple(
            AnswerLine(i.question_id, i.label, i.old_text, why=i.why)
            for i in carried.left_unanswered
        ),
        worth_checking=tuple(
            AnswerLine(i.question_id, i.label, i.text, why=i.check)
            for i in (*carried.copied, *carried.renamed)
            if i.check and evaluation.answers.get(i.question_id) == i.value
        ),
        to_answer=question_links(rubric, evaluation.missing),
        comparison=comparison,
    )


def _side(evaluation: Evaluation, lanes_text: str = "") -> VerdictSide | None:
    result, rubric = evaluation.result, evaluation.rubric
    if result is None:
        return None
    return VerdictSide(
        version=rubric.version,
        verdict=result.verdict,
        label=rubric.result_label(result),
        confidence_label=rubric.confidence_label(result.confidence),
        readiness=result.readiness,
        readiness_label=rubric.readiness_label(result.readiness),
        lanes_text=lanes_text,
    )


def _note(
    question_id: str,
    value: Any,
    carried: CarriedAnswers,
    by_question: dict[str, CarriedAnswer],
    old_rubric: Any,
) -> str:
    """Where an answer a deciding rule read came from, when not simply carried over."""
    item = by_question.get(question_id)
    if question_id not in old_rubric.questions:
        return f"new in {carried.to_version}: {carried.from_version} did not ask it"
    if item is None:
        return f"not answered in {carried.from_version}"
    if item.why:
        return (
            f"asked again: the {carried.from_version} answer “{item.old_text}” did not carry over"
        )
    if item.value != value:
        return f"changed since {carried.from_version} (was “{item.text}”)"
    return ""


def _comparison(old: Evaluation, new: Evaluation, carried: CarriedAnswers) -> Comparison:
    result, rubric, answers = new.result, new.rubric, new.answers
    by_question = {
        item.question_id: item
        for item in (*carried.copied, *carried.renamed, *carried.left_unanswered)
    }
    deciding = []
    for point in result.rationale:
        if point["kind"] != "lane_rule":
            continue
        rule = rubric.lane_rule(point["rule"])
        reads = tuple(
            ReadAnswer(
                q,
                rubric.questions[q].label,
                rubric.questions[q].describe(answers.get(q)),
                _note(q, answers.get(q), carried, by_question, old.rubric),
            )
            for q in point["questions"]
            if q in rubric.questions
        )
        title = rubric.lane_text(point["lane"], point["value"])
        deciding.append(DecidingRule(rule.id, title, rule.text, reads))
    new_side = _side(new, " · ".join(rule.title for rule in deciding))
    old_side = _side(old)
    changed = old_side is not None and old_side.verdict != new_side.verdict
    if old_side is None:
        summary = (
            f"The {carried.from_version} assessment had no verdict (it was not complete); "
            f"under rubric {carried.to_version} the verdict is {new_side.label}."
        )
    elif changed:
        summary = (
            f"The verdict changed: {old_side.label} under rubric {carried.from_version}, "
            f"{new_side.label} under rubric {carried.to_version}. The rules below decided it."
        )
    else:
        summary = (
            f"The verdict is the same under both rubrics: {new_side.label}. "
            f"Rubric {carried.to_version} decided it by the rules below."
        )
    return Comparison(old_side, new_side, changed, summary, tuple(deciding))


def upgrade_context(
    assessment: Assessment, evaluation: Evaluation, successor: Assessment | None
) -> dict[str, Any]:
    """An owner's page of an assessment: what it carried over (`carried_over`, None if
    nothing) and, for one of an earlier rubric, the rubric to re-assess it on (`reassess_to`,
    None if it is current or `successor`, its re-assessment, already exists)."""
    return {
        "carried_over": carried_over_view(assessment, evaluation=evaluation),
        "reassess_to": reassess_to(assessment, successor),
    }


def reassess_to(assessment: Assessment, successor: Assessment | None = None) -> str | None:
    """The rubric an assessment can be re-assessed on: the current one, unless it is on it or
    has been re-assessed already (`successor`, services.reassessed_as)."""
    if assessment.rubric_version == CURRENT_VERSION or successor is not None:
        return None
    return CURRENT_VERSION
