"""Sizes and layout of the wall (一屏) overview; colours stay in ui/theme.py.

At 1920x1080 the overview fits one screen with no scrolling (tiles, system row, map, best/worst,
alerts), headline values at 42 px and every label at 14 px or more, so a wall is read from across
the room. Larger screens keep that very layout scaled as a whole (the root font size follows the viewport
and every size here is in rem, so type, tiles, panels and the map grow together and the page
fills the screen instead of leaving a small island in it); smaller ones (a 1366x768 meeting-room laptop) keep the layout with
smaller type and scroll.
"""

from __future__ import annotations

import streamlit as st

WALL_CSS = """
<style>
/* one rem is 16 px at 1920x1080 and grows with the screen (32 px on a 4K wall): every size below is in
   rem, and so are Streamlit's own widgets */
html {font-size: clamp(14px, min(100vw / 120, 100vh / 67.5), 48px);}
/* the page header strip: transparent and short, its controls stay clickable */
header[data-testid="stHeader"] {background: transparent !important; height: 2.6rem !important; pointer-events: none;}
header[data-testid="stHeader"] * {pointer-events: auto;}
.block-container {padding-top: 0.5rem !important; padding-bottom: 0.3rem !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: 0.5rem;}
.hdr {min-height: 2.1rem; align-items: center;}
[data-testid="stMain"] .hdr {padding-left: 2.4rem;}  /* clear of the sidebar control */
body:has(.st-key-kiosk_exit) [data-testid="stMain"] .hdr {padding-left: 0; padding-right: 8rem;}  /* clear of the exit */
.h-title {font-size: 1.6rem;}
.h-meta {font-size: 1.1rem;}

/* headline tiles: five per row; the interactive grid (st.container) and the plain one alike */
.tile-grid, .st-key-wall_tiles {display: grid !important; grid-template-columns: repeat(5, minmax(0, 1fr));
  gap: 0.625rem !important; align-items: stretch !important;}  /* the tiles of a row alike tall */
.st-key-wall_tiles > div {min-width: 0; width: auto !important;}
[class*="st-key-wall_tile_"] {position: relative; gap: 0 !important; height: 100%;}
[class*="st-key-wall_tile_"] > [data-testid="stElementContainer"]:first-child {flex: 1 1 auto;}
[class*="st-key-wall_tile_"] > [data-testid="stElementContainer"]:first-child > div {height: 100%;}
.tile {height: 100%; box-sizing: border-box; padding: 0.375rem 0.75rem; display: flex; flex-direction: column;}
.t-name {font-size: 1.0rem;}
.t-status {font-size: 0.875rem; line-height: 1.4;}
.t-main {display: flex; align-items: center; gap: 0.625rem; min-width: 0;}
.t-value {font-size: 2.625rem; line-height: 1.1; flex: 0 1 auto; min-width: 0; overflow: hidden; text-overflow: ellipsis;}
.t-main .spark {flex: 1 1 0; min-width: 2.5rem; width: auto; height: 2.125rem; margin: 0;}
.t-target, .t-changes, .t-foot {font-size: 0.875rem; line-height: 1.35;}
.t-forecast {font-size: 0.875rem !important; line-height: 1.3 !important; height: 2.6em !important;
  -webkit-line-clamp: 2 !important; margin-top: 2px !important;}
/* the 批示 action inside its tile: top right, the status badge moves left of it */
.st-key-wall_tiles .t-head {padding-right: 4.6rem;}
[class*="st-key-wall_tile_"] [class*="st-key-fu_tile_"] {position: absolute; top: 0.2rem; right: 0.375rem; width: auto !important;
  z-index: 2;}
[class*="st-key-wall_tile_"] [class*="st-key-fu_tile_"] button {min-height: 1.75rem; min-width: 1.75rem; padding: 0 0.375rem;
  font-size: 0.875rem;}
[class*="st-key-wall_mark_"] {position: absolute !important; bottom: 0.25rem; right: 0.625rem; width: auto !important; z-index: 2;}
[class*="st-key-wall_tile_"]:has(.t-forecast) [class*="st-key-wall_mark_"] {bottom: 2.6rem;}  /* on the foot line */
[class*="st-key-wall_mark_"] [data-testid="stPageLink"] a {padding: 0 0.25rem !important; min-height: 1.5rem;}
[class*="st-key-wall_tile_"]:has([class*="st-key-wall_mark_"]) .t-foot .asof {visibility: hidden;}

/* system row and the lower panels */
.s-name {font-size: 0.95rem;}
.s-score {font-size: 1.6rem; line-height: 1.1;}
.s-sub {font-size: 0.875rem;}
.panel-title {font-size: 1.05rem;}
.l-title {font-size: 0.95rem;}
.league table {font-size: 0.95rem;}
.league td {padding: 0.125rem 0.25rem;}
.legend {font-size: 0.875rem;}
.tile .spark {height: 2.125rem;}
/* the map: 400 px at 1080p, more on a larger wall (the chart stretches to the height of its block) */
:has(> .st-key-wall_map), .st-key-wall_map {height: 25rem !important;}
.map-notes {display: flex; flex-wrap: wrap; gap: 0.125rem 1rem; align-items: baseline;}
.alert-kind {font-size: 0.875rem;}

/* the wall's exit: small, top right, clear of the content; quiet by its muted colour, not by fading
   (a faded link loses its contrast on the light wall) */
.st-key-kiosk_exit {position: fixed !important; top: 6px; right: 14px; width: auto !important; z-index: 1000;}
.st-key-kiosk_exit a {min-height: 28px;}
.st-key-kiosk_exit a :is(p, span) {color: var(--c-muted) !important;}
.st-key-kiosk_exit a:hover :is(p, span), .st-key-kiosk_exit a:focus :is(p, span) {color: var(--c-strong) !important;}

/* an old laptop: the same layout, smaller type, the page scrolls */
@media (max-width: 1600px) {
  .t-value {font-size: 1.9rem;}
  .t-main {flex-wrap: wrap;}
  .t-main .spark {flex-basis: 100%; height: 1.6rem;}
  .t-name {font-size: 1rem;}
  .t-target, .t-changes, .t-foot, .t-forecast {font-size: 0.8rem !important;}
  /* the 批示 button shows its icon only (its word stays its accessible name), so the KPI's name keeps
     the room to be read whole: 一网通办率（事项） and （办件） must not both end in an ellipsis */
  [class*="st-key-wall_tile_"] [class*="st-key-fu_tile_"] button [data-testid="stMarkdownContainer"] {
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;}
  .st-key-wall_tiles .t-head {padding-right: 2.2rem;}
  /* the ◆ marker below the tile's text rather than over it */
  [class*="st-key-wall_mark_"], [class*="st-key-wall_tile_"]:has(.t-forecast) [class*="st-key-wall_mark_"] {
    position: static !important; margin: 0 0 0.3rem 0.75rem;}
  [class*="st-key-wall_tile_"]:has([class*="st-key-wall_mark_"]) .t-foot .asof {visibility: visible;}
}
</style>
"""


def inject() -> None:
    st.html(WALL_CSS)
