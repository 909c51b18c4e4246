"""Benchmark of 赛马晾晒 on the province-scale demo database (SQLite).

Times a full league table for one KPI over all 90 counties (cold engine cache and warm), a
composite scheme over every rankable KPI for all 90 counties, the shipped schemes and the red/black
lists. The demo database is built once (~25 s) and reused from /tmp/cockpit-bench-rank.sqlite.

    python -m bench rankings
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
from pathlib import Path

from bench.timing import demo_database, timed
from metrics.composite import evaluate_scheme
from metrics.engine import MetricsEngine
from metrics.league import league_table
from metrics.redblack import red_black_lists
from metrics.schemes import Scheme, SchemeKpi, schemes
from store import Store

DB = Path(os.environ.get("BENCH_RANK_DB", "/tmp/cockpit-bench-rank.sqlite"))
TODAY = dt.date(2026, 11, 23)  # the demo history runs to 2026-10
KPI = "online_handling_rate"




def database() -> str:
    return demo_database(DB, TODAY)


def all_kpis_scheme(engine: MetricsEngine) -> Scheme:
    """Every KPI rankable below the province, equal weights, z-scored (no target needed)."""
    level = {m.code: m.level for m in engine.catalogue.measures}
    kpis = [SchemeKpi(kpi=k.code, weight=1) for k in engine.catalogue.kpis if level[k.measures[0]] == "county"]
    return Scheme(code="all_kpis", name_zh="全部指标", name_en="All KPIs", normalisation="zscore", kpis=kpis)


def run() -> dict:
    url = database()
    store = Store(url)
    colds, bulks, warms, sch_colds, sch_warms = [], [], [], [], []
    for _ in range(3):  # three fresh engines: cold figures are the median of three first calls
        eng = MetricsEngine(store, today=TODAY)
        p = eng.latest_month()
        c, table = timed(lambda eng=eng, p=p: league_table(eng, KPI, p))
        colds.append(c)
        w, _ = timed(lambda eng=eng, p=p: league_table(eng, KPI, p), repeat=5)
        warms.append(w)
        eng2 = MetricsEngine(store, today=TODAY)
        b, _ = timed(lambda eng2=eng2, p=p: (eng2.bulk(p), eng2.bulk(p.previous())))
        bulks.append(b)
        eng3 = MetricsEngine(store, today=TODAY)
        sc = all_kpis_scheme(eng3)
        c, res = timed(lambda eng3=eng3, p=p, sc=sc: evaluate_scheme(eng3, sc, p))
        sch_colds.append(c)
        w, _ = timed(lambda eng3=eng3, p=p, sc=sc: evaluate_scheme(eng3, sc, p), repeat=5)
        sch_warms.append(w)
    cold, warm, bulk = statistics.median(colds), statistics.median(warms), statistics.median(bulks)
    s_cold, s_warm = statistics.median(sch_colds), statistics.median(sch_warms)
    shipped = {s.code: timed(lambda s=s: evaluate_scheme(eng, s, p), repeat=3)[0] for s in schemes().schemes}
    lists_s, lists = timed(lambda: red_black_lists(eng, p), repeat=3)

    ranked = int((table["standing"] == "ranked").sum())
    scored = int((res.scores["standing"] == "ranked").sum())
    print(f"\nperiod {p.label}; league table of {KPI}: {len(table)} counties, {ranked} ranked")
    print(f"  league table, cold engine cache: {cold:.3f} s  (of which bulk for period + previous "
          f"{bulk:.3f} s; league / bulk = {cold / bulk:.2f}x)")
    print(f"  league table, warm engine cache: {warm:.3f} s  (warm / cold = {warm / cold:.3f}; "
          f"bulk and the 12-month sparkline query both cached per data version)")
    print(f"composite over all {len(sc.kpis)} rankable KPIs x 90 counties (z-score, {scored} scored):")
    print(f"  cold: {s_cold:.3f} s, warm: {s_warm:.3f} s (warm / cold = {s_warm / s_cold:.3f}); "
          f"warm composite / warm league = {s_warm / warm:.2f}x")
    print("shipped schemes, warm: " + ", ".join(f"{k} {v:.3f} s" for k, v in shipped.items()))
    print(f"red/black lists, all {len(schemes().lists)} rules, warm: {lists_s:.3f} s ({len(lists)} entries)")
    return {"league_cold_s": cold, "league_warm_s": warm, "bulk_pair_cold_s": bulk, "scheme_all_cold_s": s_cold,
            "scheme_all_warm_s": s_warm, "shipped_warm_s": shipped, "lists_warm_s": lists_s}


if __name__ == "__main__":
    run()
