"""Run history: one `job_run` row per attempt, and the runner that retries failed jobs.

When the database itself is unreachable the attempt cannot be written at once; it is kept in
memory (and logged) and written as soon as the database answers again, so a failure during an
outage still ends up in the history.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.schema_jobs import job_run

log = logging.getLogger("scheduler.history")

MAX_PENDING = 1000


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


@dataclass
class JobResult:
    rows_affected: int = 0
    detail: dict = field(default_factory=dict)


class History:
    def __init__(self, engine: Engine, instance_id: str) -> None:
        self.engine, self.instance_id = engine, instance_id
        self._pending: list[dict] = []  # finished attempts not yet written (database was unreachable)
        self._mutex = threading.Lock()

    def start(self, job_id: str, attempt: int) -> int | None:
        self.flush()
        with self.engine.begin() as conn:
            res = conn.execute(job_run.insert().values(
                job_id=job_id, attempt=attempt, status="running", started_at=_now(), instance_id=self.instance_id))
            return int(res.inserted_primary_key[0])

    def finish(self, run_id: int | None, job_id: str, attempt: int, started: dt.datetime, status: str,
               rows: int | None = None, detail: dict | None = None, error: str | None = None) -> int | None:
        """Record an attempt's outcome; returns its row id, or None while it waits for the database."""
        rec = dict(job_id=job_id, attempt=attempt, status=status, started_at=started, finished_at=_now(),
                   rows_affected=rows, detail=json.dumps(detail, ensure_ascii=False, default=str)[:1000] if detail else None,
                   error=error[:2000] if error else None, instance_id=self.instance_id)
        try:
            with self.engine.begin() as conn:
                if run_id is None:
                    return int(conn.execute(job_run.insert().values(**rec)).inserted_primary_key[0])
                conn.execute(job_run.update().where(job_run.c.id == run_id).values(**rec))
                return run_id
        except sa.exc.SQLAlchemyError as exc:
            log.warning("history not written (%s); kept until the database answers", exc.__class__.__name__)
            with self._mutex:
                self._pending.append(rec | {"_run_id": run_id})
                del self._pending[:-MAX_PENDING]  # a long outage: keep the latest
            return None

    def not_retried(self, run_id: int | None, job_id: str, attempt: int, started: dt.datetime, error: str) -> None:
        """Turn an attempt recorded "retrying" into "failed": its retry will not happen (the scheduler is
        stopping or lost the lease), and a "retrying" row with no next attempt would wait forever."""
        values = dict(status="failed", error=error[:2000])
        with self._mutex:  # still waiting for the database: correct it before it is written
            for rec in self._pending:
                if (rec["job_id"], rec["attempt"], rec["started_at"]) == (job_id, attempt, started):
                    rec.update(values)
                    return
        j = job_run.c
        row = (j.id == run_id if run_id is not None else
               sa.and_(j.job_id == job_id, j.attempt == attempt, j.started_at == started,
                       j.instance_id == self.instance_id))
        try:
            with self.engine.begin() as conn:
                conn.execute(job_run.update().where(row, j.status == "retrying").values(**values))
        except sa.exc.SQLAlchemyError as exc:  # the next lease holder closes it (close_abandoned)
            log.warning("retry not closed in the history (%s)", exc.__class__.__name__)

    def flush(self) -> None:
        with self._mutex:
            todo, self._pending = self._pending, []
        if not todo:
            return
        try:
            with self.engine.begin() as conn:
                for rec in todo:
                    run_id = rec.pop("_run_id", None)
                    if run_id is not None and conn.execute(
                            job_run.update().where(job_run.c.id == run_id).values(**rec)).rowcount == 1:
                        continue
                    conn.execute(job_run.insert().values(**rec))
        except sa.exc.SQLAlchemyError:
            with self._mutex:
                self._pending = todo + self._pending
            raise

    def close_abandoned(self) -> int:
        """Runs another instance left `running`, or `retrying` with no next attempt (it died or lost the
        lease): mark them failed.

        Called by a scheduler that has just taken the lease, so no other instance may be acting.
        """
        j, later = job_run.c, job_run.alias("later")
        with self.engine.begin() as conn:
            n = conn.execute(
                job_run.update().where(j.status == "running", j.instance_id != self.instance_id)
                .values(status="failed", finished_at=_now(),
                        error=f"abandoned: the scheduler stopped during the run; closed by {self.instance_id}")
            ).rowcount
            # selected first, then updated by id: MySQL cannot update a table its subquery reads
            waiting = conn.execute(sa.select(j.id, j.error).where(
                j.status == "retrying", j.instance_id != self.instance_id,
                ~sa.exists().where(later.c.job_id == j.job_id, later.c.instance_id == j.instance_id,
                                   later.c.attempt == j.attempt + 1, later.c.id > j.id))).all()
            for run_id, error in waiting:
                note = f"abandoned: the scheduler stopped before the retry; closed by {self.instance_id}"
                conn.execute(job_run.update().where(j.id == run_id).values(
                    status="failed", error=f"{note}\n{error or ''}"[:2000]))
        return n + len(waiting)

    def close_interrupted(self, reason: str) -> int:
        """This instance's runs still `running` when a clean stop gives up waiting for them: mark them
        failed, so no run of a stopped scheduler stays open (a job that still ends updates its row)."""
        with self.engine.begin() as conn:
            return conn.execute(
                job_run.update().where(job_run.c.status == "running", job_run.c.instance_id == self.instance_id)
                .values(status="failed", finished_at=_now(), error=f"interrupted: {reason}")
            ).rowcount

    @property
    def pending(self) -> int:
        return len(self._pending)


def run_with_retries(
    history: History,
    job_id: str,
    fn: Callable[[], JobResult],
    *,
    attempts: int = 3,
    backoff: float = 5.0,
    may_act: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stopping: Callable[[], bool] = lambda: False,
) -> str:
    """Run `fn` up to `attempts` times with exponential backoff; every attempt goes to the history.

    `may_act` (the lease check) is asked before each attempt: a scheduler that no longer holds the
    lease does nothing. Once `stopping()` is true (a clean shutdown) nothing is retried. An attempt
    recorded "retrying" is always followed by the next attempt or rewritten as "failed" with the
    reason. Returns the final status: succeeded | failed | skipped.
    """
    retry: tuple[int | None, int, dt.datetime, str] | None = None  # the failed attempt awaiting its retry

    def give_up(reason: str) -> str:
        if retry is not None:
            run_id, n, started, err = retry
            log.warning(_line(job_id, n, "failed", reason=reason))
            history.not_retried(run_id, job_id, n, started, f"{err}\nnot retried: {reason}")
        return "failed" if retry is not None else "skipped"

    def record_failure(run_id: int | None, attempt: int, started: dt.datetime, err: str, short: str) -> bool:
        """Record a failed attempt; True when it will be retried."""
        nonlocal retry
        again = attempt < attempts and not stopping()
        status = "retrying" if again else "failed"
        if attempt < attempts and not again:
            err += "\nnot retried: the scheduler is stopping"
        log.warning(_line(job_id, attempt, status, error=short))
        rid = history.finish(run_id, job_id, attempt, started, status, error=err)
        retry = (rid if run_id is None else run_id, attempt, started, err) if again else None
        return again

    for attempt in range(1, attempts + 1):
        if stopping():  # stopped during the backoff wait, or before a queued run began
            return give_up("the scheduler stopped during the wait")
        if may_act is not None:
            try:
                ok = may_act()
            except sa.exc.SQLAlchemyError as exc:
                err = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300]} (lease check)"
                if record_failure(None, attempt, _now(), err, err):
                    sleep(backoff * 2 ** (attempt - 1))
                    continue
                return "failed"
            if not ok:
                log.info(_line(job_id, attempt, "skipped", reason="lease not held"))
                return give_up("the lease is held by another scheduler")
        started = _now()
        run_id = None
        try:
            run_id = history.start(job_id, attempt)
            res = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            err = f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=4)}"
            if record_failure(run_id, attempt, started, err, f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300]}"):
                sleep(backoff * 2 ** (attempt - 1))
                continue
            return "failed"
        history.finish(run_id, job_id, attempt, started, "succeeded", res.rows_affected, res.detail)
        log.info(_line(job_id, attempt, "succeeded", rows=res.rows_affected, **res.detail))
        return "succeeded"
    return "failed"


def _line(job_id: str, attempt: int, status: str, **kw) -> str:
    """One structured log line (JSON) per event."""
    return json.dumps({"job": job_id, "attempt": attempt, "status": status, **kw}, ensure_ascii=False, default=str)


def last_success(engine: Engine, job_id: str) -> dt.datetime | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(job_run.c.finished_at))
                            .where(job_run.c.job_id == job_id, job_run.c.status == "succeeded")).scalar()
