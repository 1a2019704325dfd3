"""Price books: dated, sourced prices and speeds as data (assessments/pricing/<yyyy-mm>.toml).

Every figure carries its value, its unit, the page it was read from and the day it was
read; a figure no vendor publishes says it is an estimate and why. Loading checks all of
it, so a book with a missing source or a figure that is not a number never reaches a page.
No Django imports.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PRICING_DIR = Path(__file__).resolve().parent.parent / "pricing"
BOOK_NAME = re.compile(r"^\d{4}-\d{2}$")

# The figures each table's entries must have, and those they may have.
REQUIRED = {
    "generation": (
        "input", "cached_input", "output", "context_window",
        "first_token_ms", "prefill_tokens_per_s", "cached_prefill_tokens_per_s",
    ),
    "fine_tuning": ("training",),
    "embedding": ("price", "dimensions"),
    "vector_store": (
        "minimum", "storage", "reads", "writes", "read_units_per_gb", "min_read_units",
        "write_units_per_record",
    ),
    "reranker": ("price",),
    "gpu": ("hourly", "decode_tokens_per_s", "prefill_tokens_per_s", "training_tokens_per_s"),
}  # fmt: skip
# A fine-tuning offer without per-token prices (input, output) trains only: the tuned model
# is then served on GPUs (the gpu table), as the vendor's own serving would be priced.
# Long prompts: above `long_prompt_above` input tokens some vendors price the whole request
# higher; a book gives all five figures or none.
LONG_PROMPT = ("long_prompt_above", "long_input", "long_cached_input", "long_cache_write",
               "long_output")  # fmt: skip
# min_cached_prefix: a shorter prefix is never served from the prompt cache.
OPTIONAL = {
    "generation": ("cache_write", "min_cached_prefix", *LONG_PROMPT),
    "fine_tuning": ("input", "cached_input", "output", "hosting", "context_window"),
    "gpu": ("context_window",),
}
LATENCY = ("embedding_ms", "vector_search_ms", "rerank_ms")
SPEEDS = ("prefill_tokens_per_s", "cached_prefill_tokens_per_s", "decode_tokens_per_s",
          "training_tokens_per_s")  # fmt: skip
TEXT_FIELDS = ("provider", "label", "model", "base", "size")


class PriceBookError(ValueError):
    """A price book that cannot be used, naming the entry and figure at fault."""


@dataclass(frozen=True)
class Figure:
    value: float
    per: str  # the unit: "1M tokens", "GPU-hour", "ms" ...
    source: str  # the page it was read from (or an estimate's basis)
    read_on: datetime.date
    estimate: str = ""  # why, when no vendor publishes the figure
    note: str = ""

    @property
    def is_estimate(self) -> bool:
        return bool(self.estimate)


@dataclass(frozen=True)
class Offer:
    """One entry of a table: a model, a fine-tuning offer, a GPU ..."""

    table: str
    key: str
    label: str
    provider: str
    figures: Mapping[str, Figure]
    text: Mapping[str, str]  # model, base, size ...

    def __getitem__(self, name: str) -> float:
        return self.figures[name].value

    @property
    def serves_per_token(self) -> bool:
        """Whether the vendor serves the model at a price per token (or only trains it)."""
        return "input" in self.figures

    def get(self, name: str) -> float | None:
        figure = self.figures.get(name)
        return None if figure is None else figure.value


@dataclass(frozen=True)
class PriceBook:
    id: str  # "2026-12"
    title: str
    read_on: datetime.date
    currency: str
    tables: Mapping[str, Mapping[str, Offer]]  # table -> key -> offer
    latency: Mapping[str, Figure]

    def offer(self, table: str, key: str) -> Offer:
        return self.tables[table][key]

    def figures(self) -> list[tuple[Offer | None, str, Figure]]:
        """Every figure, for the list of sources: (its offer or None for latency, name, figure)."""
        rows: list[tuple[Offer | None, str, Figure]] = []
        for offers in self.tables.values():
            for offer in offers.values():
                rows += [(offer, name, figure) for name, figure in offer.figures.items()]
        return rows + [(None, name, figure) for name, figure in self.latency.items()]


def _figure(raw: Any, where: str) -> Figure:
    if not isinstance(raw, Mapping):
        raise PriceBookError(f"{where}: must be a table with value, per, source and read_on")
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PriceBookError(f"{where}: value must be a number ≥ 0, got {value!r}")
    for name in ("per", "source"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise PriceBookError(f"{where}: {name} is missing")
    if not isinstance(raw.get("read_on"), datetime.date):
        raise PriceBookError(f"{where}: read_on must be a date (YYYY-MM-DD)")
    unknown = set(raw) - {"value", "per", "source", "read_on", "estimate", "note"}
    if unknown:
        raise PriceBookError(f"{where}: unknown keys {sorted(unknown)}")
    return Figure(
        value=float(value),
        per=raw["per"],
        source=raw["source"],
        read_on=raw["read_on"],
        estimate=str(raw.get("estimate", "")),
        note=str(raw.get("note", "")),
    )


def _offer(table: str, key: str, raw: Any) -> Offer:
    where = f"{table}.{key}"
    if not isinstance(raw, Mapping):
        raise PriceBookError(f"{where}: must be a table")
    figures = {}
    for name in REQUIRED[table] + OPTIONAL.get(table, ()):
        if name in raw:
            figures[name] = _figure(raw[name], f"{where}.{name}")
        elif name in REQUIRED[table]:
            raise PriceBookError(f"{where}: {name} is missing")
    for name in SPEEDS:
        if name in figures and figures[name].value <= 0:
            raise PriceBookError(f"{where}.{name}: a speed must be more than 0")
    unknown = set(raw) - set(figures) - set(TEXT_FIELDS)
    if unknown:
        raise PriceBookError(f"{where}: unknown keys {sorted(unknown)}")
    if not raw.get("label") or not raw.get("provider"):
        raise PriceBookError(f"{where}: label and provider are required")
    if ("input" in figures) != ("output" in figures):
        raise PriceBookError(f"{where}: input and output prices go together")
    long_prices = [name for name in LONG_PROMPT if name in figures]
    if long_prices and len(long_prices) != len(LONG_PROMPT):
        raise PriceBookError(
            f"{where}: the long-prompt prices go together ({', '.join(LONG_PROMPT)})"
        )
    text = {name: str(raw[name]) for name in TEXT_FIELDS if name in raw}
    return Offer(table, key, text["label"], text["provider"], figures, text)


def parse_price_book(data: Mapping[str, Any]) -> PriceBook:
    """A price book from its parsed TOML, or PriceBookError."""
    book = data.get("book")
    if not isinstance(book, Mapping) or not BOOK_NAME.match(str(book.get("id", ""))):
        raise PriceBookError("book.id must be the book's month, YYYY-MM")
    if not isinstance(book.get("read_on"), datetime.date):
        raise PriceBookError("book.read_on must be a date")
    tables = {}
    for table in REQUIRED:
        entries = data.get(table)
        if not isinstance(entries, Mapping) or not entries:
            raise PriceBookError(f"{table}: at least one entry is required")
        tables[table] = {key: _offer(table, key, raw) for key, raw in entries.items()}
    raw_latency = data.get("latency", {})
    missing = [name for name in LATENCY if name not in raw_latency]
    if missing:
        raise PriceBookError(f"latency: {', '.join(missing)} missing")
    unknown = set(data) - {"book", "latency", *REQUIRED}
    if unknown:
        raise PriceBookError(f"unknown tables {sorted(unknown)}")
    return PriceBook(
        id=book["id"],
        title=str(book.get("title", book["id"])),
        read_on=book["read_on"],
        currency=str(book.get("currency", "USD")),
        tables=tables,
        latency={name: _figure(raw_latency[name], f"latency.{name}") for name in LATENCY},
    )


def available_books() -> tuple[str, ...]:
    """Every price book, oldest first."""
    return tuple(sorted(p.stem for p in PRICING_DIR.glob("*.toml") if BOOK_NAME.match(p.stem)))


def current_book_id() -> str:
    """The newest price book: what new estimates use."""
    return available_books()[-1]


@cache
def load_price_book(book_id: str) -> PriceBook:
    """One price book, read once per process."""
    if book_id not in available_books():
        raise PriceBookError(f"unknown price book {book_id!r}")
    with open(PRICING_DIR / f"{book_id}.toml", "rb") as handle:
        book = parse_price_book(tomllib.load(handle))
    if book.id != book_id:
        raise PriceBookError(f"{book_id}.toml says it is book {book.id!r}")
    return book
