"""Run the numbers for a stored assessment, and what the page, the shared link and the memo
show of them: the estimator (a pure module) fed with the assessment's answers, its scored
result, the owner's assumption edits and the price book it records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from assessments.cost_chart import NARROW, TABLE_VOLUMES, VOLUMES, CostChart, Series, cost_chart
from assessments.estimator import (
    Estimate,
    EstimatorConfig,
    PriceBook,
    PriceBookError,
    asked,
    current_book_id,
    estimate_for,
    has_estimator,
    load_config,
    load_price_book,
)
from assessments.estimator.config import Assumption
from assessments.estimator.model import (
    PARTS,
    ApproachEstimate,
    costs_at,
    num,
    price,
    trains_on_own_gpus,
    usd,
)
from assessments.template_data import TemplateData


@dataclass(frozen=True)
class Numbers:
    """An estimate with what produced it."""

    estimate: Estimate
    config: EstimatorConfig
    book: PriceBook
    values: Mapping[str, Any]  # every assumption as used
    overrides: Mapping[str, Any]  # the owner's edits
    answers: Mapping[str, Any]
    result: Any
    rubric: Any

    def defaults(self) -> dict[str, Any]:
        """Each assumption's default for these answers (those the verdict read)."""
        return self.config.defaults(asked(self.answers, self.result))


def numbers_for(assessment: Any, evaluation: Any) -> Numbers | None:
    """The numbers of a complete assessment whose rubric has an estimator, else None."""
    if evaluation.result is None or not has_estimator(assessment.rubric_version):
        return None
    config = load_config(assessment.rubric_version)
    try:
        book = load_price_book(assessment.price_book)
    except PriceBookError:  # a book taken out of the app: the newest, rather than no page
        book = load_price_book(current_book_id())
    overrides = assessment.assumptions or {}
    estimate = estimate_for(
        evaluation.answers, evaluation.rubric, evaluation.result, overrides, book
    )
    return Numbers(
        estimate=estimate,
        config=config,
        book=book,
        values=estimate.assumptions,
        overrides=overrides,
        answers=evaluation.answers,
        result=evaluation.result,
        rubric=evaluation.rubric,
    )


# --- what the templates read -----------------------------------------------------------------


@dataclass(frozen=True)
class LineView(TemplateData):
    label: str
    amount: str
    sums: str
    fixed: bool


@dataclass(frozen=True)
class RowView(TemplateData):
    approach: str
    label: str
    monthly: str
    per_1k: str
    added_latency: str
    first_token: str
    fits: str  # "Yes", "No" or "No budget"
    fits_class: str  # "yes", "no", "none"
    feasible: bool
    greyed: bool  # ruled out, or cannot be built: not an option whatever it costs
    why_not: str  # why it cannot be chosen on cost (ruled out, context, budget)
    is_cheapest: bool
    is_verdict: bool
    one_off: str
    hosting: str
    model: str  # what answers its queries
    lines: tuple[LineView, ...]
    latency_sums: str


@dataclass(frozen=True)
class AssumptionView(TemplateData):
    id: str
    label: str
    unit: str
    kind: str
    value: str  # as shown
    input_value: str  # as the form field holds it
    default: str
    changed: bool
    explain: str
    options: tuple[tuple[str, str], ...]
    optional: bool
    none_means: str
    error: str = ""


@dataclass(frozen=True)
class SourceView(TemplateData):
    what: str
    value: str
    source: str
    estimate: str
    note: str
    site: str  # the source's host, as the link reads


@dataclass(frozen=True)
class NumbersView(TemplateData):
    price_book: str
    price_book_title: str
    price_book_read_on: str
    volume: str
    budget: str
    rows: tuple[RowView, ...]
    cheapest_note: str
    break_evens: tuple[str, ...]
    sensitivity: tuple[str, ...]
    chart: CostChart
    chart_narrow: CostChart  # the phone's
    table_head: tuple[str, ...]
    table_rows: tuple[tuple[str, ...], ...]
    groups: tuple[tuple[str, tuple[AssumptionView, ...]], ...]
    changed_count: int
    sources: tuple[SourceView, ...]


HOSTING = {"api": "Hosted API", "self_host": "Own GPUs"}
# A price book figure's name as people read it.
FIGURE_NAMES = {
    "input": "input price", "cached_input": "cached input price",
    "cache_write": "cache write price", "output": "output price",
    "context_window": "context window", "first_token_ms": "time to first token",
    "prefill_tokens_per_s": "prompt processing speed",
    "cached_prefill_tokens_per_s": "cached prompt processing speed",
    "long_prompt_above": "long-prompt prices from", "long_input": "long-prompt input price",
    "long_cached_input": "long-prompt cached input price",
    "long_cache_write": "long-prompt cache write price", "long_output": "long-prompt output price",
    "training": "training price", "hosting": "hosting price", "price": "price",
    "dimensions": "vector size", "minimum": "monthly minimum", "storage": "storage price",
    "reads": "read price", "writes": "write price",
    "read_units_per_query": "read units per query",
    "write_units_per_record": "write units per chunk",
    "hourly": "price", "decode_tokens_per_s": "output speed",
    "training_tokens_per_s": "training speed", "embedding_ms": "Embedding a query",
    "vector_search_ms": "Searching the vector store", "rerank_ms": "Reranking",
}  # fmt: skip
# Units of money in the price books, and how a price reads with them.
MONEY_UNITS = {
    "1M tokens": "per 1M tokens", "1M training tokens": "per 1M training tokens",
    "1M read units": "per 1M read units", "1M write units": "per 1M write units",
    "1k searches": "per 1,000 searches", "GB-month": "per GB a month",
    "GPU-hour": "per GPU-hour", "hour": "an hour", "month": "a month",
}  # fmt: skip


def _figure_value(figure: Any) -> str:
    """A figure as a CFO reads it: dollars with what they buy, or a quantity with its unit."""
    if figure.per in MONEY_UNITS:
        return f"{price(figure.value)} {MONEY_UNITS[figure.per]}"
    return f"{num(figure.value)} {figure.per}"


def _latency_text(ms: float) -> str:
    if abs(ms) < 0.5:
        return "none"
    return f"{'+' if ms > 0 else '−'}{abs(ms):,.0f} ms"


def _why_not(approach: ApproachEstimate, budget: Any) -> str:
    if approach.ruled_out:
        return f"Ruled out: {approach.ruled_out}"
    if not approach.trainable:
        return "No training examples yet: there is nothing to train on."
    if not approach.fits_context:
        return f"Its prompt ({num(approach.prompt_tokens)} tokens) does not fit the context window."
    if approach.fits_latency_budget is False:
        return (
            f"Its first token ({approach.first_token_ms:,.0f} ms) misses the "
            f"{num(budget)} ms budget."
        )
    return ""


def _row(approach: ApproachEstimate, numbers: Numbers) -> RowView:
    estimate, budget = numbers.estimate, numbers.values.get("latency_budget_ms")
    fits = {True: ("Yes", "yes"), False: ("No", "no"), None: ("No budget", "none")}
    per_1k = approach.cost_per_1k_queries_usd
    return RowView(
        approach=approach.approach,
        label=approach.label,
        monthly=usd(approach.monthly_cost_usd),
        per_1k="—" if per_1k is None else usd(per_1k),
        added_latency=_latency_text(approach.added_latency_ms),
        first_token=f"{approach.first_token_ms:,.0f} ms",
        fits=fits[approach.fits_latency_budget][0],
        fits_class=fits[approach.fits_latency_budget][1],
        feasible=approach.feasible,
        greyed=approach.ruled_out is not None or not approach.trainable,
        why_not=_why_not(approach, budget),
        is_cheapest=approach.approach == estimate.cheapest,
        is_verdict=approach.approach == numbers.result.verdict,
        one_off=usd(approach.one_off_usd) if approach.one_off_usd else "",
        hosting=HOSTING[approach.hosting],
        model=approach.model,
        lines=tuple(
            LineView(PARTS[line.part], usd(line.monthly_usd), line.sums, line.fixed)
            for line in approach.lines
        ),
        latency_sums=approach.latency_sums,
    )


def _label(numbers: Numbers, approach_id: str) -> str:
    return numbers.estimate.approach(approach_id).label


def _cheapest_note(numbers: Numbers) -> str:
    """One line where the cheapest feasible approach is not the verdict, with the reason."""
    estimate, result = numbers.estimate, numbers.result
    verdict_label = numbers.rubric.result_label(result)
    if estimate.cheapest is None:
        return (
            "No approach is possible on every count at this volume (each is ruled out, too "
            "large for the context window, over the latency budget or without examples to "
            f"train on); the rules chose {verdict_label}."
        )
    if estimate.cheapest == result.verdict:
        return ""
    cheap = estimate.approach(estimate.cheapest)
    chosen = estimate.approach(result.verdict)
    if not chosen.feasible:  # the verdict's own numbers rule it out: say that first
        why = _why_not(chosen, numbers.values.get("latency_budget_ms"))
        return (
            f"The verdict, {verdict_label}, does not work out at these numbers: {why} "
            f"{cheap.label} is the cheapest possible ({usd(cheap.monthly_cost_usd)} a month)."
        )
    reason = next(
        (a["reason"] for a in result.alternatives if a["approach"] == estimate.cheapest), ""
    )
    models = ""
    if cheap.model != chosen.model:  # much of the difference may be the model, not the approach
        models = f"; it runs on {cheap.model}, the verdict on {chosen.model}"
    return (
        f"{cheap.label} would cost less at this volume ({usd(cheap.monthly_cost_usd)} against "
        f"{usd(chosen.monthly_cost_usd)} a month{models}), but the rules chose {verdict_label}: "
        f"{reason}"
    ).rstrip(": ")


def _break_evens(numbers: Numbers) -> tuple[str, ...]:
    """One sentence per break-even, in the order the chart numbers them."""
    lines = []
    for point in numbers.estimate.break_even:
        outside = not VOLUMES[0] <= point.monthly_queries <= VOLUMES[-1]
        lines.append(
            f"{_label(numbers, point.cheaper_below)} costs less below "
            f"{point.monthly_queries:,.0f} queries a month, {_label(numbers, point.cheaper_above)} "
            f"above (both {usd(point.monthly_cost_usd)} a month there)"
            + (", outside the chart's 1,000 to 10 million." if outside else ".")
        )
    return tuple(lines)


def _shown(assumption: Assumption, value: Any, book: PriceBook) -> str:
    if value is None:
        return assumption.none_means or "none"
    if assumption.kind == "choice":
        return assumption.choices(book).get(value, str(value))
    if assumption.kind == "fraction":
        return f"{value:.0%}"
    unit = assumption.unit_one if value == 1 and assumption.unit_one else assumption.unit
    return f"{num(value)} {unit}".strip()


def _sensitivity(numbers: Numbers) -> tuple[str, ...]:
    config, book, estimate = numbers.config, numbers.book, numbers.estimate
    lines = []
    for item in estimate.sensitivity:
        assumption = config.assumptions[item.assumption]
        low, high = _shown(assumption, item.low, book), _shown(assumption, item.high, book)
        text = f"{item.label} ({_shown(assumption, item.value, book)}; tried {low} and {high}): "
        cheapest = _label(numbers, estimate.cheapest)
        if item.flips:
            changes = [
                f"{_label(numbers, then) if then else 'no approach'} at {shown}"
                for shown, then in ((low, item.cheapest_low), (high, item.cheapest_high))
                if then != estimate.cheapest
            ]
            text += f"the cheapest possible, {cheapest} now, becomes {' and '.join(changes)}."
        else:
            text += (
                f"moves the monthly cost of {cheapest} (the cheapest possible) by up to "
                f"{usd(item.moves_usd)}."
            )
        lines.append(text)
    return tuple(lines)


def _chart(
    numbers: Numbers,
) -> tuple[CostChart, CostChart, tuple[str, ...], tuple[tuple[str, ...], ...]]:
    estimate, verdict = numbers.estimate, numbers.result.verdict
    curves = costs_at(estimate.approaches, VOLUMES)
    table = costs_at(estimate.approaches, TABLE_VOLUMES)
    series = [
        Series(
            a.approach,
            a.label + ("" if a.trainable else " (nothing to train on)"),
            curves[a.approach],
            ruled_out=a.ruled_out is not None,
            emphasised=a.approach == verdict,
            greyed=not a.trainable,
        )
        for a in estimate.approaches
    ]
    at_volume = "; ".join(
        f"{a.label} {usd(a.monthly_cost_usd)}" for a in estimate.approaches if not a.ruled_out
    )
    summary = (
        "Monthly cost against monthly queries, from 1,000 to 10 million, both on log scales. "
        f"At your {estimate.monthly_queries:,} queries a month: {at_volume}."
    )
    crossings = [(b.monthly_queries, b.monthly_cost_usd) for b in estimate.break_even]
    chart = cost_chart(series, estimate.monthly_queries, crossings, summary)
    narrow = cost_chart(series, estimate.monthly_queries, crossings, summary, NARROW)
    head = ("Queries a month", *(a.label for a in estimate.approaches))
    rows = tuple(
        (f"{volume:,}", *(usd(table[a.approach][i]) for a in estimate.approaches))
        for i, volume in enumerate(TABLE_VOLUMES)
    )
    return chart, narrow, head, rows


def assumption_views(
    numbers: Numbers,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> tuple[tuple[str, tuple[AssumptionView, ...]], ...]:
    """The assumptions by group: each value used, its default for these answers, whether the
    owner changed it; on a refused edit, what was typed and why it was refused."""
    typed, errors = typed or {}, errors or {}
    defaults = numbers.defaults()
    book = numbers.book
    groups = []
    for group, assumptions in numbers.config.groups():
        views = []
        for a in assumptions:
            value = numbers.values[a.id]
            views.append(
                AssumptionView(
                    id=a.id,
                    label=a.label,
                    unit=a.unit,
                    kind=a.kind,
                    value=_shown(a, value, book),
                    input_value=typed.get(a.id, _input_value(a, value)),
                    default=_shown(a, defaults[a.id], book),
                    changed=a.id in numbers.overrides and value != defaults[a.id],
                    explain=a.explain,
                    options=tuple(a.choices(book).items()),
                    optional=a.optional,
                    none_means=a.none_means,
                    error=errors.get(a.id, ""),
                )
            )
        groups.append((group, tuple(views)))
    return tuple(groups)


def _input_value(assumption: Assumption, value: Any) -> str:
    if value is None:
        return ""
    if assumption.kind == "fraction":
        return f"{value * 100:g}%"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _source(what: str, figure: Any) -> SourceView:
    return SourceView(
        what, _figure_value(figure), figure.source, figure.estimate, figure.note,
        urlparse(figure.source).netloc,
    )  # fmt: skip


def _sources(numbers: Numbers) -> tuple[SourceView, ...]:
    """Every figure the estimate used, with where it was read (or why it is an estimate)."""
    values, book = numbers.values, numbers.book
    hostings = {a.hosting for a in numbers.estimate.approaches}
    chosen = [("generation", values["generation_model"])]
    if not trains_on_own_gpus(values):  # else nothing of the offer is used
        chosen.append(("fine_tuning", values["fine_tuning_offer"]))
    chosen += [("embedding", values["embedding_model"]), ("vector_store", values["vector_store"])]
    if values["use_reranker"] == "yes":
        chosen.append(("reranker", values["reranker"]))
    if "self_host" in hostings:
        chosen.append(("gpu", values["gpu"]))
    rows = []
    for table, key in chosen:
        offer = book.offer(table, key)
        rows += [
            _source(f"{offer.label}: {FIGURE_NAMES.get(name, name)}", figure)
            for name, figure in offer.figures.items()
        ]
    rows += [_source(FIGURE_NAMES[name], figure) for name, figure in book.latency.items()]
    return tuple(rows)


def numbers_view(assessment: Any, evaluation: Any) -> NumbersView | None:
    """What the report, a share link and the memo show of an assessment's numbers (None
    where it has none)."""
    numbers = numbers_for(assessment, evaluation)
    return None if numbers is None else present_numbers(numbers)


def present_numbers(
    numbers: Numbers,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> NumbersView:
    estimate, book = numbers.estimate, numbers.book
    budget = numbers.values.get("latency_budget_ms")
    chart, chart_narrow, head, table = _chart(numbers)
    groups = assumption_views(numbers, typed, errors)
    return NumbersView(
        price_book=book.id,
        price_book_title=book.title,
        price_book_read_on=f"{book.read_on:%-d %B %Y}",
        volume=f"{estimate.monthly_queries:,}",
        budget=(
            "no latency budget (batch)"
            if budget is None
            else f"a budget of {num(budget)} ms to the first token"
        ),
        rows=tuple(_row(a, numbers) for a in estimate.approaches),
        cheapest_note=_cheapest_note(numbers),
        break_evens=_break_evens(numbers),
        sensitivity=_sensitivity(numbers),
        chart=chart,
        chart_narrow=chart_narrow,
        table_head=head,
        table_rows=table,
        groups=groups,
        changed_count=sum(1 for _, views in groups for v in views if v.changed),
        sources=_sources(numbers),
    )
