"""League tables: one KPI raced across a population, with standings, Wilson intervals and rank change.

The fairness rules are metrics.rankings' (ranked only on complete, reported data; small samples apart or
flagged with the range of ranks their interval allows). No Streamlit."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

import numpy as np
import pandas as pd

from metrics.catalogue import Kpi
from metrics.engine import MetricsEngine
from metrics.evaluate import published
from metrics.periods import Period
from metrics.rankings import (
    STANDING_ORDER,
    STANDINGS,
    Population,
    RankingError,
    memo_trend,
    rank_change,
    rankable_kpi,
    region_names,
    resolve_period,
)
from metrics.ranks import competition_rank, rank_key

Z95 = 1.959963984540054  # two-sided 95% normal quantile
SmallSampleMode = Literal["separate", "flag"]


def wilson_interval(successes, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion successes/n (vectorised); NaN where n <= 0.

    Why Wilson: on a handful of cases the normal interval leaves [0, 1] and collapses at 0% or
    100%; Wilson stays inside and is honest about how little three cases say.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2 = z * z
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
        low, high = centre - half, centre + half
    bad = ~(n > 0) | np.isnan(x)
    low = np.where(bad, np.nan, np.clip(low, 0.0, 1.0))
    high = np.where(bad, np.nan, np.clip(high, 0.0, 1.0))
    return low, high


def _better_key(values: pd.Series | np.ndarray, up: bool) -> np.ndarray:
    """Sort key where smaller is better (metrics.ranks.rank_key: the one rank rule)."""
    return rank_key(pd.Series(np.asarray(values, dtype=float)), up).to_numpy()


def _denominator_months(engine: MetricsEngine, k: Kpi, p: Period) -> int:
    """min_denominator is per month for flows: a quarter needs three months' worth."""
    if k.kind == "ratio" and k.denominator and engine.catalogue.measure(k.denominator).aggregation == "sum":
        return len(p.months)
    return 1


def standings(rows: pd.DataFrame, up: bool, small_sample: SmallSampleMode = "separate") -> pd.DataFrame:
    """Standing, rank and rank_of for one KPI's rows (one per region) from engine.bulk columns.

    Needs columns value, complete, pending, small_sample, level. Pure, so the fairness rules can
    be tested on hand-built frames.
    """
    df = rows.copy()
    has = df["value"].notna()
    complete = df["complete"].astype(bool)
    pending = df["pending"].astype(bool) if "pending" in df else pd.Series(False, index=df.index)
    small = df["small_sample"].fillna(False).astype(bool)
    county = df["level"].isin(["county", "township"])  # leaves: not reporting is 逾期未报
    nocase = df["denominator"].eq(0) if "denominator" in df else pd.Series(False, index=df.index)
    # a period whose reports are not yet due ranks no one: the early reporters are not the field
    df["standing"] = np.select(
        [
            pending,
            ~has & complete & nocase,  # reported, nothing fell due: 0 ÷ 0 is neither good nor bad
            ~has & complete,
            ~has | (~complete & county),
            ~complete,
            small & (small_sample == "separate"),
        ],
        ["pending", "nocase", "no_data", "overdue", "incomplete", "small_sample"],
        "ranked",
    )
    ranked = df["standing"] == "ranked"
    shown = published(df)  # ranked on the figure as published, like every rank (metrics.ranks)
    df["rank"] = competition_rank(shown, up, among=ranked)
    df["rank_of"] = int(ranked.sum())
    is_small = df["standing"] == "small_sample"
    df["rank_small"] = competition_rank(shown, up, among=is_small)
    return df


def _rank_range(df: pd.DataFrame, up: bool) -> tuple[np.ndarray, np.ndarray]:
    """Best and worst rank a region could hold if its true rate were at either Wilson bound."""
    ranked = df["standing"] == "ranked"
    others = _better_key(df.loc[ranked, "value"], up)
    best_bound = df["ci_high"] if up else df["ci_low"]
    worst_bound = df["ci_low"] if up else df["ci_high"]
    best_k, worst_k = _better_key(best_bound, up), _better_key(worst_bound, up)
    others_sorted = np.sort(others)
    # others strictly better than the bound, excluding the region itself when it is ranked
    own = np.where(ranked, _better_key(df["value"], up), np.inf)
    best = 1 + np.searchsorted(others_sorted, best_k, side="left") - (ranked & (own < best_k)).to_numpy()
    worst = 1 + np.searchsorted(others_sorted, worst_k, side="left") - (ranked & (own < worst_k)).to_numpy()
    valid = ~np.isnan(best_k)
    return np.where(valid, best, np.nan), np.where(valid, worst, np.nan)


def _sparklines(engine: MetricsEngine, kpis: list[str], regions: list[str], p: Period, months: int) -> pd.DataFrame:
    """Last `months` monthly values per (kpi, region) as a list, oldest first (sparkline data)."""
    wide = memo_trend(engine, kpis, regions, p, months).pivot_table(
        index=["kpi", "region"], columns="month", values="value", dropna=False
    ).sort_index(axis=1)
    lists = [[None if math.isnan(v) else float(v) for v in row] for row in wide.to_numpy(dtype=float)]
    return pd.DataFrame({"kpi": wide.index.get_level_values(0), "region": wide.index.get_level_values(1),
                         "trend": lists})


def _kpi_rows(
    engine: MetricsEngine, k: Kpi, p: Period, regions: list[str], min_denominator: float | None,
    known_at: dt.datetime | None = None, townships: bool = False,
) -> pd.DataFrame:
    b = engine.township_bulk(p, known_at=known_at) if townships else engine.bulk(p, known_at)
    rows = b[(b["kpi"] == k.code) & b["region"].isin(regions)].copy()
    if min_denominator is not None:
        floor = min_denominator * _denominator_months(engine, k, p)
        rows["small_sample"] = rows["level"].isin(["county", "township"]) & (rows["denominator"] < floor)
    return rows


LEAGUE_COLUMNS = [
    "period", "population", "kpi", "region", "name_zh", "name_en", "parent", "rank", "rank_of", "prev_rank",
    "rank_change", "rank_change_zh", "rank_change_en", "standing", "standing_zh", "standing_en", "value",
    "numerator", "denominator", "target", "gap_to_target", "attainment", "status", "small_sample", "ci_low",
    "ci_high", "rank_best", "rank_worst", "rank_small", "n_reported", "n_expected", "trend",
    "target_annual", "pace", "pace_gap",  # 序时: target is the pro-rata one for a paced count
]


def league_table(
    engine: MetricsEngine,
    kpi: str,
    period: str | Period,
    population: str | Population = "counties",
    *,
    small_sample: SmallSampleMode = "separate",
    min_denominator: float | None = None,
    trend_months: int = 12,
    known_at: dt.datetime | None = None,
) -> pd.DataFrame:
    """One KPI's league table: ranked regions first (best first), then small samples, then the rest.

    gap_to_target is direction-aware: positive = beyond target, negative = short of it, in the
    KPI's stored unit (fractions for rates). `trend` holds the last `trend_months` monthly values
    (oldest first; 0 months = no trend). `min_denominator` overrides the catalogue's for this table.
    `known_at` freezes the figures as known then (meeting packs); the sparkline reads current data
    because engine.trend has no `known_at` yet.
    """
    k = rankable_kpi(engine, kpi)
    p = resolve_period(engine, period)
    pop = Population.parse(population, engine.geo)
    regions = pop.regions(engine.geo, p.end)
    town = pop.kind == "townships"
    if town and k.code not in engine.township_kpis():
        raise RankingError(f"{k.code} ({k.name_zh}) is not measured per township: only "
                           f"{', '.join(engine.township_kpis())} are")
    up = k.direction == "up"
    cur = standings(_kpi_rows(engine, k, p, regions, min_denominator, known_at, town), up, small_sample)
    prev = standings(_kpi_rows(engine, k, p.previous(), regions, min_denominator, known_at, town), up, small_sample)
    cur = cur.merge(prev[["region", "rank"]].rename(columns={"rank": "prev_rank"}), on="region", how="left")
    cur = pd.concat([cur, rank_change(cur["rank"], cur["prev_rank"])], axis=1)
    cur["gap_to_target"] = (cur["value"] - cur["target"]) * (1 if up else -1)
    if k.kind == "ratio" and k.format == "percent":
        cur["ci_low"], cur["ci_high"] = wilson_interval(cur["numerator"], cur["denominator"])
        cur.loc[cur["value"].isna(), ["ci_low", "ci_high"]] = np.nan
        best, worst = _rank_range(cur, up)
        cur["rank_best"], cur["rank_worst"] = best, worst
    else:
        cur["ci_low"] = cur["ci_high"] = cur["rank_best"] = cur["rank_worst"] = np.nan
    cur["standing_zh"] = cur["standing"].map(lambda s: STANDINGS[s][0])
    cur["standing_en"] = cur["standing"].map(lambda s: STANDINGS[s][1])
    cur = pd.concat([cur, region_names(engine.geo, cur["region"])], axis=1)
    if trend_months > 0:
        cur = cur.merge(_sparklines(engine, [k.code], regions, p, trend_months)[["region", "trend"]],
                        on="region", how="left")
    else:
        cur["trend"] = None
    cur["period"], cur["population"] = p.label, pop.key
    cur["_o"] = cur["standing"].map(STANDING_ORDER)
    cur = cur.sort_values(["_o", "rank", "rank_small", "region"]).reset_index(drop=True)
    for c in ("rank", "rank_of", "prev_rank", "rank_change", "rank_small", "rank_best", "rank_worst"):
        cur[c] = cur[c].astype("Int64")
    for c in ("target_annual", "pace", "pace_gap"):  # townships are judged on the year: no pacing
        if c not in cur:
            cur[c] = np.nan
    return cur[LEAGUE_COLUMNS]
