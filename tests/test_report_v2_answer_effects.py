"""The v2 report's "All answers": an answer a blocker, soft spot, warning or signal checked
without raising it says so; only an answer nothing read says "recorded, no effect"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assessments.lanes.conditions import Facts
from assessments.lanes.engine import asked_answers, checks_not_raised, decide_lanes
from assessments.presenters import CHECKED, NO_EFFECT, RAISED, lanes_report_view
from assessments.rubric import load_rubric
from assessments.scoring import score
from assessments.validation import clean_answers
from tests.conftest import V2_SUPPORT_BOT, scenario_answers

V2 = load_rubric("v2")
SCENARIOS_FILE = Path(__file__).resolve().parents[1] / "assessments" / "data" / "scenarios-v2.json"
SCENARIO_IDS = [s["id"] for s in json.loads(SCENARIOS_FILE.read_text("utf-8"))["scenarios"]]
CONDITIONS = {
    "blocker": {e.code: e.when for e in V2.blockers},
    "soft_spot": {e.code: e.when for e in V2.soft_spots},
    "warning": {e.code: e.when for e in V2.warnings},
    "signal": {s.id: s.when for s in V2.signals},
}


def report_rows(answers: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    answers = clean_answers(answers, V2)
    result = score(answers, V2)
    report = lanes_report_view(result, V2, answers)
    return result, {row.question_id: row for s in report.answers for row in s.answers}


def raised_codes(result: Any) -> dict[str, set[str]]:
    return {
        "blocker": set(result.blocker_codes),
        "soft_spot": set(result.soft_spot_codes),
        "warning": set(result.warning_codes),
        "signal": {s["id"] for s in result.signals if s["raised"]},
    }


def facts_of(answers: dict[str, Any], result: Any, *, through_lanes: bool) -> Facts:
    """Fresh facts to evaluate a rubric condition against, outside the engine."""
    asked, _ = asked_answers(answers, V2)
    decisions = decide_lanes(asked, V2) if through_lanes else {}
    return Facts(
        asked,
        result.lanes,
        frozenset(result.deciding_rules.values()),
        result.verdict,
        lane_questions={lane: d.questions for lane, d in decisions.items()},
        rule_lanes={d.rule.id: lane for lane, d in decisions.items()},
    )


def read_by_any_condition(answers: dict[str, Any], result: Any) -> set[str]:
    """Every asked answer some condition of the rubric read, whether it held or not."""
    asked, _ = asked_answers(answers, V2)
    read: set[str] = set()
    for decision in decide_lanes(asked, V2).values():
        read |= set(decision.questions)
    conditions = [c for by_code in CONDITIONS.values() for c in by_code.values()]
    conditions += [e.when for e in V2.next_steps]
    for approach in V2.approaches:
        conditions += [r.when for r in (*approach.ruled_out, *approach.not_needed)]
    for condition in conditions:
        facts = facts_of(answers, result, through_lanes=True)
        condition.holds(facts)
        read |= facts.read
    return read & set(asked)


def test_support_bot_eval_set_and_kb_state_are_checked_for_readiness_not_no_effect():
    _, rows = report_rows(scenario_answers(V2_SUPPORT_BOT))

    for question_id in ("eval_set", "kb_state"):
        effects = rows[question_id].effects
        assert "checked for readiness" in effects, question_id
        assert rows[question_id].effect_text != NO_EFFECT
    # The eval set also keeps the soft spot "baseline not measured on an eval set" away.
    assert "checked for confidence" in rows["eval_set"].effects
    # Said once, together.
    assert rows["eval_set"].effect_text == "checked for readiness and confidence: nothing raised"


def test_an_answer_no_condition_reads_still_says_recorded_no_effect():
    answers = clean_answers(scenario_answers(V2_SUPPORT_BOT), V2)
    result, rows = report_rows(answers)
    asked = {q for q, row in rows.items() if row.asked}

    unread = asked - read_by_any_condition(answers, result)

    assert unread, "the support bot has answers no condition reads"
    assert {q for q in asked if rows[q].effect_text == NO_EFFECT} == unread


def test_a_blocker_that_fires_still_says_gated_readiness():
    answers = {**scenario_answers(V2_SUPPORT_BOT), "eval_set": "none", "kb_state": "messy"}
    result, rows = report_rows(answers)

    assert {"no_eval_set", "kb_not_ready"} <= set(result.blocker_codes)
    for question_id in ("eval_set", "kb_state"):
        assert "gated readiness" in rows[question_id].effects
        assert CHECKED["blocker"] not in rows[question_id].effects
    # No eval set behind a B3 behaviour lane: the soft spot holds too.
    assert "lowered confidence" in rows["eval_set"].effects
    assert CHECKED["soft_spot"] not in rows["eval_set"].effects


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_answer_said_checked_was_read_by_a_condition_that_did_not_hold(scenario_id):
    answers = clean_answers(scenario_answers(scenario_id), V2)
    result, rows = report_rows(answers)
    raised = raised_codes(result)
    checks = checks_not_raised(answers, V2)
    checked_by = {(c["kind"], q): c["code"] for c in reversed(checks) for q in c["questions"]}

    assert all(c["code"] not in raised[c["kind"]] for c in checks)
    for question_id, row in rows.items():
        for kind, text in CHECKED.items():
            if text not in row.effects:
                continue
            # The engine's record: a check of this kind that did not hold read this answer...
            code = checked_by[(kind, question_id)]
            # ... which evaluating that condition again confirms ...
            facts = facts_of(answers, result, through_lanes=False)
            assert not CONDITIONS[kind][code].holds(facts)
            assert question_id in facts.read
            # ... and the answer raised nothing of that kind.
            assert RAISED[kind] not in row.effects
        if row.asked and row.effect_text == NO_EFFECT:
            assert not any(question_id in c["questions"] for c in checks), question_id


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_check_that_read_an_answer_is_said_unless_it_raised_that_kind(scenario_id):
    answers = clean_answers(scenario_answers(scenario_id), V2)
    _, rows = report_rows(answers)

    for check in checks_not_raised(answers, V2):
        for question_id in check["questions"]:
            effects = rows[question_id].effects
            assert (CHECKED[check["kind"]] in effects) != (RAISED[check["kind"]] in effects)
