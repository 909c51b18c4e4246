"""Number, change and status formatting for the screen (pure functions, no Streamlit)."""

from __future__ import annotations

import math

from metrics import formats
from metrics.catalogue import Kpi
from ui.i18n import t

# Status colours: saturated enough for a dark wall screen, distinguishable in daylight.
STATUS_COLOURS = {
    "green": "#22c55e",
    "amber": "#f59e0b",
    "red": "#ef4444",
    "none": "#64748b",
    "missing": "#a855f7",
    "na": "#334155",
    "nocase": "#475569",
    "partial": "#c084fc",
}
# the same, as text colour on the dark background (grey tones lightened to stay readable)
STATUS_TEXT = STATUS_COLOURS | {"none": "#94a3b8", "na": "#94a3b8", "nocase": "#94a3b8"}
GOOD, BAD, FLAT = "#22c55e", "#ef4444", "#94a3b8"


is_num = formats.is_num


def value(v: float | None, kpi: Kpi, lang: str = "zh", short: bool = True) -> str:
    """A KPI value with its unit: 85.3%, 145.7万人, 1.46M users; '—' when missing (metrics.formats)."""
    return formats.value(v, kpi, lang, short=short)


def number(v: float | None, kpi: Kpi, lang: str = "zh") -> str:
    """The value without unit (tables whose header carries the unit)."""
    return formats.value(v, kpi, lang, unit=False)


SHOWN_AS_ZERO = 0.0005  # a change that prints as 0.0 (points or %) is flat, not up or down


def change(c: float | None, kpi: Kpi, lang: str = "zh") -> str:
    """环比/同比 change: percentage points for rates, relative % for counts, with sign."""
    if not is_num(c) or math.isinf(c):
        return "—"
    v = "0.0" if abs(c) < SHOWN_AS_ZERO else f"{c * 100:+.1f}"  # no "-0.0" next to a flat arrow
    if kpi.format == "percent":
        return t("pct_points", lang, v=v)
    return f"{v}%"


def arrow(c: float | None, direction: str) -> tuple[str, str]:
    """(glyph, colour): ▲/▼ show the movement; colour says whether it is good given direction."""
    if not is_num(c) or math.isinf(c) or abs(c) < SHOWN_AS_ZERO:
        return "▬", FLAT
    up = c > 0
    good = up if direction == "up" else not up
    return ("▲" if up else "▼"), (GOOD if good else BAD)


def rank_change(prev: float | None, now: float | None) -> tuple[str, str]:
    """(text, colour) for a change of rank: ▲3 means three places better than last period."""
    if not is_num(now):
        return "", FLAT
    if not is_num(prev):
        return "•", FLAT
    d = int(prev) - int(now)
    if d > 0:
        return f"▲{d}", GOOD
    if d < 0:
        return f"▼{-d}", BAD
    return "▬", FLAT


def text(x: object, empty: str = "—") -> str:
    """A possibly missing text value (None/NaN) for display."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return empty
    return str(x)


def status_label(status: str, lang: str = "zh") -> str:
    return t(f"st_{status}", lang)


percent = formats.percent
