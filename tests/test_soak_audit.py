"""The soak's audit (bench/soak_scheduler.py) must catch a missed, a doubled and a foreign run."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bench.soak_scheduler import audit
from store import Store
from store.schema_jobs import job_run

T0 = dt.datetime(2026, 11, 23, 10, 0, 3)


@pytest.fixture
def url(tmp_path) -> str:
    u = f"sqlite:///{tmp_path / 'soak.sqlite'}"
    Store(u).migrate()
    return u


def write(url: str, offsets: list[float], instance: str = "a", status: str = "succeeded", job: str = "drop_folder"):
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        for s in offsets:
            at = T0 + dt.timedelta(seconds=s)
            conn.execute(job_run.insert().values(job_id=job, attempt=1, status=status, started_at=at,
                                                 finished_at=at, instance_id=instance))
    eng.dispose()


def window(minutes: int) -> tuple[dt.datetime, dt.datetime]:
    return T0 - dt.timedelta(seconds=3), T0 + dt.timedelta(minutes=minutes, seconds=-5)


def test_regular_minutes_pass(url):
    write(url, [60 * i for i in range(30)])
    write(url, [1, 301], job="rollup_refresh")
    res = audit(url, *window(30))
    assert res["ok"], res
    assert (res["per_minute_runs"], res["missed"], res["doubled"], res["failed"]) == (30, 0, 0, 0)
    assert res["runs_by_job"] == {"drop_folder": 30, "rollup_refresh": 2}


def test_missed_minute_fails(url):
    write(url, [60 * i for i in range(30) if i != 12])
    res = audit(url, *window(30))
    assert res["missed"] == 1 and not res["ok"]


def test_doubled_run_fails(url):
    write(url, [60 * i for i in range(30)] + [60 * 7 + 5])
    res = audit(url, *window(30))
    assert res["doubled"] >= 1 and not res["ok"]


def test_second_actor_or_failure_fails(url):
    write(url, [60 * i for i in range(30)])
    write(url, [30], instance="b", job="rollup_refresh")
    assert not audit(url, *window(30))["ok"]


def test_stopped_early_fails(url):
    write(url, [60 * i for i in range(10)])
    assert not audit(url, *window(30))["ok"]
