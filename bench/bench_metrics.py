"""Metrics-layer benchmark: demo load, and the bulk call at several history lengths and scales.

Everything is measured in one run on this machine and reported as ratios as well as seconds,
because these machines are noisy. "Cold" = a fresh engine (empty result cache) on a database
that was just built; "warm" = the same call again (served from the per-data-version cache).
Township scale (the engine's township level on the township demo, PostgreSQL) is
`bench/bench_township.py` (`./cockpit bench township`).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
from pathlib import Path

import sqlalchemy as sa

from bench.timing import timed
from ingest.bootstrap import create_demo_database
from metrics.engine import MetricsEngine
from metrics.periods import Period
from store import Store

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")




def bulk_timings(url: str, today: dt.date, label: str, period: Period | None = None) -> dict:
    store = Store(url)
    colds, warms = [], []
    for _ in range(3):  # three fresh engines: cold is the median of three first calls
        eng = MetricsEngine(store, today=today)
        p = period or eng.latest_month()
        c, df = timed(lambda eng=eng, p=p: eng.bulk(p))
        w, _ = timed(lambda eng=eng, p=p: eng.bulk(p), repeat=20)
        colds.append(c)
        warms.append(w)
    n_obs = store.counts()["observation"]
    return {"label": label, "observations": n_obs, "rows": len(df), "cold_s": statistics.median(colds),
            "warm_s": statistics.median(warms), "period": p.label}


def _pg_scratch(name: str) -> tuple[str, sa.Engine] | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            c.execute(sa.text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # noqa: BLE001
        print(f"  PostgreSQL unavailable ({exc.__class__.__name__}); skipping the PostgreSQL figures")
        return None
    return sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), admin


def run() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cockpit-bench-"))
    results: dict = {}
    six_today, one_today = dt.date(2027, 1, 15), dt.date(2023, 1, 15)  # 72 and 24 months of history

    url6 = f"sqlite:///{tmp / 'six.sqlite'}"
    gen_s, stats6 = timed(lambda: create_demo_database(url6, seed=2021, today=six_today))
    print(f"province scale, 6-year history (2021-01..2026-12) on SQLite: {stats6['observations']:,} observations, "
          f"{stats6['batches']:,} batches")
    print(f"  generation + load: {gen_s:.1f} s (generate {stats6['generate_s']} s, load+rollup {stats6['load_s']} s)"
          f"  goal < 60 s")
    url1 = f"sqlite:///{tmp / 'two.sqlite'}"
    gen1_s, stats1 = timed(lambda: create_demo_database(url1, seed=2021, today=one_today))
    b6 = bulk_timings(url6, six_today, "6-year SQLite")
    b1 = bulk_timings(url1, one_today, "2-year SQLite")
    b6_same = bulk_timings(url6, six_today, "6-year, 2022-12", Period.month(2022, 12))
    rows = [b1, b6_same, b6]
    results.update(sqlite_generation_s=gen_s, sqlite_1y_generation_s=gen1_s)

    pg = _pg_scratch("cockpit_bench")
    if pg:
        pg_url, admin = pg
        pg_gen_s, _ = timed(lambda: create_demo_database(pg_url, seed=2021, today=six_today))
        rows.append(bulk_timings(pg_url, six_today, "6-year PostgreSQL"))
        results["pg_generation_s"] = pg_gen_s
        with admin.connect() as c:
            c.execute(sa.text("DROP DATABASE IF EXISTS cockpit_bench WITH (FORCE)"))

    print("\nbulk call: all KPIs x (province + 11 cities + 90 counties + peer groups), one month")
    print(f"  {'database':<20}{'observations':>14}{'rows':>7}{'cold s':>9}{'warm ms':>9}{'goal':>22}")
    for r in rows:
        goal = "cold<0.5 s, warm<50 ms" if "SQLite" in r["label"] else ""
        print(f"  {r['label']:<20}{r['observations']:>14,}{r['rows']:>7}{r['cold_s']:>9.3f}{r['warm_s'] * 1e3:>9.2f}"
              f"{goal:>22}")
    print(f"  history growth, same month 2022-12 (cold 6-year / cold 2-year, SQLite): "
          f"{b6_same['cold_s'] / b1['cold_s']:.2f}x for {b6['observations'] / b1['observations']:.1f}x the observations")
    print(f"  warm / cold (6-year SQLite): {b6['warm_s'] / b6['cold_s']:.4f}")
    if pg:
        print(f"  PostgreSQL demo generation + load: {results['pg_generation_s']:.1f} s")
        print("  (township scale: ./cockpit bench township)")
    results["bulk"] = rows
    return results


if __name__ == "__main__":
    run()
