"""The report: the verdict, why, the decision matrix, the chart, flips, warnings, next steps."""

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_safe

from assessments.access import get_owned_assessment
from assessments.forms import ShareLinkForm
from assessments.models import Assessment
from assessments.report_bodies import render_report_body
from assessments.services import evaluate_assessment, reassessed_as
from assessments.upgrade_view import upgrade_context


def report_context(assessment: Assessment, mode: str) -> dict[str, Any]:
    """mode: "owner" (with controls), "example" or "shared" (read-only, no owner identity)."""
    evaluation = evaluate_assessment(assessment)
    # Re-assessed on a newer rubric: its answers are frozen, so no links to change them.
    successor = reassessed_as(assessment) if mode == "owner" else None
    editable = mode == "owner" and successor is None
    context: dict[str, Any] = {
        "assessment": assessment,
        "project": assessment.project,
        "evaluation": evaluation,
        "mode": mode,
        "is_owner": mode == "owner",
        "editable": editable,
        "reassessed_as": successor,
    }
    if evaluation.result is not None:
        context["report_body"] = render_report_body(assessment, evaluation, is_owner=editable)
    if mode == "owner":
        context["pdf_url"] = reverse("memo", args=[assessment.pk])
    elif mode == "example":
        context["pdf_url"] = reverse("example_memo", args=[assessment.project.example_key])
    return context


def _share_form_fields(form: ShareLinkForm | None) -> str:
    """The share form's fields. A blank form always renders the same, and Django's widget
    rendering is a fifth of the report page's time: render it once per process."""
    if form is not None or settings.DEBUG:
        return render_to_string("_form_fields.html", {"form": form or ShareLinkForm()})
    global _blank_share_fields
    if _blank_share_fields is None:
        _blank_share_fields = render_to_string("_form_fields.html", {"form": ShareLinkForm()})
    return _blank_share_fields


_blank_share_fields: str | None = None


def share_panel_context(
    assessment: Assessment,
    *,
    share_form: ShareLinkForm | None = None,
    new_share_url: str | None = None,
) -> dict[str, Any]:
    return {
        "assessment": assessment,
        # A dismissed link is gone from the list (a revoked one stays, to be undone).
        "share_links": [link for link in assessment.share_links.all() if link.is_listed],
        "share_fields": _share_form_fields(share_form),
        "new_share_url": new_share_url,
    }


def render_report(request: HttpRequest, assessment: Assessment, mode: str) -> HttpResponse:
    return render(request, "assessments/report.html", report_context(assessment, mode))


@login_required
@require_safe
def report(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_owned_assessment(request.user, pk)
    context = report_context(assessment, mode="owner") | share_panel_context(assessment)
    context |= upgrade_context(assessment, context["evaluation"], context["reassessed_as"])
    return render(request, "assessments/report.html", context)
