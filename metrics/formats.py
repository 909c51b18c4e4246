"""How a figure is shown: the one rounding rule and the one value formatter.

Every screen, the meeting pack, the red/black lists' reasons and the written summaries print a
KPI value through `value`, and every status, rank and list is judged on the same figure rounded by
`publish_one`: rates to the KPI's `decimals` places of a percent (93.0%), other values to
`decimals` places of their unit (none for an integer-format KPI), by Python's decimal formatting
of the stored float — the very rounding `f"{v * 100:.1f}%"` does — so what is judged is what is shown.

Large counts are written compactly (145.7万 / 1.46M), the unit chosen after rounding, so a value
never prints as "10000.0万" or "1000.0k". This module sits below everything (no pandas in the
printing half, no Streamlit, no strings table): `ui.fmt`, `pack.cells` and `ingest.views` use it.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # only for the annotations: the catalogue is above this module
    from metrics.catalogue import Kpi

MISSING = "—"


def is_num(x: object) -> bool:
    """A number, not NaN or None (numpy scalars and the Decimals a NUMERIC column returns count)."""
    return isinstance(x, numbers.Real | Decimal) and not math.isnan(float(x))  # type: ignore[arg-type]


def _finite(x: object) -> float | None:
    """The number to print, or None when there is none to print (missing, NaN, infinite)."""
    if not is_num(x):
        return None
    f = float(x)  # type: ignore[arg-type]
    return f if math.isfinite(f) else None


# -- the figure as published ---------------------------------------------------------------------
def display_scale(fmt: str) -> float:
    """What a stored value is multiplied by to print it: 100 for a rate (0.93 shows 93.0%), else 1."""
    return 100.0 if fmt == "percent" else 1.0


def shown_decimals(fmt: str, decimals: int) -> int:
    """Decimals a figure is shown with: the KPI's, except that an integer-format KPI shows none."""
    return 0 if fmt == "integer" else int(decimals)


def publish_one(v: float | None, fmt: str, decimals: int) -> float:
    """One value as published, back in its stored unit (0.93 for 93.0%); NaN stays NaN."""
    if v is None or not np.isfinite(v):
        return np.nan if v is None or np.isnan(v) else float(v)
    s = display_scale(fmt)
    return float(f"{v * s:.{shown_decimals(fmt, decimals)}f}") / s


def publish(values, fmt: str | pd.Series, decimals: int | pd.Series) -> pd.Series:
    """Values rounded to their published precision (vectorised over rows of mixed KPIs)."""
    v = pd.Series(values, dtype=float) if not isinstance(values, pd.Series) else values.astype(float)
    n = len(v)
    fmts = fmt.tolist() if isinstance(fmt, pd.Series) else [fmt] * n
    decs = decimals.tolist() if isinstance(decimals, pd.Series) else [decimals] * n
    out = [publish_one(x, f, 1 if d is None or d != d else d) for x, f, d in zip(v.tolist(), fmts, decs, strict=True)]
    return pd.Series(out, index=v.index, dtype=float)


# -- printing ------------------------------------------------------------------------------------
# (threshold, scale, suffix, decimals), smallest first: 万/亿 in Chinese, k/M/B in English
_TIERS = {
    "zh": ((1e4, 1e4, "万", 1), (1e8, 1e8, "亿", 2)),
    "en": ((1e4, 1e3, "k", 1), (1e6, 1e6, "M", 2), (1e9, 1e9, "B", 2)),
}


def compact(v: float, lang: str, decimals: int = 0) -> str:
    """Large counts as 万/亿 (zh) or k/M/B (en); small ones with thousands separators.

    The unit is chosen after rounding, so a value never prints as "10000.0万" or "1000.0k" or
    "10,000": it moves up to the next unit (1.00亿, 1.00M, 1.0万) when its rounded digits reach it.
    """
    a, sign = abs(v), "-" if v < 0 else ""
    tiers = _TIERS["en" if lang == "en" else "zh"]
    if float(f"{a:.{decimals}f}") < tiers[0][0]:
        return f"{v:,.{decimals}f}"
    i = max((j for j, tier in enumerate(tiers) if a >= tier[0]), default=0)
    # move up while the rounded digits reach the next unit (9999.96万 prints as 1.00亿, not 10000.0万)
    while i + 1 < len(tiers) and float(f"{a / tiers[i][1]:.{tiers[i][3]}f}") * tiers[i][1] >= tiers[i + 1][0]:
        i += 1
    _, scale, suffix, d = tiers[i]
    return f"{sign}{a / scale:.{d}f}{suffix}"


def value(v: object, kpi: Kpi, lang: str = "zh", *, unit: bool = True, short: bool = True, extra: int = 0) -> str:
    """A KPI value as people read it: 85.3%, 145.7万人, 1.46M users; '—' when missing.

    `unit=False` leaves the unit out (a table whose header carries it); `short=False` writes every
    digit (1,457,418: a list reason that must show a step between two months); `extra` adds
    decimals beyond the KPI's (the same reason, when the published steps are equal).
    """
    x = _finite(v)
    if x is None:
        return MISSING
    d = shown_decimals(kpi.format, kpi.decimals) + extra
    if kpi.format == "percent":
        return f"{x * 100:.{d}f}%"
    num = compact(x, lang, d) if short else f"{x:,.{d}f}"
    if not unit:
        return num
    u = kpi.unit(lang)
    return f"{num}{u}" if lang == "zh" or not u else f"{num} {u}"


def percent(a: object, decimals: int = 0) -> str:
    """A share printed as a percent (attainment 97%, a rate without its KPI); '—' when missing or infinite."""
    x = _finite(a)
    return MISSING if x is None else f"{x * 100:.{decimals}f}%"


def plain(v: object) -> str:
    """A stored figure as people write it (no 1.2e+05, no trailing zeros), without a KPI; '—' when none."""
    if not is_num(v):
        return MISSING
    x = float(v)  # type: ignore[arg-type]
    if not math.isfinite(x):
        return MISSING
    return f"{x:,.0f}" if x.is_integer() else f"{x:,.6f}".rstrip("0").rstrip(".")
