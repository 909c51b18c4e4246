"""Township-scale benchmark on PostgreSQL: the engine's township level, for real.

One run, one scratch database (`cockpit_bench_town`, dropped afterwards):
1. the province-scale demo history (2021-01 .. the month before BENCH_TOWNSHIP_TODAY) is created
   and the county-level bulk call is timed on it;
2. the township breakdown is added (~1,360 townships x 10 grassroots measures x every month);
3. on the same database: the county-level bulk call again (what township rows cost the usual
   path), the township bulk call (all 1,360 townships x the grassroots KPIs, with 环比/同比, ranks
   in the county and province-wide), the township league table of all townships and of one
   county (with 12-month sparklines), and the county league table — each cold (fresh engine, empty
   caches) and warm (the same call again), with ratios to the county-level bulk call because these
   machines are noisy.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics

import sqlalchemy as sa

from bench.timing import timed
from ingest.bootstrap import create_demo_database
from ingest.demo_townships import add_townships
from metrics.engine import MetricsEngine
from metrics.league import league_table
from store import Store

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB_NAME = "cockpit_bench_town"
TODAY = dt.date.fromisoformat(os.environ.get("BENCH_TOWNSHIP_TODAY", "2026-11-20"))
KPI = "four_platform_ontime_rate"
COUNTY = "330102"
ROUNDS = 3  # cold = median of first calls on this many fresh engines


def _scratch() -> tuple[str, sa.Engine] | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
            c.execute(sa.text(f"CREATE DATABASE {DB_NAME}"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        print(f"PostgreSQL unavailable ({exc.__class__.__name__}): the township benchmark needs it")
        return None
    return sa.engine.make_url(PG_ADMIN).set(database=DB_NAME).render_as_string(hide_password=False), admin


def cold_warm(store: Store, call, warm_repeat: int = 10) -> dict[str, float]:
    """Median first call over fresh engines, and the median repeated call on the last engine."""
    colds, warms, out = [], [], None
    for _ in range(ROUNDS):
        eng = MetricsEngine(store, today=TODAY)
        c, out = timed(lambda eng=eng: call(eng))
        w, _ = timed(lambda eng=eng: call(eng), repeat=warm_repeat)
        colds.append(c)
        warms.append(w)
    return {"cold_s": statistics.median(colds), "warm_s": statistics.median(warms), "rows": len(out)}


def run() -> dict:
    scratch = _scratch()
    if scratch is None:
        return {}
    url, admin = scratch
    res: dict = {}
    try:
        gen_s, stats = timed(lambda: create_demo_database(url, seed=2021, today=TODAY))
        store = Store(url)
        period = MetricsEngine(store, today=TODAY).latest_month()
        print(f"PostgreSQL, demo history 2021-01..{stats['last_month']}: {stats['observations']:,} observations, "
              f"created in {gen_s:.1f} s; period timed: {period.label}")
        res["county_bulk_before"] = cold_warm(store, lambda e: e.bulk(period))
        add_s, tstats = timed(lambda: add_townships(store, seed=2021))
        n_obs = store.counts()["observation"]
        print(f"township demo: {tstats['townships']:,} townships, {tstats['rows']:,} township observations added in "
              f"{add_s:.1f} s (split {tstats['split_s']} s, load + rollups {tstats['load_s']} s); "
              f"{n_obs:,} observations in all")
        res.update(observations=n_obs, township_rows=tstats["rows"], add_s=add_s, generate_s=gen_s,
                   period=period.label)
        res["county_bulk"] = cold_warm(store, lambda e: e.bulk(period))
        res["township_bulk"] = cold_warm(store, lambda e: e.township_bulk(period))
        res["township_bulk_county"] = cold_warm(store, lambda e: e.township_bulk(period, county=COUNTY))
        res["league_townships"] = cold_warm(store, lambda e: league_table(e, KPI, period, "townships"), 3)
        res["league_county_townships"] = cold_warm(
            store, lambda e: league_table(e, KPI, period, f"townships:{COUNTY}"), 3)
        res["league_counties"] = cold_warm(store, lambda e: league_table(e, KPI, period, "counties"), 3)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
    base = res["county_bulk"]["cold_s"]
    labels = {
        "county_bulk_before": "county bulk (all KPIs x 104 regions), before townships",
        "county_bulk": "county bulk, with township rows stored",
        "township_bulk": "township bulk (5 KPIs x 1,360 townships)",
        "township_bulk_county": f"township bulk, one county ({COUNTY})",
        "league_townships": "league table, all 1,360 townships (+12-month trend)",
        "league_county_townships": f"league table, townships of {COUNTY} (+trend)",
        "league_counties": "league table, 90 counties (+trend)",
    }
    print(f"\n{'call (PostgreSQL, one month)':<55}{'rows':>7}{'cold s':>9}{'warm ms':>10}{'cold / county bulk':>20}")
    for key, label in labels.items():
        r = res[key]
        print(f"{label:<55}{r['rows']:>7}{r['cold_s']:>9.3f}{r['warm_s'] * 1e3:>10.2f}{r['cold_s'] / base:>19.2f}x")
    before = res["county_bulk_before"]["cold_s"]
    print(f"township rows' cost on the county bulk call: {res['county_bulk']['cold_s'] / before:.2f}x "
          f"({before:.3f} s -> {res['county_bulk']['cold_s']:.3f} s)")
    print(f"township league table / county league table (cold): "
          f"{res['league_townships']['cold_s'] / res['league_counties']['cold_s']:.2f}x")
    return res


if __name__ == "__main__":
    run()
