"""`python manage.py estimate`: run the numbers for a complete v2 assessment from the
command line, as JSON or a terminal table, with assumption overrides checked as the page
checks them, and bad input refused with one line per problem (exit 2)."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from assessments.estimator import current_book_id, estimate_for, load_price_book
from assessments.estimator.model import num, usd
from assessments.rubric import load_rubric
from assessments.scoring import score
from assessments.validation import clean_answers
from tests.conftest import scenario_answers

ROOT = Path(__file__).resolve().parent.parent
V2 = load_rubric("v2")
SUPPORT_BOT = scenario_answers("v2-support-bot-hybrid")
APPROACH_KEYS = {
    "label", "monthly_cost_usd", "cost_per_1k_queries_usd", "fixed_monthly_usd",
    "one_off_usd", "added_latency_ms", "first_token_ms", "fits_latency_budget",
    "fits_context", "hosting", "ruled_out", "feasible", "breakdown",
}  # fmt: skip
NUMBERS = ("monthly_cost_usd", "cost_per_1k_queries_usd", "added_latency_ms", "first_token_ms")


def payload(answers: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"rubric_version": "v2", "answers": SUPPORT_BOT if answers is None else answers, **extra}


def call_estimate(tmp_path: Path, data: Any, *args: str) -> str:
    path = tmp_path / "assessment.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    out = io.StringIO()
    call_command("estimate", str(path), *args, stdout=out)
    return out.getvalue()


def refused(tmp_path: Path, data: Any, *args: str) -> list[str]:
    """The lines on stderr of a run that must exit 2 and print nothing on stdout."""
    path = tmp_path / "assessment.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("estimate", str(path), *args, stdout=out, stderr=err)
    assert exited.value.code == 2
    assert out.getvalue() == ""
    return err.getvalue().strip().splitlines()


def library_estimate(scenario_id: str, overrides: dict[str, Any] | None = None):
    answers = clean_answers(scenario_answers(scenario_id), V2)
    book = load_price_book(current_book_id())
    return estimate_for(answers, V2, score(answers, V2), overrides or {}, book)


# --- JSON -------------------------------------------------------------------------------------


def test_json_gives_every_approach_its_numbers_and_names_the_price_book(tmp_path):
    found = json.loads(call_estimate(tmp_path, payload()))

    book = load_price_book(current_book_id())
    assert found["rubric_version"] == "v2"
    assert found["verdict"] == "hybrid"
    assert found["price_book"] == {
        "id": book.id,
        "read_on": book.read_on.isoformat(),
        "title": book.title,
    }
    assert found["monthly_queries"] == 20_000
    assert set(found["approaches"]) == {a.id for a in V2.approaches}
    for approach in found["approaches"].values():
        assert set(approach) >= APPROACH_KEYS
        assert all(math.isfinite(approach[key]) for key in NUMBERS)
        assert set(approach["breakdown"]) == {
            "input", "cached_input", "output", "retrieval", "training", "hosting",
        }  # fmt: skip
        assert approach["fits_latency_budget"] in (True, False)  # interactive: a budget
    assert found["cheapest"] == "hybrid"
    assert found["approaches"]["hybrid"]["ruled_out"] is None
    assert found["approaches"]["prompt_only"]["ruled_out"] == (
        "The model must know things a base model doesn't."
    )
    assert len(found["sensitivity"]) == 3


def test_json_is_the_estimators_own_figures(tmp_path):
    found = json.loads(call_estimate(tmp_path, payload()))

    expected = library_estimate("v2-support-bot-hybrid").to_dict()
    assert found["approaches"] == expected["approaches"]
    assert found["break_even"] == expected["break_even"]
    assert found["assumptions"] == expected["assumptions"]
    # Prompting's output line by hand: 20,000 queries × 300 tokens × the output price per 1M.
    offer = load_price_book(current_book_id()).offer(
        "generation", found["assumptions"]["generation_model"]
    )
    output = found["approaches"]["prompt_only"]["breakdown"]["output"]
    assert output == round(20_000 * 300 * offer["output"] / 1_000_000, 2)


def test_the_price_book_is_chosen_by_its_month(tmp_path):
    found = json.loads(call_estimate(tmp_path, payload(), "--price-book", current_book_id()))
    assert found["price_book"]["id"] == current_book_id()


def test_reads_standard_input(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(payload())))
    out = io.StringIO()
    call_command("estimate", "-", stdout=out)
    assert json.loads(out.getvalue())["cheapest"] == "hybrid"


def test_the_rubric_option_overrides_the_inputs_version(tmp_path):
    found = json.loads(call_estimate(tmp_path, {"answers": SUPPORT_BOT}, "--rubric", "v2"))
    assert found["rubric_version"] == "v2"


# --- overrides --------------------------------------------------------------------------------


def test_doubling_the_output_tokens_doubles_prompting_output_cost(tmp_path):
    before = json.loads(call_estimate(tmp_path, payload()))
    after = json.loads(call_estimate(tmp_path, payload(assumptions={"output_tokens": 600})))

    old, new = before["approaches"]["prompt_only"], after["approaches"]["prompt_only"]
    assert after["assumptions"]["output_tokens"] == 600
    assert new["breakdown"]["output"] == pytest.approx(2 * old["breakdown"]["output"])
    assert new["breakdown"]["input"] == old["breakdown"]["input"]
    assert new["monthly_cost_usd"] == pytest.approx(
        old["monthly_cost_usd"] + old["breakdown"]["output"], abs=0.01
    )


def test_overrides_are_cleaned_as_people_write_them(tmp_path):
    overrides = {"output_tokens": "1,200", "cache_hit_rate": "50%", "use_reranker": "no"}
    found = json.loads(call_estimate(tmp_path, payload(assumptions=overrides)))

    assert found["assumptions"]["output_tokens"] == 1200
    assert found["assumptions"]["cache_hit_rate"] == 0.5
    assert found["assumptions"]["use_reranker"] == "no"
    cleaned = {"output_tokens": 1200.0, "cache_hit_rate": 0.5, "use_reranker": "no"}
    expected = library_estimate("v2-support-bot-hybrid", cleaned).to_dict()
    assert found["approaches"] == expected["approaches"]


# --- text -------------------------------------------------------------------------------------


def test_text_is_a_table_of_every_approach_with_the_cheapest(tmp_path):
    text = call_estimate(tmp_path, payload(), "--format", "text")

    found = library_estimate("v2-support-bot-hybrid")
    lines = text.splitlines()
    assert lines[0].startswith(f"Price book:       {current_book_id()}, ")
    assert lines[2] == "Monthly queries:  20,000"
    for approach in found.approaches:
        [row] = [line for line in lines if line.startswith(f"  {approach.label}  ")]
        assert usd(approach.monthly_cost_usd) in row
        assert row.endswith("yes" if approach.fits_latency_budget else "no")
    hybrid = found.approach("hybrid")
    assert f"Cheapest feasible: {hybrid.label} at {usd(hybrid.monthly_cost_usd)} a month" in lines
    assert "      ruled out: The model must know things a base model doesn't." in lines
    assert "Most sensitive assumptions:" in lines
    sensitive = lines[lines.index("Most sensitive assumptions:") + 1 :]
    assert sensitive[0].startswith("  - Time-to-first-token budget (5,000 ms)")


def test_text_states_the_break_evens(tmp_path):
    text = call_estimate(
        tmp_path, payload(scenario_answers("v2-policy-assistant")), "--format", "text"
    )

    [even] = library_estimate("v2-policy-assistant").break_even
    assert (even.cheaper_below, even.cheaper_above) == ("rag", "hybrid")
    assert (
        f"RAG is cheaper below {num(round(even.monthly_queries))} queries a month, "
        "Hybrid (fine-tuning + RAG) above" in " ".join(text.split())
    )


def test_text_says_when_nothing_is_feasible(tmp_path):
    text = call_estimate(
        tmp_path, payload(scenario_answers("v2-faq-tiny-realtime")), "--format", "text"
    )
    assert "Cheapest feasible: none (every approach is ruled out or misses the budget)" in text


# --- bad input --------------------------------------------------------------------------------

MISSING_BUDGET = {k: v for k, v in SUPPORT_BOT.items() if k != "budget"}


@pytest.mark.parametrize(
    ("data", "args", "expected"),
    [
        ("{not json", (), "assessment.json: malformed JSON: Expecting property name"),
        ({"answers": "all of them"}, (), "answers: must be an object"),
        (payload(MISSING_BUDGET), (), "budget: is required but was not answered"),
        (payload({**SUPPORT_BOT, "latency": "slow"}), (), "latency: "),
        (
            payload(assumptions={"colour": 1}),
            (),
            "assumptions.colour: unknown assumption (known: instruction_tokens, ",
        ),
        (
            payload(assumptions={"output_tokens": "lots"}),
            (),
            "assumptions.output_tokens (Output): enter a number",
        ),
        (
            payload(assumptions={"top_k": 2.5}),
            (),
            "assumptions.top_k (Passages retrieved (top-k)): enter a whole number",
        ),
        (
            payload(assumptions={"cache_hit_rate": 2}),
            (),
            "assumptions.cache_hit_rate (Prompt-cache hits): must be between 0% and 100%",
        ),
        (
            payload(assumptions={"output_tokens": 10**400}),
            (),
            "assumptions.output_tokens (Output): must be between 0 and 200,000",
        ),
        (
            payload(assumptions={"generation_model": "gpt-99"}),
            (),
            "assumptions.generation_model (",
        ),
        (
            payload(assumptions={"use_reranker": ["yes"]}),
            (),
            "assumptions.use_reranker (Reranking): expected a number or text, got a list",
        ),
        (
            payload(assumptions=["output_tokens", 600]),
            (),
            'assumptions: expected an object of the form {"assumption id": value}',
        ),
        (
            {"rubric_version": "v1", "answers": scenario_answers("support-bot")},
            (),
            "rubric v1 has no cost estimate; ",
        ),
        (payload(), ("--rubric", "v1"), "rubric v1 has no cost estimate; "),
        (
            payload(),
            ("--price-book", "2001-01"),
            f"--price-book: unknown price book '2001-01' (available: {current_book_id()}",
        ),
    ],
    ids=[
        "invalid JSON", "answers not an object", "missing answer", "invalid choice",
        "unknown assumption", "not a number", "not whole", "out of range", "huge integer",
        "unknown model", "list for a choice", "assumptions not an object", "v1 input",
        "v1 option", "unknown price book",
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_line_naming_the_problem(tmp_path, data, args, expected):
    [line] = refused(tmp_path, data, *args)
    assert expected in line
    assert line.startswith(expected) or expected.startswith("assessment.json")  # a full path


def test_every_problem_gets_its_own_line(tmp_path):
    data = payload(
        {**MISSING_BUDGET, "latency": "slow"},
        assumptions={"output_tokens": "lots", "colour": 1, "top_k": 3},
    )
    lines = refused(tmp_path, data)
    assert sorted(line.split(":")[0] for line in lines) == [
        "assumptions.colour",
        "assumptions.output_tokens (Output)",
        "budget",
        "latency",
    ]


def test_a_choice_names_its_options():
    lines = _run_cli(json.dumps(payload(assumptions={"use_reranker": "maybe"})))
    assert lines == [
        "assumptions.use_reranker (Reranking): choose one of “Rerank the candidates”; “No reranker”"
    ]


def _run_cli(stdin: str) -> list[str]:
    """The real command line: exit code 2 and no traceback."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "estimate", "-"],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    return completed.stderr.strip().splitlines()
