"""The data-quality grid (ingest.quality) on SQLite, PostgreSQL and MariaDB: every status from real
batches, rollbacks, feeds, corrections and logged refusals; the chase list; the refusal log.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from ingest import quality as q
from ingest.importer import ImportOptions, analyse
from store import Store
from store.schema_ingest import import_rejection
from store.store import Batch
from tests.helpers import TODAY, scratch_store

M = ["flow_m", "base_m"]  # the "reported measures" of these tests
A, B, C = "330102", "330105", "330106"  # 上城区, 拱墅区, 西湖区 (all 杭州市)
MONTHS = q.month_window(dt.date(2026, 11, 1), 4)  # 2026-08 .. 2026-11


def rows(county: str, month: str, measures=M, value: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame({"region_code": county, "measure_code": list(measures),
                         "obs_date": dt.date.fromisoformat(month + "-01"), "value": value})


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour))


def report(store: Store, county: str, month: str, received: str, measures=M, source: str = "import",
           value: float = 10.0, who: str = "王五") -> int:
    return store.write_batch(Batch(source=source, region_code=county, period=month, received_at=at(received),
                                   submitted_by=who, file_name=f"{county}_{month}.xlsx"),
                             rows(county, month, measures, value))


def refused(store: Store, county: str | None, month: str, when: str, who: str = "李四") -> int:
    """A real refusal: the importer's findings on a file with a text value in row 2."""
    bad = f"区划代码,期间,指标代码,数值\r\n{county or A},{month},gov_cases,十二\r\n".encode()
    rep = analyse(bad, "bad.csv", store, as_county=county, options=ImportOptions(today=TODAY))
    assert rep.errors
    return q.record_rejection(store, rep, source="upload", region_code=county, period=month, user=who,
                              received_at=at(when))


@pytest.fixture
def store(db_url) -> Store:
    s = scratch_store(db_url)
    with s.engine.begin() as conn:
        conn.execute(import_rejection.delete())
    yield s
    s.engine.dispose()


def cell(cells: pd.DataFrame, county: str, month: str) -> dict:
    r = cells[(cells["county"] == county) & (cells["month"] == month)]
    assert len(r) == 1
    return r.iloc[0].to_dict()


def test_due_dates_and_windows():
    assert q.due_date(dt.date(2026, 10, 1)) == dt.date(2026, 11, 15)
    assert q.due_date(dt.date(2026, 12, 1)) == dt.date(2027, 1, 15)
    assert [f"{m:%Y-%m}" for m in q.month_window(dt.date(2026, 2, 20), 3)] == ["2025-12", "2026-01", "2026-02"]


def test_quality_grid_statuses(store):
    # A: on time, late, partial, not yet due
    report(store, A, "2026-08", "2026-09-10")
    report(store, A, "2026-09", "2026-10-20")  # 5 days after the 15th
    report(store, A, "2026-10", "2026-11-05", measures=["flow_m"])
    # B: withdrawn, refused, refused then accepted on time, complete before the due day
    store.rollback_batch(report(store, B, "2026-08", "2026-09-01"), "office")
    refused(store, B, "2026-09", "2026-10-12")
    refused(store, B, "2026-10", "2026-11-02")
    report(store, B, "2026-10", "2026-11-03")
    report(store, B, "2026-11", "2026-11-30")
    # C: only platform data; on time then corrected after the due day; nothing at all
    report(store, C, "2026-08", "2026-09-01", source="feed")
    report(store, C, "2026-09", "2026-10-08")
    report(store, C, "2026-09", "2026-11-01", value=11.0)  # a correction: still on time
    report(store, C, "2026-10", "2026-11-02", measures=["daily_m"])  # other measures do not count

    cells = q.quality_cells(store, MONTHS, [A, B, C], measures=M, today=TODAY)
    assert list(cells.columns) == q.CELL_COLUMNS and len(cells) == 12
    status = {(r.county, r.month): r.status for r in cells.itertuples()}
    assert status == {
        (A, "2026-08"): "reported", (A, "2026-09"): "late", (A, "2026-10"): "partial", (A, "2026-11"): "pending",
        (B, "2026-08"): "missing", (B, "2026-09"): "rejected", (B, "2026-10"): "reported", (B, "2026-11"): "reported",
        (C, "2026-08"): "missing", (C, "2026-09"): "reported", (C, "2026-10"): "missing", (C, "2026-11"): "pending",
    }
    late = cell(cells, A, "2026-09")
    assert late["days_late"] == 5 and pd.isna(late["days_overdue"]) and late["complete_at"] == at("2026-10-20")
    part = cell(cells, A, "2026-10")
    assert part["n_reported"] == 1 and part["n_expected"] == 2 and part["missing_measures"] == ["base_m"]
    assert part["days_overdue"] == 8  # due 2026-11-15, today 2026-11-23
    rej = cell(cells, B, "2026-09")
    assert rej["n_rejected"] == 1 and rej["rejected_by"] == "李四" and rej["rejected_file"] == "bad.csv"
    assert rej["missing_measures"] == M and rej["days_overdue"] == 39
    assert any("第 2 行" in m["zh"] and "十二" in m["zh"] for m in rej["reasons"]), rej["reasons"]
    assert any("row 2" in m["en"] for m in rej["reasons"])
    tried = cell(cells, B, "2026-10")  # the refusal stays visible beside the accepted report
    assert tried["status"] == "reported" and tried["n_rejected"] == 1
    assert cell(cells, C, "2026-09")["complete_at"] == at("2026-10-08")  # first arrival, not the correction
    assert cell(cells, A, "2026-08")["last_submitter"] == "王五"

    m = q.matrix(cells)
    assert list(m.index) == [A, B, C] and list(m.columns) == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert m.loc[B, "2026-09"] == "rejected"
    summary = q.month_summary(cells)
    assert list(summary.columns) == list(q.STATUSES)
    assert summary.loc["2026-08"].to_dict() == {"reported": 1, "late": 0, "partial": 0, "rejected": 0,
                                                "missing": 2, "pending": 0, "na": 0}
    assert list(q.problems(cells)["status"]) == ["rejected", "missing", "missing", "missing", "partial", "late"]

    chase = q.chase_list(cells)
    assert list(chase["county"]) == [B, C, A]  # most overdue first (B and C both owe August)
    b_row, c_row = chase.iloc[0], chase.iloc[1]
    assert b_row["n_rejected"] == 1 and b_row["reasons"] and b_row["months"] == ["2026-08", "2026-09"]
    assert b_row["statuses"] == ["missing", "rejected"] and b_row["days_overdue"] == 69
    assert c_row["months"] == ["2026-08", "2026-10"] and c_row["days_overdue"] == 69
    assert c_row["missing_measures"] == M and c_row["n_rejected"] == 0
    assert list(chase.iloc[2]["missing_measures"]) == ["base_m"]


def test_refusals_are_logged_without_touching_figures(store):
    before = store.counts()
    mark = q.rejection_mark(store)
    refused(store, A, "2026-10", "2026-11-02")
    refused(store, None, "2026-10", "2026-11-03", who="省改革办")  # a reform-office upload
    assert store.counts() == before
    assert q.rejection_mark(store) != mark
    attributed = q.rejections(store, MONTHS, [A])
    assert list(attributed["region_code"]) == [A] and attributed.iloc[0]["n_errors"] >= 1
    loose = q.rejections(store, MONTHS, unattributed=True)
    assert list(loose["submitted_by"]) == ["省改革办"] and loose.iloc[0]["messages"][0]["code"]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(import_rejection)).scalar() == 2
    cells = q.quality_cells(store, MONTHS, [A], measures=M, today=TODAY)
    assert cell(cells, A, "2026-10")["status"] == "rejected"


def test_everything_reported_means_an_empty_chase_list(store):
    for c in (A, B):
        for mo in ("2026-08", "2026-09", "2026-10"):
            report(store, c, mo, f"{mo}-28")
    cells = q.quality_cells(store, MONTHS[:3], [A, B], measures=M, today=TODAY)
    assert set(cells["status"]) == {"reported"}
    assert q.chase_list(cells).empty and q.problems(cells).empty
    assert q.quality_cells(store, MONTHS, [], measures=M, today=TODAY).empty
