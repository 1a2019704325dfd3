"""The live panel's top reasons: each supports the verdict shown and links to a stored
answer by that answer's own label."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.examples import load_scenarios
from assessments.presenters import _rival, _support, top_reasons
from assessments.rubric import available_versions, load_rubric
from assessments.services import evaluate

RUBRIC = load_rubric("v1")
SCENARIOS = load_scenarios()
NEEDS = ("knowledge_needs", "behavior_needs")


@st.composite
def partial_answers(draw) -> dict[str, Any]:
    """A worked example's answers with some left out (as while filling in the form), the
    two needs always there so that a (provisional) verdict shows."""
    answers = draw(st.sampled_from(SCENARIOS))["answers"]
    kept = draw(st.sets(st.sampled_from(sorted(answers))))
    return {q: v for q, v in answers.items() if q in kept or q in NEEDS}


@settings(max_examples=300)
@given(partial_answers())
def test_every_top_reason_supports_the_verdict_and_names_a_stored_answer(answers):
    result = evaluate(answers, RUBRIC, include_flips=False).current
    rival = _rival(result)
    for reason in top_reasons(result, RUBRIC):
        point = next(p for p in result.rationale if p.reason == reason["reason"])
        assert _support(point, result.verdict, rival) > 0
        assert reason["question_id"] in answers
        question = RUBRIC.questions[reason["question_id"]]
        assert reason["answer_text"] == question.describe(answers[reason["question_id"]])


def test_no_answer_reads_as_a_bare_none():
    for version in available_versions():
        for question in load_rubric(version).questions.values():
            for choice in question.choices:
                assert choice.label.strip().lower() != "none", (version, question.id)
