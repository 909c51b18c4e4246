"""What the system dashboards show, as plain frames and Plotly figures (no Streamlit here).

Every chart is drawn from one tidy frame and that same frame is what "the numbers behind this
chart" downloads, so the file and the picture cannot disagree (tests compare them). The drill
(province → city → county) is a value object resolved from the URL; the frames filter the
engine's bulk rows by it. Catalogue-driven: nothing here names a system or a KPI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from metrics.catalogue import Catalogue, Kpi
from metrics.geography import PROVINCE, Geography
from metrics.periods import Period
from ui import fmt
from ui.chart_style import count_ticks
from ui.i18n import t
from ui.tiles import pace_text, paced, row_of, sources, target_text

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
GRID = "#1e3a5f"
TEXT = "#e2e8f0"
MUTED = "#94a3b8"
ACCENT = "#38bdf8"  # the selected region(s)
PEER = "#f59e0b"  # the 山区 peer group
OTHER = "#64748b"
PALETTE = [ACCENT, "#f472b6", "#a3e635", "#c084fc", "#facc15"]


# -- the drill ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Drill:
    """Where the analyst stands: the province, a city or a county (within the leader's scope)."""

    region: str
    level: str  # province | city | county
    city: str | None
    county: str | None
    root: str  # the top of the breadcrumb: the province, or the city of a city-scoped view
    path: tuple[str, ...] = field(default=())  # breadcrumb codes from the root down to region

    @property
    def child_level(self) -> str | None:
        return {"province": "city", "city": "county"}.get(self.level)


def resolve_drill(geo: Geography, scope: str, city: str | None, county: str | None) -> Drill:
    """The drill from the URL's city=/county= parameters; unknown or out-of-scope codes are ignored."""
    root = scope if scope in geo.regions and geo.get(scope).level == "city" else PROVINCE
    if county and county in geo.regions and geo.get(county).level == "county":
        c = geo.city_of(county)
        if root == PROVINCE or c == root:
            path = (PROVINCE, c, county) if root == PROVINCE else (c, county)
            return Drill(county, "county", c, county, root, path)
    if root != PROVINCE:
        return Drill(root, "city", root, None, root, (root,))
    if city and city in geo.regions and geo.get(city).level == "city":
        return Drill(city, "city", city, None, root, (PROVINCE, city))
    return Drill(PROVINCE, "province", None, None, root, (PROVINCE,))


def drill_params(geo: Geography, region: str) -> dict[str, str | None]:
    """The URL parameters that put the drill on `region` (None removes a parameter)."""
    if region == PROVINCE:
        return {"city": None, "county": None}
    r = geo.get(region)
    if r.level == "city":
        return {"city": region, "county": None}
    return {"city": geo.city_of(region), "county": region}


def region_name(geo: Geography, code: str, lang: str) -> str:
    return t("province_scope", lang) if code == PROVINCE else geo.get(code).name(lang)


def breakdown_regions(geo: Geography, drill: Drill) -> list[str]:
    """The bars of the breakdown: cities at the province, a city's counties below it."""
    if drill.level == "province":
        return geo.cities
    return geo.counties_of(drill.city or drill.region)


def comparison_regions(geo: Geography, drill: Drill, kpi: Kpi) -> list[str]:
    """Trend lines: the region, then (for rates, which compare across levels) its parents."""
    if kpi.format != "percent":
        return [drill.region]
    if drill.level == "county":
        return [drill.region, drill.city or "", PROVINCE]
    if drill.level == "city":
        return [drill.region, PROVINCE]
    return [PROVINCE]


def peer_group(geo: Geography, on: dt.date) -> str | None:
    """The 山区 peer group valid on the date (山区26县 until 2024-07, then 山区海岛25县)."""
    for g in geo.groups:
        if geo.group_valid_on(g, on):
            return g
    return None


def province_only(kpi: Kpi, cat: Catalogue) -> bool:
    return cat.measure(kpi.measures[0]).level == "province"


# -- frames ------------------------------------------------------------------------------------
def _scale(kpi: Kpi) -> float:
    return 100.0 if kpi.format == "percent" else 1.0


def _num(x: object) -> float | None:
    return float(x) if fmt.is_num(x) else None


def overview_frame(bulk: pd.DataFrame, cat: Catalogue, geo: Geography, system: str, drill: Drill, lang: str,
                   trend: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per KPI of the system at the drill region (county: beside its city and the province)."""
    rows = []
    for k in cat.kpis_of(system):
        r = row_of(bulk, k.code, drill.region)
        row = {"code": k.code, "status": str(r["status"]) if r is not None else "missing",
               t("kpi", lang): k.name(lang),
               t("value", lang): fmt.value(r["value"], k, lang) if r is not None else "—",
               t("target", lang): (target_text(r, k, lang, short=True) if r is not None and paced(r)
                                   else fmt.value(r["target"], k, lang) if r is not None and fmt.is_num(r["target"])
                                   else t("no_target", lang)),
               t("attainment", lang): (fmt.percent(r["attainment"], 1)
                                       if r is not None and fmt.is_num(r["target"]) else "—"),
               t("status", lang): "",
               t("change_mom", lang): fmt.change(r["change_prev"], k, lang) if r is not None else "—"}
        if drill.level != "province":
            rank = "—"
            if r is not None and fmt.is_num(r["rank"]):
                rank = f"{int(r['rank'])}/{int(r['rank_of'])}"
            row[t("rank", lang)] = rank
        if drill.level == "county":
            for code, label in ((drill.city, t("city_value", lang)), (PROVINCE, t("province_value", lang))):
                cr = row_of(bulk, k.code, code) if code else None
                row[label] = fmt.value(cr["value"], k, lang) if cr is not None else "—"
        if trend is not None and not trend.empty:
            tr = trend[(trend["kpi"] == k.code) & (trend["region"] == drill.region)].sort_values("month")
            row[t("sparkline", lang)] = [float(v) * _scale(k) for v in tr["value"] if not pd.isna(v)]
        rows.append(row)
    return pd.DataFrame(rows)


def target_for_month(kpi: Kpi, region: str, month: dt.date) -> float | None:
    """The target in force in a month for the region (count targets are the province's only)."""
    if not kpi.targets_everywhere and region != PROVINCE:
        return None
    hit = kpi.target_for(month.year)
    return hit[0] if hit else None


def trend_frame(trend: pd.DataFrame, kpi: Kpi, regions: list[str], geo: Geography, lang: str) -> pd.DataFrame:
    """Monthly values of the regions, with the target in force each month (the chart's lines)."""
    rows = []
    for reg in regions:
        d = trend[(trend["kpi"] == kpi.code) & (trend["region"] == reg)].sort_values("month")
        for m, v, n, den in zip(d["month"], d["value"], d["numerator"], d["denominator"], strict=True):
            rows.append({"month": f"{m:%Y-%m}", "region": reg, "name": region_name(geo, reg, lang),
                         "value": _num(v), "numerator": _num(n), "denominator": _num(den),
                         "target": target_for_month(kpi, reg, m)})
    return pd.DataFrame(rows, columns=["month", "region", "name", "value", "numerator", "denominator", "target"])


def breakdown_frame(bulk: pd.DataFrame, kpi: Kpi, geo: Geography, drill: Drill, lang: str) -> pd.DataFrame:
    """The child regions (cities, or a city's counties) for one KPI, best first."""
    regions = breakdown_regions(geo, drill)
    rows = bulk[(bulk["kpi"] == kpi.code) & bulk["region"].isin(regions)]
    out = pd.DataFrame({
        "region": rows["region"].to_numpy(),
        "name": [region_name(geo, r, lang) for r in rows["region"]],
        "value": rows["value"].to_numpy(dtype=float),
        "numerator": rows["numerator"].to_numpy(dtype=float),
        "denominator": rows["denominator"].to_numpy(dtype=float),
        "target": rows["target"].to_numpy(dtype=float),
        "status": rows["status"].astype(str).to_numpy(),
        "rank": rows["rank"].to_numpy(dtype=float),
        "rank_of": rows["rank_of"].to_numpy(dtype=float),
        "change_prev": rows["change_prev"].to_numpy(dtype=float),
        "n_reported": rows["n_reported"].to_numpy(), "n_expected": rows["n_expected"].to_numpy(),
        "as_of": rows["as_of"].to_numpy(),
        "selected": (rows["region"] == drill.county).to_numpy() if drill.county else False,
    })
    key = -out["value"] if kpi.direction == "up" else out["value"]
    return out.assign(_k=key).sort_values(["_k", "region"], na_position="last").drop(columns="_k").reset_index(drop=True)


def distribution_frame(bulk: pd.DataFrame, kpi: Kpi, geo: Geography, drill: Drill, period: Period,
                       lang: str) -> pd.DataFrame:
    """The counties of the bulk (the reader's scope) for one KPI; flags: in the drill selection, in the 山区
    peer group."""
    group = peer_group(geo, period.end)
    peers = set(geo.members(group, period.end)) if group else set()
    if drill.level == "county":
        chosen = {drill.region}
    elif drill.level == "city":
        chosen = set(geo.counties_of(drill.region))
    else:
        chosen = set()
    rows = bulk[(bulk["kpi"] == kpi.code) & (bulk["level"] == "county")].sort_values("region")
    return pd.DataFrame({
        "region": rows["region"].to_numpy(),
        "name": [geo.get(r).name(lang) for r in rows["region"]],
        "city": [geo.get(geo.city_of(r)).name(lang) for r in rows["region"]],
        "value": rows["value"].to_numpy(dtype=float),
        "status": rows["status"].astype(str).to_numpy(),
        "rank": rows["rank"].to_numpy(dtype=float),
        "selected": rows["region"].isin(chosen).to_numpy(),
        "peer_group": rows["region"].isin(peers).to_numpy(),
    })


# -- figures -----------------------------------------------------------------------------------
def _layout(fig: go.Figure, kpi: Kpi, height: int, **kw) -> go.Figure:
    fig.update_layout(
        height=height, margin=dict(l=8, r=8, t=28, b=8), paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)", font=dict(family=FONT, color=TEXT, size=12),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=11)),
        hoverlabel=dict(font=dict(family=FONT, size=12), bgcolor="#0f1d33", bordercolor=ACCENT),
        **kw,
    )
    suffix = "%" if kpi.format == "percent" else ""
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, ticksuffix=suffix)
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID)
    return fig


def trend_figure(frame: pd.DataFrame, kpi: Kpi, lang: str, height: int = 300) -> go.Figure:
    """Lines per region (the first bold) and the target in force each month as a dashed step."""
    fig = go.Figure()
    s = _scale(kpi)
    regions = list(dict.fromkeys(frame["region"]))
    for i, reg in enumerate(regions):
        d = frame[frame["region"] == reg]
        fig.add_trace(go.Scatter(
            x=d["month"], y=[None if v is None or pd.isna(v) else v * s for v in d["value"]],
            name=str(d["name"].iat[0]), mode="lines+markers", customdata=d["region"],
            line=dict(width=3 if i == 0 else 1.6, color=PALETTE[i % len(PALETTE)]), marker=dict(size=5 if i else 7),
        ))
    own = frame[frame["region"] == regions[0]] if regions else frame
    if len(own) and own["target"].notna().any():
        fig.add_trace(go.Scatter(
            x=own["month"], y=[None if v is None or pd.isna(v) else v * s for v in own["target"]],
            name=t("target", lang), mode="lines", line=dict(dash="dash", color=MUTED, width=1.6, shape="hv"),
        ))
    _layout(fig, kpi, height)
    fig.update_xaxes(type="category")
    if kpi.format != "percent":
        count_ticks(fig, lang, "y")
    return fig


def bar_figure(frame: pd.DataFrame, kpi: Kpi, lang: str, parent_value: float | None = None,
               parent_label: str = "", height: int = 300) -> go.Figure:
    """Child regions as bars coloured by status; the selected one outlined; target and parent lines."""
    s = _scale(kpi)
    colours = [fmt.STATUS_COLOURS.get(st, OTHER) if st in ("green", "amber", "red") else ACCENT
               for st in frame["status"]]
    sel = frame["selected"].astype(bool).tolist() if len(frame) else []
    text = [fmt.number(v, kpi, lang) for v in frame["value"]]
    labels = len(frame) <= 11  # values on the bars while they fit; always in the hover
    fig = go.Figure(go.Bar(
        x=frame["name"], y=[None if pd.isna(v) else v * s for v in frame["value"]], customdata=frame["region"],
        marker=dict(color=colours, line=dict(color=["#f8fafc" if x else "rgba(0,0,0,0)" for x in sel],
                                             width=[3 if x else 0 for x in sel])),
        text=text, textposition="outside" if labels else "none", cliponaxis=False, textfont=dict(size=10, color=TEXT),
        hovertemplate="%{x}: %{text}<extra></extra>", name=kpi.name(lang), showlegend=False,
    ))
    tgt = frame["target"].dropna()
    if len(tgt) and tgt.nunique() == 1:
        fig.add_hline(y=float(tgt.iat[0]) * s, line_dash="dash", line_color=MUTED,
                      annotation_text=t("target", lang), annotation_font_color=MUTED, annotation_position="top left")
    if parent_value is not None:
        fig.add_hline(y=parent_value * s, line_dash="dot", line_color=ACCENT,
                      annotation_text=parent_label, annotation_font_color=ACCENT, annotation_position="bottom right")
    vals = [v * s for v in frame["value"] if not pd.isna(v)]
    if kpi.format == "percent" and vals:  # rates near 100%: start the axis where the bars differ
        lo = min(vals + ([float(tgt.min()) * s] if len(tgt) else []))
        hi = max(vals + ([float(tgt.max()) * s] if len(tgt) else []))
        pad = max((hi - lo) * 0.25, 0.5)
        fig.update_yaxes(range=[max(0.0, lo - pad), min(100.0 + pad, hi + pad)])
    _layout(fig, kpi, height, clickmode="event+select", dragmode=False)
    fig.update_xaxes(tickangle=-40 if len(frame) > 8 else 0)
    if kpi.format != "percent":
        count_ticks(fig, lang, "y")
    return fig


def _jitter(codes: pd.Series) -> np.ndarray:
    """A stable vertical offset per county (the same dot in the same place on every run)."""
    return np.array([(int(c) * 7919 % 1000) / 1000 - 0.5 for c in codes]) * 0.7


STRIP_LABELS_MAX = 6  # names printed beside the selected dots up to this many; more would overlap (hover has them)


def strip_figure(frame: pd.DataFrame, kpi: Kpi, lang: str, group_name: str, selected_label: str,
                 target: float | None = None, height: int = 260) -> go.Figure:
    """The counties of the frame (the reader's scope) as dots on one axis (box behind): selected and 山区
    highlighted; the selected ones named while there are few enough for the names not to overlap."""
    s = _scale(kpi)
    d = frame[frame["value"].notna()]
    y = _jitter(d["region"])
    fig = go.Figure(go.Box(
        x=d["value"] * s, y=np.zeros(len(d)), orientation="h", boxpoints=False, fillcolor="rgba(56,189,248,0.06)",
        line=dict(color="#334155", width=1), name=t("sys_all_counties", lang), hoverinfo="skip", showlegend=False,
        width=1.3,
    ))
    groups = [
        (~d["selected"] & ~d["peer_group"], OTHER, 7, t("sys_other_counties", lang)),
        (~d["selected"] & d["peer_group"], PEER, 8, group_name),
        (d["selected"].astype(bool), ACCENT, 11, selected_label),
    ]
    for mask, colour, size, label in groups:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            continue
        sub = d[mask]
        fig.add_trace(go.Scatter(
            x=sub["value"] * s, y=y[mask], mode="markers" + ("+text" if colour == ACCENT and len(sub) <= STRIP_LABELS_MAX else ""),
            text=sub["name"], textposition="top center", textfont=dict(size=10, color=ACCENT),
            marker=dict(color=colour, size=size, line=dict(color="#0b1426", width=1)), name=label,
            customdata=sub["region"],
            hovertext=[f"{n} · {c}: {fmt.number(v, kpi, lang)}" for n, c, v in zip(sub["name"], sub["city"], sub["value"],
                                                                                   strict=True)],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
    if target is not None:
        fig.add_vline(x=target * s, line_dash="dash", line_color=MUTED, annotation_text=t("target", lang),
                      annotation_font_color=MUTED)
    _layout(fig, kpi, height, clickmode="event+select", dragmode=False)
    fig.update_yaxes(visible=False, range=[-0.75, 0.75])
    fig.update_xaxes(ticksuffix="%" if kpi.format == "percent" else "")
    if kpi.format != "percent":
        count_ticks(fig, lang, "x")
    return fig


# -- definitions -------------------------------------------------------------------------------
AGG_KEYS = {"sum": "sys_agg_sum", "mean_daily": "sys_agg_mean_daily", "last": "sys_agg_last"}


def formula(kpi: Kpi, cat: Catalogue, lang: str) -> str:
    def name(m: str | None) -> str:
        meas = cat.measure(m or "")
        return meas.name_en if lang == "en" else meas.name_zh

    if kpi.kind == "ratio":
        return f"{name(kpi.numerator)} ÷ {name(kpi.denominator)}"
    if kpi.kind == "yoy_growth":
        return t("sys_formula_yoy", lang, measure=name(kpi.measure))
    return name(kpi.measure)


def judging_rule(kpi: Kpi, row: pd.Series | None, lang: str) -> str:
    """How the target is applied during the year: annual for rates, 序时 for counts (and where it stands)."""
    if not kpi.targets:
        return "—"
    rule = kpi.pacing_rule
    if rule is None:
        return t("judging_rate", lang)
    txt = t("judging_linear" if rule.method == "linear" else "judging_profile", lang)
    note = rule.note_en if lang == "en" else rule.note_zh
    if note:
        txt += f"（{note}）" if lang == "zh" else f" ({note})"
    if row is not None and paced(row):
        txt += " · " + target_text(row, kpi, lang, short=True) + " · " + pace_text(row, kpi, lang).split(" · ")[0]
    return txt


def definition_rows(kpi: Kpi, cat: Catalogue, row: pd.Series | None, lang: str) -> list[tuple[str, str]]:
    """The definitions panel: formula, basis, unit, aggregation, source, owner, targets, as-of."""
    basis = t(f"sys_basis_{kpi.basis}", lang) if kpi.basis else "—"
    aggs = ("；" if lang == "zh" else "; ").join(f"{cat.measure(m).name_en if lang == 'en' else cat.measure(m).name_zh}: "
                    f"{t(AGG_KEYS[cat.measure(m).aggregation], lang)}" for m in kpi.measures)
    targets = []
    for tg in sorted(kpi.targets, key=lambda x: x.year):
        note = tg.note_en if lang == "en" else tg.note_zh
        targets.append(f"{tg.year}: {fmt.value(tg.value, kpi, lang, short=False)} "
                       f"({tg.kind_label(lang)}{'，' + note if note and lang == 'zh' else ''}"
                       f"{'; ' + note if note and lang == 'en' else ''})")
    scope = t("sys_target_scope_all", lang) if kpi.targets_everywhere else t("sys_target_scope_province", lang)
    rows = [
        (t("sys_def_formula", lang), formula(kpi, cat, lang)),
        (t("definition", lang), kpi.definition(lang)),
        (t("sys_def_basis", lang), basis),
        (t("sys_def_unit", lang), kpi.unit(lang)),
        (t("sys_def_aggregation", lang), aggs),
        (t("sys_def_direction", lang), t(f"sys_dir_{kpi.direction}", lang)),
        (t("sys_def_frequency", lang), t(f"sys_freq_{kpi.frequency}", lang)),
        (t("source", lang), sources(cat, kpi, lang)),
        (t("owner", lang), kpi.owner_en if lang == "en" else kpi.owner_zh),
        (t("sys_def_targets", lang), ("；" if lang == "zh" else "; ").join(targets) + f" · {scope}" if targets
         else t("no_target", lang)),
        (t("target_judging", lang), judging_rule(kpi, row, lang)),
        (t("as_of", lang), fmt.text(row["as_of"]) if row is not None else "—"),
    ]
    if kpi.min_denominator:
        rows.append((t("sys_def_min_den", lang), f"{kpi.min_denominator:g}"))
    return rows


# -- downloads ---------------------------------------------------------------------------------
DOWNLOAD_COLUMNS = ("month", "region", "name", "city", "value", "numerator", "denominator", "target", "status",
                    "rank", "rank_of", "change_prev", "selected", "peer_group", "n_reported", "n_expected", "as_of")


def for_download(frame: pd.DataFrame, kpi: Kpi, lang: str) -> pd.DataFrame:
    """The chart's frame with a KPI column in front and headers in the reader's language.

    Values stay as stored (rates as fractions, e.g. 0.853) so a spreadsheet can recompute them."""
    out = frame.copy()
    out.insert(0, "kpi", kpi.code)
    out.insert(1, "kpi_name", kpi.name(lang))
    out.insert(2, "unit", kpi.unit(lang))
    names = {c: t(f"sys_col_{c}", lang) for c in ("kpi", "kpi_name", "unit", *DOWNLOAD_COLUMNS) if c in out.columns}
    return out.rename(columns=names)
