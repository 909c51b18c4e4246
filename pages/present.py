"""Presentation mode: the meeting pack as full-screen slides (?slide=N), advanced by the arrow keys,
PageUp/PageDown or a clicker; frozen figures by default (?freeze=ID, or ?live=1 for live data)."""

from __future__ import annotations

import streamlit as st

from metrics.periods import Period
from ui import auth, present
from ui.i18n import t
from ui.shell import ctx as get_ctx

ctx = get_ctx()
L = ctx.lang
auth.require("present", L)
present.pack_engine(L)  # the pack is the province's (the read boundary refuses any other scope)
qp = st.query_params
try:  # ?pack_period= carries a two-month period (the global period picker holds months only)
    period = Period.parse(qp["pack_period"]).label if "pack_period" in qp else ctx.period.label
except ValueError:
    period = ctx.period.label
live = qp.get("live", "0") in ("1", "true", "yes")
try:
    freeze_id = None if live else int(qp["freeze"]) if "freeze" in qp else present.default_freeze(period, L)
except ValueError:
    freeze_id = present.default_freeze(period, L)
deck = present.deck(period, L, freeze_id)
n_slides = len(deck.slides)
try:
    index = min(max(int(qp.get("slide", 1)), 1), n_slides) - 1
except ValueError:
    index = 0


def _go(step: int) -> None:
    cur = int(st.session_state.get("pres_index", 0))
    st.query_params["slide"] = str(min(max(cur + step, 0), n_slides - 1) + 1)


st.session_state["pres_index"] = index
st.button(t("pack_prev", L), key="pres_prev", on_click=_go, args=(-1,))
st.button(t("pack_next", L), key="pres_next", on_click=_go, args=(1,))
st.html(present.CSS + present.slide_html(deck, index))
st.iframe(present.KEYS_JS, height=1)
back = f"pack?period={ctx.period.label}&lang={L}"
st.html(f'<div class="pnav">{t("pack_present_help", L)} · <a href="{back}" target="_self">{t("pack_exit", L)}</a></div>')
