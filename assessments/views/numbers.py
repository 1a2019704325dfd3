"""Run the numbers: the owner's page where the estimator's assumptions are edited (HTMX
swaps the form and the numbers together; without JavaScript the form posts and redirects)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from assessments.access import EDITOR, get_assessment
from assessments.estimator import has_estimator
from assessments.models import Assessment
from assessments.numbers import Numbers, numbers_for, present_numbers
from assessments.services import evaluate_assessment, save_assumptions

PAGE = "assessments/numbers.html"
SAVED = "Assumptions saved; the numbers use them."
RESET = "Back to the defaults; the numbers use them."


def _numbers(assessment: Assessment) -> Numbers | None:
    return numbers_for(assessment, evaluate_assessment(assessment))


def _render(request: HttpRequest, assessment: Assessment, numbers: Numbers | None, **extra):
    """The whole page, or for an HTMX request the form and numbers it swaps."""
    template = f"{PAGE}#numbers_work" if request.htmx and numbers else PAGE
    view = None
    if numbers is not None:
        view = present_numbers(numbers, extra.pop("typed", None), extra.pop("errors", None))
    status = extra.pop("status", 200)
    context = {
        "assessment": assessment,
        "project": assessment.project,
        "numbers": view,
        "has_estimator": has_estimator(assessment.rubric_version),
        **extra,
    }
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assessment_numbers(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_assessment(request.user, pk, EDITOR)
    numbers = _numbers(assessment)
    if request.method != "POST":
        return _render(request, assessment, numbers)
    if numbers is None:  # nothing to change yet: the page says why
        return redirect("assessment_numbers", pk=assessment.pk)
    # The whole form comes with every post (a Reset button too), so nothing typed is lost.
    resets = request.POST.getlist("reset")
    values, errors = numbers.config.parse_edits(request.POST, numbers.book)
    if errors:  # nothing is saved; the form shows what was typed
        messages_ = [(key, f"{message}.") for key, message in errors.items()]
        return _render(request, assessment, numbers, typed=request.POST.dict(), errors=errors,
                       form_errors=messages_, status=422)  # fmt: skip
    save_assumptions(assessment, values, numbers.defaults(), resets=resets)
    notice = RESET if resets else SAVED
    if not request.htmx:
        messages.success(request, notice)
        return redirect("assessment_numbers", pk=assessment.pk)
    return _render(request, assessment, _numbers(assessment), saved_message=notice)
