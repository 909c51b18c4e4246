"""Figures as slide cells: a value, 环比, a percentage and a rank change as formatted text with a tone,
and the score map's fills. Values print through metrics.formats, as the app prints them."""

from __future__ import annotations

import math

import pandas as pd

from metrics.catalogue import Kpi
from metrics.formats import value as format_value
from pack.deck import TONES, Cell
from pack.texts import tr

QUINTILES = ["1B5E20", "66BB6A", "FDD835", "FB8C00", "C62828"]  # best fifth … worst fifth
NA_FILL = "CFD8DC"


def finite(x: object) -> float | None:
    """The figure as a float; None when it is missing, not a number or not finite (a cell shows —)."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def fmt_value(v: object, k: Kpi, lang: str) -> str:
    x = finite(v)
    return "—" if x is None else format_value(x, k, lang)


def fmt_change(v: object, k: Kpi, lang: str) -> Cell:
    """环比 as the app shows it: percentage points for rates, relative % for counts; coloured by direction."""
    x = finite(v)
    if x is None:
        return Cell("—", "muted")
    flat = abs(x) < 0.0005
    num = "0.0" if flat else f"{x * 100:+.1f}"
    text = (f"{num}个百分点" if lang == "zh" else f"{num} pts") if k.format == "percent" else f"{num}%"
    better = (x > 0) == (k.direction == "up")
    arrow = "–" if flat else ("▲" if x > 0 else "▼")
    return Cell(f"{arrow} {text}", "flat" if flat else ("up" if better else "down"))


def fmt_pct(v: object) -> str:
    x = finite(v)
    return "—" if x is None else f"{x * 100:.1f}%"


def rank_change_cell(v: object, lang: str) -> Cell:
    x = finite(v)
    if x is None:
        return Cell("—", "muted")
    n = int(x)
    if n == 0:
        return Cell("– 0", "flat")
    return Cell(f"▲{n}" if n > 0 else f"▼{-n}", "up" if n > 0 else "down")


def int_text(v: object) -> str:
    x = finite(v)
    return "—" if x is None else str(int(x))


def status_tone(s: object) -> str:
    return str(s) if str(s) in TONES else "muted"


def score_fills(scheme: pd.DataFrame, lang: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Counties coloured by score quintile (scores bunch within a few points, so fixed bins would paint
    the whole province one colour); the legend gives each band's score range."""
    scores = pd.to_numeric(scheme["score"], errors="coerce")
    ok = scores.dropna()
    fills = {r: NA_FILL for r in scheme["region"]}
    legend: list[tuple[str, str]] = []
    if not ok.empty:
        edges = [float(ok.quantile(q)) for q in (0.8, 0.6, 0.4, 0.2)]
        for region, v in zip(scheme["region"], scores, strict=True):
            if pd.notna(v):
                band = next((i for i, e in enumerate(edges) if v >= e), len(edges))
                fills[region] = QUINTILES[band]
        lows = [*edges, float(ok.min())]
        highs = [float(ok.max()), *edges]
        for i, colour in enumerate(QUINTILES):
            legend.append((colour, f"{lows[i]:.1f} – {highs[i]:.1f}"))
    legend.append((NA_FILL, tr("pack_legend_na", lang)))
    return fills, legend
