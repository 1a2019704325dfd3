"""Run the numbers: each approach's monthly cost and added latency for an assessment.

A second pure module beside the scoring engine (no Django, no I/O beyond reading its data
files once): the same clean answers plus assumptions (assessments/estimator/<rubric>.toml,
the owner's edits on top) and a dated price book (assessments/pricing/<yyyy-mm>.toml).
The verdict never depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assessments.estimator.book import (
    PriceBook,
    PriceBookError,
    available_books,
    current_book_id,
    load_price_book,
)
from assessments.estimator.config import (
    EstimatorConfig,
    InvalidAssumption,
    available_configs,
    load_config,
)
from assessments.estimator.model import Estimate, estimate

__all__ = [
    "Estimate",
    "EstimatorConfig",
    "InvalidAssumption",
    "PriceBook",
    "PriceBookError",
    "asked",
    "available_books",
    "current_book_id",
    "estimate_for",
    "has_estimator",
    "load_config",
    "load_price_book",
]


def has_estimator(rubric_version: str) -> bool:
    return rubric_version in available_configs()


def asked(answers: Mapping[str, Any], result: Any) -> dict[str, Any]:
    """The answers the result read: an unasked question's answer feeds no default."""
    return {q: v for q, v in answers.items() if q not in set(result.not_asked)}


def estimate_for(
    answers: Mapping[str, Any],
    rubric: Any,
    result: Any,
    overrides: Mapping[str, Any],
    book: PriceBook,
) -> Estimate:
    """The estimate for a complete v2 assessment: its answers and scored result, the owner's
    assumption overrides and the price book it is estimated with. Approaches the rubric
    rules out stay in, marked with the rubric's reason."""
    # The verdict as its lanes shape it, the others in their general form: each priced as
    # the report's ladder names it.
    config = load_config(rubric.version).for_verdict(result.verdict, result.lanes)
    answers = asked(answers, result)
    values = config.resolve(answers, overrides, book)
    ruled_out = {
        alternative["approach"]: alternative["reason"]
        for alternative in result.alternatives
        if alternative["status"] == "ruled_out"
    }
    labels = {a.id: a.label for a in rubric.approaches} | {
        result.verdict: rubric.result_label(result)
    }
    return estimate(
        config, book, values, answers.get(config.volume, 0) or 0, labels=labels, ruled_out=ruled_out
    )
