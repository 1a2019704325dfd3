"""assessments/compare.py: two states side by side, and what each changed answer moves on its
own. Pure: no database; the cases are the worked examples (assessments/data/scenarios*.json)
with hand-picked changes."""

from typing import Any

import pytest

from assessments.compare import NO_VERDICT, Side, compare
from assessments.rubric import load_rubric
from assessments.services import evaluate
from tests.conftest import scenario_answers

V2 = load_rubric("v2")
SUPPORT_BOT = "v2-support-bot-hybrid"  # Hybrid (fine-tuning + RAG), ready, high confidence


def side(answers: dict[str, Any], rubric=V2, notes=None, key="a1") -> Side:
    return Side(key, key, rubric, answers, notes or {}, evaluate(answers, rubric))


def compared(left: dict[str, Any], right: dict[str, Any], **kwargs):
    return compare(side(left, **kwargs), side(right, key="a2"), evaluate=evaluate)


def changed(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def test_a_change_that_flips_the_verdict_says_so_with_the_rubrics_labels():
    before = scenario_answers(SUPPORT_BOT)
    comparison = compared(before, changed(before, behavior_needs=["none"]))

    (attribution,) = comparison.attributions
    question = V2.questions["behavior_needs"]
    assert attribution.sentence == (
        f"Changing “{question.label}” from {question.describe(['tone'])} to "
        f"{question.describe(['none'])} moves the verdict from "
        f"{V2.verdict_label('hybrid', {'knowledge': 'retrieval', 'behaviour': 'fine_tune'})} "
        f"to {comparison.right_outcome.label} and the Behaviour lane from fine-tuning to none."
    )
    assert [move.part.id for move in attribution.moves] == ["verdict", "lane:behaviour"]
    assert comparison.together == ()
    rows = {row.question_id: row for row in comparison.rows}
    assert rows["behavior_needs"].changed and not rows["kb_state"].changed
    assert comparison.changed_count == 1
    verdict_row = comparison.outcome_rows[0]
    assert verdict_row.title == "Verdict" and verdict_row.changed


def test_a_change_that_moves_only_readiness_names_only_readiness():
    before = scenario_answers(SUPPORT_BOT)
    comparison = compared(before, changed(before, kb_state="messy"))

    (attribution,) = comparison.attributions
    assert [move.part.id for move in attribution.moves] == ["readiness"]
    assert attribution.sentence.endswith(
        f"moves readiness from {V2.readiness_label('ready')} to {V2.readiness_label('not_ready')}."
    )
    changed_rows = [row.title for row in comparison.outcome_rows if row.changed]
    assert changed_rows == ["Readiness"]


def test_a_change_that_moves_nothing_says_it_does_not_change_the_outcome():
    before = scenario_answers(SUPPORT_BOT)
    comparison = compared(before, changed(before, monthly_queries=2_000_000))

    (attribution,) = comparison.attributions
    assert attribution.sentence == (
        "Changing “Queries per month” from 20,000 to 2,000,000 does not change the outcome on "
        "its own."
    )
    assert attribution.moves == ()
    assert not comparison.outcome_changed


def test_changes_that_move_the_outcome_only_together_are_said_to():
    """Four changes, none of which moves the verdict on its own; together they do."""
    comparison = compared(
        scenario_answers("v2-invoice-json-prompt-meets"), scenario_answers("v2-ticket-classifier")
    )

    assert len(comparison.attributions) == 4
    assert not any(
        move.part.id == "verdict" for item in comparison.attributions for move in item.moves
    )
    assert comparison.together[0].startswith("Only together do the changes move the verdict from")
    assert any("Behaviour lane" in sentence for sentence in comparison.together)


def test_one_sentence_per_changed_answer_in_the_rubrics_order():
    before = scenario_answers(SUPPORT_BOT)
    after = changed(before, kb_state="messy", behavior_needs=["none"], latency="batch")
    comparison = compared(before, after)

    assert [a.question_id for a in comparison.attributions] == [
        row.question_id for row in comparison.rows if row.changed
    ]
    assert len(comparison.attributions) == 3


def test_identical_answers_have_no_changes_and_the_same_outcome():
    answers = scenario_answers(SUPPORT_BOT)
    comparison = compared(answers, dict(answers))

    assert comparison.attributions == () and comparison.together == ()
    assert comparison.changed_count == 0 and not comparison.outcome_changed


def test_an_incomplete_side_has_no_verdict_yet():
    complete = scenario_answers(SUPPORT_BOT)
    draft = {key: complete[key] for key in ("knowledge_needs", "latency")}
    comparison = compared(draft, complete)

    assert comparison.left_outcome is None
    assert comparison.outcome_rows[0].left == NO_VERDICT
    assert comparison.outcome_rows[0].right == comparison.right_outcome.label
    # Each single change on top of the draft still leaves it without a verdict.
    assert all("does not give a verdict on its own" in a.sentence for a in comparison.attributions)


def test_a_change_that_completes_the_left_side_says_it_gives_a_verdict():
    complete = scenario_answers(SUPPORT_BOT)
    almost = {key: value for key, value in complete.items() if key != "budget"}
    comparison = compared(almost, complete)

    (attribution,) = comparison.attributions
    assert attribution.sentence.endswith(
        f"on its own would give a verdict: {comparison.right_outcome.label}."
    )


def test_a_cleared_answer_is_applied_as_cleared():
    complete = scenario_answers(SUPPORT_BOT)
    cleared = {key: value for key, value in complete.items() if key != "budget"}
    comparison = compared(complete, cleared)

    (attribution,) = comparison.attributions
    assert "to not answered" in attribution.sentence
    assert "leaves no verdict" in attribution.sentence


def test_notes_that_differ_are_shown_without_counting_as_changed_answers():
    answers = scenario_answers(SUPPORT_BOT)
    left = side(answers, notes={"budget": {"text": "From the Q3 plan", "not_applicable": False}})
    right = side(dict(answers), key="a2", notes={})
    comparison = compare(left, right, evaluate=evaluate)

    rows = {row.question_id: row for row in comparison.rows}
    assert rows["budget"].notes_differ and not rows["budget"].changed
    assert rows["budget"].left_note == "From the Q3 plan" and rows["budget"].right_note == ""
    assert not rows["latency"].notes_differ
    assert comparison.attributions == ()


def test_a_question_marked_does_not_apply_reads_so():
    answers = scenario_answers(SUPPORT_BOT)
    answers.pop("answers_differ_6mo")
    notes = {"answers_differ_6mo": {"text": "Static catalog", "not_applicable": True}}
    comparison = compare(side(answers, notes=notes), side(answers, key="a2"), evaluate=evaluate)

    row = next(row for row in comparison.rows if row.question_id == "answers_differ_6mo")
    assert row.left == "Does not apply" and row.right == "not answered"
    assert row.left_note == "Does not apply: Static catalog"


def test_across_rubrics_answers_are_matched_by_question_and_not_attributed():
    v1 = load_rubric("v1")
    left = side(scenario_answers("support-bot"), rubric=v1)
    right = side(scenario_answers(SUPPORT_BOT), key="a2")
    comparison = compare(left, right, evaluate=evaluate)

    assert not comparison.same_rubric
    assert comparison.attributions == () and comparison.together == ()
    assert "cannot be said across rubrics" in comparison.note
    assert comparison.left_outcome is not None and comparison.right_outcome is not None
    rows = {row.question_id: row for row in comparison.rows}
    shared = set(v1.questions) & set(V2.questions)
    only_v2 = next(iter(set(V2.questions) - set(v1.questions)))
    assert rows[only_v2].left == "not in rubric v1" and not rows[only_v2].changed
    assert {q for q, row in rows.items() if row.changed} <= shared


@pytest.mark.parametrize("scenario", ["v2-policy-assistant", "v2-tone-pilot", SUPPORT_BOT])
def test_every_changed_answer_gets_exactly_one_sentence(scenario):
    left = scenario_answers(scenario)
    right = scenario_answers("v2-per-user-records")
    comparison = compared(left, right)

    assert len(comparison.attributions) == comparison.changed_count
    assert all(a.sentence.startswith("Changing “") for a in comparison.attributions)
