"""Data quality per county and month: who reported, late, partly, not at all, or was refused.

The reform office chases people with this, so every status is derived from what the store really
holds, never from the demo generator's intentions:

  reported  every measure counties report (county-level, month-grain) has a value from a committed
            county report (not a platform feed) and the last of them arrived by the due day
            (REPORT_DUE_DAY of the following month, as the engine and the freshness job use);
  late      complete, but the report became complete after the due day;
  partial   some measures arrived, others are still missing, and the month is due;
  rejected  nothing accepted, and at least one import attempt for that county and month was
            refused (see `record_rejection`; the reasons are the importer's own messages);
  missing   nothing arrived and the month is due (逾期未报);
  pending   the month is not due yet, the report is not complete and no attempt was refused
            (a refused attempt shows as rejected even before the due day);
  na        the county did not exist that month (region validity dates).

A report rolled back no longer counts; a later correction does not make an on-time report late
(the first arrival of each measure counts). Refused attempts stay visible beside a later accepted
report (`n_rejected`), so a county that needed three tries is seen too.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa

from auth import audit
from ingest.importer import ImportReport
from ingest.templates import reported_measures
from metrics.catalogue import Catalogue
from metrics.catalogue import catalogue as default_catalogue
from metrics.engine import REPORT_DUE_DAY
from metrics.geography import Geography, geography
from metrics.periods import add_months, last_complete_month
from store import Store
from store.schema import import_batch, observation
from store.schema_ingest import import_rejection

STATUSES = ("reported", "late", "partial", "rejected", "missing", "pending", "na")
PROBLEMS = ("late", "partial", "rejected", "missing")  # what the detail table and chase list show
CHASE = ("partial", "rejected", "missing")  # still owed: somebody has to be called
MAX_MESSAGES = 50  # error messages kept per refused attempt (the importer already caps repeats)
CELL_COLUMNS = ["county", "city", "month", "due_date", "status", "n_expected", "n_reported", "missing_measures",
                "first_received", "complete_at", "days_late", "days_overdue", "n_rejected", "last_rejected_at",
                "rejected_file", "rejected_by", "reasons", "last_submitter"]


def due_date(month: dt.date) -> dt.date:
    """The day a month's county report is due (in the following month)."""
    return add_months(month.replace(day=1), 1).replace(day=REPORT_DUE_DAY)


def month_window(end: dt.date, n: int) -> list[dt.date]:
    """The `n` months ending with `end`'s month, oldest first."""
    last = end.replace(day=1)
    return [add_months(last, -i) for i in range(n - 1, -1, -1)]


def _label(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def _ts(v) -> dt.datetime | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    return pd.Timestamp(v).to_pydatetime()


# -- refused attempts --------------------------------------------------------------------------------
def record_rejection(
    store: Store,
    rep: ImportReport,
    *,
    source: str,
    region_code: str | None = None,
    period: str | None = None,
    user: str | None = None,
    received_at: dt.datetime | None = None,
) -> int:
    """Log a refused import (the figures stay untouched); returns the row id.

    Called by whoever refused the file (the upload page, the drop folder and the CLI): the
    importer itself stays side-effect free, so a refused file changes nothing but this log and
    its "import_refused" audit entry (same transaction; the audit user is `user`).
    """
    errors = rep.errors
    msgs = [{"row": i.row, "col": i.col, "code": i.code, "zh": i.message("zh"), "en": i.message("en")}
            for i in errors[:MAX_MESSAGES]]
    causes = ",".join(dict.fromkeys(i.code for i in errors))
    with store.engine.begin() as conn:
        res = conn.execute(import_rejection.insert().values(
            received_at=received_at or dt.datetime.now().replace(microsecond=0), source=source[:16],
            region_code=region_code, period=period, file_name=(rep.file_name or "")[:255] or None,
            checksum=rep.checksum, submitted_by=(user or "")[:64] or None, n_errors=rep.error_count,
            n_warnings=len(rep.warnings), messages=json.dumps(msgs, ensure_ascii=False),
        ))
        rid = int(res.inserted_primary_key[0])
        audit.record(store, user, "import_refused", region_code or "office",
                     f"{rep.file_name} source={source} period={period or '-'} errors={rep.error_count} "
                     f"causes={causes} rejection={rid} sha256={(rep.checksum or '')[:16]}", conn=conn)
        return rid


def reporting_month(store: Store, today: dt.date | None = None) -> dt.date | None:
    """The month being reported now: the newest month a county report was committed or refused
    for (feeds and rolled-back batches aside), never past the last complete month. The quality
    grid must reach it even when the cockpit's latest month with data is earlier, or an officer
    cannot see the report (or the refused attempt) they just sent."""
    b, r = import_batch.c, import_rejection.c
    with store.engine.connect() as conn:
        labels = conn.execute(sa.select(b.period).distinct().where(
            b.status == "committed", b.source == "import", b.period.is_not(None))).scalars().all()
        labels += conn.execute(sa.select(r.period).distinct().where(r.period.is_not(None))).scalars().all()
    months = []
    for label in labels:
        try:  # a batch's period is "2026-10" or a range "2026-09..2026-10"
            months.append(dt.date.fromisoformat(str(label).split("..")[-1][:7] + "-01"))
        except ValueError:
            continue
    if not months:
        return None
    cap = last_complete_month(today).start
    return min(max(months), cap)


def rejections(store: Store, months: Iterable[dt.date] | None = None, counties: Iterable[str] | None = None,
               *, unattributed: bool = False, allowed: Iterable[str] | None = None,
               user: str | None = None) -> pd.DataFrame:
    """Refused attempts, newest first, with their messages parsed (list of {row, col, code, zh, en}).

    `unattributed`: only those with no county (a reform-office upload naming regions in the file, or
    a file unreadable before its county was known), which the county grid cannot show.
    `allowed` (a scoped reader's region codes; None = the province): only refusals of those counties,
    and of the unattributed ones only those `user` submitted — their messages may quote any county.
    """
    r = import_rejection.c
    q = sa.select(import_rejection).order_by(r.received_at.desc(), r.id.desc())
    if months is not None:
        labels = [_label(m) for m in months]
        q = q.where(sa.or_(r.period.in_(labels), r.period.is_(None)) if unattributed else r.period.in_(labels))
    if unattributed:
        q = q.where(r.region_code.is_(None))
    elif counties is not None:
        q = q.where(r.region_code.in_(sorted(set(counties))))
    if allowed is not None:
        mine = r.submitted_by == user if user else sa.false()
        q = q.where(sa.or_(r.region_code.in_(sorted(set(allowed))), sa.and_(r.region_code.is_(None), mine)))
    with store.engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in import_rejection.columns])
    df["messages"] = [json.loads(m) if m else [] for m in df["messages"]]
    return df


def rejection_mark(store: Store) -> int:
    """Moves on with every logged refusal (count + newest id): a cache key beside the data version,
    which refusals do not touch."""
    r = import_rejection.c
    with store.engine.connect() as conn:
        n, top = conn.execute(sa.select(sa.func.count(), sa.func.max(r.id))).one()
    return int(n or 0) * 1_000_003 + int(top or 0)


# -- the grid ----------------------------------------------------------------------------------------
def _arrivals(store: Store, months: list[dt.date], counties: list[str], measures: list[str]) -> pd.DataFrame:
    """Per (county, month): measures arrived, first arrival, and when the last measure first arrived."""
    o, b = observation.c, import_batch.c
    per_measure = (
        sa.select(o.region_code, o.month, o.measure_code, sa.func.min(b.received_at).label("first_at"))
        .select_from(observation.join(import_batch, b.id == o.batch_id))
        .where(b.status == "committed", b.source != "feed", o.measure_code.in_(measures), o.month.in_(months),
               o.region_code.in_(counties))
        .group_by(o.region_code, o.month, o.measure_code)
        .subquery("pm")
    )
    q = sa.select(per_measure.c.region_code, per_measure.c.month, sa.func.count().label("n_reported"),
                  sa.func.min(per_measure.c.first_at).label("first_received"),
                  sa.func.max(per_measure.c.first_at).label("complete_at")
                  ).group_by(per_measure.c.region_code, per_measure.c.month)
    with store.engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["county", "month", "n_reported", "first_received",
                                                          "complete_at"])
    df["month"] = [_label(pd.Timestamp(m).date()) for m in df["month"]]
    return df


def _present(store: Store, keys: list[tuple[str, str]], months: list[dt.date],
             measures: list[str]) -> dict[tuple[str, str], set[str]]:
    """The measures that did arrive, for the partly reported (county, month) cells (one query)."""
    if not keys:
        return {}
    o, b = observation.c, import_batch.c
    q = (sa.select(o.region_code, o.month, o.measure_code).distinct()
         .select_from(observation.join(import_batch, b.id == o.batch_id))
         .where(b.status == "committed", b.source != "feed", o.measure_code.in_(measures), o.month.in_(months),
                o.region_code.in_(sorted({c for c, _ in keys}))))
    wanted = set(keys)
    out: dict[tuple[str, str], set[str]] = {k: set() for k in keys}
    with store.engine.connect() as conn:
        for county, month, measure in conn.execute(q):
            key = (county, _label(pd.Timestamp(month).date()))
            if key in wanted:
                out[key].add(measure)
    return out


def _last_submitters(store: Store, counties: list[str]) -> dict[str, str]:
    """Who last sent each county's report (the person to call first)."""
    b = import_batch.c
    latest = (sa.select(b.region_code, sa.func.max(b.id).label("id"))
              .where(b.region_code.in_(counties), b.source != "feed").group_by(b.region_code).subquery("l"))
    q = sa.select(latest.c.region_code, b.submitted_by).join(import_batch, b.id == latest.c.id)
    with store.engine.connect() as conn:
        return {r: (w or "") for r, w in conn.execute(q).all()}


def _exists(geo: Geography, county: str, month: dt.date) -> bool:
    r = geo.get(county)
    month_end = add_months(month, 1) - dt.timedelta(days=1)
    return (r.valid_from is None or r.valid_from <= month_end) and (r.valid_to is None or r.valid_to > month)


def quality_cells(
    store: Store,
    months: list[dt.date],
    counties: list[str] | None = None,
    *,
    measures: list[str] | None = None,
    today: dt.date | None = None,
    geo: Geography | None = None,
    cat: Catalogue | None = None,
) -> pd.DataFrame:
    """One row per (county, month) with its status and the facts behind it (CELL_COLUMNS)."""
    geo = geo or geography()
    today = today or dt.date.today()
    counties = list(counties) if counties is not None else geo.counties
    measures = measures or [m.code for m in reported_measures(cat or default_catalogue())]
    months = [m.replace(day=1) for m in months]
    grid = pd.DataFrame([(c, _label(m)) for c in counties for m in months], columns=["county", "month"])
    if grid.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    arr = _arrivals(store, months, counties, measures)
    cells = grid.merge(arr, on=["county", "month"], how="left")
    cells["n_reported"] = cells["n_reported"].fillna(0).astype(int)
    cells["n_expected"] = len(measures)
    rej = rejections(store, months, counties)
    by_cell = {k: g for k, g in rej.groupby(["region_code", "period"])} if len(rej) else {}
    who = _last_submitters(store, counties)
    month_of = {_label(m): m for m in months}
    rows = []
    for rec in cells.itertuples(index=False):
        month = month_of[rec.month]
        due = due_date(month)
        first, complete = _ts(rec.first_received), _ts(rec.complete_at)
        tried = by_cell.get((rec.county, rec.month))
        n_rej = 0 if tried is None else len(tried)
        overdue = today >= due
        if not _exists(geo, rec.county, month):
            status = "na"
        elif rec.n_reported >= rec.n_expected:
            status = "late" if complete is not None and complete.date() > due else "reported"
        elif not overdue:
            # a refused attempt for the month being reported is shown as such, not hidden as "not due"
            status = "rejected" if n_rej else "pending"
        elif rec.n_reported > 0:
            status = "partial"
        elif n_rej:
            status = "rejected"
        else:
            status = "missing"
        last = tried.iloc[0] if n_rej else None
        rows.append({
            "county": rec.county, "city": geo.city_of(rec.county), "month": rec.month, "due_date": due,
            "status": status, "n_expected": int(rec.n_expected), "n_reported": int(rec.n_reported),
            "missing_measures": [], "first_received": first, "complete_at": complete,
            "days_late": (complete.date() - due).days if status == "late" else None,
            "days_overdue": (today - due).days if status in CHASE and overdue else None,
            "n_rejected": n_rej, "last_rejected_at": _ts(last["received_at"]) if last is not None else None,
            "rejected_file": last["file_name"] if last is not None else None,
            "rejected_by": last["submitted_by"] if last is not None else None,
            "reasons": list(last["messages"]) if last is not None else [],
            "last_submitter": who.get(rec.county, ""),
        })
    partial = [(r["county"], r["month"]) for r in rows if r["status"] == "partial"]
    present = _present(store, partial, months, measures)
    for r in rows:
        if r["status"] in CHASE:
            got = present.get((r["county"], r["month"]), set())
            r["missing_measures"] = [m for m in measures if m not in got]
    out = pd.DataFrame(rows, columns=CELL_COLUMNS)
    for col in ("days_late", "days_overdue"):
        out[col] = out[col].astype("Int64")  # whole days, <NA> where they do not apply
    return out


def matrix(cells: pd.DataFrame) -> pd.DataFrame:
    """Counties x months of status codes (rows in the order of `cells`, months oldest first)."""
    if cells.empty:
        return pd.DataFrame()
    m = cells.pivot(index="county", columns="month", values="status")
    return m.reindex(index=list(dict.fromkeys(cells["county"])), columns=sorted(m.columns))


def month_summary(cells: pd.DataFrame) -> pd.DataFrame:
    """Per month, how many counties are in each status (STATUSES order, empty ones kept)."""
    if cells.empty:
        return pd.DataFrame(columns=list(STATUSES))
    return (cells.groupby(["month", "status"]).size().unstack(fill_value=0)
            .reindex(columns=list(STATUSES), fill_value=0).sort_index())


def problems(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells somebody has to look at (late, partial, rejected, missing), worst first."""
    rank = {s: i for i, s in enumerate(("rejected", "missing", "partial", "late"))}
    p = cells[cells["status"].isin(PROBLEMS)].copy()
    p["_r"] = p["status"].map(rank)
    return p.sort_values(["_r", "month", "county"], ascending=[True, False, True]).drop(columns="_r")


def chase_list(cells: pd.DataFrame) -> pd.DataFrame:
    """Who to call: one row per county that still owes a report in the window, most overdue first.

    Columns: county, city, months (owed, oldest first), statuses, missing_measures (union over the
    owed months), days_overdue (the oldest owed month's), n_rejected, reasons (the latest refusal's
    messages), last_submitter.
    """
    owed = cells[cells["status"].isin(CHASE)]
    cols = ["county", "city", "months", "statuses", "missing_measures", "days_overdue", "n_rejected", "reasons",
            "last_submitter"]
    if owed.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for county, g in owed.groupby("county", sort=False):
        g = g.sort_values("month")
        miss: list[str] = []
        for ms in g["missing_measures"]:
            miss += [m for m in ms if m not in miss]
        tried = g[g["n_rejected"] > 0].sort_values("last_rejected_at")
        rows.append({
            "county": county, "city": g["city"].iloc[0], "months": list(g["month"]),
            "statuses": list(g["status"]), "missing_measures": miss,
            "days_overdue": int(g["days_overdue"].fillna(0).max()), "n_rejected": int(g["n_rejected"].sum()),
            "reasons": list(tried["reasons"].iloc[-1]) if len(tried) else [],
            "last_submitter": g["last_submitter"].iloc[0],
        })
    return pd.DataFrame(rows, columns=cols).sort_values(["days_overdue", "county"], ascending=[False, True],
                                                         ignore_index=True)
