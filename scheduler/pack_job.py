"""Scheduled job pack_after_freeze: after the reform office freezes a period, generate its meeting
pack (PPTX and PDF, Chinese) so the latest pack is ready without anyone pressing a button.

Works on the newest freeze that has no generated file yet; one freeze per run keeps a run short.
The heavy imports (pandas, python-pptx, fpdf2) happen inside the job, keeping the scheduler light.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from scheduler.history import JobResult
from store import Store
from store.db import ROOT

log = logging.getLogger("scheduler.pack")


def pack_dir() -> Path:
    return Path(os.environ.get("COCKPIT_PACK_DIR") or ROOT / "var" / "packs")


def pack_after_freeze(store: Store, folder: Path | None = None, langs: tuple[str, ...] = ("zh",)) -> JobResult:
    # loaded when a pack is due, not at start: the deck libraries (python-pptx, fpdf2) would slow the
    # scheduler's start and every health check, which imports the scheduler's job table
    from metrics.engine import MetricsEngine
    from pack.build import build_deck
    from pack.export import FORMATS, render, write
    from pack.freeze import unpacked_freezes

    todo = unpacked_freezes(store.engine)
    if not todo:
        return JobResult(rows_affected=0, detail={"freeze": None})
    fz = todo[0]
    eng = MetricsEngine(store)
    out = folder or pack_dir()
    files = []
    for lang in langs:
        deck = build_deck(eng, fz.period, lang, fz)
        for fmt in FORMATS:
            pf = render(deck, fmt)
            files.append(str(write(eng, pf, out / pf.file_name, user="scheduler")))
    log.info("pack for freeze #%s (%s): %s", fz.id, fz.period, files)
    return JobResult(rows_affected=len(files), detail={"freeze": fz.id, "period": fz.period, "files": files})
