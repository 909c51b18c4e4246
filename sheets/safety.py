"""Neutralise spreadsheet formula injection in everything the cockpit exports (CSV and Excel).

Why: exported tables carry text that came from outside (county names from the database, batch
submitter names, file names, problem titles). Excel, WPS and LibreOffice treat a cell that starts
with =, +, - or @ (or a tab / carriage return before one) as a formula when a CSV is opened, and
DDE payloads such as `=cmd|' /C calc'!A0` then run on the reader's desktop. The OWASP remedy is
to prefix such text with a single quote so it shows as text. Real numbers stay numbers: -3 is a
value, not a formula, and must keep summing in Excel. No Streamlit import here: the pack and the CLIs use it too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# the ASCII triggers plus their full-width forms, which some CJK spreadsheet set-ups also read as formulas
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise_cell(value: Any) -> Any:
    """`value` unchanged unless it is text that a spreadsheet would read as a formula; then `'` + text.

    Numbers (int, float, numpy scalars, Decimal), booleans, dates and None pass through untouched,
    so a negative number is still numeric in the export.
    """
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    return value


def excel_text(value: Any) -> Any:
    """Text without the control characters an .xlsx cannot hold (openpyxl refuses them: the download would fail)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def neutralise_frame(df: pd.DataFrame, excel: bool = False) -> pd.DataFrame:
    """A copy of `df` with every text cell and every column label neutralised; numeric columns untouched.

    `excel=True` also drops the control characters Excel cannot store (user text may carry them).
    """
    def fix(v: Any) -> Any:
        return neutralise_cell(excel_text(v) if excel else v)

    out = df.copy()
    for pos in range(out.shape[1]):
        col = out.iloc[:, pos]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue  # no text can hide in a numeric or datetime column
        out.isetitem(pos, col.map(fix))
    out.columns = [fix(c) if isinstance(c, str) else c for c in out.columns]
    return out


def force_text_cells(ws: Any) -> int:
    """Make every string cell of an openpyxl worksheet a plain string cell (data_type 's').

    openpyxl types a value that starts with '=' as a formula ('f') when it is assigned; after
    `neutralise_frame` no such text should be left, but this pass guarantees that no cell written
    by us is stored as a formula. Returns how many cells were retyped.
    """
    n = 0
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f" or (isinstance(cell.value, str) and cell.data_type != "s"):
                cell.data_type = "s"
                n += 1
    return n
