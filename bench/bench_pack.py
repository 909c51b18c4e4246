"""Benchmark of the monthly meeting pack on the province-scale demo database (SQLite).

Times, for the latest month of the full demo history: freezing it (all KPIs x all regions, league
tables, evaluation, red/black lists, problems, as known now; cold engine), building the frozen deck,
rendering PPTX and PDF, and a live pack end to end on a cold engine. Goal: a full province pack
(PPTX + PDF) in under 30 s. The demo database is built once and reused from
/tmp/cockpit-bench-pack.sqlite (freezes accumulate there harmlessly).

    python -m bench pack
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from bench.timing import demo_database, timed
from metrics.engine import MetricsEngine
from pack.build import build_deck
from pack.export import render
from pack.freeze import freeze_period
from store import Store

DB = Path(os.environ.get("BENCH_PACK_DB", "/tmp/cockpit-bench-pack.sqlite"))
TODAY = dt.date(2026, 11, 23)  # the demo history runs to 2026-10
GOAL_S = 30.0


def database() -> str:
    return demo_database(DB, TODAY)


def main() -> None:
    url = database()
    store = Store(url)
    store.migrate()
    eng = MetricsEngine(store, today=TODAY)
    period = eng.latest_month()
    t_freeze, fz = timed(lambda: freeze_period(eng, period, user="bench"))
    t_deck, deck = timed(lambda: build_deck(eng, period.label, "zh", fz))
    t_pptx, pptx = timed(lambda: render(deck, "pptx"))
    t_pdf, pdf = timed(lambda: render(deck, "pdf"))
    frozen_total = t_freeze + t_deck + t_pptx + t_pdf
    cold = MetricsEngine(Store(url), today=TODAY)
    t_live, _ = timed(lambda: [render(d, f) for d in [build_deck(cold, period.label, "en")] for f in ("pptx", "pdf")])
    print(f"period {period.label}: {len(deck.slides)} slides; PPTX {len(pptx.data) / 1e3:.0f} kB, "
          f"PDF {len(pdf.data) / 1e3:.0f} kB")
    print(f"freeze (cold engine)           {t_freeze:6.2f} s")
    print(f"frozen deck from stored rows   {t_deck:6.2f} s")
    print(f"render PPTX                    {t_pptx:6.2f} s")
    print(f"render PDF                     {t_pdf:6.2f} s")
    print(f"freeze + PPTX + PDF            {frozen_total:6.2f} s  (goal < {GOAL_S:.0f} s)")
    print(f"live pack, cold engine (en)    {t_live:6.2f} s  (goal < {GOAL_S:.0f} s)")


if __name__ == "__main__":
    main()
