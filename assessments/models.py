"""Projects, their assessments, and one row per answered question.

One row per (assessment, question) means saving one question can never overwrite another,
whatever else is being saved at the same time.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from assessments.rubric import CURRENT_VERSION


class ProjectQuerySet(models.QuerySet):
    def owned_by(self, user) -> ProjectQuerySet:
        return self.filter(owner=user, is_example=False)

    def examples(self) -> ProjectQuerySet:
        return self.filter(is_example=True)


class Project(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="projects",
        null=True,
        blank=True,
        help_text="Empty only for the read-only worked examples.",
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=4000)
    is_example = models.BooleanField(default=False)
    example_key = models.SlugField(max_length=80, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_example=True) | Q(owner__isnull=False),
                name="project_has_owner_unless_example",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("project_detail", args=[self.pk])

    def current_assessment(self) -> Assessment | None:
        return self.assessments.order_by("-created_at", "-id").first()


class Assessment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assessments")
    rubric_version = models.CharField(max_length=20, default=CURRENT_VERSION)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    answers_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project.name} ({self.created_at:%Y-%m-%d})"

    def answers_dict(self) -> dict[str, Any]:
        """The answers as loaded by load_answers() or a prefetch of `answers`, if either
        was done (so possibly older than the database), else straight from the database."""
        if self._loaded_answers is not None:
            return dict(self._loaded_answers)
        return {answer.question_id: answer.value for answer in self.answers.all()}

    def load_answers(self) -> Assessment:
        """Load the answers with one plain query (cheaper than a prefetch of model objects)."""
        self._loaded_answers = self.answers_dict_fresh()
        return self

    _loaded_answers: dict[str, Any] | None = None

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self._loaded_answers = None  # as a refresh drops prefetched answers
        super().refresh_from_db(*args, **kwargs)

    def answers_dict_fresh(self) -> dict[str, Any]:
        """Straight from the database, ignoring any prefetched (possibly stale) answers."""
        return dict(Answer.objects.filter(assessment=self).values_list("question_id", "value"))


class Answer(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    question_id = models.CharField(max_length=64)
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question_id"], name="one_answer_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_id} = {self.value!r}"


class ShareLinkQuerySet(models.QuerySet):
    def active(self, now=None) -> ShareLinkQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class ShareLink(models.Model):
    """A read-only link to one assessment's report. Only the token's SHA-256 is stored."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="share_links")
    label = models.CharField(max_length=80, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label or f"Share link {self.pk}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
