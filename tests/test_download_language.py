"""Downloads as people read them, without a browser: headers in the chosen language, names beside
codes, rates as percentages (CSV text, Excel number format on the stored number), one language."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from metrics.catalogue import catalogue
from metrics.geography import geography
from ui import downloads

RATE, COUNT = "zzd_active_rate", "zlb_dau"


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "kpi": [RATE, COUNT], "kpi_name_zh": ["浙政钉用户日活跃率", "浙里办日活"], "region": ["330102", "331127"],
        "name_zh": ["上城区", "景宁畲族自治县"], "name_en": ["Shangcheng District", "Jingning She Autonomous County"],
        "value": [0.7602220971, 3056000.0], "index_100": [100.1234, 98.4567], "attainment": [0.97, np.nan],
        "status": ["green", "red"], "complete": [True, False], "trend": [[0.75, np.nan], [1.0, 2.0]],
    })


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_headers_names_and_percentages(lang):
    sheet = downloads.readable(_frame(), lang, catalogue(), geography())
    cols = list(sheet.frame.columns)
    assert not downloads.untranslated(cols), cols
    want = {"zh": ["指标代码", "指标", "地区代码", "地区", "数值", "指数（基期=100）", "完成率", "状态"],
            "en": ["KPI code", "KPI", "Region code", "Region", "Value", "Index (base = 100)", "Attainment", "Status"]}
    assert [c for c in cols if c in want[lang]] == want[lang]
    rows = list(csv.reader(io.StringIO(downloads.csv_bytes(sheet.frame, sheet.percent).decode("utf-8-sig"))))
    body = dict(zip(rows[0], rows[1], strict=True))
    assert body[want[lang][4]] == "76.0%" and body[want[lang][6]] == "97.0%"
    assert body[want[lang][5]] == "100.1"
    assert body[want[lang][7]] == ("达标" if lang == "zh" else "On target")
    assert "0.75" not in body[cols[-1]] and "nan" not in ",".join(rows[1] + rows[2])
    assert rows[2][cols.index(want[lang][4])] == "3056000.0"  # a count stays a number
    ws = load_workbook(io.BytesIO(downloads.xlsx_bytes(sheet.frame, "x", sheet.percent))).active
    c = ws.cell(row=2, column=cols.index(want[lang][4]) + 1)
    assert c.value == pytest.approx(0.7602220971) and c.number_format == "0.0%"
    assert ws.cell(row=3, column=cols.index(want[lang][4]) + 1).number_format == "General"
    names = sheet.frame[want[lang][3]].tolist()
    assert names == (["上城区", "景宁畲族自治县"] if lang == "zh" else ["Shangcheng District", "Jingning She Autonomous County"])
