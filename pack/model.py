"""The meeting pack as data: one deck model feeds presentation mode, the PPTX and the PDF, so all
three show the same numbers. A frozen deck is built only from a freeze's materialised tables; a
live deck from the same tables computed now (pack.freeze.pack_tables), through the same code.

Each slide holds already formatted text (cells, cards, bullets) with a tone per cell (status
colours), plus chart and map data; renderers only lay them out.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from followup.model import escalation_level
from followup.service import state_at
from metrics.catalogue import Catalogue, Kpi
from metrics.engine import MetricsEngine
from metrics.forecast import at_risk, cutoff_of, prob_text, year_end_forecasts
from metrics.formats import compact
from metrics.formats import value as format_value
from metrics.geography import PROVINCE, Geography
from metrics.geometry import read_boundaries
from metrics.periods import Period
from pack.freeze import Freeze, coverage_of, frozen_tables, pack_tables, problems_day
from pack.texts import tr

ROWS_PER_SLIDE = 10
TONES = {  # shared palette (hex, no '#'): status colours readable on a projector
    "green": "2E7D32", "amber": "E69500", "red": "C62828", "none": "607D8B", "missing": "9E9E9E", "na": "9E9E9E", "nocase": "9E9E9E", "partial": "9E9E9E",
    "up": "2E7D32", "down": "C62828", "flat": "607D8B", "muted": "78909C",
}
QUINTILES = ["1B5E20", "66BB6A", "FDD835", "FB8C00", "C62828"]  # best fifth … worst fifth
NA_FILL = "CFD8DC"


@dataclass
class Cell:
    text: str
    tone: str | None = None  # a key of TONES


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    widths: list[float]  # relative column widths
    title: str = ""
    wrap: list[int] | None = None  # columns allowed to wrap (default: the widest); figures never wrap


@dataclass
class Card:
    label: str
    value: str
    sub: str
    change: Cell
    tone: str


@dataclass
class Bars:
    """Attainment bars (0..1.2, capped) with a 100% reference line."""
    labels: list[str]
    values: list[float | None]
    tones: list[str]


@dataclass
class MapData:
    fills: dict[str, str]  # county code -> hex colour
    legend: list[tuple[str, str]]  # (hex, label)
    labels: dict[str, str] = field(default_factory=dict)  # county code -> short label for notable counties


@dataclass
class Slide:
    key: str
    title: str
    subtitle: str = ""
    cards: list[Card] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    bars: Bars | None = None
    map: MapData | None = None
    bullets: list[str] = field(default_factory=list)
    footnote: str = ""
    split: float = 0.5  # share of the width the first of two side-by-side tables takes


@dataclass
class Deck:
    period: str
    lang: str
    title: str
    subtitle: str
    stamp: str  # frozen at … / live
    is_demo: bool
    freeze_id: int | None
    slides: list[Slide]
    figures: dict[str, float | None]  # province value per KPI (tests compare them with the engine)
    coverage: dict = field(default_factory=dict)  # pack.freeze.coverage_of: counties in, expected, who is not
    built_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))

    @property
    def demo_label(self) -> str:
        return tr("pack_demo", self.lang) if self.is_demo else ""


# -- formatting ----------------------------------------------------------------------------------
def _num(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def fmt_value(v: object, k: Kpi, lang: str) -> str:
    x = _num(v)
    return "—" if x is None else format_value(x, k, lang)


def fmt_change(v: object, k: Kpi, lang: str) -> Cell:
    """环比 as the app shows it: percentage points for rates, relative % for counts; coloured by direction."""
    x = _num(v)
    if x is None:
        return Cell("—", "muted")
    flat = abs(x) < 0.0005
    num = "0.0" if flat else f"{x * 100:+.1f}"
    text = (f"{num}个百分点" if lang == "zh" else f"{num} pts") if k.format == "percent" else f"{num}%"
    better = (x > 0) == (k.direction == "up")
    arrow = "–" if flat else ("▲" if x > 0 else "▼")
    return Cell(f"{arrow} {text}", "flat" if flat else ("up" if better else "down"))


def fmt_pct(v: object) -> str:
    x = _num(v)
    return "—" if x is None else f"{x * 100:.1f}%"


def rank_change_cell(v: object, lang: str) -> Cell:
    x = _num(v)
    if x is None:
        return Cell("—", "muted")
    n = int(x)
    if n == 0:
        return Cell("– 0", "flat")
    return Cell(f"▲{n}" if n > 0 else f"▼{-n}", "up" if n > 0 else "down")


def _int(v: object) -> str:
    x = _num(v)
    return "—" if x is None else str(int(x))


def status_tone(s: object) -> str:
    return str(s) if str(s) in TONES else "muted"


def score_fills(scheme: pd.DataFrame, lang: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Counties coloured by score quintile (scores bunch within a few points, so fixed bins would paint
    the whole province one colour); the legend gives each band's score range."""
    scores = pd.to_numeric(scheme["score"], errors="coerce")
    ok = scores.dropna()
    fills = {r: NA_FILL for r in scheme["region"]}
    legend: list[tuple[str, str]] = []
    if not ok.empty:
        edges = [float(ok.quantile(q)) for q in (0.8, 0.6, 0.4, 0.2)]
        for region, v in zip(scheme["region"], scores, strict=True):
            if pd.notna(v):
                band = next((i for i, e in enumerate(edges) if v >= e), len(edges))
                fills[region] = QUINTILES[band]
        lows = [*edges, float(ok.min())]
        highs = [float(ok.max()), *edges]
        for i, colour in enumerate(QUINTILES):
            legend.append((colour, f"{lows[i]:.1f} – {highs[i]:.1f}"))
    legend.append((NA_FILL, tr("pack_legend_na", lang)))
    return fills, legend


# -- layout shared by the renderers ------------------------------------------------------------------
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


# -- the map geometry ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def county_shapes(tolerance: float = 0.004) -> dict[str, list[list[tuple[float, float]]]]:
    """County outlines from data/geo, projected (x = lon·cos φ0, y = lat) and decimated so a map
    draws as a few thousand vector points: crisp at any zoom, no browser or image renderer needed."""
    data = read_boundaries("counties")
    cos0 = math.cos(math.radians(29.2))
    out: dict[str, list[list[tuple[float, float]]]] = {}
    for f in data["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        rings = []
        for poly in polys:
            ring = poly[0]  # outer ring; holes are not drawn (none matter at slide scale)
            kept = [ring[0]]
            for pt in ring[1:]:
                if abs(pt[0] - kept[-1][0]) + abs(pt[1] - kept[-1][1]) >= tolerance:
                    kept.append(pt)
            if len(kept) >= 4:
                rings.append([(x * cos0, y) for x, y in kept])
        out[f["properties"]["code"]] = rings
    return out


def map_frame(width: float, height: float) -> tuple[float, float, float, float, float]:
    """Scale and offsets that fit the province into width x height (y grows downwards)."""
    pts = [p for rings in county_shapes().values() for ring in rings for p in ring]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    s = min(width / (x1 - x0), height / (y1 - y0))
    ox = (width - s * (x1 - x0)) / 2
    oy = (height - s * (y1 - y0)) / 2
    return s, x0, y1, ox, oy


def project(pt: tuple[float, float], frame: tuple[float, float, float, float, float]) -> tuple[float, float]:
    s, x0, y1, ox, oy = frame
    return ox + (pt[0] - x0) * s, oy + (y1 - pt[1]) * s


def map_labels(m: MapData, frame: tuple[float, float, float, float, float], size: float, unit: float = 1.0,
               measure: Callable[[str, float], float] = text_width) -> list[tuple[str, float, float, float, float]]:
    """(label, x, y, w, h) of each map label in the frame's units (`unit` per point): centred on its county,
    moved up or down by a label's height until it overlaps no label placed before it. Renderers draw each
    on a white tag with a dark border, so it reads on any fill."""
    placed: list[tuple[str, float, float, float, float]] = []

    def clash(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
        return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]

    for code, label in m.labels.items():
        rings = county_shapes().get(code)
        if not rings:
            continue
        ring = max(rings, key=len)
        px, py = project((sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)), frame)
        w, h = (measure(label, size) + 12) * unit, size * 1.8 * unit
        box = (px - w / 2, py - h / 2, w, h)
        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            box = (px - w / 2, py - h / 2 + k * (h + 2 * unit), w, h)
            if not any(clash(box, b[1:]) for b in placed):
                break
        placed.append((label, *box))
    return placed


# -- building --------------------------------------------------------------------------------------
def _name(geo: Geography, code: str, lang: str) -> str:
    try:
        return geo.get(code).name(lang)
    except KeyError:
        return code


def _chunks(rows: list, n: int = ROWS_PER_SLIDE) -> list[list]:
    return [rows[i:i + n] for i in range(0, len(rows), n)] or [[]]


def _kpi_row(bulk: pd.DataFrame, k: str, region: str = PROVINCE) -> pd.Series | None:
    r = bulk[(bulk["kpi"] == k) & (bulk["region"] == region)]
    return None if r.empty else r.iloc[0]


def _incomplete(r: pd.Series) -> bool:
    """A figure short of its reporters (several expected, not all in)."""
    n_exp = _num(r.get("n_expected"))
    return n_exp is not None and n_exp > 1 and not bool(r.get("complete", True))


def _pace_label(r: pd.Series, k, lang: str) -> str:
    """'序时目标 23家（年度 30家）· 落后序时 2家': a count's year-end target spread over the year."""
    gap = float(r["pace_gap"])
    key = "pack_pace_ahead" if gap > 0 else "pack_pace_behind" if gap < 0 else "pack_pace_on"
    return tr("pack_target_paced", lang, target=fmt_value(r["target"], k, lang),
              annual=fmt_value(r["target_annual"], k, lang)) + " · " + tr(key, lang, n=fmt_value(abs(gap), k, lang))


def _cards(bulk: pd.DataFrame, cat: Catalogue, lang: str) -> list[Card]:
    cards = []
    for k in cat.headline_kpis():
        r = _kpi_row(bulk, k.code)
        if r is None:
            cards.append(Card(k.name(lang), "—", tr("pack_no_target", lang), Cell("—", "muted"), "missing"))
            continue
        sub = tr("pack_target_label", lang, target=fmt_value(r["target"], k, lang), att=fmt_pct(r["attainment"])) \
            if _num(r["target"]) is not None else tr("pack_no_target", lang)
        if bool(r.get("paced", False)) and _num(r.get("pace_gap")) is not None:  # a count judged on 序时
            sub = _pace_label(r, k, lang)
        if _incomplete(r):  # a partial figure says so, and carries no change or status colour
            sub = tr("pack_coverage_short", lang, n=int(r["n_reported"]), of=int(r["n_expected"]))
            cards.append(Card(k.name(lang), fmt_value(r["value"], k, lang), sub, Cell("—", "muted"), "muted"))
            continue
        cards.append(Card(k.name(lang), fmt_value(r["value"], k, lang), sub, fmt_change(r["change_prev"], k, lang),
                          status_tone(r["status"])))
    return cards


def _system_slides(bulk: pd.DataFrame, cat: Catalogue, lang: str, period: str, note: str = "") -> list[Slide]:
    slides = []
    head = [tr(c, lang) for c in ("pack_col_kpi", "pack_col_value", "pack_col_target", "pack_col_att",
                                  "pack_col_mom", "pack_col_rank")]
    for s in sorted(cat.systems, key=lambda s: s.order):
        rows, labels, values, tones = [], [], [], []
        for k in cat.kpis_of(s.code):
            r = _kpi_row(bulk, k.code)
            if r is None:
                continue
            part = _incomplete(r)
            tone = "muted" if part else status_tone(r["status"])
            rows.append([Cell(k.name(lang)), Cell(fmt_value(r["value"], k, lang), tone),
                         Cell(_pace_label(r, k, lang) if bool(r.get("paced", False)) and _num(r.get("pace_gap")) is not None
                              else fmt_value(r["target"], k, lang) if _num(r["target"]) is not None else "—", "muted"),
                         Cell("—" if part else fmt_pct(r["attainment"]), tone),
                         Cell(tr("pack_coverage_short", lang, n=int(r["n_reported"]), of=int(r["n_expected"])), "muted")
                         if part else fmt_change(r["change_prev"], k, lang),
                         Cell("—", "muted")])
            att = None if part else _num(r["attainment"])  # a partial sum against a whole-year target says nothing
            if att is not None:
                labels.append(k.name(lang))
                values.append(min(att, 1.2))
                tones.append(tone)
        name = s.name_en if lang == "en" else s.name_zh
        per = _rows_that_fit(head, rows, WIDTHS_SYSTEM, [0, 2], 300.0 if note else 340.0)
        for i, part in enumerate(_chunks(rows, per)):
            title = tr("pack_s_system", lang, system=name) + (tr("pack_s_cont", lang) if i else "")
            slides.append(Slide(
                f"system:{s.code}:{i}", title, tr("pack_s_system_sub", lang, period=period),
                tables=[Table(head, part, [*WIDTHS_SYSTEM, 0.0], wrap=[0, 2])],  # names, 序时 notes
                bars=Bars(labels, values, tones) if i == 0 and labels else None, footnote=note,
            ))
    for sl in slides:  # the province has no rank: drop the empty column
        for t in sl.tables:
            t.header, t.widths = t.header[:-1], t.widths[:-1]
            t.rows = [r[:-1] for r in t.rows]
    return slides


WIDTHS_SYSTEM = [2.4, 1.5, 2.2, 1.0, 1.9]  # KPI, value, target (a 序时 note wraps), attainment, change


def _rows_that_fit(head: list[str], rows: list[list[Cell]], widths: list[float], wrap: list[int],
                   height: float, width: float = 540.0, most: int = 8) -> int:
    """Rows per slide for a table of about `width` x `height` points (as the PPTX sets it, the tighter of the
    two renderers): `most` when they fit with every figure on one line at a readable size, else fewer
    (long 序时 notes and English names take lines)."""
    for n in range(most, 3, -1):
        saved = list(fit_fallbacks)
        ok = True
        for part in _chunks(rows, n):
            t = Table(head[:len(widths)], [r[:len(widths)] for r in part], widths, wrap=wrap)
            size, heights, _ = fit_table(t, width, height, office_width, pad=16.0, line=1.5)
            ok = ok and len(fit_fallbacks) == len(saved) and sum(heights) <= height and size >= 11
        fit_fallbacks[:] = saved
        if ok:
            return n
    return 4


def _league_table(df: pd.DataFrame, k: Kpi, geo: Geography, lang: str, bulk: pd.DataFrame | None = None) -> Table:
    head = [tr("pack_col_rank", lang), tr("pack_col_city", lang), tr("pack_col_value", lang),
            tr("pack_col_att", lang), tr("pack_col_change", lang)]
    rows = []
    for _, r in df.iterrows():
        b = _kpi_row(bulk, k.code, r["region"]) if bulk is not None else None
        if pd.isna(r["rank"]) and b is not None and _incomplete(b):  # not ranked: say how many are in
            rows.append([Cell("—", "muted"), Cell(_name(geo, r["region"], lang)),
                         Cell(fmt_value(r["value"], k, lang), "muted"),
                         Cell(tr("pack_coverage_short", lang, n=int(b["n_reported"]), of=int(b["n_expected"])), "muted"),
                         Cell("—", "muted")])
            continue
        tone = status_tone(r["status"])
        rows.append([Cell(_int(r["rank"])), Cell(_name(geo, r["region"], lang)),
                     Cell(fmt_value(r["value"], k, lang), tone), Cell(fmt_pct(r["attainment"]), tone),
                     rank_change_cell(r["rank_change"], lang)])
    return Table(head, rows, [0.8, 1.6, 1.6, 1.2, 1.0], title=k.name(lang))


def _scheme_table(df: pd.DataFrame, geo: Geography, lang: str, title: str) -> Table:
    head = [tr("pack_col_rank", lang), tr("pack_col_county", lang), tr("pack_col_city", lang),
            tr("pack_col_score", lang), tr("pack_col_change", lang)]
    rows = []
    for _, r in df.iterrows():
        rows.append([Cell(_int(r["rank"])), Cell(_name(geo, r["region"], lang)),
                     Cell(_name(geo, r["parent"], lang) if isinstance(r["parent"], str) else "—", "muted"),
                     Cell("—" if _num(r["score"]) is None else f"{float(r['score']):.1f}"),
                     rank_change_cell(r["rank_change"], lang)])
    return Table(head, rows, [0.8, 1.6, 1.2, 1.0, 1.0], title=title, wrap=[1, 2])


def _lists_tables(lists: pd.DataFrame, geo: Geography, lang: str, n_rows: int = 6) -> tuple[list[Table], str]:
    """Red and black lists side by side (first `n_rows` entries each, in rule order) and a note on the rest."""
    head = [tr("pack_col_region", lang), tr("pack_col_reason", lang)]
    out, more = [], []
    for board, key in (("red", "pack_red"), ("black", "pack_black")):
        sub = lists[lists["board"] == board] if not lists.empty else lists
        rows = [[Cell(_name(geo, r["region"], lang), "green" if board == "red" else "red"),
                 Cell(str(r["reason_en" if lang == "en" else "reason_zh"]))] for _, r in sub.head(n_rows).iterrows()]
        if not rows:
            rows = [[Cell("—", "muted"), Cell(tr("pack_no_entries", lang), "muted")]]
        if len(sub) > n_rows:
            more.append(tr("pack_list_more", lang, board=tr(key, lang), n=len(sub) - n_rows))
        out.append(Table(head, rows, [1.3, 3.7], title=tr("pack_list_title", lang, board=tr(key, lang), n=len(sub)),
                         wrap=[0, 1]))
    return out, ("；" if lang == "zh" else "; ").join(more)


def _problem_table(probs: pd.DataFrame, geo: Geography, lang: str) -> Table:
    head = [tr("pack_col_region", lang), tr("pack_col_problem", lang), tr("pack_col_owner", lang),
            tr("pack_col_deadline", lang), tr("pack_col_days", lang)]
    rows = []
    for _, r in probs.head(ROWS_PER_SLIDE).iterrows():
        rows.append([Cell(_name(geo, r["region_code"], lang)), Cell(str(r["title_en" if lang == "en" else "title_zh"])),
                     Cell(str(r["owner_en" if lang == "en" else "owner_zh"]), "muted"), Cell(str(r["deadline"])),
                     Cell(_int(r["days_overdue"]), "red")])
    if not rows:
        rows = [[Cell("—", "muted"), Cell(tr("pack_no_problems", lang), "muted"), Cell(""), Cell(""), Cell("")]]
    widths, wrap = [1.1, 3.4, 1.8, 1.2, 0.9], [0, 1, 2]
    rows = rows[:_rows_that_fit(head, rows, widths, wrap, 340.0, 880.0, most=ROWS_PER_SLIDE)]  # long English owners
    return Table(head, rows, widths, wrap=wrap)


def _followup_slide(engine: MetricsEngine, when: dt.datetime | None, cat: Catalogue, geo: Geography,
                    lang: str) -> Slide:
    """批示督办: open instructions as they stood at the freeze (now for a live deck), the
    escalated (通报) and overdue first; rebuilt from the items' history, so a frozen deck does not move."""
    when = when or dt.datetime.now().replace(microsecond=0)
    rows_all = [(i, s, d) for i, s, d in state_at(engine.store.engine, when) if s != "closed"]
    n_over = sum(1 for _, _, d in rows_all if d > 0)
    n_rep = sum(1 for _, _, d in rows_all if escalation_level(d) == 2)
    head = [tr(f"pack_fu_col_{c}", lang) for c in ("region", "kpi", "text", "owner", "deadline", "state")]
    rows = []
    for i, s, d in rows_all[:ROWS_PER_SLIDE]:
        k = next((x for x in cat.kpis if x.code == i.figure.kpi), None)
        owner = _name(geo, i.owner_code, lang) if i.owner_kind == "region" else (
            next((x.owner_en for x in cat.kpis if x.owner_zh == i.owner_code), i.owner_code) if lang == "en"
            else i.owner_code)
        state = (Cell(tr("pack_fu_reported" if escalation_level(d) == 2 else "pack_fu_overdue", lang, days=d), "red")
                 if d > 0
                 else Cell(tr(f"pack_fu_st_{s}", lang), "amber" if s == "done" else "muted"))
        text = i.text if len(i.text) <= 60 else i.text[:59] + "…"
        rows.append([Cell(_name(geo, i.figure.region, lang)), Cell(k.name(lang) if k else i.figure.kpi), Cell(text),
                     Cell(owner, "muted"), Cell(i.deadline.isoformat()), state])
    if not rows:
        rows = [[Cell("—", "muted"), Cell(""), Cell(tr("pack_fu_none", lang), "muted"), Cell(""), Cell(""), Cell("")]]
    return Slide("followup", tr("pack_fu_title", lang),
                 tr("pack_fu_sub", lang, on=f"{when:%Y-%m-%d}", n=len(rows_all), m=n_over, k=n_rep),
                 tables=[Table(head, rows, [1.0, 1.6, 3.6, 1.5, 1.1, 1.3], wrap=[0, 1, 2, 3])],
                 footnote=tr("pack_fu_more", lang, n=len(rows_all) - ROWS_PER_SLIDE)
                 if len(rows_all) > ROWS_PER_SLIDE else "")


FC_RISK_ROWS = {"zh": 10, "en": 8}  # county rows on the forecast slide (English names take two or three lines)


def _forecast_slides(engine: MetricsEngine, p, known_at: dt.datetime | None, cat: Catalogue, geo: Geography,
                     lang: str) -> list[Slide]:
    """年度目标达标预测: the headline KPIs' year-end projection at the province and the
    counties least likely to meet a headline target. Computed from the data as known at the freeze
    (now for a live deck), so a frozen deck does not move; none when the period leaves nothing to
    project (December, not yet complete) or nothing has a target."""
    latest = engine.latest_month()
    cut = cutoff_of(p, latest)
    if cut is None and latest is not None and p.grain != "day" and p.end.replace(day=1) > latest.start \
            and latest.start.year == p.end.year:
        cut = cutoff_of(latest, latest)  # a month still being reported: forecast from the latest month
    heads = [k for k in cat.headline_kpis() if k.target_for(p.end.year)]
    if cut is None or not heads:
        return []
    fc = year_end_forecasts(engine, Period.month(cut.year, cut.month), kpis=[k.code for k in heads], known_at=known_at)
    fc = fc[fc["projection"].notna()]
    if fc.empty:
        return []

    def tone(pr: float) -> str:
        return "green" if pr >= 0.8 else "amber" if pr >= 0.5 else "red"

    def span(r: pd.Series, k: Kpi) -> str:  # "96.2–96.5%", "3.25M–3.30M": the unit once, to stay on one line
        lo, hi = _num(r["lo"]), _num(r["hi"])
        if lo is None or hi is None:
            return "—"
        if k.format == "percent":
            return f"{lo * 100:.{k.decimals}f}–{hi * 100:.{k.decimals}f}%"
        return f"{compact(lo, lang, k.decimals)}–{compact(hi, lang, k.decimals)}"

    def when(r: pd.Series) -> str:
        if r["state"] == "met":
            return tr("pack_fc_met", lang)
        if r["state"] == "on_course":
            m = int(r["month_met"])
            return tr("pack_fc_month", lang, m=calendar.month_abbr[m] if lang == "en" else m)
        return tr("pack_fc_not", lang) if r["state"] == "not_this_year" else "—"

    head = [tr(f"pack_fc_col_{c}", lang) for c in ("kpi", "proj", "int", "target", "prob", "when")]
    rows = []
    for k in heads:
        hit = fc[(fc["kpi"] == k.code) & (fc["region"] == PROVINCE)]
        if hit.empty:
            continue
        r = hit.iloc[0]
        rows.append([Cell(k.name(lang)), Cell(fmt_value(r["projection"], k, lang), tone(r["prob"])),
                     Cell(span(r, k), "muted"),
                     Cell(fmt_value(r["target"], k, lang)), Cell(prob_text(r["prob"]), tone(r["prob"])), Cell(when(r))])
    tables = [Table(head, rows, [2.6, 1.1, 1.5, 1.0, 0.9, 1.1], title=tr("pack_fc_prov", lang), wrap=[0, 5])] \
        if rows else []
    counties = fc[fc["region"].isin(set(geo.counties))]
    risk = pd.concat([at_risk(counties, k.code) for k in heads], ignore_index=True)
    risk = risk.sort_values(["prob", "region", "kpi"]) if len(risk) else risk
    head2 = [tr(f"pack_fc_col_{c}", lang) for c in ("region", "kpi", "proj", "target", "prob")]
    rows2 = [[Cell(_name(geo, r["region"], lang)), Cell(cat.kpi(r["kpi"]).name(lang)),
              Cell(fmt_value(r["projection"], cat.kpi(r["kpi"]), lang)),
              Cell(fmt_value(r["target"], cat.kpi(r["kpi"]), lang)), Cell(prob_text(r["prob"]), "red")]
             for _, r in risk.head(FC_RISK_ROWS[lang]).iterrows()]
    if not rows2:
        rows2 = [[Cell("—", "muted"), Cell(tr("pack_fc_none", lang), "muted"), Cell(""), Cell(""), Cell("")]]
    tables.append(Table(head2, rows2, [1.5, 2.4, 1.0, 0.9, 0.8], title=tr("pack_fc_risk", lang), wrap=[0, 1]))
    more = tr("pack_fc_more", lang, n=len(risk) - FC_RISK_ROWS[lang]) if len(risk) > FC_RISK_ROWS[lang] else ""
    # the province and the counties at risk on slides of their own: side by side, a dense English table would
    # need a font too small to read from the back of the room
    sub = tr("pack_fc_sub", lang, cutoff=f"{cut:%Y-%m}", year=cut.year)
    out = [Slide("forecast", tr("pack_fc_title", lang), sub, tables=tables[:-1], footnote=tr("pack_fc_foot", lang, more=""))]
    out.append(Slide("forecast_risk", tr("pack_fc_title", lang) + tr("pack_s_cont", lang), sub, tables=tables[-1:],
                     footnote=more))
    return [x for x in out if x.tables]


def _next_steps(tables: dict[str, pd.DataFrame], cat: Catalogue, geo: Geography, lang: str) -> list[str]:
    """Actions only: who does what (system notes such as when the next pack is made are not actions)."""
    bulk, lists, probs = tables["bulk"], tables.get("lists", pd.DataFrame()), tables.get("problems", pd.DataFrame())
    sep = "、" if lang == "zh" else ", "
    out = []
    if not lists.empty:
        black = list(dict.fromkeys(lists.loc[lists["board"] == "black", "region"]))
        if black:
            names = sep.join(_name(geo, c, lang) for c in black[:8])
            if len(black) > 8:
                names += tr("pack_more_names", lang, n=len(black) - 8)
            out.append(tr("pack_next_black", lang, regions=names))
    off = [k for k in cat.headline_kpis()
           if (r := _kpi_row(bulk, k.code)) is not None and r["status"] in ("red", "amber") and not _incomplete(r)]
    if off:
        out.append(tr("pack_next_off", lang, n=len(off), kpis=sep.join(k.name(lang) for k in off[:5])))
    if not probs.empty:
        out.append(tr("pack_next_problems", lang, n=len(probs), days=int(pd.to_numeric(probs["days_overdue"]).max())))
    # overdue reports only (due and not filed); a report not yet due is nobody's failure
    n_unrep = len(coverage_of(bulk)["overdue"]) if "missing" in bulk.columns else bulk.loc[
        (bulk["level"] == "county") & (bulk["status"] == "missing"), "region"].nunique()
    if n_unrep:
        out.append(tr("pack_next_unreported", lang, n=n_unrep))
    return out


def build_deck(engine: MetricsEngine, period: str, lang: str = "zh", freeze: Freeze | None = None,
               tables: dict[str, pd.DataFrame] | None = None) -> Deck:
    """The deck of a frozen period (from its stored tables) or of live data (freeze None)."""
    cat, geo = engine.catalogue, engine.geo
    lang = "en" if lang == "en" else "zh"
    p = engine.resolve_period(freeze.period if freeze else period)
    if tables is None:
        tables = frozen_tables(engine.store.engine, freeze.id) if freeze else pack_tables(engine, p, None)
    label = p.label
    bulk = tables["bulk"]
    if freeze:
        stamp = tr("pack_frozen_at", lang, at=f"{freeze.known_at:%Y-%m-%d %H:%M}", user=freeze.frozen_by or "—",
                   id=freeze.id)
        is_demo = freeze.is_demo
    else:
        stamp, is_demo = tr("pack_live", lang), engine.store.is_demo()
    cov = coverage_of(bulk)  # as it was at the freeze: the frozen rows carry their coverage
    cov_line = tr("pack_coverage", lang, n=cov["n_reported"], of=cov["n_expected"]) if cov["n_expected"] else ""
    note = ""
    if not cov["complete"]:
        why = tr("pack_why_pending", lang) if cov["pending"] else tr("pack_why_overdue", lang, k=len(cov["overdue"]))
        note = tr("pack_incomplete_note", lang, n=cov["n_reported"], of=cov["n_expected"], why=why)
    slides = [Slide("cover", tr("pack_deck_title", lang), tr("pack_deck_subtitle", lang, period=label),
                    bullets=[tr("pack_org", lang), stamp] + ([cov_line] if cov_line else []))]
    slides.append(Slide("kpis", tr("pack_s_kpis", lang), tr("pack_s_kpis_sub", lang, period=label),
                        cards=_cards(bulk, cat, lang), footnote=note))
    slides += _system_slides(bulk, cat, lang, label, note)
    slides += _forecast_slides(engine, p, freeze.known_at if freeze else None, cat, geo, lang)
    leagues = [(cat.kpi(kind.split(":", 1)[1]), df) for kind, df in tables.items() if kind.startswith("league:")]
    leagues.sort(key=lambda kd: kd[0].headline or 0)
    for i in range(0, len(leagues), 2):
        pair = leagues[i:i + 2]
        unranked = any(df["rank"].isna().any() for _, df in pair)
        slides.append(Slide(f"league:{i // 2}", tr("pack_s_league", lang), tr("pack_s_league_sub", lang, period=label),
                            tables=[_league_table(df, k, geo, lang, bulk) for k, df in pair],
                            footnote=tr("pack_league_unranked", lang) if unranked else ""))
    scheme = tables.get("scheme")
    ranked = scheme[scheme["rank"].notna()].sort_values("rank") if scheme is not None and not scheme.empty else None
    if scheme is not None and not scheme.empty and (ranked is None or ranked.empty):
        slides.append(Slide("scheme", tr("pack_s_scheme", lang), tr("pack_s_scheme_sub", lang, period=label),
                            bullets=[tr("pack_withheld", lang, n=cov["n_reported"], of=cov["n_expected"])]))
    elif scheme is not None and ranked is not None:
        slides.append(Slide("scheme", tr("pack_s_scheme", lang), tr("pack_s_scheme_sub", lang, period=label), tables=[
            _scheme_table(ranked.head(10), geo, lang, tr("pack_top10", lang)),
            _scheme_table(ranked.tail(10), geo, lang, tr("pack_bottom10", lang))]))
        fills, legend = score_fills(scheme, lang)
        labels = {r["region"]: f"{_name(geo, r['region'], lang)} {int(r['rank'])}"
                  for _, r in pd.concat([ranked.head(3), ranked.tail(3)]).iterrows()}
        slides.append(Slide("map", tr("pack_s_map", lang), tr("pack_s_map_sub", lang, period=label),
                            map=MapData(fills, legend, labels)))
    if cov["pending"] and not cov["complete"]:  # not yet due: no one is listed on the early reporters' figures
        tables = {**tables, "lists": pd.DataFrame(columns=["board", "region"])}
        slides.append(Slide("lists", tr("pack_s_lists", lang), tr("pack_s_lists_sub", lang, period=label),
                            bullets=[tr("pack_withheld", lang, n=cov["n_reported"], of=cov["n_expected"])]))
    else:
        list_tables, list_note = _lists_tables(tables.get("lists", pd.DataFrame()), geo, lang)
        slides.append(Slide("lists", tr("pack_s_lists", lang), tr("pack_s_lists_sub", lang, period=label),
                            tables=list_tables, footnote=list_note))
    probs = tables.get("problems", pd.DataFrame())
    on = f"{problems_day(engine, freeze.known_at if freeze else None):%Y-%m-%d}"
    ptable = _problem_table(probs, geo, lang)
    shown = len(ptable.rows) if len(probs) else 0
    slides.append(Slide("problems", tr("pack_s_problems", lang),
                        tr("pack_s_problems_sub", lang, on=on, n=len(probs)), tables=[ptable],
                        footnote=tr("pack_more_problems", lang, n=len(probs) - shown) if len(probs) > shown else ""))
    slides.append(_followup_slide(engine, freeze.known_at if freeze else None, cat, geo, lang))
    slides.append(Slide("next", tr("pack_s_next", lang), label, bullets=_next_steps(tables, cat, geo, lang)))
    prov = bulk[bulk["region"] == PROVINCE]
    figures = {k: _num(v) for k, v in zip(prov["kpi"], prov["value"], strict=True)}
    return Deck(label, lang, tr("pack_deck_title", lang), tr("pack_deck_subtitle", lang, period=label), stamp,
                is_demo, freeze.id if freeze else None, slides, figures, cov)


def slide_text(s: Slide) -> list[str]:
    """Every text on a slide (tests and the presentation's accessibility text use it)."""
    out = [s.title, s.subtitle, s.footnote, *s.bullets]
    for c in s.cards:
        out += [c.label, c.value, c.sub, c.change.text]
    for t in s.tables:
        out += [t.title, *t.header] + [c.text for r in t.rows for c in r]
    return [x for x in out if x]

