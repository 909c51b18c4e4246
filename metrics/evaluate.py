"""Targets, attainment, red/amber/green status and ranks: all direction-aware, all vectorised.

Everything is judged on the figure as published (`publish`, defined with the formatter in
metrics.formats): a value is rounded once, to the precision the screen prints it with — rates to
the KPI's `decimals` places of a percent (93.0%), other values to `decimals` places of their unit —
by Python's decimal formatting of the stored float, the very rounding `f"{v * 100:.1f}%"` does.
Status, attainment, gap, ranks (metrics.ranks) and lists all read that rounded figure, so two
regions that show the same number always get the same status and rank, and a figure that shows
its target exactly (95.0% against 95%) has met it.

序时进度 (`pace_fraction`, `paced_target`): a count, stock or cumulative KPI with a year-end target
is judged during the year against the share of the year's change due by the period's end — linear
(month/12) from the previous year-end value, or the catalogue's stated cumulative profile. Rates
keep their annual target all year (a rate has no "part of the year" to be due).
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd

from metrics.catalogue import Catalogue, Kpi
from metrics.formats import display_scale, publish, publish_one
from metrics.ranks import competition_rank, ranked_count

STATUS_ORDER = {"green": 0, "amber": 1, "red": 2, "partial": 3, "none": 4, "nocase": 5, "missing": 6, "na": 7}
PUBLISHED_RULE_ZH = "状态、排名与榜单均按页面显示的数值判定（比率按百分数保留该指标的小数位，其余按其单位保留小数位，四舍五入一次）"
PUBLISHED_RULE_EN = ("status, ranks and lists are judged on the figure as shown (rates at the KPI's decimals of a "
                     "percent, other values at its decimals of the unit, rounded once)")


# -- the figure as published ---------------------------------------------------------------------
def published(df: pd.DataFrame, column: str = "value") -> pd.Series:
    """A bulk frame's column as published (needs the `format` and `decimals` columns)."""
    if column == "value" and "published" in df:  # computed once per frame by the engine
        return df["published"].astype(float)
    if "format" not in df or "decimals" not in df:
        return df[column].astype(float)
    return publish(df[column], df["format"], df["decimals"])


def met_threshold(target: float, fmt: str, decimals: int, up: bool) -> float:
    """The stored value from which a figure *publishes* as meeting `target` (93.0% shows 93.0%).

    For forecasts: "will meet the target" means the December figure, as it will be shown, meets it.
    """
    s = display_scale(fmt)
    half = 0.5 * 10.0 ** -int(decimals) / s
    t = publish_one(target, fmt, decimals)
    return t - half if up else t + half


# -- 序时进度 ----------------------------------------------------------------------------------------
def pace_fraction(kpi: Kpi, on: dt.date) -> float | None:
    """Share of the year's change that is due by `on` (the period's last day); None: not paced.

    Linear: months elapsed / 12, a part month counting by its days (so a month's end is exactly
    month/12, the 序时进度 offices quote). Profile: the catalogue's cumulative share at each month's
    end, interpolated by days inside a month.
    """
    rule = kpi.pacing_rule
    if rule is None:
        return None
    dim = calendar.monthrange(on.year, on.month)[1]
    part = on.day / dim
    if rule.method == "linear":
        return min(1.0, (on.month - 1 + part) / 12)
    shares = [0.0, *(rule.profile or [])]
    return shares[on.month - 1] + (shares[on.month] - shares[on.month - 1]) * part


def paced_target(annual: pd.Series, base: pd.Series, fraction: pd.Series, up: pd.Series) -> pd.Series:
    """序时目标 = base + (annual - base) x fraction, when the year's target lies ahead of the base.

    A target already met at the previous year-end (a carried target, or a stock that only has to
    hold) stays the annual target all year: pacing never asks for less than was already reached.
    Without a base (no previous December figure) the annual target applies.
    """
    ahead = np.where(up, annual > base, annual < base)
    use = ahead & base.notna() & fraction.notna() & annual.notna()
    return pd.Series(np.where(use, base + (annual - base) * fraction, annual), index=annual.index, dtype=float)


def attach_targets(df: pd.DataFrame, catalogue: Catalogue, when: int | dt.date) -> pd.DataFrame:
    """Add target, target_annual, target_year, target_source, target_carried per KPI, and 序时 columns.

    `when` is the period's last day (or a year: judged on the whole year, no pacing). For paced
    KPIs `target` is the 序时目标 (what status is judged against), `target_annual` the year-end
    target, `pace` the share of the year due and `pace_gap` the published value minus the 序时目标,
    direction-aware (positive = 超序时, negative = 落后序时). `pace_base` (previous year-end value),
    when the frame has it, is what the linear spread starts from.
    """
    year = when if isinstance(when, int) else when.year
    rows = []
    for k in catalogue.kpis:
        frac = None if isinstance(when, int) else pace_fraction(k, when)
        t = k.target_for(year)
        if t is None:
            rows.append((k.code, np.nan, None, None, False, np.nan))
        else:
            value, target, carried = t
            rows.append((k.code, value, target.year, target.source, carried, np.nan if frac is None else frac))
    targets = pd.DataFrame(rows, columns=["kpi", "target_annual", "target_year", "target_source", "target_carried",
                                          "pace"])
    out = df.merge(targets, on="kpi", how="left")
    base = out["pace_base"] if "pace_base" in out else pd.Series(np.nan, index=out.index)
    up = out["direction"] == "up" if "direction" in out else pd.Series(True, index=out.index)
    # paced only while the year's target lies ahead of last year-end: a target already met (often one
    # carried over from an earlier year) is simply the target, not a 序时目标
    ahead = pd.Series(np.where(up, out["target_annual"] > base, out["target_annual"] < base), index=out.index)
    paced = out["pace"].notna() & (out["pace"] < 1) & base.notna() & ahead
    out["target"] = paced_target(out["target_annual"], base, out["pace"].where(paced), up)
    out.loc[~paced, "pace"] = np.nan
    out["paced"] = paced & out["target_annual"].notna()
    return out


def pace_gap(df: pd.DataFrame) -> pd.Series:
    """Published value minus the published 序时目标, direction-aware; NaN where not paced."""
    up = df["direction"] == "up"
    gap = published(df) - published(df, "target")
    gap = gap.where(up, -gap)
    return gap.where(df.get("paced", pd.Series(False, index=df.index)).astype(bool))


def mask_targets(df: pd.DataFrame, rows: pd.Series) -> None:
    """Clear every target column on `rows` in place (a count target below the province, …)."""
    cols = [c for c in ("target", "target_annual", "target_year", "target_source", "pace") if c in df]
    df.loc[rows, cols] = np.nan
    if "target_carried" in df:
        df.loc[rows, "target_carried"] = False
    if "paced" in df:
        df.loc[rows, "paced"] = False


# -- attainment and status -------------------------------------------------------------------------
def attainment(value: pd.Series, target: pd.Series, up: pd.Series) -> pd.Series:
    """value ÷ target when higher is better, target ÷ value when lower is better."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(up, value / target, target / value)
    a = pd.Series(a, index=value.index, dtype=float)
    # lower-is-better with a value of zero has met any target
    a = a.mask((~up) & (value == 0) & target.notna(), np.inf)
    return a.replace(-np.inf, np.nan)


def published_attainment(df: pd.DataFrame) -> pd.Series:
    """Attainment of the published value against the published target."""
    return attainment(published(df), published(df, "target"), df["direction"] == "up")


_EPS = 1e-9  # below any published step (0.0001 points at 4 decimals): float noise, not a difference


def status(df: pd.DataFrame, catalogue: Catalogue) -> pd.Series:
    """green/amber/red against target, on the published figures; 'none' without a target.

    Gap rules compare the published gap in the displayed unit (points for rates), itself rounded
    to the KPI's decimals, so "−2.0 points" with an amber band of 2 points is amber for everyone
    who shows −2.0. Attainment rules compare the attainment of the published value.
    """
    rules = {k.code: catalogue.status_rule(k) for k in catalogue.kpis}
    up = df["direction"] == "up"
    value, target = published(df), published(df, "target")
    scale = np.where(df["format"] == "percent", 100.0, 1.0) if "format" in df else 1.0
    decimals = df["decimals"].fillna(1).astype(int) if "decimals" in df else pd.Series(1, index=df.index)
    raw_gap = pd.Series(np.where(up, target - value, value - target) * scale, index=df.index)
    gap = pd.Series([round(g, d) if np.isfinite(g) else g for g, d in zip(raw_gap, decimals, strict=True)],
                    index=df.index, dtype=float)
    method = df["kpi"].map(lambda c: rules[c].method)
    green_t = df["kpi"].map(lambda c: rules[c].green)
    amber_t = df["kpi"].map(lambda c: rules[c].amber)
    att = attainment(value, target, up)
    with np.errstate(invalid="ignore"):  # NaN compares False; those rows become none/missing below
        att_v, gap_v = att.to_numpy(dtype=float), gap.to_numpy(dtype=float)
        by_att = np.select([att_v >= green_t - _EPS, att_v >= amber_t - _EPS], ["green", "amber"], "red")
        by_gap = np.select([gap_v <= _EPS, gap_v <= amber_t * scale + _EPS], ["green", "amber"], "red")
    out = pd.Series(np.where(method == "gap", by_gap, by_att), index=df.index, dtype=object)
    out = out.mask(df["target"].isna(), "none")
    out = out.mask(df["value"].isna(), "missing")
    return out


# -- ranks (the rule itself is metrics.ranks) -------------------------------------------------------
def rank_within(df: pd.DataFrame, mask: pd.Series, by: str | list[str] = "kpi") -> tuple[pd.Series, pd.Series]:
    """Competition ranks (1, 2, 2, 4) within groups of `by`, best first, for rows in `mask`,
    on the published figure, and how many are ranked in each group (see metrics.ranks).

    Only rows with a value and complete data take part; others get no rank.
    """
    ok = mask & df["value"].notna() & df["rankable"]
    shown, up = published(df), df["direction"] == "up"
    groups = [df[c] for c in ([by] if isinstance(by, str) else by)]
    return competition_rank(shown, up, among=ok, by=groups), ranked_count(shown, among=ok, by=groups)


def kpi_attributes(catalogue: Catalogue) -> pd.DataFrame:
    return pd.DataFrame(
        [(k.code, k.system, k.direction, k.kind, k.format, k.decimals, k.min_denominator) for k in catalogue.kpis],
        columns=["kpi", "system", "direction", "kind", "format", "decimals", "min_denominator"],
    )
