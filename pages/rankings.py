"""赛马晾晒: KPI league tables, composite evaluations and red/black lists, one view at a time.

The view, KPI, population, scheme and every option live in the URL, so a shared link reproduces
the table. Numbers come from metrics.league, metrics.composite and metrics.redblack through the read
boundary; this file only lays out.
"""

from __future__ import annotations

import streamlit as st

from metrics.access import apply_overrides, population_level
from metrics.geography import PROVINCE
from metrics.rankings import RankingError
from metrics.schemes import schemes
from ui import components as c
from ui import data, downloads, urlstate
from ui import followup_view as fv
from ui import forecast_view as fcv
from ui import league_view as lv
from ui import lists_view as lsv
from ui import rank_frames as rf
from ui import rank_widgets as rw
from ui import scheme_view as sv
from ui import township_view as tv
from ui.chart_style import chart_name, plot
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header

ROW_PX = 35


def table_height(n: int, cap: int = 640) -> int:
    return min(cap, ROW_PX * (n + 1) + 3)


def population_picker(key: str = "pop", cities: bool = True, kpi: str | None = None) -> str:
    """Who is raced; townships are offered for a KPI measured per township when there are figures."""
    towns = kpi is not None and kpi in read.engine.township_kpis() and tv.has_figures(period)
    opts = read.populations(ctx.period.end, cities, towns)  # a scoped user ranks within their scope
    default = rw.default_population(ctx.scope)
    return urlstate.select(t("rankings_population", lang), opts, key, default=default if default in opts else opts[0],
                           format_func=lambda s: rw.population_label(s, geo, lang, ctx.period.end))


def kpi_view() -> None:
    a, b, cc, d = st.columns([3, 3, 2, 2])
    with a:
        kpi = c.kpi_picker(ctx, key="rkpi", label_key="rankings_kpi")
    with b:
        pop = population_picker(kpi=kpi)
    k = cat.kpi(kpi)
    with cc:
        small = urlstate.select(t("rankings_small_mode", lang), ["separate", "flag"], "small", widget="segmented",
                                format_func=lambda x: t(f"rankings_small_{x}", lang))
    mind = None
    with d:
        if k.kind == "ratio":
            base = k.min_denominator
            mind = rw.number_param(t("rankings_min_den", lang), "mind", max_value=1e12,
                                   placeholder=f"{base:g}" if base else "—",
                                   help=t("rankings_min_den_help", lang, n=f"{base:g}" if base else "—"))
    try:
        table = read.league(kpi, period, pop, small, mind)
    except RankingError as exc:
        st.warning(str(exc))
        return
    level = population_level(pop)
    view = lv.league_view(table, k, lang, params, level, small == "flag", geo)
    direction = t(f"rankings_dir_{k.direction}", lang)
    floor = mind if mind is not None else k.min_denominator
    st.markdown(
        f"**{k.name(lang)}** · {rw.population_label(pop, geo, lang, ctx.period.end)} · {period} · {direction}"
        + (f" · {t('rankings_floor', lang, n=f'{floor:g}')}" if floor else "")
    )
    st.caption(lv.league_summary(table, k, lang))
    if level == "township":
        st.caption(t("township_demo_note", lang))
    cols = view.columns
    cfg = {
        cols["rank"]: st.column_config.NumberColumn(format="%d", width=60),
        cols["change"]: st.column_config.TextColumn(width=60, help=t("rankings_change_help", lang)),
        cols["region"]: st.column_config.LinkColumn(display_text=rf.LINK_TEXT, help=t("open_profile", lang),
                                                    width="large" if lang == "en" else "medium"),  # long pinyin names
        cols["gap"]: st.column_config.NumberColumn(help=t("rankings_gap_help", lang)),
        cols["trend"]: st.column_config.LineChartColumn(width="small"),
        cols["ci"]: st.column_config.TextColumn(help=t("rankings_ci_help", lang)),
        cols["range"]: st.column_config.TextColumn(help=t("rankings_range_help", lang)),
    }
    if view.n_ranked:  # 批示督办: a ◆ column; selecting a row offers 批示 on that region's figure
        ranked_regions = table.loc[table["standing"] == "ranked", "region"].tolist()
        marks = fv.markers(kpis=[kpi], regions=ranked_regions)
        shown = rf.with_markers(view.ranked, [fv.marker_text(marks[(kpi, r)], lang) if (kpi, r) in marks else ""
                                              for r in ranked_regions], t("followup_col_marker", lang), cols["region"])
        ev = st.dataframe(rf.styled(shown), hide_index=True, width="stretch", column_config=cfg,
                          height=table_height(view.n_ranked), key="league_ranked", on_select="rerun",
                          selection_mode="single-row")
        picked = ev.selection.rows if ev else []
        if picked:
            fv.marker_link(ctx, kpi, ranked_regions[picked[0]], "league", key="fu_league", period=period)
    else:
        st.info(t("no_ranking", lang))
    if view.n_small:
        st.markdown(f"**{t('rankings_small_title', lang, n=view.n_small)}**")
        st.caption(t("rankings_small_caption", lang))
        st.dataframe(rf.styled(view.small), hide_index=True, width="stretch", column_config=cfg,
                     height=table_height(view.n_small, 320), key="league_small")
    if view.n_others:
        st.markdown(f"**{t('rankings_others_title', lang, n=view.n_others)}**")
        st.caption(t("rankings_others_caption", lang))
        st.dataframe(rf.styled(view.others), hide_index=True, width="stretch", column_config=cfg,
                     height=table_height(view.n_others, 320), key="league_others")
    downloads.buttons(table, f"{t('nav_rankings', lang)}_{kpi}_{pop}_{period}", lang, "dl_league")
    if level == "township":  # forecasts are made for the province, cities and counties
        return
    # 达标风险: the population's regions below a 50% chance of meeting the year-end target
    fcv.risk_section(ctx, k, geo.cities if pop == "cities" else rw.population_counties(pop, geo, ctx.period.end), level)


def scheme_view() -> None:
    codes = [s.code for s in book.schemes]
    a, b = st.columns(2)
    with a:
        code = urlstate.select(t("rankings_scheme", lang), codes, "scheme",
                               format_func=lambda s: book.scheme(s).label(lang))
    with b:
        pop = population_picker()
    try:
        res = read.scheme(code, period, pop)
    except RankingError as exc:
        st.warning(str(exc))
        return
    st.caption(sv.scheme_caption(res, lang))
    s = res.scheme
    st.caption(t("rankings_recipe_note", lang, name=s.label(lang), z=f"{s.tiers.separation:g}",
                 note=(s.recipe_note_en if lang == "en" else s.recipe_note_zh)))
    left_out = [k.kpi for k in s.kpis if len(res.components) and k.kpi not in set(res.components["kpi"])]
    if left_out:
        st.caption(t("rankings_left_out", lang, kpis=("、" if lang == "zh" else ", ").join(
            cat.kpi(k).name(lang) for k in left_out)))
    with st.expander(t("rankings_weights", lang)):
        st.dataframe(sv.scheme_weights(res, cat, lang), hide_index=True, width="stretch")
    level = "city" if pop == "cities" else "county"
    scored, unscored = sv.scheme_view(res, cat, geo, lang, params, level)
    left, right = st.columns([5, 3], gap="medium")
    with left:
        st.markdown(f"**{res.scheme.label(lang)}** · {rw.population_label(pop, geo, lang, ctx.period.end)} · {period}")
        cfg = {
            t("rank", lang): st.column_config.NumberColumn(format="%d", width=60),
            t("rankings_change", lang): st.column_config.TextColumn(width=60, help=t("rankings_change_help", lang)),
            t("region", lang): st.column_config.LinkColumn(display_text=rf.LINK_TEXT, help=t("open_profile", lang)),
        }
        if len(scored.df):
            st.dataframe(rf.styled(scored), hide_index=True, width="stretch", column_config=cfg,
                         height=table_height(len(scored.df), 560), key="scheme_scores")
        else:
            st.info(t("no_ranking", lang))
        if len(unscored.df):
            st.markdown(f"**{t('rankings_unscored_title', lang, n=len(unscored.df))}**")
            st.dataframe(rf.styled(unscored), hide_index=True, width="stretch", column_config=cfg,
                         height=table_height(len(unscored.df), 240), key="scheme_unscored")
        downloads.buttons(res.scores, f"{res.scheme.name(lang)}_{pop}_{period}", lang, "dl_scheme")
    with right:
        ranked = res.scores[res.scores["standing"] == "ranked"]
        if ranked.empty:
            return
        regions = ranked["region"].tolist()
        names = dict(zip(ranked["region"], ranked["name_en" if lang == "en" else "name_zh"], strict=True))
        region = urlstate.select(t("rankings_breakdown_region", lang), regions, "focus",
                                 format_func=lambda r: f"{int(ranked.set_index('region').loc[r, 'rank'])}. {names[r]}")
        row = ranked.set_index("region").loc[region]
        title = t("rankings_breakdown_title", lang, region=names[region], score=f"{row['score']:.1f}",
                  rank=int(row["rank"]), of=int(row["rank_of"]), tier=row["tier_en" if lang == "en" else "tier_zh"])
        st.markdown(f"**{title}**")
        st.caption(t("rankings_breakdown_caption", lang))
        bd = sv.breakdown_frame(res, region, cat, lang)
        plot(sv.breakdown_figure(bd, cat, lang), chart_name(res.scheme.label(lang), names[region], ctx.period.label),
             width="stretch", key="breakdown")
        if geo.get(region).level == "county":
            st.page_link(c.COUNTY, label=t("open_profile", lang) + f" · {names[region]}",
                         icon=":material/location_city:", query_params=ctx.params(county=region))
        downloads.buttons(bd, f"{res.scheme.name(lang)}_{names[region]}_{period}", lang, "dl_breakdown")


def lists_view() -> None:
    # open when the URL sets a rule parameter: the override (or its refusal) must be seen
    with st.expander(t("rankings_rule_params", lang), expanded=any(p in st.query_params for p in ("n", "k", "m"))):
        a, b, cc = st.columns(3)
        with a:
            n = rw.number_param(t("rankings_param_n", lang), "n", min_value=1, placeholder=t("rankings_as_set", lang))
        with b:
            k = rw.number_param(t("rankings_param_k", lang), "k", min_value=1, placeholder=t("rankings_as_set", lang))
        with cc:
            m = rw.number_param(t("rankings_param_m", lang), "m", min_value=1, placeholder=t("rankings_as_set", lang))
        st.caption(t("rankings_rule_params_help", lang))
    try:
        entries = read.lists(period, n, k, m)
    except RankingError as exc:
        st.warning(str(exc))
        return
    if ctx.scope != PROVINCE:
        keep = set(geo.counties_of(ctx.scope)) | {ctx.scope}
        entries = entries[entries["region"].isin(keep)]
        st.caption(t("rankings_scope_filter", lang, scope=geo.get(ctx.scope).name(lang)))
    rules = apply_overrides(book.lists, n, k, m)
    for board in ("red", "black"):
        colour, bg = ("#fecaca", "#7f1d1d") if board == "red" else ("#e2e8f0", "#020617")
        n_entries = int((entries["board"] == board).sum())
        st.html(f'<div style="background:{bg};color:{colour};border:1px solid #334155;border-radius:6px;'
                f'padding:6px 12px;font-size:1.1rem;font-weight:700">{t(f"rankings_board_{board}", lang)}'
                f' · {n_entries}<span style="font-weight:400;font-size:0.85rem;margin-left:12px">'
                f'{t(f"rankings_board_{board}_tip", lang)}</span></div>')
        for r in rules:
            if r.board != board:
                continue
            e = entries[entries["rule_code"] == r.code]
            st.markdown(f"**{lsv.rule_title(r, cat, book, lang)}** · {len(e)}")
            if e.empty:
                st.caption(t("rankings_list_empty", lang))
                continue
            st.dataframe(
                lsv.list_frame(e, geo, lang, params), hide_index=True, width="stretch",
                height=table_height(len(e), 320), key=f"list_{r.code}",
                column_config={
                    t("region", lang): st.column_config.LinkColumn(display_text=rf.LINK_TEXT, width=140,
                                                                   help=t("open_profile", lang)),
                    t("rankings_city", lang): st.column_config.TextColumn(width=90),
                    t("rankings_reason", lang): st.column_config.TextColumn(width="large"),
                },
            )
    downloads.buttons(entries, f"{t('rankings_view_lists', lang)}_{period}", lang, "dl_lists")


ctx = get_ctx()
lang = ctx.lang
read = data.reader()
geo, cat = read.geo, read.catalogue
book = schemes()
period = ctx.period.label
params = ctx.params()
header(ctx, t("nav_rankings", lang))
if not data.has_data(read.bulk(ctx.period)):
    c.empty_state(ctx)
    st.stop()
view = urlstate.select(t("rankings_view", lang), ["kpi", "scheme", "lists"], "rview", widget="segmented",
                       format_func=lambda v: t(f"rankings_view_{v}", lang), label_visibility="collapsed")
{"kpi": kpi_view, "scheme": scheme_view, "lists": lists_view}[view]()
