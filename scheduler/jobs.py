"""The scheduled jobs. Each is a plain function of the store (testable without a scheduler) that
does its writes in transactions, so a job killed halfway leaves the data as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from followup.service import escalate_overdue
from ingest.formats import IMPORT_SUFFIXES
from ingest.importer import ImportOptions, import_file, resolve_county
from ingest.quality import record_rejection
from ingest.templates import reported_measures
from metrics.periods import latest_due_month
from scheduler.history import JobResult
from scheduler.texts import tr
from store import Store
from store.schema import import_batch, meta, observation, region, rollup_month
from store.schema_jobs import freshness_alert, snapshot, snapshot_item
from store.store import county_month_select, current_observations

log = logging.getLogger("scheduler.jobs")

REPORT_DUE_DAY = 15  # as metrics.engine.REPORT_DUE_DAY (not imported: keeps this process light)
SUFFIXES = IMPORT_SUFFIXES
COUNTY_FILE = re.compile(r"^(\d{6})_")
PERIOD_IN_NAME = re.compile(r"(20\d\d)-?(0[1-9]|1[0-2])(?!\d)")
# Test hook: seconds to pause inside the rollup refresh transaction, after the delete and before the
# insert (the kill-in-the-middle fault test); a file is touched when the pause starts.
PAUSE_ENV, PAUSE_FLAG_ENV = "COCKPIT_TEST_ROLLUP_PAUSE", "COCKPIT_TEST_ROLLUP_PAUSE_FLAG"


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


STATE_PREFIX = "job:"


def _get_state(conn, key: str, default: str | None = None) -> str | None:
    """Scheduler bookkeeping lives in the store's `meta` table under a "job:" prefix."""
    v = conn.execute(sa.select(meta.c.value).where(meta.c.key == STATE_PREFIX + key)).scalar()
    return default if v is None else v


def _set_state(conn, key: str, value: str) -> None:
    if conn.execute(meta.update().where(meta.c.key == STATE_PREFIX + key).values(value=value)).rowcount == 0:
        conn.execute(meta.insert().values(key=STATE_PREFIX + key, value=value))


# -- drop folder -------------------------------------------------------------------------------------
def drop_folder(store: Store, folder: str | Path, *, today: dt.date | None = None, min_age: float = 5.0,
                user: str = "scheduler:drop") -> JobResult:
    """Import new *.csv / *.xlsx files from `folder` (the stand-in for system feeds).

    `<county code>_*.xlsx` is that county's report; files under `feed/` (or named `feed_*`) are
    platform feeds; anything else must name its regions in a column. Each file moves to
    `processed/` or `rejected/` with a `.txt` of the importer's (Chinese) messages beside it. A file
    whose bytes were already imported (same sha256) is not imported again. Files younger than
    `min_age` seconds may still be being written and wait for the next run.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    candidates = [(p, False) for p in sorted(folder.iterdir())]
    if (folder / "feed").is_dir():
        candidates += [(p, True) for p in sorted((folder / "feed").iterdir())]
    done = {"imported": 0, "rejected": 0, "duplicate": 0, "unchanged": 0}
    batches: list[int] = []
    for path, in_feed in candidates:
        if not path.is_file() or path.suffix.lower() not in SUFFIXES or path.name.startswith((".", "~$")):
            continue
        if time.time() - path.stat().st_mtime < min_age:
            continue
        feed = in_feed or path.name.lower().startswith("feed_")
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        prior = store.batches_with_checksum(checksum)
        if prior:
            b = prior[0]
            _move(path, folder, "processed", [tr("sched_already_imported", "zh", batch=b["id"], at=b["committed_at"])])
            done["duplicate"] += 1
            continue
        as_county = None
        m = COUNTY_FILE.match(path.name)
        if m and not feed:
            try:
                as_county = resolve_county(m.group(1))
            except KeyError as exc:
                _move(path, folder, "rejected", [tr("sched_bad_county_in_name", "zh", code=m.group(1)), f"({exc})"])
                done["rejected"] += 1
                continue
        rep = import_file(path, store, as_county=as_county, user=user,
                          options=ImportOptions(feed=feed, today=today))
        lines = [rep.summary("zh"), *rep.messages("zh")]
        if rep.errors:
            # logged first (the quality page's 被退回), then moved: a failure here leaves the file to retry
            pm = PERIOD_IN_NAME.search(path.name)
            record_rejection(store, rep, source="drop_folder", region_code=as_county, user=user,
                             period=f"{pm.group(1)}-{pm.group(2)}" if pm else None)
            _move(path, folder, "rejected", lines)
            done["rejected"] += 1
        else:
            _move(path, folder, "processed", lines)
            if rep.batch_id is not None:
                done["imported"] += 1
                batches.append(rep.batch_id)
            else:
                done["unchanged"] += 1
    return JobResult(rows_affected=done["imported"], detail={**done, "batches": batches})


def _move(path: Path, folder: Path, where: str, lines: list[str]) -> Path:
    dest_dir = folder / where
    dest_dir.mkdir(exist_ok=True)
    dest = dest_dir / path.name
    if dest.exists():
        dest = dest_dir / f"{path.stem}.{_now():%Y%m%d%H%M%S}{path.suffix}"
    shutil.move(str(path), dest)
    Path(str(dest) + ".txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


# -- rollups -----------------------------------------------------------------------------------------
def _pause_hook() -> None:
    secs = float(os.environ.get(PAUSE_ENV, "0") or 0)
    if secs > 0:
        flag = os.environ.get(PAUSE_FLAG_ENV)
        if flag:
            Path(flag).write_text(str(os.getpid()))
        time.sleep(secs)


def _rollup_rows(conn, month: dt.date, measures: list[str] | None, expected: bool) -> dict[str, set]:
    """measure -> set of rollup tuples, as stored (expected=False) or as derived from observations."""
    if expected:
        q = county_month_select(current_observations(), [month], measures)
    else:
        r = rollup_month.c
        q = sa.select(r.measure_code, r.month, r.region_code, r.value_sum, r.n_obs, r.last_date, r.last_value,
                      r.max_batch_id).where(r.month == month)
        if measures is not None:
            q = q.where(r.measure_code.in_(measures))
    out: dict[str, set] = defaultdict(set)
    for row in conn.execute(q):
        m, _mo, reg, vsum, n, last_d, last_v, mb = row
        last_d = last_d if isinstance(last_d, dt.date) else dt.date.fromisoformat(str(last_d)[:10])
        out[m].add((reg, _sig(vsum), int(n), last_d, _sig(last_v), int(mb)))
    return out


def _sig(v) -> float:
    """Nine significant digits: sums of the same rows may differ in the last bits between two queries."""
    return float(f"{float(v):.9g}")


def refresh_rollups(store: Store, *, recent_months: int = 3) -> JobResult:
    """Check the rollups of the months touched by batches since the last run and of the most recent
    `recent_months` months against the current observations, and rewrite the (month, measure) pairs
    that differ.

    The store already refreshes a batch's pairs inside the batch's own transaction; this job only
    touches the periods new batches touched (plus the recent months), heals anything that slipped (a
    crash elsewhere, a manual edit, a restored backup) and attests that rollups match observations.
    Each month is one transaction: killed halfway, that month's rollups stay as they were.
    """
    with store.engine.connect() as conn:
        mark = int(_get_state(conn, "rollup_batch_mark", "0") or 0)
        top = int(conn.execute(sa.select(sa.func.max(import_batch.c.id))).scalar() or 0)
        if top < mark:  # the content was replaced (demo recreation): check everything again
            mark = 0
        touched: dict[dt.date, set[str]] = defaultdict(set)
        q = (sa.select(observation.c.month, observation.c.measure_code).distinct()
             .where(observation.c.batch_id > mark, observation.c.batch_id <= top))
        for month, measure in conn.execute(q):
            touched[_as_date(month)].add(measure)
        months = [_as_date(m) for m in conn.execute(
            sa.select(observation.c.month).distinct().order_by(observation.c.month.desc()).limit(recent_months)
        ).scalars()]
    refreshed = repaired = checked = 0
    for month in sorted(set(touched) | set(months)):
        with store.engine.begin() as conn:
            want = _rollup_rows(conn, month, None, expected=True)
            have = _rollup_rows(conn, month, None, expected=False)
            bad = sorted(m for m in set(want) | set(have) if want.get(m, set()) != have.get(m, set()))
            checked += len(set(want) | set(have))
            todo = bad  # the batches' own transactions refreshed their pairs; rewrite only what differs
            if not todo:
                continue
            r = rollup_month.c
            conn.execute(rollup_month.delete().where(r.month == month, r.measure_code.in_(todo)))
            _pause_hook()
            conn.execute(rollup_month.insert().from_select(
                ["measure_code", "month", "region_code", "value_sum", "n_obs", "last_date", "last_value",
                 "max_batch_id"], county_month_select(current_observations(), [month], todo)))
            refreshed += len(todo)
            repaired += len(bad)
            if bad:
                log.warning(json.dumps({"job": "rollup_refresh", "repaired": [str(month), bad[:10]]}, ensure_ascii=False))
    with store.engine.begin() as conn:
        _set_state(conn, "rollup_batch_mark", str(top))
    return JobResult(rows_affected=refreshed, detail={
        "months_checked": len(set(touched) | set(months)), "pairs_checked": checked, "pairs_refreshed": refreshed,
        "pairs_repaired": repaired, "batch_mark": top})


def _as_date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


# -- freshness ---------------------------------------------------------------------------------------
def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return dt.date(y, m + 1, 1)


def due_month(today: dt.date) -> dt.date:
    """The latest month whose county reports are due: the engine's one definition of the latest month."""
    return latest_due_month(today)


def _reported(conn, month: dt.date, measures: list[str]) -> set[str]:
    """Regions with current values of the county-reported measures for `month` (not from feeds)."""
    q = (sa.select(observation.c.region_code).distinct()
         .join(import_batch, import_batch.c.id == observation.c.batch_id)
         .where(observation.c.measure_code.in_(measures), observation.c.month == month,
                observation.c.is_current == sa.true(), import_batch.c.source != "feed"))
    return set(conn.execute(q).scalars())


def check_freshness(store: Store, *, today: dt.date | None = None, measures: list[str] | None = None) -> JobResult:
    """Open an "逾期未报" alert for every county with no report for the latest due month; close open
    alerts (any month) whose report has since arrived. Idempotent: one row per (kind, county, period).

    A county has reported a month when it has current values of the measures counties report
    (county-level, month-grain in the catalogue; `measures` overrides) for it; platform data does
    not count.
    """
    if measures is None:
        measures = [m.code for m in reported_measures()]
    today = today or dt.date.today()
    month = due_month(today)
    period = f"{month:%Y-%m}"
    due = _add_months(month, 1).replace(day=REPORT_DUE_DAY)
    month_end = _add_months(month, 1) - dt.timedelta(days=1)
    fa = freshness_alert.c
    opened = closed = 0
    now = _now()
    with store.engine.begin() as conn:
        rg = region.c
        counties = dict(conn.execute(
            sa.select(rg.code, rg.name_zh).where(
                rg.level == "county",
                sa.or_(rg.valid_from.is_(None), rg.valid_from <= month_end),
                sa.or_(rg.valid_to.is_(None), rg.valid_to > month))
        ).all())
        reported = _reported(conn, month, measures)
        existing = {r.region_code: r for r in conn.execute(
            sa.select(fa.region_code, fa.status).where(fa.kind == "overdue_report", fa.period == period))}
        for code in sorted(set(counties) - reported):
            msg = tr("sched_overdue_report", "zh", county=counties[code], code=code, period=period, due=f"{due:%Y-%m-%d}")
            row = existing.get(code)
            if row is None:
                conn.execute(freshness_alert.insert().values(
                    kind="overdue_report", region_code=code, period=period, status="open", due_date=due,
                    opened_at=now, message=msg))
                opened += 1
            elif row.status != "open":  # the report was withdrawn (rolled back): open again
                conn.execute(freshness_alert.update().where(
                    fa.kind == "overdue_report", fa.region_code == code, fa.period == period)
                    .values(status="open", opened_at=now, closed_at=None, message=msg))
                opened += 1
        # close what has arrived, for every period with open alerts
        open_rows = conn.execute(sa.select(fa.id, fa.region_code, fa.period)
                                 .where(fa.kind == "overdue_report", fa.status == "open")).all()
        by_period: dict[str, list] = defaultdict(list)
        for r in open_rows:
            by_period[r.period].append(r)
        for p, rows in by_period.items():
            got = _reported(conn, dt.date.fromisoformat(p + "-01"), measures)
            ids = [r.id for r in rows if r.region_code in got]
            if ids:
                conn.execute(freshness_alert.update().where(fa.id.in_(ids)).values(status="closed", closed_at=now))
                closed += len(ids)
        n_open = conn.execute(sa.select(sa.func.count()).select_from(freshness_alert)
                              .where(fa.status == "open")).scalar()
    return JobResult(rows_affected=opened + closed, detail={
        "period": period, "due": str(due), "opened": opened, "closed": closed, "open": int(n_open or 0)})


def open_alerts(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(freshness_alert).where(freshness_alert.c.status == "open")
                            .order_by(freshness_alert.c.period, freshness_alert.c.region_code)).mappings().all()
    return [dict(r) for r in rows]


# -- nightly snapshot --------------------------------------------------------------------------------
def take_snapshot(store: Store, *, on: dt.date | None = None) -> JobResult:
    """Attest the current data of the night: per (month, measure) the regions, rows, value sum and
    newest batch of the current observations, a sha256 over them and the data version. One per day
    (a second run the same day does nothing); one transaction.
    """
    on = on or dt.date.today()
    s = current_observations().subquery("c")
    q = (sa.select(s.c.month, s.c.measure_code, sa.func.count(sa.distinct(s.c.region_code)), sa.func.count(),
                   sa.func.sum(s.c.value), sa.func.max(s.c.batch_id))
         .group_by(s.c.month, s.c.measure_code).order_by(s.c.month, s.c.measure_code))
    with store.engine.begin() as conn:
        if conn.execute(sa.select(snapshot.c.id).where(snapshot.c.snapshot_date == on)).first():
            return JobResult(0, {"snapshot_date": str(on), "skipped": "already taken"})
        items = []
        h = hashlib.sha256()
        for month, measure, n_reg, n, vsum, mb in conn.execute(q):
            month = _as_date(month)
            item = dict(month=month, measure_code=measure, n_regions=int(n_reg), n_obs=int(n),
                        value_sum=float(vsum or 0.0), max_batch_id=int(mb or 0))
            items.append(item)
            h.update(f"{month}|{measure}|{n_reg}|{n}|{float(vsum or 0):.6f}|{mb}\n".encode())
        version = int(store.get_meta("data_version", "0", conn) or 0)
        res = conn.execute(snapshot.insert().values(
            snapshot_date=on, taken_at=_now(), data_version=version, n_obs=sum(i["n_obs"] for i in items),
            digest=h.hexdigest()))
        sid = int(res.inserted_primary_key[0])
        for i in range(0, len(items), 5000):
            conn.execute(snapshot_item.insert(), [it | {"snapshot_id": sid} for it in items[i : i + 5000]])
    return JobResult(len(items), {"snapshot_date": str(on), "snapshot_id": sid, "data_version": version,
                                  "digest": h.hexdigest()[:16]})


def escalate_followups(store: Store) -> JobResult:
    """批示督办: record the escalation of items that became overdue, whether or not anyone opens a
    page (the alerts panel and the meeting pack read the recorded level)."""
    ids = escalate_overdue(store)
    return JobResult(rows_affected=len(ids), detail={"escalated": ids[:50]})
