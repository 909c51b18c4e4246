"""The demo generator: deterministic, calibrated, honest about what it leaves out."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from ingest.bootstrap import create_demo_database
from ingest.demo import generate
from metrics.catalogue import catalogue
from metrics.engine import MetricsEngine
from metrics.geography import geography
from store import Store

TODAY = dt.date(2022, 3, 1)  # history 2021-01 .. 2022-02: quick, and spans a Spring Festival


def _digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=False).values.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def data():
    return generate(catalogue(), geography(), seed=7, today=TODAY)


def test_same_seed_same_data_other_seed_other_data(data):
    again = generate(catalogue(), geography(), seed=7, today=TODAY)
    other = generate(catalogue(), geography(), seed=8, today=TODAY)
    assert _digest(data.observations) == _digest(again.observations)
    assert _digest(data.observations) != _digest(other.observations)


def test_history_runs_to_the_last_complete_month(data):
    dates = pd.to_datetime(data.observations["obs_date"])
    assert dates.min() == pd.Timestamp("2021-01-01")
    assert dates.max() == pd.Timestamp("2022-02-28")


def test_numerators_never_exceed_denominators(data):
    obs = data.observations[data.observations["is_current"]]
    wide = obs.pivot_table(index=["region_code", "obs_date"], columns="measure_code", values="value")
    for k in catalogue().kpis:
        if k.kind == "ratio" and k.format == "percent" and k.numerator in wide and k.denominator in wide:
            m = catalogue().measure(k.denominator)
            if m.grain == "day":
                continue
            pair = wide[[k.numerator, k.denominator]].dropna()
            assert (pair[k.numerator] <= pair[k.denominator] + 1e-9).all(), k.code


def test_reports_include_overdue_gaps_late_arrivals_and_restatements(data):
    b = data.batches
    assert len(data.overdue) == 2 and len(data.never_filed) == 3 and 1 <= len(data.restated) <= 2
    last = b[(b["period"] == "2022-02") & b["region_code"].isin(data.overdue)]
    assert last.empty  # the two overdue counties have not filed the latest month
    county = b[b["region_code"].notna() & (b["region_code"] != "330000")]
    received = pd.to_datetime(county["received_at"])
    period_end = pd.to_datetime(county["period"] + "-01") + pd.offsets.MonthEnd(1)
    late = (received - period_end).dt.days > 15
    assert 0 < late.mean() < 0.1
    assert (~data.observations["is_current"]).sum() > 0  # restated rows stay in history
    assert data.batches["is_demo"].all()


def test_calibrated_magnitudes(data):
    obs = data.observations[data.observations["is_current"]]
    jan = obs[(obs["measure_code"] == "zlb_active_users") & (pd.to_datetime(obs["obs_date"]).dt.month == 1)
              & (pd.to_datetime(obs["obs_date"]).dt.year == 2021)]
    dau = jan.groupby("obs_date")["value"].sum().mean()
    assert 0.9e6 < dau < 1.6e6  # ≈1.3M in 2020 (DOMAIN.md)
    daily = jan.groupby("obs_date")["value"].sum()
    weekdays = daily.groupby(pd.to_datetime(daily.index).day_of_week).mean()
    assert weekdays.loc[[5, 6]].mean() < weekdays.loc[[0, 1, 2, 3, 4]].mean()


def test_mountain_counties_lag_and_small_counties_are_noisier(data):
    obs = data.observations[data.observations["is_current"] & (data.observations["measure_code"]
                                                              .isin(["gov_cases", "gov_cases_online"]))]
    w = obs.pivot_table(index=["region_code", "obs_date"], columns="measure_code", values="value").reset_index()
    w["rate"] = w["gov_cases_online"] / w["gov_cases"]
    shanqu = set(geography().members("SHANQU26", dt.date(2022, 1, 1)))
    per = w.groupby("region_code")["rate"].agg(["mean", "std"])
    assert per.loc[per.index.isin(shanqu), "mean"].mean() < per.loc[~per.index.isin(shanqu), "mean"].mean()
    pop = pd.Series({c: geography().get(c).population for c in per.index})
    small, big = pop.nsmallest(10).index, pop.nlargest(10).index
    assert per.loc[small, "std"].mean() > per.loc[big, "std"].mean()


@pytest.mark.parametrize("dialect", ["sqlite"])
def test_demo_database_is_marked_and_answers(tmp_path, dialect):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    stats = create_demo_database(url, seed=3, today=TODAY)
    assert stats["observations"] > 100_000
    store = Store(url)
    assert store.is_demo()
    eng = MetricsEngine(store, today=dt.date(2022, 3, 20))
    r = eng.value("zlb_dau", "330000", "2022-01")
    assert r.value and 1e6 < r.value < 3e6 and r.as_of == "2022-01-31"
    overdue = stats["overdue"].split(",")
    rate = eng.value("online_handling_rate", "330000", "2022-02")
    assert set(overdue) <= set(rate.missing) and not rate.complete
    assert np.isfinite(rate.value)


def test_same_demo_gives_the_same_figures_on_every_backend(db_url, tmp_path):
    """The demo loads on each database and the engine answers identically to SQLite."""
    today = dt.date(2021, 4, 2)  # three months: quick on the servers
    ref_url = f"sqlite:///{tmp_path / 'ref.sqlite'}"
    create_demo_database(ref_url, seed=11, today=today)
    create_demo_database(db_url, seed=11, today=today)
    when = dt.date(2021, 4, 20)
    ref = MetricsEngine(Store(ref_url), today=when).bulk("2021-03")
    got = MetricsEngine(Store(db_url), today=when).bulk("2021-03")
    assert Store(db_url).is_demo()
    merged = ref.merge(got, on=["kpi", "region"], suffixes=("_ref", "_got"))
    assert len(merged) == len(ref) > 4000
    both = merged[merged["value_ref"].notna()]
    assert merged["value_got"].notna().sum() == len(both)
    assert np.allclose(both["value_ref"], both["value_got"], rtol=1e-9)
    assert (merged["status_ref"] == merged["status_got"]).all()
    with Store(db_url).engine.connect() as conn:
        import sqlalchemy as sa

        from store.schema import import_batch

        nulls = conn.execute(sa.select(sa.func.count()).where(import_batch.c.region_code.is_(None))).scalar()
        texts = conn.execute(sa.select(sa.func.count()).where(import_batch.c.region_code == "NaN")).scalar()
    assert nulls > 0 and texts == 0  # feed batches have no reporting region: NULL, not 'NaN'
