"""Property tests of the import parser with random and hostile files.

Whatever bytes arrive, `import_bytes` must return a report (never raise: an exception would crash
the upload page) and the database must either be exactly as before (row counts and a sha256 over
the rows of every table the import touches, `tests.import_helpers.fingerprint`) or changed by exactly
the one batch the report names: its new and changed values, nothing else. The hostile files (XML
entity bomb, external entity, zip bomb, lying zip sizes, a sheet declared or stretched to 10^6
rows, a merge over the whole sheet) must be refused quickly, before anything is expanded.

The default run is modest (60 examples a property on SQLite, 12 on each server backend, no deadline:
the machine is shared); about 80 s in all, nothing needs the `slow` mark.
"""

from __future__ import annotations

import io
import os
import re
import struct
import time
import zipfile
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from ingest import reader
from ingest.importer import ImportOptions, ImportReport, import_bytes
from ingest.reader import MAX_CELLS, MAX_UNZIPPED_BYTES
from ingest.templates import reported_measures, sample_report
from ingest.views import issues_frame
from store import Store
from store.schema import import_batch, observation
from tests.helpers import TODAY, scratch_store
from tests.import_helpers import COUNTY, PERIOD, filled, fingerprint, seed_history

OPTS = ImportOptions(today=TODAY)
# CI replays the same examples every run (a red build names a change, not a lucky draw); a developer's run
# explores new ones, and what it finds is pinned with @example
FUZZ = settings(max_examples=60, deadline=None, derandomize=os.environ.get("CI") == "true",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MEASURES = [m.code for m in reported_measures()]
HEADERS = ["区划代码", "期间", "指标代码", "数值", "region", "period", "measure", "value", "县(市、区)", "月份",
           "指标", "本期数", "code", "date"]
HOSTILE_TEXT = ["=1+2", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1:A9)", "=HYPERLINK(\"http://x\")",
                "<img src=x onerror=alert(1)>", "\t=1", "\r=1", "NaN", "nan", "inf", "-inf", "Infinity", "1e309",
                "-1e309", "9" * 400, "1,234", "1 234", "１２３", "12%", "0x1F", "", " ", "\x00", "\x1b[31m", "\u202e",
                "\ufeff", "𝟙𝟚𝟛", "💥", "'", '"', '""', "\\", "\n", "NULL", "None", "true", "2026-10", "2026年10月",
                "330102", "上城区", "gov_cases", "{0}", "{size_mb}", "%s%n"]


# -- the invariant -------------------------------------------------------------------------------------------
def _rows(store: Store, table: sa.Table) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table)).all()]


def check_import(store: Store, data: bytes, name: str, as_county: str | None = COUNTY) -> ImportReport:
    """Import `data`; assert it returned a report and that the store is unchanged or changed by exactly its batch.

    "Exactly its batch": one new import_batch row; observation rows carrying its id, one per new or
    changed value; every other observation row as before, except that rows of the same keys stop
    being current (a correction supersedes, it never deletes).
    """
    before = fingerprint(store)
    obs_before, batches_before = _rows(store, observation), _rows(store, import_batch)
    try:
        rep = import_bytes(data, name, store, as_county=as_county, user="fuzz", options=OPTS)
    except Exception as exc:  # noqa: BLE001 - the property is exactly "never raises"
        pytest.fail(f"import_bytes raised {exc.__class__.__name__}: {exc} on {len(data)} bytes {data[:60]!r}")
    # what the upload page shows must render too (messages in both languages, the findings table)
    for lang in ("zh", "en"):
        assert isinstance(rep.summary(lang), str) and all(isinstance(m, str) for m in rep.messages(lang))
    issues_frame(rep, "zh")
    if currently_in_test_context():  # outcome statistics: pytest --hypothesis-show-statistics
        event("committed" if rep.committed else f"refused: {rep.errors[0].code}" if rep.errors else "nothing to change")
    if not rep.committed:
        assert fingerprint(store) == before, "a refused or unchanged import wrote to the database"
        return rep
    assert rep.ok and not rep.errors
    cols = list(observation.columns.keys())
    bid, cur = cols.index("batch_id"), cols.index("is_current")
    key = [cols.index(c) for c in ("region_code", "measure_code", "obs_date")]
    obs_after = _rows(store, observation)
    mine = [r for r in obs_after if r[bid] == rep.batch_id]
    todo = rep.changes[rep.changes["status"] != "unchanged"]
    assert len(mine) == len(todo) > 0 and all(r[cur] for r in mine)
    touched = {tuple(r[i] for i in key) for r in mine}
    old = {r[0]: r for r in obs_before}
    others = [r for r in obs_after if r[bid] != rep.batch_id]
    assert len(others) == len(obs_before), "rows outside the batch appeared or vanished"
    for r in others:
        o = old[r[0]]
        same = r[:cur] + r[cur + 1:] == o[:cur] + o[cur + 1:]
        assert same and (r[cur] == o[cur] or (tuple(r[i] for i in key) in touched and not r[cur])), (o, r)
    batches_after = _rows(store, import_batch)
    assert sorted(map(repr, (b for b in batches_after if b[0] != rep.batch_id))) == sorted(map(repr, batches_before))
    assert len(batches_after) == len(batches_before) + 1
    return rep


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """A month of every county's history (peers and previous values exist; fingerprints stay cheap)."""
    s = scratch_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}")
    seed_history(s, ["2026-09"])
    return s


# -- strategies ----------------------------------------------------------------------------------------------
names = st.sampled_from(["report.csv", "report.xlsx", "report.xls", "report", "报表.CSV", "../../etc/passwd",
                         "<b>x</b>.xlsx", "a" * 300 + ".csv"])
cell_text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30),
                      st.integers(min_value=-10**30, max_value=10**30).map(str),
                      st.floats(allow_nan=True, allow_infinity=True).map(repr),
                      st.sampled_from(MEASURES), st.sampled_from(["330102", "330106", "339999", "330103"]),
                      st.sampled_from(["2026-10", "2026-09", "2026-11", "2020-12", "2026-13", "十月"]))


@st.composite
def csv_files(draw) -> bytes:
    """A CSV with a random header (mostly real column names) and random cells, in a random encoding."""
    width = draw(st.integers(1, 8))
    header = [draw(st.one_of(st.sampled_from(HEADERS), st.sampled_from(MEASURES), cell_text)) for _ in range(width)]
    rows = draw(st.lists(st.lists(cell_text, min_size=0, max_size=width + 2), max_size=25))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))

    def line(cells: list[str]) -> str:
        return sep.join('"' + c.replace('"', '""') + '"' if (sep in c or '"' in c or "\n" in c) else c for c in cells)
    text = "\r\n".join(line(r) for r in [header, *rows])
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "latin-1", "big5"]))
    return text.encode(enc, errors="replace")


@st.composite
def plausible_csv(draw) -> bytes:
    """A long-layout CSV of real keys and consistent values (the month's sample report, scaled up a little),
    with some cells replaced by hostile text: the files that may commit, or fail on one cell."""
    base = sample_report(COUNTY, PERIOD)
    factor = draw(st.sampled_from([1.0, 1.01, 1.02, 1.05, 1.1]))
    chosen = draw(st.lists(st.sampled_from(MEASURES), min_size=1, max_size=12, unique=True))
    rows = [(COUNTY, draw(st.sampled_from([PERIOD, "2026年10月"])), m,
             str(round(base[m] * factor)) if draw(st.integers(0, 4)) else draw(cell_text)) for m in chosen]
    text = "区划代码,期间,指标代码,数值\n" + "\n".join(
        ",".join('"' + c.replace('"', '""') + '"' if ("," in c or '"' in c or "\n" in c) else c for c in r)
        for r in rows)
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])), errors="replace")


TEMPLATE = filled()  # a valid filled template: the base for mutated workbooks


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def rezip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in members.items():
            z.writestr(n, b)
    return buf.getvalue()


@st.composite
def mutated_xlsx(draw) -> bytes:
    """The template with bytes flipped, cut or spliced inside one zip member, or in the raw zip."""
    how = draw(st.sampled_from(["member_flip", "member_truncate", "member_splice", "raw_flip", "raw_truncate",
                                "drop_member"]))
    if how.startswith("raw"):
        raw = bytearray(TEMPLATE)
        if how == "raw_truncate":
            return bytes(raw[: draw(st.integers(4, len(raw) - 1))])
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        return bytes(raw)
    members = _members(TEMPLATE)
    name = draw(st.sampled_from(sorted(members)))
    body = bytearray(members[name])
    if how == "drop_member":
        del members[name]
    elif how == "member_truncate":
        members[name] = bytes(body[: draw(st.integers(0, len(body)))])
    elif how == "member_flip":
        for _ in range(draw(st.integers(1, 8))):
            body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
        members[name] = bytes(body)
    else:  # splice hostile text into the XML (cell values, attributes, tags)
        at = draw(st.integers(0, len(body)))
        piece = draw(st.one_of(st.sampled_from(HOSTILE_TEXT), st.sampled_from(
            ['<c r="XFD1048576"><v>1</v></c>', '<f>1+1</f>', '<v>NaN</v>', '<v>1e400</v>', "]]>", "&lol;", "<!--"])))
        members[name] = bytes(body[:at]) + piece.encode("utf-8", errors="replace") + bytes(body[at:])
    return rezip(members)


# -- properties ----------------------------------------------------------------------------------------------
@FUZZ
@given(data=st.binary(max_size=4096), name=names)
def test_random_bytes_never_crash_and_never_write(store: Store, data: bytes, name: str) -> None:
    rep = check_import(store, data, name)
    assert not rep.committed


@FUZZ
@given(magic=st.sampled_from([b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xef\xbb\xbf", b"<?xml ",
                              b"PK\x05\x06", b"\x1f\x8b", b"%PDF"]),
       rest=st.binary(max_size=2048), name=names)
def test_random_bytes_behind_real_magic(store: Store, magic: bytes, rest: bytes, name: str) -> None:
    check_import(store, magic + rest, name)


@FUZZ
@given(data=csv_files(), name=names, county=st.sampled_from([COUNTY, None]))
@example(data=b"\r=1\r\n=1+2,\x0c,=1+2", name="report.csv", county=COUNTY)  # bare CR line ends once raised
@example(data=b'"x\ry",1\r2,3', name="report.csv", county=COUNTY)
def test_random_csv_in_several_encodings(store: Store, data: bytes, name: str, county: str | None) -> None:
    check_import(store, data, name, county)


@FUZZ
@given(data=plausible_csv())
def test_plausible_csv_commits_whole_or_nothing(store: Store, data: bytes) -> None:
    check_import(store, data, "report.csv")


@FUZZ
@given(data=mutated_xlsx())
def test_mutated_template_never_crashes(store: Store, data: bytes) -> None:
    check_import(store, data, "report.xlsx")


def test_the_properties_reach_both_outcomes(tmp_path) -> None:
    """The invariant is checked on a commit and on a correction too, not only on refusals (harness check)."""
    s = scratch_store(f"sqlite:///{tmp_path / 'both.sqlite'}")
    seed_history(s, ["2026-09"])
    ok = check_import(s, filled(), "ok.xlsx")
    assert ok.committed, ok.messages("en")
    corr = check_import(s, "区划代码,期间,指标代码,数值\n330102,2026-10,gov_items,1401\n".encode(), "c.csv")
    assert corr.committed and corr.counts()["changed"] == 1, corr.messages("en")
    bad = check_import(s, filled(edit=lambda ws: ws.cell(row=7, column=5, value="=1+1")), "bad.xlsx")
    assert not bad.committed and bad.errors


# -- hostile workbooks ---------------------------------------------------------------------------------------
SHEET = "xl/worksheets/sheet1.xml"


def _with(member: str, edit: Callable[[bytes], bytes], data: bytes = TEMPLATE) -> bytes:
    members = _members(data)
    members[member] = edit(members[member])
    return rezip(members)


def _dtd(decl: bytes) -> Callable[[bytes], bytes]:
    def edit(xml: bytes) -> bytes:
        if xml.startswith(b"<?xml"):
            head, rest = xml.split(b"?>", 1)
            return head + b"?>" + decl + rest
        return decl + xml
    return edit


LOL = (b'<!DOCTYPE worksheet [<!ENTITY a0 "lollollollol">'
       + b"".join(b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10)) + b"]>")
XXE = b'<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _cell_ref(xml: bytes) -> bytes:
    """Put a reference to the entity into the first inline string / value so a parser would expand it."""
    return re.sub(rb"<v>[^<]*</v>", b"<v>&a9;</v>", xml, count=1)


def zip_bomb(unpacked_mb: int = 200) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for n, b in _members(TEMPLATE).items():
            z.writestr(n, b)
        with z.open("xl/media/image1.bin", "w") as fh:
            for _ in range(unpacked_mb):
                fh.write(b"\0" * 2**20)
    return buf.getvalue()


def lying_zip(real_mb: int = 300) -> bytes:
    """A member whose headers declare 1 000 bytes but whose deflate stream inflates to `real_mb` MB."""
    members = _members(TEMPLATE)
    members["xl/worksheets/sheet3.xml"] = b"<worksheet>" + b" " * (real_mb * 2**20) + b"</worksheet>"
    raw = bytearray(rezip(members))
    target = b"xl/worksheets/sheet3.xml"
    pos = raw.find(b"PK\x03\x04")
    while pos != -1:  # local headers: size at +22; central directory: size at +24
        if raw[pos + 30: pos + 30 + len(target)] == target:
            struct.pack_into("<I", raw, pos + 22, 1000)
        pos = raw.find(b"PK\x03\x04", pos + 4)
    pos = raw.find(b"PK\x01\x02")
    while pos != -1:
        if raw[pos + 46: pos + 46 + len(target)] == target:
            struct.pack_into("<I", raw, pos + 24, 1000)
        pos = raw.find(b"PK\x01\x02", pos + 4)
    return bytes(raw)


def _rows_xml(n: int, start: int = 8) -> bytes:
    return b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c><c r="B%d"><v>2</v></c><c r="C%d"><v>3</v></c></row>'
                    % (i, i, i, i) for i in range(start, start + n))


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "entity_bomb_in_sheet": (lambda: _with(SHEET, lambda x: _cell_ref(_dtd(LOL)(x))), "xlsx_unsafe_xml"),
    "entity_bomb_in_shared_part": (lambda: _with("[Content_Types].xml", _dtd(LOL)), "xlsx_unsafe_xml"),
    "external_entity_in_workbook": (lambda: _with("xl/workbook.xml", _dtd(XXE)), "xlsx_unsafe_xml"),
    "zip_bomb_200mb": (zip_bomb, "xlsx_unpacked_too_large"),
    "zip_lying_sizes": (lying_zip, "corrupt_xlsx"),
    "zip_thousands_of_members": (lambda: rezip(_members(TEMPLATE) | {f"x/{i}.xml": b"" for i in range(3000)}),
                                 "xlsx_unpacked_too_large"),
    "cell_at_xfd1048576": (lambda: _with(SHEET, lambda x: x.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')), "sheet_too_large"),
    "merge_over_whole_sheet": (lambda: _with(SHEET, lambda x: x.replace(
        b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A100:XFD1048576"/></mergeCells>')),
        "sheet_too_large"),
    "csv_twenty_thousand_columns": (lambda: b"region,period,measure,value" + b"," * 20_000 + b"\n1,2,3,4\n",
                                    "sheet_too_large"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE), ids=sorted(HOSTILE))
def test_hostile_workbook_is_refused_quickly(store: Store, case: str) -> None:
    make, code = HOSTILE[case]
    data = make()
    assert len(data) < 2 * 2**20  # each is small on the wire
    t = time.perf_counter()
    rep = check_import(store, data, "report.csv" if case.startswith("csv") else "report.xlsx")
    assert time.perf_counter() - t < 5, "refusal must come from a cheap scan, not from parsing"
    assert code in {i.code for i in rep.errors}, rep.messages("en")
    assert "{" not in rep.messages("zh")[0]


def test_entity_bomb_is_also_refused_by_openpyxl_without_our_scan(monkeypatch) -> None:
    """Defence in depth: with our DTD scan switched off, openpyxl's parsers (defusedxml's iterparse for
    sheets, lxml without entity resolution for the workbook) still refuse or ignore entities; nothing expands."""
    import openpyxl

    assert openpyxl.DEFUSEDXML, "defusedxml must be installed (requirements.txt) so openpyxl uses it"
    monkeypatch.setattr(reader, "_scan_xml", lambda name, xml: None)
    rep = import_bytes(_with(SHEET, lambda x: _cell_ref(_dtd(LOL)(x))), "r.xlsx", None, as_county=COUNTY,
                       options=OPTS, preview=True)  # type: ignore[arg-type]
    assert {i.code for i in rep.errors} == {"corrupt_xlsx"}, rep.messages("en")
    rep = import_bytes(_with("xl/workbook.xml", _dtd(XXE)), "r.xlsx", None, as_county=COUNTY, options=OPTS,
                       preview=True)  # type: ignore[arg-type]
    assert "root:" not in " ".join(rep.messages("en"))  # /etc/passwd never read into a message


def test_a_million_rows_declared_but_absent_still_imports(store: Store) -> None:
    """A <dimension> claiming A1:XFD1048576 is only a claim: the file's real cells are read (with a formula
    present, the read-only pass is bounded by the real rows and columns, not by the claim)."""
    def claim(xml: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)
    t = time.perf_counter()
    rep = import_bytes(_with(SHEET, claim), "r.xlsx", store, as_county=COUNTY, options=OPTS, preview=True)
    assert rep.ok, rep.messages("en")
    with_formula = filled(edit=lambda ws: ws.cell(row=1, column=30, value="=1+1"))
    assert b"<f>" in _members(with_formula)[SHEET]
    rep = import_bytes(_with(SHEET, claim, with_formula), "r.xlsx", store, as_county=COUNTY, options=OPTS,
                       preview=True)
    assert rep.ok, rep.messages("en")
    assert time.perf_counter() - t < 10


def test_seven_hundred_thousand_real_rows_are_refused_before_openpyxl(store: Store) -> None:
    data = _with(SHEET, lambda x: x.replace(b"</sheetData>", _rows_xml(700_000) + b"</sheetData>"))
    assert len(data) < 20 * 2**20
    t = time.perf_counter()
    rep = check_import(store, data, "r.xlsx")
    assert "sheet_too_large" in {i.code for i in rep.errors} and time.perf_counter() - t < 20


def test_limits_are_sane() -> None:
    assert 4 * OPTS.max_bytes <= MAX_UNZIPPED_BYTES and MAX_CELLS >= 1_000_000


# -- the same invariant on the server backends ---------------------------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.one_of(plausible_csv(), csv_files(), mutated_xlsx(), st.binary(max_size=1024)))
def test_whole_or_nothing_on_every_backend(db_url: str, data: bytes) -> None:
    s = _backend_store(db_url)
    check_import(s, data, "report.xlsx" if data.startswith(b"PK") else "report.csv")


_STORES: dict[str, Store] = {}


def _backend_store(url: str) -> Store:
    """One seeded scratch store per backend URL for the whole module (Hypothesis calls the test many times)."""
    if url not in _STORES:
        s = scratch_store(url)
        seed_history(s, ["2026-09"])
        _STORES[url] = s
    return _STORES[url]


assert PERIOD == "2026-10"  # the strategies above assume the test_import period
