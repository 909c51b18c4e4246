"""Presentation mode's slides as HTML, from the same deck model as the PPTX and PDF (pack.deck).

Rendering is pure (a slide becomes one self-contained HTML block sized in viewport
units, so it fills a projector and stays readable from the back of the room; the county map is an
inline SVG of the shipped boundaries). `deck()` caches built decks for the pack and present pages, after
`pack_engine()` has had the read boundary confirm the province scope. `KEYS_JS` is the tiny same-origin script that turns arrow
keys, PageUp/PageDown and a presentation clicker into clicks on the page's hidden prev/next buttons.
"""

from __future__ import annotations

import base64
from html import escape

import streamlit as st

from metrics.engine import MetricsEngine
from pack.build import build_deck
from pack.deck import TONES, Deck, Slide, Table
from pack.freeze import get_freeze, list_freezes
from pack.map_layout import county_shapes, label_colours, map_frame, project
from pack.texts import tr
from ui import data
from ui.i18n import t


def pack_engine(lang: str) -> MetricsEngine:
    """The engine for the pack's reads, from the read boundary (the province scope only); anyone else
    is told that the pack is the province's and the page stops."""
    try:
        return data.reader().whole_province()
    except PermissionError:
        st.error(t("pack_province_only", lang), icon=":material/block:")
        st.stop()
        raise  # (st.stop raises; this keeps the type checker sure nothing returns)


def deck(period: str, lang: str, freeze_id: int | None) -> Deck:
    """The frozen deck (freeze_id) or the live one (None), for the province scope only."""
    pack_engine(lang)  # before the cache: the cached deck is shared, so the scope is checked here
    return _deck(period, lang, freeze_id)


@data.cached(shared=True, max_entries=16)
def _deck(period: str, lang: str, freeze_id: int | None) -> Deck:
    """A live deck is rebuilt when the data version moves (a frozen one too, to the same slides: its
    figures are the freeze's)."""
    eng = data.reader().whole_province()
    fz = get_freeze(eng.store.engine, freeze_id=freeze_id) if freeze_id else None
    return build_deck(eng, period, lang, fz)


def default_freeze(period: str, lang: str) -> int | None:
    """The period's latest freeze, if any (presentation mode shows frozen figures by default)."""
    found = list_freezes(pack_engine(lang).store.engine, period)
    return found[0].id if found else None

CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"], footer {display:none !important;}
.block-container {padding: 0.4rem 0.8rem 0 0.8rem !important; max-width: 100% !important;}
.st-key-pres_prev, .st-key-pres_next {position:absolute !important; left:-9999px !important; height:0; overflow:hidden;}
.pslide {background:#ffffff; color:#1f2933; width:min(98vw, calc(92vh * 16 / 9)); aspect-ratio:16/9; margin:0 auto;
  position:relative; border-top:0.9vh solid #0b4f9c; box-sizing:border-box; padding:1.6vw 2.6vw; overflow:hidden;
  font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;}
.pslide .pt {font-size:2.6vw; font-weight:700; line-height:1.2;}
.pslide .ps {font-size:1.3vw; color:#606b76; margin-bottom:1.0vw;}
.pslide .pfoot {position:absolute; bottom:0.8vw; left:2.6vw; right:2.6vw; display:flex; font-size:0.95vw; color:#606b76;}
.pslide .pfoot .pdemo {color:#c62828; font-weight:700;}
.pslide .pfoot .stamp {margin-left:auto;}
.pcover {background:#ffffff;}
.pcover .band {position:absolute; left:0; right:0; top:29%; height:35%; background:#0b4f9c; color:#fff;
  padding:2.5vw 4vw; box-sizing:border-box;}
.pcover .band .t1 {font-size:3.8vw; font-weight:700;}
.pcover .band .t2 {font-size:2.5vw; margin-top:1vw;}
.pcover .democ {position:absolute; top:10%; left:4vw; font-size:2.2vw; color:#c62828; font-weight:700;}
.pcover .meta {position:absolute; top:70%; left:4vw; font-size:1.5vw; line-height:1.6;}
.pcards {display:grid; grid-template-columns:repeat(5, 1fr); gap:0.9vw;}
.pcard {background:#f2f5f8; border-left:0.6vw solid #9e9e9e; padding:0.7vw 0.9vw; min-height:13vw;}
.pcard .l {font-size:1.15vw; font-weight:700; min-height:3vw;}
.pcard .v {font-size:2.4vw; font-weight:700; margin:0.3vw 0;}
.pcard .s {font-size:0.9vw; color:#606b76; min-height:2.2vw;}
.pcard .c {font-size:1.15vw; font-weight:700;}
.pbody {display:flex; gap:2vw; align-items:flex-start;}
.pbody > div {flex:1; min-width:0;}
.pbody > div.wide {flex:1.5;}
.ptbl td.nw {white-space:nowrap;}
.ptbl {width:100%; border-collapse:collapse;}
.ptbl th {background:#0b4f9c; color:#fff; text-align:left; padding:0.35vw 0.5vw; font-weight:700;}
.ptbl td {padding:0.3vw 0.5vw; border-bottom:1px solid #e3e8ee;}
.ptbl tr:nth-child(even) td {background:#f2f5f8;}
.ptt {font-size:1.4vw; font-weight:700; color:#0b4f9c; margin-bottom:0.4vw;}
.pbars .row {display:flex; align-items:center; gap:0.5vw; font-size:1.0vw; margin:0.25vw 0;}
.pbars .lab {width:40%; text-align:right; overflow:hidden; line-height:1.15; display:-webkit-box;
  -webkit-box-orient:vertical; -webkit-line-clamp:2; line-clamp:2;}
.pbars .track {flex:1; position:relative; height:1.5vw; background:#eef2f6;}
.pbars .bar {position:absolute; left:0; top:0; bottom:0;}
.pbars .ref {position:absolute; top:-0.2vw; bottom:-0.2vw; width:2px; background:#1f2933;}
.pbars .num {width:4vw; font-size:1.0vw;}
.pbul {font-size:1.9vw; line-height:1.5; padding-left:2.5vw;}
.pbul li {margin-bottom:1vw;}
.pmap {display:flex; gap:2vw; align-items:center;}
.pmap img {width:68%; height:auto;}
.plegend div {display:flex; align-items:center; gap:0.8vw; font-size:1.3vw; margin:0.6vw 0;}
.plegend i {display:inline-block; width:2.2vw; height:1.6vw;}
.pnote {font-size:1.1vw; color:#606b76; margin-top:0.6vw;}
.pnav {text-align:center; font-size:0.9rem; color:var(--c-muted); margin-top:0.3rem;}
</style>
"""

# Same-origin script inside st.components.v1.html: the keys act on the app page (window.parent).
KEYS_JS = """
<script>
(function () {
  const doc = window.parent.document;
  if (doc.__packKeys) { doc.removeEventListener('keydown', doc.__packKeys, true); }
  doc.__packKeys = function (e) {
    const tag = (e.target && e.target.tagName || '').toLowerCase();
    if (tag === 'input' || tag === 'textarea' || tag === 'select') return;
    let key = null;
    if (['ArrowRight', 'ArrowDown', 'PageDown', ' ', 'Enter'].includes(e.key)) key = 'pres_next';
    if (['ArrowLeft', 'ArrowUp', 'PageUp', 'Backspace'].includes(e.key)) key = 'pres_prev';
    if (e.key === 'f' || e.key === 'F5') {
      if (!doc.fullscreenElement) { doc.documentElement.requestFullscreen().catch(() => {}); }
      e.preventDefault(); return;
    }
    if (!key) return;
    const btn = doc.querySelector('.st-key-' + key + ' button');
    if (btn) { e.preventDefault(); btn.click(); }
  };
  doc.addEventListener('keydown', doc.__packKeys, true);
})();
</script>
"""


def _c(hex_: str) -> str:
    return f"#{hex_}"


def _table(t: Table, size_vw: float) -> str:
    total = sum(t.widths) or 1
    cols = "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in t.widths)
    head = "".join(f"<th>{escape(h)}</th>" for h in t.header)
    body = ""
    widest = max(range(len(t.widths)), key=lambda j: t.widths[j]) if t.widths else 0
    wrap = set(t.wrap) if t.wrap is not None else {widest}
    for row in t.rows:
        cells = ""
        for j, c in enumerate(row):
            style = f' style="color:{_c(TONES[c.tone])};font-weight:700"' if c.tone in ("red", "green", "up", "down") \
                else (f' style="color:{_c(TONES[c.tone])}"' if c.tone in TONES else "")
            nw = "" if j in wrap else ' class="nw"'
            cells += f"<td{nw}{style}>{escape(c.text)}</td>"
        body += f"<tr>{cells}</tr>"
    title = f'<div class="ptt">{escape(t.title)}</div>' if t.title else ""
    return (f'{title}<table class="ptbl" style="font-size:{size_vw}vw"><colgroup>{cols}</colgroup>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _size(t: Table, n_tables: int) -> float:
    n = len(t.rows) + 1
    base = 1.35 if n_tables == 1 else 1.15
    return base if n <= 9 else base * 0.86 if n <= 12 else base * 0.75


def _bars(s: Slide) -> str:
    b = s.bars
    assert b is not None
    rows = ""
    for label, v, tone in zip(b.labels, b.values, b.tones, strict=True):
        w = 0 if v is None else max(v, 0) / 1.3 * 100
        rows += (f'<div class="row"><span class="lab">{escape(label)}</span><span class="track">'
                 f'<span class="bar" style="width:{w:.1f}%;background:{_c(TONES.get(tone, "607D8B"))}"></span>'
                 f'<span class="ref" style="left:{100 / 1.3:.1f}%"></span></span>'
                 f'<span class="num">{"—" if v is None else f"{v:.0%}"}</span></div>')
    return f'<div class="pbars">{rows}</div>'


def map_svg(s: Slide, width: float = 640, height: float = 420) -> str:
    m = s.map
    assert m is not None
    frame = map_frame(width, height)
    paths = []
    shapes = county_shapes()
    for code, rings in shapes.items():
        d = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (project(p, frame) for p in ring)) + " Z"
                     for ring in rings)
        paths.append(f'<path d="{d}" fill="{_c(m.fills.get(code, "CFD8DC"))}" stroke="#fff" stroke-width="0.6"/>')
    labels = []
    for code, label in m.labels.items():
        ring = max(shapes.get(code, [[]]), key=len)
        if not ring:
            continue
        x, y = project((sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)), frame)
        ink, outline = label_colours(m.fills.get(code, "CFD8DC"))  # light on dark fills, dark on light ones
        labels.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" font-weight="700" text-anchor="middle" '
                      f'font-family="Noto Sans CJK SC, Microsoft YaHei, sans-serif" data-region="{escape(code)}" '
                      f'fill="#{ink}" stroke="#{outline}" stroke-width="2.5" paint-order="stroke">{escape(label)}</text>')
    return (f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img">'
            f'{"".join(paths)}{"".join(labels)}</svg>')


def slide_html(deck: Deck, index: int) -> str:
    """Slide `index` (0-based) as one HTML block."""
    s = deck.slides[index]
    n, of = index + 1, len(deck.slides)
    demo = f'<span class="pdemo">{escape(deck.demo_label)}</span>' if deck.is_demo else ""
    if s.key == "cover":
        democ = f'<div class="democ">{escape(deck.demo_label)}</div>' if deck.is_demo else ""
        return (f'<div class="pslide pcover" data-testid="pack-slide" data-slide="{n}">{democ}<div class="band">'
                f'<div class="t1">{escape(s.title)}</div><div class="t2">{escape(s.subtitle)}</div></div>'
                f'<div class="meta">{"<br>".join(escape(b) for b in s.bullets)}</div></div>')
    body = ""
    if s.cards:
        cards = ""
        for c in s.cards:
            cards += (f'<div class="pcard" style="border-left-color:{_c(TONES.get(c.tone, "9E9E9E"))}">'
                      f'<div class="l">{escape(c.label)}</div>'
                      f'<div class="v" style="color:{_c(TONES.get(c.tone, "1F2933"))}">{escape(c.value)}</div>'
                      f'<div class="s">{escape(c.sub)}</div>'
                      f'<div class="c" style="color:{_c(TONES.get(c.change.tone or "muted", "607D8B"))}">'
                      f"{escape(c.change.text)}</div></div>")
        body += f'<div class="pcards">{cards}</div>'
    if s.tables:
        wide = ' class="wide"' if s.bars is not None else ""
        parts = [f"<div{wide}>{_table(t, _size(t, len(s.tables) + (s.bars is not None)))}</div>" for t in s.tables]
        if s.bars is not None:
            parts.append(f"<div>{_bars(s)}</div>")
        body += f'<div class="pbody">{"".join(parts)}</div>'
    if s.map is not None:
        legend = "".join(f'<div><i style="background:{_c(c)}"></i>{escape(label)}</div>' for c, label in s.map.legend)
        svg = base64.b64encode(map_svg(s).encode("utf-8")).decode("ascii")  # st.html strips inline SVG
        body += (f'<div class="pmap"><img alt="map" src="data:image/svg+xml;base64,{svg}">'
                 f'<div class="plegend">{legend}</div></div>')
    if s.bullets:
        body += '<ol class="pbul">' + "".join(f"<li>{escape(b)}</li>" for b in s.bullets) + "</ol>"
    if s.footnote:
        body += f'<div class="pnote">{escape(s.footnote)}</div>'
    foot = (f'<div class="pfoot">{demo}<span class="stamp">{escape(deck.stamp)} · '
            f'{escape(tr("pack_page", deck.lang, n=n, of=of))}</span></div>')
    return (f'<div class="pslide" data-testid="pack-slide" data-slide="{n}"><div class="pt">{escape(s.title)}</div>'
            f'<div class="ps">{escape(s.subtitle)}</div>{body}{foot}</div>')
