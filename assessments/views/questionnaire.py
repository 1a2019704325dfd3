"""The questionnaire: autosave one question at a time (HTMX), or submit it whole (no JS)."""

import math
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods, require_POST

from assessments.access import EDITOR, get_assessment
from assessments.live import panel_for
from assessments.models import Assessment
from assessments.presenters import (
    question_sections,
    top_reasons,
    verdict_view,
)
from assessments.rubric import load_rubric
from assessments.services import (
    AnswersFrozen,
    Evaluation,
    StaleAnswers,
    evaluate,
    evaluate_assessment,
    reassessed_as,
    save_answers,
)
from assessments.upgrade_view import carried_over_view
from assessments.validation import (
    InvalidAnswers,
    asked_ids,
    parse_question,
    parse_questionnaire,
)

TEMPLATE = "assessments/questionnaire.html"
UNPROCESSABLE = 422
CONFLICT = 409
CARRIED_OVER_TEMPLATE = "assessments/_carried_over.html"


# v1: readiness depends on these; until both are answered a provisional readiness means nothing.
READINESS_QUESTIONS = ("kb_state", "labeled_examples")


# The time to finish shown on the questionnaire assumes this many seconds per required question
# left: a question is one choice among three to six short options plus a one-line "why we
# ask" (about 30 words: some 10 s of reading at an ordinary 200 words a minute), and a few
# seconds more to decide. Rounded up, so the estimate errs on the long side.
SECONDS_PER_QUESTION = 20


def time_left_text(required_left: int) -> str:
    """The estimate for the required questions not answered yet ("" when none are left)."""
    if required_left <= 0:
        return ""
    minutes = math.ceil(required_left * SECONDS_PER_QUESTION / 60)
    return f"About {minutes} minute{'s' if minutes != 1 else ''} left"


def panel_context(assessment: Assessment, evaluation: Evaluation) -> dict[str, Any]:
    current = evaluation.current
    live = panel_for(evaluation)  # v2: lanes, ladder, soft spots, blockers
    if live is not None:
        verdict = {"code": live.verdict, "label": live.verdict_label} if live.verdict else None
        reasons = []
    else:
        verdict = verdict_view(current, evaluation.rubric) if current else None
        reasons = top_reasons(current, evaluation.rubric) if current else []
    return {
        "readiness_known": all(q in evaluation.answers for q in READINESS_QUESTIONS),
        "assessment": assessment,
        "evaluation": evaluation,
        "live": live,
        "result": current,
        "verdict": verdict,
        "top_reasons": reasons,
        "is_provisional": evaluation.result is None and current is not None,
        "left": len(evaluation.missing),
        "time_left": time_left_text(len(evaluation.missing)),
    }


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_assessment(request.user, pk, EDITOR)
    successor = reassessed_as(assessment)
    if successor is not None:
        return _frozen(request, AnswersFrozen(assessment, successor))
    rubric = load_rubric(assessment.rubric_version)
    answers = assessment.answer_values
    errors: dict[str, str] = {}
    submitted: dict[str, Any] = {}
    stale: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        form_data = dict(request.POST.lists())
        changes, submitted, errors = parse_questionnaire(rubric, form_data, answers)
        if not errors:
            try:
                save_answers(assessment, changes, unchanged_since=_loaded_at(request))
                return _after_full_save(request, assessment)
            except InvalidAnswers as invalid:
                errors = {p.question: p.message for p in invalid.problems}
            except AnswersFrozen as frozen:  # re-assessed since the check above
                return _frozen(request, frozen)
            except StaleAnswers as conflict:
                # Show the newer values for those questions; keep the user's other choices.
                answers = _reloaded(assessment).answer_values
                for question_id in conflict.current:
                    submitted.pop(question_id, None)
                stale = [
                    {"question_id": q, "question_text": rubric.questions[q].text,
                     "current": rubric.questions[q].describe(v)}
                    for q, v in conflict.current.items()
                ]  # fmt: skip
                status = CONFLICT
        if errors:
            status = UNPROCESSABLE
    evaluation = evaluate(answers, rubric, include_flips=False)
    context = panel_context(assessment, evaluation) | {
        # Re-assessed from an earlier rubric: what carried over and what is left to answer.
        "carried_over": carried_over_view(assessment, evaluation=evaluation),
        "project": assessment.project,
        "loaded_at": timezone.now().isoformat(),
        "stale": stale,
        "sections": question_sections(rubric, answers, errors, submitted),
        "errors": [
            {"question_id": q, "question_text": rubric.questions[q].text, "message": message}
            for q, message in errors.items()
            if q in rubric.questions
        ],
    }
    return render(request, TEMPLATE, context, status=status)


def _frozen(request: HttpRequest, frozen: AnswersFrozen) -> HttpResponse:
    """The answers of a re-assessed assessment are frozen: its report shows them, and where to
    change them now."""
    nothing = " Nothing was saved." if request.method == "POST" else ""
    messages.info(request, f"{capfirst(str(frozen))}.{nothing}")
    return redirect("report", pk=frozen.assessment.pk)


def _loaded_at(request: HttpRequest) -> datetime | None:
    """When the submitted form was rendered; None for a form without that field."""
    try:
        loaded_at = datetime.fromisoformat(request.POST.get("loaded_at", ""))
    except ValueError:
        return None
    return loaded_at if loaded_at.tzinfo else None


def _reloaded(assessment: Assessment) -> Assessment:
    return Assessment.objects.with_answers().get(pk=assessment.pk)


def _after_full_save(request: HttpRequest, assessment: Assessment) -> HttpResponse:
    evaluation = evaluate_assessment(_reloaded(assessment))
    if evaluation.result is not None:
        messages.success(request, "Answers saved. Here is your report.")
        return redirect("report", pk=assessment.pk)
    left = len(evaluation.missing)
    messages.success(
        request, f"Answers saved. {left} required question{'s' if left != 1 else ''} left."
    )
    return redirect("questionnaire", pk=assessment.pk)


@login_required
@require_POST
def save_question(request: HttpRequest, pk: int, question_id: str) -> HttpResponse:
    """Autosave of one question. Only this question's row is written."""
    assessment = get_assessment(request.user, pk, EDITOR)
    rubric = load_rubric(assessment.rubric_version)
    question = rubric.questions.get(question_id)
    if question is None:
        raise Http404("No such question")
    answers = assessment.answer_values
    asked_before = set(asked_ids(rubric, answers))
    error = None
    try:
        changes = parse_question(question, request.POST.getlist(question_id), answers)
        save_answers(assessment, changes)
    except InvalidAnswers as invalid:
        error = invalid.problems[0].message
    except AnswersFrozen as frozen:
        error = str(frozen)
    else:
        answers.update(changes.values)
        for cleared in changes.cleared:
            answers.pop(cleared, None)
    if not request.htmx:
        if error:
            messages.error(request, f"{question.text} Not saved: {error}")
        return redirect(reverse("questionnaire", args=[pk]) + f"#q-{question_id}")
    # `answers` is what is stored now, so a refused save shows the stored choice again.
    views = {
        q["id"]: q
        for section in question_sections(rubric, answers, {question_id: error} if error else None)
        for q in section["questions"]
    }
    # Questions that this answer brings into (or takes out of) the form are redrawn too.
    toggled = [q for q in views if (q in asked_before) != views[q]["asked"]]
    evaluation = evaluate(answers, rubric, include_flips=False)
    context = panel_context(assessment, evaluation) | {
        "question": views[question_id],
        "saved": error is None,
        "oob": True,
        "appeared": [views[q]["label"] for q in toggled if views[q]["asked"]],
    }
    # Saved: only the status changes. Refused: the whole question is drawn again from what is
    # stored (with the error at it), so the controls never show an answer that was not saved.
    main_part = "question_fieldset" if error else "save_status"
    parts = [render_to_string(f"{TEMPLATE}#{main_part}", context, request)]
    parts += [
        render_to_string(
            f"{TEMPLATE}#question_fieldset",
            {**context, "question": views[q], "swap_oob": True},
            request,
        )
        for q in toggled
    ]
    parts += [
        render_to_string(f"{TEMPLATE}#{part}", context, request)
        for part in ("verdict_panel", "verdict_bar", "verdict_announcement")
    ]
    # Re-assessed: what is still to answer (then both verdicts) follows each answer.
    carried_over = carried_over_view(assessment, evaluation=evaluation)
    if carried_over is not None:
        parts.append(
            render_to_string(
                CARRIED_OVER_TEMPLATE, {"carried_over": carried_over, "swap_oob": True}, request
            )
        )
    html = "".join(parts)
    response = HttpResponse(html, status=UNPROCESSABLE if error else 200)
    if error:
        response["HX-Retarget"] = f"#q-{question_id}"
        response["HX-Reswap"] = "outerHTML"
    return response
