"""`python manage.py score FILE|-` under rubric v1 (`--rubric v1`, since v2 is the current
rubric): JSON on stdout, or one line per problem and exit 2."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from assessments.examples import load_scenarios
from assessments.scoring import score
from assessments.validation import clean_answers
from tests.conftest import scenario_answers

ROOT = Path(__file__).resolve().parent.parent
V1 = ("--rubric", "v1")


def run_score(*args, stdin=""):
    return subprocess.run(
        [sys.executable, "manage.py", "score", *args, *V1],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("scenario", load_scenarios(), ids=lambda s: s["id"])
def test_score_answers_every_scenario_with_the_full_result(scenario, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": scenario["answers"]}))
    out = io.StringIO()

    call_command("score", str(path), *V1, stdout=out)

    result = json.loads(out.getvalue())
    assert result["verdict"] == scenario["expect"]["verdict"]
    assert result["readiness"] == scenario["expect"]["readiness"]
    expected_keys = {
        "verdict", "confidence", "readiness", "blockers", "scores", "signals", "rationale",
        "flips", "warnings", "next_steps", "rubric_version",
    }  # fmt: skip
    assert expected_keys <= set(result)
    assert len(result["signals"]) == 8
    assert all({"id", "raised", "leans"} <= set(s) for s in result["signals"])
    assert all({"code", "message"} <= set(w) for w in result["warnings"])


def test_score_reads_standard_input():
    scenario = load_scenarios()[0]
    completed = run_score("-", stdin=json.dumps({"answers": scenario["answers"]}))
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["verdict"] == scenario["expect"]["verdict"]


def test_text_format_is_a_readable_summary():
    scenario = load_scenarios()[0]
    completed = run_score("-", "--format", "text", stdin=json.dumps(scenario))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Verdict:    RAG")
    for heading in ("Why:", "What would change the verdict:", "Warnings:", "Next steps:"):
        assert heading in completed.stdout


def test_text_format_names_verdict_readiness_and_scores_with_the_rubric_labels(rubric, tmp_path):
    answers = scenario_answers("tone-rewriter")  # fine-tuning, but not ready to start
    result = score(clean_answers(answers, rubric), rubric)
    assert (result.verdict, result.readiness) == ("fine_tune", "not_ready")
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": answers}))
    out = io.StringIO()

    call_command("score", str(path), "--format", "text", *V1, stdout=out)

    lines = out.getvalue().splitlines()
    verdict = rubric.verdict_label(result.verdict)
    confidence = rubric.confidence_label(result.confidence).lower()
    assert lines[0] == f"Verdict:    {verdict} ({confidence} confidence)"
    assert lines[1] == f"Readiness:  {rubric.readiness_label(result.readiness)}"
    assert lines[1] == "Readiness:  Not ready"
    [scores] = [line for line in lines if line.startswith("Scores:")]
    for approach, value in result.scores.items():
        assert f"{rubric.verdict_label(approach)} {value}" in scores
    start = lines.index("Signals:") + 1
    signal_lines = lines[start : start + len(result.signals)]
    for line, signal in zip(signal_lines, result.signals, strict=True):
        assert line.endswith(f"{signal['label']} (leans {rubric.verdict_label(signal['leans'])})")


@pytest.mark.parametrize(
    ("stdin", "expected_lines"),
    [
        ("{not json", ["-: malformed JSON"]),
        ("[1, 2]", ['input: expected an object of the form {"answers": {...}}']),
        ('{"answers": 5}', ["answers: must be an object"]),
    ],
)
def test_malformed_input_exits_2_with_one_line_per_problem(stdin, expected_lines):
    completed = run_score("-", stdin=stdin)
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == len(expected_lines)
    for line, expected in zip(lines, expected_lines, strict=True):
        assert line.startswith(expected)
    assert "Traceback" not in completed.stderr


def test_every_problem_gets_its_own_line_naming_the_question():
    answers = dict(load_scenarios()[0]["answers"])
    answers.update(latency="slow", knowledge_needs=["none", "documents"], colour="red")
    del answers["budget"]
    completed = run_score("-", stdin=json.dumps({"answers": answers}))
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = sorted(completed.stderr.strip().splitlines())
    assert [line.split(":")[0] for line in lines] == [
        "budget",
        "colour",
        "knowledge_needs",
        "latency",
    ]
    assert "Traceback" not in completed.stderr


def test_missing_file_is_a_clean_error(tmp_path):
    completed = run_score(str(tmp_path / "nope.json"))
    assert completed.returncode == 2
    assert "cannot read" in completed.stderr
    assert "Traceback" not in completed.stderr
