"""Milestones (save, read, accept, the ADR download) and comparing a project's states."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from assessments.access import EDITOR, OWNER, get_assessment, get_milestone, get_project, may
from assessments.adr import adr_filename, adr_markdown
from assessments.forms import CompareForm, MilestoneAcceptForm, MilestoneForm
from assessments.milestones import (
    NotTheOwner,
    adr_number,
    compare_states,
    create_milestone,
    default_pair,
    project_milestones,
    same_content,
    set_accepted,
    sign_off_counts,
    state_choices,
    superseded_by,
)
from assessments.models import Assessment, Milestone, SignOff
from assessments.services import evaluate_assessment
from assessments.views.reports import member_report_context, render_report_body

PAGE = "assessments/milestone.html"


@login_required
@require_POST
def milestone_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Save a milestone of the assessment as it is stored now (any state, even incomplete or
    frozen by a re-assessment: a milestone is a copy, and changes nothing)."""
    assessment = get_assessment(request.user, pk, EDITOR)
    form = MilestoneForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            context = {"assessment": assessment, "milestone_form": form}
            return render(request, f"{PAGE}#save_form", context, status=422)
        context = member_report_context(assessment) | {"milestone_form": form}
        return render(request, "assessments/report.html", context, status=422)
    milestone = create_milestone(assessment, name=form.cleaned_data["name"], by=request.user)
    if request.htmx:
        context = {"assessment": assessment, "milestone_form": MilestoneForm(), "saved": milestone}
        return render(request, f"{PAGE}#save_form", context)
    messages.success(
        request,
        f"Milestone “{milestone.name}” saved: an immutable copy of these answers and their "
        "verdict. Later edits do not change it.",
    )
    return redirect("milestone_detail", pk=milestone.pk)


def milestone_context(milestone: Milestone, **extra: Any) -> dict[str, Any]:
    """The milestone's read-only report (the report body of its own copy of the answers),
    with what is known about it: who saved it, whether the assessment still matches, its
    ADR status and responses."""
    evaluation = evaluate_assessment(milestone)
    assessment = milestone.assessment  # reached with the user's role (access.get_milestone)
    current_pk = Assessment.objects.current_pk(milestone.assessment.project_id)
    sign_offs = list(milestone.sign_offs.all())
    context = {
        "milestone": milestone,
        "project": milestone.project,
        "assessment": assessment,
        "evaluation": evaluation,
        "is_current": current_pk == assessment.pk,
        "current_pk": current_pk,
        "matches": same_content(milestone, assessment),
        "is_owner": may(assessment, OWNER),
        "sign_offs": sign_offs,
        "sign_off_counts": sign_off_counts(sign_offs),
        "superseded_by": superseded_by(milestone),
        "accept_form": MilestoneAcceptForm(),
    }
    if current_pk is not None:
        context["compare_url"] = (
            reverse("project_compare", args=[milestone.project.pk])
            + f"?left=m{milestone.pk}&right=a{current_pk}"
        )
    if evaluation.result is not None:
        context["report_body"] = render_report_body(milestone, evaluation, is_owner=False)
    return context | extra


@login_required
@require_safe
def milestone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_milestone(request.user, pk)
    return render(request, PAGE, milestone_context(milestone))


@login_required
@require_POST
def milestone_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner marks the milestone's decision as accepted (accepted=1) or withdraws that
    (accepted=0): the ADR's status."""
    milestone = get_milestone(request.user, pk, OWNER)
    form = MilestoneAcceptForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            context = milestone_context(milestone, accept_form=form)
            return render(request, f"{PAGE}#adr_status", context, status=422)
        return render(request, PAGE, milestone_context(milestone, accept_form=form), status=422)
    accepted = form.cleaned_data["accepted"]
    try:
        changed = set_accepted(milestone, accepted, by=request.user)
    except NotTheOwner as gone:  # the project changed hands since the lookup
        raise Http404("Not the owner") from gone
    if accepted:
        notice = "Marked as accepted: the ADR's status is now “Accepted”."
        objections = milestone.sign_offs.filter(decision=SignOff.Decision.OBJECT).count()
        if objections:  # accepted over them: said, so it is a decision, not an oversight
            readers = "reader objects" if objections == 1 else "readers object"
            notice += f" Note: {objections} {readers} to this milestone (see its responses)."
    else:
        notice = "Acceptance withdrawn: the ADR's status is “Proposed” again."
    if not changed:
        state = "Accepted" if accepted else "Proposed"
        notice = f"Nothing changed: the ADR's status was already “{state}”."
    if request.htmx:
        context = milestone_context(milestone, accept_notice=notice)
        return render(request, f"{PAGE}#adr_status", context)
    messages.success(request, notice)
    return redirect("milestone_detail", pk=milestone.pk)


@login_required
@require_safe
def milestone_adr(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_milestone(request.user, pk)
    text = adr_markdown(milestone, number=adr_number(milestone))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{adr_filename(milestone)}"'
    return response


@login_required
@require_safe
def project_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two of the project's assessments or milestones side by side. A plain GET form: the
    choices are in the query string, so a comparison can be bookmarked or shared in the team."""
    project = get_project(request.user, pk)
    assessments = list(project.assessments.with_answers())
    milestones = project_milestones(project)
    for milestone in milestones:  # their project is this one: no query to reach it
        milestone.assessment.project = project
    choices = state_choices(assessments, milestones)
    data = default_pair(assessments, milestones) | {
        name: request.GET[name] for name in ("left", "right") if name in request.GET
    }
    form = CompareForm(data, choices=choices)
    context: dict[str, Any] = {"project": project, "form": form}
    status = 200
    if not assessments:
        context["nothing"] = True
    elif form.is_valid():
        context["comparison"] = compare_states(
            form.cleaned_data["left"], form.cleaned_data["right"], assessments, milestones
        )
    else:
        status = 422
    return render(request, "assessments/compare.html", context, status=status)
