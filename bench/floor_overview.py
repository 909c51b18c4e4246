"""The benchmark's floor: the overview's layout with the same number and kinds of elements, filled
with constant data and no database (run by bench/bench_overview.py as a Streamlit app).

Same frame (sidebar segmented control, two select boxes, caption, page link, navigation), same
HTML blocks (header, 10 tiles with sparklines, 8 system tiles, two league tables, legend), the
same choropleth of the 90 counties, and as many alert page links as the overview showed
(env FLOOR_ALERTS). Whatever the overview costs beyond this is the cost of its data.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from ui import html, maps, theme  # noqa: E402
from ui.tiles import SystemScore, Tile  # noqa: E402

N_ALERTS = int(os.environ.get("FLOOR_ALERTS", "17"))
COUNTIES = [f["properties"]["code"] for f in maps.boundaries()["features"]]


def body() -> None:
    st.html('<div class="hdr"><span class="h-title">数字化改革 · 一屏掌控</span>'
            '<span class="h-meta">全省 · 2026-10</span><span class="demo">演示数据</span></div>')
    spark = [0.80 + 0.01 * i for i in range(12)]
    tiles = [Tile(f"k{i}", "s", f"指标{i}", "96.1%", ["green", "amber", "red"][i % 3], "目标 95.0%", "101.2%",
                  ("▲", "#22c55e", "+0.4个百分点"), ("▲", "#22c55e", "+1.5个百分点"), spark, "达标区县 71/90",
                  "口径 …", "2026-10-31", "已报 88/90") for i in range(10)]
    st.html(html.tile_grid(tiles, "zh"))
    systems = [SystemScore(f"s{i}", f"系统{i}", 0.99, "amber", 3, 4, 5) for i in range(8)]
    st.html('<div class="sys-grid">' + "".join(
        f'<a href="system?system={s.code}" target="_self">{html.system_tile(s, "zh")}</a>' for s in systems) + "</div>")
    left, mid, right = st.columns([5, 3, 4], gap="medium")
    with left:
        a, b = st.columns([3, 2])
        with a:
            st.selectbox("地图指标", ["一网通办率"], key="kpi")
        with b:
            st.segmented_control("着色", ["状态", "数值"], default="状态", key="colour", required=True)
        fig = go.Figure(go.Choropleth(
            geojson=maps.boundaries(), featureidkey="properties.code", locations=COUNTIES,
            z=[i % 3 for i in range(len(COUNTIES))], text=[f"<b>{c}</b><br>96.1%" for c in COUNTIES],
            customdata=COUNTIES, hovertemplate="%{text}<extra></extra>", colorscale=maps._status_scale(),
            zmin=0, zmax=6, showscale=False, marker_line_color="#0b1426", marker_line_width=0.6,
        ))
        fig.update_geos(visible=False, fitbounds="locations", bgcolor="rgba(0,0,0,0)", projection_type="mercator")
        fig.update_layout(height=440, margin=dict(l=0, r=0, t=0, b=0), paper_bgcolor="rgba(0,0,0,0)", dragmode=False)
        st.plotly_chart(fig, key="map", on_select="rerun", selection_mode="points", width="stretch",
                        config={"displayModeBar": False, "topojsonURL": maps.TOPOJSON_URL})
        st.html(html.legend(maps.status_legend("zh")) + '<div class="legend">点击区县打开画像</div>')
    with mid:
        rows = pd.DataFrame([{"region": c, "name": c, "rank": i + 1, "rank_of": 90, "value": "96.1%",
                              "status": "green", "change": "▲1", "change_colour": "#22c55e"}
                             for i, c in enumerate(COUNTIES[:10])])
        recs = rows.to_dict("records")
        st.html('<div class="panel-title">一网通办率 · 名次变化</div>'
                + html.league("前五", recs[:5], "period=2026-10", "zh") + html.league("后五", recs[5:], "", "zh"))
    with right:
        st.html(f'<div class="panel-title">预警 · {N_ALERTS}</div>')
        with st.container(height=490, border=True):
            for i in range(N_ALERTS):
                st.page_link(county_page, label=f"某县 逾期未报（{i} 项指标）", icon=":material/schedule:",
                             query_params={"county": COUNTIES[i % 90]})


def county() -> None:
    st.write("county")


st.set_page_config(page_title="floor", layout="wide")
with st.sidebar:
    st.segmented_control("语言 / Language", ["zh", "en"], default="zh", key="lang", required=True)
    st.selectbox("统计期", ["2026-10", "2026-09"], key="period")
    st.selectbox("范围", ["全省", "杭州市"], key="scope")
county_page = st.Page(county, title="区县画像", url_path="county")
nav = st.navigation({"一屏掌控": [st.Page(body, title="总览", default=True), county_page]})
st.sidebar.caption("⚠️ 当前数据库为合成演示数据")
st.sidebar.page_link(county_page, label="大屏模式", icon=":material/tv:")
theme.inject(False)
nav.run()
