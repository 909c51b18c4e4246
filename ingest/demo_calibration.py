"""The demo's calibration targets, measured on a generated demo (README "Demo data" lists them).

`python -m ingest.demo_calibration [--seed 7]` generates the province-scale demo in memory (as of
2026-12-05, so the history runs to 2026-11) and prints each target with its measured value; the
tests (tests/test_demo_calibration.py) assert every bound. Figures are computed from the current
observations with the catalogue's aggregation rules (ratios Σnumerator ÷ Σdenominator, daily actives
the mean of daily sums, stocks the last value), so they are what the engine shows.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingest.demo import DemoData, generate, working_days
from ingest.demo_character import character
from metrics.catalogue import Catalogue, Kpi
from metrics.catalogue import catalogue as default_catalogue
from metrics.geography import Geography, geography

TODAY = dt.date(2026, 12, 5)
NOW = dt.datetime(2026, 12, 5, 12, 0)
MONTH = dt.date(2026, 10, 1)  # the latest month every county has filed by TODAY
HAIYAN, YIWU, JINGNING, CHUNAN, SHANGCHENG = "330424", "330782", "331127", "330127", "330102"
YINZHOU, QINGYUAN = "330212", "331126"


@dataclass(frozen=True)
class Target:
    code: str
    text_zh: str
    text_en: str
    lo: float | None
    hi: float | None

    def ok(self, value: float) -> bool:
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    def bound(self) -> str:
        if self.lo is not None and self.hi is not None:
            return f"{self.lo:,.6g} – {self.hi:,.6g}"
        return f"≥ {self.lo:,.6g}" if self.lo is not None else f"≤ {self.hi:,.6g}"


TARGETS = [
    Target("registered_per_resident_max", "浙里办注册用户 ÷ 常住人口，任一县任一月的最大值", "Zheliban registered users ÷ residents, max over counties and months", None, 1.0),
    Target("registered_province", "全省注册用户（亿，最新月）", "Province registered users (100M, latest month)", 0.45, 0.646),
    Target("jingning_registered_k", "景宁注册用户（千人，常住约10.9万）", "Jingning registered users (thousands; ~109k residents)", 60, 109),
    Target("haiyan_share_requests_2022", "海盐2022年数据共享申请数（种子004：132+117=249，允许2倍）", "Haiyan data-sharing requests in 2022 (seed 004: 249, within 2×)", 125, 498),
    Target("factories_manuf_ratio", "制造业强县（前四分之一）每万人未来工厂+智能工厂 ÷ 后四分之一", "Future + smart factories per resident, top-quartile manufacturing counties ÷ bottom quartile", 3.0, None),
    Target("shanqu_vs_hangzhou_factories", "山区26县每万人工厂数 ÷ 杭州", "Factories per resident, 山区26县 ÷ Hangzhou", None, 0.8),
    Target("yinzhou_vs_qingyuan_factories", "鄞州工厂数 ÷ 庆元", "Factories, Yinzhou ÷ Qingyuan", 3.0, None),
    Target("hz_core_future_factories_min", "萧山、余杭、滨江未来工厂数的最小值", "Fewest future factories among Xiaoshan, Yuhang, Binjiang", 1, None),
    Target("yiwu_cbec_rank", "义乌跨境电商每万人排名（1=最高）", "Yiwu's rank on cross-border e-commerce per resident", None, 1),
    Target("yiwu_vs_jingning_cbec", "义乌 ÷ 景宁 跨境电商每万人", "Cross-border e-commerce per resident, Yiwu ÷ Jingning", 20, None),
    Target("urban_vs_county_dau", "城区核心区 ÷ 县 浙里办日活每万人", "Zheliban daily actives per resident, central districts ÷ counties", 1.25, None),
    Target("chunan_vs_shangcheng_znm", "淳安 ÷ 上城 浙农码赋码每万人", "浙农码 codes per resident, Chun'an ÷ Shangcheng", 5, None),
    Target("zzd_workday_rate", "浙政钉工作日活跃率（全省，最新月工作日均值）", "Zhezhengding active share on working days (province, latest month)", 0.80, 0.95),
    Target("zzd_offday_ratio", "浙政钉休息日 ÷ 工作日活跃", "Zhezhengding day-off ÷ working-day activity", 0.35, 0.7),
    Target("national_day_ratio", "2025年国庆假期 ÷ 前一周工作日 浙政钉日活", "Zhezhengding actives, National Day 2025 ÷ the working week before", None, 0.7),
    Target("adjusted_workday_ratio", "调休上班日（2026-01-04 周日）÷ 相邻周日 浙政钉日活", "Zhezhengding actives, adjusted working Sunday 2026-01-04 ÷ the Sunday after", 1.4, None),
    Target("app_active_decreases", "应用月活跃用户数环比下降的县·月占比", "Share of county-month steps where app monthly actives fall", 0.15, None),
    Target("minutes_feb_2024", "2024年2月监测分钟数（29天）", "Monitored minutes in February 2024 (29 days)", 41760, 41760),
    Target("median_share_off_target", "有目标的县级比率指标：未达目标县占比的中位数（最新月）", "Targeted county rates: median share of counties off target (latest month)", 0.10, 0.30),
    Target("headline_below_province", "全省未达目标的首页指标个数（最新月）", "Headline KPIs below target at the province (latest month)", 1, None),
    Target("systems_off_target", "全省有指标未达目标的系统数（最新月，共8个）", "Systems with a KPI below target at the province (latest month, of 8)", 2, 7),
    Target("rates_rising_share", "上升型比率指标中2026年高于2022年的占比（全省）", "Share of rising rates higher in 2026 than in 2022 (province)", 0.9, None),
    Target("persistent_laggards", "近12个月中至少10个月在综合排名后10位的县数", "Counties in the bottom 10 of the composite in at least 10 of the last 12 months", 2, None),
    Target("improvers", "综合排名较2022年上升30位以上的县数", "Counties up 30 or more places on the composite since 2022", 3, None),
    Target("small_vs_large_noise", "最小10县 ÷ 最大10县 掌上执法率月度波动", "Month-to-month noise of the mobile enforcement rate, 10 smallest ÷ 10 largest counties", 2.0, None),
    Target("rollout_incomplete_counties", "最新月省级重大应用未全部贯通的县数", "Counties with major apps not all live (latest month)", 3, 40),
]


def _current(data: DemoData) -> pd.DataFrame:
    obs = data.observations[data.observations["is_current"]]
    return obs.assign(obs_date=pd.to_datetime(obs["obs_date"]))


def _wide(obs: pd.DataFrame, measure: str) -> pd.DataFrame:
    """region × date of one measure."""
    s = obs[obs["measure_code"] == measure]
    return s.pivot_table(index="region_code", columns="obs_date", values="value", aggfunc="sum")


def _month(obs: pd.DataFrame, cat: Catalogue, measure: str, month: dt.date) -> pd.Series:
    """One measure aggregated over a month per region (sum, mean of days, or the last value)."""
    m = cat.measure(measure)
    s = obs[(obs["measure_code"] == measure) & (obs["obs_date"].dt.to_period("M") == pd.Period(month, "M"))]
    if m.aggregation == "last":
        s = s[s["obs_date"] == s["obs_date"].max()]
    g = s.groupby("region_code")["value"]
    return g.mean() if m.aggregation == "mean_daily" else g.sum()


def county_rate(obs: pd.DataFrame, cat: Catalogue, k: Kpi, month: dt.date) -> tuple[pd.Series, float]:
    num, den = _month(obs, cat, k.numerator, month), _month(obs, cat, k.denominator, month)
    both = num.index.intersection(den.index)
    num, den = num[both], den[both]
    return num / den.where(den > 0), float(num.sum() / den.sum())


def _target(k: Kpi, year: int) -> float | None:
    ts = [t for t in k.targets if t.year <= year]
    return ts[-1].value if ts else None


def off_target(k: Kpi, rate: pd.Series, target: float) -> pd.Series:
    """Below target on the KPI's direction (the status rules' green line)."""
    return rate < target if k.direction == "up" else rate > target


def measure(data: DemoData, cat: Catalogue, geo: Geography) -> dict[str, float]:
    obs = _current(data)
    counties = geo.counties
    pop = pd.Series({c: geo.get(c).population for c in counties}, dtype=float)
    ch = character().reindex(counties)
    out: dict[str, float] = {}
    months = sorted(obs["obs_date"].dt.to_period("M").unique())
    latest = _month(obs, cat, "zlb_registered_users", MONTH)
    reg = _wide(obs, "zlb_registered_users").reindex(counties)
    out["registered_per_resident_max"] = float(reg.div(pop, axis=0).max().max())
    out["registered_province"] = float(latest.sum() / 1e8)
    out["jingning_registered_k"] = float(latest[JINGNING] / 1e3)
    req = obs[(obs["measure_code"] == "share_requests") & (obs["region_code"] == HAIYAN) & (obs["obs_date"].dt.year == 2022)]
    out["haiyan_share_requests_2022"] = float(req["value"].sum())
    fac = (_month(obs, cat, "future_factories_count", MONTH).reindex(counties).fillna(0)
           + _month(obs, cat, "smart_factories_count", MONTH).reindex(counties).fillna(0))
    q = ch["manufacturing"].quantile([0.25, 0.75])
    top, bottom = ch.index[ch["manufacturing"] >= q[0.75]], ch.index[ch["manufacturing"] <= q[0.25]]
    out["factories_manuf_ratio"] = float(fac[top].sum() / pop[top].sum() / (fac[bottom].sum() / pop[bottom].sum()))
    shanqu = ch.index[ch["shanqu26"] == 1]
    hz = [c for c in counties if geo.city_of(c) == "330100"]
    out["shanqu_vs_hangzhou_factories"] = float((fac[shanqu].sum() / pop[shanqu].sum()) / (fac[hz].sum() / pop[hz].sum()))
    out["yinzhou_vs_qingyuan_factories"] = float(fac[YINZHOU] / max(fac[QINGYUAN], 1))
    ff = _month(obs, cat, "future_factories_count", MONTH).reindex(counties).fillna(0)
    out["hz_core_future_factories_min"] = float(ff[["330109", "330110", "330108"]].min())
    year = obs[(obs["measure_code"] == "cbec_volume") & (obs["obs_date"].dt.year == 2025)].groupby("region_code")["value"].sum()
    cb = (year.reindex(counties) / pop).dropna()
    out["yiwu_cbec_rank"] = float(cb.rank(ascending=False)[YIWU])
    out["yiwu_vs_jingning_cbec"] = float(cb[YIWU] / cb[JINGNING])
    dau = _month(obs, cat, "zlb_active_users", MONTH).reindex(counties) / pop
    core, county = ch.index[ch["kind"] == "urban_core"], ch.index[ch["kind"] == "county"]
    out["urban_vs_county_dau"] = float(dau[core].mean() / dau[county].mean())
    znm = _month(obs, cat, "znm_codes_issued", MONTH).reindex(counties) / pop
    out["chunan_vs_shangcheng_znm"] = float(znm[CHUNAN] / znm[SHANGCHENG])
    # 浙政钉: daily actives ÷ the month's activated accounts, province, working days vs days off

    act = obs[obs["measure_code"] == "zzd_active_users"].groupby("obs_date")["value"].sum()
    acc = obs[obs["measure_code"] == "zzd_activated_accounts"].groupby("obs_date")["value"].sum()
    acc_m = acc.groupby(acc.index.to_period("M")).last()
    rate = act / act.index.to_period("M").map(acc_m).to_numpy()
    first = act.index.min().date()
    work = pd.Series(working_days(first, act.index.max().date()), index=pd.date_range(first, act.index.max(), freq="D"))
    wk = work.reindex(rate.index)
    month_days = rate.index.to_period("M") == pd.Period(MONTH, "M")
    out["zzd_workday_rate"] = float(rate[month_days & wk.to_numpy()].mean())
    out["zzd_offday_ratio"] = float(rate[month_days & ~wk.to_numpy()].mean() / out["zzd_workday_rate"])
    nd = act[pd.Timestamp("2025-10-01"):pd.Timestamp("2025-10-08")].mean()
    before = act[pd.Timestamp("2025-09-22"):pd.Timestamp("2025-09-26")].mean()
    out["national_day_ratio"] = float(nd / before)
    out["adjusted_workday_ratio"] = float(act[pd.Timestamp("2026-01-04")] / act[pd.Timestamp("2026-01-11")])
    a = _wide(obs, "app_users_active").reindex(counties)
    steps = a.diff(axis=1).iloc[:, 1:]
    out["app_active_decreases"] = float((steps < 0).sum().sum() / steps.notna().sum().sum())
    mins = obs[(obs["measure_code"] == "monitored_minutes") & (obs["obs_date"] == pd.Timestamp("2024-02-01"))]["value"]
    out["minutes_feb_2024"] = float(mins.iloc[0]) if len(mins) else float("nan")
    # the mix at the latest month
    shares, below, systems = [], 0, set()
    for k in cat.kpis:
        t = _target(k, MONTH.year)
        if k.kind != "ratio" or t is None:
            continue
        r, prov = county_rate(obs, cat, k, MONTH)
        off = bool(off_target(k, pd.Series([prov]), t).iloc[0])
        systems |= {k.system} if off else set()
        if cat.measure(k.numerator).level != "county":
            continue
        r = r.reindex(counties).dropna()
        shares.append(float(off_target(k, r, t).mean()))
        below += int(k.headline is not None and off)
    for k in cat.kpis:  # counts at the province (year-end targets: judged on the full target here)
        t = _target(k, MONTH.year)
        if k.kind == "simple" and t is not None:
            v = _month(obs, cat, k.measure, MONTH).sum()
            off = bool(v < t if k.direction == "up" else v > t)
            systems |= {k.system} if off else set()
            below += int(k.headline is not None and off)
    out["systems_off_target"] = float(len(systems))
    out["median_share_off_target"] = float(np.median(shares))
    out["headline_below_province"] = float(below)
    rising = [k for k in cat.kpis if k.kind == "ratio" and k.direction == "up"
              and cat.measure(k.numerator).demo.kind == "share"
              and (cat.measure(k.numerator).demo.end or 0) > cat.measure(k.numerator).demo.start]
    up = [county_rate(obs, cat, k, dt.date(2026, 10, 1))[1] > county_rate(obs, cat, k, dt.date(2022, 10, 1))[1]
          for k in rising]
    out["rates_rising_share"] = float(np.mean(up))
    # a county composite: mean standardised logit of its targeted county rates, per month
    comp = composite(obs, cat, counties, [m.to_timestamp().date() for m in months[-60:]])
    last12 = comp.iloc[:, -12:]
    bottom = last12.rank(ascending=True) <= 10
    out["persistent_laggards"] = float((bottom.sum(axis=1) >= 10).sum())
    r2022 = comp[[c for c in comp.columns if c.year == 2022]].mean(axis=1).rank(ascending=False)
    r2026 = comp[[c for c in comp.columns if c.year == 2026]].mean(axis=1).rank(ascending=False)
    out["improvers"] = float(((r2022 - r2026) >= 30).sum())
    oh = county_monthly_rate(obs, "enf_inspections_mobile", "enf_inspections").reindex(counties)
    noise = oh.diff(axis=1).iloc[:, -24:].std(axis=1)
    small, large = pop.nsmallest(10).index, pop.nlargest(10).index
    out["small_vs_large_noise"] = float(noise[small].mean() / noise[large].mean())
    live = _month(obs, cat, "major_apps_live", MONTH).reindex(counties)
    need = _month(obs, cat, "major_apps_required", MONTH).reindex(counties)
    out["rollout_incomplete_counties"] = float((live < need).sum())
    return out


def county_monthly_rate(obs: pd.DataFrame, num: str, den: str) -> pd.DataFrame:
    n, d = _wide(obs, num), _wide(obs, den)
    return n / d.where(d > 0)


def composite(obs: pd.DataFrame, cat: Catalogue, counties: list[str], months: list[dt.date]) -> pd.DataFrame:
    """County × month: the mean over targeted monthly-flow rates of the county's standardised logit."""
    parts = []
    for k in cat.kpis:
        if k.kind != "ratio" or not k.targets or cat.measure(k.numerator).level != "county":
            continue
        if cat.measure(k.denominator).aggregation != "sum" or cat.measure(k.numerator).grain != "month":
            continue
        r = county_monthly_rate(obs, k.numerator, k.denominator).reindex(counties)
        r = r[[c for c in r.columns if c.date() in set(months)]].clip(0.001, 0.999)
        lg = np.log(r / (1 - r)) * (1 if k.direction == "up" else -1)
        parts.append((lg - lg.mean()) / lg.std().replace(0, np.nan))
    comp = sum(p.fillna(0) for p in parts) / len(parts)
    comp.columns = [c.date() for c in comp.columns]
    return comp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    cat, geo = default_catalogue(), geography()
    data = generate(cat, geo, seed=args.seed, today=TODAY, now=NOW)
    got = measure(data, cat, geo)
    print("| target | bound | seed 7 |\n|---|---|---|")
    for t in TARGETS:
        v = got[t.code]
        shown = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
        print(f"| {t.text_zh} · {t.text_en} | {t.bound()} | {shown}{'' if t.ok(v) else ' ✗'} |")
    return 0 if all(t.ok(got[t.code]) for t in TARGETS) else 1


if __name__ == "__main__":
    raise SystemExit(main())

