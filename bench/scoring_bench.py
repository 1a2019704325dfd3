"""Benchmark: scoring plus flips for one assessment (target: well under 5 ms)."""

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessments.rubric import load_rubric  # noqa: E402
from assessments.scoring import score  # noqa: E402
from assessments.validation import clean_answers  # noqa: E402

TARGET_MS = 5.0
ROUNDS = 200


def main() -> int:
    rubric = load_rubric()
    scenarios = json.loads((ROOT / "assessments/data/scenarios.json").read_text())["scenarios"]
    worst = 0.0
    for scenario in scenarios:
        answers = clean_answers(scenario["answers"], rubric)
        timings = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            score(answers, rubric)
            timings.append((time.perf_counter() - start) * 1000)
        median, p95 = statistics.median(timings), sorted(timings)[int(ROUNDS * 0.95)]
        worst = max(worst, p95)
        print(f"{scenario['id']:<24} median {median:6.3f} ms   p95 {p95:6.3f} ms")
    verdict = "OK" if worst < TARGET_MS else "TOO SLOW"
    print(f"score + flips, worst p95: {worst:.3f} ms (target < {TARGET_MS} ms): {verdict}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
