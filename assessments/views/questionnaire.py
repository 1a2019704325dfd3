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
    save_note,
    save_questionnaire,
)
from assessments.upgrade_view import carried_over_view
from assessments.validation import (
    InvalidAnswers,
    asked_ids,
    not_applicable_field,
    note_field,
    parse_note,
    parse_question,
    parse_questionnaire,
    parse_questionnaire_notes,
    ticked,
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
    notes = assessment.note_values
    errors: dict[str, str] = {}
    note_errors: dict[str, str] = {}
    submitted: dict[str, Any] = {}
    submitted_notes: dict[str, dict[str, Any]] = {}
    stale: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        form_data = dict(request.POST.lists())
        changes, submitted, errors = parse_questionnaire(rubric, form_data, answers)
        note_changes, submitted_notes, note_errors = parse_questionnaire_notes(
            rubric, form_data, notes
        )
        if not errors and not note_errors:
            try:
                save_questionnaire(
                    assessment, changes, note_changes, unchanged_since=_loaded_at(request)
                )
                return _after_full_save(request, assessment)
            except InvalidAnswers as invalid:
                errors = {p.question: p.message for p in invalid.problems}
            except AnswersFrozen as frozen:  # re-assessed since the check above
                return _frozen(request, frozen)
            except StaleAnswers as conflict:
                # Show the newer values for those questions; keep the user's other choices.
                reloaded = _reloaded(assessment)
                answers, notes = reloaded.answer_values, reloaded.note_values
                for question_id in conflict.current:
                    submitted.pop(question_id, None)
                for question_id in conflict.notes:
                    submitted_notes.pop(question_id, None)
                stale = [
                    {"question_id": q, "question_text": rubric.questions[q].text,
                     "current": rubric.questions[q].describe(v)}
                    for q, v in conflict.current.items()
                ] + [
                    {"question_id": q, "question_text": rubric.questions[q].text,
                     "note": note["text"], "not_applicable": note["not_applicable"]}
                    for q, note in conflict.notes.items()
                ]  # fmt: skip
                status = CONFLICT
        if errors or note_errors:
            status = UNPROCESSABLE
    evaluation = evaluate(answers, rubric, include_flips=False)
    context = panel_context(assessment, evaluation) | {
        # Re-assessed from an earlier rubric: what carried over and what is left to answer.
        "carried_over": carried_over_view(assessment, evaluation=evaluation),
        "project": assessment.project,
        "loaded_at": timezone.now().isoformat(),
        "stale": stale,
        "sections": question_sections(
            rubric, answers, errors, submitted, notes | submitted_notes, note_errors
        ),
        "errors": [
            {"question_id": q, "question_text": rubric.questions[q].text, "message": message}
            for q, message in errors.items()
            if q in rubric.questions
        ]
        + [
            {
                "question_id": q,
                "question_text": f"Note on “{rubric.questions[q].text}”",
                "message": message,
            }
            for q, message in note_errors.items()
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


def _question_to_save(request: HttpRequest, pk: int, question_id: str) -> tuple:
    """The assessment an editor saves into, its rubric and the question (404 if unknown)."""
    assessment = get_assessment(request.user, pk, EDITOR)
    rubric = load_rubric(assessment.rubric_version)
    question = rubric.questions.get(question_id)
    if question is None:
        raise Http404("No such question")
    return assessment, rubric, question


@login_required
@require_POST
def save_question(request: HttpRequest, pk: int, question_id: str) -> HttpResponse:
    """Autosave of one question. Only this question's row is written."""
    assessment, rubric, question = _question_to_save(request, pk, question_id)
    answers = assessment.answer_values
    notes = assessment.note_values
    asked_before = set(asked_ids(rubric, answers))
    error = None
    unmarked = False
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
        # save_answers takes the "does not apply" mark off a question that gets an answer.
        unmarked = question_id in changes.values and notes.get(question_id, {}).get(
            "not_applicable", False
        )
        if unmarked:
            notes[question_id] = {**notes[question_id], "not_applicable": False}
    if not request.htmx:
        if error:
            messages.error(request, f"{question.text} Not saved: {error}")
        return redirect(reverse("questionnaire", args=[pk]) + f"#q-{question_id}")
    # `answers` is what is stored now, so a refused save shows the stored choice again.
    views = _question_views(rubric, answers, notes, {question_id: error} if error else None)
    context = {"question": views[question_id], "saved": error is None}
    # Saved: only the status changes. Refused (or the "does not apply" mark taken off): the
    # whole question is drawn again from what is stored (with the error at it), so the
    # controls never show an answer that was not saved.
    redraw = error or unmarked
    main_part = "question_fieldset" if redraw else "save_status"
    parts = [_render(request, main_part, assessment, context)]
    if unmarked:
        parts.append(_render(request, "question_note", assessment, context | {"swap_oob": True}))
    parts += _after_answers_changed(request, assessment, rubric, answers, asked_before, views)
    response = HttpResponse("".join(parts), status=UNPROCESSABLE if error else 200)
    if redraw:
        response["HX-Retarget"] = f"#q-{question_id}"
        response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_POST
def save_question_note(request: HttpRequest, pk: int, question_id: str) -> HttpResponse:
    """Autosave of one question's note and its "does not apply" mark (fields `note` and
    `not_applicable`, or the questionnaire's own field names for them)."""
    assessment, rubric, question = _question_to_save(request, pk, question_id)
    answers = assessment.answer_values
    notes = assessment.note_values
    asked_before = set(asked_ids(rubric, answers))
    was_marked = notes.get(question_id, {}).get("not_applicable", False)
    text = _posted_text(request, question_id, notes.get(question_id, {}).get("text", ""))
    marked = ticked(
        request.POST.getlist("not_applicable")
        + request.POST.getlist(not_applicable_field(question_id))
    )
    error = None
    answer_cleared = False
    try:
        note = parse_note(question, text, marked)
        answer_cleared = save_note(assessment, note).answer_cleared
    except InvalidAnswers as invalid:
        error = invalid.problems[0].message
    except AnswersFrozen as frozen:
        error = str(frozen)
    else:
        if note.is_empty:
            notes.pop(question_id, None)
        else:
            notes[question_id] = note.as_dict()
        if answer_cleared:
            answers.pop(question_id, None)
    if not request.htmx:
        if error:
            messages.error(request, f"{question.text} Note not saved: {capfirst(error)}")
        else:
            messages.success(request, f"Note saved: {question.text}")
        return redirect(reverse("questionnaire", args=[pk]) + f"#q-{question_id}")
    if error:
        # Refused: the note's controls keep what was typed and ticked (unlike an answer's, a
        # note is not half-applied anywhere: nothing else on the page follows it), so adding
        # the missing reason saves both, rather than silently dropping the tick.
        notes = {**notes, question_id: {"text": text, "not_applicable": marked}}
    views = _question_views(rubric, answers, notes, None, {question_id: error} if error else None)
    context = {"question": views[question_id], "saved": error is None}
    if error:
        html = _render(request, "question_note", assessment, context)
        response = HttpResponse(html, status=UNPROCESSABLE)
        response["HX-Retarget"] = f"#note-{question_id}"
        response["HX-Reswap"] = "outerHTML"
        return response
    parts = [_render(request, "note_status", assessment, context)]
    if marked != was_marked or answer_cleared:
        # The question's answer controls look set aside while it "does not apply".
        parts.append(
            _render(
                request,
                "question_fieldset",
                assessment,
                # Its status is the answer's: nothing was said about the answer here.
                context | {"swap_oob": True, "saved": False},
            )
        )
    if answer_cleared:
        parts += _after_answers_changed(request, assessment, rubric, answers, asked_before, views)
    return HttpResponse("".join(parts))


def _posted_text(request: HttpRequest, question_id: str, stored: str) -> str:
    """The posted note text; a request without it (only the mark) keeps the stored text."""
    for field in ("note", note_field(question_id)):
        if field in request.POST:
            return "\n".join(request.POST.getlist(field))
    return stored


def _question_views(
    rubric: Any,
    answers: dict[str, Any],
    notes: dict[str, dict[str, Any]],
    errors: dict[str, str] | None,
    note_errors: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    return {
        q["id"]: q
        for section in question_sections(rubric, answers, errors, None, notes, note_errors)
        for q in section["questions"]
    }


def _render(
    request: HttpRequest, part: str, assessment: Assessment, context: dict[str, Any]
) -> str:
    return render_to_string(f"{TEMPLATE}#{part}", {"assessment": assessment, **context}, request)


def _after_answers_changed(
    request: HttpRequest,
    assessment: Assessment,
    rubric: Any,
    answers: dict[str, Any],
    asked_before: set[str],
    views: dict[str, dict[str, Any]],
) -> list[str]:
    """What follows a change of the stored answers (`answers`, now): the questions it brings
    into (or takes out of) the form, the verdict panel, bar and announcement, and for a
    re-assessed assessment what is still to answer."""
    toggled = [q for q in views if (q in asked_before) != views[q]["asked"]]
    evaluation = evaluate(answers, rubric, include_flips=False)
    context = panel_context(assessment, evaluation) | {
        "oob": True,
        "appeared": [views[q]["label"] for q in toggled if views[q]["asked"]],
    }
    parts = [
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
    carried_over = carried_over_view(assessment, evaluation=evaluation)
    if carried_over is not None:
        parts.append(
            render_to_string(
                CARRIED_OVER_TEMPLATE, {"carried_over": carried_over, "swap_oob": True}, request
            )
        )
    return parts
