"""The engine's aggregation rules against an independent plain-pandas recomputation.

Random observations (several batches, so restatements happen) for a handful of counties in two
cities and a peer group; random group and period; every aggregation kind. Runs on every backend.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.geography import geography
from metrics.periods import Period
from store import Batch
from tests.helpers import clear, engine_for, scratch_store, small_catalogue

COUNTIES = ["330102", "330105", "330127", "330802", "330803", "331121"]  # 杭州, 衢州, 丽水; 3 in 山区26县
GROUPS = ["330000", "330100", "330800", "330127", "330802", "SHANQU26"]
MONTHS = [dt.date(2023, m, 1) for m in (1, 2, 3, 4)]
DAYS = [dt.date(2023, m, d) for m in (1, 2, 3, 4) for d in (1, 2, 15, 28)]
CAT = small_catalogue()
AGG = {m.code: m.aggregation for m in CAT.measures}
GRAIN = {m.code: m.grain for m in CAT.measures}

keys_month = [(c, m, d) for c in COUNTIES for m in ("flow_m", "base_m", "stock_m") for d in MONTHS]
keys_day = [(c, m, d) for c in COUNTIES for m in ("daily_m", "dayflow_m") for d in DAYS]
keys_prov = [("330000", "prov_m", d) for d in MONTHS]
ALL_KEYS = keys_month + keys_day + keys_prov

batch_strategy = st.lists(
    st.dictionaries(st.sampled_from(ALL_KEYS), st.integers(min_value=0, max_value=5000), min_size=10, max_size=150),
    min_size=1,
    max_size=3,
)
period_strategy = st.one_of(
    st.sampled_from([Period.month(2023, m) for m in (1, 2, 3, 4)]),
    st.just(Period.quarter(2023, 1)),
    st.just(Period.year(2023)),
    st.just(Period.ytd(2023, 2)),
    st.sampled_from([Period.day(d) for d in DAYS]),
)


def reference(rows: pd.DataFrame, measure: str, members: list[str], p: Period) -> float:
    """Plain pandas: latest batch per key, then the rule of the measure's aggregation."""
    cur = rows.sort_values("batch").groupby(["region", "measure", "date"], as_index=False).last()
    sel = cur[(cur["measure"] == measure) & cur["region"].isin(members)
              & (cur["date"] >= p.start) & (cur["date"] <= p.end)]
    if p.grain == "day" and GRAIN[measure] == "month":
        return np.nan
    if sel.empty:
        return np.nan
    if AGG[measure] == "sum":
        return float(sel["value"].sum())
    if AGG[measure] == "mean_daily":
        return float(sel.groupby("date")["value"].sum().mean())
    last = sel["date"].max()
    return float(sel.loc[sel["date"] == last, "value"].sum())


def members_of(group: str, p: Period) -> list[str]:
    geo = geography()
    if group == "330000":
        return geo.members(group, p.end) + ["330000"]
    return geo.members(group, p.end)


def paired(rows: pd.DataFrame, num: str, den: str) -> pd.DataFrame:
    """Rows of num and den kept only for region-months where both have a current value."""
    cur = rows.sort_values("batch").groupby(["region", "measure", "date"], as_index=False).last()
    cur["month"] = cur["date"].map(lambda d: d.replace(day=1))
    have = [set(zip(cur.loc[cur["measure"] == m, "region"], cur.loc[cur["measure"] == m, "month"], strict=True))
            for m in (num, den)]
    both = have[0] & have[1]
    keep = [(r, m) in both for r, m in zip(cur["region"], cur["month"], strict=True)]
    return cur[np.array(keep, dtype=bool) & cur["measure"].isin([num, den]).to_numpy()].assign(batch=0)


def expected_kpi(rows: pd.DataFrame, kpi: str, group: str, p: Period) -> float:
    k = CAT.kpi(kpi)
    mem = members_of(group, p)
    if k.kind == "ratio":  # Σnumerator ÷ Σdenominator over the region-months that have both
        pr = paired(rows, k.numerator, k.denominator)
        num, den = reference(pr, k.numerator, mem, p), reference(pr, k.denominator, mem, p)
        return num / den if den and not np.isnan(den) else np.nan
    if k.code == "k_prov" and group != "330000":
        return np.nan
    return reference(rows, k.measure, mem, p)


@pytest.fixture(scope="module")
def store(db_url):
    return scratch_store(db_url)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(batches=batch_strategy, period=period_strategy, group=st.sampled_from(GROUPS),
       known_at_index=st.integers(min_value=0, max_value=3))
def test_engine_matches_pandas(store, batches, period, group, known_at_index):
    clear(store)
    eng = engine_for(store, CAT)
    rows = []
    t0 = dt.datetime(2023, 6, 1, 12, 0, 0)
    for i, batch in enumerate(batches):
        df = pd.DataFrame([(r, m, d, v) for (r, m, d), v in batch.items()],
                          columns=["region_code", "measure_code", "obs_date", "value"])
        store.write_batch(Batch(source="import", committed_at=t0 + dt.timedelta(hours=i)), df)
        rows.append(df.rename(columns={"region_code": "region", "measure_code": "measure", "obs_date": "date"})
                    .assign(batch=i))
    all_rows = pd.concat(rows, ignore_index=True)

    got = eng.bulk(period).set_index(["kpi", "region"])["value"]
    for k in CAT.kpis:
        exp = expected_kpi(all_rows, k.code, group, period)
        val = got.get((k.code, group), np.nan)
        assert (np.isnan(exp) and np.isnan(val)) or val == pytest.approx(exp, rel=1e-9), (
            f"{k.code} {group} {period}: engine {val} != pandas {exp}"
        )

    # the same figures as they were known after an earlier batch
    if known_at_index < len(batches):
        when = t0 + dt.timedelta(hours=known_at_index, minutes=30)
        earlier = all_rows[all_rows["batch"] <= known_at_index]
        got = eng.bulk(period, known_at=when).set_index(["kpi", "region"])["value"]
        for k in CAT.kpis:
            exp = expected_kpi(earlier, k.code, group, period)
            val = got.get((k.code, group), np.nan)
            assert (np.isnan(exp) and np.isnan(val)) or val == pytest.approx(exp, rel=1e-9), (
                f"as of batch {known_at_index}: {k.code} {group} {period}: engine {val} != pandas {exp}"
            )
