"""`./cockpit bench cold`: a cold, signed-in first visit on a phone-class network, through nginx and direct.

What a leader's first visit costs: a fresh browser profile (no cache, no cookies, the browser cache
disabled as well), Chrome DevTools' "Fast 4G" network preset, the sign-in page, signing in, until the
first headline tile (`.tile`) is visible, at 1920x1080 (--phone: 390x844). Measured the same way in one run against

  nginx   the production layout's proxy (compression, bundles from nginx's pre-compressed copy);
  direct  one of its replicas, Streamlit alone (its bundles uncompressed, as before nginx compressed).

Reported per target: bytes over HTTP (the sum of Chromium's `encodedDataLength`, i.e. what crossed the
network, compressed where it was), bytes of websocket messages (Streamlit's protocol: the page's
elements and figures; deflated when the connection negotiated permessage-deflate, as the layout's
replicas do), their total, the time to the sign-in
form, the time to the first figure and to the whole overview drawn (every chart), the first
figure's time without throttling (the server's share), and the heaviest responses. Goal through nginx: total
<= 3 MB and first figure <= 6 s.

"Fast 4G" as Chrome DevTools defines it (front_end/core/sdk/NetworkManager.ts, Fast4GConditions):
9 Mbit/s down and 1.5 Mbit/s up, each derated by 0.9, and 60 ms latency multiplied by 2.75 — that is
1,012,500 B/s down, 168,750 B/s up, 165 ms latency.

The layout must be up (`./cockpit deploy up`; the proxy and a replica are read from
var/deploy/layout.json), or pass --url and --direct. Every replica is visited once before the
measurement, so the server's caches are warm: the measurement is the browser's cold start, not
the server's.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import statistics
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.app_server import CHROMIUM, CHROMIUM_ARGS

FAST_4G = {"offline": False, "latency": 60 * 2.75, "downloadThroughput": 9_000_000 / 8 * 0.9,
           "uploadThroughput": 1_500_000 / 8 * 0.9}
GOAL_BYTES = 3_000_000
GOAL_S = 6.0
USER = "leader"
GATE = '[data-testid="stForm"] input[type="password"]'
FIGURE = ".tile"
# the whole overview drawn: script finished, connected, no skeleton, every Plotly chart has its SVG
SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'));
}"""


@dataclass
class Visit:
    """What one cold visit moved and how long it took."""

    http_bytes: int = 0
    ws_bytes: int = 0  # on the wire (compressed when the connection negotiated it)
    ws_payload: int = 0  # as the page received them
    requests: int = 0
    gate_s: float = 0.0
    first_figure_s: float = 0.0
    complete_s: float = 0.0
    by_url: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.http_bytes + self.ws_bytes


def _kind(url: str, mime: str) -> str:
    path = urlparse(url).path
    if "/static/js/" in path:
        return "streamlit js"
    if "/static/css/" in path:
        return "streamlit css"
    if "/static/media/" in path:
        return "fonts/media"
    if path.startswith("/app/static/"):
        return "cockpit static (maps)"
    if path.startswith("/media/"):
        return "media (images, downloads)"
    if "html" in mime:
        return "html"
    return "other"


def _sign_in(page) -> None:
    """Through the sign-in form, as a person would (the overview bench's way)."""
    from auth.accounts import DEMO_ACCOUNTS

    form = page.locator('[data-testid="stForm"]')
    form.locator('input[type="text"]').first.fill(USER)
    form.locator('input[type="password"]').fill(next(a[1] for a in DEMO_ACCOUNTS if a[0] == USER))
    form.locator('input[type="password"]').press("Enter")


VIEWPORTS = {"desktop": {"viewport": {"width": 1920, "height": 1080}},
             "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
                       "has_touch": True}}


def visit(browser, url: str, throttle: bool, view: str = "desktop") -> Visit:
    """One first visit in a fresh context: the sign-in page, signing in, until the first tile shows."""
    ctx = browser.new_context(**VIEWPORTS[view])
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    v = Visit()
    urls: dict[str, tuple[str, str]] = {}

    def response(e: dict) -> None:
        urls[e["requestId"]] = (e["response"]["url"], e["response"].get("mimeType", ""))

    def finished(e: dict) -> None:
        u, mime = urls.get(e["requestId"], ("?", ""))
        n = int(e.get("encodedDataLength") or 0)
        v.http_bytes += n
        v.requests += 1
        key = urlparse(u).path or u
        v.by_url[key] = v.by_url.get(key, 0) + n
        k = _kind(u, mime)
        v.by_kind[k] = v.by_kind.get(k, 0) + n

    deflate: list = []  # a compressor when the websocket negotiated permessage-deflate

    def handshake(e: dict) -> None:
        headers = {k.lower(): val for k, val in (e["response"].get("headers") or {}).items()}
        ext = headers.get("sec-websocket-extensions", "")
        if "permessage-deflate" in ext:
            bits = re.search(r"server_max_window_bits=(\d+)", ext)
            deflate.append(zlib.compressobj(6, zlib.DEFLATED, -max(9, int(bits.group(1)) if bits else 15)))

    def frame(e: dict) -> None:
        r = e["response"]
        data = r.get("payloadData") or ""
        raw = base64.b64decode(data) if r.get("opcode") == 2 else data.encode()  # binary frames come base64
        v.ws_payload += len(raw)
        # Chromium reports the payload inflated: with permessage-deflate what crossed the network is
        # the message deflated in the connection's running context, estimated here the same way
        v.ws_bytes += len(deflate[-1].compress(raw) + deflate[-1].flush(zlib.Z_SYNC_FLUSH)) - 4 if deflate else len(raw)

    cdp.on("Network.responseReceived", response)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.webSocketHandshakeResponseReceived", handshake)
    cdp.on("Network.webSocketFrameReceived", frame)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttle:
        cdp.send("Network.emulateNetworkConditions", FAST_4G)
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_selector(f"{GATE}, {FIGURE}", timeout=120_000)
        v.gate_s = time.perf_counter() - t0
        if page.locator(GATE).count():
            _sign_in(page)
        page.wait_for_selector(FIGURE, state="visible", timeout=120_000)
        v.first_figure_s = time.perf_counter() - t0
        exc = page.locator('[data-testid="stException"]')
        if exc.count():
            raise RuntimeError("the page shows an exception: " + exc.first.inner_text())
        # what the page still loads for the rest of the overview (map, charts) counts as the visit
        page.wait_for_function(SETTLED_JS, timeout=120_000, polling=50)
        v.complete_s = time.perf_counter() - t0
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_load_state("networkidle", timeout=30_000)
    finally:
        ctx.close()
    return v


def _layout_urls() -> tuple[str | None, list[str]]:
    """The running layout's proxy and replicas."""
    from deploy.state import LOOPBACK, state_file

    f = state_file()
    if not f.is_file():
        return None, []
    st = json.loads(f.read_text())
    return (f"http://{LOOPBACK}:{st['proxy_port']}",
            [f"http://{LOOPBACK}:{p['port']}" for p in st["parts"] if p["kind"] == "replica"])


def run(url: str, direct: str, runs: int = 1, view: str = "desktop", warm: list[str] | None = None) -> dict:
    """Both targets measured in one run; `warm`: the replicas to visit once first (default: `direct`)."""
    warm = warm or [direct]
    from playwright.sync_api import sync_playwright

    vp = VIEWPORTS[view]["viewport"]
    out: dict = {"network": "Chrome DevTools Fast 4G", "conditions": FAST_4G, "runs": runs, "user": USER,
                 "viewport": f"{vp['width']}x{vp['height']} ({view})"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for rep in warm:  # every replica once: nginx may route a fresh browser to any of them
                visit(browser, rep, False, view)
            for name, target in (("nginx", url), ("direct", direct)):
                fast = visit(browser, target, False, view)  # the same visit unthrottled: the server's share
                visits = [visit(browser, target, True, view) for _ in range(runs)]
                mid = sorted(visits, key=lambda x: x.first_figure_s)[len(visits) // 2]
                out[name] = {
                    "url": target,
                    "http_bytes": int(statistics.median(x.http_bytes for x in visits)),
                    "ws_bytes": int(statistics.median(x.ws_bytes for x in visits)),
                    "ws_payload_bytes": int(statistics.median(x.ws_payload for x in visits)),
                    "total_bytes": int(statistics.median(x.total for x in visits)),
                    "requests": mid.requests,
                    "gate_s": round(statistics.median(x.gate_s for x in visits), 2),
                    "first_figure_s": round(statistics.median(x.first_figure_s for x in visits), 2),
                    "first_figure_runs_s": [round(x.first_figure_s, 2) for x in visits],
                    "complete_s": round(statistics.median(x.complete_s for x in visits), 2),
                    "unthrottled_first_figure_s": round(fast.first_figure_s, 2),
                    "by_kind": dict(sorted(mid.by_kind.items(), key=lambda kv: -kv[1])),
                    "heaviest": sorted(mid.by_url.items(), key=lambda kv: -kv[1])[:8],
                }
        finally:
            browser.close()
    out["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    n = out["nginx"]
    out["within_goal"] = n["total_bytes"] <= GOAL_BYTES and n["first_figure_s"] <= GOAL_S
    return out


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def print_report(rep: dict) -> None:
    c = rep["conditions"]
    print(f"cold first visit, signed in ({rep['user']}, {rep['viewport']}), {rep['network']}: "
          f"{c['downloadThroughput']:,.0f} B/s down, {c['uploadThroughput']:,.0f} B/s up, {c['latency']:.0f} ms; "
          f"median of {rep['runs']}")
    print(f"{'':<8}{'HTTP':>10}{'websocket':>11}{'total':>10}{'requests':>10}{'sign-in form':>14}"
          f"{'first figure':>14}{'all drawn':>11}{'(no throttle)':>15}")
    for name in ("nginx", "direct"):
        r = rep[name]
        print(f"{name:<8}{_mb(r['http_bytes']):>10}{_mb(r['ws_bytes']):>11}{_mb(r['total_bytes']):>10}"
              f"{r['requests']:>10}{r['gate_s']:>12.2f} s{r['first_figure_s']:>12.2f} s{r['complete_s']:>9.2f} s"
              f"{r['unthrottled_first_figure_s']:>13.2f} s")
    print(f"load average at the end {rep['loadavg']} (a busy machine lengthens the times, not the bytes)")
    for name in ("nginx", "direct"):
        r = rep[name]
        print(f"{name} by kind: " + ", ".join(f"{k} {_mb(v)}" for k, v in r["by_kind"].items()))
        print(f"{name} heaviest: " + ", ".join(f"{Path(u).name or u} {v / 1e3:.0f} kB" for u, v in r["heaviest"]))
    n = rep["nginx"]
    print(f"goal through nginx: <= {_mb(GOAL_BYTES)} and <= {GOAL_S:g} s to the first figure: "
          + ("met" if rep["within_goal"] else f"MISSED ({_mb(n['total_bytes'])}, {n['first_figure_s']} s)"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="./cockpit bench cold", description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="the proxy (default: the running layout's)")
    ap.add_argument("--direct", help="a replica, for the uncompressed comparison (default: the layout's first)")
    ap.add_argument("--runs", type=int, default=1, help="measured visits per target (the median is reported)")
    ap.add_argument("--phone", action="store_true", help="a 390x844 phone viewport instead of 1920x1080")
    ap.add_argument("--json", type=Path, help="also write the report here")
    args = ap.parse_args(argv or [])
    proxy, replicas = _layout_urls()
    url, direct = args.url or proxy, args.direct or (replicas[0] if replicas else None)
    if not url or not direct:
        print("(bench cold: the production layout is not up; start it with ./cockpit deploy up, "
              "or pass --url and --direct)")
        return 0
    rep = run(url, direct, max(1, args.runs), "phone" if args.phone else "desktop", replicas or [direct])
    print_report(rep)
    if args.json:
        args.json.write_text(json.dumps(rep, ensure_ascii=False, indent=2))
    return 0 if rep["within_goal"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
