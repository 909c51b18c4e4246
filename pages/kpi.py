"""指标详情: one KPI for one region, designed for a phone and working on a desktop too.

?kpi=<code>&region=<code>: the KPI's tile at full width, 批示, its trend against the target, the view's
regions ranked and its definition (ui.phone.kpi_detail), with a back control to the overview. The
region defaults to the view's scope; one outside the user's scope was already dropped by the frame.
"""

from __future__ import annotations

import streamlit as st

from ui import data, phone, urlstate
from ui.i18n import t
from ui.shell import ctx as get_ctx

ctx = get_ctx()
read = data.reader()
cat, geo = read.catalogue, read.geo
heads = [k.code for k in cat.headline_kpis()]
codes = heads + [k.code for k in cat.kpis if k.code not in heads]
region = str(st.query_params.get("region") or ctx.scope)
if region not in geo.regions or not read.scope.allows(region):
    region = ctx.scope
body = st.container()  # drawn first, filled once the picker below has said which KPI
kpi = urlstate.select(t("phone_other_kpi", ctx.lang), codes, "kpi", default=heads[0],
                      format_func=lambda x: cat.kpi(x).name(ctx.lang))
with body:
    phone.kpi_detail(ctx, kpi, region)
