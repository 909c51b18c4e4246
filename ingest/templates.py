"""The county monthly report template, generated from the catalogue so it can never drift from it.

One workbook per county and month: sheet 填报 holds the county's code, name and period already
filled in and one column per reported measure (catalogue measures with level 'county' and grain
'month'), with name, unit, counting basis and definition above the machine-readable header row
of measure codes; the value cells carry Excel data validation (decimal >= 0) so most typing
mistakes are caught before the file is even sent. Sheet 填报说明 explains the rules in Chinese.
The importer reads this layout back as the "wide" format (one column per measure).

`sample_report` produces plausible values from the catalogue's demo specs; tests and the
benchmark use it to fill templates the way a county would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math

import numpy as np
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ingest.messages import TEMPLATE_RULES, TEMPLATE_TEXT
from metrics.catalogue import Catalogue, Measure
from metrics.catalogue import catalogue as default_catalogue
from metrics.geography import Geography, geography
from metrics.periods import Period

HEADER_ROW = 6  # the row of machine-readable column names (measure codes)
DATA_ROW = 7  # the row the county fills in
FIRST_MEASURE_COL = 4  # A: code, B: name, C: period, D..: measures
_GREY = PatternFill("solid", fgColor="E7E6E6")
_BLUE = PatternFill("solid", fgColor="DDEBF7")


# measures a platform system of record feeds for every county (the 七张问题清单 and the app
# registers), so no county types them into its monthly report
PLATFORM_FED_PREFIXES = ("problems_", "major_apps_", "app_")


def platform_fed(m: Measure) -> bool:
    return m.code.startswith(PLATFORM_FED_PREFIXES)


def reported_measures(cat: Catalogue | None = None) -> list[Measure]:
    """What a county reports each month: county-level, month-grain measures not fed by a platform, in catalogue order."""
    cat = cat or default_catalogue()
    return [m for m in cat.measures if m.level == "county" and m.grain == "month" and not platform_fed(m)]


def _kpis_using(cat: Catalogue, code: str) -> list[str]:
    return [k.name_zh for k in cat.kpis if code in k.measures]


def _definition(cat: Catalogue, m: Measure) -> str:
    used = "、".join(_kpis_using(cat, m.code))
    return f"{m.source_zh}" + (f"；用于：{used}" if used else "")


def _basis(m: Measure) -> str:
    return TEMPLATE_TEXT["kind_last"] if m.aggregation == "last" else TEMPLATE_TEXT["kind_sum"]


def build_template(county: str, period: str, cat: Catalogue | None = None, geo: Geography | None = None) -> Workbook:
    """The workbook for `county` (code or name) and `period` (YYYY-MM)."""
    cat, geo = cat or default_catalogue(), geo or geography()
    code = geo.resolve(county)
    region = geo.get(code)
    if region.level != "county":
        raise ValueError(f"{code} ({region.name_zh}) is not a county-level division")
    p = Period.parse(period)
    if p.grain != "month":
        raise ValueError(f"period {period!r} is not a month (YYYY-MM)")
    label = p.label
    measures = reported_measures(cat)
    t = TEMPLATE_TEXT
    wb = Workbook()
    ws = wb.active
    ws.title = t["data_sheet"]
    ws["A1"] = t["title"].format(name=region.name_zh, code=code, period=label)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = t["subtitle"].format(row=DATA_ROW)
    ws["A2"].font = Font(color="C00000")
    labels = {3: t["row_name"], 4: t["row_unit"], 5: t["row_def"]}
    for row, text in labels.items():
        ws.cell(row, 1, text).font = Font(bold=True)
    heads = [t["col_region"], t["col_region_name"], t["col_period"]]
    for col, text in enumerate(heads, 1):
        c = ws.cell(HEADER_ROW, col, text)
        c.font = Font(bold=True)
        c.fill = _BLUE
    for i, m in enumerate(measures):
        col = FIRST_MEASURE_COL + i
        ws.cell(3, col, m.name_zh)
        ws.cell(4, col, f"{m.unit_zh}（{_basis(m)}）")
        ws.cell(5, col, _definition(cat, m))
        h = ws.cell(HEADER_ROW, col, m.code)
        h.font = Font(bold=True)
        h.fill = _BLUE
        for row in (3, 4, 5):
            ws.cell(row, col).fill = _GREY
            ws.cell(row, col).alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = 16
        ws.cell(DATA_ROW, col).number_format = "0.####"
    ws.row_dimensions[3].height = 45
    ws.row_dimensions[5].height = 120
    for col, width in ((1, 12), (2, 14), (3, 10)):
        ws.column_dimensions[get_column_letter(col)].width = width
    for col, value in ((1, code), (2, region.name_zh), (3, label)):
        cell = ws.cell(DATA_ROW, col, value)
        cell.number_format = "@"  # text: keeps 330102 and 2024-06 as typed
    last = get_column_letter(FIRST_MEASURE_COL + len(measures) - 1)
    dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                        showErrorMessage=True, errorTitle=t["dv_title"], error=t["dv_error"],
                        showInputMessage=True, promptTitle=t["dv_prompt_title"], prompt=t["dv_error"])
    dv.add(f"{get_column_letter(FIRST_MEASURE_COL)}{DATA_ROW}:{last}{DATA_ROW}")
    ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(DATA_ROW, FIRST_MEASURE_COL)

    help_ws = wb.create_sheet(t["help_sheet"])
    help_ws["A1"] = t["help_title"].format(name=region.name_zh, period=label)
    help_ws["A1"].font = Font(bold=True, size=14)
    row = 3
    for rule in TEMPLATE_RULES:
        help_ws.cell(row, 1, rule.format(row=DATA_ROW))
        row += 1
    row += 1
    for col, text in enumerate(t["help_cols"].split("|"), 1):
        help_ws.cell(row, col, text).font = Font(bold=True)
    for m in measures:
        row += 1
        for col, text in enumerate([m.code, m.name_zh, m.unit_zh, _basis(m), m.source_zh,
                                    "、".join(_kpis_using(cat, m.code))], 1):
            help_ws.cell(row, col, text)
    row += 2
    help_ws.cell(row, 1, t["generated"].format(when=dt.datetime.now().replace(microsecond=0).isoformat(),
                                               version=cat.version))
    for col, width in ((1, 28), (2, 30), (3, 8), (4, 16), (5, 50), (6, 40)):
        help_ws.column_dimensions[get_column_letter(col)].width = width
    return wb


def template_bytes(county: str, period: str, cat: Catalogue | None = None, geo: Geography | None = None) -> bytes:
    buf = io.BytesIO()
    build_template(county, period, cat, geo).save(buf)
    return buf.getvalue()


def fill_template(data: bytes, values: dict[str, float]) -> bytes:
    """A template with the data row filled in by measure code (as a county would, with Excel)."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb[TEMPLATE_TEXT["data_sheet"]]
    cols = {ws.cell(HEADER_ROW, c).value: c for c in range(FIRST_MEASURE_COL, ws.max_column + 1)}
    for code, v in values.items():
        ws.cell(DATA_ROW, cols[code], v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sample_report(county: str, period: str, cat: Catalogue | None = None, geo: Geography | None = None,
                  seed: int = 7) -> dict[str, float]:
    """Plausible values for every reported measure, from the catalogue's demo specs.

    Deterministic per (seed, county): persistent county effects keep a county's series smooth
    (so history checks stay quiet), shares never exceed their base, stocks grow with time.
    """
    cat, geo = cat or default_catalogue(), geo or geography()
    p = Period.parse(period)
    pop = (geo.get(county).population or 0) / 1e4
    months = (p.start.year - 2021) * 12 + p.start.month - 1
    t = min(max(months / 71, 0.0), 1.2)
    digest = hashlib.sha256(f"{seed}:{county}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    out: dict[str, float] = {}
    pending = reported_measures(cat)
    for _ in range(3):  # bases before the shares drawn from them
        rest = []
        for m in pending:
            spec = m.demo
            effect = float(np.exp(rng.normal(0, 0.1)))
            end = spec.end if spec.end is not None else spec.start
            if spec.kind == "share":
                if spec.of not in out:
                    rest.append(m)
                    continue
                rate = min(1.0, (spec.start + (end - spec.start) * t) * min(effect, 1.0))
                out[m.code] = float(math.floor(out[spec.of] * rate))
            elif spec.kind == "fixed":
                out[m.code] = float(spec.start)
            else:
                path = spec.start * (end / spec.start) ** t if spec.start > 0 else end * t
                out[m.code] = float(round(pop * path * effect))
        pending = rest
    return out
