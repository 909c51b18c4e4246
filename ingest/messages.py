"""Every text the import shows to people, in Chinese and English, in one place.

County data officers read the Chinese; the English is for the log and for developers. Messages
are `str.format` templates keyed by a stable code, so tests and the app can match on the code
and never on wording. `loc` (row/column) is rendered by `where()` so every message names the
cell the same way. The messages and cell locations register into the one text mechanism
(`i18n`); an English message may be a pair of plural forms chosen by `n`. The Excel template's
own text (TEMPLATE_TEXT, TEMPLATE_RULES) is the Chinese content of a document, not an interface
string, and stays here as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from i18n import Text, register, template, tr

Lang = Literal["zh", "en"]
Severity = Literal["error", "warning", "info"]

MESSAGES: dict[str, dict[str, Text]] = {
    # -- the file as a whole -------------------------------------------------------------------
    "file_too_large": {
        "zh": "文件过大：{size_mb:.1f} MB，超过上限 {limit_mb:.0f} MB。请只提交本期报表，或分多个文件导入。",
        "en": "file too large: {size_mb:.1f} MB, the limit is {limit_mb:.0f} MB. Submit only this period's report or split the file.",
    },
    "file_empty": {
        "zh": "文件为空（{size} 字节），没有可导入的内容。",
        "en": "the file is empty ({size} bytes); nothing to import.",
    },
    "not_spreadsheet": {
        "zh": "文件“{name}”不是电子表格（识别为 {kind}）。请提交 Excel（.xlsx）或 CSV 文件。",
        "en": "'{name}' is not a spreadsheet (looks like {kind}). Submit an Excel (.xlsx) or CSV file.",
    },
    "encrypted": {
        "zh": "文件受密码保护（已加密），无法读取。请在 Excel 中取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后另存为 .xlsx 再导入。",
        "en": "the workbook is password-protected (encrypted) and cannot be read. Remove the password in Excel and save as .xlsx.",
    },
    "legacy_xls": {
        "zh": "文件为旧版 Excel 97-2003（.xls）格式，暂不支持。请在 Excel 中另存为 .xlsx 后再导入。",
        "en": "the file is a legacy Excel 97-2003 (.xls) workbook. Save it as .xlsx and import again.",
    },
    "corrupt_xlsx": {
        "zh": "Excel 文件已损坏或不完整，无法打开（{detail}）。请重新保存后再导入。",
        "en": "the Excel file is damaged or incomplete and cannot be opened ({detail}). Save it again and retry.",
    },
    "xlsx_unpacked_too_large": {
        "zh": "Excel 文件解压后过大（{size_mb:.0f} MB，上限 {limit_mb:.0f} MB），疑似压缩炸弹，未读取。请只保留填报工作表，用 Excel 另存为 .xlsx 后再导入。",
        "en": "the Excel file unpacks to {size_mb:.0f} MB (limit {limit_mb:.0f} MB), which looks like a zip bomb; it was not read. Keep only the report sheet, save as .xlsx and retry.",
    },
    "xlsx_unsafe_xml": {
        "zh": "Excel 文件内部含有不允许的 XML 声明（{detail}），可能是恶意构造的文件，未读取。请用 Excel 重新另存为 .xlsx 后再导入。",
        "en": "the Excel file contains a forbidden XML declaration ({detail}) and may be crafted to attack the reader; it was not read. Save it again from Excel as .xlsx.",
    },
    "sheet_too_large": {
        "zh": "工作表“{sheet}”过大（约 {cells:,} 个单元格，上限 {limit:,}），未读取。请只提交本期报表，或分多个文件导入。",
        "en": "sheet '{sheet}' is too large (about {cells:,} cells, the limit is {limit:,}); it was not read. Submit only this period's report or split the file.",
    },
    "bad_encoding": {
        "zh": "CSV 文件的文字编码无法识别（支持 UTF-8、带 BOM 的 UTF-8、GBK、GB18030）。",
        "en": "the CSV file's text encoding is not recognised (UTF-8, UTF-8 with BOM, GBK and GB18030 are supported).",
    },
    "unsupported_encoding": {
        "zh": "CSV 文件为 {encoding} 编码，暂不支持。请另存为 UTF-8、带 BOM 的 UTF-8 或 GBK/GB18030 编码的 CSV（Excel：另存为“CSV UTF-8（逗号分隔）”）后再导入。",
        "en": "the CSV file is {encoding}-encoded, which is not supported. Save it as UTF-8, UTF-8 with BOM or GBK/GB18030 CSV (Excel: \"CSV UTF-8 (Comma delimited)\") and import again.",
    },
    "hidden_row": {
        "zh": "{sheet} 工作表第 {row} 行为隐藏行。表头和数据区不能有隐藏行列（填报说明第 5 条）：请取消隐藏，删除不需报送的行后再导入。",
        "en": "sheet {sheet}: row {row} is hidden. Hidden rows and columns are not allowed in the header or data; unhide it and delete what should not be sent.",
    },
    "hidden_column": {
        "zh": "{sheet} 工作表 {col} 列为隐藏列。表头和数据区不能有隐藏行列（填报说明第 5 条）：请取消隐藏，删除不需报送的列后再导入。",
        "en": "sheet {sheet}: column {col} is hidden. Hidden rows and columns are not allowed in the header or data; unhide it and delete what should not be sent.",
    },
    "measure_column_unknown": {
        "zh": "{loc}：未知指标列 {value}，是否为 {suggest}（{name}）？该列的数值无法导入，请改为模板中的指标代码后再导入。",
        "en": "{loc}: unknown measure column {value}; did you mean {suggest} ({name})? Its values cannot be imported; use the template's measure code.",
    },
    "measure_column_unknown_nohint": {
        "zh": "{loc}：未知指标列 {value}。请使用模板中的指标代码（见“填报说明”工作表）；如为备注列，请将列名改为“备注”。",
        "en": "{loc}: unknown measure column {value}. Use the template's measure codes; name a remarks column 'remarks' (备注).",
    },
    "measure_column_duplicate": {
        "zh": "{loc}：指标列 {value}（{code}）与 {first_col} 列重复，请删除其中一列。",
        "en": "{loc}: the measure column {value} ({code}) repeats column {first_col}; remove one of them.",
    },
    "columns_ignored": {
        "zh": "第 {row} 行表头中的 {n} 列不是指标，未导入：{columns}。",
        "en": {"one": "{n} column of the header in row {row} is not a measure and was not imported: {columns}.",
               "other": "{n} columns of the header in row {row} are not measures and were not imported: {columns}."},
    },
    "note_rows": {
        "zh": "数据下方第 {rows} 行只有文字（如“{example}”），视为说明，未导入。",
        "en": "row(s) {rows} below the data hold only text (e.g. '{example}') and were taken as notes, not imported.",
    },
    "no_header": {
        "zh": "在前 {rows} 行中未找到表头。表头须包含“区划代码”“期间”“指标代码”“数值”列，或使用下发的填报模板（指标代码作列名）。",
        "en": "no header row found in the first {rows} rows. It needs region, period, measure and value columns, or the template's layout (measure codes as column names).",
    },
    "missing_column": {
        "zh": "第 {row} 行表头缺少“{column}”列。",
        "en": "the header in row {row} lacks a '{column}' column.",
    },
    "merged_cells": {
        "zh": "{sheet} 工作表 {range} 为合并单元格（第 {row} 行起）。表头和数据区不能合并单元格，请取消合并、每格填写完整后再导入。",
        "en": "sheet {sheet}: cells {range} are merged (from row {row}). Merged cells are not allowed in the header or data; unmerge them and fill every cell.",
    },
    "no_data": {
        "zh": "表头（第 {row} 行）下没有填写任何数值。",
        "en": "no values are filled in below the header (row {row}).",
    },
    "formula_uncomputed": {
        "zh": "{loc}：单元格含公式“{formula}”但没有计算结果（公式未计算）。请在 Excel 中打开并保存一次，或改为填写数值。",
        "en": "{loc}: the cell holds the formula '{formula}' with no computed value. Open and save the file in Excel, or enter the number.",
    },
    # -- regions -------------------------------------------------------------------------------
    "region_blank": {"zh": "{loc}：区划代码为空。", "en": "{loc}: the region code is blank."},
    "region_unknown": {
        "zh": "{loc}：区划代码“{value}”不存在。请填写 6 位国标行政区划代码（如 330102）。",
        "en": "{loc}: unknown region code '{value}'. Use a 6-digit GB/T 2260 county code (e.g. 330102).",
    },
    "region_abolished": {
        "zh": "{loc}：区划代码 {value}（{old_name}）已于 {until} 撤销（{note}）。请改用 {suggest}。",
        "en": "{loc}: region code {value} ({old_name}) was abolished on {until} ({note}). Use {suggest}.",
    },
    "region_split": {
        "zh": "{loc}：{date} 的 {value}（{old_name}）数据须拆分（{note}）。请分别按 {suggest} 填报，系统不会自动拆分。",
        "en": "{loc}: {value} ({old_name}) figures for {date} must be split ({note}); report them as {suggest} separately.",
    },
    "region_not_yet": {
        "zh": "{loc}：{value}（{name}）于 {until} 设立，{date} 尚无该区划，请按原区划 {old} 填报。",
        "en": "{loc}: {value} ({name}) was created on {until}; it did not exist on {date}. Report under {old}.",
    },
    "region_not_county": {
        "zh": "{loc}：{value}（{name}）不是县级区划。县（市、区）报表只能填写县级区划代码，市和全省数据由系统汇总。",
        "en": "{loc}: {value} ({name}) is not a county-level division; city and province figures are aggregated by the system.",
    },
    "region_other_county": {
        "zh": "{loc}：本次以 {as_code}（{as_name}）身份报送，不能填报 {value}（{name}）的数据。",
        "en": "{loc}: you are reporting as {as_code} ({as_name}) and cannot submit figures for {value} ({name}).",
    },
    # -- measures ------------------------------------------------------------------------------
    "measure_blank": {"zh": "{loc}：指标为空。", "en": "{loc}: the measure is blank."},
    "measure_unknown": {
        "zh": "{loc}：指标“{value}”不在指标目录中。{hint}",
        "en": "{loc}: measure '{value}' is not in the catalogue. {hint}",
    },
    "measure_hint": {"zh": "是否为“{code}”（{name}）？", "en": "Did you mean '{code}' ({name})?"},
    "measure_hint_none": {"zh": "请使用模板中的指标代码（见“填报说明”工作表）。", "en": "Use the measure codes of the template."},
    "measure_province": {
        "zh": "{loc}：指标 {value}（{name}）由省级平台统一统计，县（市、区）不报送。",
        "en": "{loc}: measure {value} ({name}) is counted at province level; counties do not report it.",
    },
    # -- periods -------------------------------------------------------------------------------
    "period_blank": {"zh": "{loc}：期间为空。", "en": "{loc}: the period is blank."},
    "period_invalid": {
        "zh": "{loc}：期间“{value}”无法识别。月度指标请填写年月（如 2024-06 或 2024年6月），日度指标请填写日期（如 2024-06-03）。",
        "en": "{loc}: period '{value}' is not recognised. Monthly measures need a month (2024-06), daily ones a date (2024-06-03).",
    },
    "period_needs_day": {
        "zh": "{loc}：指标 {measure} 为日度指标，期间“{value}”须填写到日（如 2024-06-03）。",
        "en": "{loc}: {measure} is a daily measure; period '{value}' must be a date (2024-06-03).",
    },
    "period_future": {
        "zh": "{loc}：期间 {value} 尚未结束（今天是 {today}），不能报送。",
        "en": "{loc}: period {value} has not ended yet (today is {today}).",
    },
    "period_too_early": {
        "zh": "{loc}：期间 {value} 早于 {earliest}，不在本系统统计范围内。",
        "en": "{loc}: period {value} is before {earliest}, outside the system's range.",
    },
    # -- values --------------------------------------------------------------------------------
    "value_blank": {"zh": "{loc}：数值为空。", "en": "{loc}: the value is blank."},
    "value_not_number": {
        "zh": "{loc}：“{value}”不是数字。请只填写数值，不要带单位、百分号或文字。",
        "en": "{loc}: '{value}' is not a number. Enter digits only, no units, percent signs or text.",
    },
    "value_bad_separator": {
        "zh": "{loc}：“{value}”中的千分位分隔符位置不对（只能每三位一个，如 1,200 或 128，542），无法确定数值，请核对后重新填写。",
        "en": "{loc}: the thousands separators in '{value}' are misplaced (one every three digits, e.g. 1,200); the number is ambiguous, please check it.",
    },
    "value_negative": {
        "zh": "{loc}：数值 {value} 为负数，本指标不能小于 0。",
        "en": "{loc}: {value} is negative; this measure cannot be below 0.",
    },
    "duplicate_row": {
        "zh": "{loc}：与第 {first_row} 行重复（{region} {measure} {period} 在文件中出现两次）。请删除重复行。",
        "en": "{loc}: repeats row {first_row} ({region} {measure} {period} appears twice). Remove the duplicate.",
    },
    "num_gt_den": {
        "zh": "{loc}：{num_name}（{num}）= {num_value} 大于 {den_name}（{den}）= {den_value}{den_where}，分子不能大于分母（{kpi_name}）。",
        "en": "{loc}: {num} = {num_value} exceeds {den} = {den_value}{den_where}; a numerator cannot exceed its denominator ({kpi}).",
    },
    "den_in_file": {"zh": "（第 {row} 行 {col} 列）", "en": " (row {row}, column {col})"},
    "den_stored": {"zh": "（已入库数据）", "en": " (stored figure)"},
    "num_stored": {"zh": "（分子为已入库数据）", "en": " (the numerator is the stored figure)"},
    "cumulative_falls": {
        "zh": "{loc}：{name}（{measure}）为累计值，{value} 小于上期（{prev_period}）的 {prev}。累计值不应下降，请核对是否误填了当期值。",
        "en": "{loc}: {measure} is cumulative; {value} is below the previous period's ({prev_period}) {prev}. Check for a period value entered as cumulative.",
    },
    "stock_falls": {
        "zh": "{loc}：{name}（{measure}）较上期（{prev_period}）的 {prev} 下降 {drop:.0%}，请确认。",
        "en": "{loc}: {measure} fell {drop:.0%} from {prev} in {prev_period}; please confirm.",
    },
    "outlier_history": {
        "zh": "{loc}：{name} {value} 与本县近期中位数 {ref} 相差 {factor:.1f} 倍，请核对（是否混入累计值或单位错误）。",
        "en": "{loc}: {measure} {value} differs {factor:.1f}x from the county's recent median {ref}; please check (cumulative vs period value, units).",
    },
    "outlier_peer": {
        "zh": "{loc}：{name} 按人口折算为全省县（市、区）中位数的 {factor:.1f} 倍，请核对。",
        "en": "{loc}: {measure} per resident is {factor:.1f}x the median of the province's counties; please check.",
    },
    "same_in_column": {
        "zh": "{col} 列{header}共有 {n} 处同类问题，上面列出前 {shown} 处，其余 {more} 处在第 {rows} 行。",
        "en": "column {col}{header} has {n} issues of the same kind ({cause}); the first {shown} are listed above, the other {more} are in rows {rows}.",
    },
    "more_of_kind": {
        "zh": "另有 {n} 处同类问题（{code}），未逐条列出。",
        "en": {"one": "{n} more issue of the same kind ({code}) not listed.",
               "other": "{n} more issues of the same kind ({code}) not listed."},
    },
    "duplicate_file": {
        "zh": "此文件与批次 {batch_id}（{when} 由 {who} 导入）内容完全相同，可能是重复提交。",
        "en": "this file is identical to batch {batch_id} (imported {when} by {who}); possibly a duplicate submission.",
    },
    "nothing_changed": {
        "zh": "文件中的 {n} 个数值与已入库数据完全相同，无需写入。",
        "en": {"one": "the {n} value equals the stored figure; nothing to write.",
               "other": "all {n} values equal the stored figures; nothing to write."},
    },
    "blank_cells": {
        "zh": "有 {n} 个指标单元格未填写（如 {example}），视为未报送。",
        "en": "{n} measure cells are blank (e.g. {example}); treated as not reported.",
    },
    # -- outcomes -----------------------------------------------------------------------------
    "committed": {
        "zh": "已导入：批次 {batch_id}，新增 {new} 个、修改 {changed} 个数值，{unchanged} 个未变。",
        "en": "imported: batch {batch_id}, {new} new and {changed} changed values, {unchanged} unchanged.",
    },
    "rejected": {
        "zh": "未导入：发现 {errors} 个错误，数据库未作任何修改。",  # errors: every bad cell, folded or not
        "en": "not imported: {errors} errors found; the database was not changed.",
    },
    "previewed": {
        "zh": "预览：将新增 {new} 个、修改 {changed} 个数值，{unchanged} 个未变（尚未写入）。",
        "en": "preview: {new} new and {changed} changed values, {unchanged} unchanged (not written).",
    },
    "rolled_back": {
        "zh": "批次 {batch_id} 已撤销（{n} 行），相关数值恢复为此前的有效值。",
        "en": {"one": "batch {batch_id} rolled back ({n} row); the previous value is current again.",
               "other": "batch {batch_id} rolled back ({n} rows); the previous values are current again."},
    },
    "rollback_missing": {"zh": "批次 {batch_id} 不存在。", "en": "batch {batch_id} does not exist."},
    "rollback_not_committed": {
        "zh": "批次 {batch_id} 的状态为 {status}，只能撤销已提交的批次。",
        "en": "batch {batch_id} is {status}; only committed batches can be rolled back.",
    },
}

# Cell locations: "第 7 行 E 列（gov_cases）" / "row 7, column E (gov_cases)".
LOC = {
    "zh": {"cell": "第 {row} 行 {col} 列", "row": "第 {row} 行", "header": "（{header}）"},
    "en": {"cell": "row {row}, column {col}", "row": "row {row}", "header": " ({header})"},
}

register(__name__,
         {k: str(m["zh"]) for k, m in MESSAGES.items()} | {f"loc_{k}": v for k, v in LOC["zh"].items()},
         {k: m["en"] for k, m in MESSAGES.items()} | {f"loc_{k}": v for k, v in LOC["en"].items()})

# The one rule on formulas, word for word in the template (subtitle and rule 5) and the README:
# Excel and LibreOffice always save a formula's result beside it, and that result is the figure the
# officer saw and signed off, so it is imported; a formula without a saved result (written by a
# script, never opened in a spreadsheet program) is refused, because nothing here evaluates formulas.
FORMULA_RULE = "含公式的单元格按保存时的计算结果导入（系统不计算公式），没有计算结果的公式不能导入。"

# Text of the Excel template (its users are Chinese-speaking data officers).
TEMPLATE_TEXT: dict[str, str] = {
    "data_sheet": "填报",
    "help_sheet": "填报说明",
    "title": "{name}（{code}）数字化改革月度数据报表 · {period}",
    "subtitle": "请在第 {row} 行填写本期数值（灰色区域为指标说明，请勿修改）。合并单元格、隐藏行列不能导入；"
                + FORMULA_RULE + "数据下方只有文字的行视为说明，不导入。",
    "row_name": "指标名称",
    "row_unit": "计量单位",
    "row_kind": "统计口径",
    "row_def": "指标说明",
    "col_region": "区划代码",
    "col_region_name": "县（市、区）",
    "col_period": "期间",
    "kind_last": "月末累计/存量值",
    "kind_sum": "当月发生值",
    "dv_title": "数值不正确",
    "dv_error": "请填写大于等于 0 的数字（不带单位、百分号）。",
    "dv_prompt_title": "填写提示",
    "help_title": "填报说明（{name} {period}）",
    "help_cols": "指标代码|指标名称|单位|统计口径|数据来源|用于考核指标",
    "generated": "模板生成时间：{when}；指标目录版本：{version}",
}

TEMPLATE_RULES: list[str] = [
    "1. 本模板由系统根据指标目录自动生成，每个县（市、区）每月填报一份；区划代码、县名和期间已预先填好，请勿修改。",
    "2. 在“填报”工作表第 {row} 行对应指标列填写本期数值：只填数字，不带单位、千分位以外的符号或文字；千分位分隔符只能每三位一个（如 128,542）；不能为负数。",
    "3. 统计口径为“月末累计/存量值”的指标填写月末时点值（累计值不应小于上月）；“当月发生值”只填本月发生数，不要填年初累计。",
    "4. 比率类指标由系统按“分子÷分母”计算，请分别填写分子和分母，分子不能大于分母（如：网上全流程办结办件量 ≤ 政务服务办件总量）。",
    "5. 不能使用合并单元格、隐藏行列或密码保护。" + FORMULA_RULE + "如从其他表格复制，请“选择性粘贴→数值”。",
    "6. 未填写的指标视为未报送，系统显示“逾期未报”，不会自动补数。",
    "7. 已导入的数据如需更正，重新提交完整报表即可：系统保留原值和更正记录，更正值自动生效。",
    "8. 区划调整：原下城区（330103）、江干区（330104）等已撤销代码不能使用；2021 年 4 月前的余杭区数据须按余杭区与临平区拆分填报。",
    "9. 也可提交 CSV 文件（UTF-8、带 BOM 的 UTF-8 或 GBK/GB18030 编码，不支持 UTF-16），列为：区划代码、期间、指标代码、数值；“备注”“说明”列和表格下方的文字说明不导入。",
]


def num(x: float) -> str:
    """A figure as people write it: 151,800 or 0.9823, never 1.518e+05."""
    x = float(x)
    if x.is_integer():
        return f"{x:,.0f}"
    return f"{x:,.6f}".rstrip("0").rstrip(".")


def text(key: str, lang: Lang = "zh", /, **params: Any) -> str:
    """The message `key` in `lang`, filled with `params` (missing params stay visible, not crash)."""
    text_ = template(key, lang, params.get("n"))
    try:
        return text_.format(**params)
    except (KeyError, IndexError, ValueError):
        return text_ + " " + repr(params)


def where(row: int | None, col: str | None = None, header: str | None = None, lang: Lang = "zh") -> str:
    """The cell location in the wording every message uses."""
    if row is None:
        return ""
    out = tr("loc_cell", lang, row=row, col=col) if col else tr("loc_row", lang, row=row)
    if header:
        out += tr("loc_header", lang, header=header)
    return out


@dataclass
class Issue:
    """One finding about an import: an error blocks the commit, a warning or info does not."""

    severity: Severity
    code: str
    row: int | None = None
    col: str | None = None
    header: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: Lang = "zh") -> str:
        loc = where(self.row, self.col, self.header, lang)
        p = dict(self.params)
        for key in list(p):  # bilingual parameters are {"zh": ..., "en": ...}
            if isinstance(p[key], dict) and set(p[key]) == {"zh", "en"}:
                p[key] = p[key][lang]
        return text(self.code, lang, loc=loc, **p)

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "row": self.row, "col": self.col,
                "zh": self.message("zh"), "en": self.message("en")}
