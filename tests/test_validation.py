"""One validation module, one clear message per problem, naming the question."""

import dataclasses

import pytest

from assessments.validation import (
    NO_ANSWER,
    NOTHING_TO_SOLVE,
    REQUIRED_NOT_CLEARED,
    AnswerChanges,
    InvalidAnswers,
    changes_from_values,
    check_note,
    clean_answers,
    parse_form_value,
    parse_question,
    parse_questionnaire,
    plain_text,
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
    assert (
        "choose from: “Daily”; “Weekly”; “Monthly”; “Quarterly”; “Rarely"
        in (problems["knowledge_change"])
    )


def test_none_mixed_with_other_choices_is_rejected(complete_answers, rubric):
    raw = {**complete_answers, "knowledge_needs": ["none", "documents"]}
    message = problems_for(raw, rubric)["knowledge_needs"]
    assert "“Nothing beyond what a base model knows” cannot be combined" in message


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


def problems_raised(call, *args) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as error:
        call(*args)
    return {p.question: p.message for p in error.value.problems}


# --- Changes to answers ------------------------------------------------------------------


def test_answer_changes_are_values_to_set_and_questions_to_clear_and_cannot_be_altered():
    changes = AnswerChanges({"latency": "batch"})
    assert changes.cleared == frozenset()
    assert changes == AnswerChanges({"latency": "batch"}, frozenset())
    with pytest.raises(dataclasses.FrozenInstanceError):
        changes.cleared = frozenset({"eval_set"})


# --- One question, as autosave submits it ------------------------------------------------


def test_an_autosaved_answer_becomes_a_change_of_that_question_only(rubric):
    def parsed(question_id: str, values: list[str]) -> AnswerChanges:
        return parse_question(rubric.questions[question_id], values, {})

    assert parsed("latency", ["batch"]) == AnswerChanges({"latency": "batch"})
    assert parsed("knowledge_needs", ["catalog", "documents"]) == AnswerChanges(
        {"knowledge_needs": ["documents", "catalog"]}
    )
    assert parsed("monthly_queries", ["1,200,000"]) == AnswerChanges({"monthly_queries": 1_200_000})


def test_an_autosaved_answer_the_same_as_the_stored_one_is_still_a_change(rubric):
    # Saving it changes nothing (see services.save_answers), but it is a valid change.
    changes = parse_question(rubric.questions["latency"], ["batch"], {"latency": "batch"})
    assert changes == AnswerChanges({"latency": "batch"})


@pytest.mark.parametrize("current", [{}, {"monthly_queries": 5000}], ids=["unset", "answered"])
def test_an_optional_question_autosaved_empty_is_cleared(rubric, current):
    changes = parse_question(rubric.questions["monthly_queries"], [" "], current)
    assert changes == AnswerChanges({}, frozenset({"monthly_queries"}))


@pytest.mark.parametrize(
    ("values", "current", "message"),
    [
        ([], {}, NO_ANSWER),
        ([""], {}, NO_ANSWER),
        ([], {"latency": "batch"}, REQUIRED_NOT_CLEARED),
        (["  "], {"latency": "batch"}, REQUIRED_NOT_CLEARED),
    ],
    ids=["missing", "empty", "answered-then-missing", "answered-then-empty"],
)
def test_an_autosaved_required_question_left_empty_is_refused(rubric, values, current, message):
    problems = problems_raised(parse_question, rubric.questions["latency"], values, current)
    assert problems == {"latency": message}


@pytest.mark.parametrize(
    ("values", "message"),
    [(["slow"], "'slow' is not a valid choice"), (["batch", "realtime"], "choose only one answer")],
    ids=["bad-choice", "two-singles"],
)
def test_an_autosaved_invalid_answer_is_refused_naming_its_question(rubric, values, message):
    problems = problems_raised(parse_question, rubric.questions["latency"], values, {})
    assert list(problems) == ["latency"]
    assert message in problems["latency"]


def test_an_autosaved_answer_that_is_not_a_number_names_its_question(rubric):
    problems = problems_raised(parse_question, rubric.questions["monthly_queries"], ["lots"], {})
    assert problems == {"monthly_queries": "enter a whole number of queries, e.g. 50000"}


# --- A whole submitted questionnaire -----------------------------------------------------


def test_a_submitted_questionnaire_changes_only_what_differs_from_the_stored_answers(rubric):
    current = {"latency": "batch", "budget": "limited", "monthly_queries": 5000, "eval_set": "yes"}
    data = {
        "latency": ["batch"],  # unchanged
        "budget": ["moderate"],  # changed
        "behavior_needs": ["format", "tone"],  # new
        "monthly_queries": [""],  # an optional answer cleared
        # eval_set not submitted at all: cleared too (an unchecked radio sends nothing)
    }

    changes, submitted, errors = parse_questionnaire(rubric, data, current)

    assert errors == {}
    assert changes == AnswerChanges(
        {"budget": "moderate", "behavior_needs": ["tone", "format"]},
        frozenset({"monthly_queries", "eval_set"}),
    )
    assert submitted == {
        "latency": "batch",
        "budget": "moderate",
        "behavior_needs": ["tone", "format"],
        "monthly_queries": None,
    }


def test_questions_left_empty_that_were_never_answered_change_nothing(rubric):
    changes, submitted, errors = parse_questionnaire(rubric, {"eval_set": [""]}, {})
    assert (changes, errors) == (AnswerChanges({}), {})
    assert submitted == {"eval_set": None}


def test_a_submitted_questionnaire_names_each_invalid_answer_and_keeps_what_was_typed(rubric):
    current = {"latency": "batch"}
    data = {"budget": ["huge"], "monthly_queries": ["lots"], "knowledge_needs": ["documents"]}

    _, submitted, errors = parse_questionnaire(rubric, data, current)

    assert set(errors) == {"budget", "monthly_queries", "latency"}
    assert "'huge' is not a valid choice" in errors["budget"]
    assert errors["latency"] == REQUIRED_NOT_CLEARED  # answered before, now left empty
    assert submitted["budget"] == ["huge"]
    assert submitted["monthly_queries"] == ["lots"]
    assert submitted["knowledge_needs"] == ["documents"]


# --- Typed answers (imports, the score command, tests) -----------------------------------


def test_typed_answers_become_clean_changes(rubric):
    raw = {"latency": "batch", "behavior_needs": ["format", "tone"], "monthly_queries": None}
    changes = changes_from_values(rubric, raw)
    assert changes == AnswerChanges(
        {"latency": "batch", "behavior_needs": ["tone", "format"]}, frozenset({"monthly_queries"})
    )


def test_clearing_a_required_answer_is_refused_whether_answered_yet_or_not(rubric):
    problems = problems_raised(changes_from_values, rubric, {"latency": None})
    assert problems == {"latency": REQUIRED_NOT_CLEARED}


def test_typed_answers_list_every_problem(rubric):
    raw = {
        "latency": "slow",
        "monthly_queries": -1,
        "favourite_colour": None,
        "budget": None,
        "eval_set": "yes",
    }
    problems = problems_raised(changes_from_values, rubric, raw)
    assert set(problems) == {"latency", "monthly_queries", "favourite_colour", "budget"}
    assert problems["favourite_colour"] == "unknown question id"
    assert problems["budget"] == REQUIRED_NOT_CLEARED


def test_typed_answers_with_no_need_at_all_are_refused(rubric):
    raw = {"knowledge_needs": ["none"], "behavior_needs": ["none"]}
    assert problems_raised(changes_from_values, rubric, raw) == {
        "knowledge_needs": NOTHING_TO_SOLVE
    }


def every_message_for_a_bad_value(rubric) -> list[tuple[str, str]]:
    """(question id, message) for each kind of bad value of each question."""
    from assessments.validation import check_answer

    bad_values = ["made_up", 3, ["made_up"], [], ["none", "x"], "x" * 100, None, 1.5]
    messages = []
    for question in rubric.questions.values():
        for value in bad_values:
            _, message = check_answer(question, value)
            if message:
                messages.append((question.id, message))
    multi = next(q for q in rubric.questions.values() if q.kind == "multi")
    real = next(c.id for c in multi.choices if c.id != "none")
    messages.append((multi.id, check_answer(multi, ["none", real])[1]))
    return messages


def test_messages_name_choices_by_their_labels_never_their_ids(rubric):
    for question_id, message in every_message_for_a_bad_value(rubric):
        question = rubric.questions[question_id]
        # The typed value may come back ('made_up'); the rubric's own ids never do.
        for choice in question.choices:
            if choice.id != choice.label.lower():
                assert f"'{choice.id}'" not in message, (question_id, message)
                assert f" {choice.id}," not in message and f"({choice.id}" not in message
        if question.choices and "choose from" in message:
            assert all(f"“{c.label}”" in message for c in question.choices), message


@pytest.mark.parametrize(
    ("typed", "multiline", "kept"),
    [
        ("Board\u202eevil\x1b", False, "Boardevil"),  # a direction override, an escape
        ("a\u200db", False, "ab"),  # a zero-width joiner
        ("one\r\ntwo\rthree", True, "one\ntwo\nthree"),  # every line break is "\n"
        ("one\ntwo", False, "one two"),  # one-line text: a line break is a space
        ("  tab\there  ", True, "tab here"),
    ],
)
def test_plain_text_drops_what_would_hide_or_reorder_text(typed, multiline, kept):
    assert plain_text(typed, multiline=multiline) == kept


def test_a_note_is_cleaned_like_every_other_text_readers_see(rubric):
    note, message = check_note(rubric.questions["latency"], "Fine\u202e\r\nreally", False)
    assert message is None
    assert note["text"] == "Fine\nreally"
