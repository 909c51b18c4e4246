"""Year-end projection of every KPI that has a yearly target.

What "year-end value" means (documented choice): the KPI's value for **December** of the target
year, computed by the engine exactly as the December tile shows it — ratios Σnumerator ÷
Σdenominator over December (stocks: the values at the month's last report; daily actives: the
mean over December's days of the regional sum), counts by their aggregation rule. That is the
figure a leader sees judged against the year's target when the year closes ("年底达到 95%"), it
is the end point of the monthly path on which "the month the target is met" is read, and for
stocks it equals the full-year value. (A flow rate's full-year value, Σ over twelve months, is a
different figure; the engine gives it under period `2025`.)

Method, per KPI and vectorised over all regions, in a transform that keeps values in range
(logit for rates, log(1+x) for counts and for year-on-year growth):

* **point path** ("the current course"): for flows and daily means, month m of this year = the
  same month a year earlier plus the current year-on-year change (the mean of the last `LOOKBACK`
  months' year-on-year differences), so month-of-year effects come from last year's own shape and
  the level and drift from the latest months. Stocks and rates of stocks (cumulative, no season)
  go on from the level now with the last twelve months' drift.
* **uncertainty**: the errors of the same forecast made from each of the latest `WINDOW` earlier
  months at the same horizon, using only data known at the cut-off (no peeking at the test year).
  A region's error scale is sqrt(a + b·noise²), noise being its mean squared month-to-month change;
  a and b are fitted over all regions' past errors, so a noisy small county gets a wider interval
  without each region being scaled by its own few errors. The scaled errors of all regions form
  the empirical distribution: its 10th and 90th percentiles give the 80 % interval, and the share
  of it on the right side of the target (direction-aware) the probability of meeting the target.
* **month the target is met on the current course**: the first month from which the observed
  value (now) and the projected path stay on the right side of the target through December;
  `met` when that is already the case now, `not_this_year` when December misses on the path.

A rate within `eps_for(target)` of 0 or 100 % counts as 0 or 100 % (the logit needs the clip).
Parameters (LOOKBACK, WINDOW) were chosen on the demo back-test (README, "Forecasts").

No forecast (a row with `reason`) when the KPI has no target for the year or not at this
region's level, the year is already complete, or the history is too short (a previous year to
take the shape from and past errors at that horizon to calibrate with).

`python -m metrics.forecast backtest` measures the method on the demo history.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.catalogue import Catalogue, Kpi
from metrics.catalogue import catalogue as default_catalogue
from metrics.evaluate import met_threshold
from metrics.geography import PROVINCE
from metrics.periods import Period, add_months

LOOKBACK = 12  # months of year-on-year differences that make "the current course"
EPS_MAX = 1e-3  # rates are clipped to [eps, 1 - eps] before the logit (see `eps_for`)
WINDOW = 18  # past errors from the latest this many origins (the noise of a logit changes over years)
MIN_ERRORS = 30  # fewer scaled past errors than this at the horizon: too little history
CONF = (0.1, 0.9)  # the 80 % interval
HISTORY_MONTHS = 66  # history read from the engine: enough past errors at every horizon

FORECAST_COLUMNS = [
    "kpi", "region", "year", "cutoff", "horizon", "value_now", "target", "direction", "projection",
    "lo", "hi", "prob", "month_met", "state", "n_errors", "reason",
]


def transform_kind(k: Kpi) -> str:
    """'logit' for rates, 'log1p' for counts and growth rates (growth is > −1)."""
    return "logit" if k.format == "percent" and k.kind != "yoy_growth" else "log1p"


def eps_for(target: float | None) -> float:
    """How close to 0 or 100 % a rate counts as 0 or 100 %: at most 0.1 point, and less than half
    the target's distance to the bound (a 99.95 % target stays distinguishable from 100 %)."""
    e = EPS_MAX
    if target is not None and 0 < target < 1:
        e = min(e, 0.5 * target, 0.5 * (1 - target))
    return e


def to_t(v: np.ndarray, kind: str, eps: float = EPS_MAX) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "logit":
            p = np.clip(v, eps, 1 - eps)
            return np.log(p / (1 - p))
        return np.log1p(np.maximum(v, -1 + eps))


def from_t(x: np.ndarray, kind: str, eps: float = EPS_MAX) -> np.ndarray:
    """Back to the KPI's unit; a rate at the clipping bound is the bound itself (0 or 100 %)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if kind != "logit":
            return np.expm1(x)
        top = np.log((1 - eps) / eps)
        return np.where(x >= top - 1e-9, 1.0, np.where(x <= -top + 1e-9, 0.0, 1 / (1 + np.exp(-x))))


def kpi_group(k: Kpi, cat: Catalogue) -> str:
    """The back-test's KPI kinds: rate (flow / stock / daily), count (stock / daily), growth."""
    if k.kind == "yoy_growth":
        return "growth"
    agg = cat.measure(k.numerator or k.measure).aggregation
    name = {"sum": "flow", "last": "stock", "mean_daily": "daily"}[agg]
    return f"rate_{name}" if k.kind == "ratio" else f"count_{name}"


def method_of(k: Kpi, cat: Catalogue) -> str:
    """Stocks (and rates of stocks) follow their drift; flows and daily means their season."""
    if k.kind == "yoy_growth":
        return "seasonal"
    return "drift" if cat.measure(k.numerator or k.measure).aggregation == "last" else "seasonal"


def target_applies(k: Kpi, region: str) -> bool:
    """The engine's rule: rate targets apply everywhere, count targets to the province."""
    return k.targets_everywhere or region == PROVINCE


@dataclass
class Projection:
    """Arrays over regions for one KPI and cut-off, in original units unless said otherwise."""

    point: np.ndarray  # December: the course, and the median of the draws
    lo: np.ndarray
    hi: np.ndarray
    path_t: np.ndarray  # [regions, horizon] projected months after the cut-off (transformed)
    scale: np.ndarray  # per-region error scale at the horizon (transformed)
    z: np.ndarray  # pooled scaled errors at the horizon, centred on their median
    point_t: np.ndarray  # the course before the error draws (their centre)


def _course(x: np.ndarray, s: int) -> np.ndarray:
    """The current year-on-year change at column s: mean of the last LOOKBACK differences."""
    lo = max(12, s - LOOKBACK + 1)
    if s < 12:
        return np.full(x.shape[0], np.nan)
    d = x[:, lo:s + 1] - x[:, lo - 12:s - 11]
    with _quiet():
        return np.nanmean(d, axis=1)


class _quiet:
    """Silence numpy's 'mean of empty slice' (an all-missing row is simply no value)."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *a: object) -> None:
        self._w.__exit__(*a)


def predict(x: np.ndarray, s: int, k: int, method: str) -> np.ndarray:
    """The k-month-ahead forecast from column s (transformed), for every region.

    seasonal: the same month a year earlier plus the current year-on-year change.
    drift (stocks): the level now plus k twelfths of the change over the last twelve months.
    """
    if method == "drift":
        return x[:, s] + k * (x[:, s] - x[:, s - 12]) / 12
    return x[:, s + k - 12] + _course(x, s)


def past_errors(x: np.ndarray, c: int, h: int, method: str) -> np.ndarray:
    """Errors [regions, origins] of the h-month-ahead forecast from the latest origins s + h <= c.

    WINDOW origins, or more when there are few regions (a province-only KPI) to reach MIN_ERRORS.
    """
    window = max(WINDOW, -(-MIN_ERRORS // max(x.shape[0], 1)))
    origins = range(max(12, c - h + 1 - window), c - h + 1)
    if not len(origins):
        return np.empty((x.shape[0], 0))
    return np.column_stack([x[:, s + h] - predict(x, s, h, method) for s in origins])


def noise(x: np.ndarray, c: int) -> np.ndarray:
    """Each region's month-to-month variability over the window (mean squared first difference)."""
    w = x[:, max(0, c - WINDOW - 12):c + 1]
    with _quiet():
        return np.nanmean(np.diff(w, axis=1) ** 2, axis=1)


def error_scale(e: np.ndarray, nz: np.ndarray) -> np.ndarray:
    """Per-region error scale: E[e²] = a + b·noise², fitted over all regions' past errors.

    Two coefficients from thousands of errors, so the scaled errors are not shrunk by scaling
    each region with its own few (in-sample) errors; a noisy small county gets a wider interval.
    """
    ok = ~np.isnan(e) & ~np.isnan(nz)[:, None]
    y = (e**2)[ok]
    xn = np.broadcast_to(nz[:, None], e.shape)[ok]
    A = np.column_stack([np.ones_like(xn), xn])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    a, b = coef
    if b < 0:
        a, b = y.mean(), 0.0
    elif a < 0:
        a, b = 0.0, float((y * xn).sum() / max((xn * xn).sum(), 1e-300))
    return np.sqrt(a + b * np.nan_to_num(nz, nan=np.nanmean(nz) if np.isfinite(nz).any() else 0.0))


def forecast_arrays(v: np.ndarray, first: dt.date, cutoff: dt.date, kind: str, method: str = "seasonal",
                    eps: float = EPS_MAX) -> Projection | None:
    """Project monthly values v [regions, months from `first`] from `cutoff` to December.

    None when the year is complete at the cut-off or there are too few past errors.
    """
    c = (cutoff.year - first.year) * 12 + cutoff.month - first.month
    horizon = 12 - cutoff.month
    if horizon <= 0 or c < 12 or c >= v.shape[1]:
        return None
    x = to_t(v[:, :c + 1].astype(float), kind, eps)
    path = np.column_stack([predict(x, c, k, method) for k in range(1, horizon + 1)])
    point_t = path[:, -1]
    e = past_errors(x, c, horizon, method)
    if (~np.isnan(e)).sum() < MIN_ERRORS:
        return None
    scale = error_scale(e, noise(x, c))
    with np.errstate(divide="ignore", invalid="ignore"):  # no error anywhere (all at 100 %): z = 0
        zs = np.where(scale[:, None] > 0, e / scale[:, None], np.where(e == 0, 0.0, np.nan))
    z = zs[np.isfinite(zs)]
    if z.size < MIN_ERRORS:
        return None
    # the draws are centred on the course, so the stated December value is their median and
    # "预计达到 X" and "达标概率 ≥ 50 %" can never disagree (the upper middle of an even sample keeps
    # that exact). Uncentred, lopsided past errors — a rate at 100 % can only fall — put the course
    # and the probability on opposite sides of a target. Centring also scored better on the
    # back-test than moving the point to the errors' median (README, "Forecasts").
    z = z - np.quantile(z, 0.5, method="higher")
    q = np.quantile(z, CONF)
    return Projection(
        point=from_t(point_t, kind, eps), lo=from_t(point_t + scale * q[0], kind, eps),
        hi=from_t(point_t + scale * q[1], kind, eps), path_t=path, scale=scale, z=z, point_t=point_t,
    )


def probability(pr: Projection, target_t: np.ndarray, up: bool) -> np.ndarray:
    """P(December value on the right side of the target): the share of scaled-error draws there."""
    zs = np.sort(pr.z)
    # need: point + scale * z >= target  <=>  z >= (target - point) / scale  (scale > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        thr = (target_t - pr.point_t) / pr.scale
    tol = 1e-12
    if up:  # need z >= thr
        thr = np.where(pr.scale > 0, thr, np.where(pr.point_t >= target_t - tol, -np.inf, np.inf))
        share = 1 - np.searchsorted(zs, thr - tol, side="left") / zs.size
    else:  # need z <= thr
        thr = np.where(pr.scale > 0, thr, np.where(pr.point_t <= target_t + tol, np.inf, -np.inf))
        share = np.searchsorted(zs, thr + tol, side="right") / zs.size
    return np.where(np.isnan(pr.point_t) | np.isnan(target_t), np.nan, share)


def month_met(now_t: np.ndarray, path_t: np.ndarray, target_t: np.ndarray, up: bool, cutoff_month: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """(month, state): the first month from which now and the path stay on target through December."""
    seq = np.column_stack([now_t, path_t])  # months cutoff_month .. 12
    good = seq >= target_t[:, None] - 1e-12 if up else seq <= target_t[:, None] + 1e-12
    # suffix "all good": from the end backwards
    suffix = np.flip(np.cumprod(np.flip(good, axis=1), axis=1), axis=1).astype(bool)
    any_ok = suffix.any(axis=1)
    first = np.argmax(suffix, axis=1)
    month = np.where(any_ok, cutoff_month + first, -1)
    state = np.where(~any_ok, "not_this_year", np.where(first == 0, "met", "on_course"))
    unknown = np.isnan(seq).any(axis=1) | np.isnan(target_t)
    return np.where(unknown, -1, month), np.where(unknown, "unknown", state)


def _forecast_block(v: np.ndarray, first: dt.date, cutoff: dt.date, k: Kpi, target: float, cat: Catalogue
                    ) -> dict[str, np.ndarray] | None:
    """Projection, interval, probability and month met for one KPI over one block of regions."""
    kind, eps = transform_kind(k), eps_for(target)
    pr = forecast_arrays(v, first, cutoff, kind, method_of(k, cat), eps)
    if pr is None:
        return None
    n = v.shape[0]
    up = k.direction == "up"
    # met as published: a December figure that shows the target has met it (metrics.evaluate)
    target_t = to_t(np.full(n, met_threshold(target, k.format, k.decimals, up)), kind, eps)
    mm, st = month_met(to_t(v[:, -1], kind, eps), pr.path_t, target_t, up, cutoff.month)
    return {"projection": pr.point, "lo": pr.lo, "hi": pr.hi, "prob": probability(pr, target_t, up),
            "month_met": mm, "state": st, "n_errors": np.full(n, pr.z.size)}


def forecast_frame(
    values: pd.DataFrame, cutoff: dt.date, cat: Catalogue | None = None, kpis: Iterable[str] | None = None,
    levels: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Forecasts for every (KPI with a target, region) in `values` (kpi, region, month, value).

    `cutoff` is the first day of the last observed month; later months in `values` are ignored.
    With `levels` (region -> province/city/county), counties and the aggregates (cities, the
    province) get their error model fitted separately: an aggregate's errors are mostly trend, a
    county's mostly noise, and one scale law for both over-covers the one and under-covers the other.
    """
    cat = cat or default_catalogue()
    cutoff = cutoff.replace(day=1)
    year = cutoff.year
    rows: list[pd.DataFrame] = []
    vals = values[values["month"] <= cutoff]
    want = set(kpis) if kpis is not None else None
    for code, part in vals.groupby("kpi", sort=False):
        if want is not None and code not in want:
            continue
        k = cat.kpi(code)
        tgt = k.target_for(year)
        if tgt is None:
            continue
        wide = part.pivot_table(index="region", columns="month", values="value", aggfunc="last", dropna=False)
        regions = [r for r in wide.index if target_applies(k, r)]
        if not regions:
            continue
        first = min(wide.columns)
        months = [add_months(first, i) for i in range((cutoff.year - first.year) * 12 + cutoff.month - first.month + 1)]
        v = wide.reindex(index=regions, columns=months).to_numpy(dtype=float)
        n = len(regions)
        out = pd.DataFrame({
            "kpi": code, "region": regions, "year": year, "cutoff": f"{cutoff:%Y-%m}",
            "horizon": 12 - cutoff.month, "value_now": v[:, -1], "target": tgt[0], "direction": k.direction,
            "projection": np.nan, "lo": np.nan, "hi": np.nan, "prob": np.nan, "month_met": -1, "state": "unknown",
            "n_errors": 0, "reason": "complete" if cutoff.month == 12 else "history",
        })
        county = np.array([(levels or {}).get(r) == "county" for r in regions])
        blocks = [county, ~county] if levels else [np.ones(n, dtype=bool)]
        for m in blocks:
            if not m.any():
                continue
            res = _forecast_block(v[m], first, cutoff, k, tgt[0], cat)
            if res is None:
                continue
            idx = np.flatnonzero(m)
            for col, arr in res.items():
                out.loc[idx, col] = arr
            out.loc[idx, "reason"] = np.where(np.isnan(res["projection"]), "history", "")
        rows.append(out)
    if not rows:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    return pd.concat(rows, ignore_index=True)[FORECAST_COLUMNS]


def history(engine, end: Period, regions: list[str], kpis: list[str] | None = None,
            months: int = HISTORY_MONTHS, known_at: dt.datetime | None = None) -> pd.DataFrame:
    """Monthly values of the targeted KPIs up to `end` from the engine (one trend read)."""
    codes = kpis or [k.code for k in engine.catalogue.kpis if k.targets]
    return engine.trend(codes, regions, end, months=months, known_at=known_at)


def cutoff_of(period: Period, latest: Period | None) -> dt.date | None:
    """The month a view of `period` forecasts from: its last month, if complete; else none.

    A day or a month not yet complete has no settled value to project from; a period that ends in
    December leaves nothing to project.
    """
    if latest is None or period.grain == "day":
        return None
    last = period.end.replace(day=1)
    if last > latest.start or last.month == 12:
        return None
    return last


def year_end_forecasts(engine, period: Period | None = None, regions: list[str] | None = None,
                       kpis: list[str] | None = None, known_at: dt.datetime | None = None) -> pd.DataFrame:
    """Forecasts as of the last month of `period` (default the latest month), as known at `known_at`.

    Regions default to the province, the cities and the counties (the error scale is fitted over
    all of them, so a scoped view filters the result rather than asking for fewer regions).
    """
    p = period or engine.latest_month()
    if p is None:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    last = p.end.replace(day=1)
    geo = engine.geo
    regs = regions or [PROVINCE, *geo.cities, *geo.counties]
    codes = kpis or [k.code for k in engine.catalogue.kpis if k.targets]
    codes = [c for c in codes if engine.catalogue.kpi(c).target_for(last.year)]
    if not codes:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    hist = history(engine, Period.month(last.year, last.month), regs, codes, known_at=known_at)
    return forecast_frame(hist, last, engine.catalogue, codes, {r: geo.get(r).level for r in regs})


def at_risk(fc: pd.DataFrame, kpi: str, regions: Iterable[str] | None = None, below: float = 0.5) -> pd.DataFrame:
    """Regions whose probability of meeting the year's target is below `below`, least likely first."""
    d = fc[(fc["kpi"] == kpi) & fc["prob"].notna() & (fc["prob"] < below)]
    if regions is not None:
        d = d[d["region"].isin(set(regions))]
    return d.sort_values(["prob", "region"]).reset_index(drop=True)


# -- back-test --------------------------------------------------------------------------------------


def prob_text(p: float | None) -> str:
    """A probability as a whole percent; the ends say ≥99% / ≤1% (an empirical 100% is not certainty).

    Here, beside the numbers, so the app and the meeting pack word it the same way."""
    if p is None or not isinstance(p, int | float) or p != p:  # None, not a number, or NaN
        return "—"
    if p >= 0.995:
        return "≥99%"
    if p <= 0.005:
        return "≤1%"
    return f"{p * 100:.0f}%"


def backtest(values: pd.DataFrame, years: Iterable[int], cut_months: Iterable[int], cat: Catalogue | None = None,
             levels: dict[str, str] | None = None) -> pd.DataFrame:
    """Forecast from each (year, cut-off month) using only data up to it; join December's truth."""
    cat = cat or default_catalogue()
    out = []
    truth = values[["kpi", "region", "month", "value"]]
    for y in years:
        dec = truth[truth["month"] == dt.date(y, 12, 1)][["kpi", "region", "value"]].rename(columns={"value": "actual"})
        for m in cut_months:
            f = forecast_frame(values, dt.date(y, m, 1), cat, levels=levels)
            out.append(f.merge(dec, on=["kpi", "region"], how="left"))
    df = pd.concat(out, ignore_index=True)
    df["group"] = df["kpi"].map(lambda c: kpi_group(cat.kpi(c), cat))
    df["level"] = df["region"].map(levels or {}).fillna("?")
    up = df["direction"] == "up"
    thr = [met_threshold(t, cat.kpi(c).format, cat.kpi(c).decimals, u) if pd.notna(t) else np.nan
           for t, c, u in zip(df["target"], df["kpi"], up, strict=True)]
    df["met"] = np.where(up, df["actual"] >= np.asarray(thr, dtype=float), df["actual"] <= np.asarray(thr, dtype=float))
    df["inside"] = (df["actual"] >= df["lo"] - 1e-12) & (df["actual"] <= df["hi"] + 1e-12)
    pct = df["kpi"].map(lambda c: cat.kpi(c).format == "percent" and cat.kpi(c).kind != "yoy_growth")
    with np.errstate(divide="ignore", invalid="ignore"):
        df["abs_err"] = np.where(pct, (df["projection"] - df["actual"]).abs() * 100,
                                 ((df["projection"] - df["actual"]) / df["actual"]).abs() * 100)
    df["err_unit"] = np.where(pct, "pp", "%")
    return df


def summarise(bt: pd.DataFrame) -> dict[str, pd.DataFrame | float]:
    """Coverage of the 80 % interval, mean absolute error and Brier score, overall and by group."""
    d = bt[bt["projection"].notna() & bt["actual"].notna()].copy()
    d["brier"] = (d["prob"] - d["met"].astype(float)) ** 2

    def agg(by: str | list[str]) -> pd.DataFrame:
        return d.groupby(by).agg(n=("inside", "size"), coverage=("inside", "mean"),
                                 mae=("abs_err", "mean"), brier=("brier", "mean")).reset_index()

    base = d["met"].mean()
    bins = pd.cut(d["prob"], [-0.001, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0])
    reliability = d.groupby(bins, observed=True).agg(n=("met", "size"), mean_prob=("prob", "mean"),
                                                     share_met=("met", "mean")).reset_index()
    return {
        "n_made": float(len(d)), "n_skipped": float(bt["projection"].isna().sum()),
        "coverage": float(d["inside"].mean()), "brier": float(d["brier"].mean()),
        "brier_climatology": float(((base - d["met"]) ** 2).mean()),
        "by_horizon": agg("horizon"), "by_group": agg(["group", "err_unit"]), "by_year": agg("year"),
        "by_level": agg("level"), "reliability": reliability.rename(columns={"prob": "probability"}),
    }


def run_backtest(url: str | None = None, years: tuple[int, ...] = (2022, 2023, 2024, 2025),
                 cut_months: tuple[int, ...] = (3, 6, 9), today: dt.date | None = None) -> dict:
    """Read the whole history once, back-test, print the report; returns the summary."""
    from metrics import open_engine
    from metrics.engine import MetricsEngine
    from store import Store

    eng = MetricsEngine(Store(url), today=today) if url else open_engine()
    latest = eng.latest_month()
    geo = eng.geo
    regs = [PROVINCE, *geo.cities, *geo.counties]
    t0 = time.perf_counter()
    hist = history(eng, latest, regs, months=(latest.start.year - 2021) * 12 + latest.start.month)
    t_read = time.perf_counter() - t0
    levels = {r: geo.get(r).level for r in regs}
    years = tuple(y for y in years if dt.date(y, 12, 1) <= latest.start)
    t0 = time.perf_counter()
    bt = backtest(hist, years, cut_months, eng.catalogue, levels)
    t_bt = time.perf_counter() - t0
    t0 = time.perf_counter()
    live = forecast_frame(hist, latest.start, eng.catalogue, levels=levels)
    t_one = time.perf_counter() - t0
    s = summarise(bt)
    pd.set_option("display.width", 140)
    print(f"history: {hist['month'].min()} .. {hist['month'].max()}, {hist['kpi'].nunique()} KPIs with targets, "
          f"{len(regs)} regions; read in {t_read:.2f} s")
    print(f"back-test years {years}, cut-offs at months {cut_months}: {int(s['n_made'])} forecasts made, "
          f"{int(s['n_skipped'])} skipped (too little history)")
    print(f"80% interval coverage: {s['coverage']:.1%}   Brier score: {s['brier']:.4f} "
          f"(always-the-base-rate: {s['brier_climatology']:.4f})")
    for key in ("by_horizon", "by_year", "by_level", "by_group", "reliability"):
        note = ("probability of meeting the target against how often it was met" if key == "reliability"
                else "mae in points for rates, relative % for counts and growth")
        print(f"\n{key.replace('_', ' ')} ({note}):")
        print(s[key].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"\ntiming: back-test of {len(years) * len(cut_months)} cut-offs {t_bt:.2f} s; "
          f"one full forecast ({len(live)} KPI x region rows, as of {latest.label}) {t_one:.3f} s "
          f"(+ history read {t_read:.2f} s)")
    s.update(t_read=t_read, t_backtest=t_bt, t_forecast=t_one)
    return s


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "backtest":
        print("usage: python -m metrics.forecast backtest [DATABASE_URL]")
        return 2
    run_backtest(argv[1] if len(argv) > 1 else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
