"""County profile: every KPI of one county against target, its city, the province and peers."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from metrics.catalogue import Catalogue
from metrics.geography import PROVINCE, Geography
from metrics.periods import Period
from ui import fmt
from ui.i18n import t


def profile_table(
    bulk: pd.DataFrame, cat: Catalogue, geo: Geography, county: str, period: Period, lang: str,
    trend: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per KPI: county value, target, status, ranks, city, province and peer-group values."""
    city = geo.city_of(county)
    groups = geo.peer_groups_of(county, period.end)
    row_of = _row_index(bulk, [county, city, PROVINCE, *groups])
    sparks = _county_trends(trend, county)
    rows = []
    for k in cat.kpis:
        r = row_of(k.code, county)
        if r is None:
            continue
        rank = f"{int(r['rank'])}/{int(r['rank_of'])}" if fmt.is_num(r["rank"]) else "—"
        row = {
            "code": k.code,
            "status": str(r["status"]),
            t("system", lang): (cat.system(k.system).short_en if lang == "en" else cat.system(k.system).short_zh),
            t("kpi", lang): k.name(lang),
            t("value", lang): fmt.value(r["value"], k, lang),
            t("target", lang): fmt.value(r["target"], k, lang) if fmt.is_num(r["target"]) else t("no_target", lang),
            t("status", lang): fmt.status_label(str(r["status"]), lang),
            t("change_mom", lang): fmt.change(r["change_prev"], k, lang),
            t("county_rank", lang): rank,
        }
        cr = row_of(k.code, city) if city else None
        row[t("city_value", lang)] = fmt.value(cr["value"], k, lang) if cr is not None else "—"
        pr = row_of(k.code, PROVINCE)
        row[t("province_value", lang)] = fmt.value(pr["value"], k, lang) if pr is not None else "—"
        for g in groups:
            gr = row_of(k.code, g)
            gname = geo.get(g).name(lang)
            row[gname] = fmt.value(gr["value"], k, lang) if gr is not None else "—"
            pk = r["peer_ranks"].get(g) if isinstance(r["peer_ranks"], dict) else None
            row[f"{gname} {t('peer_rank', lang)}"] = f"{pk[0]}/{pk[1]}" if pk else "—"
        if sparks is not None:
            scale = 100.0 if k.format == "percent" else 1.0
            row[t("sparkline", lang)] = [float(v) * scale for v in sparks.get(k.code, ()) if not pd.isna(v)]
        row[t("as_of", lang)] = fmt.text(r["as_of"])
        row[t("definition", lang)] = k.definition(lang)
        rows.append(row)
    return pd.DataFrame(rows)


def _row_index(bulk: pd.DataFrame | None, regions: list[str | None]) -> Callable[[str, str], pd.Series | None]:
    """row_of(kpi, region) for `regions` (the first matching bulk row, as ui.tiles.row_of), from one
    pass over the bulk: filtering the whole bulk again for each KPI and region was most of the page."""
    if bulk is None or bulk.empty:
        return lambda kpi, region: None
    sub = bulk[bulk["region"].isin([r for r in regions if r])]
    first: dict[tuple[str, str], int] = {}
    for i, key in enumerate(zip(sub["kpi"], sub["region"], strict=True)):
        first.setdefault(key, i)

    def row_of(kpi: str, region: str) -> pd.Series | None:
        i = first.get((kpi, region))
        return None if i is None else sub.iloc[i]

    return row_of


def _county_trends(trend: pd.DataFrame | None, county: str) -> dict[str, list] | None:
    """The county's values per KPI in month order (None without a trend frame: no sparkline column)."""
    if trend is None or trend.empty:
        return None
    tr = trend[trend["region"] == county].sort_values("month")
    return {kpi: g["value"].tolist() for kpi, g in tr.groupby("kpi", sort=False)}


def missing_count(bulk: pd.DataFrame, county: str) -> int:
    if bulk is None or bulk.empty:
        return 0
    r = bulk[(bulk["region"] == county) & (bulk["status"] == "missing")]
    if {"complete", "denominator"} <= set(r.columns):  # reported, but nothing was due (0 ÷ 0): not missing
        r = r[~(r["complete"].astype(bool) & (pd.to_numeric(r["denominator"], errors="coerce") == 0))]
    return len(r)


def comparison_regions(geo: Geography, county: str, period: Period) -> list[str]:
    """County, its city, the province and its peer groups (the trend chart's lines)."""
    out = [county]
    city = geo.city_of(county)
    if city:
        out.append(city)
    out.append(PROVINCE)
    out += geo.peer_groups_of(county, period.end)
    return out
