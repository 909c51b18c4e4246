"""Benchmark: the phone overview (掌上驾驶舱) next to the desktop overview, in one run, on a slow CPU.

    ./cockpit bench phone [--runs 5] [--database-url URL]      (= python -m bench phone …)

One run starts the app (`server.py`, sign-in route included) and drives Debian's Chromium with two
browser contexts, each signed in once as the province leader through the form: a phone (390×844,
浙政钉's user agent, touch, device pixel ratio 3) and a desktop (1920×1080). Every page load runs
with Chromium's CPU throttled 4× (CDP Emulation.setCPUThrottlingRate), as on a mid-range phone.

Each round loads the phone overview and the desktop overview, in alternating order (so drift in the
host's load falls on both alike), twice each: with the browser cache (a returning reader: the
app's JavaScript is cached) and with the cache disabled (a first visit). A round before the
measured ones fills the server's caches. Per load:

  first figure  seconds from navigation until the first `.tile` is visible;
  bytes         bytes received until the page has settled: HTTP responses (CDP Network.loadingFinished
                encodedDataLength: compressed size on the wire plus headers) and the WebSocket frames the
                app streams its elements over (Network.webSocketFrameReceived payload), reported apart.

Prints the medians per view and the ratio phone/desktop (goal: the phone costs no more than the
desktop, ratio <= 1.0, for time and bytes); the JSON goes to var/bench/phone-<time>.json.

Environment: BENCH_DATABASE_URL (default sqlite:////tmp/cockpit-bench.sqlite, built when absent).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

from bench.app_server import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app
from bench.bench_pages import DEFAULT_DB, STATE_JS, _sign_in, ensure_database, quiesce
from bench.timing import write_report

ROOT = Path(__file__).resolve().parent.parent
THROTTLE = 4
DINGTALK_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/1 TaurusApp/1.0")
VIEWS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "user_agent": DINGTALK_UA, "is_mobile": True,
              "has_touch": True, "device_scale_factor": 3},
    "desktop": {"viewport": {"width": 1920, "height": 1080}},
}
TILE_VISIBLE_JS = """() => [...document.querySelectorAll('.tile')].some(e => {
  const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.top < window.innerHeight; })"""


def _frame_bytes(event: dict) -> int:
    """A WebSocket frame's payload size (binary frames come base64-encoded)."""
    r = event.get("response") or {}
    payload = r.get("payloadData") or ""
    if r.get("opcode") == 2:
        try:
            return len(base64.b64decode(payload))
        except ValueError:
            return len(payload) * 3 // 4
    return len(payload.encode())


def load(context, url: str, server_pid: int, cold: bool) -> dict:
    """One throttled load of `url` in a new tab of `context` (signed in by its cookie)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": cold})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    got = {"http": 0, "ws": 0, "responses": 0}

    def finished(e: dict) -> None:
        got["http"] += int(e.get("encodedDataLength") or 0)
        got["responses"] += 1

    def frame(e: dict) -> None:
        got["ws"] += _frame_bytes(e)

    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.webSocketFrameReceived", frame)
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(TILE_VISIBLE_JS, timeout=180_000, polling="raf")
    first = time.perf_counter() - t0
    at_first = got["http"] + got["ws"]
    page.wait_for_function(STATE_JS, arg=1, timeout=180_000, polling=50)
    quiesce(server_pid)
    page.wait_for_function(STATE_JS, arg=1, timeout=180_000, polling=50)  # no rerun started meanwhile
    settled = time.perf_counter() - t0
    exc = page.locator('[data-testid="stException"]')
    if exc.count():
        raise RuntimeError(f"{url} shows an exception: " + exc.first.inner_text()[:500])
    tiles = page.locator(".tile").count()
    cdp.detach()
    page.close()
    return {"first_figure_s": round(first, 3), "settled_s": round(settled, 3), "http_bytes": got["http"],
            "ws_bytes": got["ws"], "bytes": got["http"] + got["ws"], "bytes_at_first_figure": at_first,
            "responses": got["responses"], "tiles": tiles}


def _signed_in(browser, base: str, view: str):
    ctx = browser.new_context(**VIEWS[view])
    page = ctx.new_page()
    page.goto(base + "/", wait_until="commit")
    page.wait_for_function(f"() => ({STATE_JS})(1) === 'gate' || ({TILE_VISIBLE_JS})()", timeout=180_000, polling=50)
    if page.locator('[data-testid="stForm"] input[type=password]').count():
        _sign_in(page)
    page.wait_for_function(TILE_VISIBLE_JS, timeout=180_000, polling=50)
    if view == "phone" and not page.locator(".ph-tile").count():
        raise RuntimeError("the phone context did not get the phone layout")
    page.close()
    return ctx


def run(db_url: str, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    ensure_database(db_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = start_app("server.py", port, {"DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}, timeout=120)
    samples: dict[str, dict[str, list[dict]]] = {v: {"warm": [], "cold": []} for v in VIEWS}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                contexts = {v: _signed_in(browser, base, v) for v in VIEWS}
                for v in VIEWS:  # fills the server's caches and the browser caches: not measured
                    load(contexts[v], base + "/", app.pid, cold=False)
                for r in range(runs):
                    order = list(VIEWS) if r % 2 == 0 else list(VIEWS)[::-1]
                    for v in order:
                        for cache in ("warm", "cold"):
                            s = load(contexts[v], base + "/", app.pid, cold=cache == "cold")
                            samples[v][cache].append(s)
                    print(f"  round {r + 1}/{runs}: " + "  ".join(
                        f"{v} {samples[v]['warm'][-1]['first_figure_s']:.2f}s/{samples[v]['cold'][-1]['first_figure_s']:.2f}s "
                        f"{samples[v]['warm'][-1]['bytes'] / 1024:.0f}/{samples[v]['cold'][-1]['bytes'] / 1024:.0f} KB"
                        for v in VIEWS) + "  (warm/cold cache)", flush=True)
                for c in contexts.values():
                    c.close()
            finally:
                browser.close()
    finally:
        stop_app(app)
    med = {v: {cache: {k: statistics.median(s[k] for s in samples[v][cache])
                       for k in ("first_figure_s", "settled_s", "bytes", "http_bytes", "ws_bytes", "bytes_at_first_figure")}
               for cache in ("warm", "cold")} for v in VIEWS}
    ratio = {cache: {k: round(med["phone"][cache][k] / med["desktop"][cache][k], 2)
                     for k in ("first_figure_s", "settled_s", "bytes")} for cache in ("warm", "cold")}
    return {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "database": db_url.split("@")[-1],
            "runs": runs, "cpu_throttling": THROTTLE, "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
            "views": {v: {k: VIEWS[v][k] for k in ("viewport",)} for v in VIEWS}, "median": med,
            "ratio_phone_to_desktop": ratio, "samples": samples,
            "phone_costs_no_more": all(x <= 1.0 for c in ratio.values() for x in (c["first_figure_s"], c["bytes"]))}


def print_table(res: dict) -> None:
    print(f"\nCPU throttled {res['cpu_throttling']}x, {res['runs']} rounds, medians")
    print(f"{'view':<9}{'cache':<7}{'first figure s':>15}{'settled s':>11}{'KB total':>10}{'KB http':>9}{'KB ws':>8}")
    for v, by in res["median"].items():
        for cache, m in by.items():
            print(f"{v:<9}{cache:<7}{m['first_figure_s']:>15.2f}{m['settled_s']:>11.2f}{m['bytes'] / 1024:>10.0f}"
                  f"{m['http_bytes'] / 1024:>9.0f}{m['ws_bytes'] / 1024:>8.0f}")
    for cache, r in res["ratio_phone_to_desktop"].items():
        print(f"phone/desktop ({cache} cache): first figure {r['first_figure_s']:.2f}  settled {r['settled_s']:.2f}  "
              f"bytes {r['bytes']:.2f}")
    print(f"goal: the phone costs no more than the desktop: {'met' if res['phone_costs_no_more'] else 'not met'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="./cockpit bench phone", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="measured rounds (each: phone and desktop, warm and cold)")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    ap.add_argument("--json", type=Path, help="write the result here (default var/bench/phone-<time>.json)")
    args = ap.parse_args(argv or [])
    res = run(args.database_url, args.runs)
    print_table(res)
    write_report(res, "phone", args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
