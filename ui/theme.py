"""Page CSS for the big-screen layout (colours come from .streamlit/config.toml's dark theme)."""

from __future__ import annotations

import streamlit as st

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'

CSS = """
<style>
.block-container {padding-top: 0.8rem !important; padding-bottom: 0.4rem !important; max-width: 100% !important;
  padding-left: 1.4rem !important; padding-right: 1.4rem !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: 0.55rem;}
.hdr {display:flex; align-items:baseline; gap:1rem; margin:0; line-height:1.2;}
.h-title {font-size:1.55rem; font-weight:700; color:#f1f5f9; letter-spacing:0.02em;}
.h-meta {font-size:1.05rem; color:#7dd3fc;}
.demo {margin-left:auto; background:#b45309; color:#fff7ed; font-weight:700; padding:2px 10px; border-radius:4px;
  font-size:0.9rem; border:1px solid #f59e0b;}
.tile-grid {display:grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap:10px;}
.tile {background:#111f36; border:1px solid #1e3a5f; border-top:4px solid #64748b; border-radius:6px;
  padding:7px 11px 6px; min-width:0; cursor:help;}
.t-head {display:flex; justify-content:space-between; align-items:center; gap:6px;}
.t-name {font-size:0.95rem; color:#cbd5e1; white-space:nowrap; overflow:hidden; text-overflow:ellipsis;}
.t-status {font-size:0.72rem; color:#0b1426; font-weight:700; padding:0 6px; border-radius:3px; white-space:nowrap;}
.t-value {font-size:1.85rem; font-weight:700; color:#f8fafc; line-height:1.15; white-space:nowrap;
  font-variant-numeric: tabular-nums;}
.t-target {font-size:0.78rem; color:#94a3b8; white-space:nowrap; overflow:hidden; text-overflow:ellipsis;}
.t-changes {display:flex; gap:12px; font-size:0.8rem; color:#cbd5e1; white-space:nowrap; overflow:hidden;}
.spark {width:100%; height:28px; display:block; margin:2px 0;}
.t-foot {display:flex; gap:8px; font-size:0.78rem; color:#93c5fd; white-space:nowrap; overflow:hidden;}
.t-foot .rep {color:#c084fc;}
.t-foot .asof {margin-left:auto; color:#64748b;}
.sys-grid {display:grid; grid-template-columns: repeat(8, minmax(0, 1fr)); gap:8px;}
.sys-grid a {text-decoration:none !important;}
.sys {background:#111f36; border:1px solid #1e3a5f; border-left:5px solid #64748b; border-radius:6px;
  padding:5px 10px;}
.sys:hover {background:#16294a;}
.s-name {font-size:0.9rem; color:#e2e8f0; white-space:nowrap; overflow:hidden; text-overflow:ellipsis;}
.s-score {font-size:1.45rem; font-weight:700; line-height:1.15;}
.s-sub {font-size:0.75rem; color:#94a3b8; white-space:nowrap;}
.panel-title {font-size:1.0rem; font-weight:600; color:#e2e8f0; margin:0 0 2px 0;}
.league {margin-bottom:6px;}
.l-title {font-size:0.9rem; color:#7dd3fc; margin-bottom:2px;}
.league table {width:100%; border-collapse:collapse; font-size:0.88rem; table-layout:fixed;}
.league td {padding:3px 4px; border-bottom:1px solid #1e3a5f; color:#e2e8f0; white-space:nowrap;
  overflow:hidden; text-overflow:ellipsis;}
.league td.num {width:5.2em;}
.league td.rk {color:#94a3b8; width:2.2em; text-align:right;}
.league td.num {text-align:right; font-variant-numeric: tabular-nums;}
.league td.chg {text-align:right; width:3.2em;}
.league a {color:#e2e8f0 !important; text-decoration:none;}
.league a:hover {text-decoration:underline;}
.dot {display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:6px;}
.legend {display:flex; gap:12px; font-size:0.78rem; color:#cbd5e1; flex-wrap:wrap;}
.legend i {display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px;}
.alert-kind {font-size:0.72rem; padding:0 5px; border-radius:3px; margin-right:4px;}
[data-testid="stPageLink"] p {font-size:0.88rem; white-space:normal !important;}
[data-testid="stPageLink"] a {padding-top:1px !important; padding-bottom:1px !important;}
@media (max-width: 1600px) {
  .t-name {font-size:0.85rem; white-space:normal; display:-webkit-box; -webkit-line-clamp:2;
    -webkit-box-orient:vertical; line-height:1.2;}
  .t-head {align-items:flex-start;}
  .t-value {font-size:1.5rem;}
  .t-changes {font-size:0.72rem; gap:0 6px; flex-wrap:wrap; line-height:1.35; min-height:2.7em;
    align-content:flex-start;}  /* two lines reserved: tiles of a row keep one height when one wraps */
  .t-target, .t-foot {font-size:0.7rem;}
  .t-foot .asof {display:none;}
  .s-name {font-size:0.8rem;}
  .s-score {font-size:1.2rem;}
  .h-title {font-size:1.3rem;}
}
</style>
"""

KIOSK_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stSidebarNav"], footer {display:none !important;}
.block-container {padding-top: 0.6rem !important;}
</style>
"""


def inject(kiosk: bool = False) -> None:
    st.html(CSS + (KIOSK_CSS if kiosk else ""))
