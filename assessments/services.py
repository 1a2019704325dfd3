"""The writes that span models, each in one transaction, and scoring stored assessments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from assessments.lanes.engine import LaneProgress, lane_progress
from assessments.lanes.rubric import LanesRubric
from assessments.lanes.upgrade import carry_over
from assessments.models import Answer, AnswerNote, Assessment, Project
from assessments.rubric import CURRENT_VERSION, Rubric, load_rubric
from assessments.scoring import Result, score
from assessments.validation import (
    AnswerChanges,
    InvalidAnswers,
    NoteChange,
    Problem,
    asked_required_ids,
    combination_problems,
    validate_answers,
    validate_notes,
)


@dataclass(frozen=True)
class Evaluation:
    """Where a (possibly unfinished) assessment stands."""

    rubric: Rubric
    answers: dict[str, Any]
    missing: list[str]  # required questions not answered yet
    problems: list[Problem]  # e.g. "nothing to solve yet"
    result: Result | None  # complete and valid: the real verdict
    # Incomplete: v1's first lean once the needs are known; v2's verdict once every lane has
    # settled (what is still to answer can change readiness and confidence, not the verdict).
    provisional: Result | None = None
    lanes: dict[str, LaneProgress] | None = None  # v2: each lane as it stands

    @property
    def required_total(self) -> int:
        """The required questions asked (under v2, only those whose ask_if holds)."""
        return len(asked_required_ids(self.rubric, self.answers))

    @property
    def answered_required(self) -> int:
        return self.required_total - len(self.missing)

    @property
    def current(self) -> Result | None:
        return self.result or self.provisional


# v1: the needs decide the verdict's direction, so a provisional verdict waits for both.
PROVISIONAL_NEEDS = ("knowledge_needs", "behavior_needs")
# Until answered, assume the common case: the system can reach a knowledge store.
PROVISIONAL_DEFAULTS = {"retrieval_possible": "yes"}


def evaluate(answers: dict[str, Any], rubric: Rubric, *, include_flips: bool = True) -> Evaluation:
    """Where clean answers (stored ones, or ones validation passed) stand under `rubric`."""
    # Under a rubric with ask_if (v2), only the questions asked are required.
    missing = [q for q in asked_required_ids(rubric, answers) if q not in answers]
    # Saving refuses this combination; answers stored before that rule still get no verdict.
    problems = combination_problems(answers)
    if problems:
        return Evaluation(rubric, answers, missing, problems, None)
    lanes = lane_progress(answers, rubric) if rubric.engine == LanesRubric.engine else None
    if not missing:
        result = score(answers, rubric, include_flips=include_flips)
        return Evaluation(rubric, answers, missing, problems, result, lanes=lanes)
    if lanes is not None:
        settled = all(lane.settled for lane in lanes.values())
        provisional = score(answers, rubric, include_flips=False) if settled else None
        return Evaluation(rubric, answers, missing, problems, None, provisional, lanes)
    provisional = None
    if all(q in answers for q in PROVISIONAL_NEEDS):
        provisional = score({**PROVISIONAL_DEFAULTS, **answers}, rubric, include_flips=False)
    return Evaluation(rubric, answers, missing, problems, None, provisional)


def evaluate_assessment(assessment: Assessment, *, include_flips: bool = True) -> Evaluation:
    """The assessment (loaded with Assessment.objects.with_answers()) under its own rubric."""
    return evaluate(
        assessment.answer_values,
        load_rubric(assessment.rubric_version),
        include_flips=include_flips,
    )


def _touch(assessment: Assessment) -> None:
    now = timezone.now()
    Assessment.objects.filter(pk=assessment.pk).update(answers_changed_at=now, updated_at=now)
    Project.objects.filter(pk=assessment.project_id).update(updated_at=now)
    assessment.answers_changed_at = assessment.updated_at = now


class StaleAnswers(Exception):
    """Answers (or notes) changed elsewhere after the form was loaded; nothing was saved."""

    def __init__(
        self, current: dict[str, Any], notes: dict[str, dict[str, Any]] | None = None
    ) -> None:
        notes = notes or {}
        super().__init__(f"changed since the form was loaded: {sorted({*current, *notes})}")
        self.current = current  # question id -> the newer stored value (None if cleared)
        self.notes = notes  # question id -> the newer stored note ({"text", "not_applicable"})


class AnswersFrozen(Exception):
    """The assessment was re-assessed on a newer rubric: its answers stay as they were, so the
    verdict shown beside the newer one stays the verdict they gave. Nothing was saved."""

    def __init__(self, assessment: Assessment, successor: Assessment):
        self.assessment, self.successor = assessment, successor
        super().__init__(
            f"this rubric {assessment.rubric_version} assessment was re-assessed on rubric "
            f"{successor.rubric_version}, so its answers stay as they were (change them in the "
            f"rubric {successor.rubric_version} assessment)"
        )


def reassessed_as(assessment: Assessment) -> Assessment | None:
    """The newest assessment re-assessed from this one on a newer rubric, if any: once there
    is one, this one's answers are frozen. No query for an assessment on the current rubric
    (there is nothing newer to have re-assessed it on)."""
    if assessment.rubric_version == CURRENT_VERSION:
        return None
    return (
        Assessment.objects.filter(carried_from=assessment)
        .exclude(rubric_version=assessment.rubric_version)
        .order_by("-created_at", "-id")
        .first()
    )


def save_answers(
    assessment: Assessment, changes: AnswerChanges, *, unchanged_since: datetime | None = None
) -> bool:
    """Save checked changes (see validation): all of them, or nothing. Returns whether
    anything changed; an unchanged save leaves the timestamps alone.

    Only the changed questions' rows are written, so two people (or tabs) saving different
    questions at the same time both keep their answers. With `unchanged_since` (when a whole
    form was loaded), a question this save would change that was saved elsewhere after that
    moment raises StaleAnswers instead of overwriting it. An assessment re-assessed on a newer
    rubric raises AnswersFrozen.
    """
    values, cleared = dict(changes.values), changes.cleared
    with transaction.atomic():
        # Lock the assessment so concurrent saves check combinations against settled data.
        Assessment.objects.select_for_update().filter(pk=assessment.pk).first()
        successor = reassessed_as(assessment)  # under the lock: re-assessing may be under way
        if successor is not None:
            raise AnswersFrozen(assessment, successor)
        rows = Answer.objects.filter(assessment=assessment).values_list(
            "question_id", "value", "updated_at"
        )
        current = {question_id: value for question_id, value, _ in rows}
        merged = {q: v for q, v in {**current, **values}.items() if q not in cleared}
        # The one rule that spans answers is checked here, under the lock: two saves of
        # different questions could otherwise each pass on their own and break it together.
        # An invalid save is refused as such before it is asked whether it is stale.
        problems = combination_problems(merged)
        if problems:
            raise InvalidAnswers(problems)
        if unchanged_since is not None:
            proposed = {**values, **dict.fromkeys(cleared)}
            newer = {
                q: v for q, v, updated in rows
                if updated > unchanged_since and q in proposed and proposed[q] != v
            }  # fmt: skip
            if newer:
                raise StaleAnswers(newer)
        if merged == current:
            return False
        Answer.objects.filter(assessment=assessment, question_id__in=cleared).delete()
        # The assessment is locked and `current` read under the lock: update or insert
        # directly, without update_or_create's savepoint and extra SELECT.
        now = timezone.now()
        for question_id, value in values.items():
            if question_id not in current:
                Answer.objects.create(assessment=assessment, question_id=question_id, value=value)
            elif current[question_id] != value:
                Answer.objects.filter(assessment=assessment, question_id=question_id).update(
                    value=value, updated_at=now
                )
        if values:
            # An answer given to a question marked "does not apply" means it applies after all:
            # the mark goes (the note stays), so the two never contradict each other.
            AnswerNote.objects.filter(
                assessment=assessment, question_id__in=list(values), not_applicable=True
            ).update(not_applicable=False, updated_at=now)
        _touch(assessment)
    return True


@dataclass(frozen=True)
class NoteSaved:
    """What save_note did: whether anything changed, and whether marking the question "does
    not apply" cleared its answer (the verdict may then have moved)."""

    changed: bool
    answer_cleared: bool = False


def _lock_unfrozen(assessment: Assessment) -> None:
    """Take the assessment's row lock (as save_answers does); AnswersFrozen if re-assessed."""
    Assessment.objects.select_for_update().filter(pk=assessment.pk).first()
    successor = reassessed_as(assessment)
    if successor is not None:
        raise AnswersFrozen(assessment, successor)


def _write_note(assessment: Assessment, note: NoteChange, exists: bool) -> None:
    """Store `note` (checked, and different from what is stored). A note emptied keeps its
    row, empty, with the time it was emptied: a whole form loaded before still finds that it
    changed (the stale rule) instead of writing the old note back. The caller holds the
    assessment's lock."""
    rows = AnswerNote.objects.filter(assessment=assessment, question_id=note.question_id)
    if exists:
        rows.update(text=note.text, not_applicable=note.not_applicable, updated_at=timezone.now())
    else:
        AnswerNote.objects.create(assessment=assessment, question_id=note.question_id,
                                  **note.as_dict())  # fmt: skip


def save_note(assessment: Assessment, note: NoteChange) -> NoteSaved:
    """Save one question's note (checked by validation.parse_note) under the assessment's
    lock. Marking the question "does not apply" clears its answer in the same transaction,
    so no one ever sees both. An assessment re-assessed on a newer rubric raises
    AnswersFrozen, as for answers."""
    with transaction.atomic():
        _lock_unfrozen(assessment)
        stored = (
            AnswerNote.objects.filter(assessment=assessment, question_id=note.question_id)
            .values("text", "not_applicable")
            .first()
        )
        answer_cleared = False
        if note.not_applicable:
            deleted, _ = Answer.objects.filter(
                assessment=assessment, question_id=note.question_id
            ).delete()
            answer_cleared = deleted > 0
        empty = NoteChange(note.question_id).as_dict()
        if (stored or empty) == note.as_dict() and not answer_cleared:
            return NoteSaved(changed=False)
        if (stored or empty) != note.as_dict():
            _write_note(assessment, note, exists=stored is not None)
        _touch(assessment)  # notes show in the report and the memo: they date the answers
    return NoteSaved(changed=True, answer_cleared=answer_cleared)


def save_questionnaire(
    assessment: Assessment,
    changes: AnswerChanges,
    notes: Mapping[str, NoteChange],
    *,
    unchanged_since: datetime | None = None,
) -> bool:
    """The whole questionnaire (submitted without JS): answers and notes in one transaction,
    all or nothing. Returns whether anything changed.

    A question marked "does not apply" has its answer cleared whatever answer was submitted
    for it (a radio button cannot be unticked without JS). The stale rule of save_answers
    covers notes too: a note this save would change that was saved elsewhere after
    `unchanged_since` raises StaleAnswers (with the newer answers and notes) and nothing is
    saved.
    """
    with transaction.atomic():
        _lock_unfrozen(assessment)
        stored = {
            question_id: ({"text": text, "not_applicable": marked}, updated)
            for question_id, text, marked, updated in AnswerNote.objects.filter(
                assessment=assessment
            ).values_list("question_id", "text", "not_applicable", "updated_at")
        }
        empty = NoteChange("").as_dict()
        writes = {
            q: note for q, note in notes.items()
            if stored.get(q, (empty, None))[0] != note.as_dict()
        }  # fmt: skip
        newer_notes = {
            q: stored[q][0]
            for q in writes
            if q in stored and unchanged_since is not None and stored[q][1] > unchanged_since
        }
        final = {q: note for q, (note, _) in stored.items()} | {
            q: note.as_dict() for q, note in writes.items()
        }
        not_applicable = {q for q, note in final.items() if note["not_applicable"]}
        answered = set(
            Answer.objects.filter(assessment=assessment, question_id__in=not_applicable)
            .values_list("question_id", flat=True)
        )  # fmt: skip
        answer_changes = AnswerChanges(
            {q: v for q, v in changes.values.items() if q not in not_applicable},
            changes.cleared | answered,
        )
        try:
            answers_changed = save_answers(
                assessment, answer_changes, unchanged_since=unchanged_since
            )
        except StaleAnswers as stale:
            raise StaleAnswers(stale.current, newer_notes) from None
        if newer_notes:
            raise StaleAnswers({}, newer_notes)  # rolls back the answers saved above
        for note in writes.values():
            _write_note(assessment, note, exists=note.question_id in stored)
        if writes and not answers_changed:
            _touch(assessment)
    return answers_changed or bool(writes)


@transaction.atomic
def save_assumptions(
    assessment: Assessment,
    values: Mapping[str, Any],
    defaults: Mapping[str, Any],
    *,
    resets: Iterable[str] = (),
) -> dict[str, Any]:
    """Store the owner's assumption edits (clean values, see EstimatorConfig.parse_edits)
    under the row lock, and return what is stored. A value equal to its default is not kept,
    so it goes on following the answers; `resets` (ids, or "all") drop edits."""
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if "all" in resets:
        values, stored = {}, {}
    else:
        stored = dict(locked.assumptions)
    for assumption_id in resets:
        stored.pop(assumption_id, None)
    for assumption_id, value in values.items():
        if assumption_id in resets:
            continue
        if value == defaults.get(assumption_id):
            stored.pop(assumption_id, None)
        else:
            stored[assumption_id] = value
    Assessment.objects.filter(pk=assessment.pk).update(
        assumptions=stored, updated_at=timezone.now()
    )
    assessment.assumptions = stored
    return stored


@transaction.atomic
def create_project(*, owner, name: str, description: str = "") -> tuple[Project, Assessment]:
    """A new project of `owner`'s with its first, empty assessment."""
    project = Project.objects.create(owner=owner, name=name, description=description)
    return project, start_assessment(project)


@transaction.atomic
def start_assessment(
    project: Project, *, source: Assessment | None = None, copy_current: bool = True
) -> Assessment:
    """A new assessment of `project` under the current rubric, pre-filled from `source` (one
    of the project's assessments, loaded with Assessment.objects.with_answers()) or, without
    one, from the project's current assessment (unless copy_current is False).

    Under the same rubric the answers are copied; from an earlier rubric they are carried over
    by the current rubric's [upgrade] mapping (assessments/lanes/upgrade.py). Either way an
    answer the current rubric refuses is left for the user to give again, the new assessment
    records where it started from (carried_from), and the source is never changed.
    """
    if source is None and copy_current:
        source = project.assessments.with_answers().first()
    if source is not None and source.project_id != project.pk:
        raise ValueError("an assessment starts only from one of its own project's assessments")
    assessment = Assessment.objects.create(
        project=project,
        rubric_version=CURRENT_VERSION,
        carried_from=source,
        # The owner's cost assumptions carry over under the same rubric (they are its
        # estimator's); the price book is always the newest.
        assumptions=source.assumptions
        if source and source.rubric_version == CURRENT_VERSION
        else {},
    )
    if source is not None:
        rubric = load_rubric(CURRENT_VERSION)
        carried = answers_to_carry(source, rubric)
        Answer.objects.bulk_create(
            Answer(assessment=assessment, question_id=q, value=v) for q, v in carried.items()
        )
        notes = notes_to_carry(source, rubric, carried)
        AnswerNote.objects.bulk_create(
            AnswerNote(assessment=assessment, question_id=q, **note) for q, note in notes.items()
        )
        if carried or notes:
            _touch(assessment)
    return assessment


def notes_to_carry(
    source: Assessment, rubric: Rubric, carried: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The notes of `source` (loaded with answers) a new assessment under `rubric` starts
    with: under the same rubric all of them (a note's "why" holds as long as its answer
    does, and is edited with it); from an earlier one, those on answers that carried over,
    whose question may mean something else now, so not a "does not apply" mark."""
    notes, _ = validate_notes(source.note_values, rubric)
    if source.rubric_version == rubric.version:
        return notes
    return {
        q: {"text": note["text"], "not_applicable": False}
        for q, note in notes.items()
        if q in carried and note["text"]
    }


@transaction.atomic
def reassess(source: Assessment) -> tuple[Assessment, bool]:
    """`source` (of an earlier rubric) re-assessed on the current one: a new assessment
    carried over from it, or the one already made (one re-assessment per source, even when
    two requests race), and whether it is new."""
    # Re-assessing freezes the source (save_answers): take its lock, as a save does, and
    # carry its answers as they are under the lock, not as they were loaded.
    Assessment.objects.select_for_update().filter(pk=source.pk).first()
    existing = reassessed_as(source)
    if existing is not None:
        return existing, False
    source = Assessment.objects.with_answers().get(pk=source.pk)
    return start_assessment(source.project, source=source), True


def answers_to_carry(source: Assessment, rubric: Rubric) -> dict[str, Any]:
    """The answers of `source` (loaded with answers) that an assessment under `rubric` starts
    with: copied under the same rubric, carried over from an earlier one."""
    answers = source.answer_values
    if source.rubric_version != rubric.version:
        answers = carry_over(load_rubric(source.rubric_version), rubric, answers).answers
    carried, _ = validate_answers(
        {q: v for q, v in answers.items() if q in rubric.questions}, rubric, require_complete=False
    )
    return carried
