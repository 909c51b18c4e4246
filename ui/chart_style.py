"""The look every 赛马晾晒 chart shares (dark theme): series colours and markers, grid, one plotly layout."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from metrics.formats import compact
from ui.maps import FONT

PALETTE = ["#38bdf8", "#f472b6", "#facc15", "#a3e635", "#c084fc", "#fb923c", "#2dd4bf", "#f87171", "#818cf8",
           "#e879f9", "#4ade80", "#fbbf24"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star", "hexagon", "cross"]
GRID, AXIS_TEXT, MEDIAN = "#1e3a5f", "#cbd5e1", "#e2e8f0"


def chart_layout(fig: go.Figure, height: int) -> None:
    """Transparent background on the dark theme, the app's font, one grid colour."""
    fig.update_layout(
        height=height, margin=dict(l=10, r=20, t=30, b=10), paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)", font=dict(family=FONT, color=AXIS_TEXT),
        hoverlabel=dict(font=dict(family=FONT, size=13), bgcolor="#0f1d33", bordercolor="#38bdf8"),
    )
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID)


def legend_rows(n: int, per_row: int) -> int:
    """Rows a horizontal legend of `n` entries takes: the figure grows by that much."""
    return max(1, math.ceil(n / per_row))


def _nice_step(span: float, n: int) -> float:
    raw = span / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def count_ticks(fig: go.Figure, lang: str, axis: str = "y", n: int = 5) -> None:
    """Ticks of a count axis in the reader's units, written by the one value formatter
    (metrics.formats.compact): 2万 and 1.5亿 in Chinese, 20k and 1.5M in English, never plotly's
    own SI suffixes (100k beside a tile's 2.8万). Rates keep their percent axis: call it for counts."""
    points = [getattr(tr, axis, None) for tr in fig.data]
    vals = [float(v) for p in points if p is not None for v in p
            if isinstance(v, int | float | np.number) and not isinstance(v, bool) and math.isfinite(v)]
    if not vals:
        return
    lo, hi = min(vals), max(vals)
    step = _nice_step((hi - lo) or abs(hi) or 1.0, n)  # the span plotly shows (a bar axis adds 0: ticks reach it)
    first, last = math.floor(min(0.0, lo) / step), math.ceil(max(0.0, hi) / step)
    if last - first > 500:
        return
    ticks = [i * step for i in range(first, last + 1)]
    decimals = 0 if step >= 1 else max(0, -math.floor(math.log10(step)))

    def label(v: float) -> str:
        s = compact(v, lang, decimals)
        num = s.rstrip("万亿kMB")
        return (num.rstrip("0").rstrip(".") if "." in num else num) + s[len(num):]

    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(tickvals=ticks, ticktext=[label(v) for v in ticks])
