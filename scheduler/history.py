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
               rows: int | None = None, detail: dict | None = None, error: str | None = None) -> None:
        rec = dict(job_id=job_id, attempt=attempt, status=status, started_at=started, finished_at=_now(),
                   rows_affected=rows, detail=json.dumps(detail, ensure_ascii=False, default=str)[:1000] if detail else None,
                   error=error[:2000] if error else None, instance_id=self.instance_id)
        try:
            with self.engine.begin() as conn:
                if run_id is None:
                    conn.execute(job_run.insert().values(**rec))
                else:
                    conn.execute(job_run.update().where(job_run.c.id == run_id).values(**rec))
        except sa.exc.SQLAlchemyError as exc:
            log.warning("history not written (%s); kept until the database answers", exc.__class__.__name__)
            with self._mutex:
                self._pending.append(rec | {"_run_id": run_id})
                del self._pending[:-MAX_PENDING]  # a long outage: keep the latest

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
        """Runs another instance left `running` (it died or lost the lease): mark them failed.

        Called by a scheduler that has just taken the lease, so no other instance may be acting.
        """
        with self.engine.begin() as conn:
            return conn.execute(
                job_run.update().where(job_run.c.status == "running", job_run.c.instance_id != self.instance_id)
                .values(status="failed", finished_at=_now(),
                        error=f"abandoned: the scheduler stopped during the run; closed by {self.instance_id}")
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
) -> str:
    """Run `fn` up to `attempts` times with exponential backoff; every attempt goes to the history.

    `may_act` (the lease check) is asked before each attempt: a scheduler that no longer holds the
    lease does nothing. Returns the final status: succeeded | failed | skipped.
    """
    for attempt in range(1, attempts + 1):
        if may_act is not None:
            try:
                ok = may_act()
            except sa.exc.SQLAlchemyError as exc:
                ok = False
                err = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300]} (lease check)"
                status = "retrying" if attempt < attempts else "failed"
                log.warning(_line(job_id, attempt, status, error=err))
                history.finish(None, job_id, attempt, _now(), status, error=err)
                if attempt < attempts:
                    sleep(backoff * 2 ** (attempt - 1))
                    continue
                return "failed"
            if not ok:
                log.info(_line(job_id, attempt, "skipped", reason="lease not held"))
                return "skipped"
        started = _now()
        run_id = None
        try:
            run_id = history.start(job_id, attempt)
            res = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            status = "retrying" if attempt < attempts else "failed"
            err = f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=4)}"
            log.warning(_line(job_id, attempt, status, error=f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300]}"))
            history.finish(run_id, job_id, attempt, started, status, error=err)
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
            continue
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
