"""The per-approach score chart as inline SVG, shared by the report page and the PDF memo."""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape

BAR_HEIGHT = 28
ROW_GAP = 18
LABEL_WIDTH = 120
BAR_MAX = 320
VALUE_WIDTH = 150
TOP = 8


def score_chart_svg(
    scores: Mapping[str, int],
    labels: Mapping[str, str],
    verdict: str,
    ruled_out: Mapping[str, list[str]],
    *,
    chart_id: str = "score-chart",
) -> str:
    """Horizontal bars, one per approach. The verdict is marked in text and by a solid fill,
    never by colour alone; the caller shows the same numbers as a table beside it."""
    width = LABEL_WIDTH + BAR_MAX + VALUE_WIDTH
    height = TOP * 2 + len(scores) * (BAR_HEIGHT + ROW_GAP) - ROW_GAP
    summary = "; ".join(
        f"{labels[a]} {s} of 100{' (verdict)' if a == verdict else ''}" for a, s in scores.items()
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="score-chart" id="{chart_id}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">Scores per approach</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#e8ecf1"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#9aa8b8" stroke-width="2"/></pattern></defs>',
    ]
    for row, (approach, value) in enumerate(scores.items()):
        y = TOP + row * (BAR_HEIGHT + ROW_GAP)
        middle = y + BAR_HEIGHT / 2 + 5
        is_verdict = approach == verdict
        fill = "#1f5f8b" if is_verdict else f"url(#{chart_id}-hatch)"
        note = "verdict" if is_verdict else ("ruled out" if ruled_out.get(approach) else "")
        bar = max(2, round(BAR_MAX * value / 100))
        weight = "700" if is_verdict else "400"
        parts += [
            f'<text x="{LABEL_WIDTH - 10}" y="{middle}" text-anchor="end" font-size="14" '
            f'font-weight="{weight}" fill="#1b2733">{escape(labels[approach])}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_MAX}" height="{BAR_HEIGHT}" rx="4" '
            'fill="#f4f6f8" stroke="#d5dce4"/>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar}" height="{BAR_HEIGHT}" rx="4" '
            f'fill="{fill}" stroke="#1f5f8b" stroke-width="{1.5 if is_verdict else 0}"/>',
            f'<text x="{LABEL_WIDTH + BAR_MAX + 10}" y="{middle}" font-size="14" '
            f'font-weight="{weight}" fill="#1b2733">{value}'
            f"{f' · {note}' if note else ''}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)
