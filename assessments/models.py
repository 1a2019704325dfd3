"""Projects, their assessments, and one row per answered question.

One row per (assessment, question) means saving one question can never overwrite another,
whatever else is being saved at the same time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from assessments.rubric import CURRENT_VERSION


def _owned_by(user, via: str = "") -> Q:
    """Ownership, defined once: the user's own projects, never a read-only worked example
    (not even one the user created before it was flagged as an example)."""
    return Q(**{f"{via}owner": user, f"{via}is_example": False})


class ProjectQuerySet(models.QuerySet):
    def owned_by(self, user) -> ProjectQuerySet:
        return self.filter(_owned_by(user))

    def examples(self) -> ProjectQuerySet:
        return self.filter(is_example=True)

    def with_assessments(self) -> ProjectQuerySet:
        """Each project with `project.assessments.all()` newest first, each with its answers
        (three queries however many projects)."""
        return self.prefetch_related(
            Prefetch("assessments", queryset=Assessment.objects.with_answers())
        )


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

    @property
    def current_assessment(self) -> Assessment | None:
        """The newest assessment, with its answers, of a project loaded with
        `Project.objects.with_assessments()`."""
        return next(
            iter(_prefetched(self, "assessments", "Project.objects.with_assessments()")), None
        )


class NotLoaded(LookupError):
    """Related rows were read from an object not loaded through the selector that brings them."""


def _prefetched(instance: models.Model, relation: str, selector: str) -> list:
    """The rows a selector prefetched. Kept where Django keeps prefetches, so that
    refresh_from_db() drops them: a refreshed object fails loudly instead of serving rows
    older than the database."""
    rows = getattr(instance, "_prefetched_objects_cache", {}).get(relation)
    if rows is None:
        raise NotLoaded(f"load the {type(instance).__name__.lower()} with {selector}")
    return list(rows)


class AssessmentQuerySet(models.QuerySet):
    def owned_by(self, user) -> AssessmentQuerySet:
        return self.filter(_owned_by(user, via="project__"))

    def examples(self) -> AssessmentQuerySet:
        return self.filter(project__is_example=True)

    def with_answers(self) -> AssessmentQuerySet:
        """The one way to load assessments for reading: each with its project and its
        answers (`assessment.answer_values`), in two queries however many there are."""
        return self.select_related("project").prefetch_related(
            Prefetch(
                "answers", queryset=Answer.objects.only("assessment_id", "question_id", "value")
            )
        )


def current_price_book() -> str:
    """The newest price book (assessments/pricing/): what a new assessment is estimated with."""
    from assessments.estimator import current_book_id  # noqa: PLC0415 - reads data files

    return current_book_id()


class Assessment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assessments")
    rubric_version = models.CharField(max_length=20, default=CURRENT_VERSION)
    # The price book its numbers are estimated with, recorded like the rubric version: a newer
    # book never changes an assessment's numbers behind its owner's back.
    price_book = models.CharField(max_length=7, default=current_price_book)
    # The owner's edits of the estimator's assumptions ({assumption id: value}, checked by
    # estimator.config); the defaults follow the answers and are not stored.
    assumptions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    answers_changed_at = models.DateTimeField(null=True, blank=True)
    # The assessment whose answers this one started from (services.start_assessment): the
    # previous one of the project, or a v1 one re-assessed on v2. That one is never changed.
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        # Newest first: the first of a project's assessments is its current one.
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project.name} ({self.created_at:%Y-%m-%d})"

    @property
    def answer_values(self) -> dict[str, Any]:
        """question id -> answer, as loaded by `Assessment.objects.with_answers()` (a new
        dict on each call). Reload the assessment through it to see later saves."""
        rows = _prefetched(self, "answers", "Assessment.objects.with_answers()")
        return {row.question_id: row.value for row in rows}


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
    # A revoked link stays listed (and can be restored for SHARE_UNDO_SECONDS) until dismissed.
    dismissed_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label or f"Share link {self.pk}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def is_listed(self) -> bool:
        """Whether the owner's share panel lists it: all links but those dismissed."""
        return self.dismissed_at is None

    def undo_deadline(self):
        """Until when a revoked link can be restored (None: not revoked, or dismissed)."""
        if self.revoked_at is None or self.dismissed_at is not None:
            return None
        return self.revoked_at + timedelta(seconds=settings.SHARE_UNDO_SECONDS)

    def can_undo(self, now=None) -> bool:
        deadline = self.undo_deadline()
        return deadline is not None and (now or timezone.now()) < deadline


class RenderedMemo(models.Model):
    """A PDF memo rendered once and served from here to every web process (assessments.pdf).

    `key` hashes everything the memo is made from: its content and the digest of the code,
    rubric, template and stylesheet files (pdf.memo_sources_digest), so changed files mean a
    new key and an old memo is never served for them. Rows are pruned when a memo is stored:
    those not served for MEMO_KEEP_DAYS, and beyond the MEMO_KEEP_COUNT most recently served.
    """

    key = models.CharField(max_length=64, unique=True)
    pdf = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    # Refreshed at most once a day (pdf.MEMO_SERVED_RESOLUTION): a download stays one read.
    last_served_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"memo {self.key[:12]} ({len(self.pdf)} bytes)"
