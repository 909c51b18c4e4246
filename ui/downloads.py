"""'The numbers behind this chart' as CSV and Excel, the same frame the chart was drawn from, written
as people read it in the reader's language.

`readable` turns a page's frame (code column names such as kpi, region, index_100; rates stored as
fractions) into the file a person opens: headers from the text catalogue in the chosen language, a
KPI or region name next to each code, status and action codes as words, index values to one decimal.
Percent columns — a column of shares (attainment, probabilities) or a KPI-valued column (value,
target, peer median ...) on the rows of a percent-format KPI — are written:

- in Excel as the stored number with the percent number format ('0.0%' at the KPI's decimals), so a
  spreadsheet still computes with the full figure and shows 76.0%;
- in CSV as the text a person reads, "76.0%" (Excel and WPS read such a cell back as the number
  0.76 in percent format), never as a raw fraction like 0.7602220971.

CSV is written UTF-8 with a BOM so Excel on a government desktop opens the Chinese headers
correctly; the Excel file is built with openpyxl (already a dependency for imports). Both go
through `sheets.safety`: text that a spreadsheet would read as a formula (=, +, -, @ ...) gets a
leading quote, and every text cell of the workbook is stored as a string, never as a formula.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from i18n import ZH
from metrics import formats
from metrics.formats import MISSING, is_num, shown_decimals
from metrics.rankings import for_download as _flat
from sheets.safety import force_text_cells, neutralise_frame
from ui import auth, data
from ui.i18n import t

# columns holding a share stored as a fraction whatever the KPI (0.97 = 97%)
FRACTION_COLUMNS = frozenset({"attainment", "green_share", "share", "prob", "probability", "p_meet", "coverage",
                              "reported_share", "gap_share", "hit_rate", "rate", "change_prev", "change_yoy"})
# columns in the unit of the row's KPI: a percent when that KPI is a rate
KPI_VALUE_COLUMNS = frozenset({"value", "target", "prev", "peer_median", "median", "q1", "q3", "min", "max", "mean",
                               "forecast", "year_end", "lo", "hi", "value_prev", "value_yoy", "target_paced",
                               "target_annual", "best", "worst", "province", "city_value", "peer_min", "peer_max",
                               "peer_mean", "peer_sd", "gap_to_target", "ci_low", "ci_high", "pace", "pace_gap"})
INDEX_COLUMNS = frozenset({"index_100", "peer_median_index", "percentile", "better_percentile", "z", "z_score",
                           "z_better", "score"})
# code columns whose values are codes with a word in the catalogue: column -> key prefix
VALUE_KEYS = {"status": "st_", "direction": "dl_dir_", "action": "auth_act_"}
NAME_COLUMNS = ("name", "kpi_name", "region_name", "county_name")


def header(col: object, lang: str) -> str:
    """A column's header in `lang`: the catalogue's word for a code column name, else the name as given."""
    c = str(col)
    for key in (f"dl_col_{c}", f"sys_col_{c}"):
        if key in ZH:
            return t(key, lang)
    return c


def _codes_of(lang: str) -> dict[str, str]:
    """Readable header -> its code column name, for every header key of the catalogue."""
    out: dict[str, str] = {}
    for prefix in ("sys_col_", "dl_col_"):  # dl_col_ last: its words win
        out.update({t(k, lang): k.removeprefix(prefix) for k in ZH if k.startswith(prefix)})
    return out


def untranslated(columns: list[object]) -> list[str]:
    """Headers still written as code words (lower-case ASCII with underscores): none may reach a file."""
    return [str(c) for c in columns if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", str(c))]


@dataclass
class Sheet:
    """A frame ready to write: readable headers; `percent` maps a header to the decimals each row's
    cell is shown with as a percent (None: that cell is not a percent)."""

    frame: pd.DataFrame
    percent: dict[str, list[int | None]] = field(default_factory=dict)


def _word(prefix: str, code: object, lang: str) -> object:
    key = f"{prefix}{code}"
    return t(key, lang) if isinstance(code, str) and key in ZH else code


def _one_language(out: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Keep `X_zh` or `X_en` as `X` for the reader's language (dropping a code column `X` it explains)."""
    mine, other = ("_en", "_zh") if lang == "en" else ("_zh", "_en")
    out = out.drop(columns=[c for c in out.columns if str(c).endswith(other)])
    for c in [c for c in out.columns if str(c).endswith(mine)]:
        base = str(c).removesuffix(mine)
        out = out.drop(columns=[base], errors="ignore").rename(columns={c: base})
    return out


def _dedupe(out: pd.DataFrame) -> pd.DataFrame:
    """One column per header: of two columns with the same header keep the fuller one (a code column
    put into words beside the page's own, sometimes blank, display column)."""
    keep: dict[str, tuple[int, int]] = {}
    for j, c in enumerate(out.columns):
        text = out.iloc[:, j].astype(str).str.strip()
        filled = int((~text.isin(["", "nan", "None", MISSING])).sum())
        if c not in keep or filled > keep[c][1]:
            keep[c] = (j, filled)
    return out.iloc[:, sorted(j for j, _ in keep.values())]


def readable(df: pd.DataFrame, lang: str, cat: Any = None, geo: Any = None, kpi: Any = None) -> Sheet:
    """`df` as people read it in `lang` (see the module's note). `cat`/`geo` name KPI and region codes;
    `kpi` is the one KPI of a frame that has no kpi column."""
    out = _flat(_lists_as_read(df, lang, cat, kpi)).reset_index(drop=True)
    back = {h: c for h, c in _codes_of(lang).items() if c not in out.columns}
    out = out.rename(columns=back)  # a frame already given readable headers: back to its codes
    out = out.drop(columns=[c for c in out.columns if str(c).startswith("_")])
    out = _one_language(out, lang)
    n = len(out)
    kpis: list[Any] = [kpi] * n
    if kpi is None and cat is not None and "kpi" in out.columns:
        kpis = [_kpi(cat, k) for k in out["kpi"]]
        if "kpi_name" not in out.columns:
            out.insert(out.columns.get_loc("kpi") + 1, "kpi_name",
                       [k.name(lang) if k is not None else c for k, c in zip(kpis, out["kpi"], strict=True)])
    if geo is not None:
        if "region" in out.columns and not any(c in out.columns for c in NAME_COLUMNS):
            out.insert(out.columns.get_loc("region") + 1, "name", [_region(geo, r, lang) for r in out["region"]])
        for col in ("city", "parent"):
            if col in out.columns:
                out[col] = [_region(geo, r, lang) for r in out[col]]
        for col in ("peers", "population"):
            if col in out.columns:
                out[col] = [_population(geo, p, lang) for p in out[col]]
    for col, prefix in VALUE_KEYS.items():
        if col in out.columns:
            out[col] = [_word(prefix, v, lang) for v in out[col]]
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]) or (out[col].dtype == object and out[col].map(
                lambda v: isinstance(v, bool) or v is None).all() and out[col].map(lambda v: isinstance(v, bool)).any()):
            out[col] = [t("dl_yes" if v else "dl_no", lang) if isinstance(v, bool | np.bool_) else v for v in out[col]]
    percent: dict[str, list[int | None]] = {}
    for col in list(out.columns):
        c = str(col)
        numeric = pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col])
        if c in FRACTION_COLUMNS and numeric:
            percent[c] = [1] * n
        elif c in KPI_VALUE_COLUMNS and any(k is not None and k.format == "percent" for k in kpis):
            percent[c] = [shown_decimals(k.format, k.decimals) if k is not None and k.format == "percent" else None
                          for k in kpis]
        elif c in INDEX_COLUMNS and numeric:
            out[col] = out[col].round(1)
    names = {col: header(col, lang) for col in out.columns}
    out = _dedupe(out.rename(columns=names))
    return Sheet(out, {names[c]: v for c, v in percent.items() if names[c] in out.columns})


def _lists_as_read(df: pd.DataFrame, lang: str, cat: Any, kpi: Any) -> pd.DataFrame:
    """List cells (a trend) of a KPI's values written as the KPI prints them (76.0%, not 0.7602)."""
    lists = [c for c in df.columns if df[c].map(lambda x: isinstance(x, list | tuple)).any()]
    if not lists or (kpi is None and (cat is None or "kpi" not in df.columns)):
        return df
    out = df.copy()
    ks = [kpi] * len(df) if kpi is not None else [_kpi(cat, k) for k in df["kpi"]]
    for c in lists:
        out[c] = ["; ".join(formats.value(v, k, lang, unit=False) for v in x) if isinstance(x, list | tuple)
                  and k is not None else x for x, k in zip(df[c], ks, strict=True)]
    return out


def _region(geo: Any, code: object, lang: str) -> object:
    return geo.get(code).name(lang) if isinstance(code, str) and code in geo.regions else code


def _population(geo: Any, spec: object, lang: str) -> object:
    from ui.rank_widgets import population_short  # the pickers' words for a population

    try:
        return population_short(str(spec), geo, lang)
    except (KeyError, ValueError):
        return spec


def _kpi(cat: Any, code: object) -> Any:
    try:
        return cat.kpi(code)
    except (KeyError, ValueError, TypeError):
        return None


def _percent_text(v: object, d: int | None) -> object:
    if d is None or not is_num(v):
        return v
    x = float(v)  # type: ignore[arg-type]
    return f"{x * 100:.{d}f}%" if math.isfinite(x) else MISSING


def csv_bytes(df: pd.DataFrame, percent: Mapping[str, list[int | None]] | None = None) -> bytes:
    out = _flat(df)
    for col, decs in (percent or {}).items():
        out[col] = [_percent_text(v, d) for v, d in zip(out[col], decs, strict=True)]
    return neutralise_frame(out).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "data", percent: Mapping[str, list[int | None]] | None = None) -> bytes:
    buf = io.BytesIO()
    name = re.sub(r"[\[\]:*?/\\]", "_", sheet)[:31] or "data"
    frame = _flat(df)
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        neutralise_frame(frame, excel=True).to_excel(xw, index=False, sheet_name=name)
        ws = xw.sheets[name]
        force_text_cells(ws)
        cols = {str(c): j + 1 for j, c in enumerate(frame.columns)}
        for col, decs in (percent or {}).items():
            for i, d in enumerate(decs):
                cell = ws.cell(row=i + 2, column=cols[col])
                if d is not None and cell.data_type == "n":
                    cell.number_format = "0%" if d == 0 else "0." + "0" * d + "%"
    return buf.getvalue()


def file_stem(name: str) -> str:
    return re.sub(r"[^\w\-.\u4e00-\u9fff]+", "_", name).strip("_") or "data"


def buttons(df: pd.DataFrame, name: str, lang: str, key: str, permission: str = "download", kpi: Any = None) -> None:
    """Two download buttons side by side; `name` becomes the file name (no extension), `kpi` the one
    KPI of a frame without a kpi column. Drawn only for a role holding `permission` (a leader reads,
    an analyst downloads)."""

    u = auth.current_quiet()
    if u is None or not auth.policy.can(u.role, permission):
        return
    read = data.reader()
    sheet = readable(df, lang, read.catalogue, read.geo, kpi)
    safe = file_stem(name)
    a, b = st.columns(2)
    with a:
        st.download_button(t("dl_csv", lang), csv_bytes(sheet.frame, sheet.percent), f"{safe}.csv", "text/csv",
                           key=f"{key}_csv", icon=":material/download:", help=t("dl_help", lang, name=safe),
                           on_click="ignore")
    with b:
        st.download_button(t("dl_xlsx", lang), xlsx_bytes(sheet.frame, safe, sheet.percent), f"{safe}.xlsx",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key=f"{key}_xlsx", icon=":material/table:", on_click="ignore")
