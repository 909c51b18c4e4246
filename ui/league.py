"""赛马晾晒 on screen: league tables, composite scores, red/black lists and the county comparison.

The numbers come from metrics.rankings; this module only shapes them for the screen (display
frames, colours, plotly figures, labels) so the pages stay thin and the shaping can be unit-tested
without a browser. The last section holds the few Streamlit helpers the two pages share: URL-bound
multi-selects and number inputs, and the reads the pages make (through the user's reader, ui.data).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from metrics.access import apply_overrides as apply_overrides  # population specs live with the read boundary
from metrics.access import peer_options as peer_options
from metrics.access import population_level as population_level
from metrics.access import population_options as population_options
from metrics.catalogue import Catalogue, Kpi
from metrics.composite import CompositeResult
from metrics.geography import PROVINCE, Geography
from metrics.rankings import Population
from metrics.schemes import ListRule, SchemeBook
from ui import auth, data, fmt, refusals, urlstate
from ui.html import md
from ui.i18n import t
from ui.maps import FONT

# -- colours (dark theme) -----------------------------------------------------------------------
NEW = "#38bdf8"  # 新: entered the ranking this period
TIER_COLOURS = ["#22c55e", "#38bdf8", "#f59e0b", "#f97316", "#ef4444"]
PALETTE = ["#38bdf8", "#f472b6", "#facc15", "#a3e635", "#c084fc", "#fb923c", "#2dd4bf", "#f87171", "#818cf8",
           "#e879f9", "#4ade80", "#fbbf24"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star", "hexagon", "cross"]
DASHES = ["solid", "dot", "dashdot", "longdash", "longdashdot"]
GRID, AXIS_TEXT, MEDIAN = "#1e3a5f", "#cbd5e1", "#e2e8f0"
LINK_TEXT = r"#n=(.*)$"  # LinkColumn display_text: the region name carried in the link's fragment
OTHER_STANDINGS = ("incomplete", "overdue", "pending", "nocase", "no_data")


# -- populations --------------------------------------------------------------------------------
def population_label(spec: str, geo: Geography, lang: str, on: dt.date) -> str:
    """The picker's label, with the head count so a reader knows the size of the race."""
    pop = Population.parse(spec, geo)
    if pop.kind == "counties":
        return t("rankings_pop_counties", lang, n=len(geo.counties))
    if pop.kind == "cities":
        return t("rankings_pop_cities", lang, n=len(geo.cities))
    if pop.kind == "townships":  # the count depends on the reader's scope: the caption gives it
        return t("rankings_pop_townships", lang)
    code = pop.code or ""
    if pop.kind == "city":
        return t("rankings_pop_city", lang, city=geo.get(code).name(lang), n=len(geo.counties_of(code)))
    return t("rankings_pop_group", lang, group=geo.get(code).name(lang), n=len(geo.members(code, on)))


def population_short(spec: str, geo: Geography, lang: str) -> str:
    """A short name for chart legends ("全省", "杭州市", "山区26县")."""
    pop = Population.parse(spec, geo)
    return t("province_scope", lang) if pop.code is None else geo.get(pop.code).name(lang)


def default_population(scope: str) -> str:
    """A city leader's page opens on their own counties."""
    return "counties" if scope == PROVINCE else f"city:{scope}"


def population_counties(spec: str, geo: Geography, on: dt.date) -> list[str]:
    """The counties of a county population (peer groups by their membership on `on`)."""
    pop = Population.parse(spec, geo)
    if pop.kind == "city":
        return geo.counties_of(pop.code or "")
    if pop.kind == "group":
        return geo.members(pop.code or "", on)
    return geo.counties


# -- small formatting helpers -------------------------------------------------------------------
def scale(k: Kpi) -> float:
    """Rates are stored as fractions and shown as percent."""
    return 100.0 if k.format == "percent" else 1.0


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


def region_link(code: str, level: str, name: str, params: dict[str, str], parent: str | None = None) -> str:
    """A relative link to the county profile (a township: its county's profile opened on the township,
    or a city's cockpit view), the name in the fragment."""
    if level == "township" and parent:
        q = {k: v for k, v in params.items() if k != "scope"} | {"county": parent, "township": code}
        page = "county"
    elif level == "county":
        q = {k: v for k, v in params.items() if k != "scope"} | {"county": code}
        page = "county"
    else:
        q = params | {"scope": code}
        page = "overview"
    return f"{page}?{urlencode(q)}#n={quote(name)}"


def change_colour(label: str) -> str:
    """Rank change colour: up green, down red, new sky blue, unchanged grey."""
    if label.startswith("▲"):
        return fmt.GOOD
    if label.startswith("▼"):
        return fmt.BAD
    if label in ("新", "new"):
        return NEW
    return fmt.FLAT


@dataclass
class Shaped:
    """A display frame plus text colours and number formats per column (applied by a pandas Styler).

    Numbers stay numbers (the analyst can sort by them); the Styler only decides how they read,
    and shows a missing value as "—" rather than st.dataframe's "None".
    """

    df: pd.DataFrame
    colours: dict[str, list[str]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)


def with_markers(sh: Shaped, labels: list[str], header: str, after: str) -> Shaped:
    """`sh` with a column of ◆ 批示 markers (one label per row, "" for none) after column `after`."""
    if not any(labels):
        return sh
    df = sh.df.copy()
    df.insert(list(df.columns).index(after) + 1, header, labels)
    return Shaped(df, {**sh.colours, header: ["#f59e0b"] * len(df)}, sh.formats)


# -- KPI league table ---------------------------------------------------------------------------
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


# -- composite evaluation -----------------------------------------------------------------------
def scheme_view(res: CompositeResult, cat: Catalogue, geo: Geography, lang: str, params: dict[str, str],
                level: str) -> tuple[Shaped, Shaped]:
    """Score/rank/tier of each scored region with the KPI that pulled it most up and down; then the unscored."""
    sc = res.scores
    name_col = "name_en" if lang == "en" else "name_zh"
    comp = res.components
    up_most: dict[str, str] = {}
    down_most: dict[str, str] = {}
    for region, g in comp.groupby("region"):
        g = g.sort_values("relative_contribution")
        lo, hi = g.iloc[0], g.iloc[-1]
        if hi["relative_contribution"] > 0:
            up_most[region] = f"{cat.kpi(hi['kpi']).name(lang)} {hi['relative_contribution']:+.1f}"
        if lo["relative_contribution"] < 0:
            down_most[region] = f"{cat.kpi(lo['kpi']).name(lang)} {lo['relative_contribution']:+.1f}"
    with_city = level == "county"
    scored = sc[sc["standing"] == "ranked"]
    out = pd.DataFrame({t("rank", lang): scored["rank"].astype("Int64").to_numpy()})
    out[t("rankings_change", lang)] = scored["rank_change_en" if lang == "en" else "rank_change_zh"].fillna("").to_numpy()
    out[t("region", lang)] = [region_link(r, level, n, params) for r, n in zip(scored["region"], scored[name_col],
                                                                               strict=True)]
    if with_city:
        out[t("rankings_city", lang)] = [geo.get(p).name(lang) if isinstance(p, str) else "" for p in scored["parent"]]
    out[t("rankings_score", lang)] = scored["score"].astype(float).to_numpy()
    # the score's own uncertainty (one standard error): tiers are never cut inside it
    out[t("rankings_score_se", lang)] = [f"±{x:.1f}" if fmt.is_num(x) else "" for x in scored["score_se"]]
    out[t("rankings_tier", lang)] = scored["tier_en" if lang == "en" else "tier_zh"].to_numpy()
    out[t("rankings_pulls_up", lang)] = [up_most.get(r, "") for r in scored["region"]]
    out[t("rankings_pulls_down", lang)] = [down_most.get(r, "") for r in scored["region"]]
    sep = "、" if lang == "zh" else ", "
    out[t("rankings_small_kpis", lang)] = [sep.join(cat.kpi(c).name(lang) for c in x) if isinstance(x, list) else ""
                                          for x in scored["small_sample_kpis"]]
    colours = {
        t("rankings_change", lang): [change_colour(x) for x in out[t("rankings_change", lang)]],
        t("rankings_tier", lang): [TIER_COLOURS[min(int(x) - 1, len(TIER_COLOURS) - 1)] for x in scored["tier"]],
        t("rankings_pulls_up", lang): [fmt.GOOD] * len(out),
        t("rankings_pulls_down", lang): [fmt.BAD] * len(out),
    }
    rest = sc[sc["standing"] != "ranked"]
    # small samples are scored and ranked among themselves (the rankings' rule), never tiered
    small = rest["standing"] == "small_sample"
    oth = pd.DataFrame({
        t("region", lang): [region_link(r, level, n, params) for r, n in zip(rest["region"], rest[name_col],
                                                                             strict=True)],
        t("rankings_standing", lang): rest["standing_en" if lang == "en" else "standing_zh"].to_numpy(),
        t("rankings_score", lang): [f"{s:.1f}（{t('rank', lang)} {int(r)}）" if lang == "zh" and ok else
                                    f"{s:.1f} (#{int(r)})" if ok else ""
                                    for s, r, ok in zip(rest["score"], rest["rank_small"], small, strict=True)],
        t("rankings_small_kpis", lang): [sep.join(cat.kpi(c).name(lang) for c in x) if isinstance(x, list) and ok
                                         else "" for x, ok in zip(rest["small_sample_kpis"], small, strict=True)],
        t("rankings_missing_kpis", lang): [sep.join(cat.kpi(c).name(lang) for c in x) if isinstance(x, list) else ""
                                            for x in rest["missing_kpis"]],
    })
    oth_col = {t("rankings_standing", lang): [fmt.STATUS_COLOURS["missing"]] * len(oth)}
    return Shaped(out, colours, {t("rankings_score", lang): "{:.1f}"}), Shaped(oth, oth_col)


def breakdown_frame(res: CompositeResult, region: str, cat: Catalogue, lang: str) -> pd.DataFrame:
    """The region's per-KPI contributions against the average, KPI names added (chart and download)."""
    b = res.breakdown(region)
    b.insert(2, "kpi_name", [cat.kpi(c).name(lang) for c in b["kpi"]])
    return b


def breakdown_figure(b: pd.DataFrame, cat: Catalogue, lang: str, height: int | None = None) -> go.Figure:
    """Horizontal bars: points above (green) or below (red) the average contribution, per KPI."""
    b = b.sort_values("relative_contribution")
    colours = [fmt.GOOD if v > 0 else fmt.BAD if v < 0 else fmt.FLAT for v in b["relative_contribution"]]
    hover = []
    for r in b.itertuples(index=False):
        k = cat.kpi(r.kpi)
        tgt = fmt.value(r.target, k, lang) if fmt.is_num(r.target) else t("no_target", lang)
        hover.append(
            f"<b>{r.kpi_name}</b><br>{t('value', lang)} {fmt.value(r.value, k, lang)} · {t('target', lang)} {tgt}<br>"
            f"{t('rankings_weight', lang)} {r.weight * 100:.0f}% · {t('rankings_normalised', lang)} {r.normalised:.3f}<br>"
            f"{t('rankings_contribution', lang)} {r.contribution:.2f} · {t('rankings_avg', lang)} "
            f"{r.peer_mean_contribution:.2f}"
        )
    fig = go.Figure(go.Bar(
        x=b["relative_contribution"], y=b["kpi_name"], orientation="h", marker_color=colours,
        text=[f"{v:+.2f}" for v in b["relative_contribution"]], textposition="outside", cliponaxis=False,
        textfont=dict(color=AXIS_TEXT), hovertext=hover, hoverinfo="text",
    ))
    fig.add_vline(x=0, line_color="#94a3b8", line_width=1)
    span = float(b["relative_contribution"].abs().max() or 1.0)
    _layout(fig, height or max(220, 34 * len(b) + 70))
    fig.update_layout(showlegend=False, bargap=0.35,
                      xaxis=dict(title=dict(text=t("rankings_rel_axis", lang), font=dict(size=12)),
                                 range=[-span * 1.35, span * 1.35], zeroline=False),
                      yaxis=dict(gridcolor="rgba(0,0,0,0)", automargin=True))
    return fig


def scheme_weights(res: CompositeResult, cat: Catalogue, lang: str) -> pd.DataFrame:
    """The scheme as the file defines it: KPIs, normalised weights and the targets in force."""
    w = res.scheme.weights
    return pd.DataFrame({
        t("kpi", lang): [cat.kpi(c).name(lang) for c in w],
        t("rankings_weight", lang): [f"{v * 100:.1f}%" for v in w.values()],
        t("target", lang): [
            fmt.value(cat.kpi(c).target_for(int(res.period[:4]))[0], cat.kpi(c), lang)
            if cat.kpi(c).target_for(int(res.period[:4])) else t("no_target", lang) for c in w
        ],
    })


def scheme_caption(res: CompositeResult, lang: str) -> str:
    """What the score means: description, normalisation, number of KPIs and how tiers are cut."""
    s = res.scheme
    desc = s.description_en if lang == "en" else s.description_zh
    tiers = s.tiers
    if tiers.method == "share":
        rule = t("rankings_tier_share", lang, cuts=" / ".join(f"{c * 100:.0f}%" for c in tiers.cuts))
    else:
        rule = t("rankings_tier_score", lang, cuts=" / ".join(f"{c:g}" for c in tiers.cuts))
    return t("rankings_scheme_caption", lang, desc=desc, norm=t(f"rankings_norm_{s.normalisation}", lang),
             n=len(s.kpis), tiers=rule)


# -- red and black lists ------------------------------------------------------------------------
def rule_title(r: ListRule, cat: Catalogue, book: SchemeBook, lang: str) -> str:
    """A list rule in words (e.g. 双月综合评价后5名), with the parameters in force."""
    if r.scheme:
        subject = book.scheme(r.scheme).name(lang)
    elif len(r.kpis) <= 2:
        subject = ("、" if lang == "zh" else ", ").join(cat.kpi(c).name(lang) for c in r.kpis)
    else:
        subject = t("rankings_n_kpis", lang, first=cat.kpi(r.kpis[0]).name(lang), n=len(r.kpis))
    return t(f"rankings_rule_{r.rule}", lang, subject=subject, n=r.n or 0, k=r.k or 0, m=r.m or 0)


def list_frame(entries: pd.DataFrame, geo: Geography, lang: str, params: dict[str, str]) -> pd.DataFrame:
    """One rule's entries: region (link), its city, why it is listed (the reason names the KPI or scheme)."""
    regions = [geo.get(r) for r in entries["region"]]
    return pd.DataFrame({
        t("region", lang): [region_link(r.code, r.level, r.name(lang), params) for r in regions],
        t("rankings_city", lang): [geo.get(r.parent_code).name(lang) if r.level == "county" and r.parent_code else ""
                                   for r in regions],
        t("rankings_reason", lang): entries["reason_en" if lang == "en" else "reason_zh"].to_numpy(),
    })


# -- county comparison --------------------------------------------------------------------------
def trends_indexed(tr: pd.DataFrame) -> pd.DataFrame:
    """Adds peer_median_index: the peer median indexed to 100 at each county's base month."""
    df = tr.copy()
    base = df[df["month"] == df["base_month"]].set_index(["kpi", "region"])["peer_median"]
    b = df.set_index(["kpi", "region"]).index.map(base.to_dict().get)
    df["peer_median_index"] = 100 * df["peer_median"] / pd.Series(b, index=df.index, dtype=float)
    return df


def colours_for(counties: Sequence[str]) -> dict[str, str]:
    """One colour per county, by selection order, the same on every chart of the workspace."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(counties)}


def _layout(fig: go.Figure, height: int) -> None:
    fig.update_layout(
        height=height, margin=dict(l=10, r=20, t=30, b=10), paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)", font=dict(family=FONT, color=AXIS_TEXT),
        hoverlabel=dict(font=dict(family=FONT, size=13), bgcolor="#0f1d33", bordercolor="#38bdf8"),
    )
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID)


def _legend_rows(n: int, per_row: int) -> int:
    return max(1, math.ceil(n / per_row))


def trend_figure(tr: pd.DataFrame, counties: Sequence[str], kpis: Sequence[str], cat: Catalogue, geo: Geography,
                 lang: str, indexed: bool, peers: str) -> go.Figure:
    """Indexed: every county x KPI on one panel (100 = first month). Absolute: one panel per KPI
    (units differ), sharing the month axis. Colour = county, marker = KPI, dashed = peer median."""
    colour = colours_for(counties)
    symbol = {k: SYMBOLS[i % len(SYMBOLS)] for i, k in enumerate(kpis)}
    med_label = t("rankings_peer_median", lang, peers=peers)
    hover = "%{x}: %{y:,.1f}<extra>%{fullData.name}</extra>"
    if indexed:
        df = trends_indexed(tr)
        fig = go.Figure()
        for c in counties:
            for j, k in enumerate(kpis):
                d = df[(df["kpi"] == k) & (df["region"] == c)].sort_values("month")
                fig.add_trace(go.Scatter(
                    x=d["month"], y=d["index_100"], mode="lines+markers", legendgroup=c, showlegend=j == 0,
                    name=geo.get(c).name(lang), line=dict(color=colour[c], width=2),
                    marker=dict(symbol=symbol[k], size=7), hovertemplate=f"{cat.kpi(k).name(lang)} · {hover}",
                ))
        for k in kpis:
            m = df[df["kpi"] == k].drop_duplicates("month").sort_values("month")
            fig.add_trace(go.Scatter(
                x=m["month"], y=m["peer_median_index"], mode="lines+markers", legendgroup="median",
                name=f"{med_label} · {cat.kpi(k).name(lang)}" if len(kpis) > 1 else med_label,
                line=dict(color=MEDIAN, width=1.4, dash="dash"), marker=dict(symbol=symbol[k], size=6), opacity=0.8,
                hovertemplate=hover,
            ))
        if len(kpis) > 1:  # a key for the markers: which symbol is which KPI
            for k in kpis:
                fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=cat.kpi(k).name(lang),
                                         marker=dict(symbol=symbol[k], size=8, color="#94a3b8"),
                                         legendgroup="kpis", hoverinfo="skip"))
        fig.add_hline(y=100, line_color="#64748b", line_width=1)
        n_legend = len(counties) + 2 * len(kpis)
        _layout(fig, 400 + 22 * _legend_rows(n_legend, 6))
        fig.update_layout(yaxis=dict(title=dict(text=t("rankings_index_axis", lang), font=dict(size=12))),
                          xaxis=dict(tickformat="%Y-%m"),
                          legend=dict(orientation="h", y=-0.08, yanchor="top", x=0, font=dict(size=12)))
        return fig
    fig = make_subplots(rows=len(kpis), cols=1, shared_xaxes=True, vertical_spacing=0.3 / len(kpis) if len(kpis) > 1
                        else 0, subplot_titles=[cat.kpi(k).name(lang) + (f" ({cat.kpi(k).unit(lang)})"
                                                                         if cat.kpi(k).format != "percent" else "")
                                                for k in kpis])
    for i, k in enumerate(kpis, start=1):
        kk = cat.kpi(k)
        s = scale(kk)
        for c in counties:
            d = tr[(tr["kpi"] == k) & (tr["region"] == c)].sort_values("month")
            fig.add_trace(go.Scatter(
                x=d["month"], y=d["value"] * s, mode="lines+markers", name=geo.get(c).name(lang),
                line=dict(color=colour[c], width=2), marker=dict(size=6), legendgroup=c, showlegend=i == 1,
                hovertemplate=hover,
            ), row=i, col=1)
        m = tr[tr["kpi"] == k].drop_duplicates("month").sort_values("month")
        fig.add_trace(go.Scatter(
            x=m["month"], y=m["peer_median"] * s, mode="lines", name=med_label,
            line=dict(color=MEDIAN, width=1.4, dash="dash"), legendgroup="median", showlegend=i == 1, opacity=0.8,
            hovertemplate=hover,
        ), row=i, col=1)
        fig.update_yaxes(ticksuffix="%" if kk.format == "percent" else "", row=i, col=1)
    fig.update_xaxes(tickformat="%Y-%m")
    _layout(fig, 200 * len(kpis) + 60 + 22 * _legend_rows(len(counties) + 1, 7))
    fig.update_annotations(font=dict(size=13, color=AXIS_TEXT), x=0, xanchor="left")
    fig.update_layout(legend=dict(orientation="h", y=-0.04, yanchor="top", x=0, font=dict(size=12)),
                      margin=dict(t=30))
    return fig


def better_percentile(pos: pd.DataFrame) -> pd.Series:
    """Percentile with 100 = best whatever the KPI's direction (the profile's common scale)."""
    return pos["percentile"].where(pos["direction"] == "up", 100 - pos["percentile"])


RADAR_MAX_COUNTIES = 6


def profile_figure(pos: pd.DataFrame, counties: Sequence[str], kpis: Sequence[str], cat: Catalogue, geo: Geography,
                   lang: str, peers: str) -> go.Figure:
    """Each county's direction-aware percentile per KPI against the peer median (50): a radar for three
    to eight KPIs and a few counties, otherwise one dot row per KPI (readable with a whole peer group)."""
    colour = colours_for(counties)
    df = pos.assign(better=better_percentile(pos))
    names = [cat.kpi(k).name(lang) for k in kpis]
    med = t("rankings_peer_median", lang, peers=peers)
    fig = go.Figure()
    if 3 <= len(kpis) <= 8 and len(counties) <= RADAR_MAX_COUNTIES:
        theta = names + names[:1]
        fig.add_trace(go.Scatterpolar(r=[50] * len(theta), theta=theta, mode="lines", name=med,
                                      line=dict(color=MEDIAN, dash="dash", width=1.6), hoverinfo="skip"))
        for c in counties:
            d = df[df["region"] == c].set_index("kpi").reindex(list(kpis))
            r = d["better"].tolist()
            fig.add_trace(go.Scatterpolar(
                r=r + r[:1], theta=theta, mode="lines+markers", name=geo.get(c).name(lang),
                line=dict(color=colour[c], width=2), fill="toself", opacity=0.8,
                hovertemplate="%{theta}: P%{r:.0f}<extra>%{fullData.name}</extra>",
            ))
        _layout(fig, 460)
        fig.update_layout(
            polar=dict(bgcolor="rgba(0,0,0,0)",
                       radialaxis=dict(range=[0, 100], tickvals=[25, 50, 75, 100], gridcolor=GRID, linecolor=GRID,
                                       tickfont=dict(size=10, color="#94a3b8"), angle=180 / len(kpis), tickangle=0),
                       angularaxis=dict(gridcolor=GRID, linecolor=GRID, tickfont=dict(size=12, color=AXIS_TEXT))),
            legend=dict(orientation="h", y=-0.06, yanchor="top", x=0), margin=dict(l=80, r=80, t=30, b=10),
        )
        return fig
    rng = np.random.default_rng(1)
    for c in counties:
        d = df[df["region"] == c].set_index("kpi").reindex(list(kpis))
        fig.add_trace(go.Scatter(
            x=d["better"], y=[i + rng.uniform(-0.12, 0.12) for i in range(len(kpis))], mode="markers",
            name=geo.get(c).name(lang), marker=dict(color=colour[c], size=12, symbol="diamond",
                                                    line=dict(color="#0b1426", width=1)),
            customdata=names, hovertemplate="%{customdata}: P%{x:.0f}<extra>%{fullData.name}</extra>",
        ))
    fig.add_vline(x=50, line_dash="dash", line_color=MEDIAN, annotation_text=med, annotation_font_color=MEDIAN,
                  annotation_position="top")
    _layout(fig, 90 * len(kpis) + 110 + 22 * _legend_rows(len(counties), 6))
    fig.update_layout(  # percentile ticks read P0..P100; the caption says 100 = best
        xaxis=dict(range=[-2, 102], tickvals=[0, 25, 50, 75, 100], tickprefix="P"),
        yaxis=dict(tickvals=list(range(len(kpis))), ticktext=names, range=[len(kpis) - 0.5, -0.5], automargin=True),
        legend=dict(orientation="h", y=-0.12 if len(kpis) < 3 else -0.06, yanchor="top", x=0), margin=dict(t=40),
    )
    return fig


def peer_values(bulk: pd.DataFrame, kpis: Sequence[str], peers: Sequence[str]) -> pd.DataFrame:
    """The peer distribution: complete, reported values only (nothing imputed), as in peer_position."""
    b = bulk[bulk["kpi"].isin(list(kpis)) & bulk["region"].isin(list(peers))]
    b = b[b["value"].notna() & b["complete"].astype(bool)]
    return b[["kpi", "region", "value"]].reset_index(drop=True)


def distribution_figure(values: pd.DataFrame, pos: pd.DataFrame, counties: Sequence[str], kpis: Sequence[str],
                        cat: Catalogue, geo: Geography, lang: str, peers: str) -> go.Figure:
    """One row per KPI: the peers as a box and grey points, the chosen counties as large coloured markers."""
    colour = colours_for(counties)
    fig = make_subplots(rows=len(kpis), cols=1, vertical_spacing=0.45 / len(kpis) if len(kpis) > 1 else 0,
                        subplot_titles=[cat.kpi(k).name(lang) + ("" if cat.kpi(k).direction == "up"
                                                                 else t("rankings_lower_better", lang))
                                        for k in kpis])
    rng = np.random.default_rng(0)
    for i, k in enumerate(kpis, start=1):
        kk = cat.kpi(k)
        s = scale(kk)
        v = values[values["kpi"] == k]
        fig.add_trace(go.Box(
            x=v["value"] * s, y=[0.0] * len(v), orientation="h", name=peers, boxpoints=False,
            line=dict(color="#64748b"), fillcolor="rgba(100,116,139,0.18)", showlegend=False, hoverinfo="skip",
            width=0.9,
        ), row=i, col=1)
        fig.add_trace(go.Scatter(
            x=v["value"] * s, y=rng.uniform(-0.3, 0.3, len(v)), mode="markers", showlegend=False,
            text=[geo.get(r).name(lang) for r in v["region"]], marker=dict(color="#94a3b8", size=5, opacity=0.7),
            name=peers, hovertemplate="%{text}: %{x:,.1f}<extra></extra>",
        ), row=i, col=1)
        for c in counties:
            r = pos[(pos["kpi"] == k) & (pos["region"] == c)]
            if r.empty or pd.isna(r["value"].iloc[0]):
                continue
            pct = r["percentile"].iloc[0]
            fig.add_trace(go.Scatter(
                x=[float(r["value"].iloc[0]) * s], y=[0.0], mode="markers", name=geo.get(c).name(lang),
                marker=dict(color=colour[c], size=15, symbol="diamond", line=dict(color="#0b1426", width=1.5)),
                legendgroup=c, showlegend=i == 1,
                hovertemplate=f"%{{fullData.name}}: %{{x:,.1f}} · P{pct:.0f}<extra></extra>",
            ), row=i, col=1)
        fig.update_xaxes(ticksuffix="%" if kk.format == "percent" else "", row=i, col=1)
        fig.update_yaxes(visible=False, range=[-0.6, 0.6], row=i, col=1)
    _layout(fig, 120 * len(kpis) + 50 + 22 * _legend_rows(len(counties), 7))
    fig.update_annotations(font=dict(size=13, color=AXIS_TEXT), x=0, xanchor="left")
    fig.update_layout(legend=dict(orientation="h", y=-0.06 if len(kpis) > 2 else -0.15, yanchor="top", x=0),
                      margin=dict(t=30))
    return fig


def z_table(pos: pd.DataFrame, counties: Sequence[str], kpis: Sequence[str], cat: Catalogue, geo: Geography,
            lang: str) -> Shaped:
    """Counties x KPIs of z-scores against the peers, signed so that positive is always better."""
    wide = pos.pivot_table(index="region", columns="kpi", values="z_better", dropna=False).reindex(
        index=list(counties), columns=list(kpis))
    out = pd.DataFrame({t("region", lang): [geo.get(c).name(lang) for c in counties]})
    colours: dict[str, list[str]] = {}

    def paint(vals: np.ndarray) -> list[str]:
        return [fmt.FLAT if np.isnan(v) else fmt.GOOD if v >= 0.5 else fmt.BAD if v <= -0.5 else AXIS_TEXT
                for v in vals]

    for k in kpis:
        col = cat.kpi(k).name(lang)
        vals = np.round(wide[k].astype(float).to_numpy(), 2) + 0.0  # no "-0.00"
        out[col], colours[col] = vals, paint(vals)
    col = t("rankings_z_mean", lang)
    mean = np.round(wide.mean(axis=1, skipna=True).to_numpy(dtype=float), 2) + 0.0
    out[col], colours[col] = mean, paint(mean)
    return Shaped(out, colours, {c: "{:+.2f}" for c in out.columns[1:]})


def parse_codes(raw: str | None, options: Sequence[str], expand: Callable[[str], list[str]] | None = None) -> list[str]:
    """Comma-separated codes from the URL; unknown codes dropped, a group or city expanded by `expand`."""
    if not raw:
        return []
    out: list[str] = []
    for item in (x.strip() for x in raw.split(",")):
        if item in options:
            out.append(item)
        elif item and expand is not None:
            out += [x for x in expand(item) if x in options]
    return list(dict.fromkeys(out))


# -- Streamlit helpers --------------------------------------------------------------------------
def multi_select(
    label: str, options: Sequence[str], key: str, default: Sequence[str], format_func: Callable[[Any], str] = str,
    expand: Callable[[str], list[str]] | None = None, **kw: Any,
) -> list[str]:
    """A multiselect bound to the URL parameter `key` as comma-separated codes (ui.urlstate's rule:
    the URL wins when it changed since this session wrote it; a value equal to the default is left out)."""
    raw = st.query_params.get(key)
    last = st.session_state.get(f"_url_{key}")
    if raw is not None and raw != last:
        st.session_state[key] = parse_codes(raw, options, expand)
    elif not isinstance(st.session_state.get(key), list):
        st.session_state[key] = [x for x in default if x in options]
    else:
        st.session_state[key] = [x for x in st.session_state[key] if x in options]
    value = st.multiselect(label, list(options), key=key, format_func=format_func, **kw)
    urlstate.write(key, ",".join(value), ",".join(x for x in default if x in options))
    return list(value)


def number_param(label: str, key: str, min_value: float = 0, step: float = 1, integer: bool = True,
                 max_value: float = 1_000_000, **kw: Any) -> float | int | None:
    """An optional number input bound to the URL parameter `key` (blank = as configured, left out).

    A URL value that is not a number within [min_value, max_value] is refused with a message and
    left out (never an exception: `inf` or `1e999` must not reach int())."""
    raw = st.query_params.get(key)
    last = st.session_state.get(f"_url_{key}")
    if raw is not None and raw != last:
        v = urlstate.parse_number(raw, min_value, max_value, integer)
        if v is None:
            lang = "en" if st.session_state.get("lang") == "en" else "zh"
            lo = f"{min_value:,.0f}" if float(min_value).is_integer() else f"{min_value:g}"
            st.warning(t("param_refused", lang, name=key, value=md(str(raw)[:40]), lo=lo, hi=f"{max_value:,.0f}"),
                       icon=":material/block:")
            del st.query_params[key]

            refusals.deny(auth.current_quiet(), f"{key}={str(raw)[:40]}", "number parameter out of range")
        st.session_state[key] = v
    elif key not in st.session_state:
        st.session_state[key] = None
    if integer:
        value = st.number_input(label, min_value=int(min_value), max_value=int(max_value), step=int(step), key=key,
                                format="%d", **kw)
    else:
        value = st.number_input(label, min_value=float(min_value), max_value=float(max_value), step=float(step),
                                key=key, **kw)
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
        st.session_state[f"_url_{key}"] = None
    else:
        s = str(int(value)) if integer else f"{value:g}"
        if st.query_params.get(key) != s:
            st.query_params[key] = s
        st.session_state[f"_url_{key}"] = s
    return value


def styled(sh: Shaped) -> Any:
    """The frame as a pandas Styler: text colours (status, change, tier) and number formats, "—" when missing.

    The columns it formats must not get a `format` in st.column_config (which would take precedence).
    """
    if sh.df.empty:
        return sh.df
    cols = {c: v for c, v in sh.colours.items() if c in sh.df.columns}

    def paint(col: pd.Series) -> list[str]:
        return [f"color: {c}" for c in cols[col.name]]

    sty = sh.df.style.format({c: f for c, f in sh.formats.items() if c in sh.df.columns}, na_rep="—")
    return sty.apply(paint, subset=list(cols)) if cols else sty


def league(kpi: str, period: str, pop: str, small: str, mind: float | None) -> pd.DataFrame:
    """The league table in the user's scope (the read boundary, cached per data version)."""
    return data.reader().league(kpi, period, pop, small, mind)


def scheme(code: str, period: str, pop: str) -> CompositeResult:
    """A scheme's scores and components in the user's scope."""
    return data.reader().scheme(code, period, pop)


def lists(period: str, n: int | None, k: int | None, m: int | None) -> pd.DataFrame:
    """The red and black lists with the page's N/K/M overrides, in the user's scope."""
    return data.reader().lists(period, n, k, m)


def trends(counties: list[str], kpis: list[str], period: str, peers: str) -> pd.DataFrame:
    """The counties' 12-month trends beside their peers' median (over in-scope peers for a scoped user)."""
    return data.reader().comparison(counties, kpis, period, peers)


def position(counties: list[str], kpis: list[str], period: str, peers: str) -> pd.DataFrame:
    """Each county's place among its peers (statistics over in-scope peers for a scoped user)."""
    return data.reader().position(counties, kpis, period, peers)
