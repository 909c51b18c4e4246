"""Shared timing helper for the benchmarks."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from pathlib import Path


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    """Median seconds over `repeat` calls, and the last call's result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def demo_database(path: Path, today: dt.date, seed: int = 2021) -> str:
    """The province-scale demo database at `path` (built once, ~25 s, then reused): its URL."""
    from ingest.bootstrap import create_demo_database

    url = f"sqlite:///{path}"
    if path.exists():
        print(f"reusing the demo database {path}")
        return url
    tmp = path.with_suffix(".tmp.sqlite")
    tmp.unlink(missing_ok=True)
    s, stats = timed(lambda: create_demo_database(f"sqlite:///{tmp}", seed=seed, today=today))
    tmp.rename(path)
    print(f"built the demo database {path} in {s:.1f} s ({stats['observations']:,} observations)")
    return url
