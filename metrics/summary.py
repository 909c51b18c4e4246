"""The automatic summary a reform office would write under a chart, in Chinese and English.

    一网通办率 91.2%，较上月提升0.4个百分点，距年度目标差0.8个百分点；11个市中9个达标
    Online handling rate 91.2%, up 0.4 pts on the previous month, 0.8 pts short of the annual
    target; 9 of 11 cities on target

Everything is read from the engine's bulk rows (value, 环比 change, target, status, rank,
reporting completeness), so the sentence can never disagree with the chart beside it. Changes
and gaps of rates are in percentage points, of counts relative (change) or absolute (gap).
The facts are computed first (`kpi_facts`, testable numbers), the wording second. No Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from metrics import formats
from metrics.catalogue import Catalogue, Kpi
from metrics.geography import PROVINCE, Geography

PREVIOUS = {  # grain -> (zh, en) name of the 环比 period
    "month": ("上月", "the previous month"), "bimonth": ("上一双月", "the previous two months"),
    "quarter": ("上季度", "the previous quarter"),
    "year": ("上年", "the previous year"), "ytd": ("上期", "the previous period"), "day": ("前一日", "the previous day"),
}
ON_TARGET = "green"
RATED = ("green", "amber", "red")


@dataclass
class KpiFacts:
    """The numbers a summary sentence states (None where they do not apply)."""

    kpi: str
    region: str
    value: float | None
    change: float | None  # 环比: points (fraction) for rates, relative for counts
    target: float | None
    shortfall: float | None  # > 0: short of target (direction-aware), in the KPI's unit; <= 0: met
    status: str
    child_level: str | None  # "city" | "county" | None
    n_children: int  # children with a rated status (green/amber/red)
    n_children_on_target: int
    best_child: str | None  # for KPIs without child targets: the best child region
    rank: int | None  # the region's own rank (counties among 90, cities among 11)
    rank_of: int | None
    n_missing: int  # member counties that have not reported
    province_only: bool


def _num(x: object) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def children_of(geo: Geography, region: str) -> tuple[str | None, list[str]]:
    """The level below a region in the drill: province -> cities, city -> counties, else none."""
    if region == PROVINCE:
        return "city", geo.cities
    r = geo.get(region)
    if r.level == "city":
        return "county", geo.counties_of(region)
    return None, []


def kpi_facts(bulk: pd.DataFrame, kpi: Kpi, region: str, geo: Geography) -> KpiFacts:
    rows = bulk[bulk["kpi"] == kpi.code]
    own = rows[rows["region"] == region]
    r = own.iloc[0] if len(own) else None
    value = _num(r["value"]) if r is not None else None
    target = _num(r["target"]) if r is not None else None
    shortfall = None
    if value is not None and target is not None:
        shortfall = target - value if kpi.direction == "up" else value - target
    level, kids = children_of(geo, region)
    kid_rows = rows[rows["region"].isin(kids)]
    rated = kid_rows[kid_rows["status"].isin(RATED)]
    best = None
    with_values = kid_rows[kid_rows["value"].notna()]
    if len(with_values) and rated.empty:
        pick = with_values["value"].idxmax() if kpi.direction == "up" else with_values["value"].idxmin()
        best = str(with_values.loc[pick, "region"])
    missing = len(r["missing"]) if r is not None and isinstance(r["missing"], list) else 0
    return KpiFacts(
        kpi=kpi.code, region=region, value=value, change=_num(r["change_prev"]) if r is not None else None,
        target=target, shortfall=shortfall, status=str(r["status"]) if r is not None else "missing",
        child_level=level if len(kid_rows) else None, n_children=len(rated),
        n_children_on_target=int((rated["status"] == ON_TARGET).sum()), best_child=best,
        rank=int(r["rank"]) if r is not None and _num(r["rank"]) is not None else None,
        rank_of=int(r["rank_of"]) if r is not None and _num(r["rank_of"]) is not None else None,
        n_missing=missing, province_only=bool(r is not None and r["status"] == "na"),
    )


# -- wording ---------------------------------------------------------------------------------
def _points(x: float, kpi: Kpi) -> str:
    return f"{abs(x) * 100:.{kpi.decimals}f}"


def _is_flat(x: float, kpi: Kpi) -> bool:
    return float(_points(x, kpi)) == 0.0


def _change_text(f: KpiFacts, kpi: Kpi, lang: str, grain: str) -> str | None:
    if f.change is None:
        return None
    prev_zh, prev_en = PREVIOUS.get(grain, PREVIOUS["ytd"])
    pct = kpi.format == "percent"
    amount = _points(f.change, kpi) if pct else f"{abs(f.change) * 100:.1f}"
    if float(amount) == 0.0:
        return f"与{prev_zh}持平" if lang == "zh" else f"flat on {prev_en}"
    up = f.change > 0
    if lang == "zh":
        verb = ("提升" if up else "下降") if pct else ("增长" if up else "下降")
        return f"较{prev_zh}{verb}{amount}{'个百分点' if pct else '%'}"
    return f"{'up' if up else 'down'} {amount}{' pts' if pct else '%'} on {prev_en}"


def _gap_text(f: KpiFacts, kpi: Kpi, lang: str) -> str | None:
    if f.shortfall is None or f.target is None:
        return None
    pct = kpi.format == "percent"
    if pct:
        size = f"{_points(f.shortfall, kpi)}{'个百分点' if lang == 'zh' else ' pts'}"
        at_target = _is_flat(f.shortfall, kpi)
    else:
        size = formats.value(abs(f.shortfall), kpi, lang)
        at_target = f.shortfall == 0
    up = kpi.direction == "up"
    if lang == "zh":
        if at_target:
            return "达到年度目标"
        if f.shortfall > 0:
            return f"距年度目标差{size}" if up else f"高于年度目标值{size}"
        return f"{'超出' if up else '优于'}年度目标{size}"
    if at_target:
        return "at the annual target"
    if f.shortfall > 0:
        return f"{size} short of the annual target" if up else f"{size} above the annual target"
    return f"{size} {'above' if up else 'better than'} the annual target"


def _children_text(f: KpiFacts, geo: Geography, lang: str) -> str | None:
    if f.child_level is None:
        return None
    unit_zh = "个市" if f.child_level == "city" else "个区县"
    unit_en = "cities" if f.child_level == "city" else "counties"
    if f.n_children:
        if lang == "zh":
            return f"{f.n_children}{unit_zh}中{f.n_children_on_target}个达标"
        return f"{f.n_children_on_target} of {f.n_children} {unit_en} on target"
    if f.best_child:
        name = geo.get(f.best_child).name(lang)
        return f"{name}居{unit_zh[1:]}首位" if lang == "zh" else f"{name} leads the {unit_en}"
    return None


def _rank_text(f: KpiFacts, geo: Geography, lang: str) -> str | None:
    if f.rank is None or f.rank_of is None or f.region == PROVINCE:
        return None
    level = geo.get(f.region).level
    if level not in ("city", "county"):
        return None
    if lang == "zh":
        return f"全省{f.rank_of}个{'市' if level == 'city' else '区县'}中排第{f.rank}位"
    return f"ranked {f.rank} of {f.rank_of} {'cities' if level == 'city' else 'counties'}"


def kpi_sentence(f: KpiFacts, kpi: Kpi, geo: Geography, lang: str = "zh", grain: str = "month") -> str:
    name = kpi.name(lang)
    if f.province_only:
        return (f"{name}为全省统计口径，无分地区数据" if lang == "zh"
                else f"{name} is measured for the province only")
    if f.value is None:
        return f"{name}本期无数据" if lang == "zh" else f"{name}: no data for this period"
    head = f"{name} {formats.value(f.value, kpi, lang)}"
    parts = [p for p in (_change_text(f, kpi, lang, grain), _gap_text(f, kpi, lang)) if p]
    tail = [p for p in (_children_text(f, geo, lang), _rank_text(f, geo, lang)) if p]
    if f.n_missing:
        tail.append(f"{f.n_missing}个区县逾期未报" if lang == "zh" else
                    f"{f.n_missing} {'county' if f.n_missing == 1 else 'counties'} not reported")
    sep, semi = ("，", "；") if lang == "zh" else (", ", "; ")
    text = sep.join([head, *parts])
    return text + (semi + sep.join(tail) if tail else "")


def kpi_summary(bulk: pd.DataFrame, kpi: Kpi, region: str, geo: Geography, lang: str = "zh",
                grain: str = "month") -> str:
    """The sentence for one KPI at one region (see module docstring)."""
    return kpi_sentence(kpi_facts(bulk, kpi, region, geo), kpi, geo, lang, grain)


def system_summary(bulk: pd.DataFrame, cat: Catalogue, system: str, region: str, geo: Geography,
                   lang: str = "zh") -> str:
    """'数字政府：有目标的8项指标中5项达标、2项接近、1项未达标；差距最大的是…' for the region."""
    sysdef = cat.system(system)
    name = sysdef.name_en if lang == "en" else sysdef.name_zh
    kpis = cat.kpis_of(system)
    rows = bulk[(bulk["region"] == region) & bulk["kpi"].isin([k.code for k in kpis])]
    rated = rows[rows["status"].isin(RATED) & rows["target"].notna()]
    n = {s: int((rated["status"] == s).sum()) for s in RATED}
    if rated.empty:
        return (f"{name}：{len(kpis)}项指标，本地区本期无可对照目标的数据" if lang == "zh"
                else f"{name}: {len(kpis)} KPIs, none with a target and a value here this period")
    worst_txt = ""
    off = rated[rated["status"] != ON_TARGET]
    if len(off):
        w = off.loc[off["attainment"].astype(float).idxmin()]
        k = cat.kpi(str(w["kpi"]))
        gap = _gap_text(kpi_facts(bulk, k, region, geo), k, lang)
        if lang == "zh":
            worst_txt = f"；差距最大的是{k.name('zh')}（{gap}）" if gap else ""
        else:
            worst_txt = f"; furthest off: {k.name('en')} ({gap})" if gap else ""
    if lang == "zh":
        return (f"{name}：{len(kpis)}项指标中有目标的{len(rated)}项，{n['green']}项达标、{n['amber']}项接近、"
                f"{n['red']}项未达标{worst_txt}")
    return (f"{name}: of {len(rated)} KPIs with a target ({len(kpis)} in all), {n['green']} on target, "
            f"{n['amber']} near, {n['red']} off{worst_txt}")
