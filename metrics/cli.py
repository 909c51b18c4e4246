"""`python -m metrics`: list the catalogue, compute a value (the demo database: `python -m ingest demo`).

Errors in the question (unknown KPI, region or period) print one line and exit with 2; database
problems exit with 3. No tracebacks for people.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from metrics.catalogue import CatalogueError, catalogue
from metrics.engine import EngineError


def _fmt(value: float | None, fmt: str, decimals: int) -> str:
    if value is None:
        return "—"
    if fmt == "percent":
        return f"{value * 100:.{decimals}f}%"
    if fmt == "integer":
        return f"{value:,.0f}"
    return f"{value:,.{decimals}f}"


def cmd_list(args: argparse.Namespace) -> int:
    cat = catalogue()
    if args.json:
        print(json.dumps([k.model_dump() | {"measures": list(k.measures)} for k in cat.kpis], ensure_ascii=False,
                         indent=2))
        return 0
    for s in sorted(cat.systems, key=lambda s: s.order):
        print(f"[{s.code}] {s.name_zh} / {s.name_en}")
        for k in cat.kpis_of(s.code):
            print(f"  {k.code:<32} {k.name_zh}  ({k.unit_zh}, {'↑' if k.direction == 'up' else '↓'}, {k.kind})")
    return 0


def cmd_value(args: argparse.Namespace) -> int:
    from metrics import open_engine  # looked up when run, so a caller (tests) can substitute the engine

    eng = open_engine()
    period = args.period or eng.latest_month()
    if period is None:
        raise EngineError("no county reports in the database: give a PERIOD")
    known_at = None
    if args.known_at:
        try:
            known_at = dt.datetime.fromisoformat(args.known_at)
        except ValueError:
            raise EngineError(f"--known-at {args.known_at!r} is not a date or date-time (2026-11-20T18:00)") from None
    res = eng.value(args.kpi, args.region, period, known_at=known_at)
    k = eng.catalogue.kpi(res.kpi)
    if args.json:
        print(json.dumps(res.as_dict() | {"format": k.format}, ensure_ascii=False, indent=2, default=str))
        return 0
    reg = eng.geo.get(res.region)
    print(f"{k.name_zh} · {reg.name_zh} · {res.period}")
    print(f"  value      {_fmt(res.value, k.format, k.decimals)} {'' if k.format == 'percent' else k.unit_zh}")
    if res.numerator is not None:
        print(f"  formula    {res.numerator:,.0f} ÷ {res.denominator:,.0f}")
    print(f"  target     {_fmt(res.target, k.format, k.decimals)} ({res.target_source or 'none'})  "
          f"attainment {'—' if res.attainment is None else f'{res.attainment:.1%}'}  status {res.status}")
    print(f"  环比 {_fmt(res.prev_value, k.format, k.decimals)}  同比 {_fmt(res.yoy_value, k.format, k.decimals)}")
    if res.rank:
        print(f"  rank       {res.rank}/{res.rank_of}" + "".join(f"  {g} {r}/{n}" for g, (r, n) in res.peer_ranks.items()))
    if known_at:
        print(f"  known at   {known_at:%Y-%m-%d %H:%M:%S}")
    print(f"  as of      {res.as_of}   reported {res.n_reported}/{res.n_expected}"
          + (f"   missing {','.join(res.missing)}" if res.missing else ""))
    print(f"  batches    {len(res.batches)} ({', '.join(map(str, res.batches[:8]))}{' …' if len(res.batches) > 8 else ''})")
    for n in res.notes:
        print(f"  note       {n}")
    return 0


def _split(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def cmd_bulk(args: argparse.Namespace) -> int:
    """All KPIs x regions of a period (or those named) as CSV or JSON: the API's `values` columns.

    `--scope` reads as a token or user of that city or county would (the read boundary's scope).
    """
    from metrics import open_engine
    from metrics.access import Reader
    from metrics.geography import PROVINCE
    from metrics.values import frame_json, to_csv, value_rows

    eng = open_engine()
    period = eng.resolve_period(args.period)
    try:
        reader = Reader.for_code(eng, eng.geo.resolve(args.scope) if args.scope else PROVINCE)
        df = value_rows(reader, period, _split(args.regions), _split(args.kpis))
    except (KeyError, ValueError, PermissionError) as exc:
        raise EngineError(exc.args[0] if exc.args else str(exc)) from None
    out = sys.stdout.buffer
    if args.format == "csv":
        out.write(to_csv(df))
    else:
        out.write(frame_json(df).encode("utf-8") + b"\n")
    out.flush()
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """问数 from a script: the reading, the sentence, the link; exit 1 on a clarification or refusal.

    `--scope` answers as a user of that city or county would be answered (the read boundary's scope);
    the app, which knows who asks, logs a refusal in the audit log.
    """
    from metrics import open_engine
    from metrics.access import Scope
    from metrics.ask import ask

    eng = open_engine()
    allowed = None
    if args.scope:
        try:
            allowed = set(Scope.of(eng.geo.resolve(args.scope), eng.geo).regions)
        except (KeyError, ValueError) as exc:
            raise EngineError(f"--scope: {exc}") from exc
    reply = ask(args.question, eng, allowed, lang=args.lang)
    if args.json:
        print(json.dumps(reply.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        if reply.reading:
            print(reply.reading)
        print(reply.sentence)
        if reply.link:
            print(reply.link)
    return 0 if reply.kind == "answer" else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m metrics", description="Zhejiang digital-reform KPI engine")
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("list", help="print the KPI catalogue")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=cmd_list)
    pv = sub.add_parser("value", help="one KPI for one region and period")
    pv.add_argument("kpi")
    pv.add_argument("region", help="GB/T 2260 code (330000, 330100, 330102) or a peer-group name (山区26县)")
    pv.add_argument("period", nargs="?", default=None,
                    help="2024-06-03, 2024-06, 2024-Q2, 2024 or 2024-06-YTD (default: the latest month)")
    pv.add_argument("--known-at", default=None, help="as known at this moment (default: now)")
    pv.add_argument("--json", action="store_true")
    pv.set_defaults(func=cmd_value)
    pb = sub.add_parser("bulk", help="all KPIs x regions of a period as CSV or JSON (the API's values columns)")
    pb.add_argument("period", help="2024-06, 2024-Q2, 2024 or 2024-06-YTD")
    pb.add_argument("--regions", default=None, help="comma-separated codes or names (default: all in scope)")
    pb.add_argument("--kpis", default=None, help="comma-separated KPI codes (default: all)")
    pb.add_argument("--scope", default=None, help="read within this city's or county's scope (code or name)")
    pb.add_argument("--format", choices=["csv", "json"], default="csv")
    pb.set_defaults(func=cmd_bulk)
    pa = sub.add_parser("ask", help="问数: answer a question in Chinese or English")
    pa.add_argument("question")
    pa.add_argument("--scope", default=None, help="answer within this city's or county's scope (code or name)")
    pa.add_argument("--lang", choices=["zh", "en"], default="zh")
    pa.add_argument("--json", action="store_true")
    pa.set_defaults(func=cmd_ask)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (EngineError, CatalogueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:
        print(f"error: database problem: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 3
