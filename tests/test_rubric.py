"""Loading a rubric refuses inconsistent data: each RubricError, named exactly.

Each broken rubric is v1.toml with one thing broken, so the error can only come from that.
"""

from __future__ import annotations

import copy
import re
import tomllib
from typing import Any

import pytest

from assessments.rubric import (
    CURRENT_VERSION,
    RUBRIC_DIR,
    RubricError,
    available_versions,
    load_rubric,
    parse_rubric,
)


def read_toml(version: str) -> dict[str, Any]:
    with open(RUBRIC_DIR / f"{version}.toml", "rb") as handle:
        return tomllib.load(handle)


V1 = read_toml("v1")


def v1_data() -> dict[str, Any]:
    """A fresh copy of v1's data, free to break."""
    return copy.deepcopy(V1)


def refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RubricError, match=f"^{re.escape(message)}$"):
        parse_rubric(data)


def weight_on(data: dict[str, Any], question: str) -> dict[str, Any]:
    return next(w for w in data["weights"] if w["question"] == question)


def rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["id"] == rule_id)


def signal(data: dict[str, Any], signal_id: str) -> dict[str, Any]:
    return next(s for s in data["signals"] if s["id"] == signal_id)


# --- The rubric files themselves -----------------------------------------------------------


def test_the_current_version_is_available():
    assert CURRENT_VERSION in available_versions()


@pytest.mark.parametrize("version", available_versions())
def test_every_rubric_file_loads_cleanly(version):
    parsed = parse_rubric(read_toml(version))  # uncached: every check runs again
    assert parsed.version == version  # the file name and the version it records agree
    assert parsed == load_rubric(version)
    assert parsed.questions and parsed.weights and parsed.rules and parsed.signals


def test_an_unbroken_copy_parses_to_the_loaded_rubric():
    assert parse_rubric(v1_data()) == load_rubric("v1")


@pytest.mark.parametrize("version", ["v0", "V1", "v1.toml", "../rubric/v1", ""])
def test_an_unknown_version_is_refused(version):
    with pytest.raises(RubricError, match=f"^{re.escape(f'unknown rubric version {version!r}')}$"):
        load_rubric(version)


# --- Conditions ----------------------------------------------------------------------------


def test_a_weight_condition_on_an_unknown_question_is_refused():
    data = v1_data()
    weight_on(data, "knowledge_change")["when"]["knowledge_chnage"] = ["daily"]
    refused(data, "condition names unknown question 'knowledge_chnage'")


def test_a_rule_condition_on_an_unknown_question_is_refused():
    data = v1_data()
    rule(data, "retrieval_impossible")["when"] = {"offline": ["yes"]}
    refused(data, "condition names unknown question 'offline'")


def test_a_signal_condition_on_an_unknown_question_is_refused():
    data = v1_data()
    signal(data, "limited_infra_budget")["when"] = {"budgets": ["limited"]}
    refused(data, "condition names unknown question 'budgets'")


def test_a_condition_on_unknown_choices_of_a_single_choice_question_is_refused():
    data = v1_data()
    weight_on(data, "knowledge_change")["when"]["knowledge_change"] = ["daily", "yearly", "hourly"]
    refused(data, "condition on 'knowledge_change' names unknown choices ['hourly', 'yearly']")


def test_a_condition_on_an_unknown_choice_of_a_multi_choice_question_is_refused():
    data = v1_data()
    signal(data, "output_format_or_style")["when"]["behavior_needs"] = ["format", "poetry"]
    refused(data, "condition on 'behavior_needs' names unknown choices ['poetry']")


def test_a_rule_condition_on_an_unknown_choice_is_refused():
    data = v1_data()
    rule(data, "retrieval_impossible")["when"]["retrieval_possible"] = ["sometimes"]
    refused(data, "condition on 'retrieval_possible' names unknown choices ['sometimes']")


# --- References to questions ---------------------------------------------------------------


def test_a_weight_on_an_unknown_question_is_refused():
    data = v1_data()
    weight_on(data, "budget")["question"] = "budgett"
    refused(data, "reference to unknown question 'budgett'")


def test_a_rule_about_an_unknown_question_is_refused():
    data = v1_data()
    rule(data, "hybrid_needs_examples")["question"] = "examples"
    refused(data, "reference to unknown question 'examples'")


def test_a_blocker_about_an_unknown_question_is_refused():
    data = v1_data()
    data["blockers"]["knowledge_base_not_ready"]["question"] = "knowledge_base"
    refused(data, "reference to unknown question 'knowledge_base'")


# --- Approaches ----------------------------------------------------------------------------


def test_a_weight_effect_on_an_unknown_approach_is_refused():
    data = v1_data()
    weight_on(data, "budget")["effect"]["prompting"] = 5
    refused(data, "weight on budget names unknown approaches ['prompting']")


def test_a_rule_ruling_out_an_unknown_approach_is_refused():
    data = v1_data()
    rule(data, "retrieval_impossible")["rules_out"] = ["rag", "hybrid", "agents"]
    refused(data, "rule retrieval_impossible names unknown approaches ['agents']")


def test_an_unknown_approach_in_the_approaches_table_is_refused():
    data = v1_data()
    data["approaches"]["agents"] = {"label": "Agents", "summary": "Tools in a loop."}
    refused(data, "approaches names unknown approaches ['agents']")


@pytest.mark.parametrize(
    "missing", [["hybrid"], ["fine_tune", "rag"], ["fine_tune", "hybrid", "rag"]]
)
def test_an_approaches_table_lacking_an_approach_is_refused(missing):
    data = v1_data()
    for approach in missing:
        del data["approaches"][approach]
    refused(data, f"approaches lacks {missing}")


# --- Labels --------------------------------------------------------------------------------


def test_a_readiness_label_missing_is_refused():
    data = v1_data()
    del data["labels"]["readiness"]["not_ready"]
    refused(data, "labels.readiness must name exactly ['ready', 'not_ready'], not ['ready']")


def test_an_extra_confidence_label_is_refused():
    data = v1_data()
    data["labels"]["confidence"]["certain"] = "Certain"
    refused(
        data,
        "labels.confidence must name exactly ['high', 'medium', 'low'], "
        "not ['certain', 'high', 'low', 'medium']",
    )


def test_a_missing_confidence_table_is_refused():
    data = v1_data()
    del data["labels"]["confidence"]
    refused(data, "labels.confidence must name exactly ['high', 'medium', 'low'], not []")


def test_a_rubric_without_labels_is_refused():
    data = v1_data()
    del data["labels"]
    refused(data, "labels.readiness must name exactly ['ready', 'not_ready'], not []")
