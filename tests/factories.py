"""Factories for every model, and the helpers that read and write answers as the app does.

Answers are always written through validation and services.save_answers, so a test can
never set up answers the app itself would refuse.
"""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from assessments.models import Assessment, Project
from assessments.rubric import load_rubric
from assessments.services import save_answers
from assessments.validation import changes_from_values


def loaded(assessment: Assessment) -> Assessment:
    """The assessment as the views load it: with its project and its stored answers."""
    return Assessment.objects.with_answers().get(pk=assessment.pk)


def stored_answers(assessment: Assessment) -> dict[str, Any]:
    """What the database holds now, read through the app's one selector."""
    return loaded(assessment).answer_values


def set_answers(assessment: Assessment, values: dict[str, Any]) -> bool:
    """Save typed answers (None clears an optional one) as the app does: checked first
    (InvalidAnswers names every problem), then saved. Returns whether anything changed."""
    rubric = load_rubric(assessment.rubric_version)
    changes = changes_from_values(rubric, values)
    return save_answers(assessment, changes)


class UserFactory(DjangoModelFactory):
    """A user; without a `password` it has none (logging in with force_login is fast)."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any):
        return model_class.objects.create_user(*args, **kwargs)


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    owner = factory.SubFactory(UserFactory)
    name = "Support bot"
    description = ""


class ExampleProjectFactory(ProjectFactory):
    """A read-only worked example, owned by no one."""

    owner = None
    is_example = True
    name = "Worked example"
    example_key = factory.Sequence(lambda n: f"worked-example-{n}")


class AssessmentFactory(DjangoModelFactory):
    """AssessmentFactory(answers={...}) saves the answers through the app's own write path."""

    class Meta:
        model = Assessment
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)

    @factory.post_generation
    def answers(assessment: Assessment, create: bool, extracted: dict[str, Any] | None, **_):
        if create and extracted:
            set_answers(assessment, extracted)
            assessment.refresh_from_db()


class V1AssessmentFactory(AssessmentFactory):
    """An assessment under the frozen rubric v1 (its answers are v1 answers): what every
    assessment was before v2, and still is for the projects that hold one."""

    rubric_version = "v1"
