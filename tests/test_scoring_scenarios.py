"""Every worked scenario of the spec, scored exactly as the spec expects."""

import pytest

from assessments.examples import load_scenarios
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


def test_project_copy_of_scenarios_matches_the_app_examples():
    from assessments.examples import load_scenarios

    assert load_scenarios() == SCENARIOS
