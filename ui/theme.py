"""Page CSS for the big-screen layout, in a dark and a light colour set.

Every colour of the page's own HTML is a CSS variable (`--c-*`); `PALETTES` holds one value per
variable for each theme and `inject` writes the chosen set on `:root`. Streamlit's own widgets take
theirs from .streamlit/config.toml ([theme.dark] / [theme.light], the same values). Printing always
uses the light set. Text colours pass WCAG AA (4.5:1) on their panel in both sets (the axe-core audit
in tests/test_browser_a11y.py checks the rendered pages).
"""

from __future__ import annotations

import json

import streamlit as st

from ui import urlstate
from ui.i18n import t

THEMES = ("dark", "light")
# role -> colour; the dark set is the big-screen look, the light set is for daylight and paper
PALETTES: dict[str, dict[str, str]] = {
    "dark": {
        "bg": "#0b1426", "panel": "#111f36", "panel-hover": "#16294a", "panel2": "#0f2743", "line": "#1e3a5f",
        "strong": "#f8fafc", "text": "#e2e8f0", "text2": "#cbd5e1", "muted": "#94a3b8", "faint": "#8b9bb4",
        "accent": "#7dd3fc", "accent2": "#bae6fd", "link": "#93c5fd", "rep": "#c084fc", "warn": "#f59e0b",
        "on-status": "#0b1426", "on-primary": "#0b1426",
    },
    "light": {
        "bg": "#f8fafc", "panel": "#ffffff", "panel-hover": "#eef2f6", "panel2": "#e0f2fe", "line": "#cbd5e1",
        "strong": "#0f172a", "text": "#1e293b", "text2": "#334155", "muted": "#475569", "faint": "#5b6778",
        "accent": "#075985", "accent2": "#0c4a6e", "link": "#1d4ed8", "rep": "#7e22ce", "warn": "#92400e",
        "on-status": "#0b1426", "on-primary": "#ffffff",
    },
}


# paper: a white page and dark text also where Streamlit's own elements carry the dark theme's light
# text (an element rule inside the app outranks their single-class rules; inline status colours stay)
PRINT_CSS = """
body, [data-testid="stApp"], [data-testid="stMain"], [data-testid="stHeader"] {background:#ffffff !important;}
[data-testid="stApp"] :is(p, li, h1, h2, h3, h4, h5, h6, label, td, th, span, div) {color:#0f172a;}
[data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"] {display:none !important;}
"""


# Text drawn in a status or series colour (an inline `color:` from ui.fmt: bright, for a dark wall) is
# swapped for a shade that keeps 4.5:1 on the theme's panels: darker on white, a lighter red on navy.
TEXT_SWAP: dict[str, dict[str, str]] = {
    "dark": {"#ef4444": "#f87171"},
    "light": {"#22c55e": "#15803d", "#ef4444": "#b91c1c", "#f59e0b": "#b45309", "#94a3b8": "#475569",
              "#a855f7": "#7e22ce", "#c084fc": "#7e22ce", "#38bdf8": "#0369a1", "#64748b": "#475569",
              "#facc15": "#854d0e", "#f8fafc": "#0f172a", "#cbd5e1": "#334155"},
}


def text_swaps(name: str) -> str:
    """CSS giving inline text colours of the dark palette their `name` shade (not backgrounds or borders)."""
    rules = []
    for old, new in TEXT_SWAP.get(name, {}).items():
        sel = ", ".join(f'[style{op}"{pre}color:{old}"]' for op, pre in (("^=", ""), ("*=", ";"), ("*=", "; ")))
        rules.append(f"{sel} {{color:{new} !important;}}")
    return "\n".join(rules)


def variables(name: str) -> str:
    """The `--c-*` declarations of theme `name` (dark when unknown)."""
    pal = PALETTES.get(name, PALETTES["dark"])
    return " ".join(f"--c-{k}:{v};" for k, v in pal.items())


def theme_css(name: str) -> str:
    """The colour variables of `name` on screen; print always light, on a white page."""
    return (f"<style>:root {{{variables(name)}}}\n@media screen {{{text_swaps(name)}}}\n"
            f"@media print {{:root {{{variables('light')}}}\n{text_swaps('light')}\n{PRINT_CSS}}}</style>")

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'

CSS = """
<style>
.block-container {padding-top: 0.8rem !important; padding-bottom: 0.4rem !important; max-width: 100% !important;
  padding-left: 1.4rem !important; padding-right: 1.4rem !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: 0.55rem;}
.hdr {display:flex; align-items:baseline; gap:1rem; margin:0; line-height:1.2;}
.h-title {font-size:1.55rem; font-weight:700; color:var(--c-strong); letter-spacing:0.02em;}
.h-meta {font-size:1.05rem; color:var(--c-accent);}
.demo {margin-left:auto; background:#b45309; color:#fff7ed; font-weight:700; padding:2px 10px; border-radius:4px;
  font-size:0.9rem; border:1px solid #f59e0b;}
.tile-grid {display:grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap:10px;}
.tile {background:var(--c-panel); border:1px solid var(--c-line); border-top:4px solid var(--c-faint); border-radius:6px;
  padding:7px 11px 6px; min-width:0; cursor:help;}
.t-head {display:flex; justify-content:space-between; align-items:center; gap:6px;}
.t-name {font-size:0.95rem; color:var(--c-text2); white-space:nowrap; overflow:hidden; text-overflow:ellipsis;}
.t-status {font-size:0.72rem; color:var(--c-on-status); font-weight:700; padding:0 6px; border-radius:3px; white-space:nowrap;}
.t-value {font-size:1.85rem; font-weight:700; color:var(--c-strong); line-height:1.15; white-space:nowrap;
  font-variant-numeric: tabular-nums;}
.t-target {font-size:0.78rem; color:var(--c-muted); white-space:nowrap; overflow:hidden; text-overflow:ellipsis;}
.t-changes {display:flex; gap:12px; font-size:0.8rem; color:var(--c-text2); white-space:nowrap; overflow:hidden;}
.spark {width:100%; height:28px; display:block; margin:2px 0;}
.t-foot {display:flex; gap:8px; font-size:0.78rem; color:var(--c-link); white-space:nowrap; overflow:hidden;}
.t-foot .rep {color:var(--c-rep);}
.t-foot .asof {margin-left:auto; color:var(--c-faint);}
.sys-grid {display:grid; grid-template-columns: repeat(8, minmax(0, 1fr)); gap:8px;}
.sys-grid a {text-decoration:none !important;}
.sys {background:var(--c-panel); border:1px solid var(--c-line); border-left:5px solid var(--c-faint); border-radius:6px;
  padding:5px 10px;}
.sys:hover {background:var(--c-panel-hover);}
.s-name {font-size:0.9rem; color:var(--c-text); white-space:nowrap; overflow:hidden; text-overflow:ellipsis;}
.s-score {font-size:1.45rem; font-weight:700; line-height:1.15;}
/* text on the primary colour (primary buttons, multiselect chips): dark on the dark theme's light blue */
[data-testid^="stBaseButton-primary"], [data-testid^="stBaseButton-primary"] :is(p, span, div),
[data-tag], [data-tag] span, [data-tag] svg {color:var(--c-on-primary) !important;}
.s-sub {font-size:0.75rem; color:var(--c-muted); white-space:nowrap;}
.panel-title {font-size:1.0rem; font-weight:600; color:var(--c-text); margin:0 0 2px 0;}
.league {margin-bottom:6px;}
.l-title {font-size:0.9rem; color:var(--c-accent); margin-bottom:2px;}
.league table {width:100%; border-collapse:collapse; font-size:0.88rem; table-layout:fixed;}
.league td {padding:3px 4px; border-bottom:1px solid var(--c-line); color:var(--c-text); white-space:nowrap;
  overflow:hidden; text-overflow:ellipsis;}
.league td.num {width:5.2em;}
.league td.rk {color:var(--c-muted); width:2.2em; text-align:right;}
.league td.num {text-align:right; font-variant-numeric: tabular-nums;}
.league td.chg {text-align:right; width:3.2em;}
.league a {color:var(--c-text) !important; text-decoration:none;}
.league a:hover {text-decoration:underline;}
.dot {display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:6px;}
.legend {display:flex; gap:12px; font-size:0.78rem; color:var(--c-text2); flex-wrap:wrap;}
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


def inject(kiosk: bool = False, name: str = "dark") -> None:
    st.html(theme_css(name) + CSS + (KIOSK_CSS if kiosk else ""))


COOKIE = "cockpit_theme"  # the reader's last choice (not a secret: a colour preference)
# Streamlit keeps its own theme choice (its Settings menu) in localStorage under this key per page
# path, read once when the page loads; the value is "Light", "Dark" or "System".
_SYNC_JS = """<script>
(() => {
  const want = %(want)s, remember = %(remember)s, p = window.parent;
  if (remember) p.document.cookie = %(cookie)s + "=" + want.toLowerCase() + "; Path=/; Max-Age=31536000; SameSite=Lax";
  const keys = new Set(["stActiveTheme-" + p.location.pathname + "-v2"]);
  for (let i = 0; i < p.localStorage.length; i++) {
    const k = p.localStorage.key(i);
    if (k && k.startsWith("stActiveTheme-") && k.endsWith("-v2")) keys.add(k);
  }
  keys.forEach(k => p.localStorage.setItem(k, JSON.stringify(want)));
  if (new URLSearchParams(p.location.search).getAll("embed_options").some(o => o.endsWith("_theme"))) return;
  const app = p.document.querySelector('[data-testid="stApp"]');
  const rgb = app ? (getComputedStyle(app).backgroundColor.match(/[0-9.]+/g) || []).map(Number) : [];
  if (rgb.length < 3) return;
  const light = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255 > 0.5;
  if (light !== (want === "Light")) p.location.reload();  // Streamlit's widgets take the theme at load
})();
</script>"""


def _remembered() -> str | None:
    try:
        v = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser (AppTest, bare mode)
        return None
    return v if v in THEMES else None


def _shown() -> str | None:
    """The theme Streamlit's frontend is drawing (its Settings menu, or the system's preference)."""
    try:
        v = st.context.theme.type
    except Exception:  # noqa: BLE001 - no browser (AppTest, bare mode)
        return None
    return v if v in THEMES else None


def choose(lang: str, kiosk: bool) -> str:
    """The 主题 picker (in the sidebar): the URL's ?theme=, else the reader's remembered choice, else
    dark on the wall, else what the browser shows (the system's light or dark preference).

    Only a choice (the URL, the cookie, a click, the wall's dark) is ever pushed to Streamlit's frontend:
    following the browser needs no push, so a first run's guess of what it shows can never reload a page.
    """
    chosen = (kiosk or st.query_params.get("theme") in THEMES or _remembered() is not None
              or st.session_state.get("_theme_clicked", False))
    default = "dark" if kiosk else (_remembered() or _shown() or "dark")
    if not chosen:  # follow the browser on every run (its answer can be late on a session's first run)
        st.session_state["theme"] = default
        st.session_state["_url_theme"] = None
    name = urlstate.select(t("theme_label", lang), list(THEMES), "theme", default=default,
                           format_func=lambda v: t(f"theme_{v}", lang), widget="segmented",
                           on_change=_clicked)
    st.session_state["theme_name"] = name
    shown = _shown()
    if chosen and shown is not None:
        # a choice other than what the browser would show anyway is remembered in a cookie
        remember = not kiosk and name != (_remembered() or shown)
        if (shown != name or remember) and st.session_state.get("_theme_synced") != (name, shown):
            st.session_state["_theme_synced"] = (name, shown)  # once per choice and session
            _sync(name, remember=not kiosk)
    return name


def _clicked() -> None:
    st.session_state["_theme_clicked"] = True


def _sync(name: str, remember: bool) -> None:
    """Remember the choice (a cookie) and have Streamlit's frontend draw it (a reload when it differs)."""
    import streamlit.components.v1 as components

    components.html(_SYNC_JS % {"want": json.dumps(name.capitalize()), "remember": json.dumps(remember),
                                "cookie": json.dumps(COOKIE)}, height=0)


def current() -> str:
    """The theme of this session's pages (dark until the frame chose one)."""
    return st.session_state.get("theme_name", "dark")
