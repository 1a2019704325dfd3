"""Run the numbers: the formulas against hand-computed cases, and their properties.

The price book here is a small made-up one with round figures (so the arithmetic can be
written out); the real books are checked for consistency at the end.
"""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.estimator import estimate_for, load_config, load_price_book
from assessments.estimator.book import PriceBookError, available_books, parse_price_book
from assessments.estimator.config import InvalidAssumption, consistency_problems
from assessments.estimator.model import break_evens, costs_at, estimate, estimate_all, sensitivity
from assessments.rubric import load_rubric
from assessments.scoring import score
from assessments.validation import clean_answers
from tests.conftest import scenario_answers

V2 = load_rubric("v2")
CONFIG = load_config("v2")
DAY = datetime.date(2026, 12, 1)


def fig(value: float, per: str = "1M tokens") -> dict[str, Any]:
    return {"value": value, "per": per, "source": "https://example.com/prices", "read_on": DAY}


def est(value: float, per: str) -> dict[str, Any]:
    return fig(value, per) | {"estimate": "a round number for the arithmetic"}


# The base model of the hand-worked cases; the others differ from it in one respect each.
BIG = {
    "provider": "Test", "label": "Big model",
    "input": fig(2.0), "cached_input": fig(0.2), "output": fig(10.0),
    "context_window": fig(200_000, "tokens"), "first_token_ms": est(400, "ms"),
    "prefill_tokens_per_s": est(10_000, "tokens/s"),
    "cached_prefill_tokens_per_s": est(100_000, "tokens/s"),
}  # fmt: skip
TEST_BOOK_DATA: dict[str, Any] = {
    "book": {"id": "2000-01", "read_on": DAY, "title": "Test prices"},
    "generation": {
        "big": BIG,
        "tiered": BIG | {
            "label": "Model with long-prompt prices", "context_window": fig(1_000_000, "tokens"),
            "long_prompt_above": fig(100_000, "input tokens"), "long_input": fig(4.0),
            "long_cached_input": fig(0.4), "long_cache_write": fig(5.0), "long_output": fig(15.0),
        },
        "writer": BIG | {"label": "Model that bills cache writes", "cache_write": fig(2.5)},
    },
    "fine_tuning": {
        "small": {
            "provider": "Test", "label": "Small tuned",
            "training": fig(5.0, "1M training tokens"), "input": fig(0.5), "output": fig(2.0),
        },
        "trainer": {"provider": "Test", "label": "Trains only", "training": fig(1.0)},
    },
    "embedding": {"e": {"provider": "Test", "label": "Embedder", "price": fig(0.1),
                        "dimensions": fig(1000, "dimensions")}},
    "vector_store": {
        "vs": {
            "provider": "Test", "label": "Store", "minimum": fig(50, "month"),
            "storage": fig(0.5, "GB-month"), "reads": fig(20, "1M read units"),
            "writes": fig(5, "1M write units"), "read_units_per_gb": fig(1, "read units per GB"),
            "min_read_units": fig(10, "read units per query"),
            "write_units_per_record": est(1, "write units"),
        }
    },
    "reranker": {"r": {"provider": "Test", "label": "Reranker", "price": fig(2.0, "1k searches")}},
    "gpu": {
        "g": {
            "provider": "Test", "label": "GPU", "hourly": fig(3.0, "GPU-hour"),
            "decode_tokens_per_s": est(2_000, "tokens/s"),
            "prefill_tokens_per_s": est(20_000, "tokens/s"),
            "training_tokens_per_s": est(5_000, "tokens/s"),
        }
    },
    "latency": {
        "embedding_ms": est(50, "ms"), "vector_search_ms": est(30, "ms"),
        "rerank_ms": est(100, "ms"),
    },
}  # fmt: skip
BOOK = parse_price_book(TEST_BOOK_DATA)

# Round values, so every sum below can be done by hand.
VALUES: dict[str, Any] = {
    "instruction_tokens": 1000, "few_shot_tokens": 1000, "user_input_tokens": 200,
    "output_tokens": 300, "chunk_tokens": 500, "top_k": 4, "use_reranker": "yes",
    "knowledge_tokens": 1_000_000, "reindex_per_month": 4, "cache_hit_rate": 0.5,
    "training_examples": 600, "example_tokens": 1000, "epochs": 3, "retrain_per_month": 1,
    "behaviour_retrain_per_month": 1,
    "peak_qps": 2, "min_replicas": 1, "latency_budget_ms": 1000, "hosting": "api",
    "fine_tune_hosting": "api", "generation_model": "big", "fine_tuning_offer": "small",
    "embedding_model": "e", "vector_store": "vs", "reranker": "r", "gpu": "g",
}  # fmt: skip


def approaches(values=None, volume: float = 10_000, book=BOOK, **ruled_out):
    found = estimate_all(CONFIG, book, values or VALUES, volume, ruled_out=ruled_out)
    return {a.approach: a for a in found}


# --- the formulas, by hand ---------------------------------------------------------------------


def test_prompting_costs_its_cached_and_uncached_input_and_output():
    prompt = approaches()["prompt_only"]
    # prefix = 1,000 instructions + 1,000 few-shot = 2,000; per query = 200 user tokens
    # input:  10,000 × (0.5 × 2,000 × $2 + 200 × $2) / 1M = 10,000 × 2,400 / 1M = $24
    # cached: 10,000 × 0.5 × 2,000 × $0.2 / 1M                                = $2
    # output: 10,000 × 300 × $10 / 1M                                          = $30
    assert prompt.breakdown["input"] == pytest.approx(24)
    assert prompt.breakdown["cached_input"] == pytest.approx(2)
    assert prompt.breakdown["output"] == pytest.approx(30)
    assert prompt.monthly_cost_usd == pytest.approx(56)
    assert prompt.cost_per_1k_queries_usd == pytest.approx(5.6)
    assert prompt.fixed_monthly_usd == 0


def test_a_cache_write_price_applies_to_the_prefix_that_misses_the_cache():
    prompt = approaches({**VALUES, "generation_model": "writer"})["prompt_only"]
    # input: 10,000 × (0.5 × 2,000 × $2.5 + 200 × $2) / 1M = 10,000 × 2,900 / 1M = $29
    assert prompt.breakdown["input"] == pytest.approx(29)


def test_rag_adds_retrieved_tokens_per_query_and_a_store_and_re_indexing_per_month():
    rag = approaches()["rag"]
    # per query tokens = 200 + 500 × 4 retrieved = 2,200
    # input:  10,000 × (0.5 × 2,000 × $2 + 2,200 × $2) / 1M = $64; cached $2; output $30
    # per query retrieval: 200 × $0.1/1M + 10 RU (the minimum: 0.012 GB × 1 RU per GB is
    # less) × $20/1M + $2/1,000 = $0.00222 → $22.20
    # store: 2,000 chunks × (1,000 × 4 + 500 × 4) bytes = 0.012 GB × $0.5 = $0.006 < $50 min
    # re-index: 4 × (1M × $0.1/1M + 2,000 × 1 WU × $5/1M) = 4 × $0.11 = $0.44
    assert rag.breakdown["input"] == pytest.approx(64)
    assert rag.breakdown["retrieval"] == pytest.approx(22.2 + 50 + 0.44)
    assert rag.fixed_monthly_usd == pytest.approx(50.44)
    assert rag.monthly_cost_usd == pytest.approx(64 + 2 + 30 + 22.2 + 50.44)


def test_without_a_reranker_retrieval_costs_less_and_is_faster():
    with_reranker, without = (
        approaches()["rag"],
        approaches({**VALUES, "use_reranker": "no"})["rag"],
    )
    # $2 per 1,000 reranks × 10,000 queries = $20; and 100 ms less
    assert with_reranker.monthly_cost_usd - without.monthly_cost_usd == pytest.approx(20)
    assert with_reranker.added_latency_ms - without.added_latency_ms == pytest.approx(100)


def test_fine_tuning_sends_no_few_shot_and_pays_for_training_runs():
    tuned = approaches()["fine_tune"]
    # prefix = 1,000 instructions; the offer has no cached price, so cached tokens cost $0.5
    # input:  10,000 × (0.5 × 1,000 × $0.5 + 200 × $0.5) / 1M = $3.50
    # cached: 10,000 × 0.5 × 1,000 × $0.5 / 1M                = $2.50
    # output: 10,000 × 300 × $2 / 1M                           = $6
    # training: 600 examples × 1,000 tokens × 3 epochs = 1.8M tokens × $5/1M = $9 a run × 1/month
    assert tuned.breakdown == pytest.approx(
        {"input": 3.5, "cached_input": 2.5, "output": 6, "retrieval": 0, "training": 9,
         "hosting": 0}
    )  # fmt: skip
    assert tuned.one_off_usd == pytest.approx(9)
    assert tuned.prompt_tokens == 1200


def test_hybrid_is_the_tuned_model_plus_retrieval():
    hybrid = approaches()["hybrid"]
    # input: 10,000 × (0.5 × 1,000 × $0.5 + 2,200 × $0.5) / 1M = $13.50; cached $2.50;
    # output $6; retrieval $72.64 as RAG's; training $9
    assert hybrid.monthly_cost_usd == pytest.approx(13.5 + 2.5 + 6 + 72.64 + 9)


def test_self_hosting_is_sized_by_gpu_seconds_at_peak():
    values = {**VALUES, "hosting": "self_host"}
    # a query: (0.5 × 2,000 + 200) prompt tokens ÷ 20,000/s + 300 ÷ 2,000/s = 0.06 + 0.15 s
    # 2 queries/s × 0.21 s = 0.42 GPU → 1 replica × 730 h × $3 = $2,190
    assert approaches(values)["prompt_only"].monthly_cost_usd == pytest.approx(2190)
    # 10 queries/s × 0.21 s = 2.1 → 3 replicas
    busy = approaches({**values, "peak_qps": 10})["prompt_only"]
    assert busy.monthly_cost_usd == pytest.approx(3 * 2190)
    assert busy.per_query_usd == 0 and busy.hosting == "self_host"


def test_own_gpus_for_the_base_model_mean_own_gpus_for_training_too():
    tuned = approaches({**VALUES, "hosting": "self_host"})["fine_tune"]
    # 1.8M training tokens ÷ 5,000 tokens/s = 360 s = 0.1 GPU-hours × $3 = $0.30 a run
    assert tuned.breakdown["training"] == pytest.approx(0.3)
    assert tuned.hosting == "self_host"


def test_an_offer_that_only_trains_is_served_on_gpus():
    tuned = approaches({**VALUES, "fine_tuning_offer": "trainer"})["fine_tune"]
    # training at the offer's $1 per 1M: 1.8M tokens → $1.80; serving: 1 GPU replica
    assert tuned.breakdown["training"] == pytest.approx(1.8)
    assert tuned.hosting == "self_host"
    assert tuned.breakdown["hosting"] == pytest.approx(2190)


def test_added_latency_is_prompt_processing_and_retrieval_against_the_plain_prompt():
    found = approaches()
    # plain prompt: 0.5 × 2,000 ÷ 10,000 + 0.5 × 2,000 ÷ 100,000 + 200 ÷ 10,000 = 0.13 s
    assert found["prompt_only"].first_token_ms == pytest.approx(400 + 130)
    assert found["prompt_only"].added_latency_ms == pytest.approx(0)
    # RAG: 0.11 + 2,200 ÷ 10,000 = 0.33 s → +200 ms, plus 50 + 30 + 100 ms of retrieval
    assert found["rag"].added_latency_ms == pytest.approx(380)
    assert found["rag"].first_token_ms == pytest.approx(400 + 330 + 180)
    # fine-tuning: its offer has no prompt cache, so all 1,000 + 200 tokens are processed:
    # 0.12 s against the plain prompt's 0.13 s → 10 ms saved
    assert found["fine_tune"].added_latency_ms == pytest.approx(-10)


def test_the_latency_budget_decides_what_fits():
    found = approaches()  # budget 1,000 ms
    assert found["prompt_only"].fits_latency_budget is True
    assert found["rag"].fits_latency_budget is True  # 910 ms
    assert approaches({**VALUES, "latency_budget_ms": 900})["rag"].fits_latency_budget is False
    assert approaches({**VALUES, "latency_budget_ms": None})["rag"].fits_latency_budget is None


def test_long_context_must_fit_the_context_window():
    found = approaches()  # 1M knowledge tokens, a 200,000-token window
    assert found["long_context"].fits_context is False
    assert not found["long_context"].feasible
    small = approaches({**VALUES, "knowledge_tokens": 100_000})["long_context"]
    assert small.fits_context is True


def test_break_even_is_the_fixed_cost_gap_over_the_per_query_gap():
    found = approaches()
    pairs = {(b.cheaper_below, b.cheaper_above): b for b in break_evens(tuple(found.values()))}
    # prompting: $0 fixed, $0.0056 a query; fine-tuning: $9 fixed, $0.0012 a query
    # 9 ÷ (0.0056 − 0.0012) = 2,045.45 queries a month
    assert pairs["prompt_only", "fine_tune"].monthly_queries == pytest.approx(9 / 0.0044)


def test_ruled_out_approaches_keep_their_numbers_and_are_never_cheapest():
    everything = estimate(CONFIG, BOOK, VALUES, 10_000)
    assert everything.cheapest == "fine_tune"
    ruled = estimate(CONFIG, BOOK, VALUES, 10_000, ruled_out={"fine_tune": "no examples"})
    assert ruled.cheapest == "prompt_only"  # $56 a month, the next cheapest
    assert ruled.approach("fine_tune").monthly_cost_usd == pytest.approx(21)
    assert ruled.approach("fine_tune").ruled_out == "no examples"


def test_every_line_shows_its_sums():
    rag = approaches()["rag"]
    assert all(line.sums for line in rag.lines)
    assert "10,000 queries" in rag.lines[0].sums
    assert "$50.00 monthly minimum" in " ".join(line.sums for line in rag.lines)
    assert "search" in rag.latency_sums


def test_sensitivity_names_at_most_three_assumptions_those_that_flip_first():
    found = estimate(CONFIG, BOOK, VALUES, 2_000)  # near the prompting/fine-tuning break-even
    assert 0 < len(found.sensitivity) <= 3
    first = found.sensitivity[0]
    assert first.flips
    assert first.low == pytest.approx(first.value * 0.5) or first.high == pytest.approx(
        first.value * 1.5
    )


def test_zero_volume_costs_only_the_fixed_part():
    found = approaches(volume=0)
    assert found["prompt_only"].monthly_cost_usd == 0
    assert found["prompt_only"].cost_per_1k_queries_usd is None
    assert found["prompt_only"].per_query_usd == pytest.approx(0.0056)
    assert found["rag"].monthly_cost_usd == pytest.approx(50.44)


# --- properties ---------------------------------------------------------------------------------

volumes = st.integers(0, 10**8)
numbers = st.fixed_dictionaries(
    {
        "instruction_tokens": st.integers(0, 20_000),
        "few_shot_tokens": st.integers(0, 20_000),
        "user_input_tokens": st.integers(0, 5_000),
        "output_tokens": st.integers(0, 5_000),
        "knowledge_tokens": st.integers(0, 5_000_000),
        "cache_hit_rate": st.floats(0, 1),
        "hosting": st.sampled_from(["api", "self_host"]),
        "generation_model": st.sampled_from(["big", "writer"]),
        "fine_tuning_offer": st.sampled_from(["small", "trainer"]),
    }
)


@given(numbers, volumes, volumes)
def test_costs_never_fall_as_volume_grows(changes, low, high):
    low, high = sorted((low, high))
    found = tuple(approaches({**VALUES, **changes}, high).values())
    for costs in costs_at(found, (low, high)).values():
        assert costs[0] <= costs[1] + 1e-9


@given(numbers, st.one_of(st.just(0), volumes), st.integers(1, 10**8))
def test_the_chart_s_cost_at_another_volume_is_that_volume_s_estimate(changes, volume, other):
    # The chart scales the estimate: per-query costs with the volume, GPU replicas with the
    # peak it brings. A full estimate at the other volume (peak scaled alike) must agree.
    values = {**VALUES, **changes}
    here = approaches(values, volume)
    # (at zero volume there is no peak to scale: the default's, scale × volume, is used)
    scale = CONFIG.assumptions["peak_qps"].scale
    peak = values["peak_qps"] * other / volume if volume else scale * other
    there = approaches({**values, "peak_qps": peak}, other)
    for approach_id, estimate_here in here.items():
        expected = there[approach_id].monthly_cost_usd
        assert estimate_here.cost_at(other) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@given(numbers, volumes)
def test_more_cache_hits_never_cost_more(changes, volume):
    values = {**VALUES, **changes}
    colder = approaches({**values, "cache_hit_rate": values["cache_hit_rate"] / 2}, volume)
    warmer = approaches(values, volume)
    for approach_id, cost in warmer.items():
        assert cost.monthly_cost_usd <= colder[approach_id].monthly_cost_usd + 1e-6


@given(numbers, volumes)
def test_a_break_even_volume_really_equalises_the_two_costs(changes, volume):
    values = {**VALUES, **changes, "hosting": "api", "fine_tuning_offer": "small"}
    for point in break_evens(tuple(approaches(values, volume).values())):
        at = approaches(values, point.monthly_queries)
        below, above = at[point.cheaper_below], at[point.cheaper_above]
        assert below.monthly_cost_usd == pytest.approx(above.monthly_cost_usd, rel=1e-6)
        assert below.monthly_cost_usd == pytest.approx(point.monthly_cost_usd, rel=1e-6)


@given(numbers, volumes, st.sets(st.sampled_from(sorted(CONFIG.approaches))))
def test_a_ruled_out_approach_is_never_called_cheapest(changes, volume, ruled):
    found = estimate(
        CONFIG, BOOK, {**VALUES, **changes}, volume, ruled_out=dict.fromkeys(ruled, "ruled out")
    )
    assert found.cheapest not in ruled
    if found.cheapest is not None:
        best = found.approach(found.cheapest)
        assert all(
            best.monthly_cost_usd <= a.monthly_cost_usd for a in found.approaches if a.feasible
        )


# --- assumptions ---------------------------------------------------------------------------------


def test_defaults_come_from_the_answers_where_the_file_says_so():
    answers = clean_answers(scenario_answers("v2-support-bot-hybrid"), V2)
    defaults = CONFIG.defaults(answers)
    kb = CONFIG.assumptions["knowledge_tokens"].by_choice
    assert defaults["knowledge_tokens"] == kb[answers["kb_size"]]
    assert defaults["peak_qps"] == pytest.approx(
        answers["monthly_queries"] / 2_592_000 * 3, rel=1e-3
    )
    assert defaults["instruction_tokens"] == 800


def test_a_batch_latency_answer_means_no_budget():
    assert CONFIG.defaults({"latency": "batch"})["latency_budget_ms"] is None
    assert CONFIG.defaults({"latency": "realtime"})["latency_budget_ms"] == 1000


@pytest.mark.parametrize(
    ("assumption", "raw", "expected"),
    [
        ("output_tokens", "1,200", 1200),
        ("cache_hit_rate", "45%", 0.45),
        ("cache_hit_rate", "30", 0.3),  # the page's field is a percentage
        ("cache_hit_rate", 0.3, 0.3),  # JSON (the command, an import) gives the fraction
        ("output_tokens", "1.5k", 1500),
        ("knowledge_tokens", "2M", 2_000_000),
        ("top_k", "8", 8),
        ("latency_budget_ms", "", None),
        ("generation_model", "writer", "writer"),
    ],
)
def test_an_edited_assumption_is_read_as_people_write_it(assumption, raw, expected):
    assert CONFIG.assumptions[assumption].clean(raw, BOOK) == expected


@pytest.mark.parametrize(
    ("assumption", "raw", "message"),
    [
        ("output_tokens", "lots", "Output: enter a number"),
        ("output_tokens", "-5", "Output: must be between 0 and 200,000"),
        ("top_k", "2.5", "Passages retrieved (top-k): enter a whole number"),
        ("cache_hit_rate", "150%", "Prompt-cache hits: must be between 0% and 100%"),
        ("output_tokens", "", "Output: enter a value"),
        ("output_tokens", "nan", "Output: enter a number"),
        ("generation_model", "gpt-99", "Base model: choose one of “Big model”"),
    ],
)
def test_a_bad_assumption_is_refused_with_a_message_naming_it(assumption, raw, message):
    with pytest.raises(InvalidAssumption) as refused:
        CONFIG.assumptions[assumption].clean(raw, BOOK)
    assert refused.value.message.startswith(message)
    assert refused.value.assumption_id == assumption


def test_an_override_a_newer_book_cannot_honour_falls_back_to_the_default():
    values = CONFIG.resolve({}, {"generation_model": "gone", "output_tokens": 999}, BOOK)
    assert values["generation_model"] == CONFIG.assumptions["generation_model"].default
    assert values["output_tokens"] == 999


# --- price books ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["generation"]["big"].pop("input"), "generation.big: input is missing"),
        (lambda d: d["generation"]["big"]["input"].pop("source"), "generation.big.input: source"),
        (lambda d: d["generation"]["big"]["output"].update(value="ten"), "value must be a number"),
        (lambda d: d["gpu"]["g"]["hourly"].update(read_on="soon"), "read_on must be a date"),
        (lambda d: d["book"].update(id="latest"), "book.id must be the book's month"),
        (lambda d: d.pop("reranker"), "reranker: at least one entry is required"),
        (lambda d: d["fine_tuning"]["small"].pop("output"), "input and output prices go together"),
        (lambda d: d["latency"].pop("rerank_ms"), "latency: rerank_ms missing"),
    ],
)
def test_a_broken_price_book_is_refused_naming_the_figure(change, message):
    data = json.loads(json.dumps(TEST_BOOK_DATA, default=str))
    data = _dates(data)
    change(data)
    with pytest.raises(PriceBookError, match=message):
        parse_price_book(data)


def _dates(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: (DAY if k == "read_on" and v == str(DAY) else _dates(v)) for k, v in data.items()
        }
    return data


@pytest.mark.parametrize("book_id", available_books())
def test_every_price_book_fits_the_estimator_and_sources_every_figure(book_id):
    book = load_price_book(book_id)
    assert consistency_problems(CONFIG, V2, book) == []
    for _, name, figure in book.figures():
        assert figure.source.startswith("https://"), name
        assert figure.read_on <= datetime.date.today()


@pytest.mark.parametrize("book_id", available_books())
def test_every_worked_example_gets_numbers_for_all_five_approaches(book_id):
    book = load_price_book(book_id)
    for scenario_id in ("v2-support-bot-hybrid", "v2-distill-router", "v2-faq-tiny-realtime"):
        answers = clean_answers(scenario_answers(scenario_id), V2)
        result = score(answers, V2)
        found = estimate_for(answers, V2, result, {}, book)
        assert {a.approach for a in found.approaches} == {a.id for a in V2.approaches}
        assert all(math.isfinite(a.monthly_cost_usd) for a in found.approaches)
        ruled = {x["approach"] for x in result.alternatives if x["status"] == "ruled_out"}
        assert {a.approach for a in found.approaches if a.ruled_out} == ruled


@pytest.mark.parametrize(
    ("assumption", "raw"),
    [("generation_model", ["big"]), ("generation_model", {"a": 1}), ("output_tokens", 10**400),
     ("output_tokens", [1]), ("output_tokens", True)],
)  # fmt: skip
def test_a_value_of_the_wrong_type_is_refused_not_a_crash(assumption, raw):
    with pytest.raises(InvalidAssumption):
        CONFIG.assumptions[assumption].clean(raw, BOOK)


@given(numbers, volumes)
def test_sensitivity_reusing_unread_estimates_matches_re_estimating_everything(changes, volume):
    # An approach that never read an assumption is not estimated again when it varies.
    values = {**VALUES, **changes}
    found = estimate_all(CONFIG, BOOK, values, volume)
    quick = sensitivity(CONFIG, BOOK, values, volume, found)
    full = sensitivity(CONFIG, BOOK, values, volume, found, reuse=False)
    assert quick == full


def test_a_prompt_past_the_long_prompt_size_pays_the_long_prices_on_everything():
    values = {**VALUES, "generation_model": "tiered", "knowledge_tokens": 200_000}
    found = approaches(values)
    # long context: prefix 202,000 > 100,000 → input 10,000 × (0.5 × 202,000 × $5 + 200 × $4)
    # / 1M = $5,058; cached 10,000 × 0.5 × 202,000 × $0.4 / 1M = $404; output × $15 = $45
    long_context = found["long_context"]
    assert long_context.breakdown["input"] == pytest.approx(5058)
    assert long_context.breakdown["cached_input"] == pytest.approx(404)
    assert long_context.breakdown["output"] == pytest.approx(45)
    assert "long-prompt prices above 100,000 tokens" in long_context.lines[0].sums
    # prompting's 2,200 tokens stay at the normal prices: output 10,000 × 300 × $10 / 1M
    assert found["prompt_only"].breakdown["output"] == pytest.approx(30)


def test_fine_tuning_without_examples_cannot_be_the_cheapest():
    found = estimate(CONFIG, BOOK, {**VALUES, "training_examples": 0}, 10_000)
    tuned = found.approach("fine_tune")
    assert tuned.breakdown["training"] == 0
    assert not tuned.trainable and not tuned.feasible
    assert found.cheapest == "prompt_only"


def test_own_gpus_answer_once_the_prompt_is_processed():
    found = approaches({**VALUES, "hosting": "self_host"})
    # no hosted model's first-token time: (0.5 × 2,000 + 200) ÷ 20,000 tokens/s = 60 ms
    assert found["prompt_only"].first_token_ms == pytest.approx(60)


def test_a_hybrid_with_the_knowledge_in_the_prompt_retrieves_nothing():
    answers = clean_answers(scenario_answers("v2-offline-car-manual"), V2)
    result = score(answers, V2)
    assert result.lanes["knowledge"] == "in_context" and result.verdict == "hybrid"
    found = estimate_for(answers, V2, result, {}, load_price_book(available_books()[-1]))
    hybrid = found.approach("hybrid")
    assert (
        hybrid.label == V2.result_label(result) == "Hybrid (fine-tuning + knowledge in the prompt)"
    )
    assert hybrid.breakdown["retrieval"] == 0
    knowledge = CONFIG.assumptions["knowledge_tokens"].by_choice[answers["kb_size"]]
    assert hybrid.prompt_tokens >= knowledge


def test_only_the_verdict_takes_the_shape_of_its_lanes():
    # The handbook: long context is the verdict and the knowledge lane is in_context; the
    # hybrid beside it is the ladder's general one, with retrieval, named as the ladder names it.
    answers = clean_answers(scenario_answers("v2-handbook-small"), V2)
    result = score(answers, V2)
    assert result.lanes["knowledge"] == "in_context" and result.verdict != "hybrid"
    found = estimate_for(answers, V2, result, {}, load_price_book(available_books()[-1]))
    hybrid = found.approach("hybrid")
    assert hybrid.label == V2.approach("hybrid").label
    assert hybrid.breakdown["retrieval"] > 0


def test_added_latency_compares_first_tokens_whatever_serves_them():
    values = {**VALUES, "fine_tune_hosting": "self_host"}
    found = approaches(values)
    # the tuned model on own GPUs: (0.5 × 1,000 + 200) ÷ 20,000 = 35 ms, no API overhead,
    # against the plain prompt's 530 ms on the hosted model
    assert found["fine_tune"].first_token_ms == pytest.approx(35)
    assert found["fine_tune"].added_latency_ms == pytest.approx(35 - 530)


def test_a_break_even_below_one_query_a_month_is_not_reported():
    found = approaches({**VALUES, "knowledge_tokens": 0}, 10)
    assert all(b.monthly_queries >= 1 for b in break_evens(tuple(found.values())))


def test_a_self_hosted_break_even_is_where_the_curves_cross():
    # Own GPUs: the bill steps up with the peak, so the crossing is found on the curves.
    values = {**VALUES, "hosting": "self_host", "knowledge_tokens": 100_000, "peak_qps": 20}
    found = tuple(approaches(values, 2_000_000).values())
    by_id = {a.approach: a for a in found}
    for point in break_evens(found):
        below, above = by_id[point.cheaper_below], by_id[point.cheaper_above]
        just_below, just_above = point.monthly_queries * 0.98, point.monthly_queries * 1.02
        assert below.cost_at(just_below) <= above.cost_at(just_below)
        assert below.cost_at(just_above) >= above.cost_at(just_above)


@pytest.mark.parametrize("raw", ["0.8", "1", "0.05"])
def test_a_percentage_written_as_a_fraction_is_refused_not_misread(raw):
    with pytest.raises(InvalidAssumption, match="enter a percentage"):
        CONFIG.assumptions["cache_hit_rate"].clean(raw, BOOK)


def test_read_units_grow_with_the_namespace():
    # 100M tokens: 200,000 chunks × 6,000 bytes = 1.2 GB → 1.2 read units, under the
    # minimum of 10; 2.5B tokens: 5,000,000 chunks = 30 GB → 30 read units a query.
    small = approaches({**VALUES, "knowledge_tokens": 100_000_000})["rag"]
    large = approaches({**VALUES, "knowledge_tokens": 2_500_000_000})["rag"]
    per_query = {a: r.lines[3].monthly_usd / 10_000 for a, r in (("s", small), ("l", large))}
    # 200 × $0.1/1M + RU × $20/1M + $2/1,000
    assert per_query["s"] == pytest.approx(0.00002 + 10 * 20 / 1e6 + 0.002)
    assert per_query["l"] == pytest.approx(0.00002 + 30 * 20 / 1e6 + 0.002)


def test_a_prefix_shorter_than_the_model_caches_is_never_a_cache_hit():
    data = json.loads(json.dumps(TEST_BOOK_DATA, default=str))
    data = _dates(data)
    data["generation"]["big"]["min_cached_prefix"] = fig(4096, "tokens")
    prompt = approaches(book=parse_price_book(data))["prompt_only"]
    # a 2,000-token prefix: every token at the input price, nothing cached
    assert prompt.breakdown["cached_input"] == 0
    assert prompt.breakdown["input"] == pytest.approx(10_000 * 2_200 * 2.0 / 1e6)


def test_the_context_window_is_that_of_what_serves_the_queries():
    data = _dates(json.loads(json.dumps(TEST_BOOK_DATA, default=str)))
    data["fine_tuning"]["small"]["context_window"] = fig(50_000, "tokens")
    data["gpu"]["g"]["context_window"] = fig(80_000, "tokens")
    book = parse_price_book(data)
    values = {**VALUES, "knowledge_tokens": 60_000}
    # hybrid retrieves 2,000 tokens: fits the tuned model's 50,000
    assert approaches(values, book=book)["hybrid"].fits_context
    # long context on own GPUs: 62,200 + 300 tokens fit 80,000; on the base model too
    assert approaches({**values, "hosting": "self_host"}, book=book)["long_context"].fits_context
    bigger = {**values, "knowledge_tokens": 100_000, "hosting": "self_host"}
    assert not approaches(bigger, book=book)["long_context"].fits_context
    assert approaches({**bigger, "hosting": "api"}, book=book)["long_context"].fits_context
