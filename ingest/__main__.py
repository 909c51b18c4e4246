"""Command line for county reports and feeds (the app's upload page calls the same core).

    python -m ingest template COUNTY PERIOD -o file.xlsx
    python -m ingest import FILE --as COUNTY [--preview] [--user NAME] [--on-behalf NAME] [--lang en] [--json]
    python -m ingest import FILE --feed [--preview]          # platform feed: any county, from 2016
    python -m ingest rollback BATCH_ID [--user NAME]
    python -m ingest demo [--seed N] [--json]            # (re)create DATABASE_URL's database with demo data

Exit codes: 0 done (or previewed), 1 the file was refused (nothing written), 2 usage error
(unknown county, period or batch), 3 database failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys

import sqlalchemy as sa

from ingest.bootstrap import create_demo_database, seed_demo_extras
from ingest.importer import ImportOptions, ImportReport, import_file, resolve_county, rollback
from ingest.quality import record_rejection
from ingest.templates import template_bytes
from metrics.periods import PeriodError
from store import Store, migrate

PREVIEW_LINES = 40


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ingest", description="county report templates and imports")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("template", help="write the Excel template of a county and month")
    t.add_argument("county")
    t.add_argument("period", help="YYYY-MM")
    t.add_argument("-o", "--output", required=True)
    i = sub.add_parser("import", help="validate and import a report (.xlsx or .csv)")
    i.add_argument("file")
    i.add_argument("--as", dest="as_county", help="the reporting county (code or name)")
    i.add_argument("--feed", action="store_true", help="a platform feed: any county, dates from 2016")
    i.add_argument("--preview", action="store_true", help="show what would change; write nothing")
    i.add_argument("--user", default=None,
                   help="who submits: the batch's submitter and the audit entry's user (default cli:<OS user>)")
    i.add_argument("--on-behalf", dest="on_behalf", help="the person reported for (kept in the batch note)")
    i.add_argument("--lang", choices=["zh", "en"], default="zh")
    i.add_argument("--max-mb", type=float, default=20.0, help="size limit in MB (default 20)")
    i.add_argument("--json", action="store_true")
    r = sub.add_parser("rollback", help="withdraw a committed batch")
    r.add_argument("batch_id", type=int)
    r.add_argument("--user", default=None, help="who rolls back, for the audit log (default cli:<OS user>)")
    r.add_argument("--lang", choices=["zh", "en"], default="zh")
    d = sub.add_parser("demo", help="(re)create the database named by DATABASE_URL with demo data")
    d.add_argument("--seed", type=int, default=2021)
    d.add_argument("--json", action="store_true")
    return p


def _demo(args: argparse.Namespace) -> int:
    """The demo database as the first start makes it: figures, registers, townships and the demo extras."""
    # COCKPIT_DEMO_TODAY pins "today" (the history runs to the month before it): for tests and demos
    today = os.environ.get("COCKPIT_DEMO_TODAY")
    day = dt.date.fromisoformat(today) if today else None
    stats = create_demo_database(seed=args.seed, today=day)
    stats["instructions"] = len(seed_demo_extras(Store(), day))  # as the first start does
    print(json.dumps(stats, ensure_ascii=False) if args.json else
          f"demo database ready ({stats['dialect']}): {stats['observations']:,} observations in "
          f"{stats['batches']:,} batches through {stats['last_month']}, {stats['total_s']} s")
    return 0


def _print_report(rep: ImportReport, lang: str) -> None:
    print(rep.summary(lang))  # type: ignore[arg-type]
    for issue in rep.issues:
        print(f"  [{issue.severity}] {issue.message(lang)}")  # type: ignore[arg-type]
    ch = rep.changes[rep.changes["status"] != "unchanged"]
    if len(ch) and not rep.errors:
        for r in ch.head(PREVIEW_LINES).itertuples():
            old = "—" if r.old_value != r.old_value else f"{r.old_value:g}"  # NaN check
            print(f"  {r.status:9} {r.region_code} {r.measure_code:28} {r.obs_date} {old} -> {r.value:g}")
        if len(ch) > PREVIEW_LINES:
            print(f"  … {len(ch) - PREVIEW_LINES} more")


def default_user() -> str:
    """The CLI's user when --user is not given: the OS account, marked as a command-line session."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli:unknown"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "user", None) is None and args.cmd in ("import", "rollback"):
        args.user = default_user()
    try:
        if args.cmd == "template":
            try:
                data = template_bytes(args.county, args.period)
            except (KeyError, ValueError, PeriodError) as exc:
                print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
                return 2
            with open(args.output, "wb") as fh:
                fh.write(data)
            print(f"wrote {args.output} ({len(data)} bytes)")
            return 0
        if args.cmd == "demo":
            return _demo(args)
        store = Store()
        if migrate.current_revision(store.engine) is None:
            print(f"database error: {store.engine.url.render_as_string(hide_password=True)} has no schema yet; "
                  "start the app once (./cockpit run) or run `python -m ingest demo`", file=sys.stderr)
            return 3
        if args.cmd == "import":
            if not args.as_county and not args.feed:
                print("error: give --as COUNTY (a county's report) or --feed (a platform feed)", file=sys.stderr)
                return 2
            try:
                county = resolve_county(args.as_county) if args.as_county else None
            except KeyError as exc:
                print(f"error: {exc.args[0]}", file=sys.stderr)
                return 2
            opts = ImportOptions(max_bytes=int(args.max_mb * 2**20), feed=args.feed)
            rep = import_file(args.file, store, as_county=county, user=args.user, preview=args.preview,
                              options=opts, on_behalf=args.on_behalf)
            if rep.errors and not args.preview:
                record_rejection(store, rep, source="cli", region_code=county, user=args.user)
            if args.json:
                print(json.dumps({"summary": rep.summary(args.lang), "batch_id": rep.batch_id,
                                  "checksum": rep.checksum, "counts": rep.counts(),
                                  "issues": [i.as_dict() for i in rep.issues]}, ensure_ascii=False, indent=1))
            else:
                _print_report(rep, args.lang)
            return 1 if rep.errors else 0
        ok, msg = rollback(store, args.batch_id, args.user, args.lang)
        print(msg, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 2
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:
        print(f"database error: {str(exc).splitlines()[0][:200]}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
