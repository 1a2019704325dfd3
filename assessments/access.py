"""How a view reaches an object: through its owner (anyone else gets a 404, never a 403), a
worked example's key, or a share link. Every assessment comes with its project and answers."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from assessments.models import Assessment, Project, ShareLink


def get_owned_project(user, pk: int) -> Project:
    return get_object_or_404(Project.objects.owned_by(user), pk=pk)


def get_owned_assessment(user, pk: int) -> Assessment:
    return get_object_or_404(Assessment.objects.owned_by(user).with_answers(), pk=pk)


def get_example_assessment(example_key: str) -> Assessment:
    """The current (newest) assessment of a worked example."""
    assessment = (
        Assessment.objects.examples()
        .with_answers()
        .filter(project__example_key=example_key)
        .first()
    )
    if assessment is None:
        raise Http404("No such example")
    return assessment


def get_shared_assessment(link: ShareLink) -> Assessment:
    """The assessment an active share link (see sharing.resolve_token) opens."""
    return Assessment.objects.with_answers().get(pk=link.assessment_id)
