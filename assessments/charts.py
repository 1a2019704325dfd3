"""The per-approach score chart: its geometry, computed here and drawn by the template
`assessments/score_chart.svg` (so every text in it is escaped by the template engine).
The report page and the PDF memo include the same template."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

BAR_HEIGHT = 28
ROW_GAP = 18
LABEL_WIDTH = 120
BAR_MAX = 320
VALUE_WIDTH = 150
TOP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    is_verdict: bool
    note: str  # "verdict", "ruled out" or ""
    y: int
    text_y: float
    width: int  # of the filled part


@dataclass(frozen=True)
class ScoreChart:
    width: int
    height: int
    summary: str  # the chart in words, for screen readers
    bars: tuple[Bar, ...]
    bar_height: int = BAR_HEIGHT
    label_x: int = LABEL_WIDTH - 10
    bar_x: int = LABEL_WIDTH
    bar_max: int = BAR_MAX
    value_x: int = LABEL_WIDTH + BAR_MAX + 10


def score_chart(
    scores: Mapping[str, int],
    labels: Mapping[str, str],
    verdict: str,
    ruled_out: Mapping[str, list[str]],
) -> ScoreChart:
    """Horizontal bars, one per approach. The verdict is marked in text and by a solid fill,
    never by colour alone; the caller shows the same numbers as a table beside it."""
    bars = []
    for row, (approach, value) in enumerate(scores.items()):
        y = TOP + row * (BAR_HEIGHT + ROW_GAP)
        is_verdict = approach == verdict
        bars.append(
            Bar(
                label=labels[approach],
                value=value,
                is_verdict=is_verdict,
                note="verdict" if is_verdict else ("ruled out" if ruled_out.get(approach) else ""),
                y=y,
                text_y=y + BAR_HEIGHT / 2 + 5,
                width=max(2, round(BAR_MAX * value / 100)),
            )
        )
    summary = "; ".join(
        f"{bar.label} {bar.value} of 100{' (verdict)' if bar.is_verdict else ''}" for bar in bars
    )
    return ScoreChart(
        width=LABEL_WIDTH + BAR_MAX + VALUE_WIDTH,
        height=TOP * 2 + len(bars) * (BAR_HEIGHT + ROW_GAP) - ROW_GAP,
        summary=summary,
        bars=tuple(bars),
    )
