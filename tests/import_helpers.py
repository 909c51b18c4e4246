"""Helpers of the import tests: a county's filled template, long-format CSV, the store's history
and a fingerprint of every table an import could touch (to prove a refused file changed nothing).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable

import pandas as pd
import sqlalchemy as sa
from openpyxl import load_workbook

from ingest.messages import Issue
from ingest.templates import fill_template, reported_measures, sample_report, template_bytes
from metrics.geography import geography
from store import Store
from store.schema import import_batch, meta, observation, rollup_month
from store.store import Batch

COUNTY = "330102"  # 上城区
PERIOD = "2026-10"
HISTORY = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]


def fingerprint(store: Store) -> tuple[dict[str, int], str]:
    """Row counts and a sha256 over the sorted rows of every table the import could touch."""
    h = hashlib.sha256()
    with store.engine.connect() as conn:
        for t in (observation, import_batch, rollup_month, meta):
            for r in sorted(repr(tuple(row)) for row in conn.execute(sa.select(t)).all()):
                h.update(r.encode())
    return store.counts(), h.hexdigest()


def seed_history(store: Store, months: list[str] = HISTORY) -> None:
    """Every county's reports for `months` (one batch): history, peers and previous months exist."""
    frames = []
    for month in months:
        for county in geography().counties:
            vals = sample_report(county, month)
            frames.append(pd.DataFrame({"region_code": county, "measure_code": list(vals),
                                        "obs_date": dt.date.fromisoformat(month + "-01"),
                                        "value": list(vals.values())}))
    store.write_batch(Batch(source="demo", note="test history"), pd.concat(frames, ignore_index=True))


def filled(county: str = COUNTY, period: str = PERIOD, edit: Callable | None = None, **override: float) -> bytes:
    """The county's template filled with plausible values; `edit(ws)` can then spoil it."""
    data = fill_template(template_bytes(county, period), {**sample_report(county, period), **override})
    if edit is None:
        return data
    wb = load_workbook(io.BytesIO(data))
    edit(wb["填报"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def long_csv(rows: list[tuple], encoding: str = "utf-8",
             header: tuple = ("区划代码", "期间", "指标代码", "数值")) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def col_of(code: str) -> str:
    """The template column letter of a measure."""
    from openpyxl.utils import get_column_letter
    return get_column_letter(4 + [m.code for m in reported_measures()].index(code))


def codes(issues: list[Issue], severity: str = "error") -> set[str]:
    return {i.code for i in issues if i.severity == severity}


def current(store: Store, county: str, measure: str, month: str) -> float | None:
    df = store.current_values([measure], dt.date.fromisoformat(month + "-01"), dt.date.fromisoformat(month + "-01"),
                              regions=[county])
    return None if df.empty else float(df["value"].iloc[0])

