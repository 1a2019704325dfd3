"""The cost chart of "Run the numbers": monthly cost against monthly queries, both on log
scales, a line per approach, the assessment's volume marked and break-evens numbered. Its
geometry is computed here and drawn by `assessments/cost_chart.svg` (so every text in it is
escaped by the template engine), the same on the page and in the PDF memo.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assessments.template_data import TemplateData

VOLUME_DECADES = (3, 7)  # 1,000 to 10 million queries a month
POINTS_PER_DECADE = 4
VOLUMES = tuple(
    10 ** (VOLUME_DECADES[0] + i / POINTS_PER_DECADE)
    for i in range((VOLUME_DECADES[1] - VOLUME_DECADES[0]) * POINTS_PER_DECADE + 1)
)
TABLE_VOLUMES = tuple(10**d for d in range(VOLUME_DECADES[0], VOLUME_DECADES[1] + 1))

WIDTH = 640
LEFT, RIGHT, TOP, PLOT_HEIGHT = 64, 16, 14, 280
AXIS_LABELS = 40  # below the plot: the ticks, then the axis title
LEGEND_ROW, LEGEND_COLUMNS = 20, 1
# A colour and a dash per approach, in ladder order, so lines differ without colour too.
LOOKS = (
    ("#1f5f8b", ""),
    ("#b5562b", "8 4"),
    ("#2e7d4f", "2 4"),
    ("#7b4fa0", "10 4 2 4"),
    ("#8a6d00", "14 6"),
)
RULED_OUT_COLOUR = "#9aa8b8"


@dataclass(frozen=True)
class Series:
    """One approach's costs at VOLUMES (and at the assessment's volume)."""

    approach: str
    label: str
    costs: Sequence[float]
    ruled_out: bool
    emphasised: bool  # the verdict


@dataclass(frozen=True)
class CostLine(TemplateData):
    approach: str
    label: str
    points: str  # "x,y x,y ..." for <polyline>
    colour: str
    dash: str
    width: float
    ruled_out: bool
    legend_x: int
    legend_y: int


@dataclass(frozen=True)
class Tick(TemplateData):
    position: float
    text: str


@dataclass(frozen=True)
class Crossing(TemplateData):
    number: int
    x: float
    y: float


@dataclass(frozen=True)
class CostChart(TemplateData):
    id: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    lines: tuple[CostLine, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    volume_x: float | None  # the assessment's volume, when within the chart
    volume_text: str
    crossings: tuple[Crossing, ...]
    summary: str


def money_tick(amount: float) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if amount >= size:
            return f"${amount / size:g}{suffix}"
    return f"${amount:g}"


def volume_tick(volume: float) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if volume >= size:
            return f"{volume / size:g}{suffix}"
    return f"{volume:g}"


def _cost_range(series: Sequence[Series]) -> tuple[int, int]:
    """Whole decades around every positive cost drawn."""
    positive = [c for s in series for c in s.costs if c > 0]
    if not positive:
        return 0, 1
    low = math.floor(math.log10(min(positive)))
    high = math.ceil(math.log10(max(positive)))
    return low, max(high, low + 1)


def cost_chart(
    series: Sequence[Series],
    monthly_queries: float,
    crossings: Sequence[tuple[float, float]],
    summary: str,
    chart_id: str = "cost-chart",
) -> CostChart:
    """`series` costs are at VOLUMES; `crossings` are (volume, cost) break-evens, numbered
    in order on the chart and in the text beside it."""
    plot_right = WIDTH - RIGHT
    plot_bottom = TOP + PLOT_HEIGHT
    low, high = _cost_range(series)

    def x_of(volume: float) -> float:
        share = (math.log10(volume) - VOLUME_DECADES[0]) / (VOLUME_DECADES[1] - VOLUME_DECADES[0])
        return round(LEFT + share * (plot_right - LEFT), 1)

    def y_of(cost: float) -> float:
        level = math.log10(cost) if cost > 0 else low
        share = (min(max(level, low), high) - low) / (high - low)
        return round(plot_bottom - share * PLOT_HEIGHT, 1)

    legend_top = plot_bottom + AXIS_LABELS + 8
    column_width = (plot_right - LEFT) // LEGEND_COLUMNS
    lines = []
    for index, one in enumerate(series):
        colour, dash = LOOKS[index % len(LOOKS)]
        if one.ruled_out:  # greyed, its dash kept so the grey lines stay apart
            colour, dash = RULED_OUT_COLOUR, dash or "3 3"
        lines.append(
            CostLine(
                approach=one.approach,
                label=one.label + (" (ruled out)" if one.ruled_out else ""),
                points=" ".join(
                    f"{x_of(v)},{y_of(c)}" for v, c in zip(VOLUMES, one.costs, strict=True)
                ),
                colour=colour,
                dash=dash,
                width=1.5 if one.ruled_out else (3.5 if one.emphasised else 2.5),
                ruled_out=one.ruled_out,
                legend_x=LEFT + (index % LEGEND_COLUMNS) * column_width,
                legend_y=legend_top + (index // LEGEND_COLUMNS) * LEGEND_ROW,
            )
        )
    rows = math.ceil(len(series) / LEGEND_COLUMNS)
    inside = VOLUMES[0] <= monthly_queries <= VOLUMES[-1]
    return CostChart(
        id=chart_id,
        width=WIDTH,
        height=legend_top + rows * LEGEND_ROW,
        plot_left=LEFT,
        plot_right=plot_right,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        lines=tuple(lines),
        x_ticks=tuple(Tick(x_of(v), volume_tick(v)) for v in TABLE_VOLUMES),
        y_ticks=tuple(Tick(y_of(10**d), money_tick(10**d)) for d in range(low, high + 1)),
        volume_x=x_of(monthly_queries) if inside else None,
        volume_text=f"{monthly_queries:,.0f} a month",
        crossings=tuple(
            Crossing(number, x_of(v), y_of(c))
            for number, (v, c) in enumerate(crossings, start=1)
            if VOLUMES[0] <= v <= VOLUMES[-1]
        ),
        summary=summary,
    )


def table_costs(
    costs_at: Mapping[str, Sequence[float]], approaches: Sequence[str]
) -> list[list[float]]:
    """The chart as a table: for each of TABLE_VOLUMES, each approach's cost (costs_at
    holds each approach's costs at TABLE_VOLUMES)."""
    return [[costs_at[a][row] for a in approaches] for row in range(len(TABLE_VOLUMES))]
