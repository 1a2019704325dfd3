"""The estimator's data for a rubric (assessments/estimator/<version>.toml): the prompt each
approach sends, and the assumptions with their defaults, limits and explanations.

Also the one place that checks an assumption's value, whether it comes from the file, an
edit on the page or the `estimate` command. No Django imports.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from assessments.estimator.book import PriceBook

CONFIG_DIR = Path(__file__).resolve().parent
KINDS = ("number", "integer", "fraction", "choice")
MODELS = ("generation", "fine_tuned")
PROMPT_PARTS_DERIVED = ("retrieved_tokens",)  # chunk_tokens × top_k
SUFFIXES = {"k": 1_000, "m": 1_000_000}  # "2M" queries, "50k" tokens


class EstimatorConfigError(ValueError):
    pass


class InvalidAssumption(ValueError):
    """A value an assumption cannot take; the message names the assumption by its label."""

    def __init__(self, assumption_id: str, message: str):
        super().__init__(message)
        self.assumption_id = assumption_id
        self.message = message


@dataclass(frozen=True)
class ApproachPrompt:
    id: str
    prefix: tuple[str, ...]  # tokens sent unchanged with every query (cacheable)
    per_query: tuple[str, ...]
    model: str  # "generation" or "fine_tuned"
    retrieval: bool
    training: str  # the assumption giving training runs a month; "" for none
    # Other prompts by the verdict's lanes: ((lane, value, prompt), ...)
    when: tuple[tuple[str, str, ApproachPrompt], ...] = ()

    def for_lanes(self, lanes: Mapping[str, str]) -> ApproachPrompt:
        return next((p for lane, value, p in self.when if lanes.get(lane) == value), self)


@dataclass(frozen=True)
class Assumption:
    id: str
    group: str
    label: str
    kind: str
    explain: str
    unit: str = ""
    unit_one: str = ""  # the unit after 1 ("replica"), where it differs
    default: Any = None
    from_answer: str = ""
    by_choice: Mapping[str, Any] | None = None
    scale: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    options: Mapping[str, str] | None = None  # choice: id -> label
    of: str = ""  # choice of a price book table
    optional: bool = False
    none_means: str = ""

    def choices(self, book: PriceBook) -> dict[str, str]:
        """A choice's options (id -> label), from the file or the price book's table."""
        if self.of:
            return {key: offer.label for key, offer in book.tables[self.of].items()}
        return dict(self.options or {})

    def default_for(self, answers: Mapping[str, Any]) -> Any:
        """The default for these answers (asked answers only)."""
        answer = answers.get(self.from_answer) if self.from_answer else None
        if answer is not None and self.by_choice is not None:
            return self.by_choice.get(answer, None if self.optional else self.default)
        if answer is not None and self.scale is not None:
            return answer * self.scale
        return self.default

    def clean(self, raw: Any, book: PriceBook) -> Any:
        """The value `raw` stands for, or InvalidAssumption saying what is wrong with it."""
        if raw is None or raw == "":
            if self.optional:
                return None
            raise InvalidAssumption(self.id, f"{self.label}: enter a value")
        if self.kind == "choice":
            options = self.choices(book)
            if not isinstance(raw, str) or raw not in options:
                listed = "; ".join(f"“{label}”" for label in options.values())
                raise InvalidAssumption(self.id, f"{self.label}: choose one of {listed}")
            return raw
        return self._number(raw)

    def _number(self, raw: Any) -> float | int:
        value = _as_number(raw)
        if value is None:
            raise InvalidAssumption(self.id, f"{self.label}: enter a number")
        if self.kind == "fraction" and isinstance(raw, str):
            # Typed as a percentage ("80" or "80%"); JSON gives the fraction. "0.8" could be
            # either, so it is refused rather than read as 0.8 %.
            if "%" not in raw and 0 < value <= 1:
                raise InvalidAssumption(
                    self.id, f"{self.label}: enter a percentage, e.g. {value * 100:g} or {value:g}%"
                )
            value /= 100
        if self.kind == "integer" and value != int(value):
            raise InvalidAssumption(self.id, f"{self.label}: enter a whole number")
        if value == int(value) and self.kind != "fraction":
            value = int(value)  # stored and shown as a whole number
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidAssumption(self.id, f"{self.label}: {self.range_text()}")
        return value

    def range_text(self) -> str:
        def shown(value: float) -> str:
            if self.kind == "fraction":
                return f"{value:.0%}"
            return f"{value:,.0f}" if value == int(value) else f"{value:,}"

        return f"must be between {shown(self.minimum or 0)} and {shown(self.maximum or 0)}"


def _as_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:  # an integer beyond any float: out of every range
            return 1e308 if raw > 0 else -1e308
    elif isinstance(raw, str):
        text = raw.strip().replace(",", "").replace("_", "").removesuffix("%").strip()
        scale = SUFFIXES.get(text[-1:].lower(), 1) if text else 1
        try:
            value = float(text[:-1] if scale != 1 else text) * scale
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class EstimatorConfig:
    rubric_version: str
    baseline: str
    volume: str  # the question whose answer is the monthly volume
    approaches: Mapping[str, ApproachPrompt]
    assumptions: Mapping[str, Assumption]

    def for_verdict(self, verdict: str, lanes: Mapping[str, str]) -> EstimatorConfig:
        """The verdict's prompt as its lanes shape it (see `when`: a hybrid keeping the
        knowledge in the prompt retrieves nothing); the other approaches as the ladder names
        them, in their general form."""
        approaches = dict(self.approaches)
        approaches[verdict] = approaches[verdict].for_lanes(lanes)
        return replace(self, approaches=approaches)

    def defaults(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        return {a.id: a.default_for(answers) for a in self.assumptions.values()}

    def resolve(
        self, answers: Mapping[str, Any], overrides: Mapping[str, Any], book: PriceBook
    ) -> dict[str, Any]:
        """Every assumption's value: the owner's override where one is set and still valid
        under this book (a model a newer book dropped falls back to the default), else the
        default for these answers."""
        return self.defaults(answers) | self.parse_edits(overrides, book)[0]

    def parse_edits(
        self, raw: Mapping[str, Any], book: PriceBook
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The assumptions a submitted form (or file) sets: (clean values, messages by
        assumption id for those refused). Names that are no assumption are ignored."""
        values, errors = {}, {}
        for assumption_id, assumption in self.assumptions.items():
            if assumption_id not in raw:
                continue
            try:
                values[assumption_id] = assumption.clean(raw[assumption_id], book)
            except InvalidAssumption as refused:
                errors[assumption_id] = refused.message
        return values, errors

    def groups(self) -> list[tuple[str, list[Assumption]]]:
        """The assumptions by group, in file order."""
        grouped: dict[str, list[Assumption]] = {}
        for assumption in self.assumptions.values():
            grouped.setdefault(assumption.group, []).append(assumption)
        return list(grouped.items())


def _approach(approach_id: str, raw: Mapping[str, Any], assumption_ids: set[str]) -> ApproachPrompt:
    parts = tuple(raw.get("prefix", ())) + tuple(raw.get("per_query", ()))
    unknown = [p for p in parts if p not in assumption_ids and p not in PROMPT_PARTS_DERIVED]
    if unknown:
        raise EstimatorConfigError(f"approaches.{approach_id}: unknown prompt parts {unknown}")
    if raw.get("model") not in MODELS:
        raise EstimatorConfigError(f"approaches.{approach_id}: model must be one of {MODELS}")
    training = raw.get("training", "")
    if training and training not in assumption_ids:
        raise EstimatorConfigError(f"approaches.{approach_id}: training names no assumption")
    base = {key: value for key, value in raw.items() if key != "when"}
    return ApproachPrompt(
        id=approach_id,
        prefix=tuple(raw.get("prefix", ())),
        per_query=tuple(raw.get("per_query", ())),
        model=raw["model"],
        retrieval=bool(raw.get("retrieval", False)),
        training=training,
        when=tuple(
            (case["lane"], case["value"], _approach(approach_id, base | case, assumption_ids))
            for case in raw.get("when", ())
        ),
    )


def _assumption(assumption_id: str, raw: Mapping[str, Any]) -> Assumption:
    kind = raw.get("kind", "number")
    if kind not in KINDS:
        raise EstimatorConfigError(f"assumptions.{assumption_id}: kind must be one of {KINDS}")
    for name in ("group", "label", "explain"):
        if not raw.get(name):
            raise EstimatorConfigError(f"assumptions.{assumption_id}: {name} is missing")
    if "default" not in raw and not raw.get("optional"):
        raise EstimatorConfigError(f"assumptions.{assumption_id}: default is missing")
    return Assumption(
        id=assumption_id,
        group=raw["group"],
        label=raw["label"],
        kind=kind,
        explain=raw["explain"],
        unit=raw.get("unit", ""),
        unit_one=raw.get("unit_one", ""),
        default=raw.get("default"),
        from_answer=raw.get("from_answer", ""),
        by_choice=raw.get("by_choice"),
        scale=raw.get("scale"),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        options=raw.get("options"),
        of=raw.get("of", ""),
        optional=bool(raw.get("optional", False)),
        none_means=raw.get("none_means", ""),
    )


def parse_config(data: Mapping[str, Any]) -> EstimatorConfig:
    assumptions = {key: _assumption(key, raw) for key, raw in data["assumptions"].items()}
    approaches = {
        key: _approach(key, raw, set(assumptions)) for key, raw in data["approaches"].items()
    }
    if data.get("baseline") not in approaches:
        raise EstimatorConfigError("baseline must name one of the approaches")
    return EstimatorConfig(
        rubric_version=data["rubric_version"],
        baseline=data["baseline"],
        volume=data["volume"],
        approaches=approaches,
        assumptions=assumptions,
    )


@cache
def available_configs() -> tuple[str, ...]:
    """The rubric versions the estimator has data for."""
    return tuple(sorted(path.stem for path in CONFIG_DIR.glob("v*.toml")))


@cache
def load_config(rubric_version: str) -> EstimatorConfig:
    with open(CONFIG_DIR / f"{rubric_version}.toml", "rb") as handle:
        return parse_config(tomllib.load(handle))


def consistency_problems(config: EstimatorConfig, rubric: Any, book: PriceBook) -> list[str]:
    """What the config names that the rubric or the book does not have (tests run this for
    every rubric with a config against every book)."""
    problems = []
    approach_ids = {a.id for a in rubric.approaches}
    if set(config.approaches) != approach_ids:
        problems.append(
            f"approaches {sorted(config.approaches)} ≠ the rubric's {sorted(approach_ids)}"
        )
    if config.volume not in rubric.questions:
        problems.append(f"volume: unknown question {config.volume!r}")
    for a in config.assumptions.values():
        if a.from_answer and a.from_answer not in rubric.questions:
            problems.append(f"{a.id}: unknown question {a.from_answer!r}")
            continue
        question = rubric.questions.get(a.from_answer)
        if a.by_choice is not None and question is not None:
            choices = set(question.choice_ids)
            problems += [
                f"{a.id}: {c!r} is no choice of {a.from_answer}" for c in set(a.by_choice) - choices
            ]
            if not a.optional:
                problems += [
                    f"{a.id}: no value for {a.from_answer}={c!r}"
                    for c in choices - set(a.by_choice)
                ]
        if a.kind == "choice":
            if a.of and a.of not in book.tables:
                problems.append(f"{a.id}: the price book has no table {a.of!r}")
                continue
            options = a.choices(book)
            values = [a.default, *(a.by_choice or {}).values()]
            problems += [
                f"{a.id}: {v!r} is not an option"
                for v in values
                if v is not None and v not in options
            ]
        else:
            for value in [a.default, *(a.by_choice or {}).values()]:
                if value is None:
                    continue
                try:
                    a.clean(value, book)
                except InvalidAssumption as error:
                    problems.append(f"{a.id}: default {value!r}: {error.message}")
    return problems
