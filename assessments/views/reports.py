"""The report: the verdict, why, the decision matrix, the chart, flips, warnings, next steps."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from assessments.access import get_owned_assessment
from assessments.forms import ShareLinkForm
from assessments.models import Assessment
from assessments.presenters import report_view
from assessments.services import evaluate_assessment


def report_context(assessment: Assessment, mode: str) -> dict[str, Any]:
    """mode: "owner" (with controls), "example" or "shared" (read-only, no owner identity)."""
    evaluation = evaluate_assessment(assessment)
    context: dict[str, Any] = {
        "assessment": assessment,
        "project": assessment.project,
        "evaluation": evaluation,
        "mode": mode,
        "is_owner": mode == "owner",
    }
    if evaluation.result is not None:
        context["report"] = report_view(evaluation.result, evaluation.rubric, evaluation.answers)
    if mode == "owner":
        context["pdf_url"] = reverse("memo", args=[assessment.pk])
    elif mode == "example":
        context["pdf_url"] = reverse("example_memo", args=[assessment.project.example_key])
    return context


def share_panel_context(
    assessment: Assessment,
    *,
    share_form: ShareLinkForm | None = None,
    new_share_url: str | None = None,
) -> dict[str, Any]:
    return {
        "assessment": assessment,
        "share_links": list(assessment.share_links.all()),
        "share_form": share_form or ShareLinkForm(),
        "new_share_url": new_share_url,
    }


def render_report(request: HttpRequest, assessment: Assessment, mode: str) -> HttpResponse:
    return render(request, "assessments/report.html", report_context(assessment, mode))


@login_required
@require_safe
def report(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_owned_assessment(request.user, pk)
    context = report_context(assessment, mode="owner") | share_panel_context(assessment)
    return render(request, "assessments/report.html", context)
