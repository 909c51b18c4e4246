"""A system's KPIs for the scope in one table (the detailed system pages are issue #4)."""

from __future__ import annotations

import streamlit as st

from ui import components as c
from ui import data, urlstate
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header
from ui.tiles import system_scores

ctx = get_ctx()
eng = data.engine()
cat = eng.catalogue
systems = [s.code for s in sorted(cat.systems, key=lambda s: s.order)]
header(ctx, t("nav_system", ctx.lang))
a, b = st.columns(2)
with a:
    system = urlstate.select(
        t("pick_system", ctx.lang), systems, "system",
        format_func=lambda s: cat.system(s).name_en if ctx.lang == "en" else cat.system(s).name_zh,
    )
codes = [k.code for k in cat.kpis_of(system)]
with b:
    kpi = urlstate.select(t("pick_kpi", ctx.lang), codes, "skpi", format_func=lambda k: cat.kpi(k).name(ctx.lang))
bulk = data.bulk(ctx.period)
if not data.has_data(bulk):
    c.empty_state(ctx)
else:
    c.system_view(ctx, system, bulk, system_scores(bulk, cat, ctx.scope, ctx.lang), kpi=kpi)
