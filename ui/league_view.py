"""A KPI league table on screen: its standing groups shaped for st.dataframe, and its one-line summary.

The table comes from metrics.league through the read boundary; this module only shapes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics.catalogue import Kpi
from metrics.geography import Geography
from ui import fmt
from ui.i18n import t
from ui.rank_frames import Shaped, change_colour, region_link, scale

OTHER_STANDINGS = ("incomplete", "overdue", "pending", "nocase", "no_data")


def value_format(k: Kpi) -> str:
    """Python format of a scaled value (percent already x100)."""
    return f"{{:.{k.decimals}f}}%" if k.format == "percent" else f"{{:,.{k.decimals if k.format != 'integer' else 0}f}}"


def gap_format(k: Kpi) -> str:
    """Signed: the sign is the point of a gap (beyond or short of target)."""
    return f"{{:+.{k.decimals}f}}" if k.format == "percent" else "{:+,.0f}"


def unit_label(k: Kpi, lang: str) -> str:
    """Column-header unit: rates' gap is in percentage points, counts in their unit."""
    if k.format == "percent":
        return t("rankings_pp", lang)
    return k.unit(lang)


@dataclass
class LeagueView:
    """A league table split into its standing groups, each ready for st.dataframe."""

    ranked: Shaped
    small: Shaped
    others: Shaped
    n_ranked: int
    n_small: int
    n_others: int
    columns: dict[str, str]  # logical name -> display header (for the column config)


def league_columns(k: Kpi, lang: str, with_city: bool, parent_key: str = "rankings_city") -> dict[str, str]:
    """Display headers, units in the header so the cells stay numbers (the parent column: a county's
    city, a township's county)."""
    unit = unit_label(k, lang)
    cols = {
        "rank": t("rank", lang),
        "change": t("rankings_change", lang),
        "region": t("region", lang),
        "city": t(parent_key, lang),
        "value": t("value", lang) if k.format == "percent" else f"{t('value', lang)} ({k.unit(lang)})",
        "target": t("target", lang),
        "gap": f"{t('rankings_gap', lang)} ({unit})",
        "attainment": t("rankings_attainment", lang),
        "status": t("status", lang),
        "ci": t("rankings_ci", lang),
        "range": t("rankings_rank_range", lang),
        "trend": t("sparkline", lang),
        "standing": t("rankings_standing", lang),
        "reported": t("reported_col", lang),
    }
    if not with_city:
        cols.pop("city")
    return cols


def _ci_text(lo: Any, hi: Any, k: Kpi) -> str:
    """The Wilson interval in the KPI's unit (percent for rates)."""
    if pd.isna(lo) or pd.isna(hi):
        return ""
    s = scale(k)
    d = k.decimals
    return f"{lo * s:.{d}f}–{hi * s:.{d}f}%" if k.format == "percent" else f"{lo:.{d}f}–{hi:.{d}f}"


def league_view(
    table: pd.DataFrame, k: Kpi, lang: str, params: dict[str, str], level: str, flag: bool,
    geo: Geography,
) -> LeagueView:
    """Shape league_table() output: ranked first, small samples apart, non-reporters listed, never ranked."""
    with_city = level in ("county", "township")
    cols = league_columns(k, lang, with_city, "rankings_county_col" if level == "township" else "rankings_city")
    s = scale(k)
    name_col = "name_en" if lang == "en" else "name_zh"
    chg_col = "rank_change_en" if lang == "en" else "rank_change_zh"

    def rows(df: pd.DataFrame, rank_col: str, with_change: bool, with_ci: bool) -> Shaped:
        out = pd.DataFrame({cols["rank"]: df[rank_col].astype("Int64").to_numpy()})
        out[cols["change"]] = df[chg_col].fillna("").to_numpy() if with_change else ""
        out[cols["region"]] = [region_link(r, level, n, params, p) for r, n, p in zip(df["region"], df[name_col],
                                                                                         df["parent"], strict=True)]
        if with_city:
            out[cols["city"]] = [geo.get(p).name(lang) if isinstance(p, str) else "" for p in df["parent"]]
        out[cols["value"]] = (df["value"].astype(float) * s).to_numpy()
        out[cols["target"]] = (df["target"].astype(float) * s).to_numpy()
        out[cols["gap"]] = np.round(df["gap_to_target"].astype(float).to_numpy() * s, k.decimals) + 0.0
        out[cols["attainment"]] = (df["attainment"].astype(float) * 100).to_numpy()
        out[cols["status"]] = ["● " + fmt.status_label(str(x), lang) for x in df["status"]]
        if with_ci:
            small_mark = " · " + t("small_sample", lang)
            out[cols["ci"]] = [_ci_text(lo, hi, k) + (small_mark if sm else "")
                               for lo, hi, sm in zip(df["ci_low"], df["ci_high"], df["small_sample"].fillna(False),
                                                     strict=True)]
            out[cols["range"]] = [
                "" if pd.isna(b) else (f"{int(b)}" if int(b) == int(w) else f"{int(b)}–{int(w)}")
                for b, w in zip(df["rank_best"], df["rank_worst"], strict=True)
            ]
        out[cols["trend"]] = [[v * s for v in tr if v is not None and not math.isnan(v)]  # no gaps in a LineChartColumn
                              if isinstance(tr, list) else [] for tr in df["trend"]]
        colours = {
            cols["change"]: [change_colour(x) for x in out[cols["change"]]],
            cols["status"]: [fmt.STATUS_TEXT.get(str(x), "#cbd5e1") for x in df["status"]],
        }
        if with_ci:
            small = df["small_sample"].fillna(False).astype(bool).tolist()
            colours[cols["ci"]] = ["#f59e0b" if x else "#94a3b8" for x in small]
            colours[cols["range"]] = ["#f59e0b" if x else "#94a3b8" for x in small]
        if no_target:  # a count without county targets: no empty target, gap and attainment columns
            out = out.drop(columns=[cols["target"], cols["gap"], cols["attainment"]])
        formats = {cols["value"]: value_format(k), cols["target"]: value_format(k), cols["gap"]: gap_format(k),
                   cols["attainment"]: "{:.1f}%"}
        return Shaped(out, colours, formats)

    no_target = bool(table["target"].isna().all())
    ci_ok = flag and k.format == "percent" and k.kind == "ratio"
    ranked = table[table["standing"] == "ranked"]
    small = table[table["standing"] == "small_sample"]
    others = table[table["standing"].isin(OTHER_STANDINGS)]
    oth = pd.DataFrame({
        cols["region"]: [region_link(r, level, n, params, p) for r, n, p in zip(others["region"], others[name_col],
                                                                                 others["parent"], strict=True)],
        cols["standing"]: others["standing_en" if lang == "en" else "standing_zh"].to_numpy(),
        cols["reported"]: [f"{a}/{b}" for a, b in zip(others["n_reported"], others["n_expected"], strict=True)],
    })
    if with_city:
        oth.insert(1, cols["city"], [geo.get(p).name(lang) if isinstance(p, str) else "" for p in others["parent"]])
    standing_colour = {"overdue": fmt.STATUS_COLOURS["missing"], "incomplete": "#f59e0b"}
    oth_col = {cols["standing"]: [standing_colour.get(x, fmt.FLAT) for x in others["standing"]]}
    return LeagueView(
        ranked=rows(ranked, "rank", True, ci_ok),
        small=rows(small, "rank_small", False, False),
        others=Shaped(oth, oth_col),
        n_ranked=len(ranked), n_small=len(small), n_others=len(others), columns=cols,
    )


def league_summary(table: pd.DataFrame, k: Kpi, lang: str) -> str:
    """One line: how many ranked, on target, small samples, not reported; and, when the regions are not
    all in, how many are and why the others are not ranked."""
    ranked = table["standing"] == "ranked"
    return _summary(table, ranked, lang) + coverage_line(table, lang)


def coverage_line(table: pd.DataFrame, lang: str) -> str:
    if table.empty or "n_reported" not in table or "n_expected" not in table:
        return ""
    n, of = int(pd.to_numeric(table["n_reported"]).sum()), int(pd.to_numeric(table["n_expected"]).sum())
    if n >= of:
        return ""
    why = "rankings_why_pending" if (table["standing"] == "pending").any() else "rankings_why_overdue"
    return " · " + t("rankings_coverage", lang, n=n, of=of, why=t(why, lang))


def _summary(table: pd.DataFrame, ranked: pd.Series, lang: str) -> str:
    nocase = int((table["standing"] == "nocase").sum())
    return t(
        "rankings_summary", lang, ranked=int(ranked.sum()), total=len(table),
        green=int((table.loc[ranked, "status"] == "green").sum()),
        small=int((table["standing"] == "small_sample").sum()) + int(table["small_sample"].fillna(False)
                                                                     .astype(bool)[ranked].sum()),
        overdue=int(table["standing"].isin(OTHER_STANDINGS).sum()) - nocase,
    ) + (t("rankings_nocase", lang, n=nocase) if nocase else "")
