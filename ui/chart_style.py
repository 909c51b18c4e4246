"""The look every chart shares: series colours and markers, grid, one plotly layout (drawn for the
dark theme, recoloured for the light one by `themed`), and the one chart config (`chart_config`):
the Plotly toolbar shows a single button, 下载为 PNG, named after the KPI, region and period.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from metrics.formats import compact
from ui import theme
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


# the dark-theme colours of axes, text, grid and hover boxes, and what they become on a light page;
# series and status colours are kept (they read on both)
LIGHT_SWAP = {
    "#f8fafc": "#0f172a", "#f1f5f9": "#0f172a", "#e2e8f0": "#1e293b", "#cbd5e1": "#334155", "#94a3b8": "#475569",
    "#64748b": "#5b6778", "#1e3a5f": "#d5dde8", "#0f1d33": "#ffffff", "#0b1426": "#f8fafc", "#334155": "#cbd5e1",
    "rgba(11,20,38,0.6)": "rgba(255,255,255,0.8)", "rgba(11,20,38,0.7)": "rgba(255,255,255,0.8)",
}


def _swap(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _swap(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_swap(v) for v in obj]
    if isinstance(obj, str):
        return LIGHT_SWAP.get(obj.lower(), obj)
    return obj


def themed(fig: Any, name: str | None = None) -> Any:
    """`fig` for the page's theme: unchanged on dark; on light, a dict with the text, grid and hover
    colours swapped (LIGHT_SWAP). Maps are left alone: their labels sit on the fills, not the page."""
    if (name or theme.current()) != "light":
        return fig
    d = fig if isinstance(fig, dict) else fig.to_plotly_json()
    if d.get("layout", {}).get("geo") or any(tr.get("type") in ("choropleth", "scattergeo") for tr in d.get("data", [])):
        return fig
    return _swap(d)


def chart_name(*parts: object) -> str:
    """A file name (no extension) from the KPI, region and period: 渠道覆盖率_杭州市_2024-06."""
    words = [re.sub(r'[\\/:*?"<>|\s]+', "-", str(p)).strip("-") for p in parts if p not in (None, "")]
    return "_".join(w for w in words if w)[:120] or "chart"


def chart_config(filename: str, **extra: Any) -> dict:
    """The toolbar of every chart: one button, Plotly's own client-side PNG download (twice the
    on-screen resolution, nothing rendered on the server), no logo, no scroll zoom."""
    return {"displayModeBar": True, "displaylogo": False, "scrollZoom": False, "modeBarButtons": [["toImage"]],
            "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2}} | extra


def plot(fig: Any, filename: str, *, config: dict | None = None, **kw: Any) -> Any:
    """st.plotly_chart with the page's theme and the PNG toolbar; returns its selection event."""
    return st.plotly_chart(themed(fig), config=chart_config(filename, **(config or {})), **kw)
