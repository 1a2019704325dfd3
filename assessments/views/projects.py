"""Projects: list, create, edit, delete, the project page with its assessment history, and
new assessments (a fresh start, or a v1 assessment re-assessed on the current rubric)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.quotas import too_many
from assessments import limits
from assessments.access import (
    EDITOR,
    OWNER,
    get_assessment,
    get_owned_project,
    get_project,
    may,
)
from assessments.forms import ImportForm, ProjectForm
from assessments.milestones import milestone_rows
from assessments.models import Assessment, Project
from assessments.services import create_project, evaluate_assessment, reassess, start_assessment
from assessments.transfer import export_project, import_project
from assessments.upgrade_view import reassess_to
from assessments.validation import InvalidAnswers


def _summary(assessment: Assessment | None, successor: Assessment | None = None) -> dict:
    """One assessment's row; `successor`: its re-assessment on a newer rubric, if any."""
    evaluation = evaluate_assessment(assessment, include_flips=False) if assessment else None
    return {
        "assessment": assessment,
        "evaluation": evaluation,
        "reassess_to": reassess_to(assessment, successor) if assessment else None,
        "reassessed_as": successor,
    }


def _successors(assessments: list[Assessment]) -> dict[int, Assessment]:
    """Assessment id -> its newest re-assessment on another rubric, among `assessments` (all
    of a project's, newest first), as services.reassessed_as finds it, without a query each."""
    by_pk = {a.pk: a for a in assessments}
    found: dict[int, Assessment] = {}
    for item in reversed(assessments):  # oldest first: a newer re-assessment replaces it
        source = by_pk.get(item.carried_from_id)
        if source is not None and source.rubric_version != item.rubric_version:
            found[source.pk] = item
    return found


@login_required
@require_safe
def project_list(request: HttpRequest) -> HttpResponse:
    projects = [
        {"project": project, **_summary(project.current_assessment)}
        # Shared ones name their owner: one join, not a query per project.
        for project in Project.objects.reached_by(request.user)
        .select_related("owner")
        .with_assessments()
    ]
    return render(request, "assessments/project_list.html", {"projects": projects})


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project, assessment = create_project(owner=request.user, **form.cleaned_data)
        messages.success(request, f"Project “{project.name}” created. Answer the questions below.")
        return redirect("questionnaire", pk=assessment.pk)
    return render(request, "assessments/project_form.html", {"form": form, "creating": True})


@login_required
@require_safe
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project(request.user, pk)
    assessments = list(project.assessments.with_answers())
    successors = _successors(assessments)
    history = [_summary(a, successors.get(a.pk)) for a in assessments]
    context = {
        "project": project,
        "current": history[0] if history else None,
        "history": history[1:],
        "reassessable_history": any(item["reassess_to"] for item in history[1:]),
        # What the user's role shows: a control that would 404 for them is never shown.
        "is_owner": project.user_role == OWNER,
        "can_edit": may(project, EDITOR),
        "milestones": milestone_rows(project),
    }
    return render(request, "assessments/project_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_owned_project(request.user, pk)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Project saved.")
        return redirect(project)
    return render(request, "assessments/project_form.html", {"form": form, "project": project})


@login_required
@require_http_methods(["GET", "POST"])
def project_delete(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_owned_project(request.user, pk)
    if request.method == "POST":
        name = project.name
        project.delete()
        messages.success(request, f"Project “{name}” deleted.")
        return redirect("project_list")
    return render(request, "assessments/project_confirm_delete.html", {"project": project})


@login_required
@require_POST
def assessment_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project(request.user, pk, EDITOR)
    current = project.assessments.with_answers().first()
    if current is not None and reassess_to(current) is not None:
        # From an earlier rubric the one way on is re-assessing (a stale page may still
        # offer a fresh start): at most one re-assessment per assessment.
        return _reassessed(request, current)
    assessment = start_assessment(project)
    messages.success(
        request,
        "New assessment started with your current answers. Change what is different now.",
    )
    return redirect("questionnaire", pk=assessment.pk)


@login_required
@require_POST
def assessment_reassess(request: HttpRequest, pk: int) -> HttpResponse:
    """A new assessment on the current rubric, started from this one of an earlier rubric
    (which stays exactly as it is, share links and all, and from then on keeps its answers:
    services.save_answers). A second request opens the re-assessment already made."""
    source = get_assessment(request.user, pk, EDITOR)
    if reassess_to(source) is None:
        messages.error(
            request,
            f"This assessment already uses rubric {source.rubric_version}, the current one: "
            "there is nothing to re-assess, and nothing was changed.",
        )
        return redirect(source.project)
    return _reassessed(request, source)


def _reassessed(request: HttpRequest, source: Assessment) -> HttpResponse:
    """Re-assess `source` (of an earlier rubric), or open its re-assessment if it has one."""
    assessment, created = reassess(source)
    if not created:
        when = date_format(timezone.localtime(assessment.created_at), "j M Y")
        messages.info(
            request,
            f"This assessment was re-assessed on rubric {assessment.rubric_version} already, on "
            f"{when}: here is that assessment. Nothing new was started.",
        )
        return redirect("questionnaire", pk=assessment.pk)
    messages.success(
        request,
        f"New assessment on rubric {assessment.rubric_version} started from your rubric "
        f"{source.rubric_version} answers: answer what is new below. The "
        f"{source.rubric_version} assessment stays as it is.",
    )
    return redirect("questionnaire", pk=assessment.pk)


@login_required
@require_safe
def project_export(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project(request.user, pk)
    response = JsonResponse(export_project(project), json_dumps_params={"indent": 2})
    filename = f"{slugify(project.name)[:60] or 'project'}-advisor-export.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


TOO_MANY_IMPORTS = (
    "Too many import attempts in a short time. Nothing was imported; you can import again "
    "in {wait}."
)


@login_required
@require_http_methods(["GET", "POST"])
def project_import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":  # counted before the file is read, whatever it holds
        wait = limits.imports().take(limits.user_key(request))
        if wait:
            return too_many(request, wait, TOO_MANY_IMPORTS)
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            project = import_project(request.user, form.cleaned_data["file"])
        except InvalidAnswers as invalid:
            problems = [str(problem) for problem in invalid.problems]
        else:
            messages.success(request, f"Project “{project.name}” imported.")
            return redirect(project)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "assessments/project_import.html",
        {"form": form, "problems": problems},
        status=status,
    )
