"""'The numbers behind this chart' as CSV and Excel, the same frame the chart was drawn from.

CSV is written UTF-8 with a BOM so Excel on a government desktop opens the Chinese headers
correctly; the Excel file is built with openpyxl (already a dependency for imports). Both go
through `sheets.safety`: text that a spreadsheet would read as a formula (=, +, -, @ ...) gets a
leading quote, and every text cell of the workbook is stored as a string, never as a formula.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import streamlit as st

from metrics.rankings import for_download as _flat
from sheets.safety import force_text_cells, neutralise_frame
from ui import auth
from ui.i18n import t


def csv_bytes(df: pd.DataFrame) -> bytes:
    return neutralise_frame(_flat(df)).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "data") -> bytes:
    buf = io.BytesIO()
    name = re.sub(r"[\[\]:*?/\\]", "_", sheet)[:31] or "data"
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        neutralise_frame(_flat(df), excel=True).to_excel(xw, index=False, sheet_name=name)
        force_text_cells(xw.sheets[name])
    return buf.getvalue()


def buttons(df: pd.DataFrame, name: str, lang: str, key: str, permission: str = "download") -> None:
    """Two download buttons side by side; `name` becomes the file name (no extension). Drawn only
    for a role holding `permission` (a leader reads, an analyst downloads)."""

    u = auth.current_quiet()
    if u is None or not auth.policy.can(u.role, permission):
        return
    safe = re.sub(r"[^\w\-.\u4e00-\u9fff]+", "_", name).strip("_") or "data"
    a, b = st.columns(2)
    with a:
        st.download_button(t("dl_csv", lang), csv_bytes(df), f"{safe}.csv", "text/csv", key=f"{key}_csv",
                           icon=":material/download:", help=t("dl_help", lang, name=safe), on_click="ignore")
    with b:
        st.download_button(t("dl_xlsx", lang), xlsx_bytes(df, safe), f"{safe}.xlsx",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key=f"{key}_xlsx", icon=":material/table:", on_click="ignore")
