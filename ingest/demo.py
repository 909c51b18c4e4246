"""Deterministic synthetic demo data, calibrated to the magnitudes in DOMAIN.md.

Every measure is drawn from its catalogue `demo` spec: flows and daily counts scale with
population and grow from `start` (2021-01) to `end` (2026-12); stocks grow by Poisson increments;
shares are binomial draws of their base measure with rates moving toward the targets on the logit
scale. Counties carry persistent effects (so rankings mean something), 山区 counties lag, small
counties are noisier because binomial noise is, daily series have weekday and Spring-Festival
dips, and the county reports include late arrivals, a few never-filed months, two counties
overdue for the latest month, and two restatements (corrections as later batches).

No number here is real. The database is marked as demo (meta.is_demo) and every batch too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.catalogue import Catalogue, Measure
from metrics.geography import PROVINCE, Geography
from metrics.periods import add_months, last_complete_month

START = dt.date(2021, 1, 1)
HORIZON_MONTHS = 71  # 2021-01 .. 2026-12: the span over which specs move from start to end
SPRING_FESTIVAL = {
    2021: dt.date(2021, 2, 12), 2022: dt.date(2022, 2, 1), 2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26),
}


@dataclass
class DemoData:
    batches: pd.DataFrame  # id, source, region_code, period, received_at, committed_at, note, n_rows
    observations: pd.DataFrame  # batch_id, region_code, measure_code, obs_date, value, is_current
    overdue: list[str]  # counties that have not filed the latest month
    never_filed: list[tuple[str, str]]  # (county, month) gaps in history
    restated: list[tuple[str, str]]  # (county, month) reports corrected by a later batch


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _order(measures: list[Measure]) -> list[Measure]:
    """Bases before the shares drawn from them."""
    done: dict[str, Measure] = {}
    pending = list(measures)
    while pending:
        rest = []
        for m in pending:
            if m.demo.kind != "share" or m.demo.of in done:
                done[m.code] = m
            else:
                rest.append(m)
        if len(rest) == len(pending):
            raise ValueError(f"demo specs form a cycle: {[m.code for m in rest]}")
        pending = rest
    return list(done.values())


class _Generator:
    def __init__(self, catalogue: Catalogue, geo: Geography, seed: int, end_month: dt.date) -> None:
        self.cat, self.geo = catalogue, geo
        self.rng = np.random.default_rng(seed)
        self.months = pd.date_range(START, end_month, freq="MS").date
        self.days = pd.date_range(START, end_month + pd.offsets.MonthEnd(0), freq="D").date
        self.counties = geo.counties
        pop = np.array([geo.get(c).population for c in self.counties], dtype=float) / 1e4
        self.pop = {"county": pop, "province": np.array([geo.get(PROVINCE).population / 1e4])}
        self.codes = {"county": self.counties, "province": [PROVINCE]}
        self.shanqu = {
            "county": np.array([c in set(geo.members("SHANQU26", dt.date(2022, 1, 1))) for c in self.counties]),
            "province": np.array([False]),
        }
        self.values: dict[str, np.ndarray] = {}  # measure -> array[region, time]

    def t(self, grain: str) -> np.ndarray:
        dates = self.months if grain == "month" else self.days
        idx = np.array([(d.year - 2021) * 12 + d.month - 1 + (d.day - 1) / 31 for d in dates])
        return np.clip(idx / HORIZON_MONTHS, 0, 1.2)

    def season(self, grain: str, weekend: float) -> np.ndarray:
        if grain == "month":
            f = np.ones(len(self.months))
            for i, m in enumerate(self.months):
                sf = SPRING_FESTIVAL.get(m.year)
                if sf and sf.month == m.month:
                    f[i] = 0.86
                elif m.month == 12:
                    f[i] = 1.05
            return f
        days = self.days
        wd = np.array([d.weekday() >= 5 for d in days])
        f = np.where(wd, weekend, 1.0)
        for i, d in enumerate(days):
            for s in (SPRING_FESTIVAL.get(d.year), SPRING_FESTIVAL.get(d.year + 1)):
                if s and -3 <= (d - s).days <= 6:
                    f[i] *= 0.62 if weekend < 0.6 else 0.8
        return f

    def draw(self, m: Measure) -> np.ndarray:
        spec, level = m.demo, m.level if m.level != "city" else "county"
        pop, n = self.pop[level], len(self.codes[level])
        t = self.t(m.grain)
        if spec.kind == "fixed":
            return np.full((n, len(t)), spec.start)
        if spec.kind in ("flow", "stock"):
            end = spec.end if spec.end is not None else spec.start
            path = spec.start * (end / spec.start) ** t if spec.start > 0 else end * t
            effect = np.exp(self.rng.normal(0, 0.15, size=(n, 1)))
            if spec.kind == "flow":
                lam = pop[:, None] * path[None, :] * effect * self.season(m.grain, spec.weekend)[None, :]
                return self.rng.poisson(lam).astype(float)
            level0 = pop[:, None] * path[None, :1] * effect
            steps = np.diff(pop[:, None] * path[None, :] * effect, axis=1).clip(min=0)
            incr = self.rng.poisson(np.concatenate([level0, steps], axis=1))
            return np.cumsum(incr, axis=1).astype(float)
        # share of another measure
        base = self.values[spec.of]
        end = spec.end if spec.end is not None else spec.start
        lg = _logit(spec.start) + (_logit(end) - _logit(spec.start)) * t
        rate = _expit(lg[None, :] + self.rng.normal(0, 0.25, size=(n, 1)) + self.rng.normal(0, 0.06, size=(n, len(t))))
        rising = end >= spec.start
        lag = np.where(self.shanqu[level][:, None], 1 + spec.shanqu_lag, 1.0)
        rate = np.where(rising, 1 - (1 - rate) * lag, rate * lag).clip(0, 1)
        if base.shape[1] != rate.shape[1]:  # a daily share of a monthly stock: spread the stock
            month_index = {mo: i for i, mo in enumerate(self.months)}
            base = base[:, [month_index[d.replace(day=1)] for d in self.days]]
        if m.grain == "day":  # weekday and holiday pattern of daily activity
            rate = rate * self.season("day", spec.weekend)[None, :]
        drawn = self.rng.binomial(base.astype(np.int64), rate).astype(float)
        if m.aggregation == "last":  # a cumulative numerator never falls and never passes its base
            drawn = np.minimum(np.maximum.accumulate(drawn, axis=1), base)
        return drawn

    def run(self) -> dict[str, np.ndarray]:
        for m in _order(list(self.cat.measures)):
            self.values[m.code] = self.draw(m)
        return self.values


def generate(
    catalogue: Catalogue, geo: Geography, seed: int = 2021, today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> DemoData:
    """Build the whole demo history up to the last complete month before `today`, as it has arrived by
    `now` (default: the moment it runs). A report whose arrival lies after `now` has simply not arrived:
    its batch is not written, so nothing in the database is from the future and the live figures
    equal a freeze made now. A `today` in the past keeps its whole history (it all arrived before now)."""
    now = now or dt.datetime.now().replace(microsecond=0)
    end_month = last_complete_month(today).start
    gen = _Generator(catalogue, geo, seed, end_month)
    values = gen.run()
    rng = np.random.default_rng(seed + 1)
    months, days = gen.months, gen.days
    counties = gen.counties

    # --- report events: which county-months are filed, when, and which are corrected ---------
    n_c, n_m = len(counties), len(months)
    filed = np.ones((n_c, n_m), dtype=bool)
    overdue = sorted(rng.choice(counties, size=2, replace=False).tolist())
    for c in overdue:
        filed[counties.index(c), -1] = False
    never = []
    for _ in range(3):
        ci, mi = int(rng.integers(0, n_c)), int(rng.integers(6, n_m - 3)) if n_m > 9 else int(rng.integers(0, n_m - 1 or 1))
        filed[ci, mi] = False
        never.append((counties[ci], f"{months[mi]:%Y-%m}"))
    lateness = rng.integers(2, 14, size=(n_c, n_m))  # days into the following month
    late = rng.random((n_c, n_m)) < 0.03
    lateness = np.where(late, rng.integers(17, 45, size=(n_c, n_m)), lateness)
    restated = []
    for _ in range(2):
        ci, mi = int(rng.integers(0, n_c)), int(rng.integers(12, n_m - 2)) if n_m > 14 else int(rng.integers(0, n_m - 1 or 1))
        if filed[ci, mi] and (counties[ci], f"{months[mi]:%Y-%m}") not in restated:
            restated.append((counties[ci], f"{months[mi]:%Y-%m}"))

    batches: list[dict] = []
    frames: list[pd.DataFrame] = []
    month_measures = [m for m in catalogue.measures if m.grain == "month"]
    day_measures = [m for m in catalogue.measures if m.grain == "day"]
    bid = 0

    def add_batch(**kw) -> int:
        nonlocal bid
        bid += 1
        batches.append(dict(id=bid, is_demo=True, status="committed", **kw))
        return bid

    # county monthly reports: one batch per county and month
    cm = [m for m in month_measures if m.level == "county"]
    cm_values = np.stack([values[m.code] for m in cm])  # measure, county, month
    for mi, month in enumerate(months):
        recv_base = dt.datetime.combine(add_months(month, 1), dt.time(9, 0))
        for ci, c in enumerate(counties):
            if not filed[ci, mi]:
                continue
            received = recv_base + dt.timedelta(days=int(lateness[ci, mi]), hours=int(ci % 8))
            if received > now:  # not arrived yet
                continue
            b = add_batch(source="demo", region_code=c, period=f"{month:%Y-%m}", received_at=received,
                          committed_at=received, note="演示数据：县区月报", n_rows=len(cm),
                          file_name=f"{c}_{month:%Y%m}.xlsx")
            frames.append(pd.DataFrame({
                "batch_id": b, "region_code": c, "measure_code": [m.code for m in cm], "obs_date": month,
                "value": cm_values[:, ci, mi], "is_current": True,
            }))
    # province-level monthly measures: one platform batch per month
    pm = [m for m in month_measures if m.level == "province"]
    for mi, month in enumerate(months):
        if not pm:
            break
        received = dt.datetime.combine(add_months(month, 1), dt.time(2, 0))
        if received > now:
            continue
        b = add_batch(source="demo", region_code=PROVINCE, period=f"{month:%Y-%m}", received_at=received,
                      committed_at=received, note="演示数据：平台月度指标", n_rows=len(pm))
        frames.append(pd.DataFrame({
            "batch_id": b, "region_code": PROVINCE, "measure_code": [m.code for m in pm], "obs_date": month,
            "value": [values[m.code][0, mi] for m in pm], "is_current": True,
        }))
    # daily platform feeds: one batch per month of days
    day_month = np.array([d.replace(day=1) for d in days])
    for month in months:
        sel = np.nonzero(day_month == month)[0]
        received = dt.datetime.combine(add_months(month, 1), dt.time(1, 0))
        if received > now:
            continue
        parts = []
        for m in day_measures:
            codes = gen.codes[m.level if m.level != "city" else "county"]
            v = values[m.code][:, sel]
            parts.append(pd.DataFrame({
                "region_code": np.repeat(codes, len(sel)), "measure_code": m.code,
                "obs_date": np.tile(days[sel], len(codes)), "value": v.reshape(-1),
            }))
        if not parts:
            break
        part = pd.concat(parts, ignore_index=True)
        b = add_batch(source="demo", region_code=None, period=f"{month:%Y-%m}", received_at=received,
                      committed_at=received, note="演示数据：平台日志日度汇总", n_rows=len(part))
        frames.append(part.assign(batch_id=b, is_current=True))
    obs = pd.concat(frames, ignore_index=True)

    # restatements: a later batch corrects one county-month; the first values stay in history
    for c, label in list(restated):
        month = dt.date.fromisoformat(label + "-01")
        received = dt.datetime.combine(add_months(month, 2), dt.time(10, 0))
        if received > now or not ((obs["region_code"] == c) & (obs["obs_date"] == month)).any():
            restated.remove((c, label))  # the correction (or the report it corrects) has not arrived yet
            continue
        mask = (obs["region_code"] == c) & (obs["obs_date"] == month) & obs["measure_code"].isin([m.code for m in cm])
        old = obs[mask]
        new = old.copy()
        flows = [m.code for m in cm if m.demo.kind == "flow"]
        bump = new["measure_code"].isin(flows)
        new.loc[bump, "value"] = np.round(new.loc[bump, "value"] * 1.04)
        b = add_batch(source="demo", region_code=c, period=label, received_at=received, committed_at=received,
                      note="演示数据：更正报送（数据重报）", n_rows=len(new), file_name=f"{c}_{label}_更正.xlsx")
        obs.loc[mask, "is_current"] = False
        obs = pd.concat([obs, new.assign(batch_id=b, is_current=True)], ignore_index=True)
        # a correction of a flow's base could leave a share above it; keep numerators within bases
        for m in cm:
            if m.demo.kind == "share":
                num = (obs["batch_id"] == b) & (obs["measure_code"] == m.code)
                den = (obs["batch_id"] == b) & (obs["measure_code"] == m.demo.of)
                if num.any() and den.any():
                    obs.loc[num, "value"] = min(float(obs.loc[num, "value"].iloc[0]), float(obs.loc[den, "value"].iloc[0]))

    bdf = pd.DataFrame(batches)
    for col in ("file_name", "checksum", "submitted_by"):
        if col not in bdf:
            bdf[col] = None
    bdf["submitted_by"] = "demo"
    bdf["checksum"] = [hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:16] for i in bdf["id"]]
    # batch ids follow commit time, as they do for real imports (the as-of logic relies on it)
    bdf = bdf.sort_values(["committed_at", "id"]).reset_index(drop=True)
    remap = dict(zip(bdf["id"], range(1, len(bdf) + 1), strict=False))
    bdf["id"] = bdf["id"].map(remap)
    obs["batch_id"] = obs["batch_id"].map(remap)
    return DemoData(bdf, obs, overdue, never, restated)
