"""地图 / Map: any KPI on the 90 counties or the 11 cities, by status or by value, month by month.

Every choice is in the URL (kpi, level, colour, city, view, peer, month, county), so a map is a
link. The month slider covers the 12 months ending at the global period, with the value scale and
the 3D heights held fixed over all of them so change is visible; ▶ plays them (the map part reruns
itself as a fragment). Flat map: Plotly SVG on the shipped boundaries; 3D: pydeck on a blank local
style. Nothing is loaded from outside the app (ui.maps says how).
"""

from __future__ import annotations

import time
from functools import partial
from html import escape

import pandas as pd
import pydeck as pdk
import streamlit as st

from auth import policy
from metrics.catalogue import Kpi
from metrics.geography import PROVINCE
from metrics.periods import Period, add_months
from ui import auth as ui_auth
from ui import components as c
from ui import data, downloads, fmt, html, maps, urlstate
from ui import followup_view as fv
from ui.chart_style import chart_name, plot
from ui.i18n import t
from ui.shell import FIRST_MONTH, Ctx, header
from ui.shell import ctx as get_ctx

WINDOW = 12  # months on the slider (ending at the global period)
PLAY_EVERY = 1.8  # seconds per month while playing
PLAY_KEY, PLAY_TICK = "_maps_playing", "_maps_tick"
FLAT_HEIGHT, DECK_HEIGHT = 760, 720
COUNTY_PAGE = "pages/county.py"
PANEL_KPIS = 5  # other headline KPIs in the side panel


# -- model (cached per database, data version and scope) ------------------------------------------
def window(period: Period) -> list[str]:
    """The slider's months: WINDOW months up to the period, not before the reform's first month."""
    last = period.end.replace(day=1)
    months = [add_months(last, -i) for i in range(WINDOW - 1, -1, -1)]
    return [f"{m:%Y-%m}" for m in months if m >= FIRST_MONTH] or [f"{last:%Y-%m}"]


@data.cached(max_entries=128)
def _fixed_range(kpi: str, regions: tuple[str, ...], end: str, months: int) -> tuple[float, float] | None:
    """Min and max of the KPI over every month of the window and every region shown (display units)."""
    tr = data.reader().trend([kpi], list(regions), Period.parse(end), months)
    return maps.value_range(tr["value"], data.engine().catalogue.kpi(kpi))


def fixed_range(kpi: str, regions: list[str], months: list[str]) -> tuple[float, float] | None:
    return _fixed_range(kpi, tuple(regions), months[-1], len(months))


def rows_of(kpi: str, month: str, regions: list[str]) -> pd.DataFrame:
    return maps.region_rows(data.reader().bulk(Period.parse(month)), kpi, regions)


@data.cached(shared=True, max_entries=96)
def _flat_figure(kpi: str, month: str, regions: tuple[str, ...], kind: str, colour: str,
                 zrange: tuple[float, float] | None, lang: str, outline: tuple[str, ...], outline_name: str,
                 selected: str | None, zoomed: bool) -> dict:
    """The flat map as a plain figure dict (read-only), built once per view and data version."""
    eng = data.engine()
    k = eng.catalogue.kpi(kpi)
    short = kind == "counties" and (not zoomed or lang == "en")  # 上城 at province zoom; 上城区 in a city
    fig = maps.region_map(
        rows_of(kpi, month, list(regions)), k, eng.geo, lang, kind, colour, zrange=zrange, height=FLAT_HEIGHT,
        labels=True, short_labels=short, outline=outline, outline_name=outline_name, selected=selected,
        label_size=14 if zoomed or kind == "cities" else 11,
    )
    return maps.figure_dict(fig)


@data.cached(shared=True, max_entries=48)
def _deck(kpi: str, month: str, regions: tuple[str, ...], kind: str, colour: str,
          zrange: tuple[float, float] | None, lang: str) -> pdk.Deck:
    eng = data.engine()
    return maps.deck_3d(rows_of(kpi, month, list(regions)), eng.catalogue.kpi(kpi), eng.geo, lang, kind, colour,
                        zrange, height=DECK_HEIGHT)


# -- URL-bound controls ---------------------------------------------------------------------------
def url_toggle(label: str, key: str) -> bool:
    """A toggle kept in the URL as key=1 (same rule as ui.urlstate: a changed URL wins)."""
    url, last = st.query_params.get(key), st.session_state.get(f"_url_{key}")
    if url is not None and url != last:
        st.session_state[key] = url == "1"
    elif key not in st.session_state:
        st.session_state[key] = False
    on = bool(st.toggle(label, key=key))
    if on and st.query_params.get(key) != "1":
        st.query_params[key] = "1"
    elif not on and key in st.query_params:
        del st.query_params[key]
    st.session_state[f"_url_{key}"] = "1" if on else None
    return on


def month_slider(months: list[str], lang: str) -> str:
    """The month, bound to ?month= (the window's last month, i.e. the global period, is the default)."""
    urlstate._seed("month", months, months[-1])
    month = st.select_slider(t("maps_month", lang), months, key="month")
    month = month if month in months else months[-1]
    urlstate.write("month", month, months[-1])
    return month


def _toggle_play(months: list[str]) -> None:
    playing = not st.session_state.get(PLAY_KEY, False)
    st.session_state[PLAY_KEY] = playing
    st.session_state[PLAY_TICK] = time.monotonic()
    if playing and st.session_state.get("month") == months[-1]:
        st.session_state["month"] = months[0]  # play from the start when at the end


def _step(months: list[str]) -> None:
    """While playing: one month further per PLAY_EVERY seconds; stop at the window's end."""
    now = time.monotonic()
    if now - st.session_state.get(PLAY_TICK, 0.0) < PLAY_EVERY * 0.7:
        return
    st.session_state[PLAY_TICK] = now
    cur = st.session_state.get("month")
    i = months.index(cur) if cur in months else len(months) - 1
    if i + 1 < len(months):
        st.session_state["month"] = months[i + 1]
    else:
        st.session_state[PLAY_KEY] = False


def _picked_code(event: object, kind: str) -> str | None:
    """The region code of a click on the flat map (Plotly) or the 3D view (pydeck)."""
    sel = (event or {}).get("selection", {}) if event else {}
    for p in sel.get("points", []) or []:
        code = p.get("location") or p.get("customdata")
        code = code[0] if isinstance(code, list) else code
        if code:
            return str(code)
    for objs in (sel.get("objects") or {}).values():
        for o in objs or []:
            code = (o.get("properties") or {}).get("code")
            if code:
                return str(code)
    return None


def _picked(key: str, kind: str, codes: tuple[str, ...]) -> None:
    """Click: a city zooms to its counties; a county opens the side panel (both kept in the URL)."""
    code = _picked_code(st.session_state.get(key), kind)
    if code not in codes:
        return
    if kind == "cities":
        st.session_state["level"], st.session_state["city"] = "county", code
    else:
        st.query_params["county"] = code


def _close_panel() -> None:
    if "county" in st.query_params:
        del st.query_params["county"]


def _back_to_province() -> None:
    st.session_state["city"] = PROVINCE


# -- side panel -----------------------------------------------------------------------------------
def side_panel(ctx: Ctx, county: str, kpi: str, month: str) -> None:
    """Key figures of the selected county: the map's KPI in full, a few headline KPIs, a profile link."""
    eng = data.engine()
    geo, cat = eng.geo, eng.catalogue
    p = Period.parse(month)
    reg = geo.get(county)
    k = cat.kpi(kpi)
    r = maps.region_rows(data.reader().bulk(p), kpi, [county]).iloc[0]
    colour = maps.status_colour(r["status"])
    tr = data.reader().trend([kpi], [county], p)
    spark = [None if pd.isna(v) else float(v) for v in tr.sort_values("month")["value"]]
    groups = geo.peer_groups_of(county, p.end)
    sep = "、" if ctx.lang == "zh" else ", "
    meta = t("maps_panel_meta", ctx.lang, city=geo.get(geo.city_of(county)).name(ctx.lang),
             type=t(f"type_{reg.type_zh}", ctx.lang) if reg.type_zh else "—",
             pop=f"{reg.population:,}" if reg.population else "—")
    peers = t("maps_panel_peers", ctx.lang,
              groups=sep.join(geo.get(g).name(ctx.lang) for g in groups) or t("no_peer", ctx.lang))
    lines = maps.hover_lines(r, k, geo, ctx.lang)[2:]
    others = [x for x in cat.headline_kpis() if x.code != kpi][:PANEL_KPIS]
    b = data.reader().bulk(p)
    orow = b[b["region"].eq(county) & b["kpi"].isin([x.code for x in others])].set_index("kpi")
    trs = []
    for x in others:
        v = orow.loc[x.code] if x.code in orow.index else None
        st_ = str(v["status"]) if v is not None else "missing"
        trs.append(
            f'<tr><td><span class="dot" style="background:{maps.status_colour(st_)}"></span>'
            f'{escape(x.name(ctx.lang))}</td>'
            f'<td class="num">{escape(fmt.value(v["value"] if v is not None else None, x, ctx.lang))}</td></tr>'
        )
    st.html(
        f'<div class="map-panel" data-county="{county}">'
        f'<div class="h-title" style="font-size:1.35rem">{escape(reg.name(ctx.lang))}</div>'
        f'<div style="color:var(--c-muted);font-size:0.85rem">{escape(meta)}<br>{escape(peers)}</div>'
        f'<div style="margin-top:8px;color:var(--c-text2)">{escape(k.name(ctx.lang))} · {month}</div>'
        f'<div style="display:flex;align-items:baseline;gap:10px"><span class="t-value">'
        f'{escape(fmt.value(r["value"], k, ctx.lang))}</span><span class="t-status" style="background:{colour}">'
        f'{escape(fmt.status_label(str(r["status"]), ctx.lang))}</span></div>'
        + "".join(f'<div style="color:var(--c-text2);font-size:0.88rem">{x}</div>' for x in lines)
        + f'<div style="color:var(--c-faint);font-size:0.78rem;margin-top:4px">{escape(t("maps_trend", ctx.lang))}</div>'
        + html.sparkline(spark, colour, w=260, h=40)
        + '<div class="league" style="margin-top:8px"><div class="l-title">'
        + f'{escape(t("maps_panel_headline", ctx.lang))}</div><table>{"".join(trs)}</table></div></div>'
    )
    a, b2 = st.columns([3, 1.4])
    with a:
        st.page_link(COUNTY_PAGE, label=t("maps_open_profile", ctx.lang), icon=":material/location_city:",
                     query_params=ctx.params(county=county, period=month))
    with b2:
        st.button(t("maps_close", ctx.lang), key="maps_close", on_click=_close_panel, icon=":material/close:")
    fv.marker_link(ctx, kpi, county, "map", key="fu_map_panel", period=month)  # 批示督办


def legend(k: Kpi, colour: str, eff: str, zrange: tuple[float, float] | None, months: list[str], kind: str,
           view: str, lang: str) -> None:
    """Status colours, or the fixed value range in the KPI's unit; then how to use the map."""
    parts = []
    if eff != colour:
        lvl = t(f"maps_level_{'city' if kind == 'cities' else 'county'}", lang)
        lvl = lvl.lower() if lang == "en" else lvl
        parts.append(f'<div class="legend">{escape(t("maps_value_fallback", lang, level=lvl))}</div>')
    if eff == "status":
        parts.append(html.legend(maps.status_legend(lang)))
    elif zrange:
        lo, hi = (fmt.value(v / (100 if k.format == "percent" else 1), k, lang) for v in zrange)
        note = t("maps_fixed_scale", lang, lo=lo, hi=hi, first=months[0], last=months[-1])
        parts.append(f'<div class="legend">{escape(note)}</div>')
    hint = "maps_hint_3d" if view == "3d" else ("maps_hint_city" if kind == "cities" else "maps_hint_county")
    parts.append(f'<div class="legend" style="color:var(--c-faint)">{escape(t(hint, lang))}</div>')
    st.html("".join(parts))


def download_frame(rows: pd.DataFrame, kpi: str, month: str, colour: str, zrange: tuple[float, float] | None,
                   lang: str) -> pd.DataFrame:
    """The numbers behind the map, with names and the colour each region is drawn in."""
    eng = data.engine()
    out = rows[maps.ROW_COLUMNS].copy()
    out.insert(1, "name", [eng.geo.get(r).name(lang) for r in rows["region"]])
    out.insert(0, "month", month)
    out.insert(0, "kpi", kpi)
    out["colour"] = maps.region_colours(rows, eng.catalogue.kpi(kpi), colour, zrange)
    return out


# -- page -----------------------------------------------------------------------------------------
ctx = get_ctx()
eng = data.engine()
geo, cat = eng.geo, eng.catalogue
header(ctx, t("maps_title", ctx.lang))
# Only regions in the signed-in user's scope are drawn. The cached figures are keyed by
# the regions they show, so one user's cached map can never be served to a user of another scope.
read = data.reader()
counties, cities, zooms = read.counties(), read.cities(), read.zooms()
me = ui_auth.current_quiet()
may_download = me is not None and policy.can(me.role, "download")
if not counties or not data.has_data(read.bulk(ctx.period)):
    c.empty_state(ctx)
    st.stop()

# A widget's identity includes its page, so a value picked under the same key on another page (the
# overview's KPI and colour) would be lost here: re-assigning it carries it over.
for _key in ("kpi", "colour"):
    if _key in st.session_state:
        st.session_state[_key] = st.session_state[_key]
ca, cb, cc, cd, ce = st.columns([3.2, 1.6, 1.6, 2.0, 1.6], vertical_alignment="bottom")
with ca:
    kpi = c.kpi_picker(ctx)
with cb:
    level = urlstate.select(t("maps_level", ctx.lang), ["county", "city"] if cities else ["county"], "level",
                            widget="segmented", format_func=lambda x: t(f"maps_level_{x}", ctx.lang))
with cc:
    colour = urlstate.select(t("map_colour", ctx.lang), ["status", "value"], "colour", widget="segmented",
                             format_func=lambda x: t(f"colour_{x}", ctx.lang))
with cd:
    zoom = urlstate.select(
        t("maps_zoom", ctx.lang), zooms or [PROVINCE], "city", default=ctx.scope if ctx.scope in zooms else None,
        disabled=level == "city" or len(zooms) < 2,
        format_func=lambda x: t("maps_zoom_province", ctx.lang) if x == PROVINCE else geo.get(x).name(ctx.lang),
    )
with ce:
    view = urlstate.select(t("maps_view", ctx.lang), ["flat", "3d"], "view", widget="segmented",
                           format_func=lambda x: t(f"maps_view_{x}", ctx.lang))
months = window(ctx.period)
group_now = maps.mountain_group(geo, ctx.period.end)


def body(as_fragment: bool) -> None:
    """Slider, map, legend and side panel: the part that a playing map reruns every PLAY_EVERY s."""
    playing = bool(st.session_state.get(PLAY_KEY, False))
    if as_fragment and not playing:
        st.rerun()  # stopped: leave the self-rerunning fragment
    if as_fragment:
        _step(months)
    pa, pb, pc = st.columns([1.1, 8, 2.2], vertical_alignment="bottom")
    with pa:
        playing = bool(st.session_state.get(PLAY_KEY, False))
        st.button(t("maps_pause" if playing else "maps_play", ctx.lang), key="maps_play", on_click=_toggle_play,
                  args=(months,), icon=":material/pause:" if playing else ":material/play_arrow:",
                  help=t("maps_play_help", ctx.lang), width="stretch")
    with pb:
        month = month_slider(months, ctx.lang)
    with pc:
        gname = geo.get(group_now).name(ctx.lang) if group_now else t("maps_peer_default", ctx.lang)
        peer = url_toggle(t("maps_peer", ctx.lang, group=gname), "peer")
    p = Period.parse(month)
    k = cat.kpi(kpi)
    if level == "city":
        regions, kind, zoomed = cities, "cities", False
    else:
        zoomed = zoom != PROVINCE and zoom in cities
        regions, kind = ([x for x in geo.counties_of(zoom) if x in counties] if zoomed else counties), "counties"
    mbulk = read.bulk(p)
    eff = maps.effective_colour(mbulk, k, regions, colour)
    zrange = fixed_range(kpi, regions, months)
    group = maps.mountain_group(geo, p.end) if peer else None
    outline = tuple(m for m in geo.members(group, p.end) if kind == "cities" or m in regions) if group else ()
    selected = st.query_params.get("county")
    selected = selected if selected in counties else None
    rows = rows_of(kpi, month, regions)
    n_txt = t(f"maps_regions_{kind}", ctx.lang, n=len(regions))
    area = geo.get(zoom).name(ctx.lang) + " · " if zoomed and kind == "counties" else ""
    left, right = st.columns([3.2, 1.25], gap="medium")
    with left:
        caption = t("maps_caption", ctx.lang, kpi=k.name(ctx.lang), month=month, regions=area + n_txt)
        if cov := maps.coverage_note(mbulk, kpi, regions, ctx.lang):  # the map colours what has arrived: say how much
            caption += " · " + cov
        st.html(f'<div class="panel-title">{escape(caption)}</div>')
        codes = tuple(regions)
        if view == "3d":
            deck = _deck(kpi, month, codes, kind, eff, zrange, ctx.lang)
            key = f"maps_deck_{kind}"
            st.pydeck_chart(deck, key=key, on_select=partial(_picked, key, kind, codes),
                            selection_mode="single-object", height=DECK_HEIGHT, width="stretch")
        else:
            gname = geo.get(group).name(ctx.lang) if group else ""
            fig = _flat_figure(kpi, month, codes, kind, eff, zrange, ctx.lang, outline, gname,
                               selected if kind == "counties" else None, zoomed)
            fig = fv.map_with_markers(maps.fresh(fig), kpi, codes, ctx.lang, kind)  # 批示督办 markers
            key = f"maps_flat_{kind}"
            where = geo.get(zoom).name(ctx.lang) if zoomed else t("province_scope", ctx.lang)
            plot(maps.prebuilt(fig), chart_name(k.name(ctx.lang), where, month), config=maps.PLOTLY_CONFIG, key=key,
                 on_select=partial(_picked, key, kind, codes), selection_mode="points", width="stretch")
        legend(k, colour, eff, zrange, months, kind, view, ctx.lang)
    with right:
        if zoomed and kind == "counties" and PROVINCE in zooms:
            st.button(t("maps_back_province", ctx.lang), key="maps_back", on_click=_back_to_province,
                      icon=":material/zoom_out_map:")
        if selected:
            side_panel(ctx, selected, kpi, month)
        else:
            st.caption(t("maps_no_selection", ctx.lang))
        if may_download:  # CSV/Excel only for the roles allowed to take data away
            downloads.buttons(download_frame(rows, kpi, month, eff, zrange, ctx.lang),
                              t("maps_download_name", ctx.lang, kpi=k.name(ctx.lang), month=month), ctx.lang,
                              "maps_dl")


if st.session_state.get(PLAY_KEY):
    st.fragment(run_every=PLAY_EVERY)(body)(True)
else:
    body(False)
