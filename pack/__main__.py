"""Command line for meeting packs.

    python -m pack freeze 2026-10 --user 张三 [--note ...]
    python -m pack export 2026-10 --format pptx|pdf --lang zh|en [--live | --freeze ID] -o pack.pptx
    python -m pack changes 2026-10 [--freeze ID] [--csv out.csv]
    python -m pack list

The database is DATABASE_URL (or the embedded SQLite file), like every other command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auth import audit
from metrics.engine import EngineError, MetricsEngine
from pack.cells import fmt_value
from pack.export import FORMATS, deck_for, render, write
from pack.freeze import (
    FreezeError,
    changed_since_freeze,
    changes_csv,
    coverage_of,
    freeze_period,
    frozen_tables,
    get_freeze,
    list_freezes,
)
from store import Store
from store.db import database_url


def _engine() -> MetricsEngine:
    store = Store(database_url())
    store.migrate()
    return MetricsEngine(store)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pack", description="Frozen meeting packs: freeze, export, changes")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("freeze", help="freeze a period's figures as of now")
    f.add_argument("period")
    f.add_argument("--user", default=None)
    f.add_argument("--note", default=None)
    f.add_argument("--force", action="store_true", help="freeze a period short of county reports (says which)")
    e = sub.add_parser("export", help="write the pack as PPTX or PDF")
    e.add_argument("period")
    e.add_argument("--format", choices=FORMATS, default="pptx")
    e.add_argument("--lang", choices=("zh", "en"), default="zh")
    g = e.add_mutually_exclusive_group()
    g.add_argument("--live", action="store_true", help="live figures instead of the latest freeze")
    g.add_argument("--freeze", type=int, default=None, help="a particular freeze id")
    e.add_argument("-o", "--output", type=Path, default=None)
    c = sub.add_parser("changes", help="figures that batches committed or rolled back after the freeze moved")
    c.add_argument("period")
    c.add_argument("--freeze", type=int, default=None)
    c.add_argument("--csv", type=Path, default=None)
    sub.add_parser("list", help="list freezes")
    a = ap.parse_args(argv)
    try:
        eng = _engine()
        if a.cmd == "freeze":
            fz = freeze_period(eng, a.period, user=a.user, note=a.note, force=a.force)
            audit.record(eng.store, a.user or "cli", "freeze", fz.period, f"freeze #{fz.id} (command line)")
            cov = coverage_of(frozen_tables(eng.store.engine, fz.id)["bulk"])
            print(f"frozen {fz.period} as #{fz.id} at {fz.known_at:%Y-%m-%d %H:%M:%S}, "
                  f"{cov['n_reported']}/{cov['n_expected']} counties reported")
        elif a.cmd == "export":
            p = eng.resolve_period(a.period).label
            deck = deck_for(eng, p, a.lang, live=a.live, freeze_id=a.freeze)
            pf = render(deck, a.format)
            out = write(eng, pf, a.output or Path(pf.file_name))
            audit.record(eng.store, "cli", "export", p, f"{a.format} {a.lang} -> {out} (command line)")
            print(f"wrote {out} ({len(pf.data):,} bytes, {len(deck.slides)} slides, {pf.seconds:.1f} s)")
        elif a.cmd == "changes":
            p = eng.resolve_period(a.period).label
            fz = get_freeze(eng.store.engine, freeze_id=a.freeze, period=None if a.freeze else p)
            ch = changed_since_freeze(eng, fz)
            if a.csv:
                a.csv.write_bytes(changes_csv(ch))
            print(f"freeze #{fz.id} of {fz.period} at {fz.known_at:%Y-%m-%d %H:%M:%S}: {len(ch)} figures changed")
            for r in ch.itertuples():
                k = eng.catalogue.kpi(r.kpi)
                made = ", ".join(f"#{b}" + (" (rolled back)" if b in r.rolled_back else "") for b in r.batches)
                print(f"{r.kpi}\t{r.region}\t{fmt_value(r.frozen_value, k, 'en')}\t->\t"
                      f"{fmt_value(r.current_value, k, 'en')}\tbatch {made}")
        else:
            for fz in list_freezes(eng.store.engine):
                print(f"#{fz.id}\t{fz.period}\t{fz.known_at:%Y-%m-%d %H:%M:%S}\t{fz.frozen_by or ''}")
    except (FreezeError, EngineError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
