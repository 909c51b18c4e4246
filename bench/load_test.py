"""`./cockpit bench load`: concurrent signed-in sessions against the production layout.

Each session is what a browser tab is to the server: a websocket on /_stcore/stream speaking
Streamlit's protocol (BackMsg `rerun_script` with the page and query string; ForwardMsgs until
`script_finished`), opened after a plain GET of the page through the proxy (which sets the sticky
route cookie), carrying the app's `cockpit_session` cookie of a demo account (tokens are created in
the database with auth.accounts.open_session and removed afterwards). A session loops
overview → a system page → the league table, with a browser-like pause between pages.

"Fully rendered" is the time from sending the request to `script_finished` with status
FINISHED_SUCCESSFULLY (every element of the page has been sent; a run that ends early for a rerun
keeps the clock going). Errors: exception elements, the database-down banner, the sign-in form
(session not resumed), page-not-found, compile errors, disconnects and timeouts.

Phases, in one run: warm-up (each page once on every replica) → per-session memory (K idle
sessions on replica 1: RSS before, with them open, after they close) → a single-session baseline
through the proxy (--baseline-pages pages, 30 by default, with its own short pause
--baseline-think, so that its p95 rests on enough pages whatever the load phase's think time; capped
by --baseline-seconds; the load phase's sessions' users and system pages in turn, so both phases
render the same mix) → the load phase (N sessions for M minutes; replica RSS sampled every 10 s) →
summary: p50/p95 per page and overall, both ways, their ratio, load average, RSS start/end
against the stated bound → the API phase (--api-clients systems, 20 by default, each with its own
province token, pulling a whole month — every KPI × every region from /api/v1/values, JSON and CSV
in turn, gzip accepted as any HTTP client does — back to back for --api-seconds, 30 by default;
requests/s, p50/p95 per format, errors; 429 answers counted apart as rate-limited). Loopback only; the run is bounded in time (--minutes) and in page loads
(--max-pages). Exit 1 on any error or when memory grew beyond the bound.

Two load phases are documented (README, Production layout): saturation (the defaults: 30 sessions,
a 1–3 s pause, the replicas CPU-bound) and `--realistic` (30 sessions for 4 minutes, a 15–45 s
pause as a person reading a page: --sessions 30 --minutes 4 --think 30 --ramp 30).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
USERS = ["leader", "office", "analyst", "lishui_leader"]  # demo accounts that may open all three pages
SYSTEMS = ["government", "economy", "society", "culture", "rule_of_law", "grassroots", "party", "platform"]
DB_DOWN_MARKERS = ("数据库暂时无法连接", "The database cannot be reached")
RENDER_TIMEOUT_S = 180.0
MAX_SESSIONS = 60
MIN_BASELINE_PAGES = 30  # fewer single-session pages make the p95 a guess, and the ratio with it
# the realistic phase measures a server that has been up (every scope's and system's page rendered once
# on each replica: the full warm-up); its first-visit costs are the warm-up's figures
REALISTIC = {"sessions": 30, "minutes": 4.0, "think": 30.0, "ramp": 30.0, "full_warmup": True}
SATURATION = {"sessions": 30, "minutes": 5.0, "think": 2.0, "ramp": 20.0}


def pages_for(i: int) -> list[tuple[str, str, str]]:
    """The loop of session i: (label, page url path, query string)."""
    system = SYSTEMS[i % len(SYSTEMS)]
    return [("overview", "", ""), ("system", "system", f"system={system}"), ("rankings", "rankings", "")]


@dataclass
class Result:
    page: str
    ms: float
    ok: bool
    error: str = ""
    deltas: int = 0
    t: float = 0.0  # monotonic time when it finished


@dataclass
class Stats:
    results: list[Result] = field(default_factory=list)
    upstreams: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, r: Result) -> None:
        self.results.append(r)
        if not r.ok:
            self.errors.append(f"{r.page}: {r.error}")


class Session:
    """One browser-like session: route cookie from a GET, then the websocket."""

    def __init__(self, base: str, token: str | None, lang: str = "zh") -> None:
        self.base, self.token, self.lang = base.rstrip("/"), token, lang
        self.ws: websockets.ClientConnection | None = None
        self.cookies: dict[str, str] = {}
        self.upstream = ""

    def _get(self) -> None:
        req = urllib.request.Request(self.base + "/", headers=self._cookie_header())
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
            self.upstream = r.headers.get("X-Cockpit-Upstream") or self.base
            for v in r.headers.get_all("Set-Cookie") or []:
                name, _, rest = v.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]

    def _cookie_header(self) -> dict[str, str]:
        jar = dict(self.cookies)
        if self.token:
            jar["cockpit_session"] = self.token
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}

    async def open(self) -> None:
        await asyncio.to_thread(self._get)
        url = "ws" + self.base[len("http"):] + "/_stcore/stream"
        self.ws = await websockets.connect(
            url, subprotocols=["streamlit"], additional_headers={**self._cookie_header(), "Origin": self.base},
            max_size=None, ping_interval=None, open_timeout=60, close_timeout=5)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None

    async def render(self, label: str, page: str, query: str) -> Result:
        assert self.ws is not None
        q = "&".join(x for x in (query, f"lang={self.lang}" if self.lang == "en" else "") if x)
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = q
        rs.page_name = page
        rs.context_info.timezone = "Asia/Shanghai"
        rs.context_info.locale = "zh-CN"
        rs.context_info.url = f"{self.base}/{page}" + (f"?{q}" if q else "")
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        deltas, error = 0, ""
        deadline = time.monotonic() + RENDER_TIMEOUT_S
        try:
            while True:
                raw = await asyncio.wait_for(self.ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
                fm = ForwardMsg.FromString(raw)
                kind = fm.WhichOneof("type")
                if kind == "delta":
                    deltas += 1
                    error = error or _delta_error(fm)
                elif kind == "page_not_found":
                    error = error or "page_not_found"
                elif kind == "session_event" and fm.session_event.WhichOneof("type") == "script_compilation_exception":
                    error = error or "compile_error"
                elif kind == "script_finished":
                    status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
                    if status == "FINISHED_EARLY_FOR_RERUN":
                        continue  # st.rerun / switch_page: the page is drawn by the next run
                    if status == "FINISHED_WITH_COMPILE_ERROR":
                        error = error or "compile_error"
                    if status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY":
                        continue
                    break
        except TimeoutError:
            error = "timeout"
        except websockets.ConnectionClosed as exc:
            error = f"disconnected ({exc.__class__.__name__})"
        ms = (time.perf_counter() - t0) * 1000
        if not error and deltas < 5:
            error = f"almost empty page ({deltas} deltas)"
        return Result(label, ms, not error, error, deltas, time.monotonic())


def _delta_error(fm: ForwardMsg) -> str:
    d = fm.delta
    if d.WhichOneof("type") != "new_element":
        return ""
    el = d.new_element
    kind = el.WhichOneof("type")
    if kind == "exception":
        return f"exception {el.exception.type}: {el.exception.message[:120]}"
    if kind == "alert" and any(m in el.alert.body for m in DB_DOWN_MARKERS):
        return "database banner"
    if kind == "text_input" and el.text_input.type == el.text_input.PASSWORD:
        return "sign-in form (session not resumed)"
    return ""


# -- memory --------------------------------------------------------------------------------------
def rss_mb(pid: int) -> float | None:
    """Resident set size of one process (from /proc; no psutil needed)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def loadavg() -> tuple[float, float, float]:
    return os.getloadavg()


# -- tokens --------------------------------------------------------------------------------------
class Tokens:
    """Session tokens of demo accounts, created for the run and removed afterwards."""

    def __init__(self, database_url: str) -> None:
        from store import Store

        self.store = Store(database_url)
        self.made: list[str] = []
        self.api_names: list[str] = []

    def new(self, username: str) -> str:
        from auth import accounts

        tok = accounts.open_session(self.store, username)
        self.made.append(tok)
        return tok

    def api(self, name: str) -> str:
        """An API token of the province scope, valid for a day, revoked by close()."""
        from auth import tokens

        tok = tokens.create(self.store, name, "330000", 1)
        self.api_names.append(name)
        return tok

    def close(self) -> None:
        from auth import accounts, tokens

        for tok in self.made:
            with contextlib.suppress(Exception):
                accounts.close_session(self.store, tok)
        for name in self.api_names:
            with contextlib.suppress(Exception):
                tokens.revoke(self.store, name)
        self.store.engine.dispose()


# -- phases --------------------------------------------------------------------------------------
async def one_pass(base: str, token: str, i: int, stats: Stats) -> None:
    s = Session(base, token)
    await s.open()
    try:
        for label, page, q in pages_for(i):
            stats.add(await s.render(label, page, q))
    finally:
        await s.close()


async def loop_session(base: str, token: str, i: int, stop_at: float, budget: list[int], stats: Stats,
                       think: float, start_delay: float) -> None:
    """Open, then cycle the pages until the time or page budget runs out; reconnect once on failure."""
    await asyncio.sleep(start_delay)
    s = Session(base, token)
    try:
        await s.open()
    except (OSError, websockets.WebSocketException, TimeoutError) as exc:
        stats.add(Result("connect", 0.0, False, f"connect failed ({exc.__class__.__name__})"))
        return
    stats.upstreams[s.upstream] = stats.upstreams.get(s.upstream, 0) + 1
    seq = pages_for(i)
    k = 0
    try:
        while time.monotonic() < stop_at and budget[0] > 0:
            budget[0] -= 1
            label, page, q = seq[k % len(seq)]
            k += 1
            r = await s.render(label, page, q)
            stats.add(r)
            if r.error.startswith("disconnected"):
                await s.close()
                await s.open()
            if think > 0:
                await asyncio.sleep(random.uniform(think * 0.5, think * 1.5))
    finally:
        await s.close()


async def memory_cycle(base: str, pid: int, k: int, tokens: Tokens, settle: float) -> dict:
    """RSS of the replica before, with `k` idle signed-in sessions open (each drew the overview), after."""
    await asyncio.sleep(settle)
    before = rss_mb(pid)
    held: list[Session] = []
    mem = Stats()
    for i in range(k):
        s = Session(base, tokens.new(USERS[i % len(USERS)]))
        await s.open()
        mem.add(await s.render("overview", "", ""))
        held.append(s)
    await asyncio.sleep(settle)
    during = rss_mb(pid)
    for s in held:
        await s.close()
    await asyncio.sleep(settle)
    after = rss_mb(pid)
    per = (during - before) / k if before and during else None
    return {"rss_before_mb": _r(before), "rss_open_mb": _r(during), "rss_after_close_mb": _r(after),
            "mb_per_session": None if per is None else round(per, 2), "errors": mem.errors[:10]}


# -- the API phase -------------------------------------------------------------------------------
API_FORMATS = ("json", "csv")


def api_get(base: str, token: str, fmt: str, period: str | None) -> tuple[int, float, int, str]:
    """One month of every KPI x every region: status, ms, bytes received (compressed), upstream."""
    q = "&".join(x for x in (f"period={period}" if period else "", "format=csv" if fmt == "csv" else "") if x)
    req = urllib.request.Request(f"{base}/api/v1/values" + (f"?{q}" if q else ""),
                                 headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            body = r.read()
            status, upstream = r.status, r.headers.get("X-Cockpit-Upstream") or ""
    except urllib.error.HTTPError as exc:
        body, status, upstream = exc.read(), exc.code, exc.headers.get("X-Cockpit-Upstream") or ""
    except OSError:
        return 0, (time.perf_counter() - t0) * 1000, 0, ""
    return status, (time.perf_counter() - t0) * 1000, len(body), upstream


def api_phase(base: str, tokens_: list[str], seconds: float, period: str | None,
              warm: list[str], warm_token: str) -> dict:
    """Every client pulls the month back to back, JSON and CSV in turn, until the time is up."""
    for rep in warm:  # the month computed once per replica before the clock starts (caches are per process)
        for fmt in API_FORMATS:
            api_get(rep, warm_token, fmt, period)
    results: list[tuple[str, int, float, int, str]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        k = i  # half the clients start with CSV
        while time.monotonic() < stop:
            fmt = API_FORMATS[k % 2]
            k += 1
            status, ms, n, upstream = api_get(base, tokens_[i], fmt, period)
            with lock:
                results.append((fmt, status, ms, n, upstream))
            if status == 429:
                time.sleep(1.0)  # as the Retry-After asks

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(tokens_))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t0
    ok = [r for r in results if r[1] == 200]
    out: dict = {"clients": len(tokens_), "seconds": round(wall, 1), "requests": len(results), "ok": len(ok),
                 "rate_limited": sum(1 for r in results if r[1] == 429),
                 "errors": sum(1 for r in results if r[1] not in (200, 429)),
                 "requests_per_s": round(len(ok) / wall, 2) if wall else None,
                 "upstreams": {u: sum(1 for r in results if r[4] == u) for u in sorted({r[4] for r in results})},
                 "error_statuses": sorted({r[1] for r in results if r[1] not in (200, 429)})}
    for fmt in (*API_FORMATS, "all"):
        ms = [r[2] for r in ok if fmt == "all" or r[0] == fmt]
        kb = [r[3] / 1024 for r in ok if fmt == "all" or r[0] == fmt]
        out[fmt] = {"n": len(ms), "p50_ms": _r(pct(ms, 0.5)), "p95_ms": _r(pct(ms, 0.95)),
                    "kb_per_request": _r(statistics.mean(kb)) if kb else None}
    return out


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summary(stats: Stats) -> dict:
    ok = [r for r in stats.results if r.ok]
    out: dict = {"pages": len(stats.results), "errors": len(stats.results) - len(ok)}
    for label in ["overview", "system", "rankings", "all"]:
        ms = [r.ms for r in ok if label == "all" or r.page == label]
        out[label] = {"n": len(ms), "p50_ms": _r(pct(ms, 0.5)), "p95_ms": _r(pct(ms, 0.95)),
                      "max_ms": _r(max(ms) if ms else None)}
    return out


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def _layout() -> dict | None:
    from deploy.layout import state_file

    f = state_file()
    return json.loads(f.read_text()) if f.is_file() else None


async def run(args: argparse.Namespace) -> dict:
    layout = _layout()
    replicas = [(p["name"], p["pid"], p["port"]) for p in (layout or {}).get("parts", []) if p["kind"] == "replica"]
    db_url = args.database_url or (layout or {}).get("database_url") or os.environ.get("DATABASE_URL")
    if not db_url:
        raise SystemExit("no database URL: pass --database-url or start the layout (python -m deploy.layout up)")
    tokens = Tokens(db_url)
    report: dict = {"url": args.url, "phase": "realistic" if args.realistic else "custom/saturation",
                    "sessions": args.sessions, "minutes": args.minutes, "think_s": args.think,
                    "replicas": [n for n, _, _ in replicas], "cpus": os.cpu_count()}

    def rss_all() -> dict[str, float | None]:
        return {n: _r(rss_mb(pid)) for n, pid, _ in replicas}

    try:
        # 1. warm-up: every page on every replica once (caches are per process)
        t0 = time.monotonic()
        warm = Stats()
        bases = [f"http://127.0.0.1:{port}" for _, _, port in replicas] or [args.url]
        for base in bases if args.warmup else []:
            for i in range(len(SYSTEMS) if args.full_warmup else 1):
                await one_pass(base, tokens.new(USERS[i % len(USERS)]), i, warm)
        report["warmup"] = {"s": round(time.monotonic() - t0, 1), "errors": warm.errors[:10], **summary(warm)}
        wa = report["warmup"]["all"]
        print(f"warm-up: {len(warm.results)} pages, {len(warm.errors)} errors, {report['warmup']['s']} s "
              f"(first visits, cold caches: p50 {wa['p50_ms']} ms, p95 {wa['p95_ms']} ms)", flush=True)

        # 2. per-session memory on replica 1: K idle sessions, each having drawn the overview. Two
        # cycles: the first also returns the warm-up's transient allocations to the allocator, the
        # second (reported) is the steady state.
        if args.memory_sessions and replicas:
            name, pid, _port = replicas[0]
            cycles = [await memory_cycle(f"http://127.0.0.1:{_port}", pid, args.memory_sessions, tokens, args.settle)
                      for _ in range(2)]
            last = cycles[-1]
            report["memory"] = {"replica": name, "sessions": args.memory_sessions, **last, "cycles": cycles}
            print(f"memory: {name} " + "; ".join(
                f"{c['rss_before_mb']} → {c['rss_open_mb']} MB with {args.memory_sessions} sessions → "
                f"{c['rss_after_close_mb']} MB after close" for c in cycles)
                + f" ⇒ {last['mb_per_session']} MB/session", flush=True)

        # 3. single-session baseline through the proxy: a page count, not a time, with its own short
        # pause (one session leaves the server idle between pages whatever the pause)
        base_stats = Stats()
        t0 = time.monotonic()
        if args.baseline_seconds > 0 and args.baseline_pages > 0:
            # the load phase's mix, one session at a time: session i's user (scope) and system page, in
            # turn, so the ratio compares the same pages alone and side by side, not one warm loop with all
            stop = t0 + args.baseline_seconds
            want = min(args.baseline_pages, args.max_pages)
            i = 0
            while len(base_stats.results) < want and time.monotonic() < stop:
                await loop_session(args.url, tokens.new(USERS[i % len(USERS)]), i, stop,
                                   [min(len(pages_for(i)), want - len(base_stats.results))], base_stats,
                                   args.baseline_think, 0)
                i = (i + 1) % max(1, args.sessions)
        report["baseline"] = {"errors_detail": base_stats.errors[:10], "think_s": args.baseline_think,
                              "s": round(time.monotonic() - t0, 1), **summary(base_stats)}
        b = report["baseline"]["all"]
        report["baseline"]["enough_pages"] = b["n"] >= MIN_BASELINE_PAGES
        print(f"baseline (1 session, {report['baseline']['s']} s, pause {args.baseline_think} s): {b['n']} pages, "
              f"p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms, errors {report['baseline']['errors']}"
              + ("" if report["baseline"]["enough_pages"] else
                 f" — fewer than {MIN_BASELINE_PAGES} pages: the load/single ratio is not trustworthy"), flush=True)

        # 4. load: N sessions for M minutes, started over the first `ramp` seconds
        await asyncio.sleep(args.settle)
        rss_start, load_start = rss_all(), loadavg()
        samples: list[dict] = []
        stats = Stats()
        stop = time.monotonic() + args.minutes * 60
        budget = [args.max_pages]
        tasks = [asyncio.create_task(loop_session(
            args.url, tokens.new(USERS[i % len(USERS)]), i, stop, budget, stats, args.think,
            args.ramp * i / max(1, args.sessions))) for i in range(args.sessions)]

        async def sampler() -> None:
            while not all(t.done() for t in tasks):
                samples.append({"t_s": round(time.monotonic() - (stop - args.minutes * 60)), "rss_mb": rss_all(),
                                "load1": round(loadavg()[0], 2), "pages": len(stats.results)})
                print(f"  t={samples[-1]['t_s']:>4} s  pages {len(stats.results):>5}  errors {len(stats.errors)}  "
                      f"load {samples[-1]['load1']}  rss {samples[-1]['rss_mb']}", flush=True)
                await asyncio.sleep(10)

        samp = asyncio.create_task(sampler())
        await asyncio.gather(*tasks)
        await samp
        await asyncio.sleep(args.settle)  # sessions closed: what stays is caches and fragmentation
        rss_end, load_end = rss_all(), loadavg()
        report["load"] = {"errors_detail": stats.errors[:20], "upstreams": stats.upstreams, **summary(stats)}
        report["load"]["pages_per_s"] = round(len(stats.results) / (args.minutes * 60), 2)
        report["rss"] = {"start_mb": rss_start, "end_mb": rss_end,
                         "peak_mb": {n: max((s["rss_mb"].get(n) or 0) for s in samples) if samples else None
                                     for n, _, _ in replicas},
                         "bound_mb": args.rss_bound_mb}
        growth = {n: (rss_end[n] or 0) - (rss_start[n] or 0) for n in rss_start}
        report["rss"]["growth_mb"] = {n: round(g, 1) for n, g in growth.items()}
        report["rss"]["within_bound"] = all(g <= args.rss_bound_mb for g in growth.values())
        report["loadavg"] = {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in load_end],
                             "mean_1min_during": round(statistics.mean(s["load1"] for s in samples), 2)
                             if samples else None}
        bp, lp = report["baseline"]["all"]["p95_ms"], report["load"]["all"]["p95_ms"]
        report["p95_ratio_load_vs_single"] = round(lp / bp, 2) if bp and lp else None
        # 5. the API: systems pulling a month of figures at once
        if args.api_clients > 0 and args.api_seconds > 0:
            stamp = f"{int(time.time())}-{os.getpid()}"
            api_tokens = [tokens.api(f"load-{stamp}-{i}") for i in range(args.api_clients)]
            await asyncio.sleep(args.settle)
            report["api"] = await asyncio.to_thread(
                api_phase, args.url, api_tokens, args.api_seconds, args.api_period,
                [f"http://127.0.0.1:{port}" for _, _, port in replicas], api_tokens[0])
            a = report["api"]
            print(f"API: {a['clients']} clients, {a['requests']} requests in {a['seconds']} s "
                  f"({a['requests_per_s']}/s), p50 {a['all']['p50_ms']} ms, p95 {a['all']['p95_ms']} ms, "
                  f"errors {a['errors']}, rate-limited {a['rate_limited']}", flush=True)
        mem_errors = sum(len(c["errors"]) for c in report.get("memory", {}).get("cycles", []))
        report["ok"] = (report["load"]["errors"] == 0 and report["baseline"]["errors"] == 0 and mem_errors == 0
                        and report["rss"]["within_bound"] and len(warm.errors) == 0
                        and report.get("api", {}).get("errors", 0) == 0)
    finally:
        tokens.close()
    return report


def print_summary(rep: dict) -> None:
    print("\n=== load test summary ===")
    print(f"target {rep['url']}  replicas {rep['replicas']}  sessions {rep['sessions']}  "
          f"{rep['minutes']} min  think {rep['think_s']} s  cpus {rep['cpus']}")
    print(f"{'':<10}{'single p50':>12}{'single p95':>12}{'load p50':>10}{'load p95':>10}{'n load':>8}")
    for label in ["overview", "system", "rankings", "all"]:
        b, s = rep["baseline"][label], rep["load"][label]
        print(f"{label:<10}{b['p50_ms'] or '-':>12}{b['p95_ms'] or '-':>12}{s['p50_ms'] or '-':>10}"
              f"{s['p95_ms'] or '-':>10}{s['n']:>8}")
    print(f"p95 under load / single session: {rep['p95_ratio_load_vs_single']} (single session: "
          f"{rep['baseline']['all']['n']} pages"
          + ("" if rep["baseline"]["enough_pages"] else f", fewer than {MIN_BASELINE_PAGES}: not trustworthy") + ")")
    print(f"pages {rep['load']['pages']} ({rep['load']['pages_per_s']}/s), errors {rep['load']['errors']}"
          + (f": {rep['load']['errors_detail'][:5]}" if rep["load"]["errors"] else ""))
    print(f"sessions per upstream: {rep['load']['upstreams']}")
    r = rep["rss"]
    print(f"replica RSS MB start {r['start_mb']} end {r['end_mb']} peak {r['peak_mb']} growth {r['growth_mb']} "
          f"(bound +{r['bound_mb']} MB each: {'ok' if r['within_bound'] else 'EXCEEDED'})")
    if "memory" in rep:
        m = rep["memory"]
        print(f"per session: {m['mb_per_session']} MB ({m['sessions']} idle sessions on {m['replica']}, second "
              f"cycle: {m['rss_before_mb']} → {m['rss_open_mb']} → {m['rss_after_close_mb']} MB after close)")
    print(f"load average start {rep['loadavg']['start']} end {rep['loadavg']['end']} "
          f"mean 1-min during {rep['loadavg']['mean_1min_during']}")
    if "api" in rep:
        a = rep["api"]
        print(f"API ({a['clients']} clients, one month of every KPI x region each, {a['seconds']} s): "
              f"{a['requests']} requests, {a['requests_per_s']}/s, errors {a['errors']}"
              + (f" {a['error_statuses']}" if a["errors"] else "") + f", rate-limited {a['rate_limited']}")
        for fmt in (*API_FORMATS, "all"):
            s = a[fmt]
            print(f"  {fmt:<5} n {s['n']:>5}  p50 {s['p50_ms'] or '-':>8} ms  p95 {s['p95_ms'] or '-':>8} ms  "
                  f"{s['kb_per_request'] or '-'} kB/request (gzip)")
        print(f"  requests per upstream: {a['upstreams']}")
    print("RESULT: " + ("ok" if rep["ok"] else "FAILED"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="./cockpit bench load", description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8600", help="the proxy (loopback only)")
    ap.add_argument("--realistic", action="store_true",
                    help="the realistic phase: --sessions 30 --minutes 4 --think 30 --ramp 30 (options given win)")
    ap.add_argument("--sessions", type=int, help=f"default {SATURATION['sessions']}")
    ap.add_argument("--minutes", type=float, help=f"default {SATURATION['minutes']:g}")
    ap.add_argument("--think", type=float, help="mean pause between pages in the load phase, seconds (uniform "
                    f"±50%%; default {SATURATION['think']:g})")
    ap.add_argument("--ramp", type=float, help=f"seconds over which the sessions start (default {SATURATION['ramp']:g})")
    ap.add_argument("--baseline-pages", type=int, default=MIN_BASELINE_PAGES,
                    help="pages of the single-session baseline (0: none)")
    ap.add_argument("--baseline-think", type=float, default=0.5,
                    help="mean pause between the baseline's pages, seconds (uniform ±50%%)")
    ap.add_argument("--baseline-seconds", type=float, default=300.0, help="time cap of the baseline (0: none)")
    ap.add_argument("--memory-sessions", type=int, default=10, help="idle sessions for the MB/session figure")
    ap.add_argument("--max-pages", type=int, default=20000, help="upper bound on page loads per phase")
    ap.add_argument("--rss-bound-mb", type=float, default=300.0,
                    help="allowed RSS growth per replica from the start to the end of the load phase")
    ap.add_argument("--full-warmup", action="store_true", default=None,
                    help="warm every session's user and system page, not just one (on with --realistic)")
    ap.add_argument("--no-warmup", dest="warmup", action="store_false",
                    help="skip the warm-up (cold caches then fall into the measured phases)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds to wait before each RSS reading")
    ap.add_argument("--api-clients", type=int, default=20,
                    help="systems pulling a month from the API at once after the page phases (0: no API phase)")
    ap.add_argument("--api-seconds", type=float, default=30.0, help="length of the API phase")
    ap.add_argument("--api-period", help="the month the API clients pull (default: the latest)")
    ap.add_argument("--database-url", help="for the session and API tokens (default: the layout's)")
    ap.add_argument("--json", type=Path, help="also write the report here")
    args = ap.parse_args(argv)
    for k, v in (REALISTIC if args.realistic else SATURATION).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    host = urlparse(args.url).hostname
    if host not in LOOPBACK_HOSTS:
        ap.error(f"loopback only: {host} is not this machine")
    if not 1 <= args.sessions <= MAX_SESSIONS or not 0 < args.minutes <= 30:
        ap.error(f"sessions must be 1..{MAX_SESSIONS}, minutes 0..30")
    if not 0 <= args.api_clients <= 100 or not 0 <= args.api_seconds <= 600:
        ap.error("api-clients must be 0..100, api-seconds 0..600")
    rep = asyncio.run(run(args))
    print_summary(rep)
    if args.json:
        args.json.write_text(json.dumps(rep, ensure_ascii=False, indent=2, default=str))
    return 0 if rep["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
