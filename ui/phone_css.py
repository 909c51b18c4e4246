"""CSS of the phone layout (ui.phone) and of every page on a narrow screen (360–430 px).

Two parts. NARROW applies to every page through a media query, whatever the layout: Streamlit's chrome
clear of the heading, no element wider than the screen, page links and buttons at least 44 px tall
(a thumb's target). PHONE styles the phone layout's own blocks (the ph-* classes of ui.phone, also
drawn by the KPI detail page on a desktop). Colours are the dark theme's (ui.theme).
"""

from __future__ import annotations

import streamlit as st

TOUCH_PX = 44  # the smallest touch target (Apple HIG 44 pt, Material 48 dp)

NARROW = f"""
<style>
@media (max-width: 640px) {{
  html {{font-size:16px;}}  /* the wall's viewport-scaled rem would shrink to its 14 px floor on a phone */
  html, body {{overflow-x:hidden;}}
  .block-container {{padding-top:4rem !important; padding-left:0.75rem !important;
    padding-right:0.75rem !important; padding-bottom:2rem !important;}}
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {{overflow-x:hidden;}}
  [data-testid="stMainBlockContainer"] * {{max-width:100%;}}
  [data-testid="stMainBlockContainer"] [data-testid="stHorizontalBlock"] {{flex-wrap:wrap;}}
  .hdr {{flex-wrap:wrap; gap:0.25rem 0.6rem;}}
  .h-title {{font-size:1.2rem;}}
  .h-meta {{font-size:0.9rem;}}
  .demo {{margin-left:0;}}
  h1 {{font-size:1.5rem !important;}}
  h2 {{font-size:1.3rem !important;}}
  h3 {{font-size:1.15rem !important;}}
  .tile-grid {{grid-template-columns:repeat(2, minmax(0, 1fr));}}
  .sys-grid {{grid-template-columns:repeat(2, minmax(0, 1fr));}}
  [data-testid="stPageLink"] a {{min-height:{TOUCH_PX}px; display:flex; align-items:center;}}
  [data-testid="stBaseButton-secondary"], [data-testid="stBaseButton-primary"],
  [data-testid="stBaseButton-tertiary"] {{min-height:{TOUCH_PX}px;}}
  [data-testid="stExpander"] summary {{min-height:{TOUCH_PX}px;}}
  [data-testid="stSelectbox"] [data-baseweb="select"] > div {{min-height:{TOUCH_PX}px;}}
  .league td {{padding:6px 4px;}}
}}
</style>
"""

PHONE = f"""
<style>
.ph-head {{display:flex; flex-wrap:wrap; align-items:center; gap:6px 8px; margin:0;}}
.ph-title {{font-size:1.2rem; font-weight:700; color:var(--c-strong); width:100%; line-height:1.3;}}
.ph-chip {{display:inline-block; font-size:0.82rem; color:var(--c-accent); background:var(--c-panel); border:1px solid var(--c-line);
  border-radius:999px; padding:2px 10px; white-space:nowrap;}}
.ph-chip.demo {{color:#fff7ed; background:#b45309; border-color:#f59e0b;}}
.ph-section {{font-size:1.0rem; font-weight:600; color:var(--c-text); margin:4px 0 0 0;}}
.ph-grid {{display:grid; grid-template-columns:repeat(2, minmax(0, 1fr)); gap:8px;}}
a.ph-tile, a.ph-tile:visited {{display:flex; flex-direction:column; gap:2px; min-height:{TOUCH_PX * 2}px;
  background:var(--c-panel); border:1px solid var(--c-line); border-top:4px solid var(--c-faint); border-radius:8px;
  padding:8px 10px; text-decoration:none !important; color:var(--c-text); min-width:0; cursor:pointer;}}
a.ph-tile:active {{background:var(--c-panel-hover);}}
.ph-name {{font-size:0.82rem; color:var(--c-text2); line-height:1.25; display:-webkit-box; -webkit-line-clamp:2;
  -webkit-box-orient:vertical; overflow:hidden; min-height:2.5em;}}
.ph-value {{font-size:1.45rem; font-weight:700; color:var(--c-strong); line-height:1.15; white-space:nowrap;
  overflow:hidden; text-overflow:ellipsis; font-variant-numeric:tabular-nums;}}
.ph-row {{display:flex; flex-wrap:wrap; align-items:center; gap:2px 6px; font-size:0.76rem; color:var(--c-text2);
  white-space:nowrap; overflow:hidden;}}
.ph-status {{font-size:0.72rem; color:var(--c-on-status); font-weight:700; padding:0 6px; border-radius:3px;
  white-space:nowrap;}}
.ph-sys {{display:flex; gap:8px; overflow-x:auto; overscroll-behavior-x:contain; scroll-snap-type:x mandatory;
  -webkit-overflow-scrolling:touch; padding-bottom:4px; max-width:100%;}}
.ph-sys a {{flex:0 0 auto; width:7.4rem; min-height:{TOUCH_PX + 20}px; scroll-snap-align:start;
  text-decoration:none !important;}}
.ph-sys .sys {{height:100%; box-sizing:border-box;}}
.ph-list {{display:flex; flex-direction:column; gap:0;}}
.ph-list a, .ph-list a:visited {{display:flex; align-items:center; gap:8px; min-height:{TOUCH_PX}px;
  border-bottom:1px solid var(--c-line); color:var(--c-text) !important; text-decoration:none !important; font-size:0.9rem;}}
.ph-list .rk {{color:var(--c-muted); width:2em; text-align:right; flex:0 0 auto;}}
.ph-list .nm {{flex:1 1 auto; min-width:0; overflow:hidden; text-overflow:ellipsis; white-space:nowrap;}}
.ph-list .num {{flex:0 0 auto; font-variant-numeric:tabular-nums;}}
.ph-list .chg {{flex:0 0 auto; width:3.2em; text-align:right;}}
.ph-gap {{color:var(--c-faint); text-align:center; line-height:1.2;}}
details.ph-all summary {{min-height:{TOUCH_PX}px; display:flex; align-items:center; color:var(--c-link); cursor:pointer;}}
.ph-big {{background:var(--c-panel); border:1px solid var(--c-line); border-top:4px solid var(--c-faint); border-radius:8px;
  padding:10px 12px;}}
.ph-big .ph-value {{font-size:2rem;}}
.ph-big .ph-row {{font-size:0.85rem; white-space:normal;}}
.ph-def {{font-size:0.85rem; color:var(--c-text2); line-height:1.5; margin:0; padding-left:1.1em;}}
.ph-switch a {{color:var(--c-link) !important; font-size:0.85rem; display:inline-flex; align-items:center;
  min-height:{TOUCH_PX}px;}}
</style>
"""


def inject() -> None:
    st.html(NARROW + PHONE)
