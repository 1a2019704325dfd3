"""Every worked scenario of the spec, scored exactly as the spec expects."""

import pytest

from assessments.examples import SCENARIOS_FILE, load_examples, load_scenarios
from assessments.models import Project
from assessments.scoring import score
from assessments.validation import clean_answers

SCENARIOS = load_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_scenario_gets_expected_verdict_readiness_and_warnings(scenario, rubric):
    result = score(clean_answers(scenario["answers"], rubric), rubric)
    expect = scenario["expect"]

    assert result.verdict == expect["verdict"]
    assert result.readiness == expect["readiness"]
    for code in expect.get("warnings_include", []):
        assert code in result.warning_codes
    for code in expect.get("warnings_exclude", []):
        assert code not in result.warning_codes


@pytest.mark.django_db
def test_the_worked_examples_the_app_shows_are_the_scenarios_scored_here(rubric):
    load_examples(SCENARIOS_FILE)  # the v1 cases (v2's: tests/test_views_report_v2.py)

    examples = {
        project.example_key: project.current_assessment.answer_values
        for project in Project.objects.examples().with_assessments()
    }

    assert examples == {s["id"]: clean_answers(s["answers"], rubric) for s in SCENARIOS}
