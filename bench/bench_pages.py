"""Benchmark: server CPU per warm render of each cockpit page, next to a floor page, in one run.

    ./cockpit bench pages [--warm 7] [--profile]      (= python -m bench pages …)

One run starts the app (`server.py`, sign-in route included) on a province-scale demo database and
the floor page (bench/floor_page.py: the app's frame plus 10 metrics, 6 Plotly charts, a 90-polygon
pydeck map and a 90-row table, constant data, no database) as a second Streamlit server, opens
one headless-Chromium tab per page (signed in as leader), renders each page once (first render:
caches fill; the overview's includes signing in) and then WARM rounds in which every tab is
reloaded in turn, floor included, so drift in the host's load falls on all pages alike.

A warm render is a reload of the tab: a new Streamlit session that resumes the sign-in from the
session cookie and runs the page with filled caches, as when a person opens a link or presses F5.
Its cost is the **CPU time of the server process** (utime + stime of the Streamlit process and its
children from /proc, so other work on the host does not count) from just before the reload until
the page has rendered and the server is idle again: the app reports `notRunning` and `CONNECTED`,
no skeleton, no sign-in form, at least as many elements as the first render drew, and the server's
CPU counter has stopped moving. No fixed sleeps. The table gives the median per page and its ratio
to the floor's median (goal: every page <= 1.25x the floor); the JSON goes to var/bench/, with the
app server's resident memory after the first renders and after each warm round (it must not grow).

`--profile` runs both servers under bench.profiled_streamlit (cProfile of every script run) and
prints, per page, the top functions by own time and the project's functions by cumulative time,
each as a share of the page's profiled script time, and keeps the merged profiles in
var/bench/profiles-<time>/<page>.prof. Profiling slows the script, so its CPU figures
are not comparable with a plain run.

Environment: BENCH_DATABASE_URL (default sqlite:////tmp/cockpit-bench.sqlite, created with the demo
generator when absent; a copy of any demo database works).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import heapq
import os
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.app_server import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app
from bench.timing import write_report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "sqlite:////tmp/cockpit-bench.sqlite"
GOAL = 1.25
USER = "leader"  # the province leader: every cockpit page, the whole province
PAGES = [  # label, path and query on the app (see app.py's url_path values)
    ("overview", "/"),
    ("system", "/system?system=government"),
    ("rankings", "/rankings"),
    ("map", "/map"),
    ("county", "/county?county=330102"),
]
TICK_S = 1 / os.sysconf("SC_CLK_TCK")

# false while the run is not over; "gate" on the sign-in form; else the number of elements drawn
STATE_JS = """(min) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
      || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (document.querySelector('[data-testid="stForm"] input[type=password]')) return 'gate';
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  const n = document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]').length;
  return n >= Math.max(1, min) ? n : false;
}"""


# -- server CPU ----------------------------------------------------------------------------------
def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime + stime in ticks) of one process, from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = raw[raw.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return int(f[1]), int(f[11]) + int(f[12])


def cpu_s(pid: int) -> float:
    """CPU seconds used so far by `pid` and its live descendants (all their threads)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (s := _stat(int(d.name))) is not None:
            parents[int(d.name)], ticks[int(d.name)] = s
    tree, grew = {pid}, True
    while grew:
        new = {p for p, pp in parents.items() if pp in tree} - tree
        tree |= new
        grew = bool(new)
    return sum(ticks.get(p, 0) for p in tree) * TICK_S


def rss_mb(pid: int) -> float:
    """Resident memory (MB) of `pid` and its live descendants: a warm round must not make it grow."""
    total = 0
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (s := _stat(int(d.name))) is not None and (int(d.name) == pid or s[0] == pid):
            with contextlib.suppress(OSError, StopIteration):  # ended meanwhile, or a kernel thread
                total += next(int(x.split()[1]) for x in (d / "status").read_text().splitlines()
                              if x.startswith("VmRSS:"))
    return round(total / 1024, 1)


def quiesce(pid: int, timeout: float = 30.0) -> float:
    """Wait until the server's CPU counter stands still for 3 readings 50 ms apart; return it."""
    deadline = time.monotonic() + timeout
    last, same = cpu_s(pid), 0
    while same < 3 and time.monotonic() < deadline:
        time.sleep(0.05)  # the polling interval of a condition, not a wait for the render
        now = cpu_s(pid)
        same = same + 1 if now == last else 0
        last = now
    return last


# -- pages ---------------------------------------------------------------------------------------
@dataclass
class Tab:
    label: str
    url: str
    server: object  # the Popen of the Streamlit server this page runs on
    page: object = None  # the Playwright page
    elements: int = 0  # elements the first render drew: a warm render must draw as many
    first_cpu_ms: float = 0.0
    cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    profiles: list[Path] = field(default_factory=list)


def _sign_in(page) -> None:
    """Through the sign-in form, as a person would; the server then sets the session cookie."""
    from auth.accounts import DEMO_ACCOUNTS

    form = page.locator('[data-testid="stForm"]')
    form.locator('input[type="text"]').first.fill(USER)
    form.locator('input[type="password"]').fill(next(a[1] for a in DEMO_ACCOUNTS if a[0] == USER))
    form.locator('input[type="password"]').press("Enter")


def _wait_rendered(tab: Tab) -> int:
    """Block until the tab's run is over and the server idle; sign in when the form shows."""
    while True:
        state = tab.page.wait_for_function(STATE_JS, arg=tab.elements, timeout=180_000, polling=25).json_value()
        if state == "gate":
            _sign_in(tab.page)
            tab.page.wait_for_function(f"() => ({STATE_JS})({tab.elements}) !== 'gate'", timeout=60_000,
                                       polling=25)
            continue
        quiesce(tab.server.pid)
        again = tab.page.evaluate(STATE_JS, tab.elements)  # a rerun may have started meanwhile
        if again not in (False, "gate"):
            exc = tab.page.locator('[data-testid="stException"]')
            if exc.count():
                raise RuntimeError(f"{tab.label} shows an exception: " + exc.first.inner_text()[:500])
            return int(again)


def _render(tab: Tab, first: bool) -> tuple[float, float]:
    """(server CPU ms, wall ms) of one render: navigation when first, else a reload."""
    c0 = quiesce(tab.server.pid)
    t0 = time.perf_counter()
    if first:
        tab.page.goto(tab.url, wait_until="commit")
    else:
        tab.page.reload(wait_until="commit")
    n = _wait_rendered(tab)
    wall = (time.perf_counter() - t0) * 1000
    cpu = (cpu_s(tab.server.pid) - c0) * 1000
    if first:
        tab.elements = n
    return cpu, wall


def _new_profiles(folder: Path | None, seen: set[Path]) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    new = sorted(set(folder.glob("*.prof")) - seen)
    seen.update(new)
    return new


def top_costs(files: list[Path], n: int = 5, keep: Path | None = None, project: bool = True) -> dict:
    """Top functions by own time (with the project function they are reached from, unless `project`
    is false: the floor has none, and pstats' call graph would name one that merely shares a
    library function), and the project's functions by cumulative time, as shares of the profiled
    script time."""
    if not files:
        return {}
    st = pstats.Stats(*map(str, files))
    if keep is not None:  # the merged profile, for `python -m pstats` or snakeviz
        st.dump_stats(keep)
    total = sum(v[2] for v in st.stats.values()) or 1.0  # tottime summed = profiled script time

    def ours(key: tuple) -> bool:
        return (key[0].startswith(str(ROOT)) and "/bench/" not in key[0]
                and not key[0].endswith(("/app.py", "/server.py")))

    def name(key: tuple) -> str:
        fn, line, func = key
        try:
            fn = str(Path(fn).resolve().relative_to(ROOT))
        except ValueError:
            fn = fn.split("site-packages/")[-1].split("/lib/python3")[-1]
        return f"{fn}:{line}({func})"

    def reached_from(key: tuple) -> str:
        """The project function up the heaviest path of callers (best first, past recursion)."""
        seen, queue = {key}, [(-st.stats[key][3], key)]
        while queue:
            _, k = heapq.heappop(queue)
            if ours(k):
                return name(k)
            for c, v in st.stats[k][4].items():
                if c not in seen and c in st.stats:
                    seen.add(c)
                    heapq.heappush(queue, (-v[3], c))
        return ""

    own = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:n]
    cum = sorted([kv for kv in st.stats.items() if ours(kv[0])], key=lambda kv: kv[1][3], reverse=True)[:n]
    return {"profiled_ms_per_run": round(total * 1000 / len(files), 1), "runs": len(files),
            "own": [(name(k), round(v[2] / total, 3), reached_from(k) if project else "") for k, v in own],
            "cumulative_project": [(name(k), round(v[3] / total, 3)) for k, v in cum]}


def ensure_database(url: str) -> None:
    """The demo database with its sign-in accounts (built when absent, ~1.5 min)."""
    from auth import accounts
    from bench.bench_overview import ensure_database as build
    from store import Store

    build(url)
    store = Store(url)
    if store.is_demo():
        accounts.ensure_demo_accounts(store)
    store.engine.dispose()


def run(db_url: str, warm: int, profile: bool, shots: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    prof_keep = ROOT / "var" / "bench" / f"profiles-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    if profile:
        prof_keep.mkdir(parents=True, exist_ok=True)

    ensure_database(db_url)
    module = "bench.profiled_streamlit" if profile else "streamlit"
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        tmpd = Path(tmp)
        prof_dirs = {"app": tmpd / "prof-app", "floor": tmpd / "prof-floor"} if profile else {}
        # Streamlit serves static/ next to the main script: give the floor the app's static files
        (tmpd / "floor_page.py").symlink_to(ROOT / "bench" / "floor_page.py")
        (tmpd / "static").symlink_to(ROOT / "static")
        common = {"PYTHONUNBUFFERED": "1"}
        app_port, floor_port = free_port(), free_port()
        app = start_app("server.py", app_port, common | {"DATABASE_URL": db_url} | (
            {"BENCH_PROFILE_DIR": str(prof_dirs["app"])} if profile else {}), timeout=120, module=module)
        floor = None
        browser = None
        try:
            floor = start_app(str(tmpd / "floor_page.py"), floor_port, common | (
                {"BENCH_PROFILE_DIR": str(prof_dirs["floor"])} if profile else {}), timeout=120, module=module)
            tabs = [Tab("floor", f"http://127.0.0.1:{floor_port}/", floor)] + [
                Tab(label, f"http://127.0.0.1:{app_port}{path}", app) for label, path in PAGES]
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
            seen: set[Path] = set()
            # the overview tab first: it meets the sign-in form, and the cookie then opens the others
            for tab in sorted(tabs, key=lambda t: t.label != "overview"):
                tab.page = ctx.new_page()
                tab.first_cpu_ms, wall = _render(tab, first=True)
                _new_profiles(prof_dirs.get("floor" if tab is tabs[0] else "app"), seen)  # not warm
                print(f"  first render {tab.label:<9} {tab.first_cpu_ms:7.0f} ms CPU  {wall:7.0f} ms wall  "
                      f"{tab.elements} elements", flush=True)
            rss = [rss_mb(app.pid)]
            for r in range(warm):
                for tab in tabs:
                    cpu, wall = _render(tab, first=False)
                    tab.cpu_ms.append(round(cpu, 1))
                    tab.wall_ms.append(round(wall, 1))
                    tab.profiles += _new_profiles(prof_dirs.get("floor" if tab is tabs[0] else "app"), seen)
                rss.append(rss_mb(app.pid))
                print(f"  round {r + 1}/{warm}: " + "  ".join(f"{t.label} {t.cpu_ms[-1]:.0f}" for t in tabs)
                      + f" ms CPU; app server {rss[-1]:.0f} MB", flush=True)
            for tab in tabs if shots else []:  # proof of what the warm renders drew
                shots.mkdir(parents=True, exist_ok=True)
                tab.page.screenshot(path=str(shots / f"{tab.label}.png"), full_page=True)
            ctx.close()
        finally:
            if browser is not None:
                browser.close()
            if floor is not None:
                stop_app(floor)
            stop_app(app)
        floor_ms = statistics.median(tabs[0].cpu_ms)
        pages = {}
        for t in tabs:
            med = statistics.median(t.cpu_ms)
            pages[t.label] = {
                "url": t.url.split(":", 2)[-1].split("/", 1)[-1] or "/", "warm_cpu_ms_median": round(med, 1),
                "ratio_to_floor": round(med / floor_ms, 2), "warm_cpu_ms": t.cpu_ms,
                "warm_wall_ms_median": round(statistics.median(t.wall_ms), 1), "warm_wall_ms": t.wall_ms,
                "first_render_cpu_ms": round(t.first_cpu_ms, 1), "elements": t.elements,
            }
            if profile:
                pages[t.label]["profile"] = top_costs(t.profiles, keep=prof_keep / f"{t.label}.prof",
                                                     project=t is not tabs[0])
    return {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "database": db_url.split("@")[-1],
            "warm_rounds": warm, "profiled": profile, "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
            "goal_ratio": GOAL, "pages": pages, "app_rss_mb_per_round": rss,
            "within_goal": all(v["ratio_to_floor"] <= GOAL for v in pages.values())}


def print_table(res: dict) -> None:
    print(f"\n{'page':<10}{'CPU ms / warm render':>22}{'× floor':>9}{'wall ms':>9}{'first render CPU ms':>21}")
    for label, v in res["pages"].items():
        print(f"{label:<10}{v['warm_cpu_ms_median']:>22.0f}{v['ratio_to_floor']:>9.2f}"
              f"{v['warm_wall_ms_median']:>9.0f}{v['first_render_cpu_ms']:>21.0f}")
    print(f"goal: every page <= {GOAL}x the floor: {'met' if res['within_goal'] else 'not met'}"
          + ("  (profiled run: CPU includes cProfile's overhead)" if res["profiled"] else ""))
    if res["profiled"]:
        for label, v in res["pages"].items():
            pr = v.get("profile") or {}
            if not pr:
                continue
            print(f"\n{label}: {pr['profiled_ms_per_run']} ms profiled script time per run ({pr['runs']} runs)")
            print("  own time:   " + "\n              ".join(f"{s:6.1%}  {n}" + (f"  ← {w}" if w else "")
                                                         for n, s, w in pr["own"]))
            print("  cumulative: " + "\n              ".join(f"{s:6.1%}  {n}" for n, s in pr["cumulative_project"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="./cockpit bench pages", description=__doc__.splitlines()[0])
    ap.add_argument("--warm", type=int, default=7, help="warm rounds (every page and the floor once each)")
    ap.add_argument("--profile", action="store_true", help="cProfile every script run; print the top costs")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    ap.add_argument("--screenshots", type=Path, help="save each page as last rendered into this folder")
    ap.add_argument("--json", type=Path, help="write the result here (default var/bench/pages-<time>.json)")
    args = ap.parse_args(argv or [])
    res = run(args.database_url, args.warm, args.profile, args.screenshots)
    print_table(res)
    write_report(res, "pages-profile" if args.profile else "pages", args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
