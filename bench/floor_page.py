"""The page benchmark's floor: what a cockpit page draws, with constant data and no database (run by
bench/bench_pages.py as a Streamlit app next to the real pages).

The same frame as the app (sidebar pickers, caption, navigation, theme) and a body of 10 metrics,
6 Plotly charts, a pydeck map of the 90 county polygons and a 90-row table. Its CPU per render is
what Streamlit itself costs for a page of that size; whatever a real page costs beyond it is the
cost of reading and shaping its data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import pydeck as pdk  # noqa: E402
import streamlit as st  # noqa: E402

from ui import theme  # noqa: E402

MONTHS = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]
COLOURS = [[34, 197, 94, 200], [245, 158, 11, 200], [239, 68, 68, 200]]


@st.cache_resource
def counties() -> dict:
    """The shipped county boundaries, read once per process as any page's cached geometry is."""
    return json.loads((ROOT / "data" / "geo" / "zj_counties.geojson").read_text(encoding="utf-8"))


def line_figure(i: int) -> go.Figure:
    fig = go.Figure()
    for j in range(3):
        fig.add_scatter(x=MONTHS, y=[0.8 + 0.004 * k + 0.01 * j + 0.001 * i for k in range(len(MONTHS))],
                        mode="lines+markers", name=f"系列{j}")
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), title=f"趋势{i}", legend_orientation="h")
    return fig


def bar_figure(i: int, codes: list[str]) -> go.Figure:
    fig = go.Figure(go.Bar(x=codes, y=[(k * 37 + i) % 100 for k in range(len(codes))],
                           marker_color=["#22c55e", "#f59e0b", "#ef4444"] * (len(codes) // 3 + 1)))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), title=f"分布{i}", xaxis_type="category")
    return fig


def body() -> None:
    st.html('<div class="hdr"><span class="h-title">数字化改革 · 一屏掌控</span>'
            '<span class="h-meta">全省 · 2026-10</span><span class="demo">演示数据</span></div>')
    fc = counties()
    codes = [f["properties"]["code"] for f in fc["features"]]
    for row in range(2):
        for i, col in enumerate(st.columns(5)):
            k = row * 5 + i
            col.metric(f"指标{k}", f"{90 + k * 0.7:.1f}%", f"{(k % 3 - 1) * 0.4:+.1f}个百分点",
                       delta_color="normal" if k % 2 else "inverse", border=True)
    for row in range(2):
        for i, col in enumerate(st.columns(3)):
            k = row * 3 + i
            with col:
                st.plotly_chart(line_figure(k) if k % 2 == 0 else bar_figure(k, codes), width="stretch",
                                config={"displayModeBar": False}, key=f"chart{k}")
    for k, f in enumerate(fc["features"]):
        f["properties"]["fill"] = COLOURS[k % 3]
    layer = pdk.Layer("GeoJsonLayer", fc, pickable=True, stroked=True, filled=True, extruded=True,
                      get_fill_color="properties.fill", get_elevation=1000, get_line_color=[11, 20, 38])
    deck = pdk.Deck(layers=[layer], initial_view_state=pdk.ViewState(latitude=29.2, longitude=120.2, zoom=6.2,
                                                                     pitch=40), map_style=None,
                    tooltip={"text": "{name}"})
    st.pydeck_chart(deck, key="deck", height=480)
    table = pd.DataFrame({
        "区县": codes,
        "名称": [f["properties"].get("name", c) for f, c in zip(fc["features"], codes, strict=True)],
        "数值": [90 + (k * 7 % 100) / 10 for k in range(len(codes))],
        "目标": [95.0] * len(codes),
        "排名": list(range(1, len(codes) + 1)),
        "状态": ["达标", "预警", "未达标"] * (len(codes) // 3),
        "趋势": [[0.8 + 0.01 * (j + k % 5) for j in range(12)] for k in range(len(codes))],
    })
    st.dataframe(table, hide_index=True, width="stretch", height=520,
                 column_config={"趋势": st.column_config.LineChartColumn("趋势", width="small"),
                                "数值": st.column_config.NumberColumn(format="%.1f%%")})


def other() -> None:
    st.write("other")


st.set_page_config(page_title="floor", layout="wide")
with st.sidebar:
    st.segmented_control("语言 / Language", ["zh", "en"], default="zh", key="lang", required=True)
    st.selectbox("统计期", ["2026-10", "2026-09"], key="period")
    st.selectbox("范围", ["全省", "杭州市"], key="scope")
nav = st.navigation({"一屏掌控": [st.Page(body, title="总览", default=True, url_path="floor"),
                                 st.Page(other, title="其他", url_path="other")]})
st.sidebar.caption("⚠️ 当前数据库为合成演示数据")
theme.inject(False)
nav.run()
