"""County profile: all KPIs of one county against target, province, city and peer groups."""

from __future__ import annotations

import streamlit as st

from ui import components as c
from ui import data, urlstate
from ui import followup_view as fv
from ui.i18n import t
from ui.profile import missing_count, profile_table
from ui.shell import ctx as get_ctx
from ui.shell import header
from ui.township_view import township_section

ctx = get_ctx()
read = data.reader()
geo, cat = read.geo, read.catalogue
counties = sorted(read.counties(), key=lambda x: (geo.city_of(x), x))  # the user's scope only
if ctx.scope != "330000":
    counties = [x for x in geo.counties_of(ctx.scope) if x in counties] + [x for x in counties
                                                                          if geo.city_of(x) != ctx.scope]
header(ctx, t("nav_county", ctx.lang))
a, b = st.columns([1, 1])
with a:
    county = urlstate.select(
        t("pick_county", ctx.lang), counties, "county",
        format_func=lambda x: f"{geo.get(x).name(ctx.lang)} · {geo.get(geo.city_of(x)).name(ctx.lang)}",
    )
reg = geo.get(county)
groups = geo.peer_groups_of(county, ctx.period.end)
st.markdown(
    f"### {t('profile_title', ctx.lang, county=reg.name(ctx.lang))}\n"
    + t("profile_meta", ctx.lang, city=geo.get(geo.city_of(county)).name(ctx.lang), type=t(f"type_{reg.type_zh}", ctx.lang) if reg.type_zh else "—",
        pop=f"{reg.population:,}" if reg.population else "—")
    + f" · {t('peer_groups', ctx.lang)}: "
    + (("、" if ctx.lang == "zh" else ", ").join(geo.get(g).name(ctx.lang) for g in groups) or t("no_peer", ctx.lang))
)
bulk = read.bulk(ctx.period)
if not data.has_data(bulk):
    c.empty_state(ctx)
    st.stop()
n_missing = missing_count(bulk, county)
if n_missing:
    st.warning(t("missing_reports", ctx.lang, n=n_missing), icon=":material/schedule:")
trend = read.trend([k.code for k in cat.kpis], [county], ctx.period)
table = profile_table(bulk, cat, geo, county, ctx.period, ctx.lang, trend=trend)
with b:
    pick, act = st.columns([3, 1], vertical_alignment="bottom")
    with pick:
        tkpi = c.kpi_picker(ctx, key="tkpi", label_key="trend_kpi")
    with act:  # one visible click from the figure to an instruction on it
        fv.instruct_button(ctx, tkpi, county, "county", key="fu_county", label=t("followup_write", ctx.lang),
                           kind="secondary")
c.trend_chart(ctx, county, tkpi, height=300)
fv.county_items(ctx, county)  # 批示督办: the instructions on this county's figures
c.table(
    table, ctx.lang, height=520,
    column_config={
        t("sparkline", ctx.lang): st.column_config.LineChartColumn(t("sparkline", ctx.lang), width="small"),
        t("definition", ctx.lang): st.column_config.TextColumn(width="large"),
    },
)

township_section(ctx, county)  # the county's townships, when it has township figures
