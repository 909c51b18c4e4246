"""Back-test and timing of the year-end forecast on the province-scale demo database.

Back-test: years 2022–2025, cut-offs at the end of March, June and September, each forecast made
from the data up to its cut-off only, compared with the December value; prints the 80 % interval's
coverage (overall, by horizon, year, level and KPI kind), the mean absolute error, the Brier score
of the probability of meeting the target and its reliability table. Timing: the forecast of every
KPI with a target for the province, 11 cities and 90 counties with a cold engine (history read
included) and from a history already read. The database is built once (~25 s) and reused.

    python -m bench forecast
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from bench.timing import demo_database, timed
from metrics.engine import MetricsEngine
from metrics.forecast import run_backtest, year_end_forecasts
from store import Store

DB = Path(os.environ.get("BENCH_FORECAST_DB", "/tmp/cockpit-bench-forecast.sqlite"))
TODAY = dt.date(2026, 11, 23)  # the demo history runs to 2026-10


def run() -> dict:
    url = demo_database(DB, TODAY)
    summary = run_backtest(url, today=TODAY)
    store = Store(url)
    eng = MetricsEngine(store, today=TODAY)
    headline = [k.code for k in eng.catalogue.headline_kpis()]
    cold_all, fc = timed(lambda: year_end_forecasts(eng))
    warm_all, _ = timed(lambda: year_end_forecasts(eng), repeat=3)  # history cached per data version
    eng2 = MetricsEngine(store, today=TODAY)
    cold_head, _ = timed(lambda: year_end_forecasts(eng2, kpis=headline))
    eng3 = MetricsEngine(store, today=TODAY)
    cold_one, _ = timed(lambda: year_end_forecasts(eng3, kpis=["online_handling_rate"]))
    made = int(fc["projection"].notna().sum())
    print(f"\nlive forecast as of {eng.latest_month().label}: {len(fc)} KPI x region rows, {made} projected")
    print(f"  all KPIs with targets, cold engine: {cold_all:.2f} s; warm (history cached): {warm_all:.3f} s")
    print(f"  the {len(headline)} headline KPIs (overview tiles, pack), cold: {cold_head:.2f} s; "
          f"one KPI (league-table risk list), cold: {cold_one:.2f} s")
    summary.update(cold_all_s=cold_all, warm_all_s=warm_all, cold_headline_s=cold_head, cold_one_s=cold_one)
    return summary


if __name__ == "__main__":
    run()
