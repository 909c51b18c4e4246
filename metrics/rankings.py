"""赛马晾晒: league tables, composite evaluations, red/black lists and county comparison.

Everything here composes on the engine's public API (`bulk`, `trend`, `geo`, `catalogue`) and
returns tidy pandas DataFrames with plain column names, so the pages, the meeting pack and a CSV
download all show the same numbers. No Streamlit.

Fairness rules, applied everywhere a region is ranked or listed:
- only regions with a value and complete data are ranked (competition ranking 1, 2, 2, 4, best
  first, direction-aware); a county that did not report is 逾期未报 and never ranked on imputed data;
- a county whose denominator is below the KPI's `min_denominator` (per month for flows) is a
  small sample: ranked separately (default) or ranked with its Wilson 95% interval and the range of
  ranks that interval allows — it is never crowned or shamed on three cases;
- province-level-only KPIs are not rankable below the province and are refused.

Rank change compares like with like: the previous period is ranked within the *same* set of
regions as the current table (for a peer group, its members at the current period's end), so a
change of membership does not show up as a change of rank. A region ranked now but not then is
"新" (new).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from metrics import formats, texts
from metrics.catalogue import Kpi
from metrics.engine import EngineError, MetricsEngine
from metrics.evaluate import publish, publish_one, published
from metrics.geography import Geography
from metrics.periods import Period, add_months
from metrics.ranks import competition_rank, rank_key
from metrics.schemes import ListRule, Scheme, SchemeBook, schemes

SCORE_DECIMALS = 1  # composite scores are published (and so ranked) at one decimal: 得分 97.3
Z95 = 1.959963984540054  # two-sided 95% normal quantile
SmallSampleMode = Literal["separate", "flag"]

STANDINGS: dict[str, tuple[str, str]] = {
    "ranked": ("已排名", "ranked"),
    "small_sample": ("样本偏小，单列", "small sample, listed separately"),
    "overdue": ("逾期未报", "overdue (not reported)"),
    "incomplete": ("部分未报", "incomplete (some counties not reported)"),
    "pending": ("未到报送期", "not yet due"),
    "nocase": ("本期无事项", "no cases this period"),
    "no_data": ("无数据", "no data"),
}
STANDING_ORDER = {"ranked": 0, "small_sample": 1, "incomplete": 2, "overdue": 3, "pending": 4, "nocase": 5,
                  "no_data": 6}


class RankingError(ValueError):
    """A ranking question that cannot be answered (province-only KPI, group not valid then, …)."""


# -- populations --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Population:
    """Who is raced: all 90 counties, the 11 cities, a city's counties, a peer group (by date), or
    townships (all of the province's, or one county's: code = the county)."""

    kind: Literal["counties", "cities", "city", "group", "townships"]
    code: str | None = None

    @classmethod
    def parse(cls, spec: str | Population, geo: Geography) -> Population:
        """'counties' | 'cities' | 'city:330100' | 'group:SHANQU26' | a city or group code or name |
        'townships' | 'townships:330102' (a county's townships)."""
        if isinstance(spec, Population):
            return spec
        s = spec.strip()
        if s in ("counties", "cities", "townships"):
            return cls(s)  # type: ignore[arg-type]
        if s.startswith("townships:"):
            try:
                code = geo.resolve(s.partition(":")[2])
            except KeyError as exc:
                raise RankingError(exc.args[0]) from None
            if geo.get(code).level != "county":
                raise RankingError(f"{spec!r}: townships are raced within a county, not a {geo.get(code).level}")
            return cls("townships", code)
        if ":" in s:
            kind, _, code = s.partition(":")
            if kind not in ("city", "group"):
                raise RankingError(f"unknown population {spec!r}: use counties, cities, city:<code> or group:<code>")
            s = code
        try:
            code = geo.resolve(s)
        except KeyError as exc:
            raise RankingError(exc.args[0]) from None
        level = geo.get(code).level
        if level not in ("city", "group"):
            raise RankingError(f"{spec!r} is a {level}, not a city or peer group: nothing to rank inside it")
        return cls(level, code)  # type: ignore[arg-type]

    @property
    def level(self) -> str:
        return {"cities": "city", "townships": "township"}.get(self.kind, "county")

    def regions(self, geo: Geography, on: dt.date) -> list[str]:
        if self.kind == "townships":
            return geo.townships_of(self.code) if self.code else sorted(geo.townships)
        if self.kind == "counties":
            return geo.counties
        if self.kind == "cities":
            return geo.cities
        if self.kind == "city":
            return geo.counties_of(self.code or "")
        r = geo.get(self.code or "")
        if not geo.group_valid_on(r.code, on):
            raise RankingError(
                f"{r.name_zh} ({r.code}) is defined only from {r.valid_from} to {r.valid_to or 'now'}; "
                f"it does not exist on {on}"
            )
        return geo.members(r.code, on)

    def label(self, geo: Geography, lang: str = "zh") -> str:
        if self.kind in ("counties", "cities"):
            return texts.tr(f"pop_{self.kind}", lang)
        if self.kind == "townships" and self.code is None:
            return texts.tr("pop_townships_all", lang)
        name = geo.get(self.code or "").name(lang)
        if self.kind in ("townships", "city"):
            return texts.tr("pop_townships_of" if self.kind == "townships" else "pop_counties_of", lang, name=name)
        return name

    @property
    def key(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"


# -- small building blocks ----------------------------------------------------------------------
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


def rank_change(rank: pd.Series, prev_rank: pd.Series) -> pd.DataFrame:
    """Places gained since the previous period, with its ▲3 / ▼1 / — / 新 label."""
    change = prev_rank - rank
    zh = np.select(
        [rank.isna(), prev_rank.isna(), change > 0, change < 0],
        ["", "新", "▲" + change.abs().fillna(0).astype(int).astype(str), "▼" + change.abs().fillna(0).astype(int).astype(str)],
        "—",
    )
    en = np.where(zh == "新", "new", zh)
    return pd.DataFrame({"rank_change": change, "rank_change_zh": zh, "rank_change_en": en}, index=rank.index)


def format_value(kpi: Kpi, v: float | None, extra: int = 0) -> str:
    """A value in a list reason (93.1%, 1,234,567): every digit and no unit, since one reason text serves
    both languages; `extra` decimals more when a streak's steps would otherwise print alike."""
    return formats.value(v, kpi, unit=False, short=False, extra=extra)


def _format_path(kpi: Kpi, values: Sequence[float]) -> list[str]:
    """Values of a streak, with as many more decimals (up to 2) as it takes for each step to show."""
    for extra in range(3):
        out = [format_value(kpi, v, extra) for v in values]
        if all(a != b for a, b in zip(out, out[1:], strict=False)):
            break
    return out


def _rankable_kpi(engine: MetricsEngine, kpi: str) -> Kpi:
    try:
        k = engine.catalogue.kpi(engine.resolve_kpi(kpi))
    except EngineError as exc:
        raise RankingError(str(exc)) from None
    if engine.catalogue.measure(k.measures[0]).level != "county":
        raise RankingError(f"{k.code} ({k.name_zh}) is measured at province level only: it cannot be ranked below it")
    return k


def _period(engine: MetricsEngine, period: str | Period) -> Period:
    try:
        return engine.resolve_period(period)
    except EngineError as exc:
        raise RankingError(str(exc)) from None


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


def _region_names(geo: Geography, regions: pd.Series) -> pd.DataFrame:
    codes = set(regions)
    return pd.DataFrame({
        "name_zh": regions.map({c: geo.get(c).name_zh for c in codes}),
        "name_en": regions.map({c: geo.get(c).name_en for c in codes}),
        "parent": regions.map({c: geo.get(c).parent_code for c in codes}),
    }, index=regions.index)


_TRENDS: weakref.WeakKeyDictionary[MetricsEngine, OrderedDict] = weakref.WeakKeyDictionary()
_TRENDS_LOCK = threading.Lock()


def _trend(engine: MetricsEngine, kpis: Sequence[str], regions: Sequence[str], end: Period, months: int) -> pd.DataFrame:
    """engine.trend, remembered per engine and data version (the engine caches bulk, not trend)."""
    key = (engine.data_version(), engine.today, tuple(kpis), tuple(regions), end, months)
    with _TRENDS_LOCK:
        cache = _TRENDS.setdefault(engine, OrderedDict())
        hit = cache.get(key)
    if hit is not None:
        return hit
    df = engine.trend(list(kpis), list(regions), end, months)
    with _TRENDS_LOCK:
        cache[key] = df
        while len(cache) > 32:
            cache.popitem(last=False)
    return df


def _sparklines(engine: MetricsEngine, kpis: list[str], regions: list[str], p: Period, months: int) -> pd.DataFrame:
    """Last `months` monthly values per (kpi, region) as a list, oldest first (sparkline data)."""
    wide = _trend(engine, kpis, regions, p, months).pivot_table(
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


# -- league tables ------------------------------------------------------------------------------
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
    k = _rankable_kpi(engine, kpi)
    p = _period(engine, period)
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
    cur = pd.concat([cur, _region_names(engine.geo, cur["region"])], axis=1)
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


# -- composite evaluations ----------------------------------------------------------------------
@dataclass
class CompositeResult:
    """A scheme evaluated for one period: per-region scores and the per-KPI components behind them."""

    scheme: Scheme
    period: str
    population: str
    scores: pd.DataFrame
    components: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def breakdown(self, region: str) -> pd.DataFrame:
        """Which KPIs pulled `region`'s score up or down, relative to the scored regions' average."""
        c = self.components[self.components["region"] == region].copy()
        if c.empty:
            raise RankingError(f"{region} is not in this evaluation")
        c["effect_zh"] = np.select([c["relative_contribution"] > 0, c["relative_contribution"] < 0],
                                   ["拉高", "拉低"], "持平")
        c["effect_en"] = np.select([c["relative_contribution"] > 0, c["relative_contribution"] < 0],
                                   ["pulls up", "pulls down"], "neutral")
        return c.sort_values("relative_contribution", ascending=False).reset_index(drop=True)


def _tiers(scores: pd.DataFrame, scheme: Scheme) -> pd.Series:
    """Tier index 0, 1, 2… per ranked region (NaN for the others), never cut inside the uncertainty.

    The nominal cut (a share of the ranking, or a score threshold) is only where tiers start from:
    a region below it whose score is within `separation` standard errors of the last region above
    it (share), or of the threshold (score), is not told apart from it and joins the better tier.
    The comparison is always with that fixed boundary, so a continuum does not chain everyone up;
    a tier overrun by the one above it is simply empty. Scores without an error (hand-built rows,
    counts) have se 0, so only the nominal rule applies.
    """
    t = scheme.tiers
    scored = scores["rank"].notna()
    n = int(scored.sum())
    se = scores["score_se"].fillna(0.0) if "score_se" in scores else pd.Series(0.0, index=scores.index)
    z = t.separation
    if t.method == "share":
        pos = (scores["rank"] - 1) / max(n, 1)  # share of regions ahead of this one
        idx = pd.Series(0, index=scores.index)
        for c in t.cuts:
            below = scored & (pos >= c - 1e-12)
            above = scored & ~below
            if above.any() and below.any():
                last = scores.loc[above, "score"].idxmin()  # the nominal boundary's last region above
                gap = scores.loc[last, "score"] - scores["score"]
                within = gap <= z * np.sqrt(se**2 + se[last] ** 2) + 1e-9
                below &= ~within
            idx += below.astype(int)
    else:
        idx = sum(((scores["score"] + z * se) < c - 1e-9).astype(int) for c in t.cuts)
    return pd.Series(idx, index=scores.index).where(scored)


def _value_se(c: pd.DataFrame) -> pd.Series:
    """Standard error of each KPI value from its own sample: binomial for a rate over counted cases.

    Agresti–Coull (two successes and two failures added) so that 4 of 4 cases is not "certain";
    0 where the row has no numerator/denominator or is not a rate (counts carry no sampling error here).
    """
    zero = pd.Series(0.0, index=c.index)
    if not {"numerator", "denominator", "format"} <= set(c.columns):
        return zero
    n = c["denominator"].astype(float)
    rate = (c["format"] == "percent") & n.gt(0) & c["numerator"].notna()
    if "kind" in c:
        rate &= c["kind"] == "ratio"
    p = ((c["value"].astype(float) * n + 2) / (n + 4)).clip(0, 1)
    se = np.sqrt(p * (1 - p) / (n + 4))
    return se.where(rate, 0.0).fillna(0.0)


def score_scheme(rows: pd.DataFrame, scheme: Scheme, regions: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Scores, ranks and tiers from engine.bulk-shaped rows; pure, so it can be checked by hand.

    Needs columns kpi, region, level, value, target, attainment, complete, pending, small_sample,
    direction. A region missing any KPI of the scheme is not scored (逾期未报 / 数据不全) and its
    missing KPIs are named; normalisation statistics use the scored regions only.
    """
    w = scheme.weights
    notes: list[str] = []
    r = rows[rows["kpi"].isin(list(w)) & rows["region"].isin(list(regions))].copy()
    if scheme.normalisation == "attainment":
        no_target = sorted(set(r.loc[r["target"].isna(), "kpi"]))
        if no_target:
            notes.append(f"no target in force for {no_target}: left out and the other weights rescaled")
            r = r[~r["kpi"].isin(no_target)]
            total = sum(v for c, v in w.items() if c not in no_target)
            w = {c: v / total for c, v in w.items() if c not in no_target}
    # a KPI that rests on a handful of cases in most regions this period has no field to race in:
    # it is left out (weights rescaled, said in the notes) rather than setting everyone apart
    has_value = r[r["value"].notna()]
    share_small = has_value["small_sample"].fillna(False).astype(bool).groupby(has_value["kpi"]).mean()
    thin = sorted(share_small[share_small > 0.5].index)
    if thin and len(thin) < len(w):
        notes.append(f"small samples in most regions for {thin}: left out this period and the other weights rescaled")
        r = r[~r["kpi"].isin(thin)]
        total = sum(v for c, v in w.items() if c not in thin)
        w = {c: v / total for c, v in w.items() if c not in thin}
    usable = r["value"].notna() & r["complete"].astype(bool)
    missing = r[~usable].groupby("region")["kpi"].agg(sorted)
    small = r[r["small_sample"].fillna(False).astype(bool)].groupby("region")["kpi"].agg(sorted)
    present = r[usable].groupby("region")["kpi"].nunique()
    scored_regions = set(present[present == len(w)].index)
    c = r[r["region"].isin(scored_regions)].copy()
    up = c["direction"] == "up"
    # the rankings' small-sample rule: a region resting on a handful of cases in any KPI is scored,
    # but ranked separately and kept out of the min/max and mean/sd everyone else is scaled by
    in_stats = ~c["region"].isin(set(small.index))
    g = c["value"].where(in_stats).groupby(c["kpi"])
    se_v = _value_se(c)
    if scheme.normalisation == "attainment":
        norm = c["attainment"].clip(upper=scheme.cap)
        with np.errstate(divide="ignore", invalid="ignore"):
            se_n = np.where(up, se_v / c["target"], c["target"] * se_v / c["value"] ** 2)
        se_n = pd.Series(se_n, index=c.index).where(c["attainment"] - se_n < scheme.cap, 0.0)
    elif scheme.normalisation == "minmax":
        lo, hi = g.transform("min"), g.transform("max")
        span = hi - lo
        raw = np.where(up, c["value"] - lo, hi - c["value"]) / span.where(span > 0)
        norm = pd.Series(raw, index=c.index).where(span > 0, 0.5)
        se_n = (se_v / span.where(span > 0)).fillna(0.0)
    else:
        mu, sd = g.transform("mean"), g.transform(lambda s: s.std(ddof=0))
        z = (c["value"] - mu) / sd.where(sd > 0)
        norm = z.where(up, -z).where(sd > 0, 0.0)
        se_n = (se_v / sd.where(sd > 0)).fillna(0.0)
    c["weight"] = c["kpi"].map(w).astype(float)
    c["normalised"] = norm.astype(float)
    c["normalised_se"] = pd.Series(se_n, index=c.index).astype(float).fillna(0.0)
    c["contribution"] = scheme.scale * c["weight"] * c["normalised"]
    c["peer_mean_contribution"] = c.groupby("kpi")["contribution"].transform("mean")
    c["relative_contribution"] = c["contribution"] - c["peer_mean_contribution"]
    comp_cols = ["region", "kpi", "weight", "value", "target", "attainment", "normalised", "contribution",
                 "peer_mean_contribution", "relative_contribution", "small_sample"]
    components = c[comp_cols].sort_values(["region", "kpi"]).reset_index(drop=True)

    sc = pd.DataFrame({"region": list(regions)})
    total = c.groupby("region")["contribution"].sum()
    sc["score"] = sc["region"].map(total + scheme.offset)
    # the score's standard error from its KPIs' own sampling errors (independent, delta method)
    var = ((scheme.scale * c["weight"] * c["normalised_se"]) ** 2).groupby(c["region"]).sum()
    sc["score_se"] = sc["region"].map(np.sqrt(var))
    level = rows.drop_duplicates("region").set_index("region")["level"]
    pend = rows[rows["kpi"].isin(list(w))].groupby("region")["pending"].any() if "pending" in rows else None
    sc["missing_kpis"] = sc["region"].map(missing).apply(lambda x: x if isinstance(x, list) else [])
    sc["small_sample_kpis"] = sc["region"].map(small).apply(lambda x: x if isinstance(x, list) else [])
    is_county = sc["region"].map(level).eq("county")
    is_pending = sc["region"].map(pend).eq(True) if pend is not None else pd.Series(False, index=sc.index)
    sc.loc[is_pending, "score"] = np.nan  # not yet due: nobody is scored on the early reporters alone
    is_small = sc["small_sample_kpis"].map(bool) & sc["score"].notna()
    sc["standing"] = np.select(
        [is_small, sc["score"].notna(), is_pending, is_county], ["small_sample", "ranked", "pending", "overdue"],
        "incomplete",
    )
    shown = sc["score"].map(lambda x: publish_one(x, "decimal", SCORE_DECIMALS))
    ranked = sc["standing"] == "ranked"
    sc["rank"] = competition_rank(shown, up=True, among=ranked)
    sc["rank_of"] = int(ranked.sum())
    sc["rank_small"] = competition_rank(shown, up=True, among=sc["standing"] == "small_sample")
    tier = _tiers(sc, scheme)
    sc["tier"] = (tier + 1).astype("Int64")
    sc["tier_zh"] = tier.map(lambda i: scheme.tiers.labels_zh[int(i)] if pd.notna(i) else None)
    sc["tier_en"] = tier.map(lambda i: scheme.tiers.labels_en[int(i)] if pd.notna(i) else None)
    return sc, components, notes


def _scheme(scheme: str | Scheme, book: SchemeBook | None) -> Scheme:
    if isinstance(scheme, Scheme):
        return scheme
    try:
        return (book or schemes()).scheme(scheme)
    except KeyError as exc:
        raise RankingError(exc.args[0]) from None


def evaluate_scheme(
    engine: MetricsEngine,
    scheme: str | Scheme,
    period: str | Period,
    population: str | Population | None = None,
    *,
    book: SchemeBook | None = None,
    known_at: dt.datetime | None = None,
) -> CompositeResult:
    """Score, rank (with change since the previous period) and tier every region of the population.

    The population defaults to the scheme's own (counties or cities); it may be narrowed to a city's
    counties or a peer group, in which case min-max and z-score statistics are taken over that group.
    """
    s = _scheme(scheme, book)
    for sk in s.kpis:
        _rankable_kpi(engine, sk.kpi)
    p = _period(engine, period)
    pop = Population.parse(population or s.population, engine.geo)
    regions = pop.regions(engine.geo, p.end)
    cur, components, notes = score_scheme(engine.bulk(p, known_at), s, regions)
    prev, _, _ = score_scheme(engine.bulk(p.previous(), known_at), s, regions)
    cur["prev_rank"] = cur["region"].map(prev.set_index("region")["rank"])
    cur = pd.concat([cur, rank_change(cur["rank"], cur["prev_rank"])], axis=1)
    cur["standing_zh"] = cur["standing"].map(lambda x: STANDINGS[x][0])
    cur["standing_en"] = cur["standing"].map(lambda x: STANDINGS[x][1])
    cur = pd.concat([cur, _region_names(engine.geo, cur["region"])], axis=1)
    cur["period"], cur["population"], cur["scheme"] = p.label, pop.key, s.code
    cur["_o"] = cur["standing"].map(STANDING_ORDER)
    cur = cur.sort_values(["_o", "rank", "rank_small", "region"]).drop(columns="_o").reset_index(drop=True)
    for col in ("rank", "prev_rank", "rank_change", "rank_small"):
        cur[col] = cur[col].astype("Int64")
    cols = ["period", "population", "scheme", "region", "name_zh", "name_en", "parent", "rank", "rank_of",
            "prev_rank", "rank_change", "rank_change_zh", "rank_change_en", "score", "score_se", "tier", "tier_zh",
            "tier_en", "standing", "standing_zh", "standing_en", "rank_small", "missing_kpis", "small_sample_kpis"]
    components = components.assign(period=p.label, scheme=s.code)
    return CompositeResult(s, p.label, pop.key, cur[cols], components, notes)


# -- red and black lists ------------------------------------------------------------------------
LIST_COLUMNS = ["board", "board_zh", "rule_code", "rule", "subject", "subject_zh", "region", "name_zh", "name_en",
                "value", "rank", "rank_of", "reason_zh", "reason_en"]


def _entry(rule: ListRule, subject: str, subject_zh: str, region: str, geo: Geography, value, rank, rank_of,
           zh: str, en: str) -> dict:
    return {
        "board": rule.board, "board_zh": "红榜" if rule.board == "red" else "黑榜", "rule_code": rule.code,
        "rule": rule.rule, "subject": subject, "subject_zh": subject_zh, "region": region,
        "name_zh": geo.get(region).name_zh, "name_en": geo.get(region).name_en, "value": value,
        "rank": rank, "rank_of": rank_of, "reason_zh": zh, "reason_en": en,
    }


def _cutoff(ranked: pd.DataFrame, n: int, top: bool) -> pd.DataFrame:
    """The top or bottom n by rank, ties at the boundary included."""
    if ranked.empty:
        return ranked
    ranks = ranked["rank"].sort_values(ascending=top).astype(int).tolist()
    edge = ranks[min(n, len(ranks)) - 1]
    return ranked[ranked["rank"] <= edge] if top else ranked[ranked["rank"] >= edge]


def _rank_rule(
    engine: MetricsEngine, rule: ListRule, p: Period, book: SchemeBook | None, known_at: dt.datetime | None
) -> list[dict]:
    out: list[dict] = []
    top = rule.rule == "top_n"
    n = int(rule.n or 0)
    pop = Population.parse(rule.population, engine.geo)
    where_zh, where_en = pop.label(engine.geo, "zh"), pop.label(engine.geo, "en")
    if rule.scheme:
        res = evaluate_scheme(engine, rule.scheme, p, pop, book=book, known_at=known_at)
        ranked = res.scores[res.scores["standing"] == "ranked"]
        s = res.scheme
        for _, row in _cutoff(ranked, n, top).iterrows():
            rk, of = int(row["rank"]), int(row["rank_of"])
            pos_zh = f"第{rk}名" if top else f"倒数第{of - rk + 1}"
            zh = f"{s.name_zh}得分{row['score']:.1f}，{where_zh}排名第{rk}/{of}（{pos_zh}），{row['tier_zh']}"
            en = f"{s.name_en} score {row['score']:.1f}, ranked {rk} of {of} among {where_en} ({row['tier_en']})"
            out.append(_entry(rule, s.code, s.name_zh, row["region"], engine.geo, row["score"], rk, of, zh, en))
        return out
    for code in rule.kpis:
        k = engine.catalogue.kpi(code)
        t = league_table(engine, code, p, pop, small_sample="separate", trend_months=0, known_at=known_at)
        ranked = t[t["standing"] == "ranked"]
        for _, row in _cutoff(ranked, n, top).iterrows():
            rk, of = int(row["rank"]), int(row["rank_of"])
            tgt_zh = f"，目标{format_value(k, row['target'])}" if pd.notna(row["target"]) else ""
            tgt_en = f" vs target {format_value(k, row['target'])}" if pd.notna(row["target"]) else ""
            pos_zh = f"第{rk}名" if top else f"倒数第{of - rk + 1}"
            zh = f"{k.name_zh}{format_value(k, row['value'])}{tgt_zh}，{where_zh}排名第{rk}/{of}（{pos_zh}）"
            en = f"{k.name_en} {format_value(k, row['value'])}{tgt_en}, ranked {rk} of {of} among {where_en}"
            out.append(_entry(rule, k.code, k.name_zh, row["region"], engine.geo, row["value"], rk, of, zh, en))
    return out


def _window(engine: MetricsEngine, kpis: list[str], regions: list[str], p: Period, months: int) -> pd.DataFrame:
    """Monthly values, wide: index (kpi, region), columns = the `months` months up to p's last month."""
    end = Period.month(p.end.year, p.end.month)
    tr = _trend(engine, kpis, regions, end, months)
    return tr.pivot_table(index=["kpi", "region"], columns="month", values="value", dropna=False).reindex(
        columns=[add_months(end.start, -i) for i in range(months - 1, -1, -1)]
    )


def _streak_rules(engine: MetricsEngine, rule: ListRule, p: Period) -> list[dict]:
    pop = Population.parse(rule.population, engine.geo)
    regions = pop.regions(engine.geo, p.end)
    decline = rule.rule == "consecutive_decline"
    months = int(rule.k or 0) + 1 if decline else int(rule.m or 0)
    wide = _window(engine, list(rule.kpis), regions, p, months)
    out: list[dict] = []
    for (code, region), vals in wide.iterrows():
        k = engine.catalogue.kpi(code)
        v = vals.to_numpy(dtype=float)
        if np.isnan(v).any():
            continue  # a gap in the record: the streak is not established, and never imputed
        # judged on the figures as published: a month that shows its target has met it
        v = publish(v, k.format, k.decimals).to_numpy()
        up = k.direction == "up"
        labels = [f"{m:%Y-%m}" for m in vals.index]
        if decline:
            steps = np.diff(v)
            if not (np.all(steps < 0) if up else np.all(steps > 0)):
                continue
            path = " → ".join(_format_path(k, list(v)))
            n = months - 1
            if up:
                zh, en = f"{k.name_zh}连续{n}个月下降：{path}", f"{k.name_en} declined {n} months in a row: {path}"
            else:
                zh = f"{k.name_zh}连续{n}个月上升（越低越好）：{path}"
                en = f"{k.name_en} rose {n} months in a row (lower is better): {path}"
        else:
            targets = [k.target_for(m.year) for m in vals.index]
            if any(t is None for t in targets):
                continue
            tv = publish([t[0] for t in targets], k.format, k.decimals).to_numpy()  # type: ignore[index]
            if not (np.all(v < tv) if up else np.all(v > tv)):
                continue
            if len(set(tv)) == 1:
                vs = "、".join(format_value(k, x) for x in v)
                zh = f"{k.name_zh}连续{months}个月未达目标（{format_value(k, tv[0])}）：{vs}"
                en = (f"{k.name_en} missed its target ({format_value(k, tv[0])}) {months} months in a row: "
                      + ", ".join(format_value(k, x) for x in v))
            else:
                zh = f"{k.name_zh}连续{months}个月未达目标：" + "、".join(
                    f"{lab} {format_value(k, x)}（目标{format_value(k, t)}）" for lab, x, t in zip(labels, v, tv, strict=True))
                en = f"{k.name_en} missed its target {months} months in a row: " + ", ".join(
                    f"{lab} {format_value(k, x)} (target {format_value(k, t)})" for lab, x, t in zip(labels, v, tv, strict=True))
        out.append(_entry(rule, k.code, k.name_zh, region, engine.geo, float(v[-1]), None, None, zh, en))
    return out


def _overdue_rule(engine: MetricsEngine, rule: ListRule, p: Period, known_at: dt.datetime | None) -> list[dict]:
    pop = Population.parse(rule.population, engine.geo)
    regions = pop.regions(engine.geo, p.end)
    b = engine.bulk(p, known_at)
    out: list[dict] = []
    rows = b[b["kpi"].isin(rule.kpis) & b["region"].isin(regions)]
    for code in rule.kpis:
        k = engine.catalogue.kpi(code)
        st = standings(rows[rows["kpi"] == code], k.direction == "up")
        for region in st.loc[st["standing"].isin(["overdue", "incomplete"]), "region"]:
            zh = f"{k.name_zh}：{p.label}逾期未报" if st.set_index("region").loc[region, "standing"] == "overdue" \
                else f"{k.name_zh}：{p.label}部分县（市、区）未报"
            en = f"{k.name_en}: not reported for {p.label} (overdue)" if "逾期" in zh \
                else f"{k.name_en}: some counties did not report for {p.label}"
            out.append(_entry(rule, k.code, k.name_zh, region, engine.geo, None, None, None, zh, en))
    return out


def red_black_lists(
    engine: MetricsEngine,
    period: str | Period,
    rules: Sequence[str | ListRule] | None = None,
    *,
    book: SchemeBook | None = None,
    known_at: dt.datetime | None = None,
) -> pd.DataFrame:
    """Red (红榜) and black (黑榜) list entries for the period, each with its reason in zh and en.

    `known_at` freezes the rank and overdue rules; the streak rules read engine.trend (current data).
    """
    bk = book or schemes()
    p = _period(engine, period)
    chosen = [r if isinstance(r, ListRule) else bk.rule(r) for r in rules] if rules is not None else list(bk.lists)
    entries: list[dict] = []
    for rule in chosen:
        if rule.rule in ("top_n", "bottom_n"):
            entries += _rank_rule(engine, rule, p, bk, known_at)
        elif rule.rule in ("consecutive_decline", "off_target"):
            entries += _streak_rules(engine, rule, p)
        else:
            entries += _overdue_rule(engine, rule, p, known_at)
    df = pd.DataFrame(entries, columns=LIST_COLUMNS)
    df["period"] = p.label
    for c in ("rank", "rank_of"):
        df[c] = df[c].astype("Int64")
    return df


# -- county comparison --------------------------------------------------------------------------
def resolve_counties(engine: MetricsEngine, counties: str | Sequence[str], on: dt.date) -> list[str]:
    """County codes from codes/names, or every member of a city or peer group (by date)."""
    items = [counties] if isinstance(counties, str) else list(counties)
    out: list[str] = []
    for item in items:
        try:
            code = engine.resolve_region(item)
        except EngineError as exc:
            raise RankingError(str(exc)) from None
        level = engine.geo.get(code).level
        if level == "county":
            out.append(code)
        elif level in ("city", "group"):
            out += Population.parse(code, engine.geo).regions(engine.geo, on)
        else:
            out += engine.geo.counties
    return list(dict.fromkeys(out))


def scoped_peers(peers: Sequence[str], chosen: Sequence[str], allowed: Iterable[str] | None) -> list[str]:
    """The peers a reader with `allowed` regions may compare against (None: all); PermissionError when
    a chosen county lies outside `allowed`."""
    if allowed is None:
        return list(peers)
    ok = frozenset(allowed)
    bad = [c for c in chosen if c not in ok]
    if bad:
        raise PermissionError(f"outside your scope: {', '.join(sorted(bad))}")
    return [r for r in peers if r in ok]


def comparison_trends(
    engine: MetricsEngine,
    counties: str | Sequence[str],
    kpis: Sequence[str],
    end: str | Period,
    months: int = 12,
    peers: str | Population = "counties",
    allowed: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Monthly values per county and KPI, indexed to 100 at the first month, with the peer median.

    index_100 = 100 x value / value in the first month of the window that has a (non-zero) value —
    normally the first month; base_month says which. peer_median is the median over the peer
    population's counties that have a value that month. `allowed` (a scoped reader's regions):
    the peers are only the population's counties inside it, and a chosen county outside it is refused.
    """
    p = _period(engine, end)
    ks = [_rankable_kpi(engine, k) for k in kpis]
    chosen = resolve_counties(engine, counties, p.end)
    pop = Population.parse(peers, engine.geo)
    peer_regions = scoped_peers(pop.regions(engine.geo, p.end), chosen, allowed)
    tr = _trend(engine, [k.code for k in ks], sorted(set(chosen) | set(peer_regions)), p, months)
    tr = tr.assign(month=pd.to_datetime(tr["month"]).dt.strftime("%Y-%m"))
    med = tr[tr["region"].isin(peer_regions)].groupby(["kpi", "month"])["value"].median().rename("peer_median")
    df = tr[tr["region"].isin(chosen)].sort_values(["kpi", "region", "month"]).copy()
    ok = df["value"].notna() & (df["value"] != 0)
    first = df[ok].groupby(["kpi", "region"]).first()
    base = df.set_index(["kpi", "region"]).index.map(first["value"].to_dict().get)
    df["base_month"] = df.set_index(["kpi", "region"]).index.map(first["month"].to_dict().get)
    df["index_100"] = 100 * df["value"] / pd.Series(base, index=df.index, dtype=float)
    df = df.merge(med.reset_index(), on=["kpi", "month"], how="left")
    df["kpi_name_zh"] = df["kpi"].map(lambda c: engine.catalogue.kpi(c).name_zh)
    df = pd.concat([df, _region_names(engine.geo, df["region"])], axis=1)
    df["peers"] = pop.key
    return df[["kpi", "kpi_name_zh", "region", "name_zh", "name_en", "month", "value", "index_100", "base_month",
               "peer_median", "peers"]].reset_index(drop=True)


def peer_position(
    engine: MetricsEngine,
    counties: str | Sequence[str],
    kpis: Sequence[str],
    period: str | Period,
    peers: str | Population = "counties",
    known_at: dt.datetime | None = None,
    allowed: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Each county's place in its peers' distribution per KPI: median, percentile, z-score.

    The distribution is over the peer population's counties with a complete, reported value
    (nothing imputed). percentile = 100 x (peers below + half the peers equal) / peers (mid-rank,
    on the raw value: 100 is the top of the distribution). z_score = (value - peer mean) / peer sd
    (population sd); z_better flips the sign for lower-is-better KPIs so positive is always better.
    `allowed` (a scoped reader's regions): the statistics are over the in-scope peers only (see
    comparison_trends), so no figure of a county outside the scope enters them.
    """
    p = _period(engine, period)
    ks = [_rankable_kpi(engine, k) for k in kpis]
    chosen = resolve_counties(engine, counties, p.end)
    pop = Population.parse(peers, engine.geo)
    peer_regions = scoped_peers(pop.regions(engine.geo, p.end), chosen, allowed)
    b = engine.bulk(p, known_at)
    rows = []
    for k in ks:
        sub = b[b["kpi"] == k.code].set_index("region")
        pv = sub.loc[sub.index.isin(peer_regions)]
        vals = pv.loc[pv["value"].notna() & pv["complete"].astype(bool), "value"].to_numpy(dtype=float)
        n = len(vals)
        mean = float(vals.mean()) if n else np.nan
        sd = float(vals.std(ddof=0)) if n else np.nan
        med = float(np.median(vals)) if n else np.nan
        for c in chosen:
            r = sub.loc[c]
            ok = pd.notna(r["value"]) and bool(r["complete"])
            v = float(r["value"]) if ok else np.nan
            pct = 100 * ((vals < v).sum() + 0.5 * (vals == v).sum()) / n if ok and n else np.nan
            z = (v - mean) / sd if ok and sd > 0 else np.nan
            rows.append({
                "kpi": k.code, "kpi_name_zh": k.name_zh, "region": c, "value": v, "complete": bool(r["complete"]),
                "small_sample": bool(r["small_sample"]), "direction": k.direction, "peer_n": n, "peer_median": med,
                "peer_mean": mean, "peer_sd": sd, "peer_min": float(vals.min()) if n else np.nan,
                "peer_max": float(vals.max()) if n else np.nan, "percentile": pct, "z_score": z,
                "z_better": z if k.direction == "up" else -z,
            })
    df = pd.DataFrame(rows)
    df = pd.concat([df, _region_names(engine.geo, df["region"])], axis=1)
    df["period"], df["peers"] = p.label, pop.key
    first = ["period", "peers", "kpi", "kpi_name_zh", "region", "name_zh", "name_en"]
    return df[first + [c for c in df.columns if c not in first and c != "parent"]]


def for_download(df: pd.DataFrame) -> pd.DataFrame:
    """A copy fit for CSV/Excel: list cells (trend, missing_kpis) joined into text, nothing else changed."""
    out = df.copy()
    for c in out.columns:
        if out[c].map(lambda x: isinstance(x, list | tuple)).any():
            out[c] = out[c].map(
                lambda x: "; ".join("" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v) for v in x)
                if isinstance(x, list | tuple) else x
            )
    return out
