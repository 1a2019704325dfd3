"""How a view reaches an object: through the signed-in user's own projects or memberships
(anyone else gets a 404, never a 403), a worked example's key, or a share link. Every
assessment comes with its project and answers.

Roles, lowest first: "viewer" (reads, compares, downloads), "editor" (also answers, notes,
milestones, share links), "owner" (also members, transfer, delete). A view asks for the
lowest role that may use it; an object reached with a lower one is a 404, like one that does
not exist. Objects found carry the user's role as `user_role`.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from assessments.models import ROLE_LEVELS, Assessment, Milestone, Project

VIEWER, EDITOR, OWNER = "viewer", "editor", "owner"


def get_project(user, pk: int, at_least: str = VIEWER) -> Project:
    return get_object_or_404(Project.objects.reached_by(user, at_least), pk=pk)


def get_assessment(user, pk: int, at_least: str = VIEWER) -> Assessment:
    return get_object_or_404(Assessment.objects.reached_by(user, at_least).with_answers(), pk=pk)


def get_milestone(user, pk: int, at_least: str = VIEWER) -> Milestone:
    """A milestone of an assessment the user reaches with `at_least` that role; its
    assessment (with project, answers and `user_role`) is `milestone.assessment`."""
    milestone = get_object_or_404(Milestone.objects.select_related("assessment"), pk=pk)
    milestone.assessment = get_assessment(user, milestone.assessment_id, at_least)
    return milestone


def get_owned_project(user, pk: int) -> Project:
    return get_project(user, pk, OWNER)


def get_owned_assessment(user, pk: int) -> Assessment:
    return get_assessment(user, pk, OWNER)


def may(obj: Project | Assessment, at_least: str) -> bool:
    """Whether the role the object was reached with (`user_role`) allows `at_least`."""
    role = getattr(obj, "user_role", None)
    return role is not None and ROLE_LEVELS[role] >= ROLE_LEVELS[at_least]


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
