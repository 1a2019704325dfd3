"""Every object is reached through its owner: anyone else gets a 404, never a 403."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from assessments.models import Assessment, Project


def owned_projects(user) -> QuerySet[Project]:
    return Project.objects.owned_by(user)


def get_owned_project(user, pk: int) -> Project:
    return get_object_or_404(owned_projects(user), pk=pk)


def get_owned_assessment(user, pk: int) -> Assessment:
    """The assessment with its project and answers loaded, if `user` owns it."""
    queryset = Assessment.objects.select_related("project")
    assessment = get_object_or_404(queryset, pk=pk, project__owner=user, project__is_example=False)
    return assessment.load_answers()


def get_example_assessment(example_key: str) -> Assessment:
    project = get_object_or_404(
        Project.objects.examples().prefetch_related(
            Prefetch(
                "assessments",
                queryset=Assessment.objects.order_by("-created_at", "-id").prefetch_related(
                    "answers"
                ),
            )
        ),
        example_key=example_key,
    )
    assessments = list(project.assessments.all())
    if not assessments:
        raise Http404("This example has no assessment")
    assessment = assessments[0]
    assessment.project = project
    return assessment
