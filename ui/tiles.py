"""What the overview's tiles show, assembled from the engine's bulk frame (no Streamlit here).

Composite system score (documented choice): the mean, over the system's KPIs that have both a
target and a value at the scope, of attainment capped at 100% (a KPI whose status is 达标 counts
100%), so one KPI far above target cannot hide another below it. The score is published at one
decimal rounded *down*, so 100.0 appears exactly when every targeted KPI is on target and never
while one misses. Its colour follows the published score: green at 100.0 (all on target), amber
from the catalogue's amber threshold (95.0), red below. The share of KPIs on target is shown
beside it; a system with no targeted KPI at the scope says so instead of a score.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from metrics.catalogue import Catalogue, Kpi
from metrics.geography import PROVINCE, Geography
from ui import fmt
from ui import forecast_view as fv
from ui.i18n import t
from ui.tile_model import SystemScore, Tile


def scope_counties(geo: Geography, scope: str) -> list[str]:
    """Counties a leader of `scope` looks at: all 90 for the province, else the city's."""
    return geo.counties if scope == PROVINCE else geo.counties_of(scope)


def row_of(bulk: pd.DataFrame, kpi: str, region: str) -> pd.Series | None:
    if bulk is None or bulk.empty:
        return None
    hit = bulk[(bulk["kpi"] == kpi) & (bulk["region"] == region)]
    return None if hit.empty else hit.iloc[0]


def sources(cat: Catalogue, kpi: Kpi, lang: str) -> str:
    seen: list[str] = []
    for m in kpi.measures:
        meas = cat.measure(m)
        s = meas.source_en if lang == "en" else meas.source_zh
        if s not in seen:
            seen.append(s)
    return "；".join(seen) if lang == "zh" else "; ".join(seen)


def target_kind(row: pd.Series | None, kpi: Kpi, lang: str) -> str:
    """规划目标·《…》 (a seed target, its document named) or 工作目标（假设） (an assumed one)."""
    if row is None or not fmt.is_num(row.get("target_year")):
        return ""
    hit = next((x for x in kpi.targets if x.year == int(row["target_year"])), None)
    return hit.kind_label(lang) if hit else ""


def paced(row: pd.Series | None) -> bool:
    return row is not None and bool(row.get("paced")) and fmt.is_num(row.get("target_annual"))


def pace_text(row: pd.Series | None, kpi: Kpi, lang: str) -> str:
    """'序时进度 83% · 落后序时 3家' for a paced count; '' otherwise (rates keep the annual target)."""
    if not paced(row) or not fmt.is_num(row.get("pace_gap")):
        return ""
    gap = float(row["pace_gap"])
    amount = fmt.value(abs(gap), kpi, lang)
    if lang == "en":
        word = "ahead of pace by" if gap > 0 else "behind pace by" if gap < 0 else "on pace"
        return f"{row['pace'] * 100:.0f}% of the year · {word}{'' if gap == 0 else ' ' + amount}"
    word = "超序时" if gap > 0 else "落后序时" if gap < 0 else "持平序时"
    return f"序时进度 {row['pace'] * 100:.0f}% · {word}{'' if gap == 0 else ' ' + amount}"


def target_text(row: pd.Series | None, kpi: Kpi, lang: str, short: bool = False) -> str:
    """'目标 90.0%' plus, unless short, whether it is a plan or working target, carried over, or
    a 序时目标 (the year-end target spread over the year) for counts."""
    if row is None or not fmt.is_num(row["target"]):
        return t("no_target", lang)
    if paced(row):
        txt = (f"{t('target_paced', lang)} {fmt.value(row['target'], kpi, lang)}"
               f"（{t('target_annual', lang)} {fmt.value(row['target_annual'], kpi, lang)}）" if lang != "en" else
               f"{t('target_paced', lang)} {fmt.value(row['target'], kpi, lang)} "
               f"({t('target_annual', lang)} {fmt.value(row['target_annual'], kpi, lang)})")
    else:
        txt = f"{t('target', lang)} {fmt.value(row['target'], kpi, lang)}"
    if short:  # on the tile: plan or working target by name, a count's 序时 position beside it
        word = t("target_plan" if row.get("target_source") == "seed" else "target_working", lang)
        if paced(row):
            gap = pace_text(row, kpi, lang).split(" · ")[-1]
            return f"{t('target_paced', lang)} {fmt.value(row['target'], kpi, lang)} · {gap}"
        return f"{word} {fmt.value(row['target'], kpi, lang)}"
    kind = target_kind(row, kpi, lang)
    if kind:
        txt += f" · {kind}"
    if bool(row.get("target_carried")) and fmt.is_num(row.get("target_year")):
        txt += t("target_carried", lang, year=int(row["target_year"]))
    if kpi.pacing_rule is None:
        txt += t("target_rate_note", lang)
    elif paced(row):
        txt += " · " + pace_text(row, kpi, lang)
    return txt


def explain(cat: Catalogue, kpi: Kpi, row: pd.Series | None, lang: str) -> str:
    """The hover text: definition, source, owner, as-of, target note, reporting completeness."""
    lines = [
        f"{kpi.name(lang)}",
        f"{t('definition', lang)}: {kpi.definition(lang)}",
        f"{t('source', lang)}: {sources(cat, kpi, lang)}",
        f"{t('owner', lang)}: {kpi.owner_en if lang == 'en' else kpi.owner_zh}",
    ]
    if row is not None:
        lines.append(f"{t('as_of', lang)}: {fmt.text(row['as_of'])}")
        lines.append(target_text(row, kpi, lang))
        if int(row["n_expected"]) > 1:
            lines.append(t("reported", lang, n=int(row["n_reported"]), of=int(row["n_expected"])))
    return "\n".join(lines)


def _rank_text(bulk: pd.DataFrame, row: pd.Series | None, kpi: Kpi, scope: str, geo: Geography, lang: str) -> str:
    if row is None or row["status"] == "na":
        return t("rank_na", lang)
    level = geo.get(scope).level
    if level in ("city", "county"):
        if not fmt.is_num(row["rank"]):
            return t("rank_na", lang)
        key = "rank_city" if level == "city" else "rank_county"
        return t(key, lang, rank=int(row["rank"]), of=int(row["rank_of"]))
    # province: how many of its counties are on target (rates); counts: the leading city
    if kpi.format == "percent" and fmt.is_num(row["target"]):
        cs = bulk[(bulk["kpi"] == kpi.code) & (bulk["level"] == "county")]
        return t("counties_green", lang, n=int((cs["status"] == "green").sum()), of=len(cs))
    top = bulk[(bulk["kpi"] == kpi.code) & (bulk["level"] == "city") & (bulk["rank"] == 1)]
    return t("top_city", lang, city=geo.get(top.iloc[0]["region"]).name(lang)) if len(top) else t("rank_na", lang)


def headline_tiles(
    bulk: pd.DataFrame, trend: pd.DataFrame | None, cat: Catalogue, geo: Geography, scope: str, lang: str,
    forecasts: pd.DataFrame | None = None,
) -> list[Tile]:
    """One tile per headline KPI for the scope region (with its year-end forecast when given)."""

    # some tile has a forecast line: the others get an empty one, to stay level with it
    reserve = forecasts is not None and bool(((forecasts["region"] == scope) & forecasts["projection"].notna()).any())
    return [tile_of(bulk, trend, cat, geo, k, scope, lang, forecasts, reserve) for k in cat.headline_kpis()]


def tile_of(
    bulk: pd.DataFrame, trend: pd.DataFrame | None, cat: Catalogue, geo: Geography, k: Kpi, region: str, lang: str,
    forecasts: pd.DataFrame | None = None, reserve: bool = False,
) -> Tile:
    """The tile of one KPI for one region (a headline tile, or the phone's KPI detail of any KPI)."""
    row = row_of(bulk, k.code, region)
    if trend is not None and not trend.empty:
        tr = trend[(trend["kpi"] == k.code) & (trend["region"] == region)].sort_values("month")
        spark = [None if pd.isna(v) else float(v) for v in tr["value"]]
    else:
        spark = []
    if row is None:
        return Tile(k.code, k.system, k.name(lang), "—", "missing", t("no_target", lang), "—",
                    ("▬", fmt.FLAT, "—"), ("▬", fmt.FLAT, "—"), spark, t("rank_na", lang),
                    explain(cat, k, None, lang), "—")
    g1, c1 = fmt.arrow(row["change_prev"], k.direction)
    g2, c2 = fmt.arrow(row["change_yoy"], k.direction)
    # a change taken like for like over the counties in both periods is starred and explained
    lfl = {c: int(row[f"change_{c}_n"]) for c in ("prev", "yoy") if fmt.is_num(row.get(f"change_{c}_n"))}
    tooltip = explain(cat, k, row, lang)
    if lfl:
        tooltip += "\n" + t("change_lfl", lang, n=max(lfl.values()))
    reported = None
    if not bool(row["complete"]) and int(row["n_expected"]) > 1:
        reported = t("reported", lang, n=int(row["n_reported"]), of=int(row["n_expected"]))
    return Tile(
        kpi=k.code, system=k.system, name=k.name(lang), value=fmt.value(row["value"], k, lang),
        status=str(row["status"]), target=target_text(row, k, lang, short=True),
        attainment=fmt.percent(row["attainment"], 1) if fmt.is_num(row["target"]) else "—",
        mom=(g1, c1, fmt.change(row["change_prev"], k, lang) + ("*" if "prev" in lfl else "")),
        yoy=(g2, c2, fmt.change(row["change_yoy"], k, lang) + ("*" if "yoy" in lfl else "")),
        spark=spark, rank=_rank_text(bulk, row, k, region, geo, lang),
        tooltip=tooltip, as_of=fmt.text(row["as_of"]), reported=reported,
        **_forecast_fields(fv.row_for(forecasts, k.code, region), k, lang, reserve),
    )


def _forecast_fields(fc: pd.Series | None, k: Kpi, lang: str, reserve: bool) -> dict:

    if fc is None:
        return {"forecast": ""} if reserve else {}
    return {"forecast": fv.tile_sentence(fc, k, lang), "forecast_tip": fv.tile_tip(fc, k, lang),
            "forecast_prob": float(fc["prob"])}


def capped_attainment(att: pd.Series, status: pd.Series | None = None) -> pd.Series:
    """Attainment capped at 100%; a KPI judged 达标 counts 100% whatever float noise is left."""
    out = att.replace([np.inf], 1.0).clip(upper=1.0)
    return out if status is None else out.mask(status == "green", 1.0)


def published_score(raw: float) -> float:
    """The score as shown (points, one decimal, rounded down), back as a 0..1 fraction."""
    return math.floor(raw * 1000 + 1e-9) / 1000


def system_scores(bulk: pd.DataFrame, cat: Catalogue, scope: str, lang: str) -> list[SystemScore]:
    """Composite score per system at the scope (see module docstring for the rule)."""
    rule = cat.default_status
    out = []
    for s in sorted(cat.systems, key=lambda s: s.order):
        codes = [k.code for k in cat.kpis_of(s.code)]
        rows = bulk[(bulk["region"] == scope) & bulk["kpi"].isin(codes)] if not bulk.empty else bulk
        # a count still short of its counties is undecided, not a shortfall (metrics.engine)
        scored = rows[rows["target"].notna() & rows["value"].notna() & (rows["status"] != "partial")] \
            if not rows.empty else rows
        n_green = int((scored["status"] == "green").sum()) if len(scored) else 0
        score = None
        if len(scored):
            score = published_score(float(capped_attainment(scored["attainment"], scored["status"]).mean()))
        if score is None:
            st = "none" if len(rows) and rows["value"].notna().any() else "missing"
            share = t("no_targeted_kpi", lang)
        else:
            st = "green" if n_green == len(scored) else "amber" if score >= rule.amber - 1e-12 else "red"
            share = t("green_share", lang, n=n_green, of=len(scored))
        out.append(SystemScore(s.code, s.short_en if lang == "en" else s.short_zh, score, st, n_green, len(scored),
                               len(codes), share))
    return out


def system_table(bulk: pd.DataFrame, cat: Catalogue, system: str, scope: str, lang: str) -> pd.DataFrame:
    """The system page's table: every KPI of the system for the scope, with its context."""
    rows = []
    for k in cat.kpis_of(system):
        r = row_of(bulk, k.code, scope)
        if r is None:
            rows.append({"code": k.code, t("kpi", lang): k.name(lang), "status": "missing"})
            continue
        rank = "—"
        if fmt.is_num(r["rank"]):
            rank = f"{int(r['rank'])}/{int(r['rank_of'])}"
        rows.append({
            "code": k.code,
            t("kpi", lang): k.name(lang),
            t("value", lang): fmt.value(r["value"], k, lang, short=False),
            t("target", lang): fmt.value(r["target"], k, lang, short=False) if fmt.is_num(r["target"]) else t("no_target", lang),
            t("attainment", lang): fmt.percent(r["attainment"], 1) if fmt.is_num(r["target"]) else "—",
            "status": str(r["status"]),
            t("status", lang): fmt.status_label(str(r["status"]), lang),
            t("change_mom", lang): fmt.change(r["change_prev"], k, lang),
            t("change_yoy", lang): fmt.change(r["change_yoy"], k, lang),
            t("rank", lang): rank,
            t("as_of", lang): fmt.text(r["as_of"]),
            t("definition", lang): k.definition(lang),
            t("source", lang): sources(cat, k, lang),
        })
    return pd.DataFrame(rows)
