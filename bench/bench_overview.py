"""Benchmark: navigation -> fully rendered overview, at province scale, against a floor page.

    .venv/bin/python -m bench.bench_overview      (or run() from python -m bench)

One run measures, in headless Chromium at 1920x1080:
  cold  a fresh server process and a fresh browser context, first navigation (engine opened,
        bulk() computed, caches empty);
  warm  reloads of the same page on that server (caches filled), median of WARM_RUNS;
for the overview (app.py against a province-scale demo database, 2021-01..latest) and for the
floor (bench/floor_overview.py: same number and kinds of elements, constant data, no database).
"Fully rendered" = script finished and connected, no skeleton, 10 tiles with their sparklines,
8 system tiles and all 90 counties drawn on the map. Prints both figures and the ratio
(goal: overview within 1.25x of the floor).

Environment: BENCH_DATABASE_URL (default sqlite:////tmp/cockpit-bench.sqlite, created with the
demo generator when absent), BENCH_WARM_RUNS (default 5), BENCH_COLD_RUNS (default 1).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.app_server import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DB = "sqlite:////tmp/cockpit-bench.sqlite"
GOAL = 1.25

RENDERED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
      || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  const sparks = [...document.querySelectorAll('.tile img.spark')];
  if (document.querySelectorAll('.tile').length !== 10 || sparks.length !== 10
      || !sparks.every(i => i.complete)) return false;
  if (document.querySelectorAll('.sys').length !== 8) return false;
  return document.querySelectorAll('.choroplethlocation').length === 90;
}"""


def ensure_database(url: str) -> dict:
    """The province-scale demo database (created when absent or empty)."""
    from store import Store

    store = Store(url)
    store.migrate()
    if store.data_version() == 0:
        from ingest.bootstrap import create_demo_database

        print(f"» creating the province-scale demo database at {url} (~30 s)", flush=True)
        return create_demo_database(url)
    return {}


GATE_JS = """() => !!document.querySelector('[data-testid="stForm"] input[type=password]')"""
USER = "office"  # the reform office (a demo account of the bench database)


def ensure_accounts(db_url: str) -> None:
    """The demo sign-in accounts on a demo bench database built before they existed."""
    from auth import accounts
    from store import Store

    store = Store(db_url)
    if store.is_demo():
        accounts.ensure_demo_accounts(store)


def _sign_in(page) -> None:
    """Through the sign-in form, as a person would; the session cookie then carries over."""
    from auth.accounts import DEMO_ACCOUNTS

    form = page.locator('[data-testid="stForm"]')
    form.locator('input[type="text"]').first.fill(USER)
    form.locator('input[type="password"]').fill(next(a[1] for a in DEMO_ACCOUNTS if a[0] == USER))
    form.locator('input[type="password"]').press("Enter")


def render_time(page, url: str | None, rendered_js: str = RENDERED_JS) -> float:
    """Seconds from navigation (goto, or reload when url is None) until rendered_js holds.

    A first visit meets the sign-in gate: signing in is part of that (cold) time, as for a person.
    """
    t0 = time.perf_counter()
    if url is None:
        page.reload(wait_until="commit")
    else:
        page.goto(url, wait_until="commit")
    page.wait_for_timeout(50)  # let the new session start before polling "notRunning"
    page.wait_for_function(f"() => ({rendered_js})() || ({GATE_JS})()", timeout=120_000, polling=25)
    if page.evaluate(GATE_JS):
        _sign_in(page)
        page.wait_for_function(rendered_js, timeout=120_000, polling=25)
    elapsed = time.perf_counter() - t0
    exc = page.locator('[data-testid="stException"]')
    if exc.count():
        raise RuntimeError("the page shows an exception: " + exc.first.inner_text())
    return elapsed


def measure_page(browser, path: str, rendered_js: str, env: dict[str, str], cold_runs: int, warm_runs: int,
                 script: str = "app.py") -> dict:
    """Cold (fresh server per run) and warm (reloads on the last server) render times of one page."""
    cold, warm, links = [], [], 0
    for i in range(cold_runs):
        port = free_port()
        proc = start_app(script, port, env)
        try:
            ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = ctx.new_page()
            cold.append(render_time(page, f"http://127.0.0.1:{port}{path}", rendered_js))
            links = page.locator('[data-testid="stPageLink"]').count()
            if i == cold_runs - 1:
                warm += [render_time(page, None, rendered_js) for _ in range(warm_runs)]
            ctx.close()
        finally:
            stop_app(proc)
    return {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm), "cold_runs": cold, "warm_runs": warm,
            "page_links": links}


def run(db_url: str | None = None, warm_runs: int | None = None, cold_runs: int | None = None) -> dict:
    """Measure overview and floor once each (cold + warm); return figures and ratios."""
    from playwright.sync_api import sync_playwright

    db_url = db_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    warm_runs = warm_runs or int(os.environ.get("BENCH_WARM_RUNS", "5"))
    cold_runs = cold_runs or int(os.environ.get("BENCH_COLD_RUNS", "1"))
    ensure_database(db_url)
    ensure_accounts(db_url)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        # Streamlit serves static/ next to the main script: give the floor the app's static files
        floor = Path(tmp) / "floor_overview.py"
        floor.symlink_to(ROOT / "bench" / "floor_overview.py")
        (Path(tmp) / "static").symlink_to(ROOT / "static")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ov = measure_page(browser, "/", RENDERED_JS, {"DATABASE_URL": db_url}, cold_runs, warm_runs)
            fl = measure_page(browser, "/", RENDERED_JS, {"FLOOR_ALERTS": str(max(0, ov["page_links"] - 1))},
                              cold_runs, warm_runs, script=str(floor))
        finally:
            browser.close()
    res = {
        "database": db_url.split("@")[-1],
        "overview_cold_s": round(ov["cold_s"], 3), "floor_cold_s": round(fl["cold_s"], 3),
        "ratio_cold": round(ov["cold_s"] / fl["cold_s"], 2),
        "overview_warm_s": round(ov["warm_s"], 3), "floor_warm_s": round(fl["warm_s"], 3),
        "ratio_warm": round(ov["warm_s"] / fl["warm_s"], 2),
        "goal_ratio": GOAL,
        "overview_runs": {"cold": [round(x, 3) for x in ov["cold_runs"]], "warm": [round(x, 3) for x in ov["warm_runs"]]},
        "floor_runs": {"cold": [round(x, 3) for x in fl["cold_runs"]], "warm": [round(x, 3) for x in fl["warm_runs"]]},
    }
    res["warm_within_goal"] = res["ratio_warm"] <= GOAL
    res["cold_within_goal"] = res["ratio_cold"] <= GOAL
    return res


def main() -> None:
    res = run()
    print(f"overview  cold {res['overview_cold_s']:.2f} s   warm {res['overview_warm_s']:.2f} s")
    print(f"floor     cold {res['floor_cold_s']:.2f} s   warm {res['floor_warm_s']:.2f} s")
    print(f"ratio     cold {res['ratio_cold']:.2f}x   warm {res['ratio_warm']:.2f}x   (goal <= {GOAL}x)")
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
