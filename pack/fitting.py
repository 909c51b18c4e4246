"""Text measured and fitted to its box, the rules both renderers (PPTX and PDF) lay out by.

Text is measured with the faces' advance widths; figures, dates and names never break inside a
token; figure columns stay on one line and are widened from the text columns, then the font shrinks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pack.deck import Cell, Table

# Advance widths (1/1000 em) of the Latin text face (Arial, whose metrics Liberation Sans shares, and close to
# Noto Sans for digits and punctuation) for printable ASCII; CJK, full-width forms and symbols are one em.
_ASCII_W = [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, *[556] * 10, 278, 278,
            584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667,
            778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556,
            278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500,
            334, 260, 334, 584]
_BOLD = 1.08  # bold Latin runs wider; cells may be bold


def _char_w(ch: str) -> float:
    o = ord(ch)
    if 32 <= o < 127:
        return _ASCII_W[o - 32] / 1000 * _BOLD
    if o in (0x2013, 0x00B7):  # en dash, middle dot (Latin text face)
        return 0.6
    return 1.0 if o >= 0x2000 else 0.62


def text_width(text: str, size: float) -> float:
    """Width in points of one line of text (bold-safe): Latin by the face's widths, CJK and symbols one em."""
    return sum(_char_w(ch) for ch in text) * size


def office_width(text: str, size: float) -> float:
    """Width as an office suite sets it (the PPTX): generous, because LibreOffice sets the substitute CJK font a
    little wider and adds a quarter em where CJK meets Latin text (its Asian typography autospace)."""
    cjk = [ord(ch) >= 0x2E80 for ch in text if ch != " "]
    meets = sum(1 for a, b in zip(cjk, cjk[1:], strict=False) if a != b)
    return text_width(text, size) * 1.06 + meets * 0.25 * size


def _is_cjk(ch: str) -> bool:
    return ord(ch) >= 0x2E80


def tokens(text: str) -> list[tuple[str, bool]]:
    """The unbreakable pieces of a text and whether a space follows each: a Latin word, a number, a date or a
    code ("2026-11-23", "+0.3", "Shangcheng") is one piece; each CJK character is its own piece except that
    closing punctuation stays with the character before it."""
    out: list[tuple[str, bool]] = []
    cur = ""
    for ch in text:
        if ch == " ":
            if cur:
                out.append((cur, True))
                cur = ""
            elif out:
                out[-1] = (out[-1][0], True)
            continue
        if _is_cjk(ch):
            if ch in "，。、；：）》」』％" and (cur or out):
                if cur:
                    cur += ch
                else:
                    out[-1] = (out[-1][0] + ch, out[-1][1])
                continue
            if cur:
                out.append((cur, False))
            cur = ""
            out.append((ch, False))
        else:
            if cur and _is_cjk(cur[-1]):
                out.append((cur, False))
                cur = ""
            cur += ch
    if cur:
        out.append((cur, False))
    return out


def wrap_lines(text: str, width: float, size: float, measure: Callable[[str, float], float] = text_width) -> int | None:
    """How many lines `text` takes in `width` points when it may break only between tokens; None when one
    token alone is wider than the width (it would be broken inside: a figure, a date, a name)."""
    lines, used = 1, 0.0
    space = measure(" ", size)
    pending_space = 0.0
    for tok, spaced in tokens(text):
        w = measure(tok, size)
        if w > width:
            return None
        if used and used + pending_space + w > width:
            lines += 1
            used = w
        else:
            used += pending_space + w
        pending_space = space if spaced else 0.0
    return lines


fit_fallbacks: list[str] = []  # headers of tables that could not keep every figure on one line (diagnostics)


def fit_table(t: Table, width: float, max_h: float, measure: Callable[[str, float], float] = text_width,
              sizes: tuple[float, ...] = (18, 16, 15, 14, 13, 12, 11, 10), pad: float = 12.0,
              line: float = 1.25) -> tuple[float, list[float], list[float]]:
    """The largest font size at which the table fits width x max_h (points), each row's height, and the
    relative column widths to draw it with.

    Rules: figures (every column outside `wrap`, default the widest) stay on one line; text in the `wrap`
    columns breaks only between words or CJK characters, never inside a number, date or name. At each size
    the columns first get their stated widths; if a figure column is too narrow it is widened to its
    widest figure, taking the room from the text columns (as long as their longest word still fits)."""
    n = len(t.widths)
    total = sum(t.widths) or 1.0
    base = [width * w / total for w in t.widths]
    widest = {max(range(n), key=lambda j: base[j])} if n else set()
    wrap_cols = set(t.wrap) if t.wrap is not None else widest
    rows = [[Cell(h) for h in t.header], *t.rows]
    heights: list[float] = []
    for size in sizes:
        need = [max((measure(r[j].text, size) for r in rows if j < len(r)), default=0.0) + pad
                if j not in wrap_cols else 0.0 for j in range(n)]
        cols = list(base)
        short = sum(max(need[j] - cols[j], 0) for j in range(n) if j not in wrap_cols)
        if short > 0:  # widen the figure columns, shrinking the text columns proportionally
            for j in range(n):
                if j not in wrap_cols:
                    cols[j] = max(cols[j], need[j])
            spare = width - sum(cols[j] for j in range(n) if j not in wrap_cols)
            wt = sum(base[j] for j in wrap_cols) or 1.0
            for j in wrap_cols:
                cols[j] = spare * base[j] / wt
        if any(c <= pad for c in cols):
            continue
        heights, ok = [], True
        for row in rows:
            lines = 1
            for j, c in enumerate(row[:n]):
                if j in wrap_cols:
                    k = wrap_lines(c.text, cols[j] - pad, size, measure)
                else:
                    k = 1 if measure(c.text, size) <= cols[j] - pad + 1e-6 else None
                if k is None:
                    ok = False
                    break
                lines = max(lines, k)
            if not ok:
                break
            heights.append(lines * size * line + size * 0.7)
        if ok and sum(heights) <= max_h:
            return size, heights, [c / width for c in cols]
    # figures on one line do not fit: every column may wrap, still only between tokens (recorded: a deck that
    # needs this has a table too dense for its slide, which the layout test treats as a failure)
    fit_fallbacks.append(" | ".join(t.header))
    for size in (z for z in sizes if z <= 14):
        heights, ok = [], True
        for row in rows:
            ks = [wrap_lines(c.text, base[j] - pad, size, measure) for j, c in enumerate(row[:n])]
            if any(k is None for k in ks):
                ok = False
                break
            heights.append(max(ks, default=1) * size * line + size * 0.7)
        if ok and sum(heights) <= max_h:
            return size, heights, [w / total for w in t.widths]
    size = sizes[-1]  # nothing fits at all: the smallest size, rows as tall as their text (the layout check tells)
    heights = [max((max(1, math.ceil(measure(c.text, size) / max(base[j] - pad, 1))) for j, c in enumerate(row[:n])),
                   default=1) * size * line + size * 0.7 for row in rows]
    return size, heights, [w / total for w in t.widths]


def fit_size(text: str, width: float, largest: float, smallest: float, lines: int = 1,
             measure: Callable[[str, float], float] = text_width) -> float:
    """The largest font size (step 1 pt) at which `text` fits in `lines` lines of `width` points, breaking
    only between tokens."""
    size = largest
    while size > smallest:
        k = wrap_lines(text, width * 0.95, size, measure)
        if k is not None and k <= lines:
            break
        size -= 1
    return size


def footnote_fit(text: str, width: float, measure: Callable[[str, float], float] = text_width) -> tuple[float, float]:
    """Font size and height (points) of a slide footnote: one line from 14 pt down to 11, else two lines."""
    for lines, largest, smallest in ((1, 14, 11), (2, 12, 9)):
        size = fit_size(text, width, largest, smallest, lines, measure)
        k = wrap_lines(text, width * 0.95, size, measure)
        if k is not None and k <= lines:
            return size, k * size * 1.3 + 6
    return 9.0, 3 * 9 * 1.3 + 6
