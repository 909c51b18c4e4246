"""Building pack files: one entry point for the app, the CLI, the scheduler and the benchmark."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from metrics.engine import MetricsEngine
from pack import pdf_export, pptx_export
from pack.build import build_deck
from pack.deck import Deck
from pack.freeze import Freeze, get_freeze, record_pack_file

FORMATS = ("pptx", "pdf")
MIME = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pdf": "application/pdf"}


@dataclass
class PackFile:
    fmt: str
    data: bytes
    deck: Deck
    seconds: float

    @property
    def file_name(self) -> str:
        tag = f"freeze{self.deck.freeze_id}" if self.deck.freeze_id else "live"
        return f"pack_{self.deck.period}_{tag}_{self.deck.lang}.{self.fmt}"


def deck_for(engine: MetricsEngine, period: str, lang: str = "zh", live: bool = False,
             freeze_id: int | None = None) -> Deck:
    """The frozen deck of the period (its latest freeze, or `freeze_id`), or the live deck when asked."""
    fz: Freeze | None = None
    if not live:
        fz = get_freeze(engine.store.engine, freeze_id=freeze_id, period=None if freeze_id else period)
    return build_deck(engine, period, lang, fz)


def render(deck: Deck, fmt: str) -> PackFile:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use pptx or pdf")
    t0 = time.perf_counter()
    data = pptx_export.render(deck) if fmt == "pptx" else pdf_export.render(deck)
    return PackFile(fmt, data, deck, time.perf_counter() - t0)


def write(engine: MetricsEngine, pf: PackFile, path: Path, user: str | None = None) -> Path:
    """Write the file and record it (pack_file), so the scheduler knows the freeze has its pack."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pf.data)
    record_pack_file(engine.store.engine, pf.deck.freeze_id, pf.deck.period, pf.deck.lang, pf.fmt, str(path),
                     len(pf.data), pf.seconds, user)
    return path
