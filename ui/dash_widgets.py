"""Widgets the system page and its register sections (apps, problem lists) share: the drill kept in
the URL, chart and row picks that drill, the status table and chart titles.

Apart from `ui/system_dash.py` so the sections can use them without importing the page that composes
them.
"""

from __future__ import annotations

import html as _html

import pandas as pd
import streamlit as st

from ui import data, fmt
from ui import system_model as sm
from ui.i18n import t


# -- URL state ---------------------------------------------------------------------------------
def set_params(**params: str | None) -> None:
    """Write the drill/focus into the URL (None removes); used in callbacks, before the next run."""
    for k, v in params.items():
        if v is None:
            if k in st.query_params:
                del st.query_params[k]
        elif st.query_params.get(k) != v:
            st.query_params[k] = v


def drill_to(region: str) -> None:
    set_params(**sm.drill_params(data.engine().geo, region))


def picked_point(key: str) -> str | None:
    """The region code of the clicked point/bar/county of the chart with this key."""
    state = st.session_state.get(key)
    pts = (state or {}).get("selection", {}).get("points", []) if state else []
    if not pts:
        return None
    p = pts[0]
    code = p.get("customdata") or p.get("location")
    if isinstance(code, list):
        code = code[0] if code else None
    return code if isinstance(code, str) and code in data.engine().geo.regions else None


def on_chart_pick(key: str) -> None:
    code = picked_point(key)
    if code:
        drill_to(code)


def on_row_pick(key: str, codes: list[str], param: str) -> None:
    state = st.session_state.get(key)
    rows = (state or {}).get("selection", {}).get("rows", []) if state else []
    if not rows or rows[0] >= len(codes):
        return
    if param == "drill":
        drill_to(codes[rows[0]])
    else:
        set_params(**{param: codes[rows[0]]})


def status_table(df: pd.DataFrame, lang: str, key: str | None = None, on_select=None, **kw):
    """A dataframe whose 'status' code column is shown as a coloured '● 达标' cell."""
    col = t("status", lang)
    codes = list(df["status"]) if "status" in df else []
    disp = df.drop(columns=[x for x in ("code", "status", "region") if x in df.columns])
    if codes:
        disp[col] = ["● " + fmt.status_label(s, lang) for s in codes]
        colours = [fmt.STATUS_TEXT.get(s, "#cbd5e1") for s in codes]
        disp = disp.style.apply(lambda _: [f"color: {x}" for x in colours], subset=[col])
    if on_select is None:
        return st.dataframe(disp, hide_index=True, width="stretch", **kw)
    return st.dataframe(disp, hide_index=True, width="stretch", key=key, on_select=on_select,
                        selection_mode="single-row", **kw)


def chart_title(text: str) -> None:
    st.html(f'<div class="sd-h">{_html.escape(text)}</div>')
