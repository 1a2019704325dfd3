"""The questionnaire's live panel under a lanes rubric (v2): the lanes as they settle, the
verdict on the ladder, confidence with its soft spots, and the first blocker.

Plain Python: built from an Evaluation (assessments.services), no request, no template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assessments.lanes.engine import LaneProgress, LanesResult, possible_verdicts
from assessments.lanes.rubric import LanesRubric
from assessments.presenters import QuestionLink, question_links

UNSETTLED = "not settled yet"  # read aloud in the announcement: no bare ellipsis


@dataclass(frozen=True)
class LiveLane:
    id: str
    label: str
    value_label: str  # "" until settled
    waiting: tuple[QuestionLink, ...]  # the answers it waits for

    @property
    def settled(self) -> bool:
        return bool(self.value_label)


@dataclass(frozen=True)
class LiveRung:
    id: str
    label: str
    state: str  # "chosen", "possible" or "excluded"


@dataclass(frozen=True)
class LiveNote:
    """A soft spot or blocker as the panel shows it: what holds and what would change it."""

    code: str
    message: str
    fix: str
    question_id: str


@dataclass(frozen=True)
class LiveReason:
    """A deciding lane rule: it supports the verdict by construction (it chose a lane)."""

    title: str  # "Knowledge: in the prompt"
    text: str
    question_id: str  # the answer that made the rule apply, to jump to


@dataclass(frozen=True)
class LivePanel:
    lanes: tuple[LiveLane, ...]
    ladder: tuple[LiveRung, ...]
    verdict: str  # "" until every lane has settled
    verdict_label: str
    complete: bool  # every asked required question answered: the verdict is final
    confidence_label: str
    soft_spots: tuple[LiveNote, ...]
    readiness_label: str  # "" while unknown: no blocker yet, answers still to come
    blockers: tuple[LiveNote, ...]
    reasons: tuple[LiveReason, ...]

    @property
    def lanes_text(self) -> str:
        """ "Knowledge: in the prompt · Behaviour: not settled yet"."""
        return " · ".join(f"{lane.label}: {lane.value_label or UNSETTLED}" for lane in self.lanes)

    @property
    def first_blocker(self) -> LiveNote | None:
        return self.blockers[0] if self.blockers else None


def _lane(progress: LaneProgress, rubric: LanesRubric) -> LiveLane:
    lane = rubric.lane(progress.lane)
    if progress.decision is not None:
        return LiveLane(lane.id, lane.label, lane.value_label(progress.decision.value), ())
    waiting = question_links(rubric, progress.waiting_for)
    return LiveLane(lane.id, lane.label, "", waiting)


def _settled(lanes: Mapping[str, LaneProgress]) -> dict[str, str]:
    """lane id -> its value, for the lanes settled so far."""
    return {lane: p.decision.value for lane, p in lanes.items() if p.decision is not None}


def _ladder(lanes: Mapping[str, LaneProgress], verdict: str, rubric: LanesRubric):
    settled = _settled(lanes)
    possible = possible_verdicts(settled, rubric)
    return tuple(
        LiveRung(
            approach.id,
            rubric.verdict_label(approach.id, settled)
            if approach.id == verdict
            else approach.label,
            "chosen"
            if approach.id == verdict
            else "possible"
            if approach.id in possible and not verdict
            else "excluded",
        )  # fmt: skip
        for approach in rubric.approaches
    )


def _reasons(result: LanesResult, rubric: LanesRubric) -> tuple[LiveReason, ...]:
    reasons = []
    for point in result.rationale:
        if point["kind"] != "lane_rule":
            continue
        # The last answer a rule read is the one that made it apply (the earlier ones only
        # ruled out the rules before it).
        deciding = point["questions"][-1] if point["questions"] else ""
        title = rubric.lane_text(point["lane"], point["value"])
        reasons.append(LiveReason(title, rubric.lane_rule(point["rule"]).text, deciding))
    return tuple(reasons)


def live_panel(
    rubric: LanesRubric,
    lanes: Mapping[str, LaneProgress],
    result: LanesResult | None,
    *,
    complete: bool,
) -> LivePanel:
    """The panel for answers whose lanes stand as `lanes`; `result` is their scoring once
    every lane has settled (complete or not), else None."""
    verdict = result.verdict if result is not None else ""
    soft_spots = blockers = reasons = ()
    confidence_label = readiness_label = ""
    if result is not None:
        soft_spots = tuple(
            LiveNote(s["code"], s["message"], s["remove"], s["question"]) for s in result.soft_spots
        )
        blockers = tuple(
            LiveNote(b["code"], b["message"], b["fix"], b["question"]) for b in result.blockers
        )
        confidence_label = rubric.confidence_label(result.confidence)
        # A blocker found is real; "ready" is only known once nothing is left to answer.
        if blockers or complete:
            readiness_label = rubric.readiness_label(result.readiness)
        reasons = _reasons(result, rubric)
    return LivePanel(
        lanes=tuple(_lane(lanes[lane.id], rubric) for lane in rubric.lanes),
        ladder=_ladder(lanes, verdict, rubric),
        verdict=verdict,
        verdict_label=rubric.verdict_label(verdict, _settled(lanes)) if verdict else "",
        complete=complete,
        confidence_label=confidence_label,
        soft_spots=soft_spots,
        readiness_label=readiness_label,
        blockers=blockers,
        reasons=reasons,
    )


def panel_for(evaluation: Any) -> LivePanel | None:
    """The live panel of an Evaluation under a lanes rubric; None under another engine or
    when the answers have no verdict to work towards (e.g. nothing to solve)."""
    if evaluation.lanes is None or evaluation.problems:
        return None
    return live_panel(
        evaluation.rubric,
        evaluation.lanes,
        evaluation.current,
        complete=evaluation.result is not None,
    )
