"""The spec's behaviour rules 0-6, checked over generated answer sets (hypothesis)."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.rubric import NONE_CHOICE, load_rubric
from assessments.scoring import APPROACHES, USES_RAG, decide_verdict, score

RUBRIC = load_rubric("v1")
ENOUGH = {"200_999", "1000_plus"}

# For each single-choice question, its choices from most RAG-leaning to most fine-tune-leaning.
LEAN_ORDER = {
    "knowledge_change": ["daily", "weekly", "monthly", "quarterly", "rarely"],
    "answers_differ_6mo": ["yes", "unsure", "no"],
    "kb_state": ["clean", "partial", "messy", "none"],
    "labeled_examples": ["none", "under_200", "200_999", "1000_plus"],
    "prompt_baseline": ["above_80", "not_tried", "below_80"],
    "latency": ["batch", "interactive", "realtime"],
    "retrieval_possible": ["yes", "no"],
    "budget": ["limited", "moderate", "dedicated"],
    "prompt_volume": ["no", "somewhat", "yes"],
    "attribution": ["required", "helpful", "not_needed"],
    "regulated": ["yes", "no"],
}


def real_needs(
    question_id: str, without: frozenset[str] = frozenset()
) -> st.SearchStrategy[list[str]]:
    """At least one real need (never "none"), in the rubric's order, none of `without`."""
    real = [
        c for c in RUBRIC.questions[question_id].choice_ids if c != NONE_CHOICE and c not in without
    ]
    return st.lists(st.sampled_from(real), min_size=1, unique=True).map(
        lambda items: [c for c in real if c in items]
    )


def needs(question_id: str, without: frozenset[str] = frozenset()) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([NONE_CHOICE]), real_needs(question_id, without))


@st.composite
def answer_sets(draw, without: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A valid answer set; `without`: needs never picked."""
    answers: dict[str, Any] = {
        q: draw(st.sampled_from(RUBRIC.questions[q].choice_ids)) for q in LEAN_ORDER
    }
    answers["knowledge_needs"] = draw(needs("knowledge_needs", without))
    answers["behavior_needs"] = draw(
        needs("behavior_needs", without)
        if answers["knowledge_needs"] != [NONE_CHOICE]
        else real_needs("behavior_needs", without)
    )
    if draw(st.booleans()):
        answers["eval_set"] = draw(st.sampled_from(["yes", "no"]))
    if draw(st.booleans()):
        answers["monthly_queries"] = draw(st.integers(min_value=0, max_value=10**9))
    return answers


@settings(max_examples=400)
@given(answer_sets())
def test_rule_0_no_rag_verdict_when_retrieval_is_impossible(answers):
    answers["retrieval_possible"] = "no"
    assert decide_verdict(answers, RUBRIC) not in USES_RAG


@settings(max_examples=400)
@given(answer_sets(), real_needs("knowledge_needs"))
def test_rule_1_pure_knowledge_problem_is_rag(answers, knowledge):
    answers.update(knowledge_needs=knowledge, behavior_needs=[NONE_CHOICE])
    answers.update(retrieval_possible="yes")
    assert decide_verdict(answers, RUBRIC) == "rag"


@settings(max_examples=400)
@given(
    answers=answer_sets(),
    behaviour=real_needs("behavior_needs"),
    examples=st.sampled_from(sorted(ENOUGH)),
    change=st.sampled_from(["rarely", "quarterly"]),
)
def test_rule_2_pure_behaviour_with_data_and_stable_knowledge_is_fine_tune(
    answers, behaviour, examples, change
):
    answers.update(knowledge_needs=[NONE_CHOICE], behavior_needs=behaviour)
    answers.update(labeled_examples=examples, knowledge_change=change, answers_differ_6mo="no")
    result = score(answers, RUBRIC)
    assert result.verdict == "fine_tune"
    assert "too_few_examples" not in result.warning_codes


@settings(max_examples=400)
@given(
    answers=answer_sets(),
    knowledge=real_needs("knowledge_needs"),
    behaviour=real_needs("behavior_needs"),
    examples=st.sampled_from(sorted(ENOUGH)),
)
def test_rule_3_knowledge_and_behaviour_with_data_is_hybrid(
    answers, knowledge, behaviour, examples
):
    answers.update(knowledge_needs=knowledge, behavior_needs=behaviour)
    answers.update(labeled_examples=examples, retrieval_possible="yes")
    result = score(answers, RUBRIC)
    assert result.verdict == "hybrid"
    assert "hybrid_train_with_context" in result.warning_codes


@settings(max_examples=400)
@given(
    answers=answer_sets(),
    knowledge=real_needs("knowledge_needs"),
    behaviour=real_needs("behavior_needs"),
    examples=st.sampled_from(["none", "under_200"]),
)
def test_rule_4_knowledge_and_behaviour_without_data_is_rag_for_now(
    answers, knowledge, behaviour, examples
):
    answers.update(knowledge_needs=knowledge, behavior_needs=behaviour)
    answers.update(labeled_examples=examples, retrieval_possible="yes")
    result = score(answers, RUBRIC)
    assert result.verdict == "rag"
    assert "too_few_examples" in result.warning_codes
    assert any("hybrid becomes viable" in step for step in result.next_steps)
    assert any(flip["verdict"] == "hybrid" for flip in result.flips)


@settings(max_examples=400)
@given(
    answers=answer_sets(),
    behaviour=real_needs("behavior_needs"),
    examples=st.sampled_from(["none", "under_200"]),
)
def test_rule_5_pure_behaviour_without_data_is_fine_tune_not_ready(answers, behaviour, examples):
    answers.update(knowledge_needs=[NONE_CHOICE], behavior_needs=behaviour)
    answers.update(labeled_examples=examples)
    result = score(answers, RUBRIC)
    assert (result.verdict, result.readiness) == ("fine_tune", "not_ready")
    assert [b["code"] for b in result.blockers] == ["too_few_examples"]


@st.composite
def leaning_steps(draw):
    """Valid answers, a leaning question, a direction ('rag' or 'fine_tune'), and the answer
    one step that way: the question's drawn answer is never already at that end."""
    answers = draw(answer_sets())
    question_id = draw(st.sampled_from(sorted(LEAN_ORDER)))
    towards = draw(st.sampled_from(["rag", "fine_tune"]))
    order = LEAN_ORDER[question_id]
    index = draw(st.integers(0, len(order) - 2))
    more_rag, more_fine_tune = order[index], order[index + 1]
    answers[question_id], value = (
        (more_fine_tune, more_rag) if towards == "rag" else (more_rag, more_fine_tune)
    )
    return answers, question_id, towards, value


@st.composite
def need_additions(draw):
    """Valid answers, and a knowledge need and a behaviour need they do not have yet."""
    knowledge = draw(st.sampled_from(["documents", "catalog", "customer_data"]))
    behaviour = draw(st.sampled_from(["tone", "format", "taxonomy", "guardrails"]))
    answers = draw(answer_sets(without=frozenset({knowledge, behaviour})))
    return answers, knowledge, behaviour


def add_need(answers, question_id, choice):
    current = [c for c in answers[question_id] if c != NONE_CHOICE]
    ids = RUBRIC.questions[question_id].choice_ids
    return [c for c in ids if c in {*current, choice}]


@settings(max_examples=800)
@given(leaning_steps())
def test_rule_6_a_leaning_answer_never_moves_the_verdict_to_the_opposite_side(step):
    answers, question_id, towards, value = step
    before = decide_verdict(answers, RUBRIC)
    after = decide_verdict({**answers, question_id: value}, RUBRIC)
    if towards == "rag":
        assert not (before == "rag" and after == "fine_tune")
    else:
        assert not (before == "fine_tune" and after == "rag")


@settings(max_examples=400)
@given(need_additions())
def test_rule_6_adding_a_need_never_moves_the_verdict_to_the_opposite_side(addition):
    answers, knowledge, behaviour = addition
    before = decide_verdict(answers, RUBRIC)
    more_knowledge = add_need(answers, "knowledge_needs", knowledge)
    after = decide_verdict({**answers, "knowledge_needs": more_knowledge}, RUBRIC)
    assert not (before == "rag" and after == "fine_tune")
    more_behaviour = add_need(answers, "behavior_needs", behaviour)
    after = decide_verdict({**answers, "behavior_needs": more_behaviour}, RUBRIC)
    assert not (before == "fine_tune" and after == "rag")


@settings(max_examples=300)
@given(answer_sets())
def test_any_valid_answer_set_gets_a_complete_consistent_result(answers):
    result = score(answers, RUBRIC)
    data = result.to_dict()

    assert result.verdict in APPROACHES
    assert result.confidence in {"high", "medium", "low"}
    assert (result.readiness == "ready") == (not result.blockers)
    assert set(result.scores) == set(APPROACHES)
    assert all(0 <= value <= 100 for value in result.scores.values())
    assert [s["id"] for s in result.signals] == [s.id for s in RUBRIC.signals]
    assert result.rationale and all(p.question in RUBRIC.questions for p in result.rationale)
    assert all(flip["verdict"] != result.verdict for flip in result.flips)
    assert all(w["code"] in RUBRIC.warnings and w["message"] for w in result.warnings)
    assert result.next_steps
    assert data["rubric_version"] == "v1"
    for key in ("verdict", "confidence", "readiness", "blockers", "scores", "signals"):
        assert key in data


@settings(max_examples=200)
@given(answer_sets())
def test_every_flip_really_changes_the_verdict_when_applied(answers):
    result = score(answers, RUBRIC)
    for flip in result.flips:
        changed = {**answers, flip["question"]: flip["to"]}
        assert decide_verdict(changed, RUBRIC) == flip["verdict"]
