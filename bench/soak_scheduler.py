"""Scheduler soak: two scheduler processes for N minutes with a job every minute; then audit the history.

`PYTHONPATH=. .venv/bin/python -m bench.soak_scheduler [--minutes 31] [--url URL]` (default: a scratch PostgreSQL database
`cockpit_soak` on this machine's service, filled with the demo on first use). Two `python -m scheduler`
processes run side by side, as a misconfigured deployment might; the lease must make exactly one act.
`drop_folder` runs every 60 s (a real scan of an empty drop folder), `rollup_refresh` every 300 s.

The audit reads `job_run` for the soak's window and checks, for the per-minute job:
- missed: a gap between consecutive starts longer than 1.5 intervals;
- doubled: two starts closer than 0.5 interval (or two in the same minute);
- one actor: every attempt written by one instance;
- no failed attempts of any job.
It prints the figures and exits 1 when any check fails. The result is also written as JSON to
var/soak/result.json for the closing note.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import sqlalchemy as sa

from store.db import ROOT
from store.schema_jobs import job_run

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
EVERY = 60


def scratch_pg(name: str = "cockpit_soak") -> str:
    """A PostgreSQL database of its own (kept between runs: the demo fill takes a minute)."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def audit(url: str, since: dt.datetime, until: dt.datetime, every: float = EVERY) -> dict:
    """The checks listed in the module docstring, over job_run rows started in [since, until]."""
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(job_run.c.job_id, job_run.c.status, job_run.c.started_at, job_run.c.instance_id)
            .where(job_run.c.started_at >= since, job_run.c.started_at <= until)
            .order_by(job_run.c.started_at)
        ).all()
    eng.dispose()
    minute = [r for r in rows if r.job_id == "drop_folder"]
    starts = [r.started_at for r in minute]
    gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]
    per_minute: dict[str, int] = {}
    for s in starts:
        per_minute[s.strftime("%Y-%m-%d %H:%M")] = per_minute.get(s.strftime("%Y-%m-%d %H:%M"), 0) + 1
    span = (starts[-1] - starts[0]).total_seconds() if len(starts) > 1 else 0.0
    expected = int(round(span / every)) + 1 if starts else 0
    result = {
        "window": [since.isoformat(sep=" "), until.isoformat(sep=" ")],
        "minutes": round((until - since).total_seconds() / 60, 1),
        "per_minute_runs": len(minute),
        "expected_runs_between_first_and_last": expected,
        "missed": sum(1 for g in gaps if g > 1.5 * every),
        "doubled": sum(1 for g in gaps if g < 0.5 * every) + sum(1 for n in per_minute.values() if n > 1),
        "gap_min_s": min(gaps) if gaps else None,
        "gap_max_s": max(gaps) if gaps else None,
        "instances_acting": sorted({r.instance_id for r in rows}),
        "runs_by_job": {j: sum(1 for r in rows if r.job_id == j) for j in sorted({r.job_id for r in rows})},
        "failed": sum(1 for r in rows if r.status == "failed"),
        "still_running": sum(1 for r in rows if r.status == "running"),
    }
    result["ok"] = bool(
        minute and result["missed"] == 0 and result["doubled"] == 0 and len(result["instances_acting"]) == 1
        and result["failed"] == 0 and len(minute) == expected
        and span >= (until - since).total_seconds() - 2.5 * every
    )
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.soak_scheduler", description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=31.0)
    ap.add_argument("--url", default=None, help="database URL (default: scratch PostgreSQL cockpit_soak)")
    args = ap.parse_args(argv)
    url = args.url or scratch_pg()
    out_dir = ROOT / "var" / "soak"
    drop = out_dir / "drop"
    drop.mkdir(parents=True, exist_ok=True)
    from ingest.bootstrap import ensure_database

    t0 = time.perf_counter()
    ensure_database(url)
    print(f"database ready in {time.perf_counter() - t0:.1f} s", flush=True)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "COCKPIT_DROP_DIR": str(drop),
           "COCKPIT_DROP_EVERY": str(EVERY), "COCKPIT_ROLLUP_EVERY": "300", "COCKPIT_PACK_EVERY": "3600",
           "COCKPIT_FRESHNESS_EVERY": "3600", "COCKPIT_LEASE_TTL": "30"}
    # start the window after the catch-up runs of a fresh start (each job runs once at once if overdue)
    since = dt.datetime.now().replace(microsecond=0)
    procs = []
    for i in (1, 2):
        log = open(out_dir / f"scheduler-{i}.log", "w")  # noqa: SIM115 (closed with the process)
        procs.append((subprocess.Popen([sys.executable, "-m", "scheduler"], env={**env, "COCKPIT_SCHEDULER_ID": f"soak-{i}"},
                                       stdout=log, stderr=subprocess.STDOUT, cwd=ROOT), log))
        time.sleep(2)
    end = time.monotonic() + args.minutes * 60
    try:
        while time.monotonic() < end:
            for p, _ in procs:
                if p.poll() is not None:
                    print(f"scheduler pid {p.pid} exited with {p.returncode}", flush=True)
                    return 1
            time.sleep(5)
    finally:
        for p, _ in procs:
            p.send_signal(signal.SIGTERM)
        for p, log in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
            log.close()
    until = dt.datetime.now().replace(microsecond=0)
    res = audit(url, since, until)
    (out_dir / "result.json").write_text(json.dumps(res, indent=2, ensure_ascii=False))
    print(json.dumps(res, indent=2, ensure_ascii=False))
    print("soak OK" if res["ok"] else "soak FAILED", flush=True)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
