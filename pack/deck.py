"""The meeting pack as data: one deck model feeds presentation mode, the PPTX and the PDF, so all
three show the same numbers; pack.build makes it, from a freeze's tables or live ones.

Each slide holds already formatted text (cells, cards, bullets) with a tone per cell (status
colours), plus chart and map data; renderers only lay them out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pack.texts import tr

TONES = {  # shared palette (hex, no '#'): status colours readable on a projector
    "green": "2E7D32", "amber": "E69500", "red": "C62828", "none": "607D8B", "missing": "9E9E9E", "na": "9E9E9E", "nocase": "9E9E9E", "partial": "9E9E9E",
    "up": "2E7D32", "down": "C62828", "flat": "607D8B", "muted": "78909C",
}


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


def slide_text(s: Slide) -> list[str]:
    """Every text on a slide (tests and the presentation's accessibility text use it)."""
    out = [s.title, s.subtitle, s.footnote, *s.bullets]
    for c in s.cards:
        out += [c.label, c.value, c.sub, c.change.text]
    for t in s.tables:
        out += [t.title, *t.header] + [c.text for r in t.rows for c in r]
    return [x for x in out if x]
