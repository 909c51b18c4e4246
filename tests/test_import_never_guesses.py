"""Imports that never guess: files the importer once accepted or mis-described, each rebuilt from the
real template (hidden rows and columns, misspelt measure columns, misplaced thousands separators,
UTF-16, encrypted .xls, note rows, repeated errors), the audit trail of every import path (app, CLI,
drop folder), the signed-in account as the submitter of record, the month being reported on the
data-quality grid, and files re-saved by LibreOffice Calc (xlsx, UTF-8 and GBK CSV) imported as a
real spreadsheet program writes them.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from auth import audit
from ingest import quality as q
from ingest.__main__ import default_user
from ingest.__main__ import main as cli_main
from ingest.importer import ImportOptions, analyse, import_bytes, rollback
from ingest.messages import FORMULA_RULE, TEMPLATE_RULES, TEMPLATE_TEXT
from ingest.reader import OLE2_MAGIC
from ingest.templates import DATA_ROW, HEADER_ROW, fill_template, reported_measures, sample_report, template_bytes
from store import Store
from store.schema import import_batch
from tests import app_helpers as app
from tests.conftest import REQUIRE_SERVERS
from tests.helpers import TODAY, scratch_store
from tests.import_helpers import COUNTY, PERIOD, codes, col_of, current, filled, long_csv

OPTS = ImportOptions(today=TODAY)
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def store(tmp_path) -> Store:
    s = scratch_store(f"sqlite:///{tmp_path / 'cockpit.sqlite'}")
    yield s
    s.engine.dispose()


def edited(data: bytes, edit) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    edit(wb[TEMPLATE_TEXT["data_sheet"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def first(rep, code: str):
    return next(i for i in rep.issues if i.code == code)


# -- hidden rows and columns ---------------------------------------------------------------------------------
def test_hidden_row_with_another_months_figures_is_refused(store: Store) -> None:
    sept = sample_report(COUNTY, "2026-09")

    def hide_september(ws) -> None:
        ws.cell(DATA_ROW + 1, 1, COUNTY)
        ws.cell(DATA_ROW + 1, 2, "上城区")
        ws.cell(DATA_ROW + 1, 3, "2026-09")
        ws.cell(DATA_ROW + 1, 4 + [m.code for m in reported_measures()].index("gov_cases"), sept["gov_cases"] + 5)
        ws.row_dimensions[DATA_ROW + 1].hidden = True

    rep = import_bytes(edited(filled(), hide_september), "r.xlsx", store, as_county=COUNTY, options=OPTS)
    assert not rep.committed and codes(rep.issues) == {"hidden_row"}, rep.messages()
    msg = first(rep, "hidden_row").message("zh")
    assert "第 8 行" in msg and "隐藏" in msg
    assert store.counts()["observation"] == 0


def test_hidden_column_is_refused_with_its_letter(store: Store) -> None:
    letter = col_of("gov_cases")
    rep = import_bytes(edited(filled(), lambda ws: setattr(ws.column_dimensions[letter], "hidden", True)),
                       "r.xlsx", store, as_county=COUNTY, options=OPTS)
    assert not rep.committed and "hidden_column" in codes(rep.issues)
    assert f"{letter} 列" in first(rep, "hidden_column").message("zh")


def test_hidden_empty_row_below_the_data_is_harmless(store: Store) -> None:
    rep = analyse(edited(filled(), lambda ws: setattr(ws.row_dimensions[40], "hidden", True)), "r.xlsx", store,
                  as_county=COUNTY, options=OPTS)
    assert rep.ok, rep.messages()


# -- header cells that are not measures ------------------------------------------------------------------------
def header_cell(code: str) -> str:
    return f"{col_of(code)}{HEADER_ROW}"


def test_misspelt_measure_column_is_refused_with_the_likely_code(store: Store) -> None:
    def misspell(ws) -> None:
        ws[header_cell("gov_cases_online")] = "gov_case_online"
    rep = import_bytes(edited(filled(), misspell), "r.xlsx", store, as_county=COUNTY, options=OPTS)
    assert not rep.committed and "measure_column_unknown" in codes(rep.issues), rep.messages()
    msg = first(rep, "measure_column_unknown").message("zh")
    assert "未知指标列 gov_case_online，是否为 gov_cases_online" in msg
    assert msg.startswith(f"第 {HEADER_ROW} 行 {col_of('gov_cases_online')} 列")
    assert "nothing_changed" not in {i.code for i in rep.issues}


def test_unrecognisable_code_like_header_is_refused_without_a_hint(store: Store) -> None:
    rep = analyse(edited(filled(), lambda ws: ws.cell(HEADER_ROW, ws.max_column + 1, "xyz_total_count")),
                  "r.xlsx", store, as_county=COUNTY, options=OPTS)
    assert "measure_column_unknown_nohint" in codes(rep.issues)
    assert "未知指标列 xyz_total_count" in first(rep, "measure_column_unknown_nohint").message("zh")


def test_remark_column_is_ignored_with_a_notice(store: Store) -> None:
    def remark(ws) -> None:
        col = ws.max_column + 1
        ws.cell(HEADER_ROW, col, "备注")
        ws.cell(DATA_ROW, col, "本月数据已核对")
    rep = import_bytes(edited(filled(), remark), "r.xlsx", store, as_county=COUNTY, options=OPTS)
    assert rep.committed, rep.messages()
    assert "备注" in first(rep, "columns_ignored").message("zh")
    assert current(store, COUNTY, "gov_cases", PERIOD) == sample_report(COUNTY, PERIOD)["gov_cases"]


# -- thousands separators ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["12，00", "1，2", "12,00", "1，200，0", "1,20,000", "1 2"])
def test_misplaced_separator_is_refused_with_row_and_column(store: Store, typed: str) -> None:
    rep = import_bytes(long_csv([(COUNTY, PERIOD, "gov_cases", typed)]), "r.csv", store, as_county=COUNTY,
                       options=OPTS)
    assert not rep.committed and codes(rep.issues) == {"value_bad_separator"}, rep.messages()
    msg = first(rep, "value_bad_separator").message("zh")
    assert msg.startswith("第 2 行 D 列") and typed in msg and "千分位" in msg


def test_misplaced_separator_in_the_template_is_refused(store: Store) -> None:
    data = edited(filled(), lambda ws: ws.__setitem__(f"{col_of('gov_cases')}{DATA_ROW}", "12，00"))
    rep = analyse(data, "r.xlsx", store, as_county=COUNTY, options=OPTS)
    assert first(rep, "value_bad_separator").message("zh").startswith(f"第 7 行 {col_of('gov_cases')} 列")


@pytest.mark.parametrize(("typed", "value"), [("128，542", 128542), ("1,200", 1200), ("1,234,567.5", 1234567.5),
                                              ("1200", 1200), ("-0", 0), ("2 400", 2400)])
def test_separators_where_thousands_are_are_fine(store: Store, typed: str, value: float) -> None:
    rep = import_bytes(long_csv([(COUNTY, PERIOD, "zlb_registered_users", typed)]), "r.csv", store,
                       as_county=COUNTY, options=OPTS)
    assert rep.committed, rep.messages()
    assert current(store, COUNTY, "zlb_registered_users", PERIOD) == value


# -- encodings and containers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_csv_names_the_encoding_and_the_supported_ones(store: Store, encoding: str) -> None:
    rep = analyse(long_csv([(COUNTY, PERIOD, "gov_cases", 5)], encoding=encoding), "r.csv", store,
                  as_county=COUNTY, options=OPTS)
    assert codes(rep.issues) == {"unsupported_encoding"}
    msg = rep.errors[0].message("zh")
    assert "UTF-16" in msg and "UTF-8" in msg and "GBK" in msg and "二进制" not in msg


def test_encrypted_legacy_xls_is_reported_as_protected(store: Store) -> None:
    """An encrypted .xls (what LibreOffice writes with a password) renamed .xlsx: a Workbook stream whose
    BOF record is followed by FILEPASS."""
    bof = b"\x09\x08\x10\x00" + b"\x00\x06\x05\x00" + b"\x00" * 12
    filepass = b"\x2f\x00\x36\x00" + b"\x01\x00" + b"\x00" * 52
    data = OLE2_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 1000 + bof + filepass
    rep = analyse(data, "r.xlsx", store, as_county=COUNTY, options=OPTS)
    assert codes(rep.issues) == {"encrypted"} and "密码" in rep.errors[0].message("zh")
    plain = OLE2_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 1000 + bof + b"\x5c\x00\x02\x00ab"
    assert codes(analyse(plain, "r.xls", store, as_county=COUNTY, options=OPTS).issues) == {"legacy_xls"}


# -- notes below the data, repeated errors ------------------------------------------------------------------------------
def test_text_rows_below_the_data_are_notes(store: Store) -> None:
    def notes(ws) -> None:
        ws.cell(DATA_ROW + 2, 1, "注：本表数据由区数据局汇总，联系电话 0571-12345678。")
        ws.cell(DATA_ROW + 3, 1, "填表人：张三")
    rep = import_bytes(edited(filled(), notes), "r.xlsx", store, as_county=COUNTY, options=OPTS)
    assert rep.committed, rep.messages()
    msg = first(rep, "note_rows").message("zh")
    assert "第 9–10 行" in msg and "注：本表数据" in msg
    assert "blank_cells" not in {i.code for i in rep.issues}


def test_one_bad_cell_down_a_column_is_one_line_with_row_ranges(store: Store) -> None:
    months = [f"{y}-{m:02d}" for y in range(2022, 2027) for m in range(1, 13)][:51]
    rep = import_bytes(long_csv([(COUNTY, mo, "gov_cases", "n/a") for mo in months]), "r.csv", store,
                       as_county=COUNTY, options=OPTS)
    assert rep.summary("zh") == "未导入：发现 51 个错误，数据库未作任何修改。"
    shown = [i for i in rep.errors if i.code == "value_not_number"]
    assert len(shown) == 3 and shown[0].message("zh").startswith("第 2 行 D 列")
    folded = [i for i in rep.errors if i.code == "same_in_column"]
    assert len(folded) == 1 and len(rep.errors) == 4
    assert "共有 51 处同类问题" in folded[0].message("zh") and "第 5–52 行" in folded[0].message("zh")
    rid = q.record_rejection(store, rep, source="upload", region_code=COUNTY, period=PERIOD, user="t")
    assert q.rejections(store).iloc[0]["n_errors"] == 51 and rid


# -- formulas: one rule, said the same everywhere --------------------------------------------------------------------------
def test_formula_rule_is_the_same_in_template_and_readme() -> None:
    wb = load_workbook(io.BytesIO(template_bytes(COUNTY, PERIOD)))
    help_text = "\n".join(str(c.value) for row in wb[TEMPLATE_TEXT["help_sheet"]].iter_rows() for c in row if c.value)
    subtitle = wb[TEMPLATE_TEXT["data_sheet"]]["A2"].value
    assert FORMULA_RULE in help_text and FORMULA_RULE in subtitle
    assert FORMULA_RULE in README.read_text(encoding="utf-8")
    assert not any("不能使用公式" in r for r in TEMPLATE_RULES) and "公式、合并单元格、文字说明均不能导入" not in subtitle


# -- the audit trail of every import path -----------------------------------------------------------------------------------
def entries(store: Store, action: str | None = None):
    df = audit.read(store)
    return df if action is None else df[df["action"] == action]


def test_core_import_and_rollback_are_audited(store: Store) -> None:
    rep = import_bytes(filled(period="2026-09"), "r.xlsx", store, as_county=COUNTY, user="zhang", options=OPTS,
                       on_behalf="李四")
    assert rep.committed
    b = store.batch(rep.batch_id)
    assert b["submitted_by"] == "zhang" and "李四" in b["note"]
    imp = entries(store, "import")
    assert list(imp["username"]) == ["zhang"] and f"batch={rep.batch_id}" in imp.iloc[0]["detail"]
    ok, _ = rollback(store, rep.batch_id, "zhang")
    assert ok and list(entries(store, "rollback")["username"]) == ["zhang"]
    ok, _ = rollback(store, rep.batch_id, "zhang")  # a refused rollback is audited too
    assert not ok and "ok=False" in entries(store, "rollback").iloc[0]["detail"]


def test_cli_imports_refusals_and_rollbacks_are_audited(store: Store, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", str(store.engine.url))
    good = tmp_path / "good.xlsx"
    good.write_bytes(filled(period="2026-09"))
    assert cli_main(["import", str(good), "--as", COUNTY]) == 0
    me = default_user()
    assert me.startswith("cli:")
    batch_id = max_batch(store)
    assert store.batch(batch_id)["submitted_by"] == me
    assert list(entries(store, "import")["username"]) == [me]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(long_csv([(COUNTY, "2026-09", "gov_cases", -1)]))
    assert cli_main(["import", str(bad), "--as", COUNTY, "--user", "王五"]) == 1
    refused = entries(store, "import_refused")
    assert list(refused["username"]) == ["王五"] and "value_negative" in refused.iloc[0]["detail"]
    assert cli_main(["rollback", str(batch_id)]) == 0
    assert list(entries(store, "rollback")["username"]) == [me]
    capsys.readouterr()


def max_batch(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(import_batch.c.id))).scalar())


def test_drop_folder_imports_and_refusals_are_audited(store: Store, tmp_path) -> None:
    from scheduler import jobs

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / f"{COUNTY}_2026-09.xlsx").write_bytes(filled(period="2026-09"))
    (drop / f"{COUNTY}_2026-08.csv").write_bytes(long_csv([(COUNTY, "2026-08", "gov_cases", "十二")]))
    jobs.drop_folder(store, drop, today=TODAY, min_age=0)
    imp, refused = entries(store, "import"), entries(store, "import_refused")
    assert list(imp["username"]) == ["scheduler:drop"] and list(refused["username"]) == ["scheduler:drop"]
    assert refused.iloc[0]["target"] == COUNTY and "2026-08" in refused.iloc[0]["detail"]


# -- the month being reported on the quality grid -----------------------------------------------------------------------------
def test_reporting_month_reaches_past_the_latest_due_month(store: Store) -> None:
    assert q.reporting_month(store, TODAY) is None
    import_bytes(filled(period="2026-10"), "r.xlsx", store, as_county=COUNTY, user="t", options=OPTS)
    assert q.reporting_month(store, TODAY) == dt.date(2026, 10, 1)
    # early December: November is being reported (due on the 10th); a refused attempt for it counts
    dec = dt.date(2026, 12, 3)
    rep = analyse(long_csv([(COUNTY, "2026-11", "gov_cases", "x")]), "r.csv", store, as_county=COUNTY,
                  options=ImportOptions(today=dec))
    q.record_rejection(store, rep, source="upload", region_code=COUNTY, period="2026-11", user="t")
    assert q.reporting_month(store, dec) == dt.date(2026, 11, 1)
    assert q.reporting_month(store, TODAY) == dt.date(2026, 10, 1)  # never a month not yet over
    cells = q.quality_cells(store, q.month_window(dt.date(2026, 11, 1), 2), [COUNTY], today=dec)
    nov = cells[cells["month"] == "2026-11"].iloc[0]
    assert nov["status"] == "rejected" and nov["n_rejected"] == 1 and pd.isna(nov["days_overdue"])
    assert not q.chase_list(cells).empty


# -- the signed-in account is the submitter of record (the upload page) -------------------------------------------------------
CIXI = "330282"  # 慈溪市: no report for the demo's latest month


def test_officer_typing_office_is_still_the_submitter(db_copy, use_db) -> None:
    from auth.accounts import User

    use_db(db_copy)
    officer = User("cixi_officer", "officer", CIXI)
    at = app.run("pages/data_in.py", user=officer, month=app.REPORT_MONTH)
    data = app.filled_report(CIXI, app.plausible(db_copy, CIXI))
    app.upload(at, "330282_2022-03.xlsx", data, user="office")
    assert any(c.value.startswith("提交人：cixi\\_officer") for c in at.caption)  # markdown-escaped
    at.button(key="data_commit").click().run()
    assert not at.exception and "已导入：批次" in at.success[0].value
    s = Store(db_copy)
    with s.engine.connect() as conn:
        b = conn.execute(sa.text("SELECT * FROM import_batch ORDER BY id DESC LIMIT 1")).mappings().one()
    assert b["submitted_by"] == "cixi_officer" and b["note"] == "代报人 on behalf of: office"
    imp = entries(s, "import")
    assert imp.iloc[0]["username"] == "cixi_officer" and f"batch={b['id']}" in imp.iloc[0]["detail"]
    # another county's rows in an officer's upload: refused, logged and audited
    other = f"区划代码,期间,指标代码,数值\r\n330102,{app.REPORT_MONTH},gov_cases,5\r\n".encode()
    at = app.run("pages/data_in.py", user=officer, month=app.REPORT_MONTH)
    app.upload(at, "other.csv", other, user=None)
    assert at.error
    refused = entries(s, "import_refused")
    assert refused.iloc[0]["username"] == "cixi_officer" and "region_other_county" in refused.iloc[0]["detail"]
    s.engine.dispose()


# -- LibreOffice Calc round trips --------------------------------------------------------------------------------------------------
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="session")
def soffice(tmp_path_factory):
    """Convert a file with headless LibreOffice, on a private profile for this test session (parallel
    runs must not share ~/.config/libreoffice, whose lock makes a second instance exit silently)."""
    if not SOFFICE:
        msg = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc (./cockpit test does)"
        if REQUIRE_SERVERS:
            pytest.fail(msg + " — the LibreOffice round trips are mandatory in CI", pytrace=False)
        pytest.skip(msg)
    profile = tmp_path_factory.mktemp("lo-profile")

    def convert(data: bytes, name: str, target: str, ext: str) -> bytes:
        work = tmp_path_factory.mktemp("lo")
        src = work / name
        src.write_bytes(data)
        out = work / f"out-{uuid.uuid4().hex[:8]}"
        out.mkdir()
        res = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                              "--convert-to", target, "--outdir", str(out), str(src)],
                             capture_output=True, timeout=240, env={**os.environ, "HOME": str(profile)})
        produced = out / f"{src.stem}.{ext}"
        assert produced.exists(), (res.returncode, res.stdout[-500:], res.stderr[-500:])
        return produced.read_bytes()
    return convert


CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,{charset}"


@pytest.mark.slow
@pytest.mark.parametrize(("target", "ext", "encoding"), [
    ("xlsx:Calc MS Excel 2007 XML", "xlsx", None),
    (CSV_FILTER.format(charset=76), "csv", "utf-8"),
    (CSV_FILTER.format(charset=67), "csv", "gb18030"),  # 67 is GBK in LibreOffice ("GBK" by name is UTF-8)
], ids=["xlsx", "csv-utf8", "csv-gbk"])
def test_libreoffice_saved_report_imports(store: Store, soffice, target: str, ext: str, encoding) -> None:
    values = sample_report(COUNTY, "2026-09")
    saved = soffice(fill_template(template_bytes(COUNTY, "2026-09"), values), "上城区_2026-09.xlsx", target, ext)
    if ext == "csv":
        assert "区划代码".encode(encoding) in saved  # the charset token did what it says
        if encoding == "gb18030":
            with pytest.raises(UnicodeDecodeError):
                saved.decode("utf-8")
    rep = import_bytes(saved, f"lo.{ext}", store, as_county=COUNTY, user="lo", options=OPTS)
    assert rep.committed, rep.messages()
    assert rep.counts()["new"] == len(reported_measures())
    if encoding:
        assert rep.encoding in ({"utf-8", "utf-8-sig"} if encoding == "utf-8" else {"gb18030"})
    for code, v in values.items():
        assert current(store, COUNTY, code, "2026-09") == pytest.approx(v), code


@pytest.mark.slow
def test_libreoffice_saved_formula_imports_its_value(store: Store, soffice) -> None:
    """A formula openpyxl wrote has no result; once LibreOffice saved it, it has one and that is imported
    (the rule in FORMULA_RULE), while the unsaved file is refused."""
    cell = f"{col_of('gov_cases')}{DATA_ROW}"
    report = sample_report(COUNTY, "2026-09")
    cases = round(report["gov_cases"] * 1.01)  # above every numerator of it
    raw = edited(fill_template(template_bytes(COUNTY, "2026-09"), report),
                 lambda ws: ws.__setitem__(cell, f"={cases - 1800}+1800"))
    assert "formula_uncomputed" in codes(analyse(raw, "f.xlsx", store, as_county=COUNTY, options=OPTS).issues)
    saved = soffice(raw, "formula.xlsx", "xlsx:Calc MS Excel 2007 XML", "xlsx")
    rep = import_bytes(saved, "formula.xlsx", store, as_county=COUNTY, user="lo", options=OPTS)
    assert rep.committed, rep.messages()
    assert current(store, COUNTY, "gov_cases", "2026-09") == cases
