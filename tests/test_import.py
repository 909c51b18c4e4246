"""County report import: a corpus of bad files, good paths, preview, rollback, CLI.

The corpus of bad files is generated here from code (reviewable, nothing binary committed): each
case builds the bytes a county might really send, and the test asserts a clear message (the
Chinese one names row and column where there is one) and that the database is byte-for-byte
unchanged (row counts and a sha256 over the sorted rows of every table).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from ingest.__main__ import main as cli_main
from ingest.importer import ImportOptions, analyse, import_bytes, import_file, rollback
from ingest.messages import MESSAGES
from ingest.quality import rejections
from ingest.reader import OLE2_MAGIC
from ingest.templates import (
    DATA_ROW,
    HEADER_ROW,
    fill_template,
    platform_fed,
    reported_measures,
    sample_report,
    template_bytes,
)
from metrics.catalogue import catalogue
from metrics.engine import MetricsEngine
from store import Store
from store.schema import import_batch, observation, rollup_month
from tests.helpers import TODAY, scratch_store
from tests.import_helpers import COUNTY, PERIOD, codes, col_of, current, filled, fingerprint, long_csv, seed_history

OPTS = ImportOptions(today=TODAY)


# -- helpers ---------------------------------------------------------------------------------------------
def ole2(stream_name: str) -> bytes:
    """A compound-file header with a directory entry name, as Excel writes for encrypted or .xls files."""
    return OLE2_MAGIC + b"\x00" * 504 + stream_name.encode("utf-16-le") + b"\x00" * 1024


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


# -- the corpus of bad files ---------------------------------------------------------------------------------
@dataclass
class Bad:
    name: str
    make: Callable[[], bytes]
    code: str  # the error code that must be reported
    where: str | None = None  # text the Chinese message must contain (row/column)
    file_name: str = "report.csv"
    as_county: str | None = COUNTY


def _set(cell: str, value: object) -> Callable:
    def edit(ws) -> None:
        ws[cell] = value
    return edit


G = "gov_cases"
BAD: list[Bad] = [
    Bad("empty", lambda: b"", "file_empty"),
    Bad("only_blank_lines", lambda: b"\r\n  \r\n\t\n", "file_empty"),
    Bad("size_50mb", lambda: b"330102,2026-10,gov_cases,1\n" * (50 * 2**20 // 26), "file_too_large"),
    Bad("pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_spreadsheet", file_name="report.xlsx"),
    Bad("png_renamed", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not_spreadsheet", file_name="report.xlsx"),
    Bad("word_docx", docx, "not_spreadsheet", file_name="report.xlsx"),
    Bad("html_as_xls", lambda: "<html><body><table><tr><td>区划代码</td></tr></table></body></html>".encode(),
        "not_spreadsheet", file_name="report.xls"),
    Bad("json", lambda: b'{"region": "330102", "value": 1}', "not_spreadsheet", file_name="report.csv"),
    Bad("password_protected", lambda: ole2("EncryptionInfo") + "EncryptedPackage".encode("utf-16-le"),
        "encrypted", file_name="report.xlsx"),
    Bad("legacy_xls", lambda: ole2("Workbook"), "legacy_xls", file_name="report.xls"),
    Bad("truncated_xlsx", lambda: filled()[:3000], "corrupt_xlsx", file_name="report.xlsx"),
    Bad("undecodable_text", lambda: b"region,period\n\xff\xff\x80\x80,1\n", "bad_encoding"),
    Bad("no_header", lambda: b"a,b,c\n1,2,3\n", "no_header"),
    Bad("no_period_column", lambda: long_csv([(COUNTY, G, 5)], header=("区划代码", "指标代码", "数值")),
        "missing_column", "第 1 行"),
    Bad("header_only", lambda: long_csv([]), "no_data"),
    Bad("template_unfilled", lambda: fill_template(template_bytes(COUNTY, PERIOD), {}), "no_data",
        file_name="report.xlsx"),
    Bad("formula_no_cached_value", lambda: filled(edit=_set(f"{col_of(G)}{DATA_ROW}", "=1000+2")),
        "formula_uncomputed", f"第 7 行 {col_of(G)} 列", file_name="report.xlsx"),
    Bad("merged_header", lambda: filled(edit=lambda ws: ws.merge_cells(f"D{HEADER_ROW}:E{HEADER_ROW}")),
        "merged_cells", "D6:E6", file_name="report.xlsx"),
    Bad("region_unknown", lambda: long_csv([(COUNTY, PERIOD, G, 5), ("339999", PERIOD, G, 5)]),
        "region_unknown", "第 3 行 A 列"),
    Bad("region_abolished_xiacheng", lambda: long_csv([("330103", PERIOD, G, 5)]), "region_abolished",
        "第 2 行 A 列", as_county="330105"),
    Bad("region_split_yuhang_2021", lambda: long_csv([("330110", "2021-02", G, 5)]), "region_split",
        "第 2 行 A 列", as_county="330110"),
    Bad("region_not_county", lambda: long_csv([("330100", PERIOD, G, 5)]), "region_not_county", "第 2 行 A 列",
        as_county=None),
    Bad("other_countys_rows", lambda: long_csv([(COUNTY, PERIOD, G, 5), ("330106", PERIOD, G, 5)]),
        "region_other_county", "第 3 行 A 列"),
    Bad("other_county_in_template", lambda: filled(edit=_set(f"A{DATA_ROW}", "330106")),
        "region_other_county", "第 7 行 A 列", file_name="report.xlsx"),
    Bad("measure_unknown", lambda: long_csv([(COUNTY, PERIOD, "gov_casess", 5)]), "measure_unknown",
        "第 2 行 C 列"),
    Bad("measure_province_level", lambda: long_csv([(COUNTY, PERIOD, "api_calls", 5)]), "measure_province",
        "第 2 行 C 列"),
    Bad("period_future", lambda: long_csv([(COUNTY, "2026-11", G, 5)]), "period_future", "第 2 行 B 列"),
    Bad("period_not_a_month", lambda: long_csv([(COUNTY, "2026-13", G, 5)]), "period_invalid", "第 2 行 B 列"),
    Bad("period_text", lambda: long_csv([(COUNTY, "十月份", G, 5)]), "period_invalid", "第 2 行 B 列"),
    Bad("period_before_2021", lambda: long_csv([(COUNTY, "2020-12", G, 5)]), "period_too_early", "第 2 行 B 列"),
    Bad("daily_measure_needs_day", lambda: long_csv([(COUNTY, PERIOD, "zlb_active_users", 5)]),
        "period_needs_day", "第 2 行 B 列"),
    Bad("value_with_unit", lambda: long_csv([(COUNTY, PERIOD, G, "1200件")]), "value_not_number", "第 2 行 D 列"),
    Bad("value_percent", lambda: filled(edit=_set(f"{col_of(G)}{DATA_ROW}", "85%")), "value_not_number",
        f"第 7 行 {col_of(G)} 列", file_name="report.xlsx"),
    Bad("value_boolean", lambda: filled(edit=_set(f"{col_of(G)}{DATA_ROW}", True)), "value_not_number",
        f"第 7 行 {col_of(G)} 列", file_name="report.xlsx"),
    Bad("value_negative", lambda: long_csv([(COUNTY, PERIOD, G, -3)]), "value_negative", "第 2 行 D 列"),
    Bad("value_blank_long", lambda: long_csv([(COUNTY, PERIOD, G, "")]), "value_blank", "第 2 行 D 列"),
    Bad("duplicate_rows", lambda: long_csv([(COUNTY, PERIOD, G, 5), (COUNTY, PERIOD, "gov_items", 9),
                                            (COUNTY, "2026年10月", G, 6)]), "duplicate_row", "第 4 行 D 列"),
    Bad("numerator_above_denominator", lambda: filled(gov_cases=100, gov_cases_online=250), "num_gt_den",
        f"第 7 行 {col_of('gov_cases_online')} 列", file_name="report.xlsx"),
    Bad("numerator_above_stored_denominator", lambda: long_csv([(COUNTY, "2026-09", "gov_cases_online", 10**8)]),
        "num_gt_den", "第 2 行 D 列"),
    Bad("cumulative_falls", lambda: filled(zlb_registered_users=10), "cumulative_falls",
        f"第 7 行 {col_of('zlb_registered_users')} 列", file_name="report.xlsx"),
    Bad("one_bad_row_among_good", lambda: long_csv(
        [(COUNTY, PERIOD, m, v) for m, v in sample_report(COUNTY, PERIOD).items()][:20]
        + [(COUNTY, PERIOD, "share_requests", "n/a")]), "value_not_number", "第 22 行 D 列"),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Store:
    store = scratch_store(f"sqlite:///{tmp_path_factory.mktemp('imp') / 'seeded.sqlite'}")
    seed_history(store)
    return store


def test_corpus_is_large_enough() -> None:
    assert len(BAD) >= 30
    assert len({b.name for b in BAD}) == len(BAD)


@pytest.mark.parametrize("case", BAD, ids=[b.name for b in BAD])
def test_bad_file_is_refused_and_changes_nothing(case: Bad, seeded: Store) -> None:
    before = fingerprint(seeded)
    data = case.make()
    rep = import_bytes(data, case.file_name, seeded, as_county=case.as_county, user="tester", options=OPTS)
    assert rep.batch_id is None and not rep.ok
    assert case.code in codes(rep.issues), rep.messages()
    first = next(i for i in rep.errors if i.code == case.code)
    zh, en = first.message("zh"), first.message("en")
    if case.where:
        assert case.where in zh, zh
    assert "{" not in zh and "{" not in en and "'zh'" not in zh, (zh, en)
    assert rep.summary("zh").startswith("未导入") and "数据库未作任何修改" in rep.summary("zh")
    assert fingerprint(seeded) == before


def test_specific_messages(seeded: Store) -> None:
    """The messages that must tell the county what to do instead."""
    def first(data: bytes, code: str, as_county: str | None = COUNTY, name: str = "r.csv") -> str:
        rep = analyse(data, name, seeded, as_county=as_county, options=OPTS)
        return next(i for i in rep.errors if i.code == code).message("zh")

    assert "330105" in first(long_csv([("330103", PERIOD, G, 5)]), "region_abolished", "330105")  # 下城 -> 拱墅
    msg = first(long_csv([("330110", "2021-02", G, 5)]), "region_split", "330110")
    assert "330113" in msg and "拆分" in msg  # 余杭 before 2021-04: split with 临平
    assert "gov_cases" in first(long_csv([(COUNTY, PERIOD, "gov_casess", 5)]), "measure_unknown")
    assert "已入库" in first(long_csv([(COUNTY, "2026-09", "gov_cases_online", 10**8)]), "num_gt_den")
    assert "20 MB" in first(b"x" * (21 * 2**20), "file_too_large")
    assert "密码" in first(ole2("EncryptionInfo"), "encrypted", name="r.xlsx")
    assert "公式未计算" in first(filled(edit=_set("E7", "=D7*2")), "formula_uncomputed", name="r.xlsx")
    assert "=D7*2" in first(filled(edit=_set("E7", "=D7*2")), "formula_uncomputed", name="r.xlsx")


def test_fifty_megabyte_file_on_disk_is_refused_unread(seeded: Store, tmp_path, monkeypatch) -> None:
    path = tmp_path / "huge.csv"
    line = b"330102,2026-10,gov_cases,1200\n"
    with open(path, "wb") as fh:
        fh.write(b"region,period,measure,value\n")
        fh.write(line * (50 * 2**20 // len(line) + 1))
    assert path.stat().st_size > 50 * 2**20
    before = fingerprint(seeded)
    monkeypatch.setattr("pathlib.Path.read_bytes", lambda self: pytest.fail("the big file was read"))
    rep = import_file(path, seeded, as_county=COUNTY, options=OPTS)
    assert codes(rep.issues) == {"file_too_large"}
    assert "50.0 MB" in rep.messages()[0] and "20 MB" in rep.messages()[0]
    assert fingerprint(seeded) == before


def test_warnings_do_not_block_and_preview_writes_nothing(seeded: Store) -> None:
    vals = sample_report(COUNTY, PERIOD)
    data = filled(gov_cases=vals["gov_cases"] * 40, share_requests=vals["share_requests"] * 40)
    before = fingerprint(seeded)
    rep = import_bytes(data, "r.xlsx", seeded, as_county=COUNTY, preview=True, options=OPTS)
    assert rep.ok and rep.preview and rep.batch_id is None
    warn = codes(rep.issues, "warning")
    assert {"outlier_history", "outlier_peer"} <= warn, rep.messages()
    msg = next(i for i in rep.warnings if i.code == "outlier_history").message("zh")
    assert "第 7 行" in msg and "中位数" in msg
    assert fingerprint(seeded) == before


def test_stock_drop_is_a_warning_not_an_error(seeded: Store) -> None:
    prev = sample_report(COUNTY, "2026-09")["zzd_activated_accounts"]
    rep = analyse(filled(zzd_activated_accounts=round(prev * 0.5)), "r.xlsx", seeded, as_county=COUNTY, options=OPTS)
    assert rep.ok, rep.messages()
    assert "stock_falls" in codes(rep.issues, "warning")


def test_every_message_has_both_languages() -> None:
    for code, m in MESSAGES.items():
        assert set(m) == {"zh", "en"}, code
        assert m["zh"] and m["en"]


# -- good paths ------------------------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path) -> Store:
    return scratch_store(f"sqlite:///{tmp_path / 'cockpit.sqlite'}")


def test_template_content() -> None:
    wb = load_workbook(io.BytesIO(template_bytes("上城区", PERIOD)))
    assert wb.sheetnames == ["填报", "填报说明"]
    ws = wb["填报"]
    measures = reported_measures()
    county_monthly = [m for m in catalogue().measures if m.level == "county" and m.grain == "month"]
    assert len(measures) == len([m for m in county_monthly if not platform_fed(m)]) < len(county_monthly)
    assert ws.cell(DATA_ROW, 1).value == COUNTY and ws.cell(DATA_ROW, 2).value == "上城区"
    assert ws.cell(DATA_ROW, 3).value == PERIOD
    assert [ws.cell(HEADER_ROW, 4 + i).value for i in range(len(measures))] == [m.code for m in measures]
    gc = 4 + [m.code for m in measures].index(G)
    assert ws.cell(3, gc).value == "政务服务办件总量" and ws.cell(4, gc).value.startswith("件")
    assert "用于" in ws.cell(5, gc).value  # definition names the KPIs using it
    dv = ws.data_validations.dataValidation[0]
    assert dv.type == "decimal" and dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
    assert f"D{DATA_ROW}" in str(dv.sqref)
    help_text = " ".join(str(c.value) for row in wb["填报说明"].iter_rows() for c in row if c.value)
    assert "分子不能大于分母" in help_text and "公式" in help_text


def test_template_round_trip_into_store_and_engine(store: Store) -> None:
    seed_history(store, ["2026-09"])
    vals = sample_report(COUNTY, PERIOD)

    def title_merge(ws) -> None:  # a merged title above the header is fine
        ws.merge_cells("A1:C1")
    data = filled(edit=title_merge)
    rep = import_bytes(data, "上城区_202610.xlsx", store, as_county=COUNTY, user="张三", options=OPTS)
    assert rep.ok and rep.committed, rep.messages()
    assert rep.layout == "wide" and rep.counts() == {"new": len(vals), "changed": 0, "unchanged": 0}
    b = store.batch(rep.batch_id)
    assert b["submitted_by"] == "张三" and b["file_name"] == "上城区_202610.xlsx" and b["status"] == "committed"
    assert b["checksum"] == hashlib.sha256(data).hexdigest() and b["region_code"] == COUNTY
    assert b["period"] == PERIOD and b["source"] == "import" and b["n_rows"] == len(vals)
    for m in (G, "gov_cases_online", "zlb_registered_users"):
        assert current(store, COUNTY, m, PERIOD) == vals[m]
    eng = MetricsEngine(store, today=TODAY)
    res = eng.value("online_handling_rate", COUNTY, PERIOD)
    assert res.numerator == vals["gov_cases_online"] and res.denominator == vals[G]
    assert res.value == pytest.approx(vals["gov_cases_online"] / vals[G])
    # the same file again: a duplicate submission, nothing to write
    again = import_bytes(data, "again.xlsx", store, as_county=COUNTY, options=OPTS)
    assert again.ok and again.batch_id is None
    assert "duplicate_file" in codes(again.issues, "warning") and "nothing_changed" in codes(again.issues, "info")


def test_gbk_csv_with_chinese_names(store: Store) -> None:
    rows = [("上城区", "2026年10月", "政务服务办件总量", "1,200"), ("上城区", "2026年10月", "网上全流程办结办件量", 1100)]
    data = long_csv(rows, encoding="gbk", header=("县（市、区）", "统计期", "指标名称", "本期数"))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rep = import_bytes(data, "gbk.csv", store, as_county="上城区", options=OPTS)
    assert rep.ok and rep.committed, rep.messages()
    assert rep.encoding == "gb18030" and rep.layout == "long"
    assert current(store, COUNTY, G, PERIOD) == 1200 and current(store, COUNTY, "gov_cases_online", PERIOD) == 1100


def test_utf8_bom_csv_with_english_headers_imports(store: Store) -> None:
    data = b"\xef\xbb\xbf" + long_csv([(COUNTY, "2026/10", G, 900)], header=("Region", "Period", "Measure", "Value"))
    rep = import_bytes(data, "bom.csv", store, as_county=COUNTY, options=OPTS)
    assert rep.ok and rep.committed and rep.encoding == "utf-8-sig", rep.messages()
    assert current(store, COUNTY, G, PERIOD) == 900


def test_preview_lists_new_changed_unchanged(store: Store) -> None:
    first = long_csv([(COUNTY, "2026-09", G, 100), (COUNTY, "2026-09", "gov_cases_online", 90)])
    assert import_bytes(first, "a.csv", store, as_county=COUNTY, options=OPTS).committed
    before = fingerprint(store)
    data = long_csv([(COUNTY, "2026-09", G, 120), (COUNTY, "2026-09", "gov_cases_online", 90),
                     (COUNTY, "2026-09", "gov_items", 1400)])
    rep = import_bytes(data, "b.csv", store, as_county=COUNTY, preview=True, options=OPTS)
    assert rep.ok and rep.batch_id is None and fingerprint(store) == before
    ch = rep.changes.set_index("measure_code")
    assert ch.loc[G, "status"] == "changed" and ch.loc[G, "old_value"] == 100 and ch.loc[G, "value"] == 120
    assert ch.loc["gov_cases_online", "status"] == "unchanged"
    assert ch.loc["gov_items", "status"] == "new" and pd.isna(ch.loc["gov_items", "old_value"])
    assert int(ch.loc[G, "row"]) == 2 and ch.loc[G, "col"] == "D"
    assert rep.counts() == {"new": 1, "changed": 1, "unchanged": 1}
    same = store.preview_changes(rep.changes[["region_code", "measure_code", "obs_date", "value"]])
    assert same.set_index("measure_code")["status"].to_dict() == ch["status"].to_dict()
    assert "修改 1" in rep.summary("zh")


def test_correction_keeps_history_and_rollback_restores(store: Store) -> None:
    a = import_bytes(long_csv([(COUNTY, "2026-09", G, 100)]), "a.csv", store, as_county=COUNTY, user="a",
                     options=OPTS)
    b = import_bytes(long_csv([(COUNTY, "2026-09", G, 130)]), "b.csv", store, as_county=COUNTY, user="b",
                     options=OPTS)
    assert a.committed and b.committed and b.counts() == {"new": 0, "changed": 1, "unchanged": 0}
    assert current(store, COUNTY, G, "2026-09") == 130
    with store.engine.connect() as conn:
        hist = conn.execute(sa.select(observation.c.batch_id, observation.c.value, observation.c.is_current)
                            .where(observation.c.measure_code == G).order_by(observation.c.batch_id)).all()
        roll = conn.execute(sa.select(rollup_month.c.value_sum).where(rollup_month.c.measure_code == G)).scalar()
    assert [(r.value, bool(r.is_current)) for r in hist] == [(100, False), (130, True)]
    assert roll == 130
    version = store.data_version()
    ok, msg = rollback(store, b.batch_id, "审核员")
    assert ok and "已撤销" in msg
    assert current(store, COUNTY, G, "2026-09") == 100
    assert store.batch(b.batch_id)["status"] == "rolled_back" and "审核员" in store.batch(b.batch_id)["note"]
    assert store.data_version() == version + 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(rollup_month.c.value_sum).where(rollup_month.c.measure_code == G)).scalar() == 100
        assert conn.execute(sa.select(sa.func.count()).select_from(observation)).scalar() == 2  # history stays
    ok, msg = rollback(store, b.batch_id)
    assert not ok and "只能撤销已提交" in msg
    assert rollback(store, 999)[0] is False
    # rolling back the only batch of a key leaves it without a value
    rollback(store, a.batch_id)
    assert current(store, COUNTY, G, "2026-09") is None
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rollup_month)).scalar() == 0


def test_feed_reaches_back_to_2016_but_refuses_pre_split_codes(store: Store) -> None:
    rows = [(c, d, "zlb_active_users", 1000) for c in ("330102", "330106") for d in ("2016-03-01", "2026-11-22")]
    rows += [("330110", "2020-05-01", "zlb_active_users", 10), ("330113", "2020-05-01", "zlb_active_users", 10)]
    rep = analyse(long_csv(rows, header=("region_code", "date", "measure", "value")), "feed.csv", store,
                  options=ImportOptions(today=TODAY, feed=True))
    assert codes(rep.issues) == {"region_split", "region_not_yet"}, rep.messages()
    assert len(rep.changes) == 4
    ok = import_bytes(long_csv(rows[:4], header=("region_code", "date", "measure", "value")), "feed.csv", store,
                      options=ImportOptions(today=TODAY, feed=True))
    assert ok.committed and store.batch(ok.batch_id)["source"] == "feed"
    assert store.batch(ok.batch_id)["period"] == "2016-03..2026-11"


def test_cli_template_import_preview_rollback(store: Store, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", str(store.engine.url))
    out = tmp_path / "t.xlsx"
    assert cli_main(["template", COUNTY, "2026-09", "-o", str(out)]) == 0
    out.write_bytes(fill_template(out.read_bytes(), sample_report(COUNTY, "2026-09")))
    assert cli_main(["import", str(out), "--as", COUNTY, "--preview"]) == 0
    assert "预览" in capsys.readouterr().out and store.counts()["observation"] == 0
    assert cli_main(["import", str(out), "--as", "上城区", "--user", "cli"]) == 0
    assert "已导入" in capsys.readouterr().out and store.counts()["observation"] == len(reported_measures())
    bad = tmp_path / "bad.csv"
    bad.write_bytes(long_csv([(COUNTY, "2026-09", G, -1)]))
    assert cli_main(["import", str(bad), "--as", COUNTY, "--lang", "en"]) == 1
    assert "row 2, column D" in capsys.readouterr().out
    rej = rejections(store)  # the refusal is logged for the data-quality view; the figures are untouched
    assert list(rej["source"]) == ["cli"] and list(rej["region_code"]) == [COUNTY]
    assert cli_main(["import", str(bad), "--as", "330103"]) == 2  # an abolished reporting county
    assert cli_main(["template", "330103", "2026-09", "-o", str(out)]) == 2
    batch_id = int(pd.read_sql(sa.select(sa.func.max(import_batch.c.id)), store.engine).iloc[0, 0])
    assert cli_main(["rollback", str(batch_id), "--user", "cli"]) == 0
    assert store.counts()["rollup_month"] == 0


# -- all three backends -------------------------------------------------------------------------------------------
def test_atomic_commit_and_rollback_on_every_backend(db_url: str, monkeypatch) -> None:
    store = scratch_store(db_url)
    first = import_bytes(long_csv([(COUNTY, "2026-09", G, 100), (COUNTY, "2026-09", "gov_cases_online", 80)]),
                         "a.csv", store, as_county=COUNTY, options=OPTS)
    assert first.committed
    before = fingerprint(store)
    data = filled(period="2026-09")

    def boom(*a, **kw) -> None:
        raise RuntimeError("disk full")
    monkeypatch.setattr(Store, "refresh_rollups", boom)  # fails after the rows went in
    with pytest.raises(RuntimeError):
        import_bytes(data, "b.xlsx", store, as_county=COUNTY, options=OPTS)
    monkeypatch.undo()
    assert fingerprint(store) == before  # all rows or none
    second = import_bytes(data, "b.xlsx", store, as_county=COUNTY, options=OPTS)
    assert second.committed and current(store, COUNTY, G, "2026-09") == sample_report(COUNTY, "2026-09")[G]
    ok, _ = rollback(store, second.batch_id, "t")
    assert ok and current(store, COUNTY, G, "2026-09") == 100
    assert current(store, COUNTY, "zlb_registered_users", "2026-09") is None
    eng = MetricsEngine(store, today=TODAY)
    res = eng.value("online_handling_rate", COUNTY, "2026-09")
    assert res.numerator == 80 and res.denominator == 100


def test_formula_with_cached_value_uses_the_value_and_never_evaluates(store: Store) -> None:
    """A formula Excel has already computed is read through its cached value (data_only); nothing runs."""
    col = col_of(G)
    cases = round(sample_report(COUNTY, "2026-09")["gov_cases"] * 1.01)  # above every numerator of it
    src = io.BytesIO(filled(period="2026-09", gov_cases=cases))
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text_ = data.decode()
                start = text_.index(f'<c r="{col}7"')
                v = text_.index("<v>", start)
                # the formula says 1+1 but the cached value is what Excel showed
                data = (text_[:v] + "<f>1+1</f>" + text_[v:]).encode()
            zout.writestr(item, data)
    rep = import_bytes(out.getvalue(), "cached.xlsx", store, as_county=COUNTY, options=OPTS)
    assert rep.ok and rep.committed, rep.messages()
    assert current(store, COUNTY, G, "2026-09") == cases


def test_gb18030_csv_with_characters_outside_gbk(store: Store) -> None:
    data = long_csv([(COUNTY, "2026-09", G, 77, "𠀀村上报")], encoding="gb18030",
                    header=("区划代码", "期间", "指标代码", "数值", "备注"))  # an extension-B character
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")
    rep = import_bytes(data, "gb18030.csv", store, as_county=COUNTY, options=OPTS)
    assert rep.encoding == "gb18030" and rep.committed, rep.messages()
    assert current(store, COUNTY, G, "2026-09") == 77


def test_wide_csv_with_chinese_measure_names_as_columns(store: Store) -> None:
    """A county's own sheet: one row per month, measures as columns named in Chinese (with units)."""
    data = long_csv([("330102", "2026-08", 1000, 900), ("330102", "2026-09", 1100, 1000)],
                    header=("区划代码", "月份", "政务服务办件总量（件）", "网上全流程办结办件量"))
    rep = import_bytes(data, "wide.csv", store, as_county=COUNTY, options=OPTS)
    assert rep.ok and rep.committed and rep.layout == "wide", rep.messages()
    assert current(store, COUNTY, G, "2026-08") == 1000 and current(store, COUNTY, "gov_cases_online", "2026-09") == 1000
    bad = long_csv([("330102", "2026-09", 1100, 1200)], header=("区划代码", "月份", "政务服务办件总量（件）", "网上全流程办结办件量"))
    rep = analyse(bad, "wide.csv", store, as_county=COUNTY, options=OPTS)
    assert next(i for i in rep.errors if i.code == "num_gt_den").message("zh").startswith("第 2 行 D 列")


def test_a_file_full_of_errors_is_summarised_quickly(seeded: Store) -> None:
    """50,000 bad rows: the first ones in full, the rest as row ranges or counted, in seconds."""
    import time

    from ingest.validate import MAX_LISTED, SHOWN_IN_FULL
    rows = [(COUNTY, PERIOD, G, -i - 1) for i in range(50_000)]
    before = fingerprint(seeded)
    t = time.perf_counter()
    rep = import_bytes(long_csv(rows), "bad.csv", seeded, as_county=COUNTY, options=OPTS)
    assert time.perf_counter() - t < 30
    neg = [i for i in rep.errors if i.code == "value_negative"]
    assert len(neg) == SHOWN_IN_FULL and neg[0].message("zh").startswith("第 2 行 D 列")
    folded = next(i for i in rep.errors if i.code == "same_in_column")
    assert folded.params["more"] == MAX_LISTED - SHOWN_IN_FULL
    assert f"第 {2 + SHOWN_IN_FULL}–{1 + MAX_LISTED} 行" in folded.message("zh")
    more = next(i for i in rep.errors if i.code == "more_of_kind")
    assert more.params["n"] == 50_000 - MAX_LISTED and str(50_000 - MAX_LISTED) in more.message("zh")
    assert "发现 50000 个错误" in rep.summary("zh")
    assert fingerprint(seeded) == before
