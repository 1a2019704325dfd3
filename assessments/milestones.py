"""Milestones: immutable, named, dated copies of an assessment as it stood."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from assessments.compare import Comparison, Side, compare
from assessments.models import Assessment, Milestone, Project, SignOff
from assessments.rubric import load_rubric
from assessments.services import Evaluation, evaluate, evaluate_assessment

NAME_MAX_LENGTH = Milestone._meta.get_field("name").max_length


def result_summary(evaluation: Evaluation) -> dict[str, Any] | None:
    """What a list or a comparison of milestones shows without scoring again: the verdict
    with its label, lanes (rubric v2), readiness and confidence, labelled by the rubric."""
    result, rubric = evaluation.result, evaluation.rubric
    if result is None:
        return None
    lanes = getattr(result, "lanes", None)
    return {
        "verdict": result.verdict,
        "label": rubric.result_label(result),
        "lanes": dict(lanes) if lanes else None,
        "readiness": result.readiness,
        "readiness_label": rubric.readiness_label(result.readiness),
        "confidence": result.confidence,
        "confidence_label": rubric.confidence_label(result.confidence),
    }


def default_name(moment=None) -> str:
    when = timezone.localtime(moment or timezone.now())
    return f"Milestone of {date_format(when, 'j M Y, H:i')}"


@transaction.atomic
def create_milestone(
    assessment: Assessment,
    *,
    name: str = "",
    by=None,
    origin: str = Milestone.Origin.SAVED,
) -> Milestone:
    """A milestone of the assessment as it is stored now: its row is locked (as a save locks
    it) and its answers and notes are read under the lock, so the copy is one state of the
    assessment, never half of a concurrent save."""
    Assessment.objects.select_for_update().filter(pk=assessment.pk).first()
    current = Assessment.objects.with_answers().get(pk=assessment.pk)
    now = timezone.now()
    return Milestone.objects.create(
        assessment=current,
        name=(name.strip() or default_name(now))[:NAME_MAX_LENGTH],
        origin=origin,
        project_name=current.project.name,
        project_description=current.project.description,
        created_at=now,
        created_by=by if getattr(by, "is_authenticated", False) else None,
        rubric_version=current.rubric_version,
        price_book=current.price_book,
        assumptions=dict(current.assumptions),
        answers=current.answer_values,
        notes=current.note_values,
        answers_changed_at=current.answers_changed_at or current.created_at,
        result=result_summary(evaluate_assessment(current, include_flips=False)),
    )


def same_content(milestone: Milestone, assessment: Assessment) -> bool:
    """Whether the assessment (loaded with answers) still holds what the milestone copied:
    nothing that changes the report was edited since."""
    return (
        milestone.assessment_id == assessment.pk
        and milestone.answers == assessment.answer_values
        and milestone.notes == assessment.note_values
        and milestone.assumptions == assessment.assumptions
        and milestone.price_book == assessment.price_book
    )


def project_milestones(project: Project) -> list[Milestone]:
    """The project's milestones, newest first, each with its assessment, who saved and who
    accepted it, and its sign-offs: a fixed number of queries however many there are."""
    return list(
        Milestone.objects.filter(assessment__project=project)
        .select_related("assessment", "created_by", "accepted_by")
        .prefetch_related("sign_offs")
    )


def sign_off_counts(sign_offs: Iterable[SignOff]) -> list[tuple[str, int]]:
    """(decision label, count) of a milestone's responses, in the decisions' order, for the
    decisions someone gave."""
    given = Counter(sign_off.decision for sign_off in sign_offs)
    return [(label, given[value]) for value, label in SignOff.Decision.choices if given[value]]


class NotTheOwner(Exception):
    """Only the project's owner accepts a decision, and `by` is not (or no longer) it."""


@transaction.atomic
def set_accepted(milestone: Milestone, accepted: bool, *, by=None) -> bool:
    """Mark the milestone's decision as accepted by `by` (the owner), or withdraw that.
    Returns whether anything changed. Only these two fields may change on a milestone. The
    project's row is locked and its owner read under the lock (as a transfer takes it), so
    an acceptance sent while the project changes hands is refused (NotTheOwner)."""
    project_id = milestone.assessment.project_id
    owner_id = (
        Project.objects.select_for_update().filter(pk=project_id).values_list("owner", flat=True)
    ).first()
    if by is None or owner_id != by.pk:
        raise NotTheOwner(f"only the owner of project {project_id} accepts its decisions")
    milestone.refresh_from_db(fields=["accepted_at", "accepted_by"])
    if accepted == (milestone.accepted_at is not None):
        return False
    milestone.accepted_at = timezone.now() if accepted else None
    milestone.accepted_by = by if accepted else None
    milestone.save(update_fields=["accepted_at", "accepted_by"])
    return True


def superseded_by(milestone: Milestone) -> Milestone | None:
    """For an accepted decision, the project's decision accepted after it (the newest such),
    which replaces it, as a newer accepted ADR supersedes an older one; else None."""
    if milestone.accepted_at is None:
        return None
    return (
        Milestone.objects.filter(
            assessment__project_id=milestone.assessment.project_id,
            accepted_at__gt=milestone.accepted_at,
        )
        .exclude(pk=milestone.pk)
        .order_by("-accepted_at", "-id")
        .first()
    )


def adr_number(milestone: Milestone) -> int:
    """The milestone's place among its project's milestones, oldest first: the ADR's number,
    stable as later milestones are saved."""
    return (
        Milestone.objects.filter(assessment__project_id=milestone.assessment.project_id)
        .filter(
            Q(created_at__lt=milestone.created_at)
            | Q(created_at=milestone.created_at, pk__lte=milestone.pk)
        )
        .count()
    )


# --- Comparing a project's assessments and milestones (assessments/compare.py) -------------


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y, H:i")


def state_choices(
    assessments: list[Assessment], milestones: list[Milestone]
) -> list[tuple[str, str]]:
    """What a comparison can pick: the project's assessments (newest first, the first is the
    current one), then its milestones, as (form value, title)."""
    choices = [
        (f"a{a.pk}", _assessment_title(a, current=i == 0)) for i, a in enumerate(assessments)
    ]
    choices += [(f"m{m.pk}", f"Milestone: {milestone_title(m)}") for m in milestones]
    return choices


def _assessment_title(assessment: Assessment, *, current: bool) -> str:
    """By when its answers last changed (what a reader compares), not when it was started."""
    changed = _when(assessment.answers_changed_at or assessment.created_at)
    if current:
        return f"Current answers (last changed {changed})"
    return f"Earlier assessment (answers of {changed})"


def milestone_title(milestone: Milestone) -> str:
    """Its name, and its date unless the name (a default one) already says it."""
    when = _when(milestone.created_at)
    return milestone.name if when in milestone.name else f"{milestone.name}, {when}"


def default_pair(assessments: list[Assessment], milestones: list[Milestone]) -> dict[str, str]:
    """Left: the newest milestone, or else the previous assessment; right: the current one."""
    if not assessments:
        return {}
    if milestones:
        left = f"m{milestones[0].pk}"
    else:
        left = f"a{assessments[1 if len(assessments) > 1 else 0].pk}"
    return {"left": left, "right": f"a{assessments[0].pk}"}


def side_of(
    key: str, assessments: list[Assessment], milestones: list[Milestone], titles: dict[str, str]
) -> Side:
    """The compare Side of one chosen value (one of state_choices), scored."""
    pool = assessments if key.startswith("a") else milestones
    state = next(item for item in pool if f"{key[0]}{item.pk}" == key)
    rubric = load_rubric(state.rubric_version)
    answers = state.answer_values
    return Side(
        key=key,
        title=titles[key],
        rubric=rubric,
        answers=answers,
        notes=state.note_values,
        evaluation=evaluate(answers, rubric, include_flips=False),
    )


def compare_states(
    left: str, right: str, assessments: list[Assessment], milestones: list[Milestone]
) -> Comparison:
    titles = dict(state_choices(assessments, milestones))
    return compare(
        side_of(left, assessments, milestones, titles),
        side_of(right, assessments, milestones, titles),
        evaluate=lambda answers, rubric: evaluate(answers, rubric, include_flips=False),
    )


def milestone_rows(project: Project) -> list[dict[str, Any]]:
    """The project page's list: each milestone with its responses counted by decision, and
    for an accepted one, whether a decision accepted later supersedes it (superseded_by's
    rule, found among the loaded milestones instead of a query each)."""
    milestones = project_milestones(project)
    accepted = [m for m in milestones if m.accepted_at is not None]
    latest = max(accepted, key=lambda m: (m.accepted_at, m.pk), default=None)
    return [
        {
            "milestone": m,
            "sign_off_counts": sign_off_counts(m.sign_offs.all()),  # prefetched
            "superseded": m.accepted_at is not None and m is not latest,
        }
        for m in milestones
    ]
