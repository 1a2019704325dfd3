"""Projects, their assessments, and one row per answered question.

One row per (assessment, question) means saving one question can never overwrite another,
whatever else is being saved at the same time.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, OuterRef, Prefetch, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from assessments.rubric import CURRENT_VERSION
from assessments.validation import NOTE_MAX_LENGTH

SIGN_OFF_COMMENT_MAX_LENGTH = 2000


def _owned_by(user, via: str = "") -> Q:
    """Ownership, defined once: the user's own projects, never a read-only worked example
    (not even one the user created before it was flagged as an example)."""
    return Q(**{f"{via}owner": user, f"{via}is_example": False})


# What each role may do, as a level: a role may do everything the roles below it may.
ROLE_LEVELS = {"viewer": 1, "editor": 2, "owner": 3}


def _role_of(user, via: str = "") -> Case:
    """The user's role on the project ("owner", "editor", "viewer", or None), as an SQL
    expression, so a lookup finds the object and the role in one query. A worked example has
    no owner or members (and a project flagged as an example loses them)."""
    membership = Membership.objects.filter(project=OuterRef(f"{via}pk" if via else "pk"), user=user)
    return Case(
        When(**{f"{via}is_example": True}, then=Value(None)),
        When(**{f"{via}owner": user}, then=Value("owner")),
        default=Subquery(membership.values("role")[:1]),
        output_field=models.CharField(),
    )


def _reached_by(user, at_least: str, via: str = "") -> Q:
    """The projects `user` reaches with a role of `at_least` or higher."""
    roles = [role for role, level in ROLE_LEVELS.items() if level >= ROLE_LEVELS[at_least]]
    owned = _owned_by(user, via)
    if roles == ["owner"]:
        return owned
    member = Exists(
        Membership.objects.filter(
            project=OuterRef(f"{via}pk" if via else "pk"), user=user, role__in=roles
        )
    )
    return owned | (Q(member) & Q(**{f"{via}is_example": False}))


class ProjectQuerySet(models.QuerySet):
    def owned_by(self, user) -> ProjectQuerySet:
        return self.filter(_owned_by(user))

    def reached_by(self, user, at_least: str = "viewer") -> ProjectQuerySet:
        """The user's own projects and those they are a member of with `at_least` that role;
        each carries `user_role`."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(_reached_by(user, at_least)).annotate(user_role=_role_of(user))

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

    def reached_by(self, user, at_least: str = "viewer") -> AssessmentQuerySet:
        """Assessments of the projects the user reaches with `at_least` that role; each
        carries `user_role` (see ProjectQuerySet.reached_by)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        via = "project__"
        return self.filter(_reached_by(user, at_least, via)).annotate(user_role=_role_of(user, via))

    def examples(self) -> AssessmentQuerySet:
        return self.filter(project__is_example=True)

    def current_pk(self, project_id: Any) -> int | None:
        """The id of a project's current (newest) assessment; `project_id` may be an id or a
        query expression giving one."""
        return self.filter(project_id=project_id).values_list("pk", flat=True).first()

    def with_answers(self) -> AssessmentQuerySet:
        """The one way to load assessments for reading: each with its project, its answers
        (`assessment.answer_values`) and their notes (`assessment.note_values`), in three
        queries however many there are."""
        return self.select_related("project").prefetch_related(
            Prefetch(
                "answers", queryset=Answer.objects.only("assessment_id", "question_id", "value")
            ),
            Prefetch(
                "notes",
                queryset=AnswerNote.objects.only(
                    "assessment_id", "question_id", "text", "not_applicable"
                ),
            ),
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

    @property
    def note_values(self) -> dict[str, dict[str, Any]]:
        """question id -> {"text": the note, "not_applicable": bool}, as loaded by
        `Assessment.objects.with_answers()` (a new dict on each call)."""
        rows = _prefetched(self, "notes", "Assessment.objects.with_answers()")
        # An emptied note's row stays (services._write_note) but is no note.
        return {row.question_id: row.as_dict() for row in rows if row.text or row.not_applicable}


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


class AnswerNote(models.Model):
    """A note on one question of an assessment (why we answered so, where a figure comes
    from), and for an optional question, whether it does not apply (the note is then the
    reason). Kept apart from Answer: a note never takes part in scoring."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="notes")
    question_id = models.CharField(max_length=64)
    text = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True)
    not_applicable = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question_id"], name="one_note_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.text[:40]!r}"

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "not_applicable": self.not_applicable}


class Membership(models.Model):
    """A user other than the owner who works on a project: an editor (answers, notes,
    milestones, share links) or a viewer (reads, compares, downloads). Only the owner manages
    members, deletes the project or transfers it."""

    class Role(models.TextChoices):
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) on {self.project}"


class MilestoneChanged(Exception):
    """A milestone's content was about to change: milestones are immutable."""


class MilestoneQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        """Only the acceptance may change (see Milestone.save)."""
        changed = set(kwargs) - Milestone.MUTABLE_FIELDS
        if changed:
            raise MilestoneChanged(f"milestones are immutable: {sorted(changed)}")
        return super().update(**kwargs)


class Milestone(models.Model):
    """An immutable, named, dated copy of an assessment as it stood: its answers and notes,
    rubric version, price book and assumptions (so its verdict and numbers are those of that
    moment, whatever is edited later), the project's name and description then, and a
    summary of its result. Only whether the owner accepted it (the ADR's status) changes
    afterwards."""

    class Origin(models.TextChoices):
        SAVED = "saved", "saved by a member"
        SHARED = "shared", "made when a share link was created"
        RESPONSE = "response", "made when a reader responded through a link to the latest answers"
        IMPORTED = "imported", "imported from an export"

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=120)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.SAVED)
    # What the reports of the milestone show as the project: as it was when it was made.
    project_name = models.CharField(max_length=120)
    project_description = models.TextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    rubric_version = models.CharField(max_length=20)
    price_book = models.CharField(max_length=7)
    assumptions = models.JSONField(default=dict, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=dict, blank=True)  # as Assessment.note_values
    # When the copied answers last changed (the assessment's answers_changed_at then).
    answers_changed_at = models.DateTimeField(null=True, blank=True)
    # The result when it was made (verdict, lanes, readiness, confidence; None: incomplete),
    # kept so a list or comparison of milestones needs no scoring.
    result = models.JSONField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    MUTABLE_FIELDS = frozenset({"accepted_at", "accepted_by", "accepted_by_id"})

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self._state.adding:
            # Never an UPDATE of an existing row, even for an instance given a used pk.
            kwargs["force_insert"] = True
        else:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.MUTABLE_FIELDS:
                raise MilestoneChanged(f"milestone {self.pk} is immutable")
        super().save(*args, **kwargs)

    @cached_property
    def project(self) -> Project:
        """The project as it was: its row (for its id and links) with the name and
        description the milestone copied. Read-only: never saved."""
        project = copy.copy(self.assessment.project)
        project.name, project.description = self.project_name, self.project_description
        return project

    @property
    def made_by(self) -> str:
        """Who or what made it, in words: the member's username, or how it came to be."""
        if self.created_by is not None:
            return self.created_by.get_username()
        if self.origin == self.Origin.RESPONSE:
            return "Advisor, when a reader responded through a link to the latest answers"
        if self.origin == self.Origin.IMPORTED:
            return "an import of the project (the file does not say by whom)"
        return "a former member"

    @property
    def accepted_by_text(self) -> str:
        if self.accepted_by is not None:
            return self.accepted_by.get_username()
        if self.origin == self.Origin.IMPORTED:
            return "the owner of the project it was exported from"
        return "a former owner"

    @property
    def answer_values(self) -> dict[str, Any]:
        """question id -> answer, as the assessment's were (a new dict on each call)."""
        return dict(self.answers)

    @property
    def note_values(self) -> dict[str, dict[str, Any]]:
        return {q: dict(note) for q, note in self.notes.items()}


class SignOff(models.Model):
    """A stakeholder's response to a milestone, given on a shared page without an account.
    The comment is plain text, always shown escaped."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        CONDITIONS = "approve_with_conditions", "Approve with conditions"
        OBJECT = "object", "Object"

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="sign_offs")
    # The link it came through (kept when the link is revoked; gone if it is deleted).
    share_link = models.ForeignKey(
        "ShareLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="sign_offs"
    )
    name = models.CharField(max_length=80)
    role = models.CharField(max_length=80, blank=True)
    decision = models.CharField(max_length=24, choices=Decision.choices)
    comment = models.TextField(max_length=SIGN_OFF_COMMENT_MAX_LENGTH, blank=True)
    # Came in a project export rather than through a share link of this installation.
    imported = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name}: {self.get_decision_display()}"


class ShareLinkQuerySet(models.QuerySet):
    def active(self, now=None) -> ShareLinkQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class ShareLink(models.Model):
    """A read-only link to one assessment's report. Only the token's SHA-256 is stored."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="share_links")
    # What the link shows: this milestone (a snapshot), or with none, always the assessment's
    # latest answers (links made before snapshots existed are such links).
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    label = models.CharField(max_length=80, blank=True)
    # The member who made it: removing them from the project revokes their links.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
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

    @property
    def is_snapshot(self) -> bool:
        """Whether it shows a milestone (else: always the latest answers)."""
        return self.milestone_id is not None

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
