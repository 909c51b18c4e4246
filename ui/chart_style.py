"""The look every 赛马晾晒 chart shares (dark theme): series colours and markers, grid, one plotly layout."""

from __future__ import annotations

import math

import plotly.graph_objects as go

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
