"""Loading a rubric refuses inconsistent data: each RubricError, named exactly.

Each broken rubric is v1.toml with one thing broken, so the error can only come from that.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib
from typing import Any

import pytest

from assessments.lanes.rubric import check_upgrade
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
    assert parsed.questions and parsed.rules and parsed.signals


def test_the_v1_rubric_moves_scores_with_weights():
    assert parse_rubric(v1_data()).weights  # v2 decides with lane rules instead (below)


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


# --- Rubric v2 (lanes): every reference checked on load --------------------------------------

V2 = read_toml("v2")


def v2_data() -> dict[str, Any]:
    """A fresh copy of v2's data, free to break."""
    return copy.deepcopy(V2)


def lane_rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for lane in data["lanes"] for r in lane["rules"] if r["id"] == rule_id)


def v2_entry(data: dict[str, Any], table: str, code: str) -> dict[str, Any]:
    return next(e for e in data[table] if e["code"] == code)


def v2_question(data: dict[str, Any], question_id: str) -> dict[str, Any]:
    return next(q for s in data["sections"] for q in s["questions"] if q["id"] == question_id)


def test_an_unbroken_v2_copy_parses_to_the_loaded_rubric():
    assert parse_rubric(v2_data()) == load_rubric("v2")
    assert [rule.id for rule in load_rubric("v2").rules] == [
        "K0", "K1", "K2", "K3", "K4", "K5", "B0", "B1", "B2", "B3", "B4",
    ]  # fmt: skip


K3 = "lane rule K3: "


def _break_k3(when: Any) -> dict[str, Any]:
    data = v2_data()
    lane_rule(data, "K3")["when"] = when
    return data


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            {"answer": "kb_sise", "in": ["under_50k"]},
            K3 + "condition names unknown question 'kb_sise'",
        ),
        (
            {"answer": "kb_size", "in": ["tiny", "under_50k"]},
            K3 + "condition on 'kb_size' names unknown choices ['tiny']",
        ),
        (
            {"answer": "kb_size", "includes": ["under_50k"]},
            K3 + "'includes' needs a multi-choice question, 'kb_size' is single",
        ),
        (
            {"answer": "knowledge_needs", "in": ["documents"]},
            K3 + "'in' needs a single-choice question, 'knowledge_needs' is multi",
        ),
        ({"answer": "kb_size", "below": "kb_tiny"}, K3 + "unknown threshold 'kb_tiny'"),
        (
            {"answer": "kb_size", "below": "high_volume"},
            K3 + "threshold 'high_volume' is about 'monthly_queries', not 'kb_size'",
        ),
        ({"is": "kb_fits"}, K3 + "unknown named condition 'kb_fits'"),
        ({"answer": "kb_size", "in": []}, K3 + "'in' must be a non-empty list of ids"),
        (
            {"answer": "kb_size", "equals": "under_50k"},
            K3 + "malformed condition {'answer': 'kb_size', 'equals': 'under_50k'}",
        ),
        ({"some": []}, K3 + "malformed condition {'some': []}"),
        ({"all": []}, K3 + "'all' must be a non-empty list of conditions"),
        (
            {"lane": "knowledge", "in": ["retrieval"]},
            K3 + "cannot test lane results, deciding rules or the verdict (they are not known yet)",
        ),
        (
            {"is": "fine_tuning"},
            K3 + "cannot test lane results, deciding rules or the verdict (they are not known yet)",
        ),
    ],
)
def test_a_broken_lane_rule_condition_is_refused(when, message):
    refused(_break_k3(when), message)


RL = "warning retrieval_latency: "


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            {"lane": "knowlege", "in": ["retrieval"]},
            RL + "unknown lane 'knowlege'",
        ),
        (
            {"lane": "knowledge", "in": ["rag"]},
            RL + "lane 'knowledge' has no values ['rag']",
        ),
        ({"decided_by": ["K9", "K1"]}, RL + "unknown lane rules ['K9']"),
        ({"verdict": ["agents"]}, RL + "unknown verdicts ['agents']"),
    ],
)
def test_a_broken_reference_to_a_lane_result_is_refused(when, message):
    data = v2_data()
    v2_entry(data, "warnings", "retrieval_latency")["when"] = when
    refused(data, message)


@pytest.mark.parametrize("table", ["blockers", "soft_spots", "warnings", "next_steps"])
def test_a_duplicate_code_is_refused(table):
    data = v2_data()
    data[table].append(copy.deepcopy(data[table][0]))
    what = {"soft_spots": "soft spot", "next_steps": "next step"}.get(table, table[:-1])
    refused(data, f"duplicate {what} {data[table][0]['code']!r}")


def test_a_duplicate_lane_rule_id_is_refused():
    data = v2_data()
    lane_rule(data, "B3")["id"] = "B2"
    refused(data, "duplicate lane rule 'B2'")


def test_a_duplicate_question_id_is_refused():
    data = v2_data()
    v2_question(data, "budget")["id"] = "latency"
    refused(data, "duplicate question 'latency'")


def test_an_effect_about_an_unknown_question_is_refused():
    data = v2_data()
    v2_entry(data, "blockers", "no_eval_set")["question"] = "evals"
    refused(data, "blocker no_eval_set names unknown questions ['evals']")


def test_a_lane_rule_giving_an_unknown_lane_value_is_refused():
    data = v2_data()
    lane_rule(data, "K3")["then"] = "prompt"
    refused(data, K3 + "lane 'knowledge' has no value 'prompt'")


def test_a_lane_without_a_final_rule_that_always_applies_is_refused():
    data = v2_data()
    lane_rule(data, "K5")["when"] = {"answer": "kb_size", "in": ["over_1m"]}
    refused(
        data,
        "lane 'knowledge': the last rule must have no `when`, so every answer set gets a value",
    )


def test_rule_cases_must_end_with_an_unconditional_case():
    data = v2_data()
    lane_rule(data, "K1")["cases"][-1]["when"] = {"answer": "kb_size", "in": ["over_1m"]}
    refused(data, "lane rule K1: the last case must have no `when`")


def test_a_verdict_table_row_naming_an_unknown_verdict_is_refused():
    data = v2_data()
    data["verdicts"]["table"][0]["verdict"] = "agents"
    refused(data, "verdict table row 1: unknown verdict 'agents'")


def test_a_verdict_table_missing_a_lane_combination_is_refused():
    data = v2_data()
    del data["verdicts"]["table"][0]
    refused(
        data,
        "verdict table has 0 verdicts for knowledge=none, behaviour=prompting "
        "(it needs exactly one)",
    )


def test_a_verdict_table_with_two_verdicts_for_one_combination_is_refused():
    data = v2_data()
    data["verdicts"]["table"][1]["behaviour"] = ["none", "prompting", "fine_tune"]
    refused(
        data,
        "verdict table has 2 verdicts for knowledge=in_context, behaviour=fine_tune "
        "(it needs exactly one)",
    )


def test_named_conditions_in_a_circle_are_refused():
    data = v2_data()
    data["conditions"]["knowledge"] = {"is": "behaviour"}
    data["conditions"]["behaviour"] = {"is": "knowledge"}
    refused(
        data,
        "named conditions refer to each other in a circle: knowledge -> behaviour -> knowledge",
    )


def test_an_ask_if_reading_a_later_question_is_refused():
    data = v2_data()
    v2_question(data, "kb_size")["ask_if"] = {"answer": "eval_set", "in": ["small"]}
    refused(data, "ask_if of 'kb_size' reads ['eval_set'], which are not asked before it")


def test_a_question_asked_only_sometimes_must_say_when_in_words():
    data = v2_data()
    del v2_question(data, "kb_size")["asked_when"]
    refused(data, "question 'kb_size' has an ask_if but no asked_when")


def test_a_question_always_asked_cannot_say_it_is_asked_only_sometimes():
    data = v2_data()
    v2_question(data, "eval_set")["asked_when"] = "Asked when you have one."
    refused(data, "question 'eval_set' has asked_when but no ask_if")


def test_a_threshold_outside_the_questions_order_is_refused():
    data = v2_data()
    data["thresholds"]["kb_context_limit"]["choice"] = "unknown"
    refused(data, "threshold 'kb_context_limit': 'unknown' is not in the order of 'kb_size'")


def test_a_flip_action_on_an_unknown_question_is_refused():
    data = v2_data()
    data["flips"]["action"].append("hire")
    refused(data, "flips.action names unknown questions ['hire']")


def test_a_v2_rubric_without_confidence_labels_is_refused():
    data = v2_data()
    del data["labels"]["confidence"]
    refused(data, "labels.confidence must name exactly ['high', 'medium', 'low'], not []")


def test_an_unknown_engine_is_refused():
    data = v2_data()
    data["engine"] = "vibes"
    refused(data, "unknown engine 'vibes'")


def test_a_v2_signal_informing_an_unknown_lane_is_refused():
    data = v2_data()
    next(s for s in data["signals"] if s["id"] == "limited_infra_budget")["lane"] = "budget"
    refused(data, "signal limited_infra_budget informs unknown lane 'budget'")


# --- Rubric v2's [upgrade] table: the v1 -> v2 mapping, checked against both rubrics ----------


def _set_path(path: str, value: Any) -> Any:
    """A change to a table (v2's [upgrade], or the whole rubric data): set (or, with value
    None, delete) the value at the dotted `path`."""

    def change(table: dict[str, Any]) -> None:
        *parents, key = path.split(".")
        for parent in parents:
            table = table[parent]
        if value is None:
            del table[key]
        else:
            table[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set_path("from", "v0"), "upgrade.from: unknown rubric version 'v0'"),
        (_set_path("from", "v2"), "upgrade.from names this rubric's own version 'v2'"),
        (
            _set_path("renames.kb_size", {"under_50k": "under_50k"}),
            "upgrade.renames: 'kb_size' is not a question of v1",
        ),
        (
            _set_path("renames.eval_set", {"yes": "small", "no": "none", "maybe": "small"}),
            "upgrade.renames of 'eval_set': v1 has no choices ['maybe']",
        ),
        (
            _set_path("renames.eval_set", {"yes": "medium", "no": "none"}),
            "upgrade.renames of 'eval_set': v2 has no choices ['medium']",
        ),
        (
            _set_path("renames.eval_set", "small"),
            "upgrade.renames of 'eval_set' must map v1 choices to v2 choices",
        ),
        (
            _set_path("left_unanswered.kb_size", {"why": "v1 did not ask it."}),
            "upgrade.left_unanswered: 'kb_size' is not a question of v1",
        ),
        (
            _set_path("left_unanswered.labeled_examples.choices", ["under_200", "under_20"]),
            "upgrade.left_unanswered of 'labeled_examples': v1 has no choices ['under_20']",
        ),
        (
            _set_path("left_unanswered.labeled_examples.choices", ["under_200", "200_999"]),
            "upgrade.left_unanswered of 'labeled_examples': ['200_999'] are choices of v2 too "
            "(they are copied as is)",
        ),
        (
            _set_path(
                "left_unanswered.prompt_baseline.choices", ["below_80", "above_80", "not_tried"]
            ),
            "upgrade.left_unanswered of 'prompt_baseline': ['not_tried'] are renamed too",
        ),
        (
            _set_path("left_unanswered.eval_set", {"why": "Asked differently now."}),
            "upgrade.left_unanswered of 'eval_set': ['no', 'yes'] are renamed too",
        ),
        (
            _set_path("left_unanswered.labeled_examples.why", None),
            "upgrade.left_unanswered of 'labeled_examples' needs a `why`",
        ),
        (
            _set_path("left_unanswered.labeled_examples.choices", []),
            "upgrade.left_unanswered of 'labeled_examples': `choices` must be a non-empty list "
            "of ids (leave it out to leave every answer unanswered)",
        ),
        (
            _set_path("worth_checking.kb_size", {"why": "v1 did not ask it."}),
            "upgrade.worth_checking: 'kb_size' is not a question of v1",
        ),
        (
            _set_path("worth_checking.retrieval_possible.choices", ["no", "maybe"]),
            "upgrade.worth_checking of 'retrieval_possible': v1 has no choices ['maybe']",
        ),
        (
            _set_path("worth_checking.labeled_examples", {"choices": ["under_200"], "why": "x"}),
            "upgrade.worth_checking of 'labeled_examples': ['under_200'] are left unanswered "
            "(only a carried answer can be worth checking)",
        ),
        (
            _set_path("worth_checking.retrieval_possible.why", ""),
            "upgrade.worth_checking of 'retrieval_possible' needs a `why`",
        ),
        (
            _set_path("worth_checking.retrieval_possible.choices", "no"),
            "upgrade.worth_checking of 'retrieval_possible': `choices` must be a non-empty list "
            "of ids (leave it out to flag every answer)",
        ),
        (
            _set_path("renames.eval_set", None),
            "upgrade from v1: choices ['yes', 'no'] of 'eval_set' are not in v2, not renamed "
            "and not left unanswered",
        ),
        (
            _set_path("left_unanswered.labeled_examples", None),
            "upgrade from v1: choices ['under_200'] of 'labeled_examples' are not in v2, not "
            "renamed and not left unanswered",
        ),
    ],
)
def test_a_broken_upgrade_table_is_refused(change, message):
    data = v2_data()
    change(data["upgrade"])
    refused(data, message)


def test_every_answer_to_a_question_can_be_left_unanswered_with_one_why():
    data = v2_data()
    data["upgrade"]["left_unanswered"]["budget"] = {"why": "Asked differently now."}

    left = parse_rubric(data).upgrade.left_unanswered["budget"]

    assert (left.choices, left.why) == (frozenset(), "Asked differently now.")


def _v2_questions_where(question_id: str, **change: Any) -> dict[str, Any]:
    """v2's questions with one changed (kind=...) or, without a change, gone."""
    questions = dict(load_rubric("v2").questions)
    if change:
        questions[question_id] = dataclasses.replace(questions[question_id], **change)
    else:
        del questions[question_id]
    return questions


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        (
            _v2_questions_where("eval_set"),
            "upgrade.renames: 'eval_set' is not a question of v2",
        ),
        (
            _v2_questions_where("budget"),
            "upgrade from v1: 'budget' is not a question of v2: leave it unanswered",
        ),
        (
            _v2_questions_where("budget", kind="multi"),
            "upgrade from v1: 'budget' is multi in v2: leave it unanswered",
        ),
    ],
)
def test_an_upgrade_naming_what_the_new_rubric_lacks_is_refused(questions, message):
    upgrade = load_rubric("v2").upgrade
    with pytest.raises(RubricError, match=f"^{re.escape(message)}$"):
        check_upgrade(upgrade, load_rubric("v1"), questions, "v2")


# --- Rubric v2: every flip has its sentence ([flips.text]) ------------------------------------


def _flip_text(data: dict[str, Any]) -> dict[str, Any]:
    return data["flips"]["text"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["flips"].update(text=["x"]), "flips.text must be a table of questions"),
        (_set_path("flips.text.hire", {"to": {}}), "flips.text names unknown questions ['hire']"),
        (
            _set_path("flips.text.kb_size", None),
            "flips.text has no wording for 'kb_size', whose answer can change the verdict",
        ),
        (
            # read by the ask_if of most knowledge questions
            _set_path("flips.text.knowledge_needs", None),
            "flips.text has no wording for 'knowledge_needs', whose answer can change the verdict",
        ),
        (
            # an action: worded even while no lane rule reads it
            _set_path("flips.text.team_ml", None),
            "flips.text has no wording for 'team_ml', whose answer can change the verdict",
        ),
        (_set_path("flips.text.latency", "fast"), "flips.text.latency must be a table"),
        (
            _set_path("flips.text.latency.up", {"realtime": "If it were fast"}),
            "flips.text.latency: single questions without an order take ['to'], not ['up']",
        ),
        (
            _set_path("flips.text.monthly_queries.to", {}),
            "flips.text.monthly_queries: integer questions take ['below', 'reached'], not ['to']",
        ),
        (
            _set_path("flips.text.latency.situations", ["batch"]),
            "flips.text.latency.situations: 'latency' is not an action question",
        ),
        (
            _set_path("flips.text.eval_set.situations", "none"),
            "flips.text.eval_set.situations must be a list of choices",
        ),
        (
            _set_path("flips.text.eval_set.situations", ["nothing"]),
            "flips.text.eval_set.situations names unknown choices ['nothing']",
        ),
        (
            _set_path("flips.text.latency.to.batch", ""),
            "flips.text.latency.to must map choices to text",
        ),
        (
            _set_path("flips.text.latency.to.slow", "If it were slow"),
            "flips.text.latency.to names unknown choices ['slow']",
        ),
        (
            _set_path("flips.text.latency.to.batch", None),
            "flips.text.latency has no sentence for a change to 'batch'",
        ),
        (
            # outside the order: `to` is the only way there
            _set_path("flips.text.kb_size.to.unknown", None),
            "flips.text.kb_size has no sentence for a change to 'unknown'",
        ),
        (
            # reachable from `unknown`, outside the order
            _set_path("flips.text.kb_size.to.over_1m", None),
            "flips.text.kb_size has no sentence for a change to 'over_1m'",
        ),
        (
            _set_path("flips.text.labeled_examples.up.200_999", None),
            "flips.text.labeled_examples has no sentence for a change up to '200_999'",
        ),
        (
            _set_path("flips.text.labeled_examples.down.none", None),
            "flips.text.labeled_examples has no sentence for a change down to 'none'",
        ),
        (
            _set_path("flips.text.knowledge_needs.add", "If you also needed more"),
            "flips.text.knowledge_needs.add must be text containing {choice}",
        ),
        (
            _set_path("flips.text.knowledge_needs.remove", None),
            "flips.text.knowledge_needs.remove must be text containing {choice}",
        ),
        (
            _set_path("flips.text.knowledge_needs.phrases.catalog", None),
            "flips.text.knowledge_needs.phrases has no phrase for 'catalog'",
        ),
        (
            _set_path("flips.text.knowledge_needs.to", {}),
            "flips.text.knowledge_needs has no sentence for a change to 'none'",
        ),
        (
            _set_path("flips.text.monthly_queries.reached", "If volume grew"),
            "flips.text.monthly_queries.reached must be text containing {threshold}",
        ),
    ],
)
def test_flip_wording_missing_or_broken_is_refused(change, message):
    data = v2_data()
    change(data)
    refused(data, message)


def test_a_question_no_rule_reads_needs_no_flip_wording():
    data = v2_data()
    assert "budget" not in _flip_text(data)  # read by warnings only: it never flips
    assert "budget" not in parse_rubric(data).flip_wording


def test_a_verdict_label_can_depend_on_the_lanes_that_led_to_it():
    v2 = load_rubric("v2")

    assert v2.verdict_label("hybrid") == "Hybrid (fine-tuning + RAG)"
    retrieval = {"knowledge": "retrieval", "behaviour": "fine_tune"}
    in_prompt = {"knowledge": "in_context", "behaviour": "fine_tune"}
    assert v2.verdict_label("hybrid", retrieval) == "Hybrid (fine-tuning + RAG)"
    assert v2.verdict_label("hybrid", in_prompt) == "Hybrid (fine-tuning + knowledge in the prompt)"
    assert v2.verdict_label("rag", {"knowledge": "retrieval", "behaviour": "none"}) == "RAG"
    # Rubric v1 has no lanes: the same call, the same label.
    assert load_rubric("v1").verdict_label("hybrid", in_prompt) == "Hybrid"


@pytest.mark.parametrize(
    "entry",
    [
        {"lane": "knowledge", "value": "nearby", "label": "Hybrid (fine-tuning + nearby)"},
        {"lane": "memory", "value": "in_context", "label": "Hybrid (memory)"},
        {"lane": "knowledge", "value": "in_context", "label": ""},
    ],
)
def test_a_label_by_lane_must_name_a_lane_one_of_its_values_and_a_label(entry):
    data = v2_data()
    hybrid = next(a for a in data["approaches"] if a["id"] == "hybrid")
    hybrid["labels_by_lane"] = [entry]
    refused(
        data,
        f"approach hybrid labels_by_lane: {entry!r} must name a lane, one of its values and a "
        "label",
    )
