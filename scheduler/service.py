"""The scheduler service: the lease loop around an APScheduler BackgroundScheduler.

The main thread takes the lease, renews it every ttl/3 seconds, and runs the jobs only while it
holds it; without the lease it waits (polls) and takes over when the holder's lease expires. Jobs are
defined in code (explicit ids, `replace_existing=True`, `coalesce=True`, `max_instances=1`, a
misfire grace time); their history persists in `job_run`. A missed run is coalesced across restarts
too: at start, a job whose last success is older than its interval runs once, not once per miss.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler import jobs, pack_job, push_job
from scheduler.history import History, JobResult, last_success, run_with_retries
from scheduler.lock import Lease
from store import Store
from store.db import ROOT

log = logging.getLogger("scheduler")


def _env_float(name: str, default: float) -> float:
    v = os.environ.get(name, "").strip()
    return float(v) if v else default


@dataclass
class Config:
    drop_dir: Path = field(default_factory=lambda: Path(os.environ.get("COCKPIT_DROP_DIR") or ROOT / "var" / "drop"))
    lease_ttl: float = field(default_factory=lambda: _env_float("COCKPIT_LEASE_TTL", 30))
    drop_every: float = field(default_factory=lambda: _env_float("COCKPIT_DROP_EVERY", 60))
    rollup_every: float = field(default_factory=lambda: _env_float("COCKPIT_ROLLUP_EVERY", 600))
    freshness_every: float = field(default_factory=lambda: _env_float("COCKPIT_FRESHNESS_EVERY", 3600))
    pack_every: float = field(default_factory=lambda: _env_float("COCKPIT_PACK_EVERY", 300))
    followup_every: float = field(default_factory=lambda: _env_float("COCKPIT_FOLLOWUP_EVERY", 3600))
    push_every: float = field(default_factory=lambda: _env_float("COCKPIT_PUSH_EVERY", 300))
    snapshot_hour: int = field(default_factory=lambda: int(_env_float("COCKPIT_SNAPSHOT_HOUR", 2)))
    attempts: int = field(default_factory=lambda: int(_env_float("COCKPIT_JOB_ATTEMPTS", 3)))
    backoff: float = field(default_factory=lambda: _env_float("COCKPIT_JOB_BACKOFF", 10))
    drop_min_age: float = field(default_factory=lambda: _env_float("COCKPIT_DROP_MIN_AGE", 5))
    # on SIGTERM, how long a running job may take to finish before its run is closed as interrupted
    # (below the 15 s `deploy.layout` waits before SIGKILL)
    stop_grace: float = field(default_factory=lambda: _env_float("COCKPIT_STOP_GRACE", 10))
    misfire_grace: int = 300
    # the host's local time, like every timestamp the store writes (run the servers with TZ=Asia/Shanghai)
    timezone: str | None = field(default_factory=lambda: os.environ.get("COCKPIT_TZ") or None)
    instance_id: str = field(default_factory=lambda: os.environ.get("COCKPIT_SCHEDULER_ID")
                             or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")


JOB_IDS = ("drop_folder", "rollup_refresh", "freshness", "snapshot", "pack_after_freeze", "followup_escalate",
           "push")


class Service:
    def __init__(self, store: Store, config: Config | None = None) -> None:
        self.store, self.cfg = store, config or Config()
        self.lease = Lease(store.engine, self.cfg.instance_id, self.cfg.lease_ttl)
        self.history = History(store.engine, self.cfg.instance_id)
        self.stop_event = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self._active = 0  # jobs running now (in the scheduler's worker threads)
        self._idle = threading.Condition()

    # -- the jobs ------------------------------------------------------------------------------
    def job_functions(self) -> dict[str, Callable[[], JobResult]]:
        c = self.cfg
        return {
            "drop_folder": lambda: jobs.drop_folder(self.store, c.drop_dir, min_age=c.drop_min_age),
            "rollup_refresh": lambda: jobs.refresh_rollups(self.store),
            "freshness": lambda: jobs.check_freshness(self.store),
            "snapshot": lambda: jobs.take_snapshot(self.store),
            "pack_after_freeze": lambda: pack_job.pack_after_freeze(self.store),
            "followup_escalate": lambda: jobs.escalate_followups(self.store),
            "push": lambda: push_job.push(self.store, self.cfg.instance_id),
        }

    def intervals(self) -> dict[str, float]:
        c = self.cfg
        return {"drop_folder": c.drop_every, "rollup_refresh": c.rollup_every,
                "freshness": c.freshness_every, "snapshot": 86400, "pack_after_freeze": c.pack_every,
                "followup_escalate": c.followup_every, "push": c.push_every}

    def may_act(self) -> bool:
        """At the start of every attempt: renew the lease in the database; act only if it is ours."""
        return self.lease.acquire()

    def run_job(self, job_id: str) -> str:
        with self._idle:
            self._active += 1
        try:
            return run_with_retries(self.history, job_id, self.job_functions()[job_id], attempts=self.cfg.attempts,
                                    backoff=self.cfg.backoff, may_act=self.may_act,
                                    sleep=lambda s: self.stop_event.wait(s), stopping=self.stop_event.is_set)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def build_scheduler(self, now: dt.datetime | None = None) -> BackgroundScheduler:
        c = self.cfg
        tz = {"timezone": c.timezone} if c.timezone else {}
        sched = BackgroundScheduler(**tz, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": c.misfire_grace})
        now = now or dt.datetime.now()
        for job_id, every in self.intervals().items():
            # the snapshot: from snapshot_hour:05 every hour until one exists for the day (then a no-op),
            # so a night whose attempts all failed still gets its snapshot once the database is back
            trigger = (CronTrigger(hour=f"{c.snapshot_hour}-23", minute=5, **tz) if job_id == "snapshot"
                       else IntervalTrigger(seconds=every, **tz))
            kw = {}
            if self._overdue(job_id, every, now):  # missed while no scheduler ran: catch up once
                kw["next_run_time"] = dt.datetime.now().astimezone()
            sched.add_job(self.run_job, trigger, args=[job_id], id=job_id, name=job_id, replace_existing=True,
                          coalesce=True, max_instances=1, misfire_grace_time=c.misfire_grace, **kw)
        return sched

    def _overdue(self, job_id: str, every: float, now: dt.datetime) -> bool:
        try:
            last = last_success(self.store.engine, job_id)
        except sa.exc.SQLAlchemyError:
            return True
        return last is None or (now - last).total_seconds() >= every

    # -- the loop ------------------------------------------------------------------------------
    def serve(self) -> None:
        ttl = self.cfg.lease_ttl
        _event("start", instance=self.cfg.instance_id, drop_dir=str(self.cfg.drop_dir), lease_ttl=ttl)
        waiting_logged = False
        while not self.stop_event.is_set():
            try:
                held = self.lease.acquire()
                self.history.flush()
            except sa.exc.SQLAlchemyError as exc:
                held = self.lease.held()  # our last renewal still covers us, or not
                _event("database_error", error=f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:200]}")
            if held and self.scheduler is None:
                waiting_logged = False
                try:
                    abandoned = self.history.close_abandoned()
                except sa.exc.SQLAlchemyError:
                    abandoned = None
                _event("lease_acquired", instance=self.cfg.instance_id, abandoned_runs_closed=abandoned)
                self.scheduler = self.build_scheduler()
                self.scheduler.start()
            elif not held and self.scheduler is not None:
                _event("lease_lost", instance=self.cfg.instance_id)
                self._stop_scheduler()
            elif not held and not waiting_logged:
                _event("waiting", instance=self.cfg.instance_id, reason="another scheduler holds the lease")
                waiting_logged = True
            self.stop_event.wait(max(0.2, ttl / 3))
        self._stop_scheduler()
        self._finish_running()
        self.lease.release()
        _event("stopped", instance=self.cfg.instance_id)

    def _finish_running(self) -> None:
        """A clean stop: let the running job end (no retries once stopping) while the lease is kept, so no
        other scheduler starts the same job meanwhile; after the grace period close its run as interrupted.
        The lease is released only after this, so a retry cannot take it back."""
        deadline = time.monotonic() + self.cfg.stop_grace
        while True:
            left = deadline - time.monotonic()
            with self._idle:
                if self._idle.wait_for(lambda: self._active == 0, max(0.0, min(left, self.cfg.lease_ttl / 3))):
                    return
            if left <= 0:
                break
            if self.lease.valid_until is not None:  # renew a lease we hold; never take one up now
                with contextlib.suppress(sa.exc.SQLAlchemyError):  # our last renewal may still cover us
                    self.lease.acquire()
        try:
            n = self.history.close_interrupted(f"the scheduler stopped and the run outlasted its "
                                               f"{self.cfg.stop_grace:g} s grace period")
        except sa.exc.SQLAlchemyError:
            n = None  # the next lease holder closes it
        _event("stop_grace_over", instance=self.cfg.instance_id, running_jobs=self._active, runs_closed=n)

    def _stop_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def run_once(self, job_id: str) -> str:
        """One job now (with retries), renewing the lease meanwhile; then give the lease up."""
        done = threading.Event()

        def heartbeat() -> None:
            while not done.wait(max(0.2, self.cfg.lease_ttl / 3)):
                try:
                    if self.lease.valid_until is not None:
                        self.lease.acquire()
                except sa.exc.SQLAlchemyError:
                    pass

        hb = threading.Thread(target=heartbeat, name="lease-heartbeat", daemon=True)
        hb.start()
        try:
            return self.run_job(job_id)
        finally:
            done.set()
            hb.join(timeout=5)
            self.lease.release()

    def stop(self, *_a) -> None:
        self.stop_event.set()

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)


def _event(event: str, **kw) -> None:
    log.info(json.dumps({"event": event, **kw}, ensure_ascii=False, default=str))
