"""Streamlit components shared by the pages: each takes the view context and draws one block.

Data assembly happens in the plain modules (tiles, ranking, alerts, profile); here it is only
laid out. Page links carry the global view (lang, period, scope) so every view is a link.
"""

from __future__ import annotations

from html import escape

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.geography import PROVINCE
from metrics.periods import Period
from metrics.summary import system_summary
from ui import data, fmt, html, maps, ranking, urlstate
from ui import followup_view as fv
from ui import forecast_view as fcv
from ui.alerts import SCREENFUL, Alert, build_alerts, screenful
from ui.chart_style import chart_name, plot
from ui.i18n import t
from ui.profile import comparison_regions
from ui.shell import Ctx
from ui.tiles import SystemScore, Tile, scope_counties, system_scores, system_table
from ui.tiles import headline_tiles as tiles_of

OVERVIEW, COUNTY, SYSTEM = "pages/overview.py", "pages/county.py", "pages/system.py"
ALERT_ICON = {"overdue": ":material/schedule:", "off_target": ":material/flag:", "drop": ":material/trending_down:",
              "falling": ":material/south_east:", "stale": ":material/hourglass_empty:", "small": ":material/blur_on:",
              "followup": ":material/assignment_late:"}
FOLLOWUP = "pages/followup.py"
OVERVIEW_MAP_HEIGHT = 400  # the overview's map: fits the wall at 1920x1080 (ui.warmup prepares this figure)


def scope_name(ctx: Ctx) -> str:
    return t("province_scope", ctx.lang) if ctx.scope == PROVINCE else data.engine().geo.get(ctx.scope).name(ctx.lang)


def empty_state(ctx: Ctx) -> None:
    if ctx.latest is None:
        st.info(t("no_db", ctx.lang))
    else:
        st.info(t("empty_period", ctx.lang, period=ctx.period.label, latest=ctx.latest.label))


@data.cached(max_entries=128)
def _overview_model(period: str, scope: str, lang: str):
    read = data.reader()
    cat, geo, p = read.catalogue, read.geo, Period.parse(period)
    bulk = read.bulk(p)
    trend = read.trend([k.code for k in cat.headline_kpis()], [scope], p)
    return (
        tiles_of(bulk, trend, cat, geo, scope, lang, read.forecasts(p, [k.code for k in cat.headline_kpis()])),
        system_scores(bulk, cat, scope, lang),
        build_alerts(bulk, cat, geo, scope, p, scope_counties(geo, scope), lang),
    )


def overview_model(ctx: Ctx) -> tuple[list[Tile], list[SystemScore], list[Alert]]:
    """Headline tiles, system scores and alerts for the view (cached per data version)."""
    return _overview_model(ctx.period.label, ctx.scope, ctx.lang)


def headline_tiles(tiles: list[Tile], ctx: Ctx) -> None:

    fv.flash(ctx)
    marks = fv.kpi_markers([x.kpi for x in tiles])  # latest item on the KPI in the scope, number active
    if ctx.kiosk or not (marks or fv.may_instruct(ctx.scope)):
        st.html(fcv.tile_grid(tiles, ctx.lang))
        return
    # one grid of tiles, each tile a container holding its 批示 button and ◆ marker (placed inside the
    # tile by ui/wall_css.py), so the action takes no row of its own
    with st.container(key="wall_tiles"):
        for tl in tiles:
            with st.container(key=f"wall_tile_{tl.kpi}"):
                st.html(fcv.tile(tl, ctx.lang))
                item, n = marks.get(tl.kpi, (None, 0))
                if item is not None:
                    with st.container(key=f"wall_mark_{tl.kpi}"):
                        st.page_link(FOLLOWUP, label=fv.marker_text(item, ctx.lang) + (f" ({n})" if n > 1 else ""),
                                     query_params=ctx.params(item=str(item.id)))
                fv.instruct_button(ctx, tl.kpi, ctx.scope, "tile", key=f"fu_tile_{tl.kpi}")


def system_row(scores: list[SystemScore], ctx: Ctx) -> None:
    """One tile per system, each a link to that system's page (same view parameters)."""
    cells = []
    for s in scores:
        href = f"system?{ctx.qs(system=s.code)}"
        cells.append(f'<a href="{escape(href)}" target="_self">{html.system_tile(s, ctx.lang)}</a>')
    st.html('<div class="sys-grid">' + "".join(cells) + "</div>")


def _kpi_options(cat, county_only: bool = True) -> list[str]:
    level = {m.code: m.level for m in cat.measures}
    heads = [k.code for k in cat.headline_kpis()]
    rest = [k.code for k in cat.kpis if k.code not in heads]
    return [c for c in heads + rest if not county_only or level[cat.kpi(c).measures[0]] == "county"]


def default_map_kpi(cat, county_only: bool = True) -> str:
    """The first headline rate with targets (a rate has a target in every county, so the map opens
    coloured by status); the KPI pickers' default and what ui.warmup prepares."""
    opts = _kpi_options(cat, county_only)
    return next((c for c in opts if cat.kpi(c).format == "percent" and cat.kpi(c).targets), opts[0])


def kpi_picker(ctx: Ctx, key: str = "kpi", label_key: str = "map_kpi", county_only: bool = True) -> str:
    """KPI select box bound to the URL; headline KPIs first, the first headline rate by default."""
    cat = data.engine().catalogue
    opts = _kpi_options(cat, county_only)
    default = default_map_kpi(cat, county_only)
    return urlstate.select(t(label_key, ctx.lang), opts, key, default=default,
                           format_func=lambda c: cat.kpi(c).name(ctx.lang))


@data.cached(shared=True, max_entries=64)
def _map_figure(period: str, kpi: str, scope: str, lang: str, colour: str, height: int) -> dict:
    """The map as a plain figure dict, built once per view and data version (read-only)."""
    eng = data.engine()
    bulk = data.reader().bulk(Period.parse(period))
    fig = maps.county_map(bulk, eng.catalogue.kpi(kpi), scope_counties(eng.geo, scope), eng.geo, lang,
                          colour=colour, height=height)
    return maps.figure_dict(fig)


def county_map(ctx: Ctx, kpi: str, colour: str, height: int = 430, key: str = "map") -> None:
    """The choropleth; a click on a county opens its profile."""
    eng = data.engine()
    fig = _map_figure(ctx.period.label, kpi, ctx.scope, ctx.lang, colour, height)

    fig = fv.map_with_markers(maps.fresh(fig), kpi, scope_counties(eng.geo, ctx.scope), ctx.lang)
    scope_name = t("province_scope", ctx.lang) if ctx.scope == PROVINCE else eng.geo.get(ctx.scope).name(ctx.lang)
    with st.container(key="wall_map"):  # its height follows the screen (ui/wall_css.py); the chart fills it
        event = plot(maps.prebuilt(fig), chart_name(eng.catalogue.kpi(kpi).name(ctx.lang), scope_name, ctx.period.label),
                     config={"topojsonURL": maps.TOPOJSON_URL}, key=key, on_select="rerun", selection_mode="points",
                     width="stretch", height="stretch")
    pts = (event or {}).get("selection", {}).get("points", []) if event else []
    if pts:
        code = pts[0].get("location") or pts[0].get("customdata")
        if isinstance(code, list):
            code = code[0]
        if code in eng.geo.regions:
            st.switch_page(COUNTY, query_params=ctx.params(county=code))
    effective = maps.effective_colour(data.reader().bulk(ctx.period), eng.catalogue.kpi(kpi), scope_counties(eng.geo, ctx.scope),
                                      colour)
    legend = maps.status_legend(ctx.lang) if effective == "status" else []
    # the map colours what has arrived: say how much, as the map page does
    cov = maps.coverage_note(data.reader().bulk(ctx.period), kpi, scope_counties(eng.geo, ctx.scope), ctx.lang)
    st.html('<div class="map-notes">' + html.legend(legend)
            + f'<div class="legend" style="color:var(--c-faint)">{t("map_hint", ctx.lang)}</div>'
            + (f'<div class="legend" style="color:var(--c-warn)">{escape(cov)}</div>' if cov else "") + "</div>")


def league_tables(ctx: Ctx, bulk: pd.DataFrame, prev: pd.DataFrame | None, kpi: str) -> None:
    eng = data.engine()
    k = eng.catalogue.kpi(kpi)
    ranked = ranking.county_ranking(bulk, prev, kpi, scope_counties(eng.geo, ctx.scope))
    if ranked.empty:
        st.caption(t("no_ranking", ctx.lang))
        return
    best, worst = ranking.best_worst(ranked, 5)
    qs = ctx.qs()
    st.html(
        f'<div class="panel-title">{escape(k.name(ctx.lang))} · {escape(t("rank_change", ctx.lang))}</div>'
        + html.league(t("best5", ctx.lang), ranking.rows_for_display(best, k, eng.geo, ctx.lang), qs, ctx.lang)
        + html.league(t("worst5", ctx.lang), ranking.rows_for_display(worst, k, eng.geo, ctx.lang), qs, ctx.lang)
    )


def alerts_panel(ctx: Ctx, alerts: list[Alert], height: int = 440, limit: int = 40) -> None:

    alerts = fv.overdue_alerts(ctx) + alerts
    title = f'<div class="panel-title">{t("alerts", ctx.lang)} · {len(alerts)}</div>'
    if ctx.kiosk:
        st.html(title)
    else:  # the title and the 批示 picker share one line: the wall has no height to spare
        a, b = st.columns([1, 1], vertical_alignment="center")
        a.html(title)
        with b:
            _instruct_on_alert(ctx, alerts)
    box = st.container(height=height, border=True)
    with box:
        if not alerts:
            st.caption(t("no_alerts", ctx.lang))
        shown, more = screenful(alerts, min(limit, SCREENFUL))
        for a in shown:
            kind, code = a.target
            if kind == "followup":
                st.page_link(FOLLOWUP, label=a.text, icon=ALERT_ICON[a.kind], query_params=ctx.params(item=code))
            elif kind == "county":
                st.page_link(COUNTY, label=a.text, icon=ALERT_ICON[a.kind], query_params=ctx.params(county=code))
            else:
                st.page_link(SYSTEM, label=a.text, icon=ALERT_ICON[a.kind],
                             query_params=ctx.params(system=code, **({"skpi": a.kpi} if a.kpi else {})))
        if more:
            st.caption(t("alerts_more", ctx.lang, n=more))


def _instruct_on_alert(ctx: Ctx, alerts: list[Alert]) -> None:
    """A popover listing the alerts about a KPI (a county's or the scope's figure): pick one, write 批示."""

    options = [(i, a.target[1] if a.target[0] == "county" else ctx.scope) for i, a in enumerate(alerts)
               if a.kpi and a.kind != "followup"]
    options = [(i, r) for i, r in options if fv.may_instruct(r)]
    if ctx.kiosk or not options:
        return
    with st.popover(t("followup_pick_alert", ctx.lang), icon=":material/edit_note:"):
        pick = st.selectbox(t("alerts", ctx.lang), options, format_func=lambda o: alerts[o[0]].text, key="fu_alert")
        if st.button(t("followup_write", ctx.lang), key="fu_alert_go", type="primary"):
            fv.request("fu_alert_go", alerts[pick[0]].kpi, pick[1], "alert")
    fv.host(ctx, "fu_alert_go")


def table(df: pd.DataFrame, lang: str, **kw) -> None:
    """st.dataframe of a frame with a 'status' code column: shown as a coloured '● 达标' cell.

    (Glyph and colour rather than emoji: the wall-screen PC may have no colour-emoji font.)
    """
    col = t("status", lang)
    codes = list(df["status"])
    disp = df.drop(columns=[c for c in ("code", "status") if c in df.columns])
    disp[col] = ["● " + fmt.status_label(s, lang) for s in codes]
    colours = [fmt.STATUS_TEXT.get(s, "#cbd5e1") for s in codes]
    styled = disp.style.apply(lambda _: [f"color: {c}" for c in colours], subset=[col])
    st.dataframe(styled, hide_index=True, width="stretch", **kw)


def system_view(ctx: Ctx, system: str, bulk: pd.DataFrame, scores: list[SystemScore], with_regions: bool = True,
                kpi: str | None = None) -> None:
    """A system's KPIs at the scope: value, target, status, changes, rank, as-of, definition, source."""
    eng = data.engine()
    cat = eng.catalogue
    s = next(x for x in scores if x.code == system)
    sysdef = cat.system(system)
    name = sysdef.name_en if ctx.lang == "en" else sysdef.name_zh
    score = "—" if s.score is None else f"{s.score * 100:.1f}"
    colour = fmt.STATUS_COLOURS.get(s.status, "#64748b")
    st.html(f'<div class="hdr"><span class="h-title">{escape(name)}</span>'
            f'<span class="h-meta" title="{t("score_tip", ctx.lang)}">{t("score", ctx.lang)} '
            f'<b style="color:{colour}">{score}</b> · {escape(s.share or t("green_share", ctx.lang, n=s.n_green, of=s.n_target))}</span>'
            f'<span class="h-meta">{escape(t("system_table", ctx.lang, scope=scope_name(ctx), period=ctx.period.label, n=s.n_kpis))}'
            "</span></div>")
    st.caption(system_summary(bulk, cat, system, ctx.scope, eng.geo, ctx.lang))  # the automatic summary
    table(system_table(bulk, cat, system, ctx.scope, ctx.lang), ctx.lang,
          column_config={t("definition", ctx.lang): st.column_config.TextColumn(width="large")})
    if not with_regions:
        return
    codes = [k.code for k in cat.kpis_of(system)]
    kpi = kpi if kpi in codes else codes[0]
    k = cat.kpi(kpi)
    st.markdown(f"**{t('regions_of_kpi', ctx.lang, kpi=k.name(ctx.lang))}**")
    regions = eng.geo.cities if ctx.scope == PROVINCE else eng.geo.counties_of(ctx.scope)
    rows = bulk[(bulk["kpi"] == kpi) & bulk["region"].isin(regions)].copy()
    if rows.empty or rows["value"].isna().all():
        st.caption(t("rank_na", ctx.lang) + f" · {fmt.status_label('na', ctx.lang)}")
        return
    rows = rows.sort_values(["rank", "region"], na_position="last")
    out = pd.DataFrame({
        t("region", ctx.lang): [eng.geo.get(r).name(ctx.lang) for r in rows["region"]],
        t("value", ctx.lang): [fmt.value(v, k, ctx.lang, short=False) for v in rows["value"]],
        t("target", ctx.lang): [fmt.value(v, k, ctx.lang, short=False) if fmt.is_num(v) else t("no_target", ctx.lang)
                                for v in rows["target"]],
        t("status", ctx.lang): "",
        "status": rows["status"].tolist(),
        t("rank", ctx.lang): [f"{int(r)}/{int(n)}" if fmt.is_num(r) else "—" for r, n in zip(rows["rank"], rows["rank_of"], strict=False)],
        t("change_mom", ctx.lang): [fmt.change(v, k, ctx.lang) for v in rows["change_prev"]],
        t("reported_col", ctx.lang): [f"{a}/{b}" for a, b in zip(rows["n_reported"], rows["n_expected"], strict=False)],
        t("as_of", ctx.lang): rows["as_of"].fillna("—").tolist(),
    })
    table(out, ctx.lang)


def trend_chart(ctx: Ctx, county: str, kpi: str, height: int = 320) -> None:
    """The county's 12-month trend for one KPI against its city, the province and its peer groups."""
    eng = data.engine()
    k = eng.catalogue.kpi(kpi)
    # a count (users, calls) of a county is not comparable with its city's or the province's total
    regions = comparison_regions(eng.geo, county, ctx.period) if k.format == "percent" else [county]
    tr = data.reader().trend([kpi], regions, ctx.period)
    scale = 100.0 if k.format == "percent" else 1.0
    st.markdown(f"**{t('trend_title', ctx.lang, kpi=k.name(ctx.lang), county=eng.geo.get(county).name(ctx.lang))}**"
                if k.format == "percent" else f"**{k.name(ctx.lang)} · {eng.geo.get(county).name(ctx.lang)}**")
    fig = go.Figure()
    palette = ["#38bdf8", "#f472b6", "#facc15", "#a3e635", "#c084fc"]
    for i, r in enumerate(regions):
        d = tr[tr["region"] == r].sort_values("month")
        fig.add_trace(go.Scatter(
            x=d["month"], y=d["value"] * scale, name=eng.geo.get(r).name(ctx.lang), mode="lines+markers",
            line=dict(width=3 if i == 0 else 1.8, color=palette[i % len(palette)]),
        ))

    fv.mark_trend(fig, ctx, kpi, county, scale, tr["month"].min() if len(tr) else None)
    row = bulk_row_target(ctx, kpi, county)
    if row is not None:
        fig.add_hline(y=row * scale, line_dash="dot", line_color="#94a3b8",
                      annotation_text=t("target", ctx.lang), annotation_font_color="#94a3b8")
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=30, b=10), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font=dict(family=maps.FONT, color="#e2e8f0"), legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        showlegend=True,
        yaxis=dict(gridcolor="#1e3a5f", ticksuffix="%" if k.format == "percent" else ""),
        xaxis=dict(gridcolor="#1e3a5f", tickformat="%Y-%m"),
    )
    plot(fig, chart_name(k.name(ctx.lang), eng.geo.get(county).name(ctx.lang), ctx.period.label), width="stretch")


def bulk_row_target(ctx: Ctx, kpi: str, region: str) -> float | None:
    b = data.reader().bulk(ctx.period)
    r = b[(b["kpi"] == kpi) & (b["region"] == region)]
    if r.empty or not fmt.is_num(r.iloc[0]["target"]):
        return None
    return float(r.iloc[0]["target"])
