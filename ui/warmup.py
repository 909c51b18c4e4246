"""Cache warm-up: the first person to sign in, or to open presentation mode, should not pay for the
caches every later visit finds filled.

Measured on the demo database (bench/bench_first_figure.py): on a freshly started server the first
sign-in spent most of its time filling the province's bulk frames, the overview's model and its map,
and the first opening of presentation mode rebuilt the whole meeting deck; the first question asked
built the question parser's lexicon. One daemon thread, started
by server.py, fills exactly those entries (the same cached functions the pages call, for the province
scope and both languages' deck) when the server starts, then again whenever the data version moves (an
import, the scheduler). It reads through the same cache keys as the pages (ui.data.warming_as) and
never holds a session; a failure (the database away) is logged and retried on the next poll.
"""

from __future__ import annotations

import logging
import threading
import time

from metrics.ask.parser import lexicon
from metrics.geography import PROVINCE

POLL_S = 30.0  # how often the thread looks at the data version
LANGS = ("zh",)  # the default language: the first visit's
log = logging.getLogger("cockpit.warmup")


def warm(scope: str = PROVINCE) -> float:
    """Fill the first pages' caches for `scope`; returns the seconds it took."""
    from ui import components, data, present

    t0 = time.perf_counter()
    with data.warming_as(scope):
        read = data.reader()
        p = read.latest()
        if p is None:
            return 0.0
        read.bulk(p)
        read.bulk(p.previous())
        lexicon(read.catalogue, read.geo)  # the question box's first parse would build it (about 0.5 s)
        kpi = components.default_map_kpi(read.catalogue)
        for lang in LANGS:
            components._overview_model(p.label, scope, lang)
            components._map_figure(p.label, kpi, scope, lang, "status", components.OVERVIEW_MAP_HEIGHT)
            if scope == PROVINCE:  # the deck is the province's (presentation mode, the pack page)
                present.deck(p.label, lang, present.default_freeze(p.label, lang))
    return time.perf_counter() - t0


def _loop() -> None:
    from streamlit.runtime import Runtime

    from ui import data

    while not Runtime.exists():  # the caches live in the runtime: before it, they would be a private copy
        time.sleep(0.2)
    seen: int | None = None
    while True:
        try:
            v = data.version()
            if v != seen:
                log.info("cache warm-up for data version %s took %.1f s", v, warm())
                seen = v
        except Exception:  # noqa: BLE001 - a warm-up failure must never take the server down
            log.exception("cache warm-up failed; retrying in %.0f s", POLL_S)
        time.sleep(POLL_S)  # a background poll of the data version, not a wait in a page


def start() -> threading.Thread:
    """Start the warm-up thread (once per server process)."""
    th = threading.Thread(target=_loop, name="cockpit-warmup", daemon=True)
    th.start()
    return th
