"""The system dashboard: one page for every system, driven by the catalogue.

Layout, top to bottom: pickers (system, KPI, section), the drill breadcrumb 全省 › 杭州市 › 西湖区,
the system's automatic summary; then for the focused KPI: an overview table of all the system's
KPIs at the drill region (click a row to focus a KPI), the KPI card (value, summary, definitions),
the 12-month trend against the target, the breakdown by city / county (click a bar to drill), the
county map (click a county), the distribution across the 90 counties (selected and 山区 counties
highlighted) and the child regions' table (click a row to drill). Every chart has the download
of the frame it was drawn from. Systems with registers add a section: major apps, problem lists.

The drill lives in the URL (?city=330100&county=330106), next to the global view (lang, period,
scope); a click updates the URL in a callback, so the page draws once with the new view.
"""

from __future__ import annotations

import html as _html
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.geography import PROVINCE
from metrics.periods import Period
from metrics.summary import kpi_summary, system_summary
from ui import apps_view, data, downloads, fmt, maps, problems_view, urlstate
from ui import components as c
from ui import rank_widgets as rw
from ui import system_model as sm
from ui.chart_style import chart_name, plot
from ui.dash_widgets import chart_title, drill_to, on_chart_pick, on_row_pick, set_params, status_table
from ui.i18n import t
from ui.shell import Ctx, header
from ui.tiles import row_of, target_text

SYSTEM_PAGE = "pages/system.py"
# systems whose office keeps an item-level register beside the KPIs (extra sections of the page)
EXTRA_SECTIONS: dict[str, tuple[str, ...]] = {"platform": ("apps",), "party": ("problems",), "government": ("rollout",)}  # 31 apps: seed 004 lists them under 数字政府
CSS = """
<style>
.sd-card {background:var(--c-panel); border:1px solid var(--c-line); border-left:5px solid #64748b; border-radius:6px;
  padding:8px 14px 10px;}
.sd-name {font-size:1.0rem; color:var(--c-text2);}
.sd-value {font-size:2.1rem; font-weight:700; color:var(--c-strong); line-height:1.15; font-variant-numeric:tabular-nums;}
.sd-pill {font-size:0.78rem; color:var(--c-on-status); font-weight:700; padding:1px 7px; border-radius:3px; margin-left:10px;
  vertical-align:middle;}
.sd-target {font-size:0.85rem; color:var(--c-muted);}
.sd-summary {font-size:0.95rem; color:var(--c-text); margin-top:6px; line-height:1.45;}
.sd-sys {font-size:0.95rem; color:var(--c-accent2); background:var(--c-panel2); border:1px solid var(--c-line); border-radius:6px;
  padding:6px 12px; line-height:1.45;}
.sd-h {font-size:1.0rem; font-weight:600; color:var(--c-text); margin:2px 0 0 0;}
.sd-def {width:100%; border-collapse:collapse; font-size:0.85rem;}
.sd-def td {padding:3px 6px; border-bottom:1px solid var(--c-line); vertical-align:top; color:var(--c-text);}
.sd-def td:first-child {color:var(--c-accent); white-space:nowrap; width:7.5em;}
</style>
"""


# -- cached view data ----------------------------------------------------------------------------
@data.cached(max_entries=256)
def _kpi_frames(period: str, kpi: str, scope: str, city: str | None, county: str | None,
                lang: str) -> dict[str, pd.DataFrame]:
    """Trend, breakdown and distribution frames of one KPI at one drill position (per data version)."""
    eng = data.engine()
    cat, geo, p = eng.catalogue, eng.geo, Period.parse(period)
    k = cat.kpi(kpi)
    drill = sm.resolve_drill(geo, scope, city, county)
    bulk = data.reader().bulk(p)
    regions = [PROVINCE] if sm.province_only(k, cat) else sm.comparison_regions(geo, drill, k)
    trend = data.reader().trend([kpi], regions, p)
    return {
        "trend": sm.trend_frame(trend, k, regions, geo, lang),
        "breakdown": sm.breakdown_frame(bulk, k, geo, drill, lang),
        "distribution": sm.distribution_frame(bulk, k, geo, drill, p, lang),
    }


@data.cached(max_entries=128)
def _overview(period: str, system: str, scope: str, city: str | None, county: str | None,
              lang: str) -> pd.DataFrame:
    eng = data.engine()
    cat, geo, p = eng.catalogue, eng.geo, Period.parse(period)
    drill = sm.resolve_drill(geo, scope, city, county)
    trend = data.reader().trend([k.code for k in cat.kpis_of(system)], [drill.region], p)
    return sm.overview_frame(data.reader().bulk(p), cat, geo, system, drill, lang, trend)


@data.cached(shared=True, max_entries=64)
def _map(period: str, kpi: str, counties: tuple[str, ...], lang: str, height: int) -> dict:
    """The county map as a plain figure dict (read-only; built once per view and data version)."""
    eng = data.engine()
    fig = maps.county_map(data.reader().bulk(Period.parse(period)), eng.catalogue.kpi(kpi), list(counties), eng.geo, lang,
                          colour="status", height=height)
    return maps.figure_dict(fig)


def _outline(fig: dict, county: str) -> dict:
    """The cached map with the selected county outlined (a copy: the cached dict stays as it is)."""
    return {**fig, "data": [*fig["data"], maps.figure_dict(go.Figure(go.Choropleth(
        geojson=maps.boundaries_of((county,)), featureidkey="properties.code", locations=[county], z=[0],
        colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False, marker_line_color="#f8fafc",
        marker_line_width=3, hoverinfo="skip",
    )))["data"][0]]}


# -- blocks ------------------------------------------------------------------------------------
def breadcrumb(ctx: Ctx, drill: sm.Drill) -> None:
    """全省 › 杭州市 › 西湖区: each level a button that moves the drill (and the URL) up."""
    geo = data.engine().geo
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="sys_breadcrumb"):
        for i, code in enumerate(drill.path):
            last = i == len(drill.path) - 1
            st.button(sm.region_name(geo, code, ctx.lang) + ("" if last else "  ›"), key=f"crumb_{code}",
                      type="tertiary", disabled=last, on_click=drill_to, args=(code,))


def kpi_card(ctx: Ctx, kpi: str, drill: sm.Drill, bulk: pd.DataFrame) -> None:
    eng = data.engine()
    cat, geo = eng.catalogue, eng.geo
    k = cat.kpi(kpi)
    r = row_of(bulk, kpi, drill.region)
    status = str(r["status"]) if r is not None else "missing"
    colour = fmt.STATUS_COLOURS.get(status, "#64748b")
    value = fmt.value(r["value"], k, ctx.lang, short=False) if r is not None else "—"
    att = fmt.percent(r["attainment"], 1) if r is not None and fmt.is_num(r["target"]) else "—"
    summary = kpi_summary(bulk, k, drill.region, geo, ctx.lang, ctx.period.grain)
    st.html(
        f'<div class="sd-card" style="border-left-color:{colour}">'
        f'<div class="sd-name">{_html.escape(k.name(ctx.lang))} · {_html.escape(sm.region_name(geo, drill.region, ctx.lang))}'
        f' · {ctx.period.label}</div>'
        f'<div class="sd-value">{_html.escape(value)}<span class="sd-pill" style="background:{colour}">'
        f'{_html.escape(fmt.status_label(status, ctx.lang))}</span></div>'
        f'<div class="sd-target">{_html.escape(target_text(r, k, ctx.lang))} · {t("attainment", ctx.lang)} {att}'
        f' · {t("as_of", ctx.lang)} {_html.escape(fmt.text(r["as_of"]) if r is not None else "—")}</div>'
        f'<div class="sd-summary" data-testid="sys-summary">{_html.escape(summary)}</div></div>'
    )
    with st.expander(t("sys_definitions", ctx.lang), icon=":material/menu_book:"):
        rows = sm.definition_rows(k, cat, r, ctx.lang)
        st.html('<table class="sd-def">' + "".join(
            f"<tr><td>{_html.escape(a)}</td><td>{_html.escape(b)}</td></tr>" for a, b in rows) + "</table>")


def kpi_section(ctx: Ctx, system: str, kpi: str, drill: sm.Drill, bulk: pd.DataFrame) -> None:
    eng = data.engine()
    cat, geo = eng.catalogue, eng.geo
    k = cat.kpi(kpi)
    lang = ctx.lang
    city, county = drill.city, drill.county
    where = sm.region_name(geo, drill.region, lang)
    sname = cat.system(system).name_en if lang == "en" else cat.system(system).name_zh
    stem = f"{sname}_{sm.region_name(geo, drill.region, lang)}_{ctx.period.label}"

    left, right = st.columns([3, 2], gap="medium")
    with left:
        ov = _overview(ctx.period.label, system, ctx.scope, city, county, lang)
        chart_title(t("sys_overview_title", lang, region=where, n=len(ov)))
        codes = ov["code"].tolist()
        key = f"ov_{system}_{drill.region}_{kpi}"
        status_table(ov, lang, key=key, on_select=partial(on_row_pick, key, codes, "skpi"),
               column_config={t("sparkline", lang): st.column_config.LineChartColumn(t("sparkline", lang),
                                                                                     width="small")})
        st.caption(t("sys_overview_hint", lang))
        downloads.buttons(ov.drop(columns=[t("sparkline", lang)], errors="ignore"), f"{stem}_{t('dl_file_kpis', lang)}", lang, "dl_ov")
    with right:
        kpi_card(ctx, kpi, drill, bulk)

    frames = _kpi_frames(ctx.period.label, kpi, ctx.scope, city, county, lang)
    only_province = sm.province_only(k, cat)
    a, b, m = st.columns(3, gap="medium")
    with a:
        tr = frames["trend"]
        chart_title(t("sys_trend_title", lang, kpi=k.name(lang)))
        if tr["value"].notna().any():
            plot(sm.trend_figure(tr, k, lang), chart_name(k.name(lang), where, ctx.period.label), width="stretch",
                 key=f"tr_{kpi}_{drill.region}")
        else:
            st.caption(t("sys_no_data", lang))
        if only_province and drill.level != "province":
            st.caption(t("sys_province_only", lang))
        downloads.buttons(sm.for_download(tr, k, lang), f"{stem}_{k.name(lang)}_{t('dl_file_trend', lang)}", lang, "dl_tr")
    bd = frames["breakdown"]
    with b:
        child = t("sys_child_city", lang) if drill.level == "province" else t("sys_child_county", lang)
        chart_title(t("sys_breakdown_title", lang, child=child))
        if only_province or not bd["value"].notna().any():
            st.caption(t("sys_province_only", lang) if only_province else t("sys_no_data", lang))
        else:
            parent = drill.city if drill.level == "county" else drill.region
            pr = row_of(bulk, kpi, parent) if parent else None
            # a rate compares with its parent's; a count's parent is the sum of the bars (no line)
            pv = float(pr["value"]) if pr is not None and fmt.is_num(pr["value"]) and k.format == "percent" else None
            key = f"bar_{kpi}_{drill.region}"
            plot(sm.bar_figure(bd, k, lang, pv, sm.region_name(geo, parent, lang)),
                 chart_name(k.name(lang), where, ctx.period.label, child), width="stretch", key=key,
                 on_select=partial(on_chart_pick, key), selection_mode="points")
            st.caption(t("sys_click_bar", lang))
        downloads.buttons(sm.for_download(bd, k, lang), f"{stem}_{k.name(lang)}_{t('dl_file_by_region', lang)}", lang, "dl_bd")
    with m:
        chart_title(t("sys_map_title", lang))
        if only_province:
            st.caption(t("sys_province_only", lang))
        else:
            counties = tuple(geo.counties if drill.level == "province" else geo.counties_of(drill.city or ""))
            key = f"map_{kpi}_{drill.region}"
            fig = maps.fresh(_map(ctx.period.label, kpi, counties, lang, 330))
            if drill.county:
                fig = _outline(fig, drill.county)
            plot(maps.prebuilt(fig), chart_name(k.name(lang), where, ctx.period.label), key=key,
                 on_select=partial(on_chart_pick, key), selection_mode="points", width="stretch",
                 config={"topojsonURL": maps.TOPOJSON_URL})
            st.caption(t("sys_click_map", lang))
            mp = sm.distribution_frame(bulk, k, geo, drill, ctx.period, lang)
            mp = mp[mp["region"].isin(counties)].reset_index(drop=True)
            downloads.buttons(sm.for_download(mp, k, lang), f"{stem}_{k.name(lang)}_{t('dl_file_map', lang)}", lang, "dl_map")

    d, e = st.columns([3, 2], gap="medium")
    dist = frames["distribution"]
    with d:
        group = sm.peer_group(geo, ctx.period.end)
        gname = geo.get(group).name(lang) if group else ""
        chart_title(t("sys_dist_title", lang, pop=rw.counties_label(geo, lang), group=gname))
        if only_province or not dist["value"].notna().any():
            st.caption(t("sys_province_only", lang) if only_province else t("sys_no_data", lang))
        else:
            target = row_of(bulk, kpi, drill.region)
            tv = float(target["target"]) if target is not None and fmt.is_num(target["target"]) else None
            key = f"dist_{kpi}_{drill.region}"
            plot(sm.strip_figure(dist, k, lang, gname, where if drill.level != "province" else "", tv),
                 chart_name(k.name(lang), gname or where, ctx.period.label), width="stretch", key=key,
                 on_select=partial(on_chart_pick, key), selection_mode="points")
        downloads.buttons(sm.for_download(dist, k, lang), f"{stem}_{k.name(lang)}_{t('dl_file_counties', lang)}", lang, "dl_dist")
    with e:
        chart_title(t("sys_children_title", lang, child=child, kpi=k.name(lang)))
        if only_province:
            st.caption(t("sys_province_only", lang))
            return
        rows = bd
        table = pd.DataFrame({
            "region": rows["region"], "status": rows["status"],
            t("region", lang): rows["name"],
            t("value", lang): [fmt.value(v, k, lang, short=False) for v in rows["value"]],
            t("target", lang): [fmt.value(v, k, lang) if fmt.is_num(v) else t("no_target", lang) for v in rows["target"]],
            t("status", lang): "",
            t("change_mom", lang): [fmt.change(v, k, lang) for v in rows["change_prev"]],
            t("rank", lang): [f"{int(r)}/{int(n)}" if fmt.is_num(r) else "—"
                              for r, n in zip(rows["rank"], rows["rank_of"], strict=True)],
            t("reported_col", lang): [f"{a}/{b}" for a, b in zip(rows["n_reported"], rows["n_expected"], strict=True)],
        })
        codes = rows["region"].tolist()
        key = f"children_{kpi}_{drill.region}"
        status_table(table, lang, key=key, on_select=partial(on_row_pick, key, codes, "drill"),
               height=min(35 * (len(table) + 1) + 3, 420))
        st.caption(t("sys_click_row", lang))


def system_head(ctx: Ctx, system: str, drill: sm.Drill, bulk: pd.DataFrame) -> None:
    eng = data.engine()
    text = system_summary(bulk, eng.catalogue, system, drill.region, eng.geo, ctx.lang)
    st.html(f'<div class="sd-sys" data-testid="sys-system-summary">{_html.escape(text)}</div>')


def render(ctx: Ctx) -> None:
    """The whole page (pages/system.py calls this)."""
    eng = data.engine()
    cat, geo = eng.catalogue, eng.geo
    st.html(CSS)
    systems = [s.code for s in sorted(cat.systems, key=lambda s: s.order)]
    header(ctx, t("sys_page_title", ctx.lang))
    a, b, s = st.columns([2, 3, 3], vertical_alignment="bottom")
    with a:
        system = urlstate.select(
            t("pick_system", ctx.lang), systems, "system",
            format_func=lambda x: cat.system(x).name_en if ctx.lang == "en" else cat.system(x).name_zh,
        )
    codes = [k.code for k in cat.kpis_of(system)]
    with b:
        kpi = urlstate.select(t("pick_kpi", ctx.lang), codes, "skpi", format_func=lambda x: cat.kpi(x).name(ctx.lang))
    sections = ("kpis", *EXTRA_SECTIONS.get(system, ()))
    with s:
        if len(sections) > 1:
            section = urlstate.select(t("sys_section", ctx.lang), list(sections), "section", widget="segmented",
                                      format_func=lambda x: t(f"sys_section_{x}", ctx.lang))
        else:
            section = "kpis"
            set_params(section=None)
    bulk = data.reader().bulk(ctx.period)
    if not data.has_data(bulk):
        c.empty_state(ctx)
        return
    drill = sm.resolve_drill(geo, ctx.scope, st.query_params.get("city"), st.query_params.get("county"))
    breadcrumb(ctx, drill)
    system_head(ctx, system, drill, bulk)
    if section == "apps":
        apps_view.apps_section(ctx, drill)
    elif section == "rollout":
        apps_view.rollout_section(ctx, drill)
    elif section == "problems":
        problems_view.problems_section(ctx, drill)
    else:
        kpi_section(ctx, system, kpi, drill, bulk)

