"""The deck as PPTX (python-pptx): editable text boxes and tables, attainment bars as native charts
(editable, crisp, recoloured by status), the county map as native freeform shapes drawn from the
shipped boundaries (vector, no image renderer or browser needed).

Fonts: PowerPoint cannot be made to carry a CJK font reliably (python-pptx cannot embed fonts, and
embedded fonts are ignored by several viewers), so every run names a Latin font and an East Asian
font that Office installs on Windows and macOS (Microsoft YaHei); LibreOffice and other viewers
substitute their own CJK font for it through the `ea` slot instead of showing boxes.
"""

from __future__ import annotations

import io

from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from pack.deck import TONES, Card, Deck, Slide, Table
from pack.fitting import fit_size, fit_table, footnote_fit, office_width
from pack.map_layout import county_shapes, map_frame, map_labels, project
from pack.texts import tr

LATIN, EA = "Arial", "Microsoft YaHei"
EMU_PT = 12700
W, H = Inches(13.333), Inches(7.5)
INK, GREY, BRAND, LIGHT = RGBColor(0x1F, 0x29, 0x33), RGBColor(0x60, 0x6B, 0x76), RGBColor(0x0B, 0x4F, 0x9C), \
    RGBColor(0xF2, 0xF5, 0xF8)


def _rgb(hex_: str) -> RGBColor:
    return RGBColor.from_string(hex_)


def _font(run, size: float, bold: bool = False, colour: RGBColor | None = None) -> None:
    f = run.font
    f.size, f.bold, f.name = Pt(size), bold, LATIN
    if colour is not None:
        f.color.rgb = colour
    rpr = run._r.get_or_add_rPr()
    for tag, face in (("a:ea", EA), ("a:cs", EA)):
        el = rpr.find(qn(tag))
        if el is None:
            el = etree.SubElement(rpr, qn(tag))
        el.set("typeface", face)


def _text(slide, x, y, w, h, text: str, size: float, bold: bool = False, colour: RGBColor = INK,
          align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP) -> None:
    tb = slide.shapes.add_textbox(x, y, w, h)
    tf = tb.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = anchor
    tf.margin_left = tf.margin_right = Inches(0.05)
    for i, line in enumerate(text.split("\n")):
        para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        para.alignment = align
        run = para.add_run()
        run.text = line
        _font(run, size, bold, colour)


def _frame(slide, deck: Deck, s: Slide, n: int, of: int) -> None:
    bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, W, Inches(0.12))
    bar.fill.solid()
    bar.fill.fore_color.rgb = BRAND
    bar.line.fill.background()
    _text(slide, Inches(0.5), Inches(0.25), Inches(12.3), Inches(0.7), s.title, 30, True)
    if s.subtitle:
        _text(slide, Inches(0.5), Inches(0.9), Inches(12.3), Inches(0.45), s.subtitle, 16, colour=GREY)
    foot = f"{deck.stamp} · {tr('pack_page', deck.lang, n=n, of=of)}"
    _text(slide, Inches(5.0), Inches(7.0), Inches(7.9), Inches(0.4), foot, 11, colour=GREY, align=PP_ALIGN.RIGHT)
    if deck.is_demo:
        _text(slide, Inches(0.5), Inches(7.0), Inches(4.5), Inches(0.4), deck.demo_label, 12, True, _rgb("C62828"))


def _cover(slide, deck: Deck, s: Slide) -> None:
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, Inches(2.2), W, Inches(2.6))
    band.fill.solid()
    band.fill.fore_color.rgb = BRAND
    band.line.fill.background()
    white = RGBColor(0xFF, 0xFF, 0xFF)
    _text(slide, Inches(0.8), Inches(2.45), Inches(11.7), Inches(1.2), s.title, 44, True, white)
    _text(slide, Inches(0.8), Inches(3.65), Inches(11.7), Inches(0.9), s.subtitle, 30, colour=white)
    _text(slide, Inches(0.8), Inches(5.2), Inches(11.7), Inches(1.2), "\n".join(s.bullets), 18, colour=INK)
    if deck.is_demo:
        _text(slide, Inches(0.8), Inches(1.1), Inches(11.7), Inches(0.8), deck.demo_label, 26, True, _rgb("C62828"))


def _cards(slide, cards: list[Card]) -> None:
    cols = 5
    cw, ch, gx, gy = Inches(2.38), Inches(2.35), Inches(0.12), Inches(0.2)  # two rows end at 6.4 in: room for a note
    x0, y0 = Inches(0.5), Inches(1.5)
    for i, c in enumerate(cards[:10]):
        x, y = x0 + (cw + gx) * (i % cols), y0 + (ch + gy) * (i // cols)
        box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, x, y, cw, ch)
        box.fill.solid()
        box.fill.fore_color.rgb = LIGHT
        box.line.fill.background()
        edge = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, x, y, Inches(0.1), ch)
        edge.fill.solid()
        edge.fill.fore_color.rgb = _rgb(TONES.get(c.tone, "9E9E9E"))
        edge.line.fill.background()
        ix, iw = x + Inches(0.18), cw - Inches(0.25)
        wpt = (iw - Inches(0.1)) / EMU_PT
        wide = _wide
        _text(slide, ix, y + Inches(0.1), iw, Inches(0.68), c.label, fit_size(c.label, wpt, 15, 11, 2, wide), True)
        _text(slide, ix, y + Inches(0.8), iw, Inches(0.62), c.value, fit_size(c.value, wpt, 28, 16, 1, wide), True,
              _rgb(TONES.get(c.tone, "1F2933")), anchor=MSO_ANCHOR.MIDDLE)
        _text(slide, ix, y + Inches(1.45), iw, Inches(0.45), c.sub, fit_size(c.sub, wpt, 11, 8, 2, wide), colour=GREY)
        _text(slide, ix, y + Inches(1.9), iw, Inches(0.36), c.change.text, fit_size(c.change.text, wpt, 14, 10, 1, wide),
              True, _rgb(TONES.get(c.change.tone or "muted", "607D8B")))


def _table(slide, t: Table, x, y, w, max_h) -> None:
    n = len(t.rows) + 1
    if t.title:
        _text(slide, x, y, w, Inches(0.45), t.title, fit_size(t.title, w / EMU_PT - 8, 18, 11, 1, _wide), True, BRAND)
        y += Inches(0.5)
        max_h -= Inches(0.5)
    # the viewer's substitute CJK font is unknown (LibreOffice sets a little wider than Office): a margin
    size, heights, rel = fit_table(t, w / EMU_PT, max_h / EMU_PT, measure=_wide, pad=CELL_PAD, line=LINE)
    shape = slide.shapes.add_table(n, len(t.header), x, y, w, Emu(int(sum(heights) * EMU_PT)))
    tbl = shape.table
    for j, wj in enumerate(rel):
        tbl.columns[j].width = Emu(int(w * wj))
    for tr_, h in zip(tbl._tbl.tr_lst, heights, strict=True):  # set directly: python-pptx re-lays out per row
        tr_.h = Emu(int(h * EMU_PT))
    for j, h in enumerate(t.header):
        cell = tbl.cell(0, j)
        cell.fill.solid()
        cell.fill.fore_color.rgb = BRAND
        _cell(cell, h, size, True, RGBColor(0xFF, 0xFF, 0xFF))
    for i, row in enumerate(t.rows, start=1):
        for j, c in enumerate(row):
            cell = tbl.cell(i, j)
            cell.fill.solid()
            cell.fill.fore_color.rgb = LIGHT if i % 2 == 0 else RGBColor(0xFF, 0xFF, 0xFF)
            colour = _rgb(TONES[c.tone]) if c.tone in TONES else INK
            _cell(cell, c.text, size, c.tone in ("red", "green", "up", "down"), colour)


CELL_PAD = 16.0  # points of a cell's width not available to text: margins 2 x 0.06 in, plus the renderer's own


def _wide(text: str, size: float) -> float:
    return office_width(text, size)


LINE = 1.5  # line height in ems: LibreOffice sets the substitute CJK font (Noto Sans CJK) with its tall metrics


def _cell(cell, text: str, size: float, bold: bool, colour: RGBColor) -> None:
    cell.margin_left = cell.margin_right = Inches(0.06)
    cell.margin_top = cell.margin_bottom = Inches(0.02)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    tf = cell.text_frame
    tf.word_wrap = True
    para = tf.paragraphs[0]
    run = para.add_run()
    run.text = text
    _font(run, size, bold, colour)


def _bars(slide, s: Slide, x, y, w, h) -> None:
    b = s.bars
    assert b is not None
    data = CategoryChartData()
    data.categories = list(reversed(b.labels))
    data.add_series("attainment", [None if v is None else round(v, 4) for v in reversed(b.values)])
    gf = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, x, y, w, h, data)
    chart = gf.chart
    chart.has_legend = False
    chart.has_title = False
    chart.font.size = Pt(12)
    chart.font.name = LATIN
    plot = chart.plots[0]
    plot.gap_width = 60
    plot.has_data_labels = True
    dl = plot.data_labels
    dl.number_format, dl.number_format_is_linked, dl.position = "0%", False, XL_LABEL_POSITION.OUTSIDE_END
    dl.font.size = Pt(12)
    ca = chart.category_axis
    ca.tick_labels.font.size = Pt(12 if len(b.labels) <= 9 else 10)
    skip = etree.SubElement(ca._element, qn("c:tickLblSkip"))  # every label: viewers skip some otherwise
    skip.set("val", "1")
    va = chart.value_axis
    va.minimum_scale, va.maximum_scale = 0, 1.3
    va.has_major_gridlines = True
    va.tick_labels.number_format, va.tick_labels.number_format_is_linked = "0%", False
    va.major_unit = 0.25
    for i, tone in enumerate(reversed(b.tones)):
        pt = plot.series[0].points[i]
        pt.format.fill.solid()
        pt.format.fill.fore_color.rgb = _rgb(TONES.get(tone, "607D8B"))
    # East Asian font for the category labels (chart text properties)
    txpr = chart._chartSpace.find(qn("c:txPr"))
    if txpr is not None:
        for rpr in txpr.iter(qn("a:defRPr")):
            ea = etree.SubElement(rpr, qn("a:ea"))
            ea.set("typeface", EA)


def _polygon(slide, pts: list[tuple[int, int]]):
    """A closed freeform polygon (custGeom written directly: python-pptx's builder is quadratic in points)."""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x, y, cx, cy = min(xs), min(ys), max(max(xs) - min(xs), 1), max(max(ys) - min(ys), 1)
    shp = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, x, y, cx, cy)
    sp_pr = shp._element.spPr
    prst = sp_pr.find(qn("a:prstGeom"))
    moves = "".join(f'<a:lnTo><a:pt x="{px - x}" y="{py - y}"/></a:lnTo>' for px, py in pts[1:])
    geom = etree.fromstring(
        f'<a:custGeom xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:avLst/><a:gdLst/>'
        f'<a:ahLst/><a:cxnLst/><a:rect l="0" t="0" r="r" b="b"/><a:pathLst><a:path w="{cx}" h="{cy}">'
        f'<a:moveTo><a:pt x="{pts[0][0] - x}" y="{pts[0][1] - y}"/></a:moveTo>{moves}<a:close/></a:path>'
        f'</a:pathLst></a:custGeom>')
    prst.addprevious(geom)
    sp_pr.remove(prst)
    return shp


LABEL_PT = 11


def _map(slide, s: Slide, x0, y0, w, h) -> None:
    m = s.map
    assert m is not None
    frame = map_frame(float(w), float(h))
    for code, rings in county_shapes().items():
        colour = m.fills.get(code, "CFD8DC")
        for ring in rings:
            shp = _polygon(slide, [(int(x0 + px), int(y0 + py)) for px, py in (project(p, frame) for p in ring)])
            shp.fill.solid()
            shp.fill.fore_color.rgb = _rgb(colour)
            shp.line.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
            shp.line.width = Pt(0.5)
    for label, lx_, ly_, lw, lh in map_labels(m, frame, LABEL_PT, EMU_PT, _wide):
        # a white tag with a dark edge: readable on any fill, placed so no two tags overlap
        tb = slide.shapes.add_textbox(int(x0 + lx_), int(y0 + ly_), int(lw), int(lh))
        tb.fill.solid()
        tb.fill.fore_color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        tb.line.color.rgb = INK
        tb.line.width = Pt(0.75)
        tf = tb.text_frame
        tf.word_wrap = True  # a fixed box (an unwrapped one grows to hug the text in LibreOffice), sized with room
        tf.auto_size = MSO_AUTO_SIZE.NONE
        tf.vertical_anchor = MSO_ANCHOR.MIDDLE
        tf.margin_left = tf.margin_right = tf.margin_top = tf.margin_bottom = 0
        para = tf.paragraphs[0]
        para.alignment = PP_ALIGN.CENTER
        run = para.add_run()
        run.text = label
        _font(run, LABEL_PT, True, INK)
    lx, ly = Inches(10.2), Inches(2.0)
    for i, (colour, label) in enumerate(m.legend):
        sw = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, lx, ly + Inches(0.55) * i, Inches(0.45), Inches(0.4))
        sw.fill.solid()
        sw.fill.fore_color.rgb = _rgb(colour)
        sw.line.fill.background()
        _text(slide, lx + Inches(0.6), ly + Inches(0.55) * i, Inches(2.4), Inches(0.4), label, 16,
              anchor=MSO_ANCHOR.MIDDLE)


def _bullets(slide, items: list[str]) -> None:
    tb = slide.shapes.add_textbox(Inches(0.8), Inches(1.6), Inches(11.8), Inches(5.2))
    tf = tb.text_frame
    tf.word_wrap = True
    for i, line in enumerate(items):
        para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        para.space_after = Pt(14)
        run = para.add_run()
        run.text = f"{i + 1}. {line}"
        _font(run, 24)


def render(deck: Deck) -> bytes:
    """PPTX bytes for the deck."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = W, H
    blank = prs.slide_layouts[6]
    prs.core_properties.title = f"{deck.title} {deck.period}"
    prs.core_properties.subject = deck.stamp
    of = len(deck.slides)
    for n, s in enumerate(deck.slides, start=1):
        slide = prs.slides.add_slide(blank)
        if s.key == "cover":
            _cover(slide, deck, s)
            continue
        _frame(slide, deck, s, n, of)
        top, left, full_w, body_h = Inches(1.45), Inches(0.5), Inches(12.33), Inches(5.45)
        foot_size, foot_h = footnote_fit(s.footnote, full_w / EMU_PT, _wide) if s.footnote else (0, 0)
        foot = Emu(int((foot_h + 6) * EMU_PT)) if s.footnote else 0
        if s.cards:
            _cards(slide, s.cards)
        if s.tables and s.bars is not None:
            _table(slide, s.tables[0], left, top, Inches(7.6), body_h - foot)
            _bars(slide, s, Inches(8.3), top, Inches(4.6), body_h - foot)
        elif len(s.tables) == 2:
            gap = Inches(0.33)
            first = Emu(int((full_w - gap) * s.split))
            _table(slide, s.tables[0], left, top, first, body_h - foot)
            _table(slide, s.tables[1], left + first + gap, top, Emu(int(full_w - gap - first)), body_h - foot)
        elif s.tables:
            _table(slide, s.tables[0], left, top, full_w, body_h - foot)
        if s.map is not None:
            _map(slide, s, Inches(0.8), Inches(1.45), Inches(9.0), body_h - foot)
        if s.bullets:
            _bullets(slide, s.bullets)
        if s.footnote:
            _text(slide, left, top + body_h - Emu(int(foot_h * EMU_PT)), full_w, Emu(int(foot_h * EMU_PT)),
                  s.footnote, foot_size, colour=GREY)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()
