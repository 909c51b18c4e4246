"""`python -m scheduler [--once JOB] [--drop-folder DIR]`: the scheduler process (no Streamlit).

Without --once it runs until SIGTERM/SIGINT: it waits for the lease, then runs the jobs on their
schedule. With --once it takes the lease, runs one job (with retries) and exits: 0 succeeded,
1 failed, 3 another scheduler holds the lease. Configuration by environment: DATABASE_URL,
COCKPIT_DROP_DIR (default var/drop), COCKPIT_LEASE_TTL, COCKPIT_DROP_EVERY, COCKPIT_ROLLUP_EVERY,
COCKPIT_FRESHNESS_EVERY, COCKPIT_SNAPSHOT_HOUR, COCKPIT_JOB_ATTEMPTS, COCKPIT_JOB_BACKOFF,
COCKPIT_DROP_MIN_AGE, COCKPIT_STOP_GRACE, COCKPIT_PUSH_EVERY (and push/job.py's), COCKPIT_SCHEDULER_ID, COCKPIT_TZ (default: the host's local time zone).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import sqlalchemy as sa

import applog as logs
from scheduler.service import JOB_IDS, Config, Service
from store import Store


def _migrate(store: Store) -> None:
    """Bring the schema to head; wait for the database if it is not there yet."""
    delay = 1.0
    while True:
        try:
            store.migrate()
            return
        except sa.exc.OperationalError as exc:
            logging.getLogger("scheduler").warning(json.dumps(
                {"event": "database_unreachable", "retry_in_s": delay, "error": str(exc).splitlines()[0][:200]}))
        except sa.exc.SQLAlchemyError as exc:  # e.g. two schedulers migrating at once: check again
            logging.getLogger("scheduler").warning(json.dumps(
                {"event": "migrate_failed", "retry_in_s": delay, "error": str(exc).splitlines()[0][:200]}))
        time.sleep(delay)
        delay = min(delay * 2, 30.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scheduler", description=__doc__.splitlines()[0])
    ap.add_argument("--once", choices=JOB_IDS, help="run one job now and exit")
    ap.add_argument("--drop-folder", type=Path, help="the drop folder (default $COCKPIT_DROP_DIR or var/drop)")
    ap.add_argument("--database-url", help="default $DATABASE_URL or the embedded SQLite file")
    args = ap.parse_args(argv)
    logs.setup_process(logging.INFO)  # JSON lines on stdout (applog/, shared with the app)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    cfg = Config()
    if args.drop_folder:
        cfg.drop_dir = args.drop_folder
    store = Store(args.database_url)
    _migrate(store)
    svc = Service(store, cfg)
    if args.once:
        status = svc.run_once(args.once)
        return {"succeeded": 0, "failed": 1, "skipped": 3}[status]
    svc.install_signals()
    svc.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
