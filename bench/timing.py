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


def write_report(res: dict, name: str, path: Path | None = None) -> Path:
    """Write a bench's result as JSON to `path`, by default var/bench/<name>-<UTC time>.json."""
    import json

    out = path or Path(__file__).resolve().parent.parent / "var" / "bench" / (
        f"{name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=2))
    print(f"written {out}")
    return out


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
