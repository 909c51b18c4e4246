"""一屏掌控: the overview a leader reads in ten seconds (kiosk mode: self-refreshing, rotating)."""

from __future__ import annotations

import time
from dataclasses import replace

import streamlit as st

from ui import components as c
from ui import data, phone, urlstate
from ui.ask_view import ask_box
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header
from ui.tiles import system_scores

# at 1920x1080 the page fits one screen with these and ui.components.OVERVIEW_MAP_HEIGHT (larger walls
# scale the page: ui/wall_css.py)
ALERTS_HEIGHT = 440


def overview_body() -> None:
    ctx = get_ctx()
    bulk = data.reader().bulk(ctx.period)
    if ctx.kiosk or not data.has_data(bulk):  # the wall screen has no keyboard: no question box
        header(ctx, t("app_title", ctx.lang))
    else:  # the question box beside the title: the overview fits one screen
        head, ask = st.columns([3, 2], vertical_alignment="center")
        with head:
            header(ctx, t("app_title", ctx.lang))
        with ask:
            ask_box(ctx)
    if not data.has_data(bulk):
        c.empty_state(ctx)
        return
    prev = data.reader().bulk(ctx.period.previous())
    tiles, scores, alerts = c.overview_model(ctx)
    c.headline_tiles(tiles, ctx)
    c.system_row(scores, ctx)
    left, mid, right = st.columns([5, 3, 4], gap="medium")
    with left:
        a, b = st.columns([3, 2])
        with a:
            kpi = c.kpi_picker(ctx)
        with b:
            colour = urlstate.select(t("map_colour", ctx.lang), ["status", "value"], "colour",
                                     format_func=lambda x: t(f"colour_{x}", ctx.lang), widget="segmented")
        c.county_map(ctx, kpi, colour, height=c.OVERVIEW_MAP_HEIGHT)
    with mid:
        c.league_tables(ctx, bulk, prev, kpi)
    with right:
        c.alerts_panel(ctx, alerts, height=ALERTS_HEIGHT)


def kiosk_body() -> None:
    """Wall screen: rotate overview -> each system; data re-read on every run (no page reload).

    Without an explicit ?period= the wall screen follows the latest month as new data arrives.
    """
    ctx = get_ctx()
    if not st.query_params.get("period"):
        latest = data.latest()
        if latest is not None and latest != ctx.period:
            ctx = replace(ctx, period=latest, latest=latest)
            st.session_state["_ctx"] = ctx
    cat = data.engine().catalogue
    views = ["overview"] + ([s.code for s in sorted(cat.systems, key=lambda s: s.order)] if ctx.rotate else [])
    idx = int(time.time() // ctx.rotate) % len(views) if ctx.rotate else 0
    view = views[idx]
    if view == "overview":
        overview_body()
        return
    bulk = data.reader().bulk(ctx.period)
    if not data.has_data(bulk):
        header(ctx, t("app_title", ctx.lang))
        c.empty_state(ctx)
        return
    name = cat.system(view).name_en if ctx.lang == "en" else cat.system(view).name_zh
    header(ctx, t("app_title", ctx.lang) + " · " + t("kiosk_view", ctx.lang, view=name) + f" {idx + 1}/{len(views)}")
    c.system_view(ctx, view, bulk, system_scores(bulk, cat, ctx.scope, ctx.lang), with_regions=True)


ctx = get_ctx()
if ctx.kiosk:
    st.fragment(run_every=min(ctx.refresh, ctx.rotate or ctx.refresh))(kiosk_body)()
elif ctx.phone:  # 掌上驾驶舱: the same figures laid out for a phone (ui.phone)
    phone.overview(ctx)
else:
    overview_body()
