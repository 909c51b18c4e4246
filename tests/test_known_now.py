"""What was known, when: the demo never writes the future, the engine reads as known now by default and
as known at T when asked, and every surface takes the same latest month."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from ingest import __main__ as ingest_cli
from ingest.bootstrap import create_demo_database, seed_demo_extras
from ingest.demo import generate
from metrics import cli
from metrics.engine import MetricsEngine
from metrics.geography import geography
from metrics.periods import latest_due_month
from store import Store
from store.store import Batch
from tests.helpers import engine_for, scratch_store, small_catalogue

RUN = dt.datetime(2026, 12, 5, 10, 0)  # the moment the demo "runs" in these tests
COUNTY = "330102"


def _county_batches(b: pd.DataFrame, period: str) -> pd.DataFrame:
    return b[(b["period"] == period) & b["region_code"].notna() & (b["region_code"] != "330000")]


def test_demo_writes_nothing_from_the_future():
    cat, geo = small_catalogue(), geography()
    later = generate(cat, geo, seed=3, today=RUN.date(), now=dt.datetime(2027, 6, 1))  # everything arrived
    now = generate(cat, geo, seed=3, today=RUN.date(), now=RUN)
    arrived = pd.to_datetime(now.batches["committed_at"])
    assert arrived.max() <= RUN
    # exactly the batches that had arrived by then, nothing else moved
    key = ["region_code", "period", "committed_at", "note"]
    expect = later.batches[pd.to_datetime(later.batches["committed_at"]) <= RUN][key].fillna("").astype(str)
    assert sorted(map(tuple, expect.to_numpy())) == sorted(map(tuple, now.batches[key].fillna("").astype(str).to_numpy()))
    # November is being reported (due 12-15): a few counties in, most not yet; October's late reports
    # (due 11-15) that arrive after the run are simply missing
    nov = _county_batches(now.batches, "2026-11")
    assert 0 < len(nov) < 88
    assert len(_county_batches(later.batches, "2026-11")) == 88  # two counties never file it
    oct_now, oct_later = _county_batches(now.batches, "2026-10"), _county_batches(later.batches, "2026-10")
    assert 80 <= len(oct_now) < len(oct_later) == 90
    # every row belongs to a written batch
    assert set(now.observations["batch_id"]) <= set(now.batches["id"])


def _rows(value: float, month: dt.date = dt.date(2026, 10, 1)) -> pd.DataFrame:
    return pd.DataFrame({"region_code": [COUNTY], "measure_code": ["flow_m"], "obs_date": [month], "value": [value]})


@pytest.fixture
def store(tmp_path) -> Store:
    return scratch_store(f"sqlite:///{tmp_path / 'known.sqlite'}")


def test_engine_reads_as_known_now_and_as_known_at_when_asked(store):
    eng = engine_for(store)
    past = dt.datetime(2026, 11, 5, 9, 0)
    store.write_batch(Batch("import", region_code=COUNTY, period="2026-10", committed_at=past), _rows(10))
    # a batch stamped after now (an older demo wrote such): not known now
    future = dt.datetime.now().replace(microsecond=0) + dt.timedelta(days=3)
    store.write_batch(Batch("import", region_code=COUNTY, period="2026-10", committed_at=future), _rows(20))
    assert eng.value("k_flow", COUNTY, "2026-10").value == 10
    assert eng.bulk("2026-10").set_index(["kpi", "region"]).loc[("k_flow", COUNTY), "value"] == 10
    assert eng.value("k_flow", COUNTY, "2026-10", known_at=future + dt.timedelta(hours=1)).value == 20
    assert eng.value("k_flow", COUNTY, "2026-10", known_at=past - dt.timedelta(days=1)).value is None
    tr = eng.trend(["k_flow"], [COUNTY], eng.resolve_period("2026-10"), months=1)
    assert tr["value"].tolist() == [10]


def test_one_latest_month_and_the_month_in_progress(store):
    eng = MetricsEngine(store, catalogue=small_catalogue(), today=dt.date(2026, 12, 5))
    for month, counties in ((dt.date(2026, 10, 1), geography().counties), (dt.date(2026, 11, 1), ["330102", "330106"])):
        rows = pd.DataFrame({"region_code": counties, "measure_code": "flow_m", "obs_date": month, "value": 5.0})
        store.write_batch(Batch("import", period=f"{month:%Y-%m}", committed_at=dt.datetime(2026, 12, 1)), rows)
    assert latest_due_month(dt.date(2026, 12, 5)) == dt.date(2026, 10, 1)
    assert latest_due_month(dt.date(2026, 12, 15)) == dt.date(2026, 11, 1)
    assert eng.latest_month().label == "2026-10"  # November has reports but is not due until 12-15
    assert [(p.label, n, m) for p, n, m in eng.reporting_months()] == [("2026-11", 2, 90)]
    late = MetricsEngine(store, catalogue=small_catalogue(), today=dt.date(2026, 12, 15))
    assert late.latest_month().label == "2026-11" and late.reporting_months() == []
    # the scheduler's freshness job chases the same month
    from scheduler import jobs

    assert jobs.due_month(dt.date(2026, 12, 5)) == latest_due_month(dt.date(2026, 12, 5))


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    create_demo_database(url, seed=4, today=dt.date(2021, 5, 3))
    return url


def test_cli_value_without_a_period_answers_for_the_latest_month(demo_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    latest = MetricsEngine(Store(demo_url)).latest_month()
    assert cli.main(["value", "online_handling_rate", "330000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["period"] == latest.label
    assert cli.main(["value", "online_handling_rate", "330000", latest.label, "--known-at", "2021-01-01"]) == 0
    assert "value      —" in capsys.readouterr().out  # nothing was known then
    assert cli.main(["value", "online_handling_rate", "330000", "--known-at", "soon"]) == 2


def test_ingest_demo_gives_the_first_start_demo_with_instructions(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli_demo.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("COCKPIT_DEMO_TODAY", "2021-04-02")
    assert ingest_cli.main(["demo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["instructions"] == 3  # the 批示督办 items of the first start
    assert seed_demo_extras(Store(url)) == []  # and the first start adds nothing more
