"""Deterministic synthetic demo data, calibrated to the magnitudes in DOMAIN.md.

Every measure is drawn from its catalogue `demo` spec: flows and daily counts scale with
population times the county's character (data/regions/county_character.csv: factories follow
manufacturing, cross-border trade 义乌, online activity the urban districts) and grow from `start`
(2021-01) to `end` (2026-12); stocks follow the same course, never falling; shares are binomial
draws of their base measure with rates moving toward the targets on the logit scale. Counties carry
a persistent level and slope (laggards and improvers), 山区 counties lag, small counties are noisier
because binomial noise is, daily series follow the official calendar (days off, holidays and 调休
working days), and the county reports include late arrivals, a few never-filed months, two counties
overdue for the latest month, and two restatements (corrections as later batches). The problem
KPIs are counted from the demo problem register, and problem and app figures arrive as a platform
feed for every county, so register and KPIs are one truth.

No number here is real. The database is marked as demo (meta.is_demo) and every batch too.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from ingest.demo_apps import applicable
from ingest.demo_character import character
from ingest.demo_problems import generate_problems
from ingest.templates import platform_fed
from metrics.catalogue import Catalogue, Measure
from metrics.geography import PROVINCE, Geography
from metrics.periods import add_months, last_complete_month, month_end

START = dt.date(2021, 1, 1)
HORIZON_MONTHS = 71  # 2021-01 .. 2026-12: the span over which specs move from start to end
SPRING_FESTIVAL = {
    2021: dt.date(2021, 2, 12), 2022: dt.date(2022, 2, 1), 2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26),
}
# per-resident volume -> the county character that drives it (data/regions/county_character.md);
# measures not listed scale with population alone
CHARACTER_DRIVERS = {
    "zlb_active_users": "online", "zlb_registered_users": "online", "credit_calls": "economy",
    "app_users_authorised": "online", "app_ratings": "online", "share_requests": "online", "share_ratings": "online",
    "share_approval_days": None, "gov_cases": "economy", "services_trade": "economy",
    "future_factories_count": "factories", "smart_factories_count": "factories", "iip_count": "manufacturing",
    "iiot_devices": "manufacturing", "industrial_apps": "manufacturing", "digital_core_value": "digital_industry",
    "cbec_volume": "cross_border", "znm_codes_issued": "agriculture", "future_communities_count": "urban",
    "new_apps": "online",
}
# a total over the units of another measure: `start`/`end` of its spec are amounts per unit (working days
# per approved request), drawn after the measure it is counted over
PER_UNIT_OF = {"share_approval_days": "share_requests_fulfilled"}
# measures whose stored value is a running total: they never fall (a monthly active count may)
CUMULATIVE = {"major_apps_live", "event_groups_built", "culture_apps_live"}
# registered users per resident never exceed this (people register where they live or work)
REGISTERED_PER_RESIDENT = 0.95
# monthly problem measures computed from the demo problem register (one truth per figure)
PROBLEM_MEASURES = ("problems_due", "problems_fixed_ontime", "problems_found", "problems_closed",
                    "problems_overdue_open")


def is_cumulative(m: Measure) -> bool:
    return m.code in CUMULATIVE or "累计" in m.name_zh


@lru_cache(maxsize=4)
def working_days(first: dt.date, last: dt.date) -> np.ndarray:
    """True on the official working days from `first` to `last`: weekends off except the adjusted
    working days (调休), public holidays off (python-holidays' China calendar, which has the State
    Council's announced schedule and its rules for years not yet announced)."""
    cal = holidays.China(years=range(first.year, last.year + 1))
    days = pd.date_range(first, last, freq="D").date
    return np.array([cal.is_working_day(d) for d in days])


def drivers(geo: Geography, counties: list[str]) -> dict[str, np.ndarray]:
    """Per-county multipliers of per-resident volumes, normalised to a population-weighted mean of 1."""
    try:
        ch = character().reindex(counties)
    except FileNotFoundError:
        ch = pd.DataFrame(index=counties)
    pop = np.array([geo.get(c).population or 0 for c in counties], dtype=float)
    kind = ch.get("kind", pd.Series(index=counties, dtype=object))
    tier = ch.get("econ_tier", pd.Series(index=counties, dtype=float)).fillna(2)
    kind_f = kind.map({"urban_core": 1.25, "urban_outer": 1.10, "county_city": 0.95, "county": 0.85}).fillna(1.0)
    tier_f = tier.map({1: 1.05, 2: 1.0, 3: 0.90}).fillna(1.0)
    econ = tier.map({1: 1.35, 2: 1.0, 3: 0.65}).fillna(1.0)
    raw = {
        "online": (kind_f * tier_f).to_numpy(float),
        "economy": econ.to_numpy(float),
        "urban": kind.map({"urban_core": 1.8, "urban_outer": 1.3, "county_city": 0.8, "county": 0.5}).fillna(1.0)
        .to_numpy(float),
        "digital_industry": (econ * kind.map({"urban_core": 1.6, "urban_outer": 1.3, "county_city": 0.8,
                                               "county": 0.5}).fillna(1.0)).to_numpy(float),
    }
    # digital core industries: platform and e-commerce firms weigh in (余杭, 滨江)
    ecom = ch.get("ecommerce", pd.Series(index=counties, dtype=float)).fillna(1.0).to_numpy(float)
    raw["digital_industry"] = raw["digital_industry"] * np.sqrt(ecom)
    for col in ("manufacturing", "ecommerce", "cross_border", "agriculture"):
        raw[col] = ch.get(col, pd.Series(index=counties, dtype=float)).fillna(1.0).to_numpy(float)
    raw["factories"] = raw["manufacturing"] ** 1.7  # recognised factories cluster more than industry does
    out = {}
    for k, v in raw.items():
        mean = (v * pop).sum() / pop.sum() if pop.sum() > 0 else 1.0
        out[k] = v / mean if mean > 0 else v
    return out


@dataclass
class DemoData:
    batches: pd.DataFrame  # id, source, region_code, period, received_at, committed_at, note, n_rows
    observations: pd.DataFrame  # batch_id, region_code, measure_code, obs_date, value, is_current
    overdue: list[str]  # counties that have not filed the latest month
    never_filed: list[tuple[str, str]]  # (county, month) gaps in history
    restated: list[tuple[str, str]]  # (county, month) reports corrected by a later batch
    problems: pd.DataFrame | None = field(default=None, repr=False)  # the 七张问题清单 register behind the KPIs
    problem_events: pd.DataFrame | None = field(default=None, repr=False)


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
        self.workday = working_days(self.days[0], self.days[-1])
        self.counties = geo.counties
        pop = np.array([geo.get(c).population for c in self.counties], dtype=float) / 1e4
        self.pop = {"county": pop, "province": np.array([geo.get(PROVINCE).population / 1e4])}
        self.codes = {"county": self.counties, "province": [PROVINCE]}
        self.shanqu = {
            "county": np.array([c in set(geo.members("SHANQU26", dt.date(2022, 1, 1))) for c in self.counties]),
            "province": np.array([False]),
        }
        self.drivers = drivers(geo, self.counties)
        # a county's standing on the rates: a persistent level (laggards and leaders) and a persistent
        # slope (improvers and decliners), shared by all its rates so a county's picture is coherent
        n = len(self.counties)
        self.county_level = self.rng.normal(0, 0.35, size=n)
        self.county_slope = self.rng.normal(0, 0.45, size=n)
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
        # days off (weekends, public holidays) at the weekend level, adjusted working days at the weekday
        # level; citizens' services dip a little further over the Spring Festival
        f = np.where(self.workday, 1.0, weekend)
        for i, d in enumerate(self.days):
            s = SPRING_FESTIVAL.get(d.year)
            if s and -3 <= (d - s).days <= 6 and weekend >= 0.6:
                f[i] *= 0.8
        return f

    def draw(self, m: Measure) -> np.ndarray:
        spec, level = m.demo, m.level if m.level != "city" else "county"
        pop, n = self.pop[level], len(self.codes[level])
        t = self.t(m.grain)
        if spec.kind == "fixed":
            if m.code == "monitored_minutes":  # the calendar minutes of each month (February has fewer)
                minutes = [calendar.monthrange(d.year, d.month)[1] * 1440 for d in self.months]
                return np.tile(np.array(minutes, dtype=float), (n, 1))
            return np.full((n, len(t)), spec.start)
        if spec.kind in ("flow", "stock"):
            end = spec.end if spec.end is not None else spec.start
            path = spec.start * (end / spec.start) ** t if spec.start > 0 else end * t
            if m.code in PER_UNIT_OF:  # per unit of its base, with the county's standing (laggards take longer)
                per = path[None, :] * np.exp(-0.5 * self.county_level[:, None] + self.rng.normal(0, 0.1, size=(n, 1)))
                return self.rng.poisson(self.values[PER_UNIT_OF[m.code]] * per).astype(float)
            # registered users track residents closely (a stock near saturation), other volumes vary more
            effect = np.exp(self.rng.normal(0, 0.05 if m.code == "zlb_registered_users" else 0.15, size=(n, 1)))
            drv = CHARACTER_DRIVERS.get(m.code)
            if level == "county" and drv:
                effect = effect * self.drivers[drv][:, None]
            if spec.kind == "flow":
                lam = pop[:, None] * path[None, :] * effect * self.season(m.grain, spec.weekend)[None, :]
                return self.rng.poisson(lam).astype(float)
            mean = pop[:, None] * path[None, :] * effect
            if m.code == "zlb_registered_users":
                mean = np.minimum(mean, pop[:, None] * 1e4 * REGISTERED_PER_RESIDENT * 0.97)
            # a running count follows its county's course, rounded with a county-specific offset: a
            # county expected to hold 1.6 factories holds one or two, never a lucky zero (Poisson would)
            out = np.maximum.accumulate(np.floor(mean + self.rng.random((n, 1))), axis=1)
            if m.code == "zlb_registered_users":
                out = np.minimum(out, np.floor(pop[:, None] * 1e4 * REGISTERED_PER_RESIDENT))
            return out
        # share of another measure
        base = self.values[spec.of]
        end = spec.end if spec.end is not None else spec.start
        lg = _logit(spec.start) + (_logit(end) - _logit(spec.start)) * t
        if level == "county":
            rising = 1.0 if end >= spec.start else -1.0
            county = (self.county_level[:, None] + self.county_slope[:, None] * (t[None, :] - 0.5)) * rising
            county = county + self.rng.normal(0, 0.15, size=(n, 1))
        else:
            county = self.rng.normal(0, 0.25, size=(n, 1))
        rising = end >= spec.start
        lag = np.where(self.shanqu[level][:, None], 1 + spec.shanqu_lag, 1.0)
        if m.aggregation == "last" and is_cumulative(m):
            # a running total follows the county's course without month-to-month noise (a maximum over
            # noisy monthly draws would reach the base everywhere); it never falls nor passes its base
            smooth = _expit(lg[None, :] + county)
            smooth = np.where(rising, 1 - (1 - smooth) * lag, smooth * lag).clip(0, 1)
            return np.minimum(np.maximum.accumulate(np.floor(base * smooth + self.rng.random((n, len(t)))), axis=1), base)
        rate = _expit(lg[None, :] + county + self.rng.normal(0, 0.06, size=(n, len(t))))
        rate = np.where(rising, 1 - (1 - rate) * lag, rate * lag).clip(0, 1)
        if base.shape[1] != rate.shape[1]:  # a daily share of a monthly stock: spread the stock
            month_index = {mo: i for i, mo in enumerate(self.months)}
            base = base[:, [month_index[d.replace(day=1)] for d in self.days]]
        if m.grain == "day":  # working-day and holiday pattern of daily activity
            rate = rate * self.season("day", spec.weekend)[None, :]
        return self.rng.binomial(base.astype(np.int64), rate).astype(float)

    def run(self) -> dict[str, np.ndarray]:
        ordered = _order([m for m in self.cat.measures if m.code not in PER_UNIT_OF])
        ordered += [m for m in self.cat.measures if m.code in PER_UNIT_OF and PER_UNIT_OF[m.code] in {o.code for o in ordered}]
        for m in ordered:
            self.values[m.code] = self.draw(m)
        return self.values


def problem_measures(problems: pd.DataFrame, counties: list[str], months: list[dt.date]) -> dict[str, np.ndarray]:
    """The monthly problem measures of every county, counted from the register exactly as
    metrics.problems counts them at a month's end: due / fixed on time in the month (flows), found and
    closed since 2021 and open past the deadline at month end (stocks)."""
    idx = {c: i for i, c in enumerate(counties)}
    n_c, n_m = len(counties), len(months)
    out = {k: np.zeros((n_c, n_m)) for k in PROBLEM_MEASURES}
    if problems is None or problems.empty:
        return out
    ci = problems["region_code"].map(idx)
    keep = ci.notna().to_numpy()
    p = problems[keep]
    ci = ci[keep].astype(int).to_numpy()
    found = pd.to_datetime(p["found_date"]).to_numpy("datetime64[D]")
    deadline = pd.to_datetime(p["deadline"]).to_numpy("datetime64[D]")
    closed = pd.to_datetime(p["closed_date"]).to_numpy("datetime64[D]")  # NaT when open
    ends = np.array([month_end(m) for m in months], dtype="datetime64[D]")
    starts = np.array(months, dtype="datetime64[D]")
    ontime = ~np.isnat(closed) & (closed <= deadline)
    due_m = np.searchsorted(ends, deadline)  # the month whose end is on or after the deadline
    ok = (deadline >= starts[0]) & (due_m < n_m)
    np.add.at(out["problems_due"], (ci[ok], due_m[ok]), 1)
    np.add.at(out["problems_fixed_ontime"], (ci[ok & ontime], due_m[ok & ontime]), 1)
    for mi, e in enumerate(ends):
        f = found <= e
        c = f & ~np.isnat(closed) & (closed <= e)
        od = f & ~c & (deadline < e)
        out["problems_found"][:, mi] = np.bincount(ci[f], minlength=n_c)
        out["problems_closed"][:, mi] = np.bincount(ci[c], minlength=n_c)
        out["problems_overdue_open"][:, mi] = np.bincount(ci[od], minlength=n_c)
    return out


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
    if "major_apps_required" in values:  # the apps that apply to each county (seed 004's 31, less n/a ones)
        need = applicable(list(gen.counties))
        values["major_apps_required"] = np.tile(
            np.array([len(need[c]) for c in gen.counties], dtype=float)[:, None], (1, len(gen.months)))
        live = next(m for m in catalogue.measures if m.code == "major_apps_required")
        for m in catalogue.measures:  # redraw what is drawn from it
            if m.demo.kind == "share" and m.demo.of == live.code:
                values[m.code] = gen.draw(m)
    problems = events = None
    if any(m.code in PROBLEM_MEASURES for m in catalogue.measures):
        problems, events = generate_problems(geo, seed, month_end(end_month))
        counted = problem_measures(problems, list(gen.counties), list(gen.months))
        for code, arr in counted.items():
            if code in values:
                values[code] = arr
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
    # the problem lists and app registers are systems of record: their monthly figures arrive with
    # no gaps or restatements, not in the county Excel report
    fed = [m for m in month_measures if m.level == "county" and platform_fed(m)]
    cm = [m for m in month_measures if m.level == "county" and m not in fed]
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
    # systems of record (problem lists, app registers): one platform batch per month for every county
    for mi, month in enumerate(months):
        if not fed:
            break
        received = dt.datetime.combine(add_months(month, 1), dt.time(3, 0))
        if received > now:
            continue
        b = add_batch(source="demo", region_code=None, period=f"{month:%Y-%m}", received_at=received,
                      committed_at=received, note="演示数据：七张问题清单与重大应用系统月度汇总",
                      n_rows=len(fed) * n_c)
        frames.append(pd.DataFrame({
            "batch_id": b, "region_code": np.repeat(counties, len(fed)),
            "measure_code": [m.code for m in fed] * n_c, "obs_date": month,
            "value": np.stack([values[m.code][:, mi] for m in fed], axis=1).reshape(-1), "is_current": True,
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
    return DemoData(bdf, obs, overdue, never, restated, problems, events)
