"""One validation module, one clear message per problem, naming the question."""

import pytest

from assessments.validation import (
    InvalidAnswers,
    clean_answers,
    parse_form_value,
    validate_answers,
)


def problems_for(raw, rubric, **kwargs):
    return {p.question: p.message for p in validate_answers(raw, rubric, **kwargs)[1]}


def test_complete_valid_answers_have_no_problems(complete_answers, rubric):
    assert problems_for(complete_answers, rubric) == {}


def test_unknown_question_id_is_named(complete_answers, rubric):
    problems = problems_for({**complete_answers, "favourite_colour": "blue"}, rubric)
    assert problems == {"favourite_colour": "unknown question id"}


def test_invalid_choice_lists_the_valid_ones(complete_answers, rubric):
    problems = problems_for({**complete_answers, "knowledge_change": "hourly"}, rubric)
    assert "'hourly' is not a valid choice" in problems["knowledge_change"]
    assert "daily, weekly, monthly, quarterly, rarely" in problems["knowledge_change"]


def test_none_mixed_with_other_choices_is_rejected(complete_answers, rubric):
    raw = {**complete_answers, "knowledge_needs": ["none", "documents"]}
    assert "'none' cannot be combined" in problems_for(raw, rubric)["knowledge_needs"]


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("knowledge_needs", "documents"),
        ("knowledge_needs", [1, 2]),
        ("knowledge_needs", []),
        ("latency", ["realtime"]),
        ("latency", 3),
        ("monthly_queries", "1000"),
        ("monthly_queries", True),
        ("monthly_queries", -5),
        ("monthly_queries", 1.5),
    ],
)
def test_wrong_types_are_rejected_with_the_question_named(
    complete_answers, rubric, question, value
):
    assert question in problems_for({**complete_answers, question: value}, rubric)


def test_missing_required_answers_are_each_named(complete_answers, rubric):
    del complete_answers["budget"]
    del complete_answers["regulated"]
    problems = problems_for(complete_answers, rubric)
    assert problems == {
        "budget": "is required but was not answered",
        "regulated": "is required but was not answered",
    }


def test_optional_questions_may_be_left_out(complete_answers, rubric):
    assert "eval_set" not in complete_answers
    assert problems_for({**complete_answers, "monthly_queries": None}, rubric) == {}


def test_drafts_may_be_incomplete_but_not_invalid(rubric):
    assert problems_for({"latency": "batch"}, rubric, require_complete=False) == {}
    assert "latency" in problems_for({"latency": "slow"}, rubric, require_complete=False)


def test_nothing_to_solve_is_a_validation_error_not_a_verdict(complete_answers, rubric):
    raw = {**complete_answers, "knowledge_needs": ["none"], "behavior_needs": ["none"]}
    assert "nothing to solve" in problems_for(raw, rubric)["knowledge_needs"]


def test_answers_must_be_an_object(rubric):
    assert "answers" in problems_for(["knowledge_change"], rubric)


def test_clean_answers_raises_with_every_problem(complete_answers, rubric):
    raw = {**complete_answers, "latency": "slow", "budget": "huge"}
    with pytest.raises(InvalidAnswers) as error:
        clean_answers(raw, rubric)
    assert {p.question for p in error.value.problems} == {"latency", "budget"}


def test_multi_answers_are_put_in_rubric_order_without_duplicates(complete_answers, rubric):
    raw = {**complete_answers, "behavior_needs": ["format", "tone", "format"]}
    assert clean_answers(raw, rubric)["behavior_needs"] == ["tone", "format"]


def test_form_values_are_parsed_and_checked(rubric):
    queries = rubric.questions["monthly_queries"]
    assert parse_form_value(queries, ["50,000"]) == (50000, None)
    assert parse_form_value(queries, ["lots"])[1] == "enter a whole number of queries, e.g. 50000"
    assert parse_form_value(queries, ["²"])[1] is not None
    assert parse_form_value(queries, [" "]) == (None, None)
    latency = rubric.questions["latency"]
    assert parse_form_value(latency, ["batch", "realtime"])[1] == "choose only one answer"
    needs = rubric.questions["knowledge_needs"]
    assert parse_form_value(needs, ["catalog", "documents"]) == (["documents", "catalog"], None)
