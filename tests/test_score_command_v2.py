"""`python manage.py score` under rubric v2: the version from the input or --rubric, the v2
result shape, a readable summary, and bad input refused without a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from assessments.rubric import CURRENT_VERSION, load_rubric
from tests.test_scoring_v2 import BASE, SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
V2 = load_rubric("v2")
V2_KEYS = {
    "rubric_version", "verdict", "lanes", "confidence", "soft_spots", "readiness", "blockers",
    "signals", "rationale", "alternatives", "flips", "warnings", "next_steps", "not_asked",
}  # fmt: skip


def run_score(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "score", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def call_score(tmp_path: Path, payload: dict, *args: str) -> str:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(payload))
    out = io.StringIO()
    call_command("score", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_score_gives_every_worked_v2_case_its_expected_result(scenario, tmp_path):
    payload = {"rubric_version": "v2", "answers": scenario["answers"]}

    result = json.loads(call_score(tmp_path, payload))

    expect = scenario["expect"]
    assert set(result) >= V2_KEYS
    assert result["rubric_version"] == "v2"
    assert (result["verdict"], result["lanes"]) == (expect["verdict"], expect["lanes"])
    assert result["readiness"] == expect["readiness"]
    assert sorted(b["code"] for b in result["blockers"]) == sorted(expect["blockers"])
    assert result["confidence"] == expect["confidence"]
    assert sorted(s["code"] for s in result["soft_spots"]) == sorted(expect["soft_spots"])
    codes = {w["code"] for w in result["warnings"]}
    assert set(expect["warnings_include"]) <= codes
    assert not set(expect["warnings_exclude"]) & codes
    assert "scores" not in result  # no 0-100 scores in v2


def test_rubric_option_overrides_the_inputs_version(tmp_path):
    result = json.loads(call_score(tmp_path, {"answers": BASE}, "--rubric", "v2"))
    assert result["rubric_version"] == "v2"


def test_without_a_version_the_current_rubric_is_used():
    completed = run_score("-", stdin=json.dumps({"answers": BASE}))
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["rubric_version"] == CURRENT_VERSION == "v2"


def test_an_unknown_rubric_version_in_the_input_is_bad_input():
    completed = run_score("-", stdin=json.dumps({"rubric_version": "v9" * 1000, "answers": BASE}))
    assert completed.returncode == 2
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("rubric_version: unknown rubric version")
    assert len(line) < 200
    assert "Traceback" not in completed.stderr


def test_text_format_is_a_readable_v2_summary_with_the_rubric_labels(tmp_path):
    text = call_score(tmp_path, {"rubric_version": "v2", "answers": BASE}, "--format", "text")
    lines = text.splitlines()
    assert lines[0] == "Verdict:    Hybrid (fine-tuning + RAG) (high confidence)"
    assert lines[1] == "Lanes:      Knowledge: retrieval · Behaviour: fine-tuning"
    assert lines[2] == "Readiness:  Ready"
    for heading in (
        "Why:", "The other approaches:", "Signals:", "What would change the verdict:",
        "Warnings:", "Next steps:",
    ):  # fmt: skip
        assert heading in lines
    # What would change it: the rubric's sentences, actions first, each with its verdict.
    flips = lines[lines.index("What would change the verdict:") + 1 : lines.index("Warnings:") - 1]
    assert flips == [
        "  Things you can do:",
        "    - Improve prompting until it meets your bar → RAG",
        "  If the situation were different:",
        "    - If the model needed nothing beyond what a base model knows → Fine-tuning",
        "    - If nothing could be looked up at request time → Fine-tuning",
        "    - If the model needed no change in behaviour → RAG",
        "    - If prompting had not been measured (assumed enough until it is) → RAG",
        "    - If you could not fine-tune the model you would use → RAG",
    ]


def test_json_flips_carry_their_sentence_beside_the_spec_fields(tmp_path):
    result = json.loads(call_score(tmp_path, {"rubric_version": "v2", "answers": BASE}))
    assert result["flips"][0] == {
        "question": "prompt_baseline",
        "from": "far",
        "to": "meets",
        "verdict": "rag",
        "lanes": {"knowledge": "retrieval", "behaviour": "prompting"},
        "kind": "action",
        "text": "Improve prompting until it meets your bar",
    }
    assert all(set(flip) == {"question", "from", "to", "verdict", "lanes", "kind", "text"}
               for flip in result["flips"])  # fmt: skip


def test_text_format_lists_blockers_and_questions_not_asked(tmp_path):
    answers = {**BASE, "knowledge_needs": ["none"], "eval_set": "none"}
    text = call_score(tmp_path, {"rubric_version": "v2", "answers": answers}, "--format", "text")
    assert "Readiness:  Not ready" in text
    assert "There is no evaluation set" in text
    assert "Not asked (ignored): Knowledge changes" in text


def test_every_problem_gets_its_own_line_naming_the_question():
    answers = dict(BASE)
    answers.update(latency="slow", knowledge_needs=["none", "documents"], colour="red")
    del answers["budget"]
    completed = run_score("-", stdin=json.dumps({"rubric_version": "v2", "answers": answers}))
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = sorted(completed.stderr.strip().splitlines())
    assert [line.split(":")[0] for line in lines] == [
        "budget",
        "colour",
        "knowledge_needs",
        "latency",
    ]


def test_a_missing_asked_question_is_named_and_an_unasked_one_is_not():
    answers = {k: v for k, v in BASE.items() if k not in {"kb_size", "prompt_baseline"}}
    answers["behavior_needs"] = ["none"]
    completed = run_score("-", stdin=json.dumps({"rubric_version": "v2", "answers": answers}))
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == ["kb_size: is required but was not answered"]


@pytest.mark.parametrize(
    "answers",
    [
        {**BASE, "latency": "x" * 100_000},
        {**BASE, "knowledge_needs": ["x" * 100_000]},
        {**BASE, "y" * 100_000: "z"},
        {**BASE, "monthly_queries": "9" * 100_000},
    ],
    ids=["single", "multi", "question id", "number as text"],
)
def test_a_huge_answer_is_never_echoed_whole(answers):
    completed = run_score("-", stdin=json.dumps({"rubric_version": "v2", "answers": answers}))
    assert completed.returncode == 2
    assert len(completed.stderr) < 500
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    "stdin",
    [
        "[" * 100_000,
        '{"answers": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"rubric_version": "v2", "answers": {"monthly_queries": ' + "9" * 5000 + "}}",
        '{"rubric_version": "v2", "answers": {"monthly_queries": ' + "9" * 4000 + "}}",
        '{"rubric_version": "v2", "answers": {"monthly_queries": 1e400}}',
        '{"rubric_version": ["v2"], "answers": {}}',
        "",
    ],
    ids=["deep", "deep answers", "huge int", "big int", "infinite", "list version", "empty"],
)
def test_hostile_input_exits_2_without_a_traceback(stdin):
    completed = run_score("-", stdin=stdin)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.strip()
    assert "Traceback" not in completed.stderr
    assert all(len(line) < 200 for line in completed.stderr.splitlines())
