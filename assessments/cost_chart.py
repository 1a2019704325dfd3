"""The cost chart of "Run the numbers": monthly cost against monthly queries, both on log
scales, a line per approach, the assessment's volume marked and break-evens numbered. Its
geometry is computed here and drawn by `assessments/cost_chart.svg` (so every text in it is
escaped by the template engine), the same on the page and in the PDF memo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from assessments.charts import wrap_text
from assessments.template_data import TemplateData

VOLUME_DECADES = (3, 7)  # 1,000 to 10 million queries a month
POINTS_PER_DECADE = 4
VOLUMES = tuple(
    10 ** (VOLUME_DECADES[0] + i / POINTS_PER_DECADE)
    for i in range((VOLUME_DECADES[1] - VOLUME_DECADES[0]) * POINTS_PER_DECADE + 1)
)
TABLE_VOLUMES = tuple(10**d for d in range(VOLUME_DECADES[0], VOLUME_DECADES[1] + 1))


@dataclass(frozen=True)
class Layout(TemplateData):
    """Two sizes of the same chart: "wide" (a desktop page and the PDF memo) and "narrow"
    (a 390 px phone shows it at its natural size, so its text stays readable)."""

    name: str
    width: int
    left: int  # room for the cost labels
    plot_height: int
    right: int = 16
    top: int = 28  # room for the cost axis' title


WIDE = Layout("wide", width=640, left=64, plot_height=280)
NARROW = Layout("narrow", width=340, left=52, plot_height=220, right=18)
AXIS_LABELS = 40  # below the plot: the volume ticks, then the axis title
LEGEND_ROW, LEGEND_LINE = 20, 15  # from one entry to the next; a label's second line
LEGEND_TEXT_X, LEGEND_FONT = 40, 12
# A colour and a dash per approach, in ladder order, so lines differ without colour too.
LOOKS = (
    ("#1f5f8b", ""),
    ("#b5562b", "8 4"),
    ("#2e7d4f", "2 4"),
    ("#7b4fa0", "10 4 2 4"),
    ("#8a6d00", "14 6"),
)
RULED_OUT_COLOUR = "#7d8b99"  # 3.5:1 on white


@dataclass(frozen=True)
class Series:
    """One approach's costs at VOLUMES (and at the assessment's volume)."""

    approach: str
    label: str
    costs: Sequence[float]
    ruled_out: bool
    emphasised: bool  # the verdict
    greyed: bool = False  # not an option for another reason (the label says why)


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
    legend_lines: tuple[tuple[str, int], ...]  # the label, wrapped: (text, y)


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
    layout: Layout
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
    volume_anchor: str  # its label's text-anchor
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
    layout: Layout = WIDE,
) -> CostChart:
    """`series` costs are at VOLUMES; `crossings` are (volume, cost) break-evens, numbered
    in order on the chart and in the text beside it."""
    left, plot_right = layout.left, layout.width - layout.right
    plot_bottom = layout.top + layout.plot_height
    low, high = _cost_range(series)

    def x_of(volume: float) -> float:
        share = (math.log10(volume) - VOLUME_DECADES[0]) / (VOLUME_DECADES[1] - VOLUME_DECADES[0])
        return round(left + share * (plot_right - left), 1)

    def y_of(cost: float) -> float:
        level = math.log10(cost) if cost > 0 else low
        share = (min(max(level, low), high) - low) / (high - low)
        return round(plot_bottom - share * layout.plot_height, 1)

    legend_y = plot_bottom + AXIS_LABELS + 8
    lines = []
    for index, one in enumerate(series):
        label = (
            one.label
            + (" (ruled out)" if one.ruled_out else "")
            + (" (verdict)" if one.emphasised else "")
        )
        wrapped = wrap_text(label, layout.width - LEGEND_TEXT_X - 4, LEGEND_FONT)
        colour, dash = LOOKS[index % len(LOOKS)]
        if one.ruled_out or one.greyed:  # grey, its dash kept so the grey lines stay apart
            colour, dash = RULED_OUT_COLOUR, dash or "12 3"
        lines.append(
            CostLine(
                approach=one.approach,
                label=label,
                points=" ".join(
                    f"{x_of(v)},{y_of(c)}" for v, c in zip(VOLUMES, one.costs, strict=True)
                ),
                colour=colour,
                dash=dash,
                width=1.5 if one.ruled_out or one.greyed else (3.5 if one.emphasised else 2.5),
                ruled_out=one.ruled_out or one.greyed,
                legend_x=4,
                legend_y=legend_y,
                legend_lines=tuple(
                    (text, legend_y + row * LEGEND_LINE) for row, text in enumerate(wrapped)
                ),
            )
        )
        legend_y += LEGEND_ROW + (len(wrapped) - 1) * LEGEND_LINE
    inside = VOLUMES[0] <= monthly_queries <= VOLUMES[-1]
    return CostChart(
        id="cost-chart" if layout is WIDE else f"cost-chart-{layout.name}",
        layout=layout,
        width=layout.width,
        height=legend_y,
        plot_left=left,
        plot_right=plot_right,
        plot_top=layout.top,
        plot_bottom=plot_bottom,
        lines=tuple(lines),
        x_ticks=tuple(Tick(x_of(v), volume_tick(v)) for v in TABLE_VOLUMES),
        y_ticks=tuple(Tick(y_of(10**d), money_tick(10**d)) for d in range(low, high + 1)),
        volume_x=x_of(monthly_queries) if inside else None,
        # The label reads away from the edge it is nearer.
        volume_anchor="end"
        if inside and x_of(monthly_queries) > (left + plot_right) / 2
        else "start",
        volume_text=f"{monthly_queries:,.0f} a month",
        crossings=tuple(
            Crossing(number, x_of(v), y_of(c))
            for number, (v, c) in enumerate(crossings, start=1)
            if VOLUMES[0] <= v <= VOLUMES[-1]
        ),
        summary=summary,
    )
