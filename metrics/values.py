"""The figures table other systems read: one row per KPI x region of a period, read through a scope.

The HTTP API's `values` endpoint and `python -m metrics bulk` both build their rows here, so the two
never disagree on a column: `COLUMNS` is the one list, `value_rows` the one builder. Rows come from
the read boundary (metrics.access.Reader.bulk), which has already dropped what the scope may not see;
selecting regions and KPIs is a plain filter on top, and a region asked for by name outside the
scope is refused by the scope itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from metrics.access import Reader
from metrics.periods import Period
from sheets.safety import neutralise_frame

# target: the year's target; target_paced: the 序时 target the figure is judged against, where the KPI
# is paced over the year (a count), else empty; attainment and status are against the judged target
COLUMNS = [
    "period", "kpi", "kpi_name_zh", "kpi_name_en", "region", "region_name_zh", "region_name_en", "level",
    "value", "numerator", "denominator", "unit_zh", "unit_en", "format", "target", "target_year",
    "target_source", "target_paced", "attainment", "status", "change_prev", "change_yoy", "rank", "rank_of",
    "as_of", "n_reported", "n_expected", "complete", "data_version",
]
INTEGER_COLUMNS = ("target_year", "rank", "rank_of", "n_reported", "n_expected")


def resolve_selection(reader: Reader, regions: Sequence[str] | None, kpis: Sequence[str] | None
                      ) -> tuple[list[str] | None, list[str] | None]:
    """Region and KPI codes from codes or names (KeyError: unknown, naming it; a township by its code);
    a region outside the reader's scope (a township outside its counties) raises PermissionError."""
    towns = reader.geo.townships
    regs = [r.strip() if r.strip() in towns else reader.geo.resolve(r) for r in regions] if regions else None
    if regs:
        reader.check(regs)
    ks = [reader.catalogue.kpi(k).code for k in kpis] if kpis else None
    return regs, ks


def value_rows(reader: Reader, period: Period | str, regions: Sequence[str] | None = None,
               kpis: Sequence[str] | None = None, version: int | None = None) -> pd.DataFrame:
    """The rows of `COLUMNS` for the period (regions and KPIs: codes, all in scope when None)."""
    regs, ks = resolve_selection(reader, regions, kpis)
    df = reader.bulk(period)
    if regs is not None:
        df = df[df["region"].isin(regs)]
        towns = [r for r in regs if r in reader.geo.townships]
        if towns:  # township figures (the grassroots KPIs) come from the township read, scoped by county
            t = reader.townships(period)
            df = pd.concat([df, t[t["region"].isin(towns)][[c for c in df.columns if c in t.columns]]],
                           ignore_index=True)
    if ks is not None:
        df = df[df["kpi"].isin(ks)]
    cat, geo = reader.catalogue, reader.geo
    kpi = {k.code: k for k in cat.kpis}
    out = pd.DataFrame({
        "period": df["period"],
        "kpi": df["kpi"],
        "kpi_name_zh": df["kpi"].map(lambda c: kpi[c].name_zh),
        "kpi_name_en": df["kpi"].map(lambda c: kpi[c].name_en),
        "region": df["region"],
        "region_name_zh": df["region"].map(lambda c: geo.get(c).name_zh),
        "region_name_en": df["region"].map(lambda c: geo.get(c).name_en),
        "level": df["level"],
        "value": df["value"],
        "numerator": df["numerator"],
        "denominator": df["denominator"],
        "unit_zh": df["kpi"].map(lambda c: kpi[c].unit_zh),
        "unit_en": df["kpi"].map(lambda c: kpi[c].unit_en),
        "format": df["format"],
        "target": df["target_annual"],
        "target_year": df["target_year"],
        "target_source": df["target_source"],
        "target_paced": df["target"].where(df["paced"].fillna(False).astype(bool)),
        "attainment": df["attainment"],
        "status": df["status"],
        "change_prev": df["change_prev"],
        "change_yoy": df["change_yoy"],
        "rank": df["rank"],
        "rank_of": df["rank_of"],
        "as_of": df["as_of"],
        "n_reported": df["n_reported"],
        "n_expected": df["n_expected"],
        "complete": df["complete"].astype(bool),
        "data_version": reader.data_version() if version is None else version,
    }, columns=COLUMNS)
    for c in INTEGER_COLUMNS:
        out[c] = out[c].astype("Int64")
    return out.reset_index(drop=True)


def frame_json(df: pd.DataFrame) -> str:
    """Rows as a JSON array of objects: missing values are null, dates ISO, lists stay lists
    (pandas' writer: a per-cell Python loop costs ten times as much on a month of every figure)."""
    return df.to_json(orient="records", force_ascii=False, date_format="iso", double_precision=15)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (see frame_json)."""
    return json.loads(frame_json(df))


def to_csv(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a BOM (Excel opens Chinese text right), formula-safe, lists joined by commas."""
    flat = df.copy()
    for c in flat.columns:
        if flat[c].dtype == object and flat[c].map(lambda v: isinstance(v, list | tuple | dict)).any():
            flat[c] = flat[c].map(lambda v: ",".join(map(str, v)) if isinstance(v, list | tuple) else
                                  (str(v) if isinstance(v, dict) else v))
    return neutralise_frame(flat).to_csv(index=False).encode("utf-8-sig")
