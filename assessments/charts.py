"""The per-approach score chart: its geometry, computed here and drawn by the template
`assessments/score_chart.svg` (so every text in it is escaped by the template engine).

Two layouts of the same bars: "wide" (label, bar and value on one line: the page on a
desktop and the PDF memo) and "narrow" (each label above its bar, for a phone, where the
wide one would shrink its text below reading size or scroll sideways)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assessments.template_data import TemplateData

FONT_SIZE = 14


@dataclass(frozen=True)
class Layout(TemplateData):
    name: str
    width: int
    bar_max: int
    bar_height: int
    row_height: int  # from one bar to the next
    label_above: bool  # else the label stands left of its bar
    label_width: int = 0  # with the label beside the bar: the room it has
    top: int = 8


WIDE = Layout("wide", width=590, bar_max=320, bar_height=28, row_height=46, label_above=False,
              label_width=120)  # fmt: skip
# Label left and value right on one line, the bar full width below them.
NARROW = Layout("narrow", width=340, bar_max=340, bar_height=22, row_height=50, label_above=True)


@dataclass(frozen=True)
class Bar(TemplateData):
    label: str
    value: int
    is_verdict: bool
    note: str  # "verdict", "ruled out" or ""
    label_x: int
    label_y: float
    label_anchor: str
    y: int
    width: int  # of the filled part
    value_x: int
    value_y: float
    value_anchor: str


@dataclass(frozen=True)
class ScoreChart(TemplateData):
    id: str  # unique on a page that shows both layouts
    layout: Layout
    height: int
    summary: str  # the chart in words, for screen readers
    bars: tuple[Bar, ...]
    bar_x: int

    @property
    def width(self) -> int:
        return self.layout.width


def _bar(layout: Layout, row: int, label: str, value: int, is_verdict: bool, note: str) -> Bar:
    row_top = layout.top + row * layout.row_height
    if layout.label_above:  # label left and value right on one line, the bar below
        y = row_top + FONT_SIZE + 6
        label_x, label_y, label_anchor = 0, float(row_top + FONT_SIZE), "start"
        value_x, value_y, value_anchor = layout.width - 4, label_y, "end"  # glyphs overhang
    else:  # label, bar and value on one line
        y = row_top
        middle = row_top + layout.bar_height / 2 + 5
        label_x, label_y, label_anchor = layout.label_width - 10, middle, "end"
        value_x, value_y, value_anchor = layout.label_width + layout.bar_max + 10, middle, "start"
    return Bar(
        label=label,
        value=value,
        is_verdict=is_verdict,
        note=note,
        label_x=label_x,
        label_y=label_y,
        label_anchor=label_anchor,
        y=y,
        width=max(2, round(layout.bar_max * value / 100)),
        value_x=value_x,
        value_y=value_y,
        value_anchor=value_anchor,
    )


def score_chart(
    scores: Mapping[str, int],
    labels: Mapping[str, str],
    verdict: str,
    ruled_out: Mapping[str, list[str]],
    layout: Layout = WIDE,
) -> ScoreChart:
    """Horizontal bars, one per approach. The verdict is marked in text and by a solid fill,
    never by colour alone; the caller shows the same numbers as a table beside it."""
    bars = tuple(
        _bar(
            layout,
            row,
            labels[approach],
            value,
            approach == verdict,
            "verdict" if approach == verdict else ("ruled out" if ruled_out.get(approach) else ""),
        )
        for row, (approach, value) in enumerate(scores.items())
    )
    summary = "; ".join(
        f"{bar.label} {bar.value} of 100{' (verdict)' if bar.is_verdict else ''}" for bar in bars
    )
    last = bars[-1]
    return ScoreChart(
        id="score-chart" if layout is WIDE else f"score-chart-{layout.name}",
        layout=layout,
        height=last.y + layout.bar_height + layout.top,
        summary=summary,
        bars=bars,
        bar_x=0 if layout.label_above else layout.label_width,
    )


# --- The v2 ladder: the five approaches, lightest to heaviest ------------------------------
#
# One row per rung: its label (wrapped to the layout's width), then a bar whose length grows
# with the rung's weight (a staircase), then the rung's status beside the bar. The verdict is
# a solid bar, a ruled-out rung a hatched one and a not-needed rung an outline, each also
# named in text, so nothing relies on colour. No scores: v2 has none.

# A generous average glyph width (DejaVu Sans, the widest font the page or memo may use),
# so an estimated line never runs past the edge.
GLYPH_WIDTH = 0.62


@dataclass(frozen=True)
class LadderLayout(TemplateData):
    name: str
    width: int
    bar_max: int  # the heaviest rung's bar
    bar_height: int
    gap: int  # between one rung's bar and the next rung's label
    top: int = 6


LADDER_WIDE = LadderLayout("wide", width=590, bar_max=360, bar_height=22, gap=14)
# Fits a 390 px phone (about 340 px of content) at its natural size.
LADDER_NARROW = LadderLayout("narrow", width=340, bar_max=190, bar_height=20, gap=12)


@dataclass(frozen=True)
class RungInput:
    label: str
    status: str  # "chosen", "ruled_out" or "not_needed"
    status_text: str  # shown beside the bar


@dataclass(frozen=True)
class LadderLine(TemplateData):
    text: str
    y: float


@dataclass(frozen=True)
class LadderRung(TemplateData):
    number: int
    label: str
    status: str
    status_text: str
    lines: tuple[LadderLine, ...]  # the label, wrapped
    y: int  # the bar's top
    width: int  # the bar's length
    status_x: int
    status_y: float

    @property
    def is_verdict(self) -> bool:
        return self.status == "chosen"


@dataclass(frozen=True)
class LadderChart(TemplateData):
    id: str
    layout: LadderLayout
    height: int
    summary: str
    rungs: tuple[LadderRung, ...]

    @property
    def width(self) -> int:
        return self.layout.width


def wrap_text(text: str, width: int, font_size: int = FONT_SIZE) -> tuple[str, ...]:
    """`text` in lines that fit `width` pixels (estimated), broken between words."""
    most = max(1, int(width / (font_size * GLYPH_WIDTH)))
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= most:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return tuple(lines) or ("",)


def ladder_chart(rungs: Sequence[RungInput], layout: LadderLayout = LADDER_WIDE) -> LadderChart:
    """The ladder, lightest rung first; each bar's length is its place on the ladder."""
    line_height = FONT_SIZE + 4
    y = layout.top
    drawn = []
    for number, rung in enumerate(rungs, start=1):
        texts = wrap_text(f"{number}. {rung.label}", layout.width)
        lines = tuple(
            LadderLine(text, float(y + FONT_SIZE + index * line_height))
            for index, text in enumerate(texts)
        )
        bar_y = y + len(texts) * line_height + 4
        width = round(layout.bar_max * number / len(rungs))
        drawn.append(
            LadderRung(
                number=number,
                label=rung.label,
                status=rung.status,
                status_text=rung.status_text,
                lines=lines,
                y=bar_y,
                width=width,
                status_x=width + 8,
                status_y=bar_y + layout.bar_height / 2 + 5,
            )
        )
        y = bar_y + layout.bar_height + layout.gap
    summary = "; ".join(f"{r.number}. {r.label}: {r.status_text}" for r in drawn)
    return LadderChart(
        id="ladder-chart" if layout is LADDER_WIDE else f"ladder-chart-{layout.name}",
        layout=layout,
        height=y - layout.gap + layout.top,
        summary="From lightest to heaviest: " + summary,
        rungs=tuple(drawn),
    )
