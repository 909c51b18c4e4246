"""Benchmark: the map page's render time next to the overview's, in one run.

    PYTHONPATH=. .venv/bin/python -m bench map      (or python -m bench.bench_map)

Same method and database as bench_overview (headless Chromium at 1920x1080, province-scale demo
database): cold = a fresh server and browser context, first navigation; warm = median of reloads
on that server. "Rendered" for the overview is bench_overview's test (tiles, sparklines, systems,
90 counties); for the map page: script finished, no skeleton, all 90 counties and their 90 name
labels drawn (ratio KPI, status colours, the default view). Prints both and the ratio map/overview.
With the sign-in gate the cold figure includes signing in through the form (the same for
both pages); reloads keep the session.

Environment: BENCH_DATABASE_URL, BENCH_WARM_RUNS (default 5), BENCH_COLD_RUNS (default 1).
"""

from __future__ import annotations

import json
import os

from bench.app_server import CHROMIUM, CHROMIUM_ARGS
from bench.bench_overview import DEFAULT_DB, RENDERED_JS, ensure_accounts, ensure_database, measure_page

MAP_PATH = "/map?kpi=online_handling_rate"
MAP_RENDERED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
      || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  return document.querySelectorAll('.choroplethlocation').length === 90
      && document.querySelectorAll('.trace.scattergeo text').length === 90;
}"""


def run(db_url: str | None = None, warm_runs: int | None = None, cold_runs: int | None = None) -> dict:
    """Overview and map page, each cold and warm, on the same database and browser."""
    from playwright.sync_api import sync_playwright

    db_url = db_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    warm_runs = warm_runs or int(os.environ.get("BENCH_WARM_RUNS", "5"))
    cold_runs = cold_runs or int(os.environ.get("BENCH_COLD_RUNS", "1"))
    ensure_database(db_url)
    ensure_accounts(db_url)
    env = {"DATABASE_URL": db_url}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ov = measure_page(browser, "/", RENDERED_JS, env, cold_runs, warm_runs)
            mp = measure_page(browser, MAP_PATH, MAP_RENDERED_JS, env, cold_runs, warm_runs)
        finally:
            browser.close()
    return {
        "database": db_url.split("@")[-1],
        "overview_cold_s": round(ov["cold_s"], 3), "map_cold_s": round(mp["cold_s"], 3),
        "ratio_cold": round(mp["cold_s"] / ov["cold_s"], 2),
        "overview_warm_s": round(ov["warm_s"], 3), "map_warm_s": round(mp["warm_s"], 3),
        "ratio_warm": round(mp["warm_s"] / ov["warm_s"], 2),
        "overview_runs": {k: [round(x, 3) for x in ov[f"{k}_runs"]] for k in ("cold", "warm")},
        "map_runs": {k: [round(x, 3) for x in mp[f"{k}_runs"]] for k in ("cold", "warm")},
    }


def main() -> None:
    res = run()
    print(f"overview  cold {res['overview_cold_s']:.2f} s   warm {res['overview_warm_s']:.2f} s")
    print(f"map       cold {res['map_cold_s']:.2f} s   warm {res['map_warm_s']:.2f} s")
    print(f"ratio map/overview   cold {res['ratio_cold']:.2f}x   warm {res['ratio_warm']:.2f}x")
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
