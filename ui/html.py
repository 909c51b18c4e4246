"""HTML fragments for dense, fast elements (tiles, league tables): no JavaScript, inline SVG.

All text is escaped here; pages pass the result to st.html.
"""

from __future__ import annotations

import base64
import re
from html import escape

from ui import fmt
from ui.i18n import t
from ui.tile_model import SystemScore, Tile


def sparkline(values: list[float | None], colour: str = "#38bdf8", w: int = 150, h: int = 30) -> str:
    """A 12-month sparkline: an SVG polyline (gaps where a month is missing) as a data: image.

    st.html sanitises inline <svg>, an <img> with a data: URI passes and needs no request.
    """
    svg = sparkline_svg(values, colour, w, h)
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return f'<img class="spark" alt="" src="{uri}" />'


def sparkline_svg(values: list[float | None], colour: str = "#38bdf8", w: int = 150, h: int = 30) -> str:
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"></svg>'
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = hi - lo or abs(hi) or 1.0
    n = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{2 + i * (w - 4) / n:.1f},{h - 3 - (v - lo) / span * (h - 6):.1f}"

    segs, cur = [], []
    for i, v in enumerate(values):
        if v is None:
            if cur:
                segs.append(cur)
            cur = []
        else:
            cur.append(xy(i, v))
    if cur:
        segs.append(cur)
    lines = "".join(
        f'<polyline points="{" ".join(s)}" fill="none" stroke="{colour}" stroke-width="1.8" />' for s in segs
    )
    li, lv = pts[-1]
    end = xy(li, lv).split(",")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            'preserveAspectRatio="none">'
            f'{lines}<circle cx="{end[0]}" cy="{end[1]}" r="2.5" fill="{colour}" /></svg>')


def tile(tl: Tile, lang: str) -> str:
    colour = fmt.STATUS_COLOURS.get(tl.status, "#64748b")
    mom_g, mom_c, mom_t = tl.mom
    yoy_g, yoy_c, yoy_t = tl.yoy
    reported = f'<span class="rep">{escape(tl.reported)}</span>' if tl.reported else ""
    return f"""
<div class="tile" title="{escape(tl.tooltip)}" data-kpi="{escape(tl.kpi)}" style="border-top-color:{colour}">
  <div class="t-head"><span class="t-name">{escape(tl.name)}</span>
    <span class="t-status" style="background:{colour}">{escape(fmt.status_label(tl.status, lang))}</span></div>
  <div class="t-main"><div class="t-value">{escape(tl.value)}</div>{sparkline(tl.spark, colour)}</div>
  <div class="t-target">{escape(tl.target)} · {escape(t('attainment', lang))} {escape(tl.attainment)}</div>
  <div class="t-changes">
    <span>{escape(t('mom', lang))} <b style="color:{mom_c}">{mom_g}</b> {escape(mom_t)}</span>
    <span>{escape(t('yoy', lang))} <b style="color:{yoy_c}">{yoy_g}</b> {escape(yoy_t)}</span>
  </div>
  <div class="t-foot"><span>{escape(tl.rank)}</span>{reported}<span class="asof">ⓘ {escape(tl.as_of)}</span></div>
</div>"""


def tile_grid(tiles: list[Tile], lang: str) -> str:
    return '<div class="tile-grid">' + "".join(tile(x, lang) for x in tiles) + "</div>"


def system_tile(s: SystemScore, lang: str) -> str:
    colour = fmt.STATUS_COLOURS.get(s.status, "#64748b")
    score = "—" if s.score is None else f"{s.score * 100:.1f}"
    return f"""
<div class="sys" title="{escape(t('score_tip', lang))}" style="border-left-color:{colour}">
  <div class="s-name">{escape(s.name)}</div>
  <div class="s-score" style="color:{colour}">{score}</div>
  <div class="s-sub">{escape(s.share or t('green_share', lang, n=s.n_green, of=s.n_target))}</div>
</div>"""


def league(title: str, rows: list[dict], link_params: str, lang: str) -> str:
    """A compact ranked list; each county links to its profile (same app, shareable URL)."""
    body = []
    for r in rows:
        c = fmt.STATUS_COLOURS.get(r["status"], "#64748b")
        href = f"county?county={r['region']}&{link_params}"
        body.append(
            f'<tr><td class="rk">{r["rank"]}</td>'
            f'<td><span class="dot" style="background:{c}"></span><a href="{escape(href)}" target="_self">{escape(r["name"])}</a></td>'
            f'<td class="num">{escape(r["value"])}</td>'
            f'<td class="chg" style="color:{r["change_colour"]}">{escape(r["change"])}</td></tr>'
        )
    return (f'<div class="league"><div class="l-title">{escape(title)}</div><table>'
            + "".join(body) + "</table></div>")


def legend(items: list[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{c}"></i>{escape(label)}</span>' for label, c in items
    ) + "</div>"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def md(text: object) -> str:
    """People's text (file names, submitters) inside st.caption/markdown/alerts, shown literally.

    Markdown is not HTML, but `![](http://host/x.png)` in a file name would still load an image from
    elsewhere and `[x](...)` would make a link: every markdown character is backslash-escaped.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
