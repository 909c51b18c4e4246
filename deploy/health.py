"""`python -m deploy.health`: is the cockpit able to serve? JSON on stdout, exit 0 (healthy) or 1.

Streamlit's own /_stcore/health only says a replica's web server runs. This check also touches
the API behind the proxy (/api/v1/health) and what the pages need: the database answers a real query (the data version every page reads) and
the scheduler holds a live lease (it renews `scheduler_lease.heartbeat_at` every few seconds;
a dead scheduler stops renewing and its lease expires after COCKPIT_LEASE_TTL seconds). Use it
from monitoring (a systemd timer, Nagios/Zabbix-style exit code) or as a load balancer's external
check; the proxy's /healthz is the cheap HTTP liveness probe.

Without options it checks DATABASE_URL and, when the layout is up (var/deploy/layout.json), the
proxy and every replica it recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import urllib.request

import sqlalchemy as sa

from deploy.state import LOOPBACK, State, state_file
from scheduler.status import lease
from store import Store
from store.db import make_engine


def _http(url: str, timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read(64).decode(errors="replace").strip()
            upstream = r.headers.get("X-Cockpit-Upstream")
            ok = r.status == 200 and body == "ok"
    except OSError as exc:
        return {"ok": False, "url": url, "error": type(exc).__name__}
    out = {"ok": ok, "url": url, "ms": round((time.perf_counter() - t0) * 1000, 1)}
    if upstream:
        out["upstream"] = upstream
    return out


def check_api(url: str, timeout: float) -> dict:
    """The read-only API's own health (`/api/v1/health`: it reads the data version, no token)."""
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = json.loads(r.read(4096).decode("utf-8"))
            upstream = r.headers.get("X-Cockpit-Upstream")
    except (OSError, ValueError) as exc:  # refused, 503 (HTTPError is an OSError), not JSON
        return {"ok": False, "url": url, "error": type(exc).__name__}
    out = {"ok": body.get("status") == "ok", "url": url, "data_version": body.get("data_version"),
           "ms": round((time.perf_counter() - t0) * 1000, 1)}
    if upstream:
        out["upstream"] = upstream
    return out


def check_database(engine: sa.engine.Engine) -> dict:
    """A real query on the table every page reads first (meta.data_version)."""
    t0 = time.perf_counter()
    try:
        version = int(Store(engine).get_meta("data_version", "0") or 0)
    except sa.exc.SQLAlchemyError as exc:  # unreachable, or no schema yet
        orig = getattr(exc, "orig", None)
        return {"ok": False, "error": type(exc).__name__ + (f" · {type(orig).__name__}" if orig else "")}
    out = {"ok": version > 0, "data_version": version, "ms": round((time.perf_counter() - t0) * 1000, 1)}
    if version <= 0:
        out["error"] = "no data loaded (data_version 0)"
    return out


def check_scheduler(engine: sa.engine.Engine) -> dict:
    """The lease is live: exactly the condition under which a scheduler acts."""
    try:
        ls = lease(engine)
    except sa.exc.SQLAlchemyError as exc:
        return {"ok": False, "error": type(exc).__name__}
    now = dt.datetime.now()
    hb = ls.get("heartbeat_at")
    return {"ok": bool(ls["live"]), "holder": ls.get("holder"),
            "heartbeat_age_s": round((now - hb).total_seconds(), 1) if hb else None,
            "expires_in_s": round((ls["expires_at"] - now).total_seconds(), 1) if ls.get("expires_at") else None}


def check(database_url: str | None, proxy: str | None = None, replicas: list[str] | None = None,
          scheduler: bool = True, timeout: float = 3.0) -> dict:
    """Every check in one report; `ok` only when all pass."""
    checks: dict[str, dict] = {}
    engine = make_engine(database_url)
    try:
        checks["database"] = check_database(engine)
        if scheduler:
            checks["scheduler"] = (check_scheduler(engine) if checks["database"]["ok"]
                                   else {"ok": False, "error": "database unreachable"})
    finally:
        engine.dispose()
    if proxy:
        checks["proxy"] = _http(proxy.rstrip("/") + "/healthz", timeout)
        checks["api"] = check_api(proxy.rstrip("/") + "/api/v1/health", timeout)
    for i, url in enumerate(replicas or [], start=1):
        checks[f"replica-{i}"] = _http(url.rstrip("/") + "/_stcore/health", timeout)
        if proxy:  # the same replica reached through nginx
            checks[f"replica-{i}-via-proxy"] = _http(f"{proxy.rstrip('/')}/healthz/replica/{i}", timeout)
    return {"ok": all(c["ok"] for c in checks.values()),
            "checked_at": dt.datetime.now().isoformat(timespec="seconds"), "checks": checks}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.health", description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", help="default: the layout's, else $DATABASE_URL")
    ap.add_argument("--proxy", help="the proxy's base URL (checks /healthz and /healthz/replica/N)")
    ap.add_argument("--replica", action="append", default=None, help="a replica's base URL (repeatable)")
    ap.add_argument("--no-scheduler", action="store_true", help="skip the scheduler lease check")
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args(argv)
    state = State.load(state_file())
    url = args.database_url or (state.database_url if state else None)
    proxy = args.proxy or (f"http://{LOOPBACK}:{state.proxy_port}" if state and not args.replica else None)
    replicas = args.replica if args.replica is not None else (
        [f"http://{LOOPBACK}:{p.port}" for p in state.replicas()] if state else [])
    report = check(url, proxy, replicas, scheduler=not args.no_scheduler, timeout=args.timeout)
    print(json.dumps(report, ensure_ascii=False, default=str))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
