"""The report: the verdict, why, the decision matrix, the chart, flips, warnings, next steps."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

from assessments.access import EDITOR, get_assessment, may
from assessments.forms import ShareLinkForm
from assessments.milestones import same_content
from assessments.models import Assessment, Milestone, ShareLink, SignOff
from assessments.numbers import numbers_view
from assessments.presenters import present_report
from assessments.services import Evaluation, evaluate_assessment, reassessed_as
from assessments.upgrade_view import upgrade_context

# The report body's template by the engine of the rubric the assessment was scored with.
REPORT_BODY_TEMPLATES = {
    "weights": "assessments/report.html#report_body",  # v1
    "lanes": "assessments/report_v2.html#report_body",  # v2: two lanes, one ladder
}


def render_report_body(
    assessment: Assessment, evaluation: Evaluation, *, is_owner: bool
) -> SafeString:
    """The body (verdict, why, matrix or ladder, flips, ...) of a complete, valid evaluation:
    the same for the owner's page, a share link and an example."""
    if evaluation.result is None:
        raise ValueError("only a complete, valid evaluation has a report body")
    context = {
        "assessment": assessment,
        "is_owner": is_owner,
        "report": present_report(
            evaluation.result, evaluation.rubric, evaluation.answers, assessment.note_values
        ),
        "numbers": numbers_view(assessment, evaluation),
        "numbers_url": reverse("assessment_numbers", args=[assessment.pk]) if is_owner else "",
    }
    template = REPORT_BODY_TEMPLATES[evaluation.rubric.engine]
    return SafeString(render_to_string(template, context))


def report_context(assessment: Assessment, mode: str) -> dict[str, Any]:
    """mode: "owner" (a signed-in member's page: controls as their role allows; the
    assessment was reached through access.get_assessment), "example" or "shared" (read-only,
    no owner identity)."""
    evaluation = evaluate_assessment(assessment)
    member = mode == "owner"
    can_edit = member and may(assessment, EDITOR)
    # Re-assessed on a newer rubric: its answers are frozen, so no links to change them.
    successor = reassessed_as(assessment) if member else None
    editable = can_edit and successor is None
    context: dict[str, Any] = {
        "assessment": assessment,
        "project": assessment.project,
        "evaluation": evaluation,
        "mode": mode,
        "is_owner": member,  # a member's page (breadcrumbs, project links)
        "can_edit": can_edit,  # answers, milestones, share links
        "editable": editable,  # answers can change now
        "user_role": getattr(assessment, "user_role", None) if member else None,
        "reassessed_as": successor,
    }
    if evaluation.result is not None:
        context["report_body"] = render_report_body(assessment, evaluation, is_owner=editable)
    if mode == "owner":
        context["pdf_url"] = reverse("memo", args=[assessment.pk])
    elif mode == "example":
        context["pdf_url"] = reverse("example_memo", args=[assessment.project.example_key])
    return context


def _share_form_fields(form: ShareLinkForm) -> str:
    return render_to_string("_form_fields.html", {"form": form})


@dataclass(frozen=True)
class LinkShows:
    """What a share link shows, for its owner's list: a milestone (`snapshot`) and whether
    the project changed since it was made, or the latest answers and when they changed."""

    snapshot: Milestone | None
    changed_since: bool = False
    current_pk: int | None = None  # the project's current assessment, to compare with
    latest_changed_at: datetime | None = None


def link_shows(link: ShareLink, assessment: Assessment, current_pk: int) -> LinkShows:
    """`assessment` is the link's own, loaded with answers; `current_pk` the project's current
    (newest) assessment: a newer one than the link's means the project moved on."""
    if link.milestone is None:
        if current_pk != assessment.pk:  # it shows a newer assessment's answers now
            return LinkShows(None, current_pk=current_pk)
        return LinkShows(
            None, latest_changed_at=assessment.answers_changed_at or assessment.created_at
        )
    changed = current_pk != assessment.pk or not same_content(link.milestone, assessment)
    return LinkShows(link.milestone, changed_since=changed, current_pk=current_pk)


def share_panel_context(
    assessment: Assessment,
    *,
    share_form: ShareLinkForm | None = None,
    new_share_url: str | None = None,
    milestones: list[Milestone] | None = None,
) -> dict[str, Any]:
    """The editor's share panel: the form and the links with what each shows, in four queries
    however many links and milestones there are."""
    if share_form is None:
        if milestones is None:
            milestones = list(assessment.milestones.all())
        share_form = ShareLinkForm(milestones=milestones)
    current_pk = Assessment.objects.current_pk(assessment.project_id)
    # A dismissed link is gone from the list (a revoked one stays, to be undone).
    links = [link for link in assessment.share_links.select_related("milestone") if link.is_listed]
    for link in links:
        link.shows = link_shows(link, assessment, current_pk)
    return {
        "assessment": assessment,
        "share_links": links,
        "share_fields": _share_form_fields(share_form),
        "new_share_url": new_share_url,
    }


@dataclass(frozen=True)
class SignOffGroup:
    milestone: Milestone
    responses: list[SignOff]
    current: bool  # the assessment still holds what the milestone copied


def sign_off_groups(
    assessment: Assessment, milestones: list[Milestone] | None = None
) -> list[SignOffGroup]:
    """The responses readers gave through share links to the assessment's milestones, newest
    milestone first, each saying whether the current answers still match (two queries, or
    none given `milestones` loaded with their sign_offs)."""
    if milestones is None:
        milestones = list(assessment.milestones.prefetch_related("sign_offs"))
    groups = []
    for milestone in milestones:
        responses = list(milestone.sign_offs.all())
        if responses:
            groups.append(SignOffGroup(milestone, responses, same_content(milestone, assessment)))
    return groups


def render_report(request: HttpRequest, assessment: Assessment, mode: str) -> HttpResponse:
    return render(request, "assessments/report.html", report_context(assessment, mode))


def member_report_context(
    assessment: Assessment,
    *,
    share_form: ShareLinkForm | None = None,
    new_share_url: str | None = None,
) -> dict[str, Any]:
    """A member's whole report page (the report, and the forms that post from it show it
    again when they are refused without JavaScript): the report, the share panel for
    editors, the responses, re-assessing."""
    context = report_context(assessment, mode="owner")
    # Loaded once for the share form's choices and the sign-off section.
    milestones = list(assessment.milestones.prefetch_related("sign_offs"))
    if context["can_edit"]:
        context |= share_panel_context(
            assessment, share_form=share_form, new_share_url=new_share_url, milestones=milestones
        )
    context["sign_off_groups"] = sign_off_groups(assessment, milestones)
    context |= upgrade_context(assessment, context["evaluation"], context["reassessed_as"])
    if not context["can_edit"]:
        context["reassess_to"] = None  # a viewer reads; re-assessing is an editor's
    return context


@login_required
@require_safe
def report(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_assessment(request.user, pk)
    return render(request, "assessments/report.html", member_report_context(assessment))
