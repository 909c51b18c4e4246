"""掌上驾驶舱: the overview and a KPI's detail laid out for a phone (360–430 px, read with a thumb).

The same figures as the desktop overview (components.overview_model, tiles.tile_of: no rule of its own),
drawn in one column: a compact header with period and scope chips, the 问数 box, headline tiles two per
row (each a link to its KPI's detail), the systems as a row that swipes sideways (only that row scrolls
sideways, never the page), the county map at the screen's width, then the alerts and the user's 督办
items as lists of links at least 44 px tall. Its CSS is ui.phone_css.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from followup import model as fm
from followup import service as fs
from metrics.geography import PROVINCE
from ui import components as c
from ui import data, fmt, html, maps, ranking
from ui import followup_view as fv
from ui.alerts import Alert
from ui.ask_view import ask_box
from ui.chart_style import chart_name, plot
from ui.i18n import t
from ui.shell import Ctx
from ui.tile_model import SystemScore, Tile
from ui.tiles import explain, scope_counties, tile_of

OVERVIEW, KPI_PAGE, COUNTY, FOLLOWUP = "pages/overview.py", "pages/kpi.py", "pages/county.py", "pages/followup.py"
ALERTS_SHOWN = 8  # a phone screen's worth; the rest are counted
ITEMS_SHOWN = 6
RANKED_SHOWN = 5  # best and worst shown; the full list folds open
MAP_HEIGHT = 360


def region_name(ctx: Ctx, code: str) -> str:
    return t("province_scope", ctx.lang) if code == PROVINCE else data.engine().geo.get(code).name(ctx.lang)


def head(ctx: Ctx, title: str, region: str | None = None) -> None:
    """Title on its own line (never cut), then chips: the period, the region, the demo badge."""
    chips = [f'<span class="ph-chip">{escape(ctx.period.label)}</span>',
             f'<span class="ph-chip">{escape(region_name(ctx, region or ctx.scope))}</span>']
    if ctx.demo:
        chips.append(f'<span class="ph-chip demo" title="{escape(t("demo_tip", ctx.lang))}">'
                     f'{escape(t("demo_badge", ctx.lang))}</span>')
    st.html(f'<div class="ph-head"><div class="ph-title">{escape(title)}</div>{"".join(chips)}</div>')


def section(title: str) -> str:
    return f'<div class="ph-section">{escape(title)}</div>'


def kpi_href(ctx: Ctx, kpi: str, region: str | None = None) -> str:
    return "kpi?" + ctx.qs(kpi=kpi, **({"region": region} if region and region != ctx.scope else {}))


def tile_link(tl: Tile, ctx: Ctx) -> str:
    """A headline tile as a link to its detail: name, value, status and the change on last month."""
    colour = fmt.STATUS_COLOURS.get(tl.status, "#64748b")
    glyph, g_colour, change = tl.mom
    return (f'<a class="tile ph-tile" data-kpi="{escape(tl.kpi)}" href="{escape(kpi_href(ctx, tl.kpi))}" '
            f'target="_self" title="{escape(tl.tooltip)}" style="border-top-color:{colour}">'
            f'<span class="ph-name">{escape(tl.name)}</span>'
            f'<span class="ph-value">{escape(tl.value)}</span>'
            f'<span class="ph-row"><span class="ph-status" style="background:{colour}">'
            f'{escape(fmt.status_label(tl.status, ctx.lang))}</span>'
            f'<span>{escape(t("mom", ctx.lang))} <b style="color:{g_colour}">{glyph}</b> {escape(change)}</span>'
            f'</span></a>')


def system_strip(scores: list[SystemScore], ctx: Ctx) -> str:
    cells = "".join(f'<a href="{escape("system?" + ctx.qs(system=s.code))}" target="_self">'
                    f'{html.system_tile(s, ctx.lang)}</a>' for s in scores)
    return f'<div class="ph-sys" data-testid="ph-systems">{cells}</div>'


def overview(ctx: Ctx) -> None:
    lang = ctx.lang
    head(ctx, t("app_title", lang))
    bulk = data.reader().bulk(ctx.period)
    if not data.has_data(bulk):
        c.empty_state(ctx)
        return
    ask_box(ctx)
    tiles, scores, alerts = c.overview_model(ctx)
    fv.flash(ctx)
    st.html('<div class="ph-grid">' + "".join(tile_link(x, ctx) for x in tiles) + "</div>")
    st.html(section(t("phone_systems", lang)) + system_strip(scores, ctx))
    st.html(section(t("phone_map", lang, scope=region_name(ctx, ctx.scope))))
    kpi = c.kpi_picker(ctx)
    c.county_map(ctx, kpi, "status", height=MAP_HEIGHT)
    alert_list(ctx, fv.overdue_alerts(ctx) + alerts)
    my_items(ctx)
    switch_link(ctx)


def alert_list(ctx: Ctx, alerts: list[Alert]) -> None:
    st.html(section(f'{t("alerts", ctx.lang)} · {len(alerts)}'))
    if not alerts:
        st.caption(t("no_alerts", ctx.lang))
    for a in alerts[:ALERTS_SHOWN]:
        kind, code = a.target
        icon = c.ALERT_ICON.get(a.kind)
        if kind == "followup":
            st.page_link(FOLLOWUP, label=a.text, icon=icon, query_params=ctx.params(item=code))
        elif kind == "county":
            st.page_link(COUNTY, label=a.text, icon=icon, query_params=ctx.params(county=code))
        elif a.kpi:  # the scope's own figure: its detail
            st.page_link(KPI_PAGE, label=a.text, icon=icon, query_params=ctx.params(kpi=a.kpi))
        else:
            st.page_link(c.SYSTEM, label=a.text, icon=icon, query_params=ctx.params(system=code))
    if len(alerts) > ALERTS_SHOWN:
        st.caption(t("alerts_more", ctx.lang, n=len(alerts) - ALERTS_SHOWN))


def my_items(ctx: Ctx) -> None:
    """The 督办 items waiting on the user (to answer or to conclude) in the view's scope, newest first."""
    u = fv.user()
    if u is None or not fs.policy.can(u.role, "followup"):
        return
    scope = data.reader().scope
    items = [i for i in fs.list_for(data.engine().store, u) if scope.allows(i.figure.region)]
    mine = [i for i in items if i.status in fm.ACTIVE and (fs.may_answer(u, i) or fs.may_conclude(u, i))]
    today = dt.date.today()
    st.html(section(f'{t("phone_my_items", ctx.lang)} · {len(mine)}'))
    if not mine:
        st.caption(t("followup_none", ctx.lang))
    for i in mine[:ITEMS_SHOWN]:
        label = (f"{fv.kpi_name(i.figure.kpi, ctx.lang)} · {fv.region_name(i.figure.region, ctx.lang)} · "
                 f"{fv.state_text(i, ctx.lang, today)}")
        st.page_link(FOLLOWUP, label=label, icon=":material/assignment:", query_params=ctx.params(item=str(i.id)))
    st.page_link(FOLLOWUP, label=t("phone_all_items", ctx.lang), icon=":material/list:", query_params=ctx.params())


def switch_link(ctx: Ctx) -> None:
    """Leave the phone layout for this session (the desktop page, as a wide screen shows it)."""
    p = ctx.params() | {"view": "desktop"}
    st.html(f'<div class="ph-switch"><a href="?{escape(urlencode(p))}" target="_self">'
            f'{escape(t("phone_to_desktop", ctx.lang))}</a></div>')


# -- one KPI's detail ----------------------------------------------------------------------------------
def kpi_detail(ctx: Ctx, kpi: str, region: str) -> None:
    """The KPI for the region: its tile at full width, 批示, the trend with its target, the regions of the
    view ranked, and the definition. A back control returns to the overview."""
    lang = ctx.lang
    read = data.reader()
    cat, geo = read.catalogue, read.geo
    k = cat.kpi(kpi)
    st.page_link(OVERVIEW, label=t("phone_back", lang), icon=":material/arrow_back:", query_params=ctx.params())
    head(ctx, k.name(lang), region)
    bulk = read.bulk(ctx.period)
    if not data.has_data(bulk):
        c.empty_state(ctx)
        return
    trend = read.trend([kpi], [region], ctx.period)
    tl = tile_of(bulk, trend, cat, geo, k, region, lang, read.forecasts(ctx.period, [kpi]))
    st.html(big_tile(tl, lang))
    instruct(ctx, kpi, region)
    st.html(section(t("phone_trend", lang)))
    trend_chart(ctx, kpi, region, trend)
    ranked_regions(ctx, kpi, region, bulk)
    st.html(section(t("phone_about", lang)) + definition(explain(cat, k, _row(bulk, kpi, region), lang)))
    if geo.get(region).level == "county":
        st.page_link(COUNTY, label=t("nav_county", lang) + " · " + geo.get(region).name(lang),
                     icon=":material/location_city:", query_params=ctx.params(county=region))


def _row(bulk: pd.DataFrame, kpi: str, region: str) -> pd.Series | None:
    hit = bulk[(bulk["kpi"] == kpi) & (bulk["region"] == region)]
    return None if hit.empty else hit.iloc[0]


def big_tile(tl: Tile, lang: str) -> str:
    colour = fmt.STATUS_COLOURS.get(tl.status, "#64748b")
    rows = [
        f'<span class="ph-status" style="background:{colour}">{escape(fmt.status_label(tl.status, lang))}</span>'
        f'<span>{escape(tl.target)} · {escape(t("attainment", lang))} {escape(tl.attainment)}</span>',
        "".join(f'<span>{escape(t(key, lang))} <b style="color:{gc}">{g}</b> {escape(txt)}</span>'
                for key, (g, gc, txt) in (("mom", tl.mom), ("yoy", tl.yoy))),
        f'<span>{escape(tl.rank)}</span>' + (f'<span>{escape(tl.reported)}</span>' if tl.reported else ""),
    ]
    if tl.forecast:
        rows.append(f'<span title="{escape(tl.forecast_tip or "")}">{escape(tl.forecast)}</span>')
    return (f'<div class="ph-big" data-kpi="{escape(tl.kpi)}" style="border-top-color:{colour}">'
            f'<div class="ph-value">{escape(tl.value)}</div>'
            + "".join(f'<div class="ph-row">{r}</div>' for r in rows) + "</div>")


def instruct(ctx: Ctx, kpi: str, region: str) -> None:
    """批示 on the figure, one visible click; the latest item on it, when there is one, beside it."""
    item = fv.markers(kpis=[kpi], regions=[region]).get((kpi, region))
    if item is not None:
        st.page_link(FOLLOWUP, label=fv.marker_text(item, ctx.lang), query_params=ctx.params(item=str(item.id)))
    fv.instruct_button(ctx, kpi, region, "tile", key="fu_kpi", label=t("followup_write", ctx.lang))


def trend_chart(ctx: Ctx, kpi: str, region: str, trend: pd.DataFrame) -> None:
    k = data.engine().catalogue.kpi(kpi)
    scale = 100.0 if k.format == "percent" else 1.0
    d = trend[trend["region"] == region].sort_values("month") if not trend.empty else trend
    suffix = "%" if k.format == "percent" else ""
    if k.format != "percent" and ctx.lang == "zh" and len(d) and float(d["value"].abs().max()) >= 1e4:
        scale, suffix = 1e-4, "万"  # Chinese counts read in 万, never an SI "M"
    fig = go.Figure(go.Scatter(x=d["month"], y=d["value"] * scale, mode="lines+markers",
                               name=region_name(ctx, region), line=dict(width=3, color="#38bdf8")))
    target = c.bulk_row_target(ctx, kpi, region)
    if target is not None:
        fig.add_hline(y=target * scale, line_dash="dot", line_color="#94a3b8", annotation_text=t("target", ctx.lang),
                      annotation_font_color="#94a3b8", annotation_position="top left")
    fv.mark_trend(fig, ctx, kpi, region, scale, d["month"].min() if len(d) else None)
    fig.update_layout(
        height=240, margin=dict(l=4, r=4, t=10, b=4), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font=dict(family=maps.FONT, color="#e2e8f0", size=12), showlegend=False,
        yaxis=dict(gridcolor="#1e3a5f", ticksuffix=suffix, nticks=5),
        xaxis=dict(gridcolor="#1e3a5f", tickformat="%y-%m", nticks=6),
    )
    plot(fig, chart_name(k.name(ctx.lang), region_name(ctx, region), ctx.period.label), width="stretch")


def ranked_regions(ctx: Ctx, kpi: str, region: str, bulk: pd.DataFrame) -> None:
    """The view's counties ranked on the KPI (best and worst, the rest folded); the province's cities
    when the KPI is not kept per county. Each row opens that region's detail."""
    eng = data.engine()
    geo, k = eng.geo, eng.catalogue.kpi(kpi)
    prev = data.reader().bulk(ctx.period.previous())
    counties = scope_counties(geo, ctx.scope)
    ranked = ranking.county_ranking(bulk, prev, kpi, counties)
    population = t("phone_ranked_counties", ctx.lang, scope=region_name(ctx, ctx.scope), n=len(counties))
    if ctx.scope != PROVINCE:  # the rank shown is the province's
        population += t("phone_rank_in_province", ctx.lang)
    if ranked.empty and ctx.scope == PROVINCE:
        ranked = ranking.county_ranking(bulk, None, kpi, geo.cities)
        population = t("phone_ranked_cities", ctx.lang, n=len(geo.cities))
    st.html(section(population))
    if ranked.empty:
        st.caption(t("no_ranking", ctx.lang))
        return
    rows = ranking.rows_for_display(ranked, k, geo, ctx.lang)

    def line(r: dict) -> str:
        dot = fmt.STATUS_COLOURS.get(r["status"], "#64748b")
        here = ' style="background:var(--c-panel-hover)"' if r["region"] == region else ""
        return (f'<a href="{escape(kpi_href(ctx, kpi, r["region"]))}" target="_self"{here}>'
                f'<span class="rk">{r["rank"]}</span>'
                f'<span class="nm"><span class="dot" style="background:{dot}"></span>{escape(r["name"])}</span>'
                f'<span class="num">{escape(r["value"])}</span>'
                f'<span class="chg" style="color:{r["change_colour"]}">{escape(r["change"])}</span></a>')

    if len(rows) <= 2 * RANKED_SHOWN + 2:
        st.html('<div class="ph-list">' + "".join(map(line, rows)) + "</div>")
        return
    best, worst = rows[:RANKED_SHOWN], rows[-RANKED_SHOWN:]
    st.html('<div class="ph-list">' + "".join(map(line, best)) + '<div class="ph-gap">⋯</div>'
            + "".join(map(line, worst)) + "</div>"
            + f'<details class="ph-all"><summary>{escape(t("phone_all_ranked", ctx.lang, n=len(rows)))}</summary>'
            + '<div class="ph-list">' + "".join(map(line, rows)) + "</div></details>")


def definition(text: str) -> str:
    """explain()'s lines after the KPI's name, as a list."""
    lines = text.split("\n")[1:]
    return '<ul class="ph-def">' + "".join(f"<li>{escape(x)}</li>" for x in lines if x) + "</ul>"
