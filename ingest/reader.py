"""Turn the bytes of an uploaded report into located cells, refusing anything unsafe or unreadable.

Why so careful: county files arrive as whatever Excel or a statistics system produced (GBK CSVs,
merged headers, formulas, encrypted workbooks, HTML saved as .xls). Every refusal must say what
is wrong in words a data officer understands, and nothing is ever evaluated: formulas are read
only through their cached values (openpyxl `data_only`), so a file cannot compute anything here.

`read_grids` sniffs the content (magic bytes, never the file name) and returns one `Grid` per
sheet; `find_layout` finds the header row and recognises columns by Chinese or English names;
`to_records` turns the long (region/period/measure/value rows) or wide (template: one column per
measure) layout into one row per value, each carrying its spreadsheet row and column.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Literal
from zlib import error as zlib_error

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from ingest.formats import ImportFormat
from ingest.messages import Issue
from metrics.catalogue import Catalogue

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
HEADER_SCAN_ROWS = 30
# Hostile workbooks: a small .xlsx can unpack to gigabytes (zip bomb), declare an entity bomb or an
# external entity in its XML, or make openpyxl build billions of cells (one cell at XFD1048576, a
# merge over the whole sheet). All are refused from cheap scans before openpyxl parses anything.
MAX_UNZIPPED_BYTES = 160 * 1024 * 1024  # 8x the upload limit: real sheet XML compresses ~5-10x
MAX_ZIP_MEMBERS = 2000
MAX_CELLS = 2_000_000  # per sheet; a county report has a few hundred, a year-long feed ~1M
MAX_COLUMNS = 16_384  # Excel's own column limit, also applied to CSV
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_BINARY_KINDS = [
    (b"%PDF", "PDF"), (b"\x89PNG", "PNG 图片 / PNG image"), (b"\xff\xd8\xff", "JPEG 图片 / JPEG image"),
    (b"GIF8", "GIF 图片 / GIF image"), (b"\x1f\x8b", "gzip 压缩包 / gzip archive"),
    (b"Rar!", "RAR 压缩包 / RAR archive"), (b"7z\xbc\xaf", "7z 压缩包 / 7z archive"),
    (b"MZ", "可执行程序 / executable"), (b"\x7fELF", "可执行程序 / executable"),
    (b"PK\x05\x06", "空 ZIP 压缩包 / empty ZIP"),
]


class ReadError(Exception):
    """The file cannot be read as a table; carries the issue to show."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message("en"))
        self.issue = issue


def _fail(code: str, **params: Any) -> ReadError:
    return ReadError(Issue("error", code, params=params))


@dataclass(frozen=True)
class Formula:
    """A formula cell without a cached result: never evaluated, reported as 公式未计算."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Grid:
    """One sheet's cells: `frame` has positional columns and 1-based spreadsheet row numbers as index."""

    kind: ImportFormat
    sheet: str
    frame: pd.DataFrame
    merged: list[tuple[str, int, int]] = field(default_factory=list)  # (A1:B2, min_row, max_row)
    encoding: str | None = None
    hidden_rows: list[int] = field(default_factory=list)  # 1-based sheet rows marked hidden
    hidden_cols: list[int] = field(default_factory=list)  # 1-based column numbers marked hidden


# -- sniffing and reading ---------------------------------------------------------------------------
def sniff(data: bytes, name: str) -> ImportFormat:
    """'xlsx' or 'csv', or raise a ReadError that names what the file is instead."""
    head = data[:8192]
    if head.startswith(OLE2_MAGIC):
        # An encrypted .xlsx (Excel or LibreOffice) is an OLE2 container with EncryptionInfo and
        # EncryptedPackage streams; an encrypted .xls keeps its Workbook stream but starts it with
        # a FILEPASS record. Either way the officer must hear "password", not "old format".
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            raise _fail("encrypted")
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            if _biff_has_filepass(data):
                raise _fail("encrypted")
            raise _fail("legacy_xls")
        raise _fail("not_spreadsheet", name=name, kind="Office 97-2003 文档 / document")
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    for magic, kind in _BINARY_KINDS:
        if head.startswith(magic):
            raise _fail("not_spreadsheet", name=name, kind=kind)
    if _looks_utf16(head):
        raise _fail("unsupported_encoding", encoding="UTF-16")
    if b"\x00" in head:
        raise _fail("not_spreadsheet", name=name, kind="二进制文件 / binary file")
    lead = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lead.startswith((b"<html", b"<!doctype", b"<?xml", b"<table")):
        raise _fail("not_spreadsheet", name=name, kind="HTML/XML 网页 / web page")
    if lead.startswith((b"{", b"[")):
        raise _fail("not_spreadsheet", name=name, kind="JSON")
    return "csv"


_BIFF8_BOF = re.compile(rb"\x09\x08[\x08\x10]\x00\x00\x06[\x05\x10]\x00")  # BOF of the workbook globals
_FILEPASS = 0x002F


def _biff_has_filepass(data: bytes) -> bool:
    """Whether a BIFF8 workbook stream declares encryption (a FILEPASS record in its first records).

    The globals substream opens with BOF; an encrypted file has FILEPASS right after it (MS-XLS
    puts it before any other record that could be encrypted). Walking a few records from each
    BOF candidate is enough: the stream's first sector holds them.
    """
    for m in _BIFF8_BOF.finditer(data[:1 << 20]):
        pos = m.start()
        for _ in range(8):
            if pos + 4 > len(data):
                break
            rtype, size = int.from_bytes(data[pos:pos + 2], "little"), int.from_bytes(data[pos + 2:pos + 4], "little")
            if rtype == _FILEPASS:
                return True
            pos += 4 + size
    return False


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 text (Excel's "Unicode text", some exports): a BOM, or NULs on every other byte."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:512]
    if len(sample) < 8:
        return False
    even, odd = sample[0::2], sample[1::2]
    return (odd.count(0) > 0.7 * len(odd) and even.count(0) < 0.1 * len(even)) or \
        (even.count(0) > 0.7 * len(even) and odd.count(0) < 0.1 * len(odd))


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a CSV: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK)."""
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise _fail("bad_encoding") from None


def _csv_grid(data: bytes) -> Grid:
    text, enc = decode_text(data)
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        raise _fail("file_empty", size=len(data))
    counts = {d: sum(ln.count(d) for ln in lines) for d in (",", "\t", ";")}
    sep = max(counts, key=lambda d: counts[d]) if max(counts.values()) else ","
    width = max(len(r) for r in csv.reader(lines, delimiter=sep))
    if width > MAX_COLUMNS:
        raise _fail("sheet_too_large", sheet="csv", cells=width * len(lines), limit=MAX_COLUMNS)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, names=list(range(width)), dtype=object,
                            keep_default_na=False, skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, ValueError):
        try:  # newline="": the csv module's own line handling (bare CR line ends from old Mac tools included)
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        except csv.Error:  # a stray CR inside a field: read line by line (a quoted field cannot span lines)
            rows = list(csv.reader(text.splitlines(), delimiter=sep))
        width = max((len(r) for r in rows), default=0)
        if width > MAX_COLUMNS or width * len(rows) > MAX_CELLS * 4:
            raise _fail("sheet_too_large", sheet="csv", cells=width * len(rows), limit=MAX_CELLS * 4) from None
        frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return Grid("csv", "csv", frame, encoding=enc)


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _scan_xml(name: str, xml: bytes) -> None:
    """Refuse DTDs/entities (entity bombs, external entities) and sheets that would explode in openpyxl."""
    m = _DTD.search(xml)
    if m:
        raise _fail("xlsx_unsafe_xml", detail=f"{name}: <!{m.group(1).decode().upper()}")
    if not name.startswith("xl/worksheets/"):
        return
    cells = len(_CELL_TAG.findall(xml))
    for c1, r1, c2, r2 in _MERGE_REF.findall(xml):
        cells = max(cells, (abs(int(r2) - int(r1)) + 1) * (abs(_col_number(c2) - _col_number(c1)) + 1))
    if cells > MAX_CELLS:
        raise _fail("sheet_too_large", sheet=name.rsplit("/", 1)[-1], cells=cells, limit=MAX_CELLS)


def _xlsx_grids(data: bytes, name: str) -> list[Grid]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            unpacked = sum(i.file_size for i in infos)  # declared sizes; zipfile never inflates beyond them
            if unpacked > MAX_UNZIPPED_BYTES or len(infos) > MAX_ZIP_MEMBERS:
                raise _fail("xlsx_unpacked_too_large", size_mb=unpacked / 2**20, limit_mb=MAX_UNZIPPED_BYTES / 2**20)
            names = set(zf.namelist())
            xml_names = [n for n in names if n.endswith((".xml", ".rels", ".vml"))]
            has_formulas = False
            for n in xml_names:
                xml = zf.read(n)
                _scan_xml(n, xml)
                # formulas are <f> elements in the sheet XML: only then is the second (formula) pass needed
                if n.startswith("xl/worksheets/") and (b"<f>" in xml or b"<f " in xml):
                    has_formulas = True
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise _fail("corrupt_xlsx", detail=f"{exc.__class__.__name__}: {str(exc)[:80]}") from None
    except (RuntimeError, zlib_error) as exc:  # encrypted member, bad CRC / deflate stream
        raise _fail("corrupt_xlsx", detail=f"{exc.__class__.__name__}: {str(exc)[:80]}") from None
    if "xl/workbook.xml" not in names:
        kind = "Word 文档 / Word document" if "word/document.xml" in names else "ZIP 压缩包 / ZIP archive"
        raise _fail("not_spreadsheet", name=name, kind=kind)
    try:
        wb_values = load_workbook(io.BytesIO(data), data_only=True)
        wb_formulas = load_workbook(io.BytesIO(data), data_only=False, read_only=True) if has_formulas else None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on damaged files
        raise _fail("corrupt_xlsx", detail=f"{exc.__class__.__name__}: {str(exc)[:80]}") from None
    grids = []
    for ws in wb_values.worksheets:
        if ws.max_row * ws.max_column > MAX_CELLS:  # sparse: one cell far away makes a huge rectangle
            raise _fail("sheet_too_large", sheet=ws.title, cells=ws.max_row * ws.max_column, limit=MAX_CELLS)
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
            rows.pop()
        if rows and wb_formulas is not None:
            # a formula cell whose cached value is missing shows as None: mark it
            fws = wb_formulas[ws.title]
            width = max(len(r) for r in rows)  # the declared <dimension> can be far wider: never pad to it
            for r_idx, frow in enumerate(fws.iter_rows(max_row=len(rows), max_col=width, values_only=True)):
                if r_idx >= len(rows):
                    break
                for c_idx, v in enumerate(frow):
                    if isinstance(v, str) and v.startswith("=") and c_idx < len(rows[r_idx]) \
                            and rows[r_idx][c_idx] is None:
                        rows[r_idx][c_idx] = Formula(v)
        width = max((len(r) for r in rows), default=0)
        frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        merged = [(str(m.coord), m.min_row, m.max_row) for m in ws.merged_cells.ranges]
        grids.append(Grid("xlsx", ws.title, frame, merged, hidden_rows=_hidden_rows(ws, len(rows)),
                          hidden_cols=_hidden_cols(ws, width)))
    if wb_formulas is not None:
        wb_formulas.close()
    return grids


def _hidden_rows(ws: Any, n_rows: int) -> list[int]:
    """Hidden rows among those holding cells (a hidden empty row far below changes nothing)."""
    return sorted(r for r, dim in ws.row_dimensions.items() if dim.hidden and 1 <= r <= n_rows)


def _hidden_cols(ws: Any, width: int) -> list[int]:
    """Hidden columns among those holding cells; one <col> entry may cover a range (min..max)."""
    out: set[int] = set()
    for key, dim in ws.column_dimensions.items():
        if not dim.hidden:
            continue
        lo = dim.min or column_index_from_string(key)
        hi = dim.max or lo
        out.update(range(lo, min(hi, width) + 1))
    return sorted(out)


def read_grids(data: bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Grid]:
    """All sheets of the file as grids. Size is checked before anything is parsed."""
    if len(data) > max_bytes:
        raise _fail("file_too_large", size_mb=len(data) / 2**20, limit_mb=max_bytes / 2**20)
    if not data.strip():
        raise _fail("file_empty", size=len(data))
    kind = sniff(data, name)
    return _xlsx_grids(data, name) if kind == "xlsx" else [_csv_grid(data)]


# -- header recognition -----------------------------------------------------------------------------
_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "：": ":", "，": ",", "　": ""})


def norm(s: Any) -> str:
    """Header text as compared: no spaces, ASCII brackets, lower case, no required-field stars."""
    if s is None or isinstance(s, Formula):
        return ""
    t = str(s).translate(_FULLWIDTH).strip().lower()
    return re.sub(r"[\s_\-*]+", "", t)


ALIASES: dict[str, set[str]] = {
    "region": {"区划代码", "行政区划代码", "地区代码", "县区代码", "县(市、区)代码", "区县代码", "单位代码",
               "region", "regioncode", "countycode", "adcode", "code"},
    "region_name": {"县(市、区)", "县(市,区)", "县区", "县区名称", "区县", "地区", "地区名称", "行政区划",
                    "regionname", "countyname", "county", "name"},
    "period": {"期间", "报告期", "统计期", "统计期间", "报送期", "月份", "年月", "日期", "统计日期", "时间",
               "period", "month", "date", "obsdate", "day"},
    "measure": {"指标代码", "指标编码", "指标", "指标名称", "measure", "measurecode", "indicator", "metric"},
    "value": {"数值", "值", "本期数", "本期值", "本月数", "指标值", "数据", "value", "amount", "val"},
}
_ROLE_OF = {alias: role for role, names in ALIASES.items() for alias in names}


def measure_lookup(cat: Catalogue) -> dict[str, str]:
    """Normalised code or Chinese/English name -> measure code."""
    out: dict[str, str] = {}
    for m in cat.measures:
        for key in (m.code, m.name_zh, m.name_en, f"{m.name_zh}({m.unit_zh})"):
            out.setdefault(norm(key), m.code)
    return out


def header_measure(cell: Any, lookup: dict[str, str]) -> str | None:
    n = norm(cell)
    if not n:
        return None
    if n in lookup:
        return lookup[n]
    stripped = re.sub(r"\([^()]*\)$", "", n)  # "name(unit)"
    return lookup.get(stripped)


@dataclass
class Layout:
    kind: Literal["long", "wide"]
    header_row: int
    roles: dict[str, int]  # role -> column position
    measures: dict[int, str] = field(default_factory=dict)  # wide: column position -> measure code
    headers: dict[int, str] = field(default_factory=dict)  # column position -> header text


def find_layout(grid: Grid, cat: Catalogue) -> Layout | None:
    """The first row (within HEADER_SCAN_ROWS) that reads as a long or wide header."""
    lookup = measure_lookup(cat)
    for row_no in grid.frame.index[:HEADER_SCAN_ROWS]:
        cells = grid.frame.loc[row_no].tolist()
        roles: dict[str, int] = {}
        measures: dict[int, str] = {}
        for pos, cell in enumerate(cells):
            role = _ROLE_OF.get(norm(cell))
            if role and role not in roles:
                roles[role] = pos
                continue
            code = header_measure(cell, lookup)
            if code and code not in measures.values():
                measures[pos] = code
        headers = {pos: str(c).strip() for pos, c in enumerate(cells) if c is not None and str(c).strip()}
        if "measure" in roles and "value" in roles:
            return Layout("long", int(row_no), roles, {}, headers)
        if measures and ({"region", "period", "region_name"} & set(roles)):
            return Layout("wide", int(row_no), roles, measures, headers)
    return None


def merged_issues(grid: Grid, layout: Layout) -> list[Issue]:
    """Merged cells touching the header or the data are refused (a title above may be merged)."""
    out = []
    for coord, lo, hi in sorted(grid.merged, key=lambda m: (m[1], m[0])):
        if hi >= layout.header_row:
            out.append(Issue("error", "merged_cells", row=lo,
                             params={"sheet": grid.sheet, "range": coord, "row": lo}))
    return out


def hidden_issues(grid: Grid, layout: Layout) -> list[Issue]:
    """Hidden rows or columns in the header or data are refused: the officer cannot see what they
    would send (a hidden row once carried last month's figures into a report)."""
    out = []
    frame = grid.frame
    for r in grid.hidden_rows:
        if r >= layout.header_row and r in frame.index and not is_blank(frame.loc[r]).all():
            out.append(Issue("error", "hidden_row", row=r, params={"sheet": grid.sheet, "row": r}))
    body = frame.loc[frame.index >= layout.header_row]
    for c in grid.hidden_cols:
        pos = c - 1
        if pos in body.columns and not is_blank(body[pos]).all():
            out.append(Issue("error", "hidden_column", row=layout.header_row, col=get_column_letter(c),
                             params={"sheet": grid.sheet, "col": get_column_letter(c)}))
    return out


# A column a person adds for remarks: ignored with a notice. Anything that looks like a measure code
# (snake_case ASCII) or is close to a catalogue code or name is refused instead: its figures would
# otherwise vanish without a word.
NOTE_HEADERS = {"备注", "说明", "附注", "注", "备注说明", "填报说明", "情况说明", "remark", "remarks", "note", "notes",
                "comment", "comments", "memo"}
_CODE_LIKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")


def column_issues(grid: Grid, layout: Layout, cat: Catalogue) -> list[Issue]:
    """Header cells that are neither a role nor a known measure: refused if they look like a
    measure (a misspelt code), otherwise ignored with a notice naming them."""
    import difflib

    lookup = measure_lookup(cat)
    used = set(layout.roles.values()) | set(layout.measures)
    names = {m.code: m for m in cat.measures}
    by_name = {m.name_zh: m for m in cat.measures}
    out: list[Issue] = []
    ignored: list[str] = []
    for pos, head in sorted(layout.headers.items()):
        if pos in used:
            continue
        col = get_column_letter(pos + 1)
        n = norm(head)
        if n in NOTE_HEADERS:
            ignored.append(f"{col}（{head}）")
            continue
        if layout.kind == "wide":
            code = header_measure(head, lookup)
            if code is not None:  # the same measure a second time
                first = next(p for p, c in layout.measures.items() if c == code)
                out.append(Issue("error", "measure_column_duplicate", row=layout.header_row, col=col, params={
                    "value": head, "code": code, "first_col": get_column_letter(first + 1)}))
                continue
            raw = str(head).strip()
            close = difflib.get_close_matches(raw.lower(), list(names), n=1, cutoff=0.75) \
                or difflib.get_close_matches(raw, list(by_name), n=1, cutoff=0.75)
            if _CODE_LIKE.match(raw.lower()) or close:
                m = (names.get(close[0]) or by_name.get(close[0])) if close else None
                params: dict[str, Any] = {"value": raw}
                if m is not None:
                    out.append(Issue("error", "measure_column_unknown", row=layout.header_row, col=col,
                                     params={**params, "suggest": m.code, "name": {"zh": m.name_zh, "en": m.name_en}}))
                else:
                    out.append(Issue("error", "measure_column_unknown_nohint", row=layout.header_row, col=col,
                                     params=params))
                continue
        ignored.append(f"{col}（{head}）")
    if ignored:
        out.append(Issue("info", "columns_ignored", row=layout.header_row,
                         params={"row": layout.header_row, "columns": "、".join(ignored[:10]), "n": len(ignored)}))
    return out


# -- records -------------------------------------------------------------------------------------------
RECORD_COLUMNS = ["row", "region", "region_col", "period", "period_col", "measure", "measure_col", "value",
                  "value_col", "header"]


def is_blank(s: pd.Series) -> pd.Series:
    """None, NaN or only whitespace."""
    try:
        stripped = s.str.strip()  # non-strings become NaN, which is not blank
    except AttributeError:  # no strings at all
        return s.isna()
    return s.isna() | (stripped == "").fillna(False).astype(bool)


def _is_text(v: Any) -> bool:
    """A cell holding words, not a figure or a code (330102, 2026-10 and 1,200 are not text)."""
    if not isinstance(v, str) or not v.strip():
        return False
    return re.fullmatch(r"[\d\s,，.\-/年月日:+%]*", v.strip()) is None


def note_rows(body: pd.DataFrame, layout: Layout) -> list[int]:
    """Rows below the last figure that hold only words (注：…, 填表人：…): a note, not data."""
    value_pos = list(layout.measures) if layout.kind == "wide" else \
        [layout.roles[r] for r in ("measure", "value") if r in layout.roles]
    if not value_pos or body.empty:
        return []
    no_values = is_blank_frame(body[value_pos])
    has_values = body.index[~no_values]
    last = has_values.max() if len(has_values) else layout.header_row
    out = []
    for r in body.index[(body.index > last) & no_values.to_numpy()]:
        cells = [v for v in body.loc[r].tolist() if not (v is None or (isinstance(v, float) and v != v)
                                                          or (isinstance(v, str) and not v.strip()))]
        if cells and all(_is_text(v) for v in cells):
            out.append(int(r))
    return out


def to_records(grid: Grid, layout: Layout, default_region: str | None,
               notes: list[int] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """One row per reported value with its source cell; also the wide layout's blank measure cells.
    Rows listed in `notes` (see `note_rows`) are left out."""
    body = grid.frame.loc[grid.frame.index > layout.header_row]
    if body.empty:
        return pd.DataFrame(columns=RECORD_COLUMNS), []
    body = body.loc[~is_blank_frame(body)]
    if notes:
        body = body.loc[~body.index.isin(notes)]
        if body.empty:
            return pd.DataFrame(columns=RECORD_COLUMNS), []
    r = layout.roles
    rows = body.index.to_numpy()

    def col(role: str) -> tuple[pd.Series | None, str | None]:
        if role in r:
            return body[r[role]].reset_index(drop=True), get_column_letter(r[role] + 1)
        return None, None

    region, region_col = col("region")
    if region is None:
        region, region_col = col("region_name")
    if region is None:
        region = pd.Series([default_region] * len(body), dtype=object)
    period, period_col = col("period")
    if period is None:
        period = pd.Series([None] * len(body), dtype=object)
    base = pd.DataFrame({"row": rows, "region": region.to_numpy(), "region_col": region_col,
                         "period": period.to_numpy(), "period_col": period_col})
    blanks: list[str] = []
    if layout.kind == "long":
        measure, measure_col = col("measure")
        value, value_col = col("value")
        out = base.assign(measure=measure.to_numpy(), measure_col=measure_col, value=value.to_numpy(),
                          value_col=value_col)
        out["header"] = layout.headers.get(r["value"])
        return out[RECORD_COLUMNS], blanks
    positions = list(layout.measures)
    values = body[positions].to_numpy(dtype=object)  # rows x measures
    blank = is_blank_frame_cells(values)
    letters = [get_column_letter(p + 1) for p in positions]
    ri, mi = np.nonzero(~blank)  # row-major: a row's values stay together, in column order
    bi, bj = np.nonzero(blank)
    blanks = [f"{letters[j]}{rows[i]}" for i, j in zip(bi, bj, strict=True)]
    out = base.iloc[ri].reset_index(drop=True)
    codes = np.array([layout.measures[p] for p in positions], dtype=object)
    out["measure"] = codes[mi]
    out["measure_col"] = np.array(letters, dtype=object)[mi]
    out["value"] = values[ri, mi]
    out["value_col"] = out["measure_col"]
    out["header"] = out["measure"]
    return out[RECORD_COLUMNS], blanks


def is_blank_frame_cells(values: np.ndarray) -> np.ndarray:
    """Elementwise blank test of a small object matrix (the wide layout's value cells)."""
    flat = values.reshape(-1)
    out = np.fromiter((v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())
                       for v in flat), dtype=bool, count=flat.size)
    return out.reshape(values.shape)


def is_blank_frame(frame: pd.DataFrame) -> pd.Series:
    """Rows whose every cell is blank."""
    mask = pd.Series(True, index=frame.index)
    for c in frame.columns:
        mask &= is_blank(frame[c])
    return mask
