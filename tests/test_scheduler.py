"""The scheduler process: jobs, run history and retries, the single-scheduler lease, and
fault tests (a job killed mid-refresh, two schedulers at once, the database unreachable mid-run)
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from ingest.quality import rejections
from ingest.templates import fill_template, sample_report, template_bytes
from metrics.geography import geography
from scheduler import jobs
from scheduler.history import History, JobResult, run_with_retries
from scheduler.lock import Lease, current_holder
from scheduler.service import Config, Service
from store import Store
from store.schema import import_batch, rollup_month
from store.schema_jobs import freshness_alert, job_run, scheduler_lease, snapshot, snapshot_item
from store.store import Batch, county_month_select, current_observations
from tests.helpers import TODAY, TcpProxy, scratch_store

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "330102"  # 上城区
JOB_TABLES = (job_run, scheduler_lease, freshness_alert, snapshot_item, snapshot)


def reset(url: str) -> Store:
    """A scratch store with no figures and empty scheduler tables."""
    store = scratch_store(url)
    with store.engine.begin() as conn:
        for t in JOB_TABLES:
            conn.execute(t.delete())
    return store


@pytest.fixture
def store(tmp_path) -> Store:
    s = reset(f"sqlite:///{tmp_path / 'cockpit.sqlite'}")
    yield s
    s.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.server)])
def fault_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cockpit.sqlite'}"
    return request.getfixturevalue("postgresql_url")


def rows_for(counties, months, measures=("flow_m", "base_m")) -> pd.DataFrame:
    recs = [dict(region_code=c, measure_code=m, obs_date=dt.date.fromisoformat(mo + "-01"), value=float(i + 1))
            for i, (c, mo, m) in enumerate((c, mo, m) for c in counties for mo in months for m in measures)]
    return pd.DataFrame(recs)


def rollup_rows(store: Store) -> list[tuple]:
    with store.engine.connect() as conn:
        return sorted(tuple(str(v) for v in r) for r in conn.execute(sa.select(rollup_month)).all())


def derived_rows(store: Store) -> list[tuple]:
    with store.engine.connect() as conn:
        return sorted(tuple(str(v) for v in r) for r in conn.execute(county_month_select(current_observations())))


def runs(store: Store, job_id: str | None = None) -> list[dict]:
    q = sa.select(job_run).order_by(job_run.c.id)
    if job_id:
        q = q.where(job_run.c.job_id == job_id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings().all()]


def wait_for(cond, timeout: float, what: str, every: float = 0.25):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def spawn(url: str, *args: str, log: Path, **env: str) -> subprocess.Popen:
    e = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen([sys.executable, "-m", "scheduler", *args], cwd=ROOT, env=e,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def kill(p: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if p.poll() is None:
        os.kill(p.pid, sig)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)


# -- drop folder ---------------------------------------------------------------------------------------------
def test_drop_folder_imports_rejects_and_is_idempotent(store, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    good = fill_template(template_bytes(COUNTY, "2026-10"), sample_report(COUNTY, "2026-10"))
    (drop / f"{COUNTY}_2026-10.xlsx").write_bytes(good)
    (drop / f"{COUNTY}_broken.csv").write_bytes("区划代码,期间,指标代码,数值\r\n330102,2026-10,no_such_measure,1\r\n".encode())
    (drop / "999999_x.xlsx").write_bytes(fill_template(template_bytes("330105", "2026-10"),
                                                       sample_report("330105", "2026-10")))
    (drop / "notes.docx").write_bytes(b"ignored: not a spreadsheet suffix")

    res = jobs.drop_folder(store, drop, today=TODAY, min_age=0)
    assert res.detail["imported"] == 1 and res.detail["rejected"] == 2, res.detail
    assert (drop / "processed" / f"{COUNTY}_2026-10.xlsx").exists()
    assert "导入" in (drop / "processed" / f"{COUNTY}_2026-10.xlsx.txt").read_text(encoding="utf-8")
    assert (drop / "rejected" / f"{COUNTY}_broken.csv").exists()
    assert (drop / "rejected" / f"{COUNTY}_broken.csv.txt").read_text(encoding="utf-8").strip()
    assert "999999" in (drop / "rejected" / "999999_x.xlsx.txt").read_text(encoding="utf-8")
    assert (drop / "notes.docx").exists()  # not ours: left alone
    with store.engine.connect() as conn:
        b = conn.execute(sa.select(import_batch)).mappings().all()
    assert len(b) == 1 and b[0]["region_code"] == COUNTY and b[0]["submitted_by"] == "scheduler:drop"
    # the refused report is logged for the data-quality view, with its county and row/column reasons
    rej = rejections(store)
    assert list(rej["region_code"]) == [COUNTY] and list(rej["source"]) == ["drop_folder"]
    assert rej["period"].iloc[0] is None and rej["messages"].iloc[0][0]["row"] == 2

    # the same bytes again (a re-sent file, or a crash between commit and move): not imported twice
    (drop / "again_2026-10.xlsx").write_bytes(good)
    res = jobs.drop_folder(store, drop, today=TODAY, min_age=0)
    assert res.detail["duplicate"] == 1 and res.detail["imported"] == 0
    assert "未重复导入" in (drop / "processed" / "again_2026-10.xlsx.txt").read_text(encoding="utf-8")
    assert store.counts()["import_batch"] == 1

    # a file still being written (younger than min_age) waits for the next run
    (drop / f"{COUNTY}_late.xlsx").write_bytes(good)
    assert jobs.drop_folder(store, drop, today=TODAY, min_age=60).detail == {
        "imported": 0, "rejected": 0, "duplicate": 0, "unchanged": 0, "batches": []}


# -- freshness -----------------------------------------------------------------------------------------------
def test_due_month():
    assert jobs.due_month(dt.date(2026, 11, 23)) == dt.date(2026, 10, 1)
    assert jobs.due_month(dt.date(2026, 11, 15)) == dt.date(2026, 10, 1)
    assert jobs.due_month(dt.date(2026, 11, 14)) == dt.date(2026, 9, 1)
    assert jobs.due_month(dt.date(2026, 1, 3)) == dt.date(2025, 11, 1)


def test_freshness_opens_and_closes_alerts(store):
    M = ["flow_m", "base_m"]  # the measures counties report (tests.helpers' small catalogue)
    counties = geography().counties
    late = ["330102", "330105"]
    store.write_batch(Batch(source="import"), rows_for([c for c in counties if c not in late], ["2026-10"]))
    store.write_batch(Batch(source="feed"), rows_for(late, ["2026-10"]))  # feeds are not reports
    store.write_batch(Batch(source="import"), rows_for(late, ["2026-10"], ["daily_m"]))  # nor other measures

    res = jobs.check_freshness(store, today=TODAY, measures=M)
    assert res.detail["period"] == "2026-10" and res.detail["opened"] == 2, res.detail
    alerts = jobs.open_alerts(store)
    assert [a["region_code"] for a in alerts] == late
    assert "逾期未报" in alerts[0]["message"] and "上城区" in alerts[0]["message"]
    assert alerts[0]["due_date"] == dt.date(2026, 11, 15)

    assert jobs.check_freshness(store, today=TODAY, measures=M).detail["opened"] == 0  # idempotent
    bid = store.write_batch(Batch(source="import", region_code="330102"), rows_for(["330102"], ["2026-10"]))
    res = jobs.check_freshness(store, today=TODAY, measures=M)
    assert res.detail["closed"] == 1 and [a["region_code"] for a in jobs.open_alerts(store)] == ["330105"]

    store.rollback_batch(bid, "test")  # the report is withdrawn: overdue again, same alert row
    assert jobs.check_freshness(store, today=TODAY, measures=M).detail["opened"] == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(freshness_alert)).scalar() == 2


# -- snapshot ------------------------------------------------------------------------------------------------
def test_nightly_snapshot(store):
    store.write_batch(Batch(source="import"), rows_for(["330102", "330105"], ["2026-09", "2026-10"]))
    res = jobs.take_snapshot(store, on=dt.date(2026, 11, 23))
    assert res.rows_affected == 4  # 2 months x 2 measures
    with store.engine.connect() as conn:
        s = conn.execute(sa.select(snapshot)).mappings().one()
        items = conn.execute(sa.select(snapshot_item)).mappings().all()
    assert s["n_obs"] == 8 and s["data_version"] == store.data_version() and len(s["digest"]) == 64
    assert {(i["month"], i["measure_code"], i["n_regions"], i["n_obs"]) for i in items} == {
        (dt.date(2026, m, 1), c, 2, 2) for m in (9, 10) for c in ("flow_m", "base_m")}
    assert jobs.take_snapshot(store, on=dt.date(2026, 11, 23)).detail["skipped"]  # once a night
    store.write_batch(Batch(source="import"), rows_for(["330102"], ["2026-10"]).assign(value=99.0))
    jobs.take_snapshot(store, on=dt.date(2026, 11, 24))
    with store.engine.connect() as conn:
        digests = conn.execute(sa.select(snapshot.c.digest).order_by(snapshot.c.id)).scalars().all()
    assert len(set(digests)) == 2  # the data changed, so does the attestation


# -- rollups -------------------------------------------------------------------------------------------------
def test_rollup_refresh_repairs_and_tracks_touched(store):
    store.write_batch(Batch(source="import"), rows_for(["330102", "330105"], ["2026-09", "2026-10"]))
    res = jobs.refresh_rollups(store)
    assert res.detail["pairs_checked"] == 4 and res.detail["pairs_refreshed"] == 0  # the batch kept them right
    assert jobs.refresh_rollups(store).rows_affected == 0  # nothing new, nothing wrong
    old = jobs.refresh_rollups(store, recent_months=0)  # only touched periods: none since the last run
    assert old.detail["months_checked"] == 0
    store.write_batch(Batch(source="import"), rows_for(["330102"], ["2025-01"]))
    assert jobs.refresh_rollups(store, recent_months=0).detail["months_checked"] == 1  # just the touched month
    with store.engine.begin() as conn:  # damage: a wrong sum and a lost row
        conn.execute(rollup_month.update().where(rollup_month.c.region_code == "330102").values(value_sum=-1))
        conn.execute(rollup_month.delete().where(rollup_month.c.region_code == "330105",
                                                 rollup_month.c.measure_code == "base_m"))
    res = jobs.refresh_rollups(store)
    assert res.detail["pairs_repaired"] == 6, res.detail  # (3 months x 2 measures) hold a damaged row
    assert rollup_rows(store) == derived_rows(store)


# -- history and retries -------------------------------------------------------------------------------------
def test_failed_job_is_recorded_and_retried(store):
    h = History(store.engine, "test-instance")
    calls = []

    def flaky() -> JobResult:
        calls.append(1)
        if len(calls) < 3:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return JobResult(5, {"ok": True})

    slept = []
    assert run_with_retries(h, "flaky", flaky, attempts=3, backoff=2, sleep=slept.append) == "succeeded"
    r = runs(store, "flaky")
    assert [(x["attempt"], x["status"]) for x in r] == [(1, "retrying"), (2, "retrying"), (3, "succeeded")]
    assert "OperationalError" in r[0]["error"] and "server closed" in r[0]["error"]
    assert r[2]["rows_affected"] == 5 and r[2]["finished_at"] is not None
    assert slept == [2, 4]  # exponential backoff

    def broken() -> JobResult:
        raise ValueError("bad")

    assert run_with_retries(h, "broken", broken, attempts=2, backoff=0, sleep=lambda s: None) == "failed"
    assert [x["status"] for x in runs(store, "broken")] == ["retrying", "failed"]
    assert run_with_retries(h, "x", flaky, may_act=lambda: False) == "skipped"  # no lease: no action
    assert runs(store, "x") == []

    h.start("left", 1)  # a run whose scheduler died: the next lease holder closes it
    assert History(store.engine, "other").close_abandoned() == 1
    left = runs(store, "left")[0]
    assert left["status"] == "failed" and left["error"].startswith("abandoned") and left["finished_at"]


@pytest.mark.slow
def test_once_waits_for_nobody_but_never_acts_without_the_lease(store, tmp_path):
    url = str(store.engine.url.render_as_string(hide_password=False))
    other = Lease(store.engine, "someone-else", ttl=120)
    assert other.acquire()
    p = spawn(url, "--once", "snapshot", log=tmp_path / "once.log")
    assert p.wait(timeout=60) == 3  # another scheduler holds the lease
    assert runs(store) == []
    other.release()
    p = spawn(url, "--once", "snapshot", log=tmp_path / "once2.log")
    assert p.wait(timeout=60) == 0
    assert [r["status"] for r in runs(store, "snapshot")] == ["succeeded"]
    assert current_holder(store.engine)["holder"] is None  # --once gives the lease back


def test_a_retry_never_left_waiting(store):
    """A "retrying" attempt is followed by the next attempt or closed: the lease lost during the wait,
    or a scheduler that died during it (closed by the next lease holder)."""
    h = History(store.engine, "solo")

    def broken() -> JobResult:
        raise RuntimeError("feed unreachable")

    lease = iter([True, False])
    assert run_with_retries(h, "lost", broken, attempts=3, backoff=0, may_act=lambda: next(lease),
                            sleep=lambda s: None) == "failed"
    [r] = runs(store, "lost")
    assert r["status"] == "failed" and "not retried: the lease is held by another scheduler" in r["error"]

    h.finish(None, "died", 1, dt.datetime.now().replace(microsecond=0), "retrying", error="RuntimeError: x")
    h.finish(None, "retried", 1, dt.datetime.now().replace(microsecond=0), "retrying", error="RuntimeError: y")
    h.finish(None, "retried", 2, dt.datetime.now().replace(microsecond=0), "succeeded", 1)
    assert History(store.engine, "next").close_abandoned() == 1
    died = runs(store, "died")[0]
    assert died["status"] == "failed" and died["error"].startswith("abandoned") and "RuntimeError: x" in died["error"]
    assert [r["status"] for r in runs(store, "retried")] == ["retrying", "succeeded"]  # a retry that happened


class OneJob(Service):
    """The service with a single job, `fn`, due at once."""

    def __init__(self, store: Store, fn, **cfg) -> None:
        super().__init__(store, Config(instance_id="solo", lease_ttl=3, drop_dir=Path("/nonexistent"), **cfg))
        self.fn = fn

    def job_functions(self):
        return {"rollup_refresh": self.fn}

    def intervals(self):
        return {"rollup_refresh": 3600}


def serve_in_thread(svc: Service) -> threading.Thread:
    t = threading.Thread(target=svc.serve, daemon=True)
    t.start()
    return t


def test_a_clean_stop_during_the_retry_wait_closes_the_run(store):
    def broken() -> JobResult:
        raise RuntimeError("feed unreachable")

    svc = OneJob(store, broken, attempts=3, backoff=120)
    t = serve_in_thread(svc)
    wait_for(lambda: [r for r in runs(store) if r["status"] == "retrying"], 30, "the first attempt to fail")
    svc.stop()  # what SIGTERM does
    t.join(timeout=20)
    assert not t.is_alive()  # the backoff wait does not hold the stop up
    [r] = runs(store)  # no retry after the stop
    assert r["status"] == "failed" and "not retried: the scheduler stopped" in r["error"], r
    assert "feed unreachable" in r["error"]
    assert current_holder(store.engine)["holder"] is None


def test_a_clean_stop_lets_the_running_job_end_without_retrying(store):
    began, gate = threading.Event(), threading.Event()

    def slow_then_broken() -> JobResult:
        began.set()
        gate.wait(30)
        raise RuntimeError("connection reset")

    svc = OneJob(store, slow_then_broken, attempts=3, backoff=0.1)
    t = serve_in_thread(svc)
    assert began.wait(30)
    svc.stop()
    gate.set()  # the job fails after the stop: recorded, not retried
    t.join(timeout=30)
    assert not t.is_alive()
    [r] = runs(store)
    assert r["status"] == "failed" and "connection reset" in r["error"], r
    assert "not retried: the scheduler is stopping" in r["error"] and r["finished_at"] is not None
    assert current_holder(store.engine)["holder"] is None  # released after the job ended, not retaken


def test_a_clean_stop_closes_a_run_that_outlasts_the_grace_period(store):
    began, gate = threading.Event(), threading.Event()

    def stuck() -> JobResult:
        began.set()
        gate.wait(60)
        return JobResult(0)

    svc = OneJob(store, stuck, stop_grace=0.5)
    t = serve_in_thread(svc)
    try:
        assert began.wait(30)
        svc.stop()
        t.join(timeout=20)
        assert not t.is_alive()
        [r] = runs(store)
        assert r["status"] == "failed" and r["error"].startswith("interrupted: the scheduler stopped"), r
        assert r["finished_at"] is not None
        assert current_holder(store.engine)["holder"] is None
    finally:
        gate.set()
        with svc._idle:
            svc._idle.wait_for(lambda: svc._active == 0, 30)


# -- the lease -----------------------------------------------------------------------------------------------
def test_lease_one_holder_and_takeover(store):
    a, b = Lease(store.engine, "A", ttl=30), Lease(store.engine, "B", ttl=30)
    assert a.acquire() and not b.acquire()
    assert a.acquire() and a.held()  # renewal
    with store.engine.begin() as conn:  # A stops renewing and its lease runs out
        conn.execute(scheduler_lease.update().values(expires_at=dt.datetime.now() - dt.timedelta(seconds=1)))
    assert b.acquire() and not a.acquire() and not a.held()
    b.release()
    assert current_holder(store.engine)["holder"] is None and a.acquire()


def test_scheduler_job_configuration(store):
    svc = Service(store, Config(instance_id="cfg", drop_every=60, rollup_every=600, freshness_every=3600))
    h = History(store.engine, "cfg")
    h.finish(None, "rollup_refresh", 1, dt.datetime.now(), "succeeded", 0)  # ran recently
    sched = svc.build_scheduler()
    jobs_ = {j.id: j for j in sched.get_jobs()}
    assert set(jobs_) == {"drop_folder", "rollup_refresh", "freshness", "snapshot", "pack_after_freeze",
                         "followup_escalate", "push"}
    for j in jobs_.values():
        assert j.coalesce is True and j.max_instances == 1 and j.misfire_grace_time == 300
    # missed while no scheduler ran: due once at start (coalesced), the recent one waits its turn
    assert getattr(jobs_["drop_folder"], "next_run_time", None) is not None
    assert getattr(jobs_["snapshot"], "next_run_time", None) is not None
    assert getattr(jobs_["rollup_refresh"], "next_run_time", None) is None
    assert "hour='2-23'" in str(jobs_["snapshot"].trigger)  # nightly, retried hourly until taken


# -- fault tests on SQLite and PostgreSQL --------------------------------------------------------------------
@pytest.mark.slow
def test_kill_in_the_middle_of_a_rollup_refresh(fault_url, tmp_path):
    store = reset(fault_url)
    store.write_batch(Batch(source="import"), rows_for(["330102", "330105", "330106"], ["2026-08", "2026-09", "2026-10"]))
    with store.engine.begin() as conn:  # a damaged rollup the refresh will repair
        conn.execute(rollup_month.update().where(rollup_month.c.region_code == "330106").values(value_sum=-1))
    before = rollup_rows(store)
    assert before != derived_rows(store)
    flag = tmp_path / "paused"
    p = spawn(fault_url, "--once", "rollup_refresh", log=tmp_path / "once.log", COCKPIT_LEASE_TTL="3",
              COCKPIT_TEST_ROLLUP_PAUSE="120", COCKPIT_TEST_ROLLUP_PAUSE_FLAG=str(flag))
    try:
        wait_for(flag.exists, 60, "the refresh to pause after deleting the rollup rows")
        assert rollup_rows(store) == before  # readers never see the half-done refresh
    finally:
        kill(p)  # kill -9 in the middle
    assert p.returncode == -signal.SIGKILL
    assert rollup_rows(store) == before  # nothing partial stayed
    crashed = runs(store, "rollup_refresh")
    assert [r["status"] for r in crashed] == ["running"]  # the history shows the run that never finished

    res = jobs.refresh_rollups(store)  # the next run heals
    assert res.detail["pairs_repaired"] >= 1
    assert rollup_rows(store) == derived_rows(store)
    store.engine.dispose()


@pytest.mark.slow
def test_two_schedulers_one_acts_and_the_other_takes_over(fault_url, tmp_path):
    store = reset(fault_url)
    env = dict(COCKPIT_LEASE_TTL="3", COCKPIT_DROP_EVERY="1", COCKPIT_ROLLUP_EVERY="1",
               COCKPIT_FRESHNESS_EVERY="2", COCKPIT_JOB_BACKOFF="0.5")
    drop = tmp_path / "drop"
    procs = {name: spawn(fault_url, "--drop-folder", str(drop), log=tmp_path / f"{name}.log",
                         COCKPIT_SCHEDULER_ID=name, **env) for name in ("A", "B")}
    try:
        wait_for(lambda: len(runs(store)) >= 6, 60, "jobs to run")
        holder = current_holder(store.engine)["holder"]
        other = "B" if holder == "A" else "A"
        assert holder in procs
        assert {r["instance_id"] for r in runs(store)} == {holder}  # exactly one acts
        assert all(p.poll() is None for p in procs.values())  # the other is alive, waiting
        wait_for(lambda: '"waiting"' in (tmp_path / f"{other}.log").read_text(), 30, "the other to wait")
        assert {r["instance_id"] for r in runs(store)} == {holder}

        kill(procs[holder])  # the acting scheduler dies without releasing its lease
        t0 = time.monotonic()
        wait_for(lambda: any(r["instance_id"] == other for r in runs(store)), 30, "the other scheduler to take over")
        assert time.monotonic() - t0 < 20
        assert current_holder(store.engine)["holder"] == other
        n = len(runs(store))
        wait_for(lambda: len(runs(store)) > n + 2, 20, "the new holder to keep running jobs")
    finally:
        for p in procs.values():
            kill(p, signal.SIGTERM)
    assert current_holder(store.engine)["holder"] is None  # a clean stop releases the lease
    rows = runs(store)
    retried = {(r["job_id"], r["instance_id"], r["attempt"]) for r in rows}
    odd = [(r["job_id"], r["instance_id"], r["attempt"], r["status"], r["detail"] or r["error"]) for r in rows
           if r["status"] not in ("succeeded", "running", "failed", "retrying")
           or (r["status"] == "retrying" and (r["job_id"], r["instance_id"], r["attempt"] + 1) not in retried)
           or (r["status"] == "running" and r["instance_id"] == other)]
    assert not odd, odd  # no retry left waiting, and the cleanly stopped scheduler closed its runs
    # a run the killed holder left half-done is closed by the new holder; the stopped one retries nothing
    for r in rows:
        if r["status"] == "failed" and r["instance_id"] == holder:
            assert r["error"].startswith("abandoned"), r
        elif r["status"] == "failed":
            assert "scheduler is stopping" in r["error"] or "scheduler stopped" in r["error"], r
    store.engine.dispose()


@pytest.mark.slow
def test_database_unreachable_during_a_run(fault_url, tmp_path):
    store = reset(fault_url)
    store.write_batch(Batch(source="import"), rows_for(["330102"], ["2026-10"]))
    down = threading.Event()

    @sa.event.listens_for(store.engine, "do_connect")
    def _outage(dialect, conn_rec, cargs, cparams):
        if down.is_set():
            raise dialect.loaded_dbapi.OperationalError("could not connect to server: injected outage")

    cfg = Config(instance_id="solo", drop_dir=tmp_path / "drop", lease_ttl=3, drop_every=1, rollup_every=1,
                 freshness_every=1, attempts=3, backoff=0.3, drop_min_age=0)
    svc = Service(store, cfg)
    t = threading.Thread(target=svc.serve, daemon=True)
    t.start()
    try:
        wait_for(lambda: any(r["status"] == "succeeded" for r in runs(store)), 30, "a first successful run")
        down.set()
        store.engine.dispose()  # every pooled connection is gone: the next one must connect
        time.sleep(4)  # longer than the lease and than one job's retries
        down.clear()
        back = dt.datetime.now().replace(microsecond=0)
        wait_for(lambda: any(r["status"] == "succeeded" and r["started_at"] >= back for r in runs(store)),
                 30, "a successful run after the outage, without restart")
        failures = wait_for(lambda: [r for r in runs(store) if r["status"] in ("retrying", "failed")], 10,
                            "the outage's failures to be written")
    finally:
        svc.stop()
        t.join(timeout=20)
    assert not t.is_alive()
    assert any("OperationalError" in (r["error"] or "") and "injected outage" in r["error"] for r in failures)
    assert svc.history.pending == 0
    store.engine.dispose()


@pytest.mark.slow
@pytest.mark.server
def test_postgresql_outage_through_a_cut_connection(postgresql_url, tmp_path):
    """A real outage: the scheduler process reaches PostgreSQL through a proxy the test cuts for
    longer than the lease; the failures are recorded, retried, and the same process recovers."""
    store = reset(postgresql_url)
    real = sa.engine.make_url(postgresql_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    via = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    p = spawn(via, "--drop-folder", str(tmp_path / "drop"), log=tmp_path / "p.log", COCKPIT_SCHEDULER_ID="P",
              COCKPIT_LEASE_TTL="3", COCKPIT_DROP_EVERY="1", COCKPIT_ROLLUP_EVERY="1", COCKPIT_FRESHNESS_EVERY="1",
              COCKPIT_JOB_BACKOFF="0.3")
    try:
        wait_for(lambda: any(r["status"] == "succeeded" for r in runs(store)), 60, "a first successful run")
        proxy.down()
        time.sleep(6)  # longer than the lease and than a job's retries
        assert p.poll() is None  # the process survives the outage
        proxy.up()
        back = dt.datetime.now().replace(microsecond=0)
        wait_for(lambda: any(r["status"] == "succeeded" and r["started_at"] >= back for r in runs(store)),
                 30, "a successful run after the outage")
        failures = wait_for(lambda: [r for r in runs(store) if "OperationalError" in (r["error"] or "")], 15,
                            "the outage's failures in the history")
        assert p.poll() is None  # recovered without a restart
    finally:
        kill(p, signal.SIGTERM)
        proxy.down()
    assert {r["instance_id"] for r in runs(store)} == {"P"}
    assert {r["status"] for r in failures} <= {"retrying", "failed"}
    log = (tmp_path / "p.log").read_text()
    assert '"lease_acquired"' in log and '"stopped"' in log
    store.engine.dispose()
