"""Benchmark: scoring plus flips for one assessment, every worked example (target < 5 ms),
and "Run the numbers" (the estimate with its sensitivity) for every worked example of a
rubric with an estimator (target < 5 ms).

The figure judged is each scenario's median; p95 is shown too (on a busy machine it mostly
measures the neighbours). bench/run.py repeats `measure()` and `measure_estimates()` and
takes medians.
"""

import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessments.estimator import (  # noqa: E402
    current_book_id,
    estimate_for,
    has_estimator,
    load_price_book,
)
from assessments.rubric import load_rubric  # noqa: E402
from assessments.scoring import score  # noqa: E402
from assessments.validation import clean_answers  # noqa: E402

TARGET_MS = 5.0
ROUNDS = 200


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# Every worked example file, each scored under the rubric it names (v1's file names none):
# v1 reports are still served, v2 is what new assessments use.
SCENARIO_FILES = ("scenarios.json", "scenarios-v2.json")


def worked_examples() -> list[tuple[str, dict, object]]:
    """(id, answers, rubric) for every worked example."""
    examples = []
    for name in SCENARIO_FILES:
        data = json.loads((ROOT / "assessments/data" / name).read_text())
        rubric = load_rubric(data.get("rubric_version", "v1"))
        examples += [(s["id"], s["answers"], rubric) for s in data["scenarios"]]
    return examples


def measure(rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Milliseconds per score() call with flips, `rounds` calls per worked scenario."""
    timings: dict[str, list[float]] = {}
    for scenario_id, raw, rubric in worked_examples():
        answers = clean_answers(raw, rubric)
        score(answers, rubric)  # warm-up
        runs = []
        for _ in range(rounds):
            start = time.perf_counter()
            score(answers, rubric)
            runs.append((time.perf_counter() - start) * 1000)
        timings[scenario_id] = runs
        gc.collect()
    return timings


def measure_estimates(rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Milliseconds per estimate_for() call (every approach, break-evens and the sensitivity
    re-estimates), `rounds` calls per worked example of a rubric with an estimator, under the
    current price book. The answers are cleaned and scored once, outside the timing: the
    page has the result already when it runs the numbers."""
    book = load_price_book(current_book_id())
    timings: dict[str, list[float]] = {}
    for scenario_id, raw, rubric in worked_examples():
        if not has_estimator(rubric.version):
            continue
        answers = clean_answers(raw, rubric)
        result = score(answers, rubric)
        estimate_for(answers, rubric, result, {}, book)  # warm-up (and the config's load)
        runs = []
        for _ in range(rounds):
            start = time.perf_counter()
            estimate_for(answers, rubric, result, {}, book)
            runs.append((time.perf_counter() - start) * 1000)
        timings[scenario_id] = runs
        gc.collect()
    return timings


def report(name: str, timings: dict[str, list[float]]) -> bool:
    """Print each example's median and p95; whether the worst median meets the target."""
    worst = 0.0
    for scenario_id, runs in timings.items():
        median, p95 = statistics.median(runs), percentile(runs, 0.95)
        worst = max(worst, median)
        print(f"{scenario_id:<30} median {median:6.3f} ms   p95 {p95:6.3f} ms")
    verdict = "OK" if worst < TARGET_MS else "TOO SLOW"
    print(f"{name}, worst median: {worst:.3f} ms (target < {TARGET_MS} ms): {verdict}")
    return worst < TARGET_MS


def main() -> int:
    scoring_ok = report("score + flips", measure())
    print()
    estimate_ok = report("estimate + sensitivity", measure_estimates())
    return 0 if scoring_ok and estimate_ok else 1


if __name__ == "__main__":
    sys.exit(main())
