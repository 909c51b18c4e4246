"""What the scheduler is doing, read from the database alone (the jobs page; no Streamlit).

The app never talks to the scheduler process: everything shown comes from the tables it writes
(`job_run`, `scheduler_lease`, `snapshot`; alerts via scheduler.jobs.open_alerts) and from the same `Config` the
process reads, so the page is right whichever host runs the scheduler.

Next runs follow what `Service.build_scheduler` sets up in APScheduler: an interval job's trigger
starts when the lease holder builds its scheduler (right after taking the lease, `acquired_at`)
and fires at acquired_at + k x interval; the snapshot is a cron job at HH:05 from the snapshot hour
to 23:00 that does nothing once the day's snapshot exists. Without a live lease nothing runs: the
next run is unknown until a scheduler starts (overdue jobs then run at once).
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from scheduler.lock import current_holder
from scheduler.service import JOB_IDS, Config, Service
from store import Store
from store.schema_jobs import job_run, snapshot

RUN_COLUMNS = ["id", "job_id", "attempt", "status", "started_at", "finished_at", "duration_s", "rows_affected",
               "detail", "error", "instance_id"]


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def intervals(cfg: Config) -> dict[str, float]:
    """Seconds between runs per job, exactly as the service schedules them (its own method, so the
    page cannot drift from the process; the in-memory engine is never connected)."""
    return Service(Store(sa.create_engine("sqlite://")), cfg).intervals()


def lease(engine: Engine, now: dt.datetime | None = None) -> dict:
    """Who holds the scheduler lease and until when; `live` when a scheduler is acting now."""
    now = now or _now()
    row = current_holder(engine) or {}
    holder, expires = row.get("holder"), row.get("expires_at")
    live = bool(holder) and expires is not None and expires > now
    return {"holder": holder, "acquired_at": row.get("acquired_at"), "heartbeat_at": row.get("heartbeat_at"),
            "expires_at": expires, "live": live}


def _first_line(text: str | None, limit: int = 300) -> str:
    if not isinstance(text, str) or not text.strip():  # None, or NaN from a frame
        return ""
    line = text.strip().splitlines()[0]
    return line[:limit]


def _detail(text: str | None) -> str:
    """The run's JSON detail as `key=value` pairs (short enough for a table cell)."""
    if not isinstance(text, str) or not text:
        return ""
    try:
        d = json.loads(text)
    except ValueError:
        return text[:300]
    if not isinstance(d, dict):
        return str(d)[:300]
    return ", ".join(f"{k}={v}" for k, v in d.items() if v not in (None, [], {}))[:300]


def _runs_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=[c for c in RUN_COLUMNS if c != "duration_s"])
    if df.empty:
        return pd.DataFrame(columns=RUN_COLUMNS)
    start, end = pd.to_datetime(df["started_at"]), pd.to_datetime(df["finished_at"])
    df["duration_s"] = (end - start).dt.total_seconds()
    return df[RUN_COLUMNS]


def next_interval_run(acquired_at: dt.datetime, every: float, now: dt.datetime) -> dt.datetime:
    """The first fire of acquired_at + k x every (k >= 1) after `now` (APScheduler's interval grid)."""
    k = max(1, math.floor((now - acquired_at).total_seconds() / every) + 1)
    return acquired_at + dt.timedelta(seconds=k * every)


def next_snapshot_run(now: dt.datetime, hour: int, taken_today: bool) -> dt.datetime:
    """The next HH:05 (hour..23) that can take a snapshot: tomorrow's first once today's exists."""
    today = now.date()
    if not taken_today:
        for h in range(hour, 24):
            t = dt.datetime.combine(today, dt.time(h, 5))
            if t > now:
                return t
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time(hour, 5))


def job_table(engine: Engine, cfg: Config | None = None, now: dt.datetime | None = None) -> pd.DataFrame:
    """One row per job: interval, last run (status, when, duration, message), last success, next run.

    `next_run` is None when no scheduler holds the lease; `overdue` says the job's last success is
    older than its interval (it runs as soon as a scheduler acts).
    """
    cfg = cfg or Config()
    now = now or _now()
    every = intervals(cfg)
    ls = lease(engine, now)
    j = job_run.c
    with engine.connect() as conn:
        latest_ids = dict(conn.execute(sa.select(j.job_id, sa.func.max(j.id)).group_by(j.job_id)).all())
        last = {r["job_id"]: dict(r) for r in conn.execute(
            sa.select(job_run).where(j.id.in_(list(latest_ids.values()) or [-1]))).mappings()}
        ok = dict(conn.execute(sa.select(j.job_id, sa.func.max(j.finished_at))
                               .where(j.status == "succeeded").group_by(j.job_id)).all())
        n_failed = dict(conn.execute(sa.select(j.job_id, sa.func.count()).where(j.status.in_(["failed", "retrying"]))
                                     .group_by(j.job_id)).all())
        taken_today = conn.execute(sa.select(snapshot.c.id).where(snapshot.c.snapshot_date == now.date())).first()
    rows = []
    for job in JOB_IDS:
        r = last.get(job) or {}
        started, finished = r.get("started_at"), r.get("finished_at")
        if not ls["live"]:
            nxt = None
        elif job == "snapshot":
            nxt = next_snapshot_run(now, cfg.snapshot_hour, bool(taken_today))
        else:
            nxt = next_interval_run(ls["acquired_at"] or now, every[job], now)
        last_ok = ok.get(job)
        rows.append({
            "job_id": job, "interval_s": every[job], "last_status": r.get("status"), "last_started": started,
            "last_finished": finished,
            "last_duration_s": (finished - started).total_seconds() if started and finished else None,
            "last_attempt": r.get("attempt"), "last_message": _first_line(r.get("error")) or _detail(r.get("detail")),
            "last_instance": r.get("instance_id"), "last_success": last_ok, "next_run": nxt,
            "overdue": last_ok is None or (now - last_ok).total_seconds() >= every[job],
            "n_failures": int(n_failed.get(job, 0)),
        })
    return pd.DataFrame(rows)


def failures(engine: Engine, limit: int = 100, job_id: str | None = None) -> pd.DataFrame:
    """Failed and retried attempts, newest first: the error's first line and the full text."""
    j = job_run.c
    q = sa.select(job_run).where(j.status.in_(["failed", "retrying"])).order_by(j.id.desc()).limit(limit)
    if job_id:
        q = q.where(j.job_id == job_id)
    with engine.connect() as conn:
        df = _runs_frame([dict(r) for r in conn.execute(q).mappings()])
    df["message"] = [_first_line(e) for e in df["error"]]
    return df


def recent_runs(engine: Engine, limit: int = 50, job_id: str | None = None) -> pd.DataFrame:
    """The latest attempts of every status (what ran, when, how long, with what result)."""
    j = job_run.c
    q = sa.select(job_run).order_by(j.id.desc()).limit(limit)
    if job_id:
        q = q.where(j.job_id == job_id)
    with engine.connect() as conn:
        df = _runs_frame([dict(r) for r in conn.execute(q).mappings()])
    df["message"] = [_first_line(e) or _detail(d) for e, d in zip(df["error"], df["detail"], strict=True)]
    return df
