"""Plain frames behind the data-reporting page (no Streamlit): the importer's findings, the preview
of changes, the batch history and a value's history, with codes kept beside display names so the
page only translates column headers.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from ingest.importer import ImportReport
from ingest.messages import Lang
from ingest.validate import EARLIEST_REPORT
from metrics.catalogue import Catalogue
from metrics.formats import plain
from metrics.geography import Geography
from metrics.periods import add_months, last_complete_month
from store import Store
from store.schema import import_batch, observation

CHANGE_ORDER = {"changed": 0, "new": 1, "unchanged": 2}
BATCH_COLUMNS = ["id", "submitted_by", "committed_at", "received_at", "file_name", "checksum", "n_rows", "status",
                 "source", "region_code", "period", "note"]


def reporting_months(today: dt.date | None = None, first: dt.date = EARLIEST_REPORT) -> list[str]:
    """Months a county may report (or correct), newest first: the last complete month back to the
    reform's first reporting month (earlier ones the importer refuses)."""
    out, m = [], last_complete_month(today).start
    while m >= first:
        out.append(f"{m:%Y-%m}")
        m = add_months(m, -1)
    return out


def issues_frame(rep: ImportReport, lang: Lang = "zh") -> pd.DataFrame:
    """Errors, then warnings, then notes: severity, row, column, message (in `lang`), code."""
    rank = {"error": 0, "warning": 1, "info": 2}
    rows = [{"severity": i.severity, "row": i.row, "col": i.col, "message": i.message(lang), "code": i.code}
            for i in sorted(rep.issues, key=lambda i: rank[i.severity])]
    df = pd.DataFrame(rows, columns=["severity", "row", "col", "message", "code"])
    df["row"] = df["row"].astype("Int64")
    return df


def changes_frame(rep: ImportReport, cat: Catalogue, geo: Geography, lang: Lang = "zh") -> pd.DataFrame:
    """The preview, changed values first, then new, then unchanged (each in file order): region,
    measure, period, old and new value, status, cell."""
    ch = rep.changes
    cols = ["status", "region_code", "region", "measure_code", "measure", "period", "old_value", "value", "delta",
            "row", "col"]
    if ch is None or ch.empty:
        return pd.DataFrame(columns=cols)
    names = {m.code: (m.name_en if lang == "en" else m.name_zh) for m in cat.measures}
    grain = {m.code: m.grain for m in cat.measures}
    out = pd.DataFrame({
        "status": ch["status"].to_numpy(),
        "region_code": ch["region_code"].to_numpy(),
        "region": [geo.get(c).name(lang) if c in geo.regions else c for c in ch["region_code"]],
        "measure_code": ch["measure_code"].to_numpy(),
        "measure": [names.get(c, c) for c in ch["measure_code"]],
        "period": [f"{d:%Y-%m-%d}" if grain.get(m) == "day" else f"{d:%Y-%m}"
                   for d, m in zip(pd.to_datetime(ch["obs_date"]), ch["measure_code"], strict=True)],
        "old_value": ch["old_value"].astype(float).to_numpy(),
        "value": ch["value"].astype(float).to_numpy(),
        "row": ch["row"].to_numpy(),
        "col": ch["col"].to_numpy(),
    })
    out["delta"] = out["value"] - out["old_value"]
    out["_o"] = out["status"].map(CHANGE_ORDER)
    return out.sort_values("_o", kind="stable").drop(columns="_o")[cols].reset_index(drop=True)


def file_months(rep: ImportReport) -> list[str]:
    """The months the file's valid rows are for (to warn when they differ from the chosen month)."""
    if rep.changes is None or rep.changes.empty:
        return []
    return sorted({f"{d:%Y-%m}" for d in pd.to_datetime(rep.changes["obs_date"])})


def fmt_value(v: float | None) -> str:
    """A stored figure as people write it (no 1.2e+05, no trailing zeros); '—' when there is none."""
    return plain(v)


def batch_history(store: Store, region: str | None = None, limit: int = 200,
                  sources: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The newest batches (all statuses), optionally of one reporting region or some sources."""
    b = import_batch.c
    q = sa.select(*[getattr(b, c) for c in BATCH_COLUMNS]).order_by(b.id.desc()).limit(limit)
    if region is not None:
        q = q.where(b.region_code == region)
    if sources is not None:
        q = q.where(b.source.in_(sources))
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=BATCH_COLUMNS)


def value_history(store: Store, region: str, measure: str, obs_date: dt.date) -> pd.DataFrame:
    """Every value a key ever had, oldest first: the batch, who, when, and whether it counts now.

    A correction is a later batch and a rollback only flags its batch, so the earlier values are
    all here; `is_current` marks the one in force.
    """
    o, b = observation.c, import_batch.c
    q = (sa.select(o.batch_id, o.value, o.is_current, b.status, b.submitted_by, b.committed_at, b.file_name,
                   b.source, b.note)
         .join(import_batch, b.id == o.batch_id)
         .where(o.region_code == region, o.measure_code == measure, o.obs_date == obs_date)
         .order_by(b.committed_at, o.batch_id))
    cols = ["batch_id", "value", "is_current", "status", "submitted_by", "committed_at", "file_name", "source", "note"]
    with store.engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=cols)
    df["is_current"] = df["is_current"].astype(bool)
    return df
