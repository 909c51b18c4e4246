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
from metrics.texts import tr

GRAINS_WITH_PREVIOUS = ("month", "bimonth", "quarter", "year", "ytd", "day")  # the 环比 period has a name
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
    prev = tr(f"sum_prev_{grain if grain in GRAINS_WITH_PREVIOUS else 'ytd'}", lang)
    pct = kpi.format == "percent"
    amount = _points(f.change, kpi) if pct else f"{abs(f.change) * 100:.1f}"
    if float(amount) == 0.0:
        return tr("sum_flat", lang, prev=prev)
    key = f"sum_{'up' if f.change > 0 else 'down'}_{'pts' if pct else 'pct'}"
    return tr(key, lang, prev=prev, amount=amount)


def _gap_text(f: KpiFacts, kpi: Kpi, lang: str) -> str | None:
    if f.shortfall is None or f.target is None:
        return None
    pct = kpi.format == "percent"
    if pct:
        size = tr("sum_points", lang, v=_points(f.shortfall, kpi))
        at_target = _is_flat(f.shortfall, kpi)
    else:
        size = formats.value(abs(f.shortfall), kpi, lang)
        at_target = f.shortfall == 0
    up = kpi.direction == "up"
    if at_target:
        return tr("sum_at_target", lang)
    if f.shortfall > 0:
        return tr("sum_short" if up else "sum_over_ceiling", lang, size=size)
    return tr("sum_beyond" if up else "sum_better", lang, size=size)


def _children_text(f: KpiFacts, geo: Geography, lang: str) -> str | None:
    if f.child_level is None:
        return None
    level = "city" if f.child_level == "city" else "county"
    if f.n_children:
        return tr(f"sum_children_{level}", lang, n=f.n_children, k=f.n_children_on_target)
    if f.best_child:
        return tr(f"sum_leads_{level}", lang, name=geo.get(f.best_child).name(lang))
    return None


def _rank_text(f: KpiFacts, geo: Geography, lang: str) -> str | None:
    if f.rank is None or f.rank_of is None or f.region == PROVINCE:
        return None
    level = geo.get(f.region).level
    if level not in ("city", "county"):
        return None
    return tr(f"sum_rank_{level}", lang, rank=f.rank, of=f.rank_of)


def kpi_sentence(f: KpiFacts, kpi: Kpi, geo: Geography, lang: str = "zh", grain: str = "month") -> str:
    name = kpi.name(lang)
    if f.province_only:
        return tr("sum_province_only", lang, name=name)
    if f.value is None:
        return tr("sum_no_data", lang, name=name)
    head = f"{name} {formats.value(f.value, kpi, lang)}"
    parts = [p for p in (_change_text(f, kpi, lang, grain), _gap_text(f, kpi, lang)) if p]
    tail = [p for p in (_children_text(f, geo, lang), _rank_text(f, geo, lang)) if p]
    if f.n_missing:
        tail.append(tr("sum_missing", lang, n=f.n_missing))
    sep, semi = tr("sum_sep", lang), tr("sum_semi", lang)
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
        return tr("sum_system_no_rated", lang, name=name, n=len(kpis))
    worst_txt = ""
    off = rated[rated["status"] != ON_TARGET]
    if len(off):
        w = off.loc[off["attainment"].astype(float).idxmin()]
        k = cat.kpi(str(w["kpi"]))
        gap = _gap_text(kpi_facts(bulk, k, region, geo), k, lang)
        worst_txt = tr("sum_system_worst", lang, kpi=k.name(lang), gap=gap) if gap else ""
    return tr("sum_system", lang, name=name, total=len(kpis), n=len(rated), green=n["green"], amber=n["amber"],
              red=n["red"], worst=worst_txt)
