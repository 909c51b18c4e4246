"""Major applications on the system pages: the register and league table (data platform) and the
rollout matrix counties × apps (party-led system). Figures come from metrics.apps; every chart
downloads the frame it was drawn from."""

from __future__ import annotations

import html as _html
from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics import apps as ma
from ui import data, downloads, fmt
from ui import system_model as sm
from ui.chart_style import chart_name, plot
from ui.dash_widgets import chart_title, on_chart_pick, on_row_pick, status_table
from ui.i18n import t
from ui.shell import Ctx

STATE_COLOURS = {"live": "#22c55e", "in_progress": "#f59e0b", "not_started": "#334155"}
STATE_Z = {"not_started": 0, "in_progress": 1, "live": 2, "not_applicable": float("nan")}  # n/a: a blank cell
RATE_COLOURS = {"activity_rate": "#38bdf8", "real_activity_rate": "#a3e635", "satisfaction_rate": "#f472b6"}


def _app_name(reg: pd.DataFrame, lang: str) -> dict[str, str]:
    return dict(zip(reg["code"], reg["name_en" if lang == "en" else "name_zh"], strict=True))


def _system_name(code: str, lang: str) -> str:
    s = data.engine().catalogue.system(code)
    return s.short_en if lang == "en" else s.short_zh


# -- league --------------------------------------------------------------------------------------
def league_frame(league: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The chart's and the download's frame: one row per app, rates as fractions, ranks."""
    cols = ["rank", "app_code", "name_zh" if lang == "zh" else "name_en", "system_code", "owner_zh" if lang == "zh"
            else "owner_en", *ma.STOCKS, *ma.FLOWS, *ma.RATES, *[f"rank_{r}" for r in ma.RATES]]
    return league[cols].rename(columns={"name_zh": "name", "name_en": "name", "owner_zh": "owner", "owner_en": "owner"})


def league_figure(frame: pd.DataFrame, lang: str, height: int | None = None) -> go.Figure:
    """Three dots per app (活跃率, 实活率, 满意率), apps in league order, best at the top."""
    fig = go.Figure()
    names = [f"{int(r)}. {n}" if fmt.is_num(r) else n for r, n in zip(frame["rank"], frame["name"], strict=True)]
    for rate, colour in RATE_COLOURS.items():
        fig.add_trace(go.Scatter(
            x=frame[rate] * 100, y=names, mode="markers", name=t(f"sys_{rate}", lang), customdata=frame["app_code"],
            marker=dict(color=colour, size=10, line=dict(color="#0b1426", width=1)),
            hovertemplate="%{y}: %{x:.1f}%<extra>" + t(f"sys_{rate}", lang) + "</extra>",
        ))
    fig.update_layout(
        height=height or 28 * len(frame) + 90, margin=dict(l=8, r=8, t=30, b=8), paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)", font=dict(family=sm.FONT, color=sm.TEXT, size=12),
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0), dragmode=False,
    )
    fig.update_xaxes(gridcolor=sm.GRID, ticksuffix="%", range=[0, 101])
    fig.update_yaxes(autorange="reversed", gridcolor=sm.GRID)
    return fig


def apps_section(ctx: Ctx, drill: sm.Drill) -> None:
    """Register and league table of the major apps at the drill's city (usage is kept by city)."""
    lang, read = ctx.lang, data.reader()
    geo = read.geo
    reg = read.apps_register()
    if reg.empty:
        st.info(t("sys_no_apps", lang))
        return
    city = drill.city
    league = read.apps_league(ctx.period, city)
    where = sm.region_name(geo, city or drill.region, lang)
    frame = league_frame(league, lang)
    tot = ma.league_totals(league)
    st.html('<div class="sd-sys">' + _html.escape(t(
        "sys_apps_totals", lang, region=where, n=len(league),
        act=fmt.percent(tot["activity_rate"], 1), real=fmt.percent(tot["real_activity_rate"], 1),
        sat=fmt.percent(tot["satisfaction_rate"], 1))) + "</div>")
    if drill.level == "county":
        st.caption(t("sys_apps_by_city", lang, city=where))
    left, right = st.columns([3, 2], gap="medium")
    stem = f"{t('dl_file_apps', lang)}_{where}_{ctx.period.label}"
    with left:
        chart_title(t("sys_league_title", lang, region=where))
        if frame[list(ma.RATES)].notna().any().any():
            plot(league_figure(frame, lang), chart_name(t("sys_league_title", lang, region=where), ctx.period.label),
                 width="stretch", key=f"league_{city}")
        else:
            st.caption(t("sys_no_data", lang))
        downloads.buttons(frame, f"{stem}_{t('dl_file_league', lang)}", lang, "dl_league")
    with right:
        chart_title(t("sys_league_table", lang))
        table = pd.DataFrame({
            t("rank", lang): [f"{int(r)}" if fmt.is_num(r) else "—" for r in frame["rank"]],
            t("sys_app", lang): frame["name"],
            t("system", lang): [_system_name(s, lang) for s in frame["system_code"]],
            t("sys_activity_rate", lang): [fmt.percent(v, 1) for v in frame["activity_rate"]],
            t("sys_real_activity_rate", lang): [fmt.percent(v, 1) for v in frame["real_activity_rate"]],
            t("sys_satisfaction_rate", lang): [fmt.percent(v, 1) for v in frame["satisfaction_rate"]],
            t("sys_users_authorised", lang): [f"{int(v):,}" for v in frame["users_authorised"]],
        })
        st.dataframe(table, hide_index=True, width="stretch", height=460)
        st.caption(t("sys_league_rule", lang))
        chart_title(t("sys_register_title", lang, n=len(reg)))
        regt = pd.DataFrame({
            t("sys_app", lang): reg["name_en" if lang == "en" else "name_zh"],
            t("system", lang): [_system_name(s, lang) for s in reg["system_code"]],
            t("owner", lang): reg["owner_en" if lang == "en" else "owner_zh"],
            t("sys_launch_date", lang): [str(d) for d in reg["launch_date"]],
        })
        st.dataframe(regt, hide_index=True, width="stretch", height=260)
        downloads.buttons(reg, f"{t('dl_file_apps', lang)}_{t('dl_file_register', lang)}_{ctx.period.label}", lang, "dl_register")


# -- rollout -------------------------------------------------------------------------------------
def matrix_frame(matrix: pd.DataFrame, summary: pd.DataFrame, counties: list[str], reg: pd.DataFrame,
                 lang: str) -> pd.DataFrame:
    """Counties (in rank order) × apps with the state label, plus live/required/rate/rank (download)."""
    geo = data.engine().geo
    s = summary[summary["level"] == "county"].set_index("region").loc[counties]
    s = s.sort_values(["rank", "region"])
    names = _app_name(reg, lang)
    order = (matrix == "live").sum(axis=0).sort_values(ascending=False, kind="stable").index  # most rolled-out first
    wide = matrix.loc[s.index, order].rename(columns=names)
    wide = wide.apply(lambda col: col.map(lambda x: t(f"sys_state_{x}", lang)))
    out = pd.DataFrame({"region": s.index, "name": [geo.get(c).name(lang) for c in s.index],
                        "live": s["live"].to_numpy(), "in_progress": s["in_progress"].to_numpy(),
                        "required": s["required"].to_numpy(), "rate": s["rate"].to_numpy(),
                        "rank": s["rank"].to_numpy(), "rank_of": s["rank_of"].to_numpy()})
    return pd.concat([out.reset_index(drop=True), wide.reset_index(drop=True)], axis=1)


def matrix_figure(frame: pd.DataFrame, reg: pd.DataFrame, lang: str, selected: str | None) -> go.Figure:
    """Heatmap counties × apps: green live, amber in progress, dark not started; click → county."""
    names = [c for c in frame.columns if c in set(_app_name(reg, lang).values())]
    keys = {t(f"sys_state_{s}", lang): s for s in STATE_Z}
    labels = frame[names] if len(frame) else pd.DataFrame(columns=names)
    z = labels.apply(lambda col: col.map(lambda v: STATE_Z[keys[v]])).to_numpy(dtype=float)
    ylab = [f"{'▶ ' if r == selected else ''}{n} {fmt.percent(v, 0)}" for r, n, v in
            zip(frame["region"], frame["name"], frame["rate"], strict=True)]
    scale = [[0, STATE_COLOURS["not_started"]], [0.33, STATE_COLOURS["not_started"]],
             [0.34, STATE_COLOURS["in_progress"]], [0.66, STATE_COLOURS["in_progress"]],
             [0.67, STATE_COLOURS["live"]], [1, STATE_COLOURS["live"]]]
    custom = np.repeat(frame["region"].to_numpy()[:, None], len(names), axis=1)
    text = labels.to_numpy()
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=ylab, zmin=0, zmax=2, colorscale=scale, showscale=False, xgap=1, ygap=1,
        customdata=custom, text=text, hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
    ))
    fig.update_layout(
        height=(24 if len(frame) <= 20 else 17) * len(frame) + 170, margin=dict(l=8, r=8, t=8, b=8), paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)", font=dict(family=sm.FONT, color=sm.TEXT, size=11), dragmode=False,
        clickmode="event+select",
    )
    fig.update_xaxes(side="top", tickangle=-50, tickfont=dict(size=10))
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=10))
    return fig


def rollout_section(ctx: Ctx, drill: sm.Drill) -> None:
    """贯通: the counties of the drill (all 90 at the province) × the 31 apps, with rate and rank."""
    lang, read = ctx.lang, data.reader()
    geo = read.geo
    reg = read.apps_register()
    if reg.empty:
        st.info(t("sys_no_apps", lang))
        return
    matrix, summary = read.apps_rollout(ctx.period)
    counties = geo.counties if drill.level == "province" else geo.counties_of(drill.city or "")
    frame = matrix_frame(matrix, summary, counties, reg, lang)
    here = summary.set_index("region").loc[drill.region]
    where = sm.region_name(geo, drill.region, lang)
    rank = (t("sys_rollout_rank", lang, rank=int(here["rank"]), of=int(here["rank_of"]))
            if fmt.is_num(here["rank"]) else "")
    st.html('<div class="sd-sys">' + _html.escape(t(
        "sys_rollout_totals", lang, region=where, live=int(here["live"]), required=int(here["required"]),
        rate=fmt.percent(here["rate"], 1), rank=rank)) + "</div>")
    left, right = st.columns([3, 1], gap="medium")
    stem = f"{t('dl_file_apps', lang)}_{t('dl_file_rollout', lang)}_{where}_{ctx.period.label}"
    with left:
        chart_title(t("sys_rollout_title", lang, n=len(reg)))
        key = f"rollout_{drill.region}"
        plot(matrix_figure(frame, reg, lang, drill.county), chart_name(t("sys_rollout_title", lang, n=len(reg)), where,
                                                                         ctx.period.label),
             width="stretch", key=key, on_select=partial(on_chart_pick, key), selection_mode="points")
        st.html("".join(f'<span style="margin-right:14px;font-size:0.8rem"><i style="display:inline-block;width:10px;'
                        f'height:10px;background:{c};margin-right:4px"></i>{_html.escape(t(f"sys_state_{s}", lang))}'
                        "</span>" for s, c in STATE_COLOURS.items()))
        downloads.buttons(frame, stem, lang, "dl_matrix")
    with right:
        chart_title(t("sys_rollout_rank_title", lang))
        table = pd.DataFrame({
            "region": frame["region"],
            t("rank", lang): [f"{int(r)}/{int(n)}" for r, n in zip(frame["rank"], frame["rank_of"], strict=True)],
            t("county", lang): frame["name"],
            t("sys_live", lang): [f"{a}/{b}" for a, b in zip(frame["live"], frame["required"], strict=True)],
            t("sys_rollout_rate", lang): [fmt.percent(v, 1) for v in frame["rate"]],
        })
        codes = frame["region"].tolist()
        key = f"rollout_table_{drill.region}"
        status_table(table, lang, key=key, on_select=partial(on_row_pick, key, codes, "drill"),
               height=min(35 * len(table) + 40, 900))
        st.caption(t("sys_rollout_rule", lang, n=len(geo.counties)))
