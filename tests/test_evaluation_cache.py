"""evaluate() remembers evaluations with flips, and only where that cannot change a result."""

from dataclasses import replace

from assessments import services


def test_same_answers_same_evaluation(complete_answers, rubric):
    first = services.evaluate(dict(complete_answers), rubric)
    assert services.evaluate(dict(complete_answers), rubric) is first
    assert first == services._evaluate(dict(complete_answers), rubric, include_flips=True)
    assert first.result is not None and first.result.flips


def test_other_answers_or_rubric_are_evaluated_again(complete_answers, rubric):
    first = services.evaluate(dict(complete_answers), rubric)
    changed = services.evaluate({**complete_answers, "latency": "batch"}, rubric)
    assert changed is not first and changed.answers["latency"] == "batch"
    edited = replace(rubric, title="an edited copy")
    assert services.evaluate(dict(complete_answers), edited).rubric is edited


def test_not_cached_without_flips_or_for_unusual_values(complete_answers, rubric):
    without_flips = services.evaluate(complete_answers, rubric, include_flips=False)
    assert services.evaluate(complete_answers, rubric, include_flips=False) is not without_flips
    as_tuples = {q: tuple(v) if isinstance(v, list) else v for q, v in complete_answers.items()}
    assert services._evaluation_key(as_tuples, rubric) is None
