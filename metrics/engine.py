"""The metrics engine: any KPI, any region or group, any period -> value with its context.

`bulk(period)` answers all KPIs x all regions (province, cities, counties, peer groups) for one
period in one pass: one SQL query over the materialised county-month rollup for every month the
period, its 环比 and its 同比 need, then vectorised folding in pandas. Results are cached per
(period, known_at, data_version), so a page that asks again after no data change pays nothing.
`value()` is the single-figure view of the same computation plus the batches behind it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from metrics import aggregate, changes
from metrics.catalogue import Catalogue
from metrics.catalogue import catalogue as default_catalogue
from metrics.evaluate import (
    attach_targets,
    kpi_attributes,
    mask_targets,
    pace_gap,
    published,
    published_attainment,
    rank_within,
    status,
)
from metrics.geography import PROVINCE, Geography, geography
from metrics.periods import REPORT_DUE_DAY, Period, add_months, latest_due_month, month_end, report_due
from metrics.townships import township_kpis
from store.schema import observation, rollup_month
from store.store import Store

__all__ = ["REPORT_DUE_DAY", "EngineError", "KpiResult", "MetricsEngine", "add_changes"]


class EngineError(ValueError):
    """A question the engine cannot answer (unknown KPI, region, period); message is for people."""


@dataclass
class KpiResult:
    kpi: str
    region: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    target: float | None
    target_year: int | None
    target_source: str | None
    attainment: float | None
    status: str
    prev_value: float | None
    change_prev: float | None
    yoy_value: float | None
    change_yoy: float | None
    rank: int | None
    rank_of: int | None
    peer_ranks: dict[str, tuple[int, int]]
    as_of: str | None
    complete: bool
    n_reported: int
    n_expected: int
    missing: list[str]
    small_sample: bool
    batches: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_reported: list[str] = field(default_factory=list)  # every member not in yet (missing: the overdue ones)
    pending: bool = False  # no report of the period is due yet

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def add_changes(df: pd.DataFrame) -> None:
    """环比 and 同比 in place: relative change for counts, absolute (percentage points) for rates."""
    pct = df["format"] == "percent"
    df["change_prev"] = df["value"] - df["prev_value"]
    df["change_yoy"] = df["value"] - df["yoy_value"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df.loc[~pct, "change_prev"] = (df["value"] / df["prev_value"] - 1).replace([np.inf, -np.inf], np.nan)
        df.loc[~pct, "change_yoy"] = (df["value"] / df["yoy_value"] - 1).replace([np.inf, -np.inf], np.nan)


def _none(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, float | np.floating) and (np.isnan(x) or np.isinf(x)):
        return None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


class MetricsEngine:
    def __init__(
        self,
        store: Store,
        catalogue: Catalogue | None = None,
        geo: Geography | None = None,
        today: dt.date | None = None,
        cache_size: int = 64,
    ) -> None:
        self.store = store
        self.catalogue = catalogue or default_catalogue()
        self.geo = geo or geography()
        self._today = today
        self._cache: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._grain = {m.code: m.grain for m in self.catalogue.measures}
        self._level = {m.code: m.level for m in self.catalogue.measures}
        self._attrs = kpi_attributes(self.catalogue)

    @property
    def today(self) -> dt.date:
        return self._today or dt.date.today()

    # -- validation of questions --------------------------------------------------------------
    def resolve_region(self, text: str) -> str:
        try:
            return self.geo.resolve(text)
        except KeyError as exc:
            raise EngineError(exc.args[0]) from None

    def resolve_kpi(self, code: str) -> str:
        try:
            return self.catalogue.kpi(code).code
        except KeyError:
            raise EngineError(f"unknown KPI {code!r}: `python -m metrics list` shows the catalogue") from None

    def resolve_period(self, text: str | Period) -> Period:
        if isinstance(text, Period):
            return text
        try:
            return Period.parse(text)
        except ValueError as exc:
            raise EngineError(str(exc)) from None

    # -- public API ---------------------------------------------------------------------------
    def data_version(self) -> int:
        return self.store.data_version()

    def latest_month(self) -> Period | None:
        """The latest month: the newest month whose county reports are due (metrics.periods.latest_due_month)
        and that has any. Every surface's default period (pages, CLI, pack, scheduler, kiosk) is this one;
        a newer month that early reporters opened is offered as in progress (reporting_months)."""
        monthly = self._county_monthly()
        last_due = latest_due_month(self.today)
        with self.store.engine.connect() as conn:
            q = sa.select(sa.func.max(rollup_month.c.month)).where(rollup_month.c.measure_code.in_(monthly))
            m = conn.execute(q.where(rollup_month.c.month <= last_due)).scalar() or conn.execute(q).scalar()
        if m is None:
            return None
        m = pd.Timestamp(m).date()
        return Period.month(m.year, m.month)

    def reporting_months(self) -> list[tuple[Period, int, int]]:
        """Months after the latest month that already hold county reports (not yet due, or due but not
        yet the latest because none arrived): (month, counties reported, counties expected), newest first."""
        latest = self.latest_month()
        if latest is None:
            return []
        monthly = self._county_monthly()
        src = self._observations(None)
        with self.store.engine.connect() as conn:
            s = src.where(observation.c.measure_code.in_(monthly), observation.c.obs_date > latest.end).subquery()
            rows = conn.execute(sa.select(s.c.month, sa.func.count(sa.distinct(s.c.region_code)))
                                .group_by(s.c.month)).all()
        n = len(self.geo.counties)
        out = [(Period.month(pd.Timestamp(m).year, pd.Timestamp(m).month), int(c), n) for m, c in rows if m is not None]
        return sorted(out, reverse=True)

    def _county_monthly(self) -> list[str]:
        return [m.code for m in self.catalogue.measures if m.grain == "month" and m.level == "county"]

    def known_now(self, known_at: dt.datetime | None = None) -> dt.datetime | None:
        """The moment figures are read as known at: `known_at` when asked; otherwise now, which is the
        current rows (None, the fast rollup path) unless some batch claims a commit time after now
        (a database written by an older demo generator): then exactly as known now."""
        if known_at is not None:
            return known_at
        latest = self._latest_commit()
        now = dt.datetime.now().replace(microsecond=0)
        return None if latest is None or latest <= now else now

    def _latest_commit(self) -> dt.datetime | None:
        version = self.data_version()
        hit = getattr(self, "_commit_cache", None)
        if hit is not None and hit[0] == version:
            return hit[1]
        from store.schema import import_batch

        with self.store.engine.connect() as conn:
            v = conn.execute(sa.select(sa.func.max(import_batch.c.committed_at))
                             .where(import_batch.c.status == "committed")).scalar()
        latest = None if v is None else pd.Timestamp(v).to_pydatetime()
        self._commit_cache = (version, latest)
        return latest

    def _observations(self, known_at: dt.datetime | None):
        from store.store import current_observations, observations_known_at

        at = self.known_now(known_at)
        return current_observations() if at is None else observations_known_at(at)

    def bulk(self, period: str | Period, known_at: dt.datetime | None = None) -> pd.DataFrame:
        """All KPIs x all regions and groups for one period (cached per data version)."""
        p = self.resolve_period(period)
        known_at = self.known_now(known_at)
        key = (p, known_at, self.data_version(), self.today)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        df = self._compute(p, known_at)
        with self._lock:
            self._cache[key] = df
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return df

    def value(self, kpi: str, region: str, period: str | Period, known_at: dt.datetime | None = None) -> KpiResult:
        code = self.resolve_kpi(kpi)
        reg = self.resolve_region(region)
        p = self.resolve_period(period)
        r = self.geo.get(reg)
        if r.level == "group" and not self.geo.group_valid_on(reg, p.end):
            raise EngineError(
                f"{r.name_zh} ({reg}) is defined only from {r.valid_from} to {r.valid_to or 'now'}; "
                f"it does not exist at the end of {p.label}"
            )
        df = self.bulk(p, known_at)
        row = df[(df["kpi"] == code) & (df["region"] == reg)]
        if row.empty:
            raise EngineError(f"no result for {code} in {reg} for {p.label}")
        res = self._to_result(row.iloc[0])
        res.batches = self._batches(code, reg, p, known_at)
        return res

    def trend(
        self, kpis: list[str], regions: list[str], end: Period, months: int = 12,
        known_at: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Monthly KPI values for the `months` months up to `end` (sparklines, trend charts).

        One rollup read and one vectorised fold for all months; cached per data version.
        """
        codes = tuple(self.resolve_kpi(k) for k in kpis)
        known_at = self.known_now(known_at)
        key = ("trend", codes, tuple(regions), end, months, known_at, self.data_version(), self.today)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        last = end.end.replace(day=1)
        ms = [add_months(last, -i) for i in range(months - 1, -1, -1)]
        growth = any(self.catalogue.kpi(k).kind == "yoy_growth" for k in codes)
        fetch = sorted(set(ms) | ({add_months(m, -12) for m in ms} if growth else set()))
        measures = sorted({m for k in codes for m in self.catalogue.kpi(k).measures})
        with self.store.engine.connect() as conn:
            towns = [r for r in regions if r in self.geo.townships]
            members = None
            if towns:  # a township is its own (only) member; it belongs to no group in region_member
                others = [r for r in regions if r not in self.geo.townships]
                members = pd.concat([aggregate.memberships(conn, end.end, others),
                                     pd.DataFrame({"group_code": towns, "member_code": towns})], ignore_index=True)
            frame = aggregate.group_month_frame(conn, fetch, measures, end.end, regions, known_at, members=members,
                                                pairs=aggregate.ratio_pairs(self.catalogue, codes))
            dc = aggregate.distinct_days(conn, aggregate.needs_day_counts(frame, self.catalogue, "month"), end.end,
                                         known_at, self.catalogue)
        # fold every month at once: (group, month) as the key, the whole span as the "period"
        span = Period("ytd", fetch[0], month_end(fetch[-1]))
        keyed = frame.assign(group_code=frame["group_code"] + "|" + frame["month"].dt.strftime("%Y-%m-%d"))
        if not dc.empty:
            dc = dc.assign(group_code=dc["group_code"] + "|" + dc["month"].dt.strftime("%Y-%m-%d"))
        folded = aggregate.fold_period(keyed, span, self.catalogue, dc)
        index = pd.Index([f"{r}|{m.isoformat()}" for r in regions for m in ms], name="group_code")
        index_ya = pd.Index([f"{r}|{add_months(m, -12).isoformat()}" for r in regions for m in ms], name="group_code")
        wide = folded.pivot(index="group_code", columns="measure_code", values="value") if len(folded) else None
        w = wide.reindex(index) if wide is not None else pd.DataFrame(index=index)
        w_ya = wide.reindex(index_ya).set_axis(index) if wide is not None else None
        df = self._kpi_values(w, w_ya, list(codes))
        parts = df["region"].str.split("|", n=1, expand=True)
        df = df.assign(region=parts[0], month=pd.to_datetime(parts[1]).dt.date)
        df = df[["kpi", "region", "month", "value", "numerator", "denominator"]].reset_index(drop=True)
        with self._lock:
            self._cache[key] = df
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return df

    def township_kpis(self) -> list[str]:
        """KPIs that exist at township level (the grassroots system's, see metrics/townships.py)."""
        return township_kpis(self.catalogue)

    def township_bulk(
        self, period: str | Period, county: str | None = None, known_at: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Township KPIs x townships (all, or one county's) for one period, with bulk()'s columns.

        Plus `county`, `city`, `rank_county`/`rank_county_of` (within its county); `rank`/`rank_of`
        are province-wide among townships. Same rules as bulk(): Σnumerator ÷ Σdenominator, ranks
        only for complete, non-small samples. Cached per (period, known_at, data_version).
        """
        p = self.resolve_period(period)
        if county is not None and self.geo.get(self.resolve_region(county)).level != "county":
            raise EngineError(f"{county} is not a county: townships are listed per county")
        known_at = self.known_now(known_at)
        key = ("township", p, known_at, self.data_version(), self.today)
        with self._lock:
            df = self._cache.get(key)
        if df is None:
            df = self._compute_townships(p, known_at)
            with self._lock:
                self._cache[key] = df
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return df if county is None else df[df["county"] == county].reset_index(drop=True)

    def _compute_townships(self, p: Period, known_at: dt.datetime | None) -> pd.DataFrame:
        kpis = self.township_kpis()
        towns = sorted(self.geo.townships)
        measures = sorted({m for k in kpis for m in self.catalogue.kpi(k).measures})
        periods = [p, p.previous(), p.year_ago()]
        months = sorted({m for q in periods for m in q.months})
        members = pd.DataFrame({"group_code": towns, "member_code": towns})
        with self.store.engine.connect() as conn:
            frame = aggregate.group_month_frame(conn, months, measures, p.end, None, known_at, members=members,
                                                pairs=aggregate.ratio_pairs(self.catalogue, kpis))
        folded = {q: aggregate.fold_period(frame, q, self.catalogue) for q in periods}
        index = pd.Index(towns, name="group_code")

        def values(q: Period) -> pd.DataFrame:
            f = folded[q]
            w = (f.pivot(index="group_code", columns="measure_code", values="value").reindex(index) if len(f)
                 else pd.DataFrame(index=index))
            return self._kpi_values(w, None, kpis)

        df = values(p)
        for q, col in ((p.previous(), "prev_value"), (p.year_ago(), "yoy_value")):
            df = df.merge(values(q)[["kpi", "region", "value"]].rename(columns={"value": col}),
                          on=["kpi", "region"], how="left")
        # coverage: a township reported a KPI when every due month of both its measures is in
        due = len(self._due_months(p))
        f = folded[p]
        got = f.set_index(["group_code", "measure_code"])["months_reported"] if len(f) else pd.Series(dtype=float)
        km = pd.DataFrame([(k, m) for k in kpis for m in self.catalogue.kpi(k).measures], columns=["kpi", "measure_code"])
        grid = km.merge(pd.DataFrame({"region": towns}), how="cross")
        grid["months"] = got.reindex(pd.MultiIndex.from_frame(grid[["region", "measure_code"]])).fillna(0).to_numpy()
        ok = grid.assign(ok=grid["months"] >= due).groupby(["kpi", "region"])["ok"].all().rename("complete")
        df = df.merge(ok.reset_index(), on=["kpi", "region"], how="left")
        df["complete"] = df["complete"].fillna(False).astype(bool)
        df["n_expected"] = 1
        df["n_reported"] = df["complete"].astype(int)
        df["missing"] = [[] if c else [r] for c, r in zip(df["complete"], df["region"], strict=True)]
        df["not_reported"] = df["missing"]
        if len(f):
            through = f.assign(through=f["last_date"] + pd.offsets.MonthEnd(0)).merge(km, on="measure_code")
            through = through.groupby(["kpi", "group_code"])["through"].min().dt.strftime("%Y-%m-%d")
            df = df.merge(through.rename("as_of").reset_index().rename(columns={"group_code": "region"}),
                          on=["kpi", "region"], how="left")
        else:
            df["as_of"] = None
        df["pending"] = due == 0
        parent = {t: self.geo.townships[t].parent_code for t in towns}
        df["county"] = df["region"].map(parent)
        df["city"] = df["county"].map(lambda c: self.geo.city_of(c))
        return self._evaluate_townships(df, p)

    def _evaluate_townships(self, df: pd.DataFrame, p: Period) -> pd.DataFrame:
        """The county rules (`_judge`), on the year (a township is judged on the year: nothing is paced);
        ranks province-wide among townships and within each county."""
        df["pace_base"] = np.nan
        df = self._judge(df, p, p.end.year, "township")
        everyone = pd.Series(True, index=df.index)
        df["rank"], df["rank_of"] = rank_within(df, everyone)
        df["rank_county"], df["rank_county_of"] = rank_within(df, everyone, by=["kpi", "county"])
        df["peer_ranks"] = [{} for _ in range(len(df))]
        df["period"] = p.label
        return df.drop(columns=["rankable"]).reset_index(drop=True)

    # -- computation --------------------------------------------------------------------------
    def _needed_periods(self, p: Period) -> list[Period]:
        need = [p, p.previous(), p.year_ago()]
        if self._year_start(p) is not None:
            need.append(self._year_start(p))
        if any(k.kind == "yoy_growth" for k in self.catalogue.kpis):
            need += [p.previous().year_ago(), p.year_ago().year_ago()]
        return list(dict.fromkeys(need))

    def _year_start(self, p: Period) -> Period | None:
        """The previous December: where a count's 序时目标 starts from (None: nothing is paced)."""
        if p.grain == "day" or not any(k.pacing_rule for k in self.catalogue.kpis):
            return None  # a single day is judged on the annual target
        return Period.month(p.end.year - 1, 12)

    def _compute(self, p: Period, known_at: dt.datetime | None) -> pd.DataFrame:
        periods = self._needed_periods(p)
        kpis = [k.code for k in self.catalogue.kpis]
        all_measures = sorted({m.code for m in self.catalogue.measures})
        folded: dict[Period, pd.DataFrame] = {}
        with self.store.engine.connect() as conn:
            members = aggregate.memberships(conn, p.end)
            pairs = aggregate.ratio_pairs(self.catalogue)
            if p.grain == "day":
                day_measures = [m for m in all_measures if self._grain[m] == "day"]
                for q in periods:
                    fr = aggregate.group_month_frame(conn, q.months, day_measures, p.end, None, known_at,
                                                     day=q.start, members=members, pairs=pairs)
                    folded[q] = aggregate.fold_period(fr, q, self.catalogue)
            else:
                months = sorted({m for q in periods for m in q.months})
                frame = aggregate.group_month_frame(conn, months, all_measures, p.end, None, known_at,
                                                    members=members, pairs=pairs)
                keys = aggregate.needs_day_counts(frame, self.catalogue, p.grain)
                dc = aggregate.distinct_days(conn, keys, p.end, known_at, self.catalogue)
                growth = {k.measure for k in self.catalogue.kpis if k.kind == "yoy_growth"}
                full = {p, p.previous(), p.year_ago(), self._year_start(p)}
                for q in periods:
                    # periods beyond P, 环比, 同比 and the 序时 base only serve the year-on-year growth KPIs
                    f = frame if q in full else frame[frame["measure_code"].isin(growth)]
                    folded[q] = aggregate.fold_period(f, q, self.catalogue, dc)
        cur = self._kpi_frame(folded, p, kpis)
        earlier = {"prev": self._kpi_frame(folded, p.previous(), kpis), "yoy": self._kpi_frame(folded, p.year_ago(), kpis)}
        df = cur.merge(earlier["prev"][["kpi", "region", "value"]].rename(columns={"value": "prev_value"}),
                       on=["kpi", "region"], how="left")
        df = df.merge(earlier["yoy"][["kpi", "region", "value"]].rename(columns={"value": "yoy_value"}),
                      on=["kpi", "region"], how="left")
        ys = self._year_start(p)
        if ys is not None and ys in folded:
            base = self._kpi_frame(folded, ys, kpis, with_yoy_growth=False)[["kpi", "region", "value"]]
            df = df.merge(base.rename(columns={"value": "pace_base"}), on=["kpi", "region"], how="left")
        df = self._coverage(df, folded[p], p, members)
        for name, frame in earlier.items():
            lfl = changes.like_for_like(df, cur, frame, members, self.geo.counties, self.catalogue)
            lfl = lfl.rename(columns={"change": f"change_{name}_lfl", "n": f"change_{name}_n"})
            df = df.merge(lfl, on=["kpi", "region"], how="left")
        return self._evaluate(df, p, members)

    def _regions(self) -> list[str]:
        return sorted(self.geo.regions)

    def _kpi_frame(
        self, folded: dict[Period, pd.DataFrame], p: Period, kpis: list[str], with_yoy_growth: bool = True
    ) -> pd.DataFrame:
        """KPI values per region for period p from the folded measure values."""
        def wide(q: Period) -> pd.DataFrame:
            f = folded.get(q)
            if f is None or f.empty:
                return pd.DataFrame(index=pd.Index(self._regions(), name="group_code"))
            return f.pivot(index="group_code", columns="measure_code", values="value").reindex(self._regions())

        w = wide(p)
        w_ya = wide(p.year_ago()) if with_yoy_growth and p.year_ago() in folded else None
        return self._kpi_values(w, w_ya, kpis)

    def _kpi_values(self, w: pd.DataFrame, w_ya: pd.DataFrame | None, kpis: list[str]) -> pd.DataFrame:
        """KPI values from wide measure values (rows: regions; w_ya: the same rows a year earlier)."""
        n = len(w.index)
        nan = np.full(n, np.nan)

        def col(frame: pd.DataFrame | None, code: str | None) -> np.ndarray:
            if frame is None or code is None or code not in frame:
                return nan
            return frame[code].to_numpy(dtype=float)

        values, nums, dens = [], [], []
        with np.errstate(divide="ignore", invalid="ignore"):
            for code in kpis:
                k = self.catalogue.kpi(code)
                if k.kind == "ratio":  # over the regions that reported both (see aggregate.paired_rows)
                    num, den = col(w, k.code + aggregate.PAIR_NUM), col(w, k.code + aggregate.PAIR_DEN)
                    val = np.where(den != 0, num / den, np.nan)
                elif k.kind == "yoy_growth":
                    num, den = col(w, k.measure), col(w_ya, k.measure)
                    val = np.where(den != 0, num / den - 1, np.nan)
                else:
                    num, den, val = nan, nan, col(w, k.measure)
                values.append(val)
                nums.append(num)
                dens.append(den)
        return pd.DataFrame({
            "kpi": np.repeat(kpis, n), "region": np.tile(w.index.to_numpy(), len(kpis)),
            "value": np.concatenate(values), "numerator": np.concatenate(nums), "denominator": np.concatenate(dens),
        })

    def _due_months(self, p: Period) -> list[dt.date]:
        """Months of p whose county report is due by today (later ones are 'pending', not missing)."""
        return [m for m in p.months if report_due(m) <= self.today]

    def _coverage(self, df: pd.DataFrame, folded: pd.DataFrame, p: Period, members: pd.DataFrame) -> pd.DataFrame:
        """Completeness per (KPI, region), and which member counties are missing."""
        due_months = self._due_months(p)
        # a month counts once it has ended: its reports are then expected, due or not yet due, so a figure
        # over the early reporters of a month in progress says N/M, never "complete"
        ended = [m for m in p.months if month_end(m) < self.today]
        last_due_day = min(p.end, self.today - dt.timedelta(days=1))
        due_days = max(0, (last_due_day - p.start).days + 1)
        # per county and measure: did it report everything that is due?
        kpi_measures = {k.code: k.measures for k in self.catalogue.kpis}
        county_measures = [m.code for m in self.catalogue.measures if m.level == "county"]
        grid = pd.MultiIndex.from_product([self.geo.counties, county_measures], names=["county", "measure_code"])
        got = (
            folded.rename(columns={"group_code": "county"}).set_index(["county", "measure_code"])
            .reindex(grid)[["months_reported", "n_obs"]].fillna(0)
        )
        is_month = got.index.get_level_values("measure_code").map(self._grain) == "month"
        if p.grain == "day":
            ok = np.where(is_month, True, got["n_obs"] >= due_days)
        else:
            ok = np.where(is_month, got["months_reported"] >= len(ended), got["n_obs"] >= due_days)
            overdue_ok = np.where(is_month, got["months_reported"] >= len(due_months), got["n_obs"] >= due_days)
        if p.grain == "day":
            overdue_ok = ok
        per_measure = pd.DataFrame({"reported": ok, "on_time": overdue_ok}, index=got.index).reset_index()
        km = pd.DataFrame(
            [(k, m) for k, ms in kpi_measures.items() for m in ms if self._level[m] == "county"],
            columns=["kpi", "measure_code"],
        )
        cov = km.merge(per_measure, on="measure_code").groupby(["kpi", "county"])[["reported", "on_time"]].all()
        mem = members.merge(cov.reset_index(), left_on="member_code", right_on="county")
        grp = mem.groupby(["kpi", "group_code"]).agg(
            n_expected=("reported", "size"), n_reported=("reported", "sum")
        )
        # missing: overdue (a due report not filed); not_reported: every member not in yet, due or not
        miss = mem[~mem["on_time"]].groupby(["kpi", "group_code"])["county"].agg(sorted)
        notrep = mem[~mem["reported"]].groupby(["kpi", "group_code"])["county"].agg(sorted)
        grp = grp.assign(missing=miss, not_reported=notrep).reset_index().rename(columns={"group_code": "region"})
        df = df.merge(grp, on=["kpi", "region"], how="left")
        county_level = df["kpi"].map(lambda k: self._level[kpi_measures[k][0]]) == "county"
        # province-level KPIs: only the province itself is expected to have a value
        is_prov = df["region"] == PROVINCE
        exp_default = pd.Series(np.where(county_level, 0, is_prov.astype(int)), index=df.index)
        rep_default = pd.Series(np.where(county_level, 0, (is_prov & df["value"].notna()).astype(int)), index=df.index)
        df["n_expected"] = df["n_expected"].fillna(exp_default).astype(int)
        df["n_reported"] = df["n_reported"].fillna(rep_default).astype(int)
        df["missing"] = df["missing"].apply(lambda x: x if isinstance(x, list) else [])
        df["not_reported"] = df["not_reported"].apply(lambda x: x if isinstance(x, list) else [])
        df["complete"] = df["n_reported"] >= df["n_expected"]
        # as-of: data through the least recent last date among the KPI's measures
        if not folded.empty:
            ld = folded[["group_code", "measure_code", "last_date"]].copy()
            is_month = ld["measure_code"].map(self._grain) == "month"
            ld["through"] = ld["last_date"].where(~is_month, ld["last_date"] + pd.offsets.MonthEnd(0))
            km_all = pd.DataFrame([(k, m) for k, ms in kpi_measures.items() for m in ms], columns=["kpi", "measure_code"])
            through = (
                km_all.merge(ld, on="measure_code").groupby(["kpi", "group_code"])["through"].min()
                .rename("as_of").reset_index().rename(columns={"group_code": "region"})
            )
            through["as_of"] = through["as_of"].dt.strftime("%Y-%m-%d")
            df = df.merge(through, on=["kpi", "region"], how="left")
        else:
            df["as_of"] = None
        df["pending"] = len(due_months) == 0 and p.grain != "day"
        return df

    def _judge(self, df: pd.DataFrame, p: Period, when: int | dt.date, level: str | dict[str, str]) -> pd.DataFrame:
        """Targets, status, changes, small samples and who may be ranked: one set of rules for every
        level, counties and townships alike. `when` is what targets are judged against (the period's
        last day, so counts are paced; or a year); `level` one level for all rows or a map by region."""
        df = df.merge(self._attrs, on="kpi", how="left")
        df = attach_targets(df, self.catalogue, when)
        df["level"] = level if isinstance(level, str) else df["region"].map(level)
        # a count target (3.0M daily actives, 30 future factories) is the province's; rates apply everywhere
        everywhere = {k.code for k in self.catalogue.kpis if k.targets_everywhere}
        count_below = ~df["kpi"].isin(everywhere) & (df["region"] != PROVINCE)
        mask_targets(df, count_below)
        # a value on a province-level KPI does not exist below the province
        df.loc[df["level"].isin(["county", "city", "group"]) & (df["n_expected"] == 0), "value"] = np.nan
        df["published"] = published(df)  # status, attainment and ranks read the figure as shown
        df["attainment"] = published_attainment(df)
        df["pace_gap"] = pace_gap(df)
        df["status"] = status(df, self.catalogue)
        na = (df["n_expected"] == 0) & df["value"].isna()
        df.loc[na, "status"] = "na"
        df.loc[~df["complete"] & ~na & df["value"].isna(), "status"] = "missing"
        # reported in full with nothing to count (no problem fell due, no request arrived): a rate of
        # 0 ÷ 0 is not a missing report, and not a figure either
        nocase = df["complete"] & ~na & df["value"].isna() & df["denominator"].eq(0)
        df.loc[nocase, "status"] = "nocase"
        # a count summed over the counties in so far only grows as the rest arrive: one already at its
        # target has met it (and, lower being better, one already over it has missed); otherwise it is
        # undecided until the month is in, never judged on the partial sum
        up = df["direction"] == "up"
        partial_sum = (~df["complete"] & (df["kind"] == "simple") & (df["format"] != "percent")
                       & (df["level"] != "county") & df["value"].notna() & df["target"].notna())
        decided = np.where(up, df["status"] == "green", df["status"] == "red")
        df.loc[partial_sum & ~decided, "status"] = "partial"
        add_changes(df)
        # a change computed on a figure short of its reporters compares a partial sum with a whole one:
        # withheld (the surfaces say N/M 已报 instead)
        df.loc[~df["complete"], ["change_prev", "change_yoy"]] = np.nan
        # … unless it can be taken over the counties in both periods (metrics.changes), while most are in
        for c in ("prev", "yoy"):
            if f"change_{c}_n" not in df:  # townships: no groups below them, so no like-for-like basis
                df[f"change_{c}_n"] = np.nan
            if f"change_{c}_lfl" in df:
                lfl, n = df.pop(f"change_{c}_lfl").astype(float), df[f"change_{c}_n"].astype(float)
                usable = (n >= 0.5 * df["n_expected"]) & ~df["pending"].astype(bool)
                df[f"change_{c}"] = df[f"change_{c}"].fillna(lfl.where(usable))
                df.loc[df[f"change_{c}"].isna() | df["complete"], f"change_{c}_n"] = np.nan
        # min_denominator is per month for flows; a stock denominator is compared as it is
        per_period = df["kpi"].map(self._denominator_months(p))
        floor = (df["min_denominator"] * per_period).fillna(-np.inf)
        small = df["denominator"].fillna(np.inf).lt(floor)
        df["small_sample"] = small & df["level"].isin(["county", "township"])  # the leaves that report
        # fairness: a county that did not report in full, or whose rate rests on a handful of
        # cases, is neither crowned nor shamed (the rankings module shows it separately)
        # nor is anyone ranked in a month whose reports are not yet due (the early reporters only)
        df["rankable"] = df["complete"] & ~df["small_sample"] & ~df["pending"]
        return df

    def _evaluate(self, df: pd.DataFrame, p: Period, members: pd.DataFrame) -> pd.DataFrame:
        """The rules of `_judge` on the period's last day; ranks among counties, among cities and in each
        peer group valid then."""
        df = self._judge(df, p, p.end, {c: r.level for c, r in self.geo.regions.items()})
        for lvl in ("county", "city"):
            r, n = rank_within(df, df["level"] == lvl)
            df.loc[df["level"] == lvl, "rank"] = r
            df.loc[df["level"] == lvl, "rank_of"] = n
        # ranks inside each peer group valid at the period's end
        peer_ranks: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
        groups = [g for g in self.geo.groups if self.geo.group_valid_on(g, p.end)]
        for g in groups:
            ms = set(members.loc[members["group_code"] == g, "member_code"])
            mask = df["region"].isin(ms) & (df["level"] == "county")
            r, n = rank_within(df, mask)
            ok = r.notna()
            for k, rg, rr, nn in zip(df.loc[ok, "kpi"].tolist(), df.loc[ok, "region"].tolist(), r[ok].tolist(),
                                     n[ok].tolist(), strict=True):
                peer_ranks.setdefault((k, rg), {})[g] = (int(rr), int(nn))
        df["peer_ranks"] = [peer_ranks.get((k, rg), {}) for k, rg in zip(df["kpi"].tolist(), df["region"].tolist(), strict=True)]
        df["period"] = p.label
        return df.drop(columns=["rankable"]).reset_index(drop=True)

    def _denominator_months(self, p: Period) -> dict[str, int]:
        agg = {m.code: m.aggregation for m in self.catalogue.measures}
        return {k.code: len(p.months) if k.denominator and agg[k.denominator] == "sum" else 1 for k in self.catalogue.kpis}

    def _to_result(self, row: pd.Series) -> KpiResult:
        k = self.catalogue.kpi(row["kpi"])
        notes = []
        if row.get("target_carried"):
            notes.append(f"target carried over from {int(row['target_year'])}")
        if row["target_source"] == "assumed":
            notes.append("target assumed (no published target)")
        if row["status"] == "na":
            notes.append(f"{k.code} is measured at province level only")
        if not row["complete"] and row["status"] != "na":
            notes.append(f"incomplete: {int(row['n_reported'])} of {int(row['n_expected'])} regions reported")
        if row.get("pending"):
            notes.append("reports for this period are not yet due")
        if row["small_sample"]:
            notes.append("small denominator: rate is volatile")
        return KpiResult(
            kpi=k.code, region=row["region"], period=row["period"], value=_none(row["value"]),
            numerator=_none(row["numerator"]), denominator=_none(row["denominator"]), unit=k.unit_zh,
            target=_none(row["target"]), target_year=_none(row["target_year"]),
            target_source=row["target_source"], attainment=_none(row["attainment"]), status=row["status"],
            prev_value=_none(row["prev_value"]), change_prev=_none(row["change_prev"]),
            yoy_value=_none(row["yoy_value"]), change_yoy=_none(row["change_yoy"]),
            rank=_none(row["rank"]) and int(row["rank"]), rank_of=_none(row["rank_of"]) and int(row["rank_of"]),
            peer_ranks=dict(row["peer_ranks"]), as_of=_none(row["as_of"]), complete=bool(row["complete"]),
            n_reported=int(row["n_reported"]), n_expected=int(row["n_expected"]), missing=list(row["missing"]),
            small_sample=bool(row["small_sample"]), notes=notes,
            not_reported=list(row.get("not_reported", []) or []), pending=bool(row.get("pending", False)),
        )

    def _batches(self, kpi: str, region: str, p: Period, known_at: dt.datetime | None) -> list[int]:
        """Batches whose rows make up this figure (current rows, or as known at `known_at`)."""
        k = self.catalogue.kpi(kpi)
        level = self._level[k.measures[0]]
        members = [region] if self.geo.get(region).level == level else self.geo.members(region, p.end, level)
        if not members:
            return []
        src = self._observations(known_at).where(
            observation.c.measure_code.in_(list(k.measures)),
            observation.c.obs_date >= p.start, observation.c.obs_date <= p.end,
            observation.c.region_code.in_(members),
        ).subquery()
        with self.store.engine.connect() as conn:
            return [int(b) for (b,) in conn.execute(sa.select(src.c.batch_id).distinct().order_by(src.c.batch_id))]
