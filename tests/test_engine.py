"""Known-answer tests of the engine's semantics on small hand-made data (every backend)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics.engine import EngineError, MetricsEngine
from metrics.periods import Period
from store import Batch
from tests.helpers import clear, engine_for, scratch_store, small_catalogue

A, B, C, D = "330102", "330105", "330106", "330108"  # four 杭州 districts
JAN, FEB, MAR = dt.date(2023, 1, 1), dt.date(2023, 2, 1), dt.date(2023, 3, 1)


@pytest.fixture(scope="module")
def store(db_url):
    return scratch_store(db_url)


@pytest.fixture
def eng(store) -> MetricsEngine:
    clear(store)
    return engine_for(store)


def write(store, rows, when=None, **kw):
    df = pd.DataFrame(rows, columns=["region_code", "measure_code", "obs_date", "value"])
    return store.write_batch(Batch(source="import", committed_at=when, **kw), df)


def row(eng, kpi, region, period):
    df = eng.bulk(Period.parse(period) if isinstance(period, str) else period)
    return df[(df.kpi == kpi) & (df.region == region)].iloc[0]


def test_ratio_is_sum_over_sum_not_mean_of_rates(store, eng):
    write(store, [(A, "flow_m", JAN, 90), (A, "base_m", JAN, 100), (B, "flow_m", JAN, 1), (B, "base_m", JAN, 10)])
    r = row(eng, "k_ratio", "330100", "2023-01")
    assert r.value == pytest.approx(91 / 110)
    assert (r.numerator, r.denominator) == (91, 110)


def test_daily_counts_sum_across_regions_and_average_across_days(store, eng):
    rows = [(A, "daily_m", dt.date(2023, 1, d), 10) for d in range(1, 32)]
    rows += [(B, "daily_m", dt.date(2023, 1, d), 4) for d in range(1, 16)]
    write(store, rows)
    assert row(eng, "k_daily", "330100", "2023-01").value == pytest.approx((310 + 60) / 31)
    assert row(eng, "k_daily", B, "2023-01").value == pytest.approx(4)  # its own days with data
    assert row(eng, "k_daily", "330100", "2023-01-20").value == pytest.approx(10)
    # a quarter: the mean over the days that have data
    assert row(eng, "k_daily", "330100", "2023-Q1").value == pytest.approx(370 / 31)


def test_stock_takes_the_last_value_and_flags_the_missing_county(store, eng):
    write(store, [(A, "stock_m", JAN, 5), (A, "stock_m", FEB, 7), (A, "stock_m", MAR, 9),
                  (B, "stock_m", JAN, 3), (B, "stock_m", FEB, 4)])
    city = row(eng, "k_stock", "330100", "2023-Q1")
    assert city.value == 9  # the group's last date is March; B did not report it
    assert B in city.missing and not city.complete
    assert row(eng, "k_stock", B, "2023-Q1").value == 4
    assert row(eng, "k_stock", "330100", "2023-02").value == 11


def test_flows_sum_over_regions_and_months(store, eng):
    write(store, [(A, "flow_m", JAN, 1), (A, "flow_m", FEB, 2), (B, "flow_m", FEB, 4)])
    assert row(eng, "k_flow", "330000", "2023-Q1").value == 7
    assert row(eng, "k_flow", "330000", "2023-02-YTD").value == 7
    assert row(eng, "k_flow", "330000", "2023").value == 7
    assert row(eng, "k_flow", "330000", "2023-B1").value == 7  # 双月: Jan-Feb


def test_two_month_periods():
    b = Period.parse("2024-b3")
    assert (b.label, b.start, b.end) == ("2024-B3", dt.date(2024, 5, 1), dt.date(2024, 6, 30))
    assert b.previous().label == "2024-B2" and Period.parse("2024-B1").previous().label == "2023-B6"
    assert b.year_ago().label == "2023-B3" and len(b.months) == 2
    with pytest.raises(ValueError):
        Period.parse("2024-B7")


def test_ranks_have_ties_and_respect_direction(store, eng):
    write(store, [(A, "flow_m", JAN, 10), (B, "flow_m", JAN, 20), (C, "flow_m", JAN, 20), (D, "flow_m", JAN, 30)])
    df = eng.bulk(Period.month(2023, 1))
    up = df[(df.kpi == "k_flow") & df.region.isin([A, B, C, D])].set_index("region")
    down = df[(df.kpi == "k_down") & df.region.isin([A, B, C, D])].set_index("region")
    assert up.loc[[D, B, C, A], "rank"].tolist() == [1, 2, 2, 4]
    assert down.loc[[A, B, C, D], "rank"].tolist() == [1, 2, 2, 4]
    assert set(up["rank_of"]) == {4}  # counties that did not report are not ranked
    assert df[(df.kpi == "k_flow") & (df.region == "330109")].iloc[0].status == "missing"


def test_missing_versus_not_yet_due(store):
    clear(store)
    write(store, [(A, "flow_m", JAN, 10)])
    due = engine_for(store)
    assert row(due, "k_flow", B, "2023-01").status == "missing"
    assert B in row(due, "k_flow", "330100", "2023-01").missing
    early = MetricsEngine(store, catalogue=small_catalogue(), today=dt.date(2023, 2, 10))
    r = row(early, "k_flow", B, "2023-01")
    # not yet due: not overdue (missing), but not in either, so the figure is not complete
    assert r.pending and r.missing == [] and not r.complete and r.not_reported == [B]
    city = row(early, "k_flow", "330100", "2023-01")
    assert (city.n_reported, city.complete, city.missing) == (1, False, []) and B in city.not_reported
    assert pd.isna(row(early, "k_flow", A, "2023-01")["rank"])  # nobody is ranked before the reports are due


def test_previous_and_year_ago_periods(store, eng):
    write(store, [(A, "flow_m", dt.date(2022, 1, 1), 50), (A, "flow_m", dt.date(2022, 12, 1), 80),
                  (A, "flow_m", JAN, 100), (A, "base_m", dt.date(2022, 12, 1), 100), (A, "base_m", JAN, 100)])
    r = row(eng, "k_flow", A, "2023-01")
    assert (r.prev_value, r.yoy_value) == (80, 50)
    assert r.change_prev == pytest.approx(100 / 80 - 1)  # counts: relative change
    ratio = row(eng, "k_ratio", A, "2023-01")
    assert ratio.change_prev == pytest.approx(1.0 - 0.8)  # rates: difference in points


def test_targets_attainment_and_status(store, eng):
    write(store, [(A, "flow_m", JAN, 48), (A, "base_m", JAN, 100), (B, "flow_m", JAN, 45), (B, "base_m", JAN, 100),
                  (C, "flow_m", JAN, 50), (C, "base_m", JAN, 100)])
    s = {r: row(eng, "k_ratio", r, "2023-01") for r in (A, B, C)}  # target 0.5
    assert s[A].attainment == pytest.approx(0.96) and s[A].status == "amber"
    assert s[B].status == "red" and s[C].status == "green"
    prov = row(eng, "k_flow", "330000", "2023-01")  # 143 against a province target of 100
    assert prov.status == "green" and prov.target_year == 2023 and not prov.target_carried
    down = row(eng, "k_down", "330000", "2023-01")  # lower is better: 143 against 100
    assert down.attainment == pytest.approx(100 / 143) and down.status == "red"
    assert row(eng, "k_stock", A, "2023-01").status in ("none", "missing")  # no target in the catalogue


def test_restatement_keeps_history_and_known_at_reproduces_the_old_value(store, eng):
    t1, t2 = dt.datetime(2023, 2, 5, 9), dt.datetime(2023, 3, 20, 9)
    b1 = write(store, [(A, "flow_m", JAN, 100)], when=t1)
    b2 = write(store, [(A, "flow_m", JAN, 104)], when=t2, note="更正")
    now = eng.value("k_flow", A, "2023-01")
    assert now.value == 104 and now.batches == [b2]
    before = eng.value("k_flow", A, "2023-01", known_at=dt.datetime(2023, 3, 1))
    assert before.value == 100 and before.batches == [b1]
    assert store.counts()["observation"] == 2  # the earlier value stays in history


def test_bulk_is_cached_per_data_version(store, eng):
    write(store, [(A, "flow_m", JAN, 1)])
    first = eng.bulk(Period.month(2023, 1))
    assert eng.bulk(Period.month(2023, 1)) is first
    write(store, [(A, "flow_m", JAN, 2)])
    second = eng.bulk(Period.month(2023, 1))
    assert second is not first
    assert second[(second.kpi == "k_flow") & (second.region == A)].iloc[0].value == 2


def test_province_level_kpi_is_not_available_below_the_province(store, eng):
    write(store, [("330000", "prov_m", JAN, 42)])
    assert row(eng, "k_prov", "330000", "2023-01").value == 42
    r = row(eng, "k_prov", A, "2023-01")
    assert pd.isna(r.value) and r.status == "na"


def test_peer_groups_are_time_versioned(store, eng):
    write(store, [("330127", "flow_m", dt.date(2025, 1, 1), 5)])
    with pytest.raises(EngineError, match="2024-07-31"):
        eng.value("k_flow", "山区26县", "2025-01")
    assert eng.value("k_flow", "山区海岛25县", "2025-01").value == 5
    assert eng.value("k_flow", "SHANQU26", "2023-01").value is None


def test_questions_the_engine_cannot_answer(store, eng):
    with pytest.raises(EngineError, match="unknown KPI"):
        eng.value("nope", A, "2023-01")
    with pytest.raises(EngineError, match="330105"):
        eng.value("k_flow", "330103", "2023-01")  # 下城区, merged into 拱墅区 in 2021
    with pytest.raises(EngineError, match="invalid period"):
        eng.value("k_flow", A, "2023-Q5")


def test_incremental_rollup_equals_full_rebuild(store, eng):
    write(store, [(A, "flow_m", JAN, 1), (B, "stock_m", FEB, 3)] + [(A, "daily_m", dt.date(2023, 1, d), d) for d in (1, 2)])
    write(store, [(A, "flow_m", JAN, 5), (C, "flow_m", MAR, 7), (A, "daily_m", dt.date(2023, 1, 2), 9)])
    import sqlalchemy as sa

    from store.schema import rollup_month

    def snapshot():
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(rollup_month).order_by(*rollup_month.primary_key.columns)).all()
        return [tuple(r) for r in rows]

    incremental = snapshot()
    store.rebuild_all()
    assert snapshot() == incremental


def test_a_failing_batch_leaves_nothing_behind(store, eng, monkeypatch):
    write(store, [(A, "flow_m", JAN, 1)])
    before, version = store.counts(), store.data_version()
    with pytest.raises(ValueError, match="repeats a key"):
        write(store, [(B, "flow_m", JAN, 1), (B, "flow_m", JAN, 2)])

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "refresh_rollups", boom)
    with pytest.raises(RuntimeError):
        write(store, [(B, "flow_m", JAN, 1), (C, "flow_m", JAN, 2)])
    assert store.counts() == before and store.data_version() == version


def test_latest_month_is_the_latest_due_month_with_reports(store):
    clear(store)
    write(store, [(A, "flow_m", JAN, 1), (A, "flow_m", FEB, 1)])
    assert MetricsEngine(store, catalogue=small_catalogue(), today=dt.date(2023, 3, 16)).latest_month().label == "2023-02"
    # on 2023-03-10 February's reports are not yet due: January is the latest complete month
    assert MetricsEngine(store, catalogue=small_catalogue(), today=dt.date(2023, 3, 10)).latest_month().label == "2023-01"
    clear(store)
    assert engine_for(store).latest_month() is None


def test_trend_equals_bulk_month_by_month(store, eng):
    rows = [(A, "flow_m", m, 10 + i) for i, m in enumerate((JAN, FEB, MAR))]
    rows += [(B, "base_m", m, 100) for m in (JAN, FEB, MAR)] + [(A, "base_m", m, 50) for m in (JAN, MAR)]
    rows += [(A, "stock_m", JAN, 4), (B, "stock_m", FEB, 6)]
    rows += [(r, "daily_m", dt.date(2023, 2, d), d) for r in (A, B) for d in range(1, 29) if (d + len(r)) % 3]
    write(store, rows)
    regions = [A, B, "330100", "330000"]
    tr = eng.trend([k.code for k in eng.catalogue.kpis], regions, Period.month(2023, 3), months=3)
    assert len(tr) == len(eng.catalogue.kpis) * len(regions) * 3
    for m in (JAN, FEB, MAR):
        b = eng.bulk(Period.month(m.year, m.month)).set_index(["kpi", "region"])["value"]
        for r in tr[tr["month"] == m].itertuples():
            expected = b.get((r.kpi, r.region))
            assert (pd.isna(expected) and pd.isna(r.value)) or r.value == pytest.approx(expected), (r.kpi, r.region, m)
    assert eng.trend(["k_flow"], [A], Period.month(2023, 3), months=3) is eng.trend(["k_flow"], [A], Period.month(2023, 3), months=3)


def test_count_targets_apply_to_the_province_only(store, eng):
    write(store, [(A, "flow_m", JAN, 96), ("330000", "prov_m", JAN, 1)])
    assert row(eng, "k_flow", "330000", "2023-01").target == 100
    county = row(eng, "k_flow", A, "2023-01")
    assert pd.isna(county.target) and county.status == "none"
    assert row(eng, "k_ratio", A, "2023-01").target == 0.5  # rates are judged everywhere


def test_small_samples_are_flagged_and_not_ranked(store):
    clear(store)
    raw = small_catalogue().model_dump()
    for k in raw["kpis"]:
        if k["code"] == "k_ratio":
            k["min_denominator"] = 50
    from metrics.catalogue import parse_catalogue

    eng = engine_for(store, parse_catalogue(raw))
    write(store, [(A, "flow_m", JAN, 3), (A, "base_m", JAN, 3), (B, "flow_m", JAN, 80), (B, "base_m", JAN, 100),
                  (C, "flow_m", JAN, 60), (C, "base_m", JAN, 100)])
    a, b, c = (row(eng, "k_ratio", r, "2023-01") for r in (A, B, C))
    assert a.small_sample and pd.isna(a["rank"]) and a.value == 1.0  # 3 of 3 cases: not "first in the province"
    assert (b["rank"], c["rank"], b.rank_of) == (1, 2, 2)


def test_ratio_uses_only_regions_that_reported_numerator_and_denominator(store, eng):
    # a daily numerator over a monthly stock denominator; B has not filed its monthly stock
    rows = [(r, "daily_m", dt.date(2023, 1, d), 80) for r in (A, B) for d in range(1, 32)]
    rows += [(A, "stock_m", JAN, 100)]
    write(store, rows)
    city = row(eng, "k_daily_ratio", "330100", "2023-01")
    assert city.value == pytest.approx(0.8)  # not (80 + 80) / 100
    assert (city.numerator, city.denominator) == (80, 100)
    assert pd.isna(row(eng, "k_daily_ratio", B, "2023-01").value)
    assert row(eng, "k_daily", "330100", "2023-01").value == 160  # the count itself still sums both


def test_a_zero_denominator_reported_in_full_is_no_cases_not_a_missing_report(store, eng):
    from metrics.league import standings

    # every 杭州 county files; 330105 had nothing fall due (0 of 0)
    rows = [(r, m, JAN, v) for r in eng.geo.counties_of("330100") for m, v in (("flow_m", 45), ("base_m", 50))]
    rows = [(r, m, d, 0 if r == B else v) for r, m, d, v in rows]
    write(store, rows)
    b = row(eng, "k_ratio", B, "2023-01")
    assert b.complete and b.denominator == 0 and pd.isna(b.value)
    assert b.status == "nocase" and pd.isna(b["rank"])
    a = row(eng, "k_ratio", A, "2023-01")
    assert a.status == "green" and a.rank_of == len(eng.geo.counties_of("330100")) - 1
    # not reporting at all is still 缺报
    clear(store)
    write(store, [(A, "flow_m", JAN, 45), (A, "base_m", JAN, 50)])
    assert row(eng, "k_ratio", B, "2023-01").status == "missing"
    frame = pd.DataFrame({"value": [float("nan"), float("nan"), 0.9], "complete": [True, True, True],
                          "denominator": [0.0, float("nan"), 50.0], "small_sample": [False] * 3,
                          "level": ["county"] * 3, "kpi": ["k_ratio"] * 3, "format": ["percent"] * 3,
                          "decimals": [1] * 3})
    assert list(standings(frame, True, "separate")["standing"]) == ["nocase", "no_data", "ranked"]


def test_change_of_a_figure_short_of_a_county_is_like_for_like(store, eng):
    """杭州 in February lacks one county: its 环比 is taken over the counties in both months, not
    the partial sum against January's whole one (which would show the absent county as a fall)."""
    hz = eng.geo.counties_of("330100")
    jan = [(r, m, JAN, v) for r in hz for m, v in (("flow_m", 80), ("base_m", 100), ("stock_m", 10))]
    feb = [(r, m, FEB, v) for r in hz[1:] for m, v in (("flow_m", 90), ("base_m", 100), ("stock_m", 11))]
    write(store, jan + feb)
    city = row(eng, "k_ratio", "330100", "2023-02")
    assert not city.complete and city.n_reported == len(hz) - 1
    assert city.change_prev == pytest.approx(0.9 - 0.8) and city.change_prev_n == len(hz) - 1
    stock = row(eng, "k_stock", "330100", "2023-02")
    assert stock.value == 11 * (len(hz) - 1)  # the figure itself stays the partial sum, flagged N/M
    assert stock.change_prev == pytest.approx(0.1)  # not 11·12/(10·13) − 1 = −1.5 %
    # a complete figure keeps its plain change and no basis
    jan_city = row(eng, "k_ratio", "330100", "2023-01")
    assert jan_city.complete and pd.isna(jan_city.change_prev_n)
    # a county alone is never like-for-like: missing is missing
    assert pd.isna(row(eng, "k_ratio", hz[0], "2023-02").change_prev)


def test_a_count_short_of_its_counties_is_judged_only_where_the_rest_cannot_change_it(store, eng):
    # the province's count target is 100; only 杭州's counties have filed (the rest are overdue)
    hz = eng.geo.counties_of("330100")
    write(store, [(r, "flow_m", JAN, 5) for r in hz])
    short = row(eng, "k_flow", "330000", "2023-01")
    assert not short.complete and short.value == 5 * len(hz) < 100
    assert short.status == "partial"  # more counties can only add: undecided, not red
    down = row(eng, "k_down", "330000", "2023-01")  # lower is better, 100 at most: not over it yet
    assert down.status == "partial"
    clear(store)
    write(store, [(r, "flow_m", JAN, 10) for r in hz])
    assert row(eng, "k_flow", "330000", "2023-01").status == "green"  # already over: met whatever comes
    assert row(eng, "k_down", "330000", "2023-01").status == "red"  # already over the ceiling: missed
    # rates are judged as they stand (a partial set of counties is not biased one way)
    write(store, [(r, "base_m", JAN, 100) for r in hz])
    assert row(eng, "k_ratio", "330000", "2023-01").status != "partial"
