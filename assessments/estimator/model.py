"""The formulas: each approach's monthly cost, its added time to first token, break-even
volumes and the assumptions the ranking is most sensitive to. Pure: no Django, no I/O.

Written out in the README ("Run the numbers"); every cost line carries its own sums, which
the page shows under "Show the sums". Notation: Q monthly queries, h the prompt-cache hit
rate, P the prefix (tokens sent unchanged with every query), D the per-query tokens, O the
output tokens, prices per 1M tokens.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from assessments.estimator.book import Offer, PriceBook
from assessments.estimator.config import ApproachPrompt, EstimatorConfig

MILLION = 1_000_000
HOURS_PER_MONTH = 730  # 365 × 24 ÷ 12
BYTES_PER_DIMENSION = 4  # float32 vectors
BYTES_PER_TOKEN = 4  # the chunk's text kept beside its vector
SENSITIVITY_FACTORS = (0.5, 1.5)  # each numeric assumption −50 % and +50 %
SENSITIVE_SHOWN = 3
STAGE_NAMES = {"embedding_ms": "embedding", "vector_search_ms": "search", "rerank_ms": "reranking"}

# The breakdown, in the order the table shows it.
PARTS = {
    "input": "Input tokens",
    "cached_input": "Cached input",
    "output": "Output tokens",
    "retrieval": "Embeddings, vector store and reranking",
    "training": "Training and re-training",
    "hosting": "Hosting",
}


@dataclass(frozen=True)
class CostLine:
    part: str  # a key of PARTS
    monthly_usd: float
    fixed: bool  # the same whatever the volume (at this volume, for GPU replicas)
    sums: str  # the arithmetic, in words


@dataclass(frozen=True)
class ApproachEstimate:
    approach: str
    label: str
    hosting: str  # "api" or "self_host"
    lines: tuple[CostLine, ...]
    per_query_usd: float
    fixed_monthly_usd: float
    monthly_cost_usd: float
    cost_per_1k_queries_usd: float | None  # None at zero volume
    one_off_usd: float  # the first training run, paid once
    prompt_tokens: float  # sent per query, prefix included
    fits_context: bool
    added_latency_ms: float  # time to first token added against the baseline's prompt
    first_token_ms: float
    fits_latency_budget: bool | None  # None: no budget (batch)
    latency_sums: str
    ruled_out: str | None  # the rubric's reason, when v2 rules this approach out
    gpu: GpuSizing | None = None  # self-hosted: how its GPU bill scales
    model: str = ""  # what answers the queries (written out for the estimate shown)
    trainable: bool = True  # False: it trains, and there are no examples to train on
    # The assumptions this estimate read (None: not recorded); changing any other one cannot
    # change it, so sensitivity reuses it.
    reads: frozenset[str] | None = None

    def cost_at(self, monthly_queries: float) -> float:
        """Its monthly cost at another volume: the per-query part scales, GPU replicas are
        sized again for the peak that volume brings, the rest stays."""
        cost = self.fixed_monthly_usd + monthly_queries * self.per_query_usd
        if self.gpu is not None:
            now, then = self.gpu.replicas(), self.gpu.replicas(monthly_queries)
            cost += (then - now) * self.gpu.replica_usd
        return cost

    @property
    def feasible(self) -> bool:
        """Could be chosen on cost: not ruled out, trainable if it trains, fits the context
        window and the budget."""
        fits = self.fits_context and self.fits_latency_budget is not False
        return self.ruled_out is None and self.trainable and fits

    @property
    def breakdown(self) -> dict[str, float]:
        parts = dict.fromkeys(PARTS, 0.0)
        for line in self.lines:
            parts[line.part] += line.monthly_usd
        return parts


@dataclass(frozen=True)
class BreakEven:
    cheaper_below: str  # the approach with the lower fixed cost
    cheaper_above: str  # the one with the lower cost per query
    monthly_queries: float
    monthly_cost_usd: float  # what both cost there


@dataclass(frozen=True)
class Sensitivity:
    assumption: str
    label: str
    value: Any
    low: Any  # −50 %
    high: Any  # +50 %
    cheapest_low: str | None
    cheapest_high: str | None
    flips: bool  # the cheapest feasible approach changes
    moves_usd: float  # the largest change of the (original) cheapest approach's cost


@dataclass(frozen=True)
class Estimate:
    monthly_queries: int
    approaches: tuple[ApproachEstimate, ...]
    cheapest: str | None  # the cheapest feasible approach
    break_even: tuple[BreakEven, ...]
    sensitivity: tuple[Sensitivity, ...]
    assumptions: Mapping[str, Any]
    price_book: str

    def approach(self, approach_id: str) -> ApproachEstimate:
        return next(a for a in self.approaches if a.approach == approach_id)

    def to_dict(self) -> dict[str, Any]:
        """The `estimate` command's JSON."""
        return {
            "monthly_queries": self.monthly_queries,
            "price_book": self.price_book,
            "approaches": {
                a.approach: {
                    "label": a.label,
                    "monthly_cost_usd": round(a.monthly_cost_usd, 2),
                    "cost_per_1k_queries_usd": _rounded(a.cost_per_1k_queries_usd, 4),
                    "fixed_monthly_usd": round(a.fixed_monthly_usd, 2),
                    "one_off_usd": round(a.one_off_usd, 2),
                    "added_latency_ms": round(a.added_latency_ms, 1),
                    "first_token_ms": round(a.first_token_ms, 1),
                    "fits_latency_budget": a.fits_latency_budget,
                    "fits_context": a.fits_context,
                    "hosting": a.hosting,
                    "ruled_out": a.ruled_out,
                    "model": a.model,
                    "trainable": a.trainable,
                    "feasible": a.feasible,
                    "breakdown": {part: round(usd, 2) for part, usd in a.breakdown.items()},
                }
                for a in self.approaches
            },
            "cheapest": self.cheapest,
            "break_even": [asdict(b) for b in self.break_even],
            "sensitivity": [asdict(s) for s in self.sensitivity],
            "assumptions": dict(self.assumptions),
        }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def usd(amount: float) -> str:
    """Dollars as people read them: cents, and two significant digits below a cent."""
    if abs(amount) >= 0.01 or amount == 0:
        return f"${amount:,.2f}"
    return f"${amount:.{1 - math.floor(math.log10(abs(amount)))}f}"


def price(amount: float) -> str:
    """A unit price as its vendor writes it: $16.00, $0.40, $0.125."""
    cents = f"{amount:,.2f}"
    return f"${cents}" if float(cents.replace(",", "")) == amount else f"${amount:,.6g}"


def plural(count: float, one: str, many: str) -> str:
    return f"{num(count)} {one if count == 1 else many}"


def num(value: float) -> str:
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


# --- one approach -----------------------------------------------------------------------------


class _Recorded(Mapping):
    """The assumptions, noting each one read."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = values
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass
class _Inputs:
    """What one approach's sums read: the assumptions, the offers chosen, the volume."""

    config: EstimatorConfig
    book: PriceBook
    values: Mapping[str, Any]
    monthly_queries: float
    explain: bool = True
    lines: list[CostLine] = field(default_factory=list)

    def tokens(self, part: str) -> float:
        if part == "retrieved_tokens":  # chunk size × top-k, never more than there is
            retrieved = self.values["chunk_tokens"] * self.values["top_k"]
            return float(min(retrieved, self.values["knowledge_tokens"]))
        return float(self.values[part])

    def offer(self, table: str, assumption: str) -> Offer:
        return self.book.offer(table, self.values[assumption])

    def add(
        self, part: str, monthly_usd: float, sums: Callable[[], str], *, fixed: bool = False
    ) -> None:
        """A line of the breakdown; its sums are written out only for the estimate shown
        (sensitivity and the chart re-estimate dozens of times and need only the dollars)."""
        self.lines.append(CostLine(part, monthly_usd, fixed, sums() if self.explain else ""))


def trains_on_own_gpus(values: Mapping[str, Any]) -> bool:
    """Fine-tuning happens on own GPUs when either hosting answer says so."""
    return "self_host" in (values["hosting"], values["fine_tune_hosting"])


def serving_of(prompt: ApproachPrompt, values: Mapping[str, Any], book: PriceBook) -> str:
    """Where the approach's model answers: "api" (priced per token) or "self_host" (GPU
    hours). A fine-tuning offer without per-token prices is served on GPUs."""
    if prompt.model == "generation":
        return values["hosting"]
    if trains_on_own_gpus(values):
        return "self_host"
    return "api" if model_offer(prompt, values, book).serves_per_token else "self_host"


def model_offer(prompt: ApproachPrompt, values: Mapping[str, Any], book: PriceBook) -> Offer:
    """The hosted model (or fine-tuning offer) the approach's prompt is priced with."""
    if prompt.model == "generation":
        return book.offer("generation", values["generation_model"])
    return book.offer("fine_tuning", values["fine_tuning_offer"])


def model_label(prompt: ApproachPrompt, values: Mapping[str, Any], book: PriceBook) -> str:
    """What answers the queries: the hosted model or offer, or the GPU an open model runs on."""
    if serving_of(prompt, values, book) == "self_host":
        return f"an open model on {book.offer('gpu', values['gpu']).label}"
    return model_offer(prompt, values, book).label


def cache_hits(values: Mapping[str, Any], offer: Offer, prefix: float) -> float:
    """The prompt-cache hit rate, or none where the prefix is shorter than the model caches."""
    shortest = offer.get("min_cached_prefix")
    return 0.0 if shortest is not None and prefix < shortest else values["cache_hit_rate"]


def _api_tokens(x: _Inputs, prompt: ApproachPrompt, prefix: float, per_query: float) -> None:
    """Per query: (1 − h) × P at the cache-write price (input where writing costs nothing
    more) + D at the input price; h × P at the cached price; O at the output price."""
    q, out = x.monthly_queries, x.values["output_tokens"]
    offer = model_offer(prompt, x.values, x.book)
    h = cache_hits(x.values, offer, prefix)
    # Some vendors price a whole request higher once its prompt passes a size.
    threshold = offer.get("long_prompt_above")
    tier = "long_" if threshold is not None and prefix + per_query > threshold else ""
    price_in, price_out = offer[f"{tier}input"], offer[f"{tier}output"]
    price_write = offer.get(f"{tier}cache_write")
    if price_write is None:  # writing the cache costs what input costs
        price_write = price_in
    price_cached = offer.get(f"{tier}cached_input")
    if price_cached is None:  # no prompt cache for this model: every token at input price
        price_cached = price_in
    name = offer.label + (f", long-prompt prices above {num(threshold)} tokens" if tier else "")
    x.add(
        "input",
        q * ((1 - h) * prefix * price_write + per_query * price_in) / MILLION,
        lambda: (
            f"{num(q)} queries × ({num(1 - h)} × {num(prefix)} prefix tokens × "
            f"{price(price_write)} + {num(per_query)} tokens × {price(price_in)}) per 1M ({name})"
        ),
    )
    x.add(
        "cached_input",
        q * h * prefix * price_cached / MILLION,
        lambda: (
            f"{num(q)} queries × {num(h)} × {num(prefix)} cached tokens × "
            f"{price(price_cached)} per 1M"
        ),
    )
    x.add(
        "output",
        q * out * price_out / MILLION,
        lambda: f"{num(q)} queries × {num(out)} tokens × {price(price_out)} per 1M",
    )
    hosting = offer.get("hosting")
    if hosting:
        x.add(
            "hosting",
            hosting * HOURS_PER_MONTH,
            lambda: (
                f"{HOURS_PER_MONTH} hours × {price(hosting)} an hour to keep the tuned model up"
            ),
            fixed=True,
        )


@dataclass(frozen=True)
class GpuSizing:
    """What a self-hosted approach's GPU bill scales with, so its cost at another volume
    needs no new estimate: the peak load grows with the monthly volume."""

    replica_usd: float  # one replica for a month
    seconds_per_query: float  # GPU-seconds one query takes
    min_replicas: int
    peak_qps: float  # at the estimate's volume
    peak_per_monthly_query: float  # how the peak grows with the volume

    def replicas(self, monthly_queries: float | None = None) -> int:
        """replicas = max(minimum, ⌈peak queries/s × GPU-seconds per query⌉)."""
        peak = self.peak_qps
        if monthly_queries is not None:
            peak = self.peak_per_monthly_query * monthly_queries
        return max(self.min_replicas, math.ceil(peak * self.seconds_per_query - 1e-9))


def gpu_sizing(
    values: Mapping[str, Any], gpu: Offer, prefix: float, per_query: float, q: float, scale: float
) -> GpuSizing:
    """A query takes (prompt tokens not in the prefix cache) ÷ prefill speed + output ÷
    decode speed of GPU time. The peak grows with the volume: as it stands to this volume,
    or at zero volume as its default would (`scale` peak queries/s per monthly query)."""
    h = values["cache_hit_rate"]
    prompt = ((1 - h) * prefix + per_query) / gpu["prefill_tokens_per_s"]
    seconds = prompt + values["output_tokens"] / gpu["decode_tokens_per_s"]
    return GpuSizing(
        replica_usd=HOURS_PER_MONTH * gpu["hourly"],
        seconds_per_query=seconds,
        min_replicas=values["min_replicas"],
        peak_qps=values["peak_qps"],
        peak_per_monthly_query=values["peak_qps"] / q if q else scale,
    )


def _self_hosted(x: _Inputs, prefix: float, per_query: float) -> GpuSizing:
    gpu = x.offer("gpu", "gpu")
    scale = x.config.assumptions["peak_qps"].scale or 0.0
    sizing = gpu_sizing(x.values, gpu, prefix, per_query, x.monthly_queries, scale)
    replicas = sizing.replicas()
    x.add(
        "hosting",
        replicas * sizing.replica_usd,
        lambda: (
            f"{plural(replicas, 'replica', 'replicas')} × {gpu.label} × {HOURS_PER_MONTH} hours × "
            f"{price(gpu['hourly'])} an hour "
            f"(sized for {num(x.values['peak_qps'])} queries/s at peak)"
        ),
        fixed=True,
    )
    return sizing


def _retrieval(x: _Inputs) -> None:
    """Per query: embed the user input, read the vector store (read units grow with the
    namespace's size), rerank. Fixed: the store (its monthly minimum or its storage,
    whichever is more) and re-indexing."""
    v, q = x.values, x.monthly_queries
    embed = x.offer("embedding", "embedding_model")
    store = x.offer("vector_store", "vector_store")
    knowledge, chunk = v["knowledge_tokens"], v["chunk_tokens"]
    chunks = math.ceil(knowledge / chunk)
    gigabytes = chunks * (embed["dimensions"] * BYTES_PER_DIMENSION + chunk * BYTES_PER_TOKEN) / 1e9
    read_units = max(store["min_read_units"], gigabytes * store["read_units_per_gb"])
    per_query = v["user_input_tokens"] * embed["price"] / MILLION
    per_query += read_units * store["reads"] / MILLION
    rerank = x.offer("reranker", "reranker") if v["use_reranker"] == "yes" else None
    if rerank is not None:
        per_query += rerank["price"] / 1000
    x.add(
        "retrieval",
        q * per_query,
        lambda: (
            f"{num(q)} queries × ({num(v['user_input_tokens'])} tokens × "
            f"{price(embed['price'])} per 1M + {plural(read_units, 'read unit', 'read units')} "
            f"(the greater of {num(store['min_read_units'])} and {gigabytes:.3g} GB × "
            f"{num(store['read_units_per_gb'])}) × {price(store['reads'])} per 1M"
            + (f" + {price(rerank['price'])} per 1,000 reranks ({rerank.label})" if rerank else "")
            + ")"
        ),
    )
    storage = gigabytes * store["storage"]
    x.add(
        "retrieval",
        max(store["minimum"], storage),
        lambda: (
            f"the greater of {store.label}'s {price(store['minimum'])} monthly minimum and "
            f"{num(chunks)} chunks × ({num(embed['dimensions'])} dimensions × 4 bytes + "
            f"{num(chunk)} tokens × 4 bytes) = {gigabytes:.3g} GB × {price(store['storage'])} "
            "per GB-month"
        ),
        fixed=True,
    )
    per_index = knowledge * embed["price"] / MILLION
    per_index += chunks * store["write_units_per_record"] * store["writes"] / MILLION
    x.add(
        "retrieval",
        v["reindex_per_month"] * per_index,
        lambda: (
            f"{plural(v['reindex_per_month'], 're-index', 're-indexes')} × "
            f"({num(knowledge)} tokens × {price(embed['price'])} per 1M + {num(chunks)} chunks × "
            f"{plural(store['write_units_per_record'], 'write unit', 'write units')} × "
            f"{price(store['writes'])} per 1M)"
        ),
        fixed=True,
    )


def _training(x: _Inputs, runs_assumption: str) -> float:
    """Each run trains examples × tokens per example × epochs tokens; runs a month from the
    approach's re-training assumption. Returns the cost of one run (the first is paid once)."""
    v = x.values
    runs = v[runs_assumption]
    tokens = v["training_examples"] * v["example_tokens"] * v["epochs"]
    if not trains_on_own_gpus(v):
        offer = x.offer("fine_tuning", "fine_tuning_offer")
        per_run = tokens * offer["training"] / MILLION

        def how() -> str:
            return (
                f"{num(tokens)} training tokens × {price(offer['training'])} per 1M ({offer.label})"
            )
    else:
        gpu = x.offer("gpu", "gpu")
        hours = tokens / gpu["training_tokens_per_s"] / 3600
        per_run = hours * gpu["hourly"]

        def how() -> str:
            return (
                f"{num(tokens)} training tokens ÷ {num(gpu['training_tokens_per_s'])} tokens/s "
                f"= {hours:.3g} GPU-hours × {price(gpu['hourly'])} ({gpu.label})"
            )

    x.add(
        "training",
        runs * per_run,
        lambda: (
            f"{plural(runs, 'run', 'runs')} a month × {how()} "
            f"({num(v['training_examples'])} examples × {num(v['example_tokens'])} tokens × "
            f"{num(v['epochs'])} epochs)"
        ),
        fixed=True,
    )
    return per_run


def _prompt_seconds(
    h: float, speeds: tuple[float, float | None], prefix: float, per_query: float
) -> float:
    """(1 − h) × P ÷ prefill + h × P ÷ cached prefill + D ÷ prefill; a cached prefix with no
    published speed (own GPUs: the prefix cache skips it) takes no time."""
    prefill, cached = speeds
    cached_seconds = h * prefix / cached if cached else 0.0
    return ((1 - h) * prefix + per_query) / prefill + cached_seconds


def _speeds(
    book: PriceBook, values: Mapping[str, Any], prompt: ApproachPrompt, hosting: str
) -> tuple[float, float | None]:
    """(prefill, cached prefill) speeds in tokens/s; None: a cached prefix costs no time.
    Own GPUs skip a cached prefix (prefix caching); a hosted fine-tuned model runs as fast as
    the base model, with no cache speed-up where it has no cached price."""
    if hosting == "self_host":
        return book.offer("gpu", values["gpu"])["prefill_tokens_per_s"], None
    model = book.offer("generation", values["generation_model"])
    prefill, cached = model["prefill_tokens_per_s"], model["cached_prefill_tokens_per_s"]
    if (
        prompt.model != "generation"
        and model_offer(prompt, values, book).get("cached_input") is None
    ):
        cached = prefill
    return prefill, cached


def _prompt_sizes(x: _Inputs, prompt: ApproachPrompt) -> tuple[float, float]:
    return sum(x.tokens(p) for p in prompt.prefix), sum(x.tokens(p) for p in prompt.per_query)


def estimate_approach(
    config: EstimatorConfig,
    book: PriceBook,
    values: Mapping[str, Any],
    monthly_queries: float,
    approach_id: str,
    *,
    label: str = "",
    ruled_out: str | None = None,
    explain: bool = True,
) -> ApproachEstimate:
    """One approach at this volume; `explain`: write out the sums (the estimate shown), and
    note which assumptions it read."""
    if explain:
        values = _Recorded(values)
    prompt = config.approaches[approach_id]
    x = _Inputs(config, book, values, monthly_queries, explain)
    prefix, per_query = _prompt_sizes(x, prompt)
    hosting = serving_of(prompt, values, book)
    sizing = None
    if hosting == "api":
        _api_tokens(x, prompt, prefix, per_query)
    else:
        sizing = _self_hosted(x, prefix, per_query)
    if prompt.retrieval:
        _retrieval(x)
    one_off = _training(x, prompt.training) if prompt.training else 0.0
    fixed = sum(line.monthly_usd for line in x.lines if line.fixed)
    variable = sum(line.monthly_usd for line in x.lines if not line.fixed)
    per_query_usd = variable / monthly_queries if monthly_queries else _unit_cost(x, prompt)
    monthly = fixed + variable
    added, first_token, sums = _latency(
        config, book, values, prompt, hosting, prefix, per_query, explain=explain
    )
    budget = values["latency_budget_ms"]
    window = _context_window(book, values, prompt, hosting)
    return ApproachEstimate(
        approach=approach_id,
        label=label or approach_id,
        hosting=hosting,
        lines=tuple(x.lines),
        per_query_usd=per_query_usd,
        fixed_monthly_usd=fixed,
        monthly_cost_usd=monthly,
        cost_per_1k_queries_usd=monthly / monthly_queries * 1000 if monthly_queries else None,
        one_off_usd=one_off,
        prompt_tokens=prefix + per_query,
        fits_context=prefix + per_query + values["output_tokens"] <= window,
        added_latency_ms=added,
        first_token_ms=first_token,
        fits_latency_budget=None if budget is None else first_token <= budget,
        latency_sums=sums,
        ruled_out=ruled_out,
        gpu=sizing,
        model=model_label(prompt, values, book) if explain else "",
        # Nothing to train on: it cannot be built, whatever it would cost.
        trainable=not prompt.training or values["training_examples"] > 0,
        reads=frozenset(values.read) if isinstance(values, _Recorded) else None,
    )


def _context_window(
    book: PriceBook, values: Mapping[str, Any], prompt: ApproachPrompt, hosting: str
) -> float:
    """The window of what serves the queries: the open model on own GPUs, the tuned model,
    or the base model; the base model's where the book gives the others none."""
    base = book.offer("generation", values["generation_model"])["context_window"]
    if hosting == "self_host":
        return book.offer("gpu", values["gpu"]).get("context_window") or base
    if prompt.model != "generation":
        return model_offer(prompt, values, book).get("context_window") or base
    return base


def _unit_cost(x: _Inputs, prompt: ApproachPrompt) -> float:
    """The cost of one query, for break-evens at zero volume."""
    one = estimate_approach(x.config, x.book, x.values, 1, prompt.id, explain=False)
    return one.per_query_usd


def _hit_rate(
    book: PriceBook, values: Mapping[str, Any], prompt: ApproachPrompt, hosting: str, prefix: float
) -> float:
    """The cache hit rate this prompt gets where it is served (own GPUs: the assumption)."""
    if hosting == "self_host":
        return values["cache_hit_rate"]
    return cache_hits(values, model_offer(prompt, values, book), prefix)


def _first_token_start(book: PriceBook, values: Mapping[str, Any], hosting: str) -> float:
    """A hosted model's first token for a short prompt (network and queue included); own
    GPUs answer once the prompt is processed."""
    if hosting == "self_host":
        return 0.0
    return book.offer("generation", values["generation_model"])["first_token_ms"]


def _latency(
    config: EstimatorConfig,
    book: PriceBook,
    values: Mapping[str, Any],
    prompt: ApproachPrompt,
    hosting: str,
    prefix: float,
    per_query: float,
    *,
    explain: bool,
) -> tuple[float, float, str]:
    """First token: the hosted model's time to first token for a short prompt (none on own
    GPUs) + this prompt's processing + the retrieval stages (embedding + search +
    reranking). Added: that minus the plain prompt's first token, as the base model serves it."""
    speeds = _speeds(book, values, prompt, hosting)
    baseline = config.approaches[config.baseline]
    x = _Inputs(config, book, values, 0)
    base_prefix, base_per_query = _prompt_sizes(x, baseline)
    hits = _hit_rate(book, values, prompt, hosting, prefix)
    seconds = _prompt_seconds(hits, speeds, prefix, per_query)
    # The plain prompt as it is served: the base model, where the base model runs.
    base_hosting = serving_of(baseline, values, book)
    base_speeds = _speeds(book, values, baseline, base_hosting)
    base_hits = _hit_rate(book, values, baseline, base_hosting, base_prefix)
    base_seconds = _prompt_seconds(base_hits, base_speeds, base_prefix, base_per_query)
    retrieval_ms = 0.0
    stages = []
    if prompt.retrieval:
        names = ["embedding_ms", "vector_search_ms"]
        if values["use_reranker"] == "yes":
            names.append("rerank_ms")
        retrieval_ms = sum(book.latency[name].value for name in names)
        stages = [f"{num(book.latency[name].value)} ms {STAGE_NAMES[name]}" for name in names]
    start = _first_token_start(book, values, hosting)
    first = start + 1000 * seconds + retrieval_ms
    base_first = _first_token_start(book, values, base_hosting) + 1000 * base_seconds
    added = first - base_first
    if not explain:
        return added, first, ""
    prefill, cached = speeds
    sums = (
        f"prompt processing {1000 * seconds:,.0f} ms ({num(prefix)} prefix tokens, "
        f"{hits:.0%} of them cached, + {num(per_query)} tokens, at "
        f"{num(prefill)} tokens/s"
        + (f", cached at {num(cached)} tokens/s" if cached else "")
        + ")"
        + (" + " + " + ".join(stages) if stages else "")
        + f"; first token {first:,.0f} ms against the plain prompt's {base_first:,.0f} ms"
    )
    return added, first, sums


# --- all approaches ---------------------------------------------------------------------------


def estimate_all(
    config: EstimatorConfig,
    book: PriceBook,
    values: Mapping[str, Any],
    monthly_queries: float,
    *,
    labels: Mapping[str, str] | None = None,
    ruled_out: Mapping[str, str] | None = None,
    explain: bool = True,
) -> tuple[ApproachEstimate, ...]:
    labels, ruled_out = labels or {}, ruled_out or {}
    return tuple(
        estimate_approach(
            config, book, values, monthly_queries, approach_id,
            label=labels.get(approach_id, ""), ruled_out=ruled_out.get(approach_id),
            explain=explain,
        )
        for approach_id in config.approaches
    )  # fmt: skip


def cheapest(approaches: tuple[ApproachEstimate, ...]) -> str | None:
    feasible = [a for a in approaches if a.feasible]
    if not feasible:
        return None
    return min(feasible, key=lambda a: a.monthly_cost_usd).approach


def break_evens(approaches: tuple[ApproachEstimate, ...]) -> tuple[BreakEven, ...]:
    """For each pair of possible approaches where one has the lower fixed cost and the other
    the lower cost per query: volume = difference of fixed costs ÷ difference of per-query
    costs. With GPUs sized by the peak the costs are steps, so a pair with a self-hosted
    approach is crossed on the cost curves themselves. An approach costing exactly what a
    lighter one costs adds nothing."""
    found = []
    candidates: list[ApproachEstimate] = []
    for approach in approaches:
        same = any(
            (c.fixed_monthly_usd, c.per_query_usd, c.gpu)
            == (approach.fixed_monthly_usd, approach.per_query_usd, approach.gpu)
            for c in candidates
        )
        if approach.feasible and not same:
            candidates.append(approach)
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            point = _crossing(a, b) if a.gpu or b.gpu else _linear_crossing(a, b)
            if point is not None and point.monthly_queries >= 1:  # below: no one plans for it
                found.append(point)
    return tuple(sorted(found, key=lambda b: b.monthly_queries))


def _linear_crossing(a: ApproachEstimate, b: ApproachEstimate) -> BreakEven | None:
    low_fixed, low_unit = (a, b) if a.fixed_monthly_usd < b.fixed_monthly_usd else (b, a)
    fixed_gap = low_unit.fixed_monthly_usd - low_fixed.fixed_monthly_usd
    unit_gap = low_fixed.per_query_usd - low_unit.per_query_usd
    if fixed_gap <= 0 or unit_gap <= 0:
        return None  # one is cheaper at every volume
    volume = fixed_gap / unit_gap
    return BreakEven(
        cheaper_below=low_fixed.approach,
        cheaper_above=low_unit.approach,
        monthly_queries=volume,
        monthly_cost_usd=low_fixed.fixed_monthly_usd + volume * low_fixed.per_query_usd,
    )


CROSSING_RANGE = (0, 9)  # decades of monthly queries searched: 1 to 1 billion
CROSSING_STEPS = 8  # samples a decade, then halving the interval found


def _crossing(a: ApproachEstimate, b: ApproachEstimate) -> BreakEven | None:
    """The first volume where the cheaper of the two becomes the dearer, on their curves."""

    def gap(volume: float) -> float:
        return a.cost_at(volume) - b.cost_at(volume)

    low, high = CROSSING_RANGE
    volumes = [10 ** (low + i / CROSSING_STEPS) for i in range((high - low) * CROSSING_STEPS + 1)]
    gaps = [gap(volume) for volume in volumes]
    for i in range(len(volumes) - 1):
        if (gaps[i] < 0) == (gaps[i + 1] < 0) or gaps[i] == 0:
            continue
        left, right = volumes[i], volumes[i + 1]
        below = a if gaps[i] < 0 else b
        for _ in range(40):
            middle = math.sqrt(left * right)
            left, right = (middle, right) if (gap(middle) < 0) == (below is a) else (left, middle)
        above = b if below is a else a
        return BreakEven(below.approach, above.approach, right, above.cost_at(right))
    return None


def varied(config: EstimatorConfig, assumption_id: str, value: Any, factor: float) -> Any:
    """`value` × factor, kept within the assumption's limits (and whole for integers)."""
    assumption = config.assumptions[assumption_id]
    changed = value * factor
    if assumption.kind == "integer":
        changed = round(changed)
    if assumption.minimum is not None:
        changed = max(assumption.minimum, changed)
    if assumption.maximum is not None:
        changed = min(assumption.maximum, changed)
    return changed


def sensitivity(
    config: EstimatorConfig,
    book: PriceBook,
    values: Mapping[str, Any],
    monthly_queries: float,
    approaches: tuple[ApproachEstimate, ...],
    *,
    reuse: bool = True,
) -> tuple[Sensitivity, ...]:
    """Vary each numeric assumption by −50 % and +50 %: those that change the cheapest
    feasible approach first, then by how far they move its monthly cost; the top three.
    `reuse`: an approach that never read the varied assumption is not estimated again (the
    tests check this against re-estimating everything)."""
    best = cheapest(approaches)
    if best is None:
        return ()
    best_cost = next(a for a in approaches if a.approach == best).monthly_cost_usd
    found = []
    for assumption in config.assumptions.values():
        value = values.get(assumption.id)
        if assumption.kind == "choice" or value is None or value == 0:
            continue
        outcomes = []
        for factor in SENSITIVITY_FACTORS:
            changed = varied(config, assumption.id, value, factor)
            if changed == value:
                outcomes.append((best, best_cost, value))
                continue
            trial = _varied_estimates(
                config, book, {**values, assumption.id: changed}, monthly_queries, approaches,
                assumption.id, reuse=reuse,
            )  # fmt: skip
            cost = next(a for a in trial if a.approach == best).monthly_cost_usd
            outcomes.append((cheapest(trial), cost, changed))
        (low_best, low_cost, low), (high_best, high_cost, high) = outcomes
        found.append(
            Sensitivity(
                assumption=assumption.id,
                label=assumption.label,
                value=value,
                low=low,
                high=high,
                cheapest_low=low_best,
                cheapest_high=high_best,
                flips=best not in (low_best, high_best) or low_best != high_best,
                moves_usd=max(abs(low_cost - best_cost), abs(high_cost - best_cost)),
            )
        )
    found = [s for s in found if s.flips or s.moves_usd >= 0.01]  # what moves nothing says nothing
    found.sort(key=lambda s: (not s.flips, -s.moves_usd))
    return tuple(found[:SENSITIVE_SHOWN])


def _varied_estimates(
    config: EstimatorConfig,
    book: PriceBook,
    values: Mapping[str, Any],
    monthly_queries: float,
    approaches: tuple[ApproachEstimate, ...],
    assumption_id: str,
    *,
    reuse: bool,
) -> tuple[ApproachEstimate, ...]:
    return tuple(
        approach
        if reuse and approach.reads is not None and assumption_id not in approach.reads
        else estimate_approach(
            config,
            book,
            values,
            monthly_queries,
            approach.approach,
            ruled_out=approach.ruled_out,
            explain=False,
        )  # fmt: skip
        for approach in approaches
    )


def estimate(
    config: EstimatorConfig,
    book: PriceBook,
    values: Mapping[str, Any],
    monthly_queries: int,
    *,
    labels: Mapping[str, str] | None = None,
    ruled_out: Mapping[str, str] | None = None,
) -> Estimate:
    """Every approach at this volume, the cheapest feasible one, break-evens, sensitivity."""
    ruled_out = ruled_out or {}
    approaches = estimate_all(
        config, book, values, monthly_queries, labels=labels, ruled_out=ruled_out
    )
    return Estimate(
        monthly_queries=monthly_queries,
        approaches=approaches,
        cheapest=cheapest(approaches),
        break_even=break_evens(approaches),
        sensitivity=sensitivity(config, book, values, monthly_queries, approaches),
        assumptions=dict(values),
        price_book=book.id,
    )


def costs_at(
    approaches: tuple[ApproachEstimate, ...], volumes: tuple[float, ...]
) -> dict[str, list[float]]:
    """Each approach's monthly cost at each volume (the chart's lines)."""
    return {a.approach: [a.cost_at(volume) for volume in volumes] for a in approaches}
