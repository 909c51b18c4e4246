"""The deck as PDF (fpdf2): the same layout as the PPTX, in points on a 16:9 page (960 x 540 pt).

The CJK font is embedded (subset) from Debian's fonts-noto-cjk (Noto Sans CJK SC, face 2 of the
.ttc collection, which fpdf2 reads directly), so the PDF shows Chinese on any machine. Charts and the
county map are vector paths (crisp when projected or printed).
"""

from __future__ import annotations

import os
from pathlib import Path

from fpdf import FPDF

from pack.deck import TONES, Card, Deck, Slide, Table
from pack.fitting import fit_size, fit_table, footnote_fit, tokens
from pack.map_layout import county_shapes, map_frame, map_labels, project
from pack.texts import tr

FONT_DIR = Path(os.environ.get("COCKPIT_CJK_FONT_DIR", "/usr/share/fonts/opentype/noto"))
FONT_FACE = 2  # Noto Sans CJK SC inside NotoSansCJK-*.ttc
PAGE_W, PAGE_H = 960.0, 540.0
INK, GREY, BRAND, LIGHT, WHITE = "1F2933", "606B76", "0B4F9C", "F2F5F8", "FFFFFF"


class FontMissing(RuntimeError):
    """The CJK font is not installed (apt-get install fonts-noto-cjk)."""


def _rgb(hex_: str) -> tuple[int, int, int]:
    return int(hex_[0:2], 16), int(hex_[2:4], 16), int(hex_[4:6], 16)


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="pt", format=(PAGE_H, PAGE_W))
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.c_margin = 3
        reg, bold = FONT_DIR / "NotoSansCJK-Regular.ttc", FONT_DIR / "NotoSansCJK-Bold.ttc"
        if not reg.exists():
            raise FontMissing(f"{reg} not found: install fonts-noto-cjk or set COCKPIT_CJK_FONT_DIR")
        self.add_font("cjk", "", str(reg), collection_font_number=FONT_FACE)
        self.add_font("cjk", "B", str(bold if bold.exists() else reg), collection_font_number=FONT_FACE)

    def measure(self, text: str, size: float) -> float:
        self.set_font("cjk", "B", size)  # bold is the wider face: a safe estimate for every cell
        return self.get_string_width(text)

    def fill(self, hex_: str) -> None:
        self.set_fill_color(*_rgb(hex_))

    def ink(self, hex_: str) -> None:
        self.set_text_color(*_rgb(hex_))

    def box(self, x: float, y: float, w: float, h: float, hex_: str) -> None:
        self.fill(hex_)
        self.rect(x, y, w, h, style="F")

    def lines_of(self, text: str, w: float) -> list[str]:
        """Lines of `text` in width w with the current font: breaks only between tokens (words, numbers,
        dates, CJK characters), as pack.fitting.fit_table assumes; a token wider than w alone is split."""
        out: list[str] = []
        for para in text.split("\n"):
            line, gap = "", ""
            for tok, spaced in tokens(para):
                cand = line + gap + tok
                if line and self.get_string_width(cand) > w:
                    out.append(line)
                    cand = tok
                while self.get_string_width(cand) > w and len(cand) > 1:  # only when nothing else fits
                    k = len(cand)
                    while k > 1 and self.get_string_width(cand[:k]) > w:
                        k -= 1
                    out.append(cand[:k])
                    cand = cand[k:]
                line, gap = cand, " " if spaced else ""
            out.append(line)
        return out

    def text_at(self, x: float, y: float, w: float, h: float, text: str, size: float, bold: bool = False,
                colour: str = INK, align: str = "L", valign: str = "T") -> None:
        self.set_font("cjk", "B" if bold else "", size)
        self.ink(colour)
        lh = size * 1.25
        inner = w - 2 * self.c_margin
        lines = self.lines_of(text, inner)
        n = max(len(lines), 1)
        top = y if valign == "T" else y + max((h - n * lh) / 2, 0)
        for i, line in enumerate(lines):
            self.set_xy(x, top + i * lh)
            self.cell(w, lh, line, align=align)
        self.set_xy(x, top + n * lh)


def _frame(pdf: _Pdf, deck: Deck, s: Slide, n: int, of: int) -> None:
    pdf.box(0, 0, PAGE_W, 8.6, BRAND)
    pdf.text_at(36, 20, 886, 44, s.title, 30, True)
    if s.subtitle:
        pdf.text_at(36, 66, 886, 26, s.subtitle, 16, colour=GREY)
    foot = f"{deck.stamp} · {tr('pack_page', deck.lang, n=n, of=of)}"
    pdf.text_at(360, 508, 570, 20, foot, 11, colour=GREY, align="R")
    if deck.is_demo:
        pdf.text_at(36, 507, 320, 20, deck.demo_label, 12, True, "C62828")


def _cover(pdf: _Pdf, deck: Deck, s: Slide) -> None:
    pdf.box(0, 158, PAGE_W, 187, BRAND)
    pdf.text_at(58, 178, 842, 70, s.title, 44, True, WHITE)
    pdf.text_at(58, 262, 842, 50, s.subtitle, 30, colour=WHITE)
    pdf.text_at(58, 375, 842, 80, "\n".join(s.bullets), 18)
    if deck.is_demo:
        pdf.text_at(58, 80, 842, 40, deck.demo_label, 26, True, "C62828")


def _cards(pdf: _Pdf, cards: list[Card]) -> None:
    cw, ch, gx, gy, x0, y0 = 171.4, 169.2, 8.6, 14.4, 36.0, 108.0  # two rows end at 461 pt: room for a note
    for i, c in enumerate(cards[:10]):
        x, y = x0 + (cw + gx) * (i % 5), y0 + (ch + gy) * (i // 5)
        pdf.box(x, y, cw, ch, LIGHT)
        pdf.box(x, y, 7.2, ch, TONES.get(c.tone, "9E9E9E"))
        ix, iw = x + 13, cw - 18
        tw = iw - 2 * pdf.c_margin
        pdf.text_at(ix, y + 8, iw, 48, c.label, fit_size(c.label, tw, 15, 11, 2, pdf.measure), True)
        pdf.text_at(ix, y + 58, iw, 44, c.value, fit_size(c.value, tw, 28, 16, 1, pdf.measure), True,
                    TONES.get(c.tone, INK), valign="M")
        pdf.text_at(ix, y + 104, iw, 32, c.sub, fit_size(c.sub, tw, 11, 8, 2, pdf.measure), colour=GREY)
        pdf.text_at(ix, y + 138, iw, 24, c.change.text, fit_size(c.change.text, tw, 14, 10, 1, pdf.measure), True,
                    TONES.get(c.change.tone or "muted", GREY))


def _table(pdf: _Pdf, t: Table, x: float, y: float, w: float, max_h: float) -> None:
    if t.title:
        pdf.text_at(x, y, w, 30, t.title, fit_size(t.title, w - 2 * pdf.c_margin, 18, 11, 1, pdf.measure), True, BRAND)
        y += 36
        max_h -= 36
    size, heights, rel = fit_table(t, w, max_h, measure=pdf.measure, pad=4 + 2 * pdf.c_margin + 2)
    cols = [w * c for c in rel]
    rows = [[(h, "header") for h in t.header]] + [[(c.text, c.tone) for c in r] for r in t.rows]
    for i, (row, h) in enumerate(zip(rows, heights, strict=True)):
        bg = BRAND if i == 0 else (LIGHT if i % 2 == 0 else WHITE)
        pdf.box(x, y, w, h, bg)
        cx = x
        for (text, tone), cw in zip(row, cols, strict=False):
            colour = WHITE if tone == "header" else TONES.get(tone or "", INK)
            bold = tone in ("header", "red", "green", "up", "down")
            pdf.text_at(cx + 2, y, cw - 4, h, text, size, bold, colour, valign="M")
            cx += cw
        y += h


def _bars(pdf: _Pdf, s: Slide, x: float, y: float, w: float, h: float) -> None:
    b = s.bars
    assert b is not None
    n = len(b.labels)
    label_w, top_pad, axis_h = w * 0.42, 6.0, 22.0
    plot_x, plot_w = x + label_w, w - label_w - 34
    slot = (h - top_pad - axis_h) / max(n, 1)
    size = max(min(slot * 0.45, 12.0), 7.0)
    scale = plot_w / 1.3
    pdf.set_draw_color(*_rgb("CFD8DC"))
    pdf.set_line_width(0.5)
    for tick in (0, 0.25, 0.5, 0.75, 1.0, 1.25):
        gx = plot_x + tick * scale
        pdf.line(gx, y + top_pad, gx, y + h - axis_h)
        pdf.text_at(gx - 20, y + h - axis_h + 3, 40, 14, f"{tick:.0%}", 9, colour=GREY, align="C")
    pdf.set_draw_color(*_rgb(INK))
    pdf.set_line_width(1.2)
    pdf.line(plot_x + scale, y + top_pad, plot_x + scale, y + h - axis_h)  # the 100% target line
    for i, (label, v, tone) in enumerate(zip(b.labels, b.values, b.tones, strict=True)):
        by = y + top_pad + slot * i
        # as large as fits the label's slot: two lines when there is room for them, else one
        lines = 2 if slot >= 2 * size * 1.25 else 1
        fs = fit_size(label, label_w - 6 - 2 * pdf.c_margin, size, 5, lines, pdf.measure)
        pdf.text_at(x, by, label_w - 6, slot, label, fs, colour=INK, align="R", valign="M")
        if v is None:
            continue
        pdf.box(plot_x, by + slot * 0.18, max(v, 0) * scale, slot * 0.64, TONES.get(tone, "607D8B"))
        pdf.text_at(plot_x + max(v, 0) * scale + 3, by, 40, slot, f"{v:.0%}", size, colour=INK, valign="M")


def _map(pdf: _Pdf, s: Slide, x0: float, y0: float, w: float, h: float) -> None:
    m = s.map
    assert m is not None
    frame = map_frame(w, h)
    pdf.set_draw_color(255, 255, 255)
    pdf.set_line_width(0.5)
    shapes = county_shapes()
    for code, rings in shapes.items():
        pdf.fill(m.fills.get(code, "CFD8DC"))
        for ring in rings:
            pts = [(x0 + px, y0 + py) for px, py in (project(p, frame) for p in ring)]
            pdf.polygon(pts, style="DF")
    pdf.set_draw_color(*_rgb(INK))
    pdf.set_line_width(0.75)
    for label, lx_, ly_, lw, lh in map_labels(m, frame, 11, 1.0, pdf.measure):
        # a white tag with a dark edge: readable on any fill, placed so no two tags overlap
        pdf.fill(WHITE)
        pdf.rect(x0 + lx_, y0 + ly_, lw, lh, style="DF")
        pdf.text_at(x0 + lx_, y0 + ly_, lw, lh, label, 11, True, INK, align="C", valign="M")
    lx, ly = 734.0, 144.0
    for i, (colour, label) in enumerate(m.legend):
        pdf.box(lx, ly + 40 * i, 32, 29, colour)
        pdf.text_at(lx + 43, ly + 40 * i, 170, 29, label, 16, valign="M")


def _bullets(pdf: _Pdf, items: list[str]) -> None:
    y = 118.0
    for i, line in enumerate(items):
        pdf.text_at(58, y, 850, 200, f"{i + 1}. {line}", 24)
        y = pdf.get_y() + 14


def render(deck: Deck) -> bytes:
    """PDF bytes for the deck."""
    pdf = _Pdf()
    pdf.set_title(f"{deck.title} {deck.period}")
    pdf.set_subject(deck.stamp)
    pdf.set_creator("cockpit pack")
    of = len(deck.slides)
    for n, s in enumerate(deck.slides, start=1):
        pdf.add_page()
        if s.key == "cover":
            _cover(pdf, deck, s)
            continue
        _frame(pdf, deck, s, n, of)
        top, left, full_w, body_h = 104.4, 36.0, 887.8, 392.4
        foot_size, foot_h = footnote_fit(s.footnote, full_w - 2 * pdf.c_margin, pdf.measure) if s.footnote else (0, 0)
        foot = foot_h + 6 if s.footnote else 0
        if s.cards:
            _cards(pdf, s.cards)
        if s.tables and s.bars is not None:
            _table(pdf, s.tables[0], left, top, 547.2, body_h - foot)
            _bars(pdf, s, 597.6, top, 331.2, body_h - foot)
        elif len(s.tables) == 2:
            first = (full_w - 24) * s.split
            _table(pdf, s.tables[0], left, top, first, body_h - foot)
            _table(pdf, s.tables[1], left + first + 24, top, full_w - 24 - first, body_h - foot)
        elif s.tables:
            _table(pdf, s.tables[0], left, top, full_w, body_h - foot)
        if s.map is not None:
            _map(pdf, s, 58, 104.4, 648, body_h - foot)
        if s.bullets:
            _bullets(pdf, s.bullets)
        if s.footnote:
            pdf.text_at(left, top + body_h - foot_h, full_w, foot_h, s.footnote, foot_size, colour=GREY)
    return bytes(pdf.output())
