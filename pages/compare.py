"""County comparison workspace: chosen counties against their peers, on trends, profile, distribution, z-scores.

The whole selection is in the URL (?counties=330102,330106&kpis=...&peers=group:SHANQU26&mode=value),
so a link reproduces the view; `counties` may also name a city or peer group, expanded on arrival.
Every block has its numbers as CSV and Excel.
"""

from __future__ import annotations

import streamlit as st

from metrics.access import population_options
from metrics.comparison import resolve_counties
from metrics.geography import PROVINCE
from metrics.rankings import RankingError
from ui import auth, data, downloads, refusals, urlstate
from ui import compare_charts as charts
from ui import components as c
from ui import rank_frames as rf
from ui import rank_widgets as rw
from ui.chart_style import chart_name, plot
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header

MAX_DEFAULT_KPIS = 4


def expand(item: str) -> list[str]:
    """A city or peer-group code (or name) in the URL stands for its counties on the period's end."""
    try:
        return resolve_counties(read.engine, item, ctx.period.end)
    except RankingError:
        return []


def add_group() -> None:
    """Button callback: append every county of the chosen city or peer group to the selection."""
    group = st.session_state.get("cmp_add")
    if group:
        cur = list(st.session_state.get("counties") or [])
        st.session_state["counties"] = list(dict.fromkeys(cur + rw.population_counties(group, geo, ctx.period.end)))


ctx = get_ctx()
lang = ctx.lang
read = data.reader()
geo, cat = read.geo, read.catalogue
period = ctx.period.label
header(ctx, t("nav_compare", lang))
bulk = read.bulk(ctx.period)
if not data.has_data(bulk):
    c.empty_state(ctx)
    st.stop()

counties = sorted(read.counties(), key=lambda x: (geo.city_of(x), x))  # the user's scope only
home = ctx.scope if ctx.scope != PROVINCE else geo.cities[0]
level = {m.code: m.level for m in cat.measures}
heads = [k.code for k in cat.headline_kpis()]
rankable = [x for x in heads + [k.code for k in cat.kpis if k.code not in heads]
            if level[cat.kpi(x).measures[0]] == "county"]
default_kpis = [x for x in rankable if cat.kpi(x).format == "percent"][:MAX_DEFAULT_KPIS]

a, b, cc = st.columns([6, 2, 1], vertical_alignment="bottom")
with a:
    chosen = rw.multi_select(
        t("rankings_cmp_counties", lang), counties, "counties", default=geo.counties_of(home)[:3], expand=expand,
        format_func=lambda x: f"{geo.get(x).name(lang)} · {geo.get(geo.city_of(x)).name(lang)}",
        placeholder=t("rankings_cmp_pick", lang),
    )
groups = read.groups(ctx.period.end)
with b:
    st.selectbox(t("rankings_cmp_add", lang), groups, key="cmp_add",
                 format_func=lambda s: rw.population_label(s, geo, lang, ctx.period.end))
with cc:
    st.button(t("rankings_cmp_add_btn", lang), on_click=add_group, key="cmp_add_btn", icon=":material/add:",
              width="stretch")
d, e, f = st.columns([6, 2, 1], vertical_alignment="bottom")
with d:
    kpis = rw.multi_select(t("rankings_cmp_kpis", lang), rankable, "kpis", default=default_kpis,
                           format_func=lambda x: cat.kpi(x).name(lang), placeholder=t("rankings_cmp_pick", lang))
with e:
    popts = read.peer_options(ctx.period.end)  # a scoped user: their own group only
    asked = st.query_params.get("peers")
    if asked and asked not in popts and asked in population_options(geo, ctx.period.end, cities=True):
        me = auth.current_quiet()
        refusals.deny(me, f"peers={asked}", "peer population outside scope",
                      t("auth_refused", lang, what=rw.population_label(asked, geo, lang, ctx.period.end),
                        scope=auth.scope_name(me.scope_code, lang) if me else "-"))
        del st.query_params["peers"]
    peers = urlstate.select(t("rankings_cmp_peers", lang), popts,
                            "peers", format_func=lambda s: rw.population_label(s, geo, lang, ctx.period.end))
with f:
    mode = urlstate.select(t("rankings_cmp_mode", lang), ["index", "value"], "mode", widget="segmented",
                           format_func=lambda m: t(f"rankings_mode_{m}", lang))

if not chosen or not kpis:
    st.info(t("rankings_cmp_pick", lang))
    st.stop()
focus = chosen
if len(chosen) > charts.FOCUS_MAX:  # many lines: a few in colour, the rest grey behind the median
    focus = rw.multi_select(t("rankings_cmp_focus", lang), chosen, "focus", default=chosen[:charts.FOCUS_MAX],
                            format_func=lambda x: geo.get(x).name(lang), max_selections=charts.FOCUS_MAX)
peer_label = rw.population_label(peers, geo, lang, ctx.period.end)
short = rw.population_short(peers, geo, lang)
try:
    tr = read.comparison(chosen, kpis, period, peers)
    pos = read.position(chosen, kpis, period, peers)
except RankingError as exc:
    st.warning(str(exc))
    st.stop()

st.markdown(f"**{t('rankings_cmp_trend', lang)}** · {t(f'rankings_mode_{mode}_tip', lang)}")
png = [geo.get(chosen[0]).name(lang), *(cat.kpi(x).name(lang) for x in kpis[:2]), period]
plot(charts.trend_figure(tr, chosen, kpis, cat, geo, lang, mode == "index", short, focus),
     chart_name(t("rankings_cmp_trend", lang), *png), width="stretch", key="cmp_trend")
downloads.buttons(charts.trends_indexed(tr), f"{t('nav_compare', lang)}_{t('dl_file_trend', lang)}_{period}", lang, "dl_cmp_trend")

left, right = st.columns(2, gap="medium")
with left:
    st.markdown(f"**{t('rankings_cmp_profile', lang)}**")
    st.caption(t("rankings_cmp_profile_tip", lang, peers=peer_label))
    plot(charts.profile_figure(pos, chosen, kpis, cat, geo, lang, short, focus),
         chart_name(t("rankings_cmp_profile", lang), *png), width="stretch", key="cmp_profile")
    downloads.buttons(pos.assign(better_percentile=charts.better_percentile(pos)),
                      f"{t('nav_compare', lang)}_{t('dl_file_profile', lang)}_{period}", lang, "dl_cmp_profile")
with right:
    st.markdown(f"**{t('rankings_cmp_dist', lang)}**")
    st.caption(t("rankings_cmp_dist_tip", lang, peers=peer_label))
    values = charts.peer_values(bulk, kpis, rw.population_counties(peers, geo, ctx.period.end))
    plot(charts.distribution_figure(values, pos, chosen, kpis, cat, geo, lang, short, focus),
         chart_name(t("rankings_cmp_dist", lang), *png), width="stretch", key="cmp_dist")
    downloads.buttons(values, f"{t('nav_compare', lang)}_{t('dl_file_peers', lang)}_{period}", lang, "dl_cmp_dist")

st.markdown(f"**{t('rankings_cmp_z', lang)}**")
st.caption(t("rankings_cmp_z_tip", lang, peers=peer_label))
z = charts.z_table(pos, chosen, kpis, cat, geo, lang)
st.dataframe(rf.styled(z), hide_index=True, width="stretch", key="cmp_z")
downloads.buttons(pos, f"{t('nav_compare', lang)}_{t('dl_file_z', lang)}_{period}", lang, "dl_cmp_z")
