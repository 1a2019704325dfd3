"""python manage.py estimate FILE|- [--format json|text] [--rubric VERSION] [--price-book YYYY-MM]:
run the numbers for a complete assessment given as JSON ({"answers": {...}}, optionally with
"rubric_version" and "assumptions": {assumption id: value}) under a dated price book."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assessments.estimator import (
    Estimate,
    EstimatorConfig,
    InvalidAssumption,
    PriceBook,
    PriceBookError,
    available_books,
    current_book_id,
    estimate_for,
    has_estimator,
    load_config,
    load_price_book,
)
from assessments.estimator.config import Assumption
from assessments.estimator.model import num, usd
from assessments.management.commands.score import (
    EXIT_BAD_INPUT,
    BadInput,
    add_input_arguments,
    answers_from,
    check_rubric_option,
    read_payload,
    version_from,
)
from assessments.rubric import available_versions, load_rubric
from assessments.scoring import score
from assessments.validation import shortened, shown, validate_answers

SCALARS = (str, int, float, bool, type(None))


def book_from(book_id: str) -> PriceBook:
    try:
        return load_price_book(book_id)
    except PriceBookError:
        raise BadInput(
            [
                f"--price-book: unknown price book {shown(book_id)} "
                f"(available: {', '.join(available_books())})"
            ]
        ) from None


def refuse_without_estimator(rubric_version: str) -> None:
    """Only rubrics with estimator data (assessments/estimator/<version>.toml) have numbers."""
    if not has_estimator(rubric_version):
        with_one = ", ".join(v for v in available_versions() if has_estimator(v))
        raise BadInput(
            [
                f"rubric {rubric_version} has no cost estimate; estimates need a rubric with "
                f"one ({with_one}): answer the assessment under it, then estimate"
            ]
        )


def raw_overrides(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    overrides = payload.get("assumptions", {})
    if not isinstance(overrides, Mapping):
        raise BadInput(['assumptions: expected an object of the form {"assumption id": value}'])
    return overrides


def clean_overrides(
    raw: Mapping[str, Any], config: EstimatorConfig, book: PriceBook
) -> tuple[dict[str, Any], list[str]]:
    """Each override checked as the page checks an edit: the cleaned values, and one line
    per problem naming the assumption."""
    cleaned: dict[str, Any] = {}
    problems: list[str] = []
    for assumption_id, value in raw.items():
        assumption = config.assumptions.get(assumption_id)
        if assumption is None:
            problems.append(
                f"assumptions.{shortened(str(assumption_id), 60)}: unknown assumption "
                f"(known: {', '.join(config.assumptions)})"
            )
            continue
        try:
            cleaned[assumption_id] = clean_one(assumption, value, book)
        except InvalidAssumption as error:
            message = error.message.removeprefix(f"{assumption.label}: ")
            problems.append(f"assumptions.{assumption_id} ({assumption.label}): {message}")
    return cleaned, problems


def clean_one(assumption: Assumption, value: Any, book: PriceBook) -> Any:
    """Assumption.clean, also for what JSON can hold and a form never sends: a list or an
    object (unhashable as a choice) and an integer too large for a float."""
    if not isinstance(value, SCALARS):
        raise InvalidAssumption(
            assumption.id, f"{assumption.label}: expected a number or text, got {shown(value)}"
        )
    try:
        return assumption.clean(value, book)
    except OverflowError:
        raise InvalidAssumption(
            assumption.id, f"{assumption.label}: {assumption.range_text()}"
        ) from None


def estimate_as_dict(
    found: Estimate, book: PriceBook, rubric_version: str, verdict: str
) -> dict[str, Any]:
    """The JSON: the estimate, its price book named in full, and the verdict it sits beside."""
    return {
        "rubric_version": rubric_version,
        "verdict": verdict,
        **found.to_dict(),
        "price_book": {"id": book.id, "read_on": book.read_on.isoformat(), "title": book.title},
    }


# --- text ------------------------------------------------------------------------------------


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent + "  ")


def fits_text(fits: bool | None) -> str:
    return "—" if fits is None else ("yes" if fits else "no")


def latency_text(ms: float) -> str:
    return "0 ms" if round(ms) == 0 else f"{ms:+,.0f} ms"


def value_text(assumption: Assumption | None, value: Any) -> str:
    if assumption is not None and assumption.kind == "fraction":
        return f"{value:.0%}"
    shown_value = num(value) if isinstance(value, int | float) else str(value)
    unit = assumption.unit if assumption is not None else ""
    return f"{shown_value} {unit}".strip()


def approach_table(found: Estimate) -> list[str]:
    """One row per approach, columns aligned; a ruled-out approach's reason below its row."""
    header = ("Approach", "Monthly", "Per 1,000", "Added latency", "Fits budget")
    rows = []
    for a in found.approaches:
        per_1k = a.cost_per_1k_queries_usd
        rows.append(
            (
                a.label or a.approach,
                usd(a.monthly_cost_usd),
                "—" if per_1k is None else usd(per_1k),
                latency_text(a.added_latency_ms),
                fits_text(a.fits_latency_budget),
            )
        )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first, *numbers = cells
        aligned = [first.ljust(widths[0])]
        aligned += [cell.rjust(width) for cell, width in zip(numbers, widths[1:], strict=True)]
        return ("  " + "   ".join(aligned)).rstrip()

    lines = [line(header)]
    for a, cells in zip(found.approaches, rows, strict=True):
        lines.append(line(cells))
        if not a.fits_context:
            lines.append(_wrap("does not fit the model's context window", "      "))
        if a.ruled_out:
            lines.append(_wrap(f"ruled out: {a.ruled_out}", "      "))
    return lines


def sensitivity_lines(
    found: Estimate, config: EstimatorConfig, labels: Mapping[str, str]
) -> list[str]:
    def name(approach: str | None) -> str:
        return "none feasible" if approach is None else labels[approach]

    best = name(found.cheapest)
    lines = []
    for s in found.sensitivity:
        assumption = config.assumptions.get(s.assumption)
        shown_as = f"{s.label} ({value_text(assumption, s.value)})"
        if s.flips:
            text = (
                f"{shown_as}: the cheapest at {value_text(assumption, s.low)}: "
                f"{name(s.cheapest_low)}; at {value_text(assumption, s.high)}: "
                f"{name(s.cheapest_high)}"
            )
        else:
            text = f"{shown_as}: ±50 % moves the cost of {best} by up to {usd(s.moves_usd)} a month"
        lines.append(_wrap(f"- {text}"))
    return lines or ["  (none)"]


def estimate_as_text(
    found: Estimate, book: PriceBook, config: EstimatorConfig, verdict_label: str
) -> str:
    """A terminal summary: what the figures rest on, the table, then what decides between
    the approaches (the cheapest, break-evens, the assumptions that matter most)."""
    labels = {a.approach: a.label or a.approach for a in found.approaches}
    lines = [
        f"Price book:       {book.id}, {book.title} (read on {book.read_on.isoformat()})",
        f"Verdict:          {verdict_label} (rubric {config.rubric_version})",
        f"Monthly queries:  {num(found.monthly_queries)}",
        "",
        *approach_table(found),
        "",
    ]
    if found.cheapest is None:
        lines.append("Cheapest feasible: none (every approach is ruled out or misses the budget)")
    else:
        cost = found.approach(found.cheapest).monthly_cost_usd
        lines.append(f"Cheapest feasible: {labels[found.cheapest]} at {usd(cost)} a month")
    lines += ["", "Break-evens:"]
    lines += [
        _wrap(
            f"- {labels[b.cheaper_below]} is cheaper below {num(round(b.monthly_queries))} "
            f"queries a month, {labels[b.cheaper_above]} above "
            f"(both {usd(b.monthly_cost_usd)} a month there)"
        )
        for b in found.break_even
    ] or ["  (none: no approach left in overtakes another as the volume grows)"]
    lines += ["", "Most sensitive assumptions:"]
    lines += sensitivity_lines(found, config, labels)
    return "\n".join(lines)


# --- the command -----------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Estimate each approach's monthly cost and added latency for an assessment given as "
        'JSON ({"answers": {...}, "assumptions": {...}}).'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_input_arguments(parser)
        parser.add_argument(
            "--price-book",
            default=None,
            help=(
                f"price book, YYYY-MM (available: {', '.join(available_books())}); "
                "default: the newest"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check_rubric_option(options)
        try:
            book = book_from(options["price_book"] or current_book_id())
            payload = read_payload(options["file"])
            raw_answers = answers_from(payload)
            rubric = load_rubric(version_from(payload, options["rubric"]))
            refuse_without_estimator(rubric.version)
            raw = raw_overrides(payload)
        except BadInput as bad:
            self._fail(bad.lines)
        config = load_config(rubric.version)
        answers, problems = validate_answers(raw_answers, rubric)
        overrides, assumption_problems = clean_overrides(raw, config, book)
        if problems or assumption_problems:
            self._fail([str(problem) for problem in problems] + assumption_problems)
        result = score(answers, rubric)
        found = estimate_for(answers, rubric, result, overrides, book)
        if options["format"] == "text":
            text = estimate_as_text(found, book, config, rubric.result_label(result))
            self.stdout.write(text)
        else:
            as_dict = estimate_as_dict(found, book, rubric.version, result.verdict)
            self.stdout.write(json.dumps(as_dict, indent=2, ensure_ascii=False))

    def _fail(self, lines: list[str]) -> None:
        for line in lines:
            self.stderr.write(line)
        sys.exit(EXIT_BAD_INPUT)
