"""Year-end forecast: the method on synthetic series with known answers, the engine
path on a scratch store, the tile sentence, the league table's 达标风险 list and the pack slide."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from metrics.catalogue import catalogue, parse_catalogue
from metrics.evaluate import met_threshold
from metrics.forecast import (
    FORECAST_COLUMNS,
    at_risk,
    cutoff_of,
    eps_for,
    forecast_arrays,
    forecast_frame,
    month_met,
    probability,
    to_t,
    year_end_forecasts,
)
from metrics.geography import PROVINCE, geography
from metrics.periods import Period, add_months
from store import Batch
from tests.app_helpers import html_text, run
from tests.helpers import _kpi, _measure, engine_for, scratch_store
from ui import forecast_view as fcv
from ui.tiles import headline_tiles

CAT = catalogue()
GEO = geography()
FIRST = dt.date(2021, 1, 1)


def months(n: int, first: dt.date = FIRST) -> list[dt.date]:
    return [add_months(first, i) for i in range(n)]


def seasonal_rates(n_regions: int, n_months: int, seed: int, noise: float = 0.05) -> np.ndarray:
    """Rates with a logit trend of 0.25 a year, a month-of-year effect and logit noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_months)
    season = 0.3 * np.sin(2 * np.pi * t / 12)
    level = rng.normal(1.5, 0.3, n_regions)[:, None]
    x = level + 0.25 * t / 12 + season + rng.normal(0, noise, (n_regions, n_months))
    return 1 / (1 + np.exp(-x))


# -- the method on synthetic series ---------------------------------------------------------------
def test_seasonal_series_is_projected_within_tolerance():
    v = seasonal_rates(40, 48, seed=1, noise=0.0)  # noiseless: the same course holds exactly
    cut = dt.date(2024, 6, 1)  # column 41; December is column 47
    pr = forecast_arrays(v, FIRST, cut, "logit", "seasonal")
    assert pr is not None
    assert np.allclose(pr.point, v[:, 47], atol=1e-6)
    noisy = seasonal_rates(40, 48, seed=2, noise=0.05)
    pn = forecast_arrays(noisy, FIRST, cut, "logit", "seasonal")
    truth = seasonal_rates(40, 48, seed=2, noise=0.0)[:, 47]
    assert np.abs(pn.point - truth).mean() < 0.01  # within a point on average
    assert (pn.lo <= pn.point).all() and (pn.point <= pn.hi).all()


def test_interval_covers_the_truth_at_about_the_nominal_rate():
    inside, n = 0, 0
    for seed in range(6):
        v = seasonal_rates(80, 48, seed=100 + seed, noise=0.08)
        pr = forecast_arrays(v, FIRST, dt.date(2024, 6, 1), "logit", "seasonal")
        truth = v[:, 47]
        inside += int(((truth >= pr.lo) & (truth <= pr.hi)).sum())
        n += len(truth)
    assert 0.7 <= inside / n <= 0.9, inside / n


def test_probability_is_monotone_in_the_target_and_respects_direction():
    v = seasonal_rates(30, 48, seed=3, noise=0.08)
    pr = forecast_arrays(v, FIRST, dt.date(2024, 9, 1), "logit", "seasonal")
    targets = np.linspace(0.5, 0.99, 25)
    up = np.array([probability(pr, to_t(np.full(30, tg), "logit"), True) for tg in targets])
    down = np.array([probability(pr, to_t(np.full(30, tg), "logit"), False) for tg in targets])
    assert (np.diff(up, axis=0) <= 1e-12).all()  # a higher target is never likelier to be met
    assert (np.diff(down, axis=0) >= -1e-12).all()  # lower is better: the reverse
    assert np.allclose(up + down, 1, atol=0.05)  # the two sides split the draws (ties aside)
    assert up[0].min() > 0.95 and up[-1].max() < 0.05


def test_month_met_on_a_constructed_path():
    tg = np.array([0.9, 0.9, 0.9, 0.9])
    now = np.array([0.85, 0.95, 0.85, 0.95])
    path = np.array([  # Nov, Dec after an October cut-off
        [0.88, 0.91],  # reaches the target in December
        [0.96, 0.97],  # already on target, stays
        [0.86, 0.87],  # never
        [0.89, 0.95],  # on target now, dips in November, back in December: met from December
    ])
    m, st = month_met(now, path, tg, True, 10)
    assert m.tolist() == [12, 10, -1, 12]
    assert st.tolist() == ["on_course", "met", "not_this_year", "on_course"]
    m, st = month_met(now, path, tg, False, 10)  # lower is better
    assert st.tolist() == ["not_this_year", "not_this_year", "met", "not_this_year"] and m[2] == 10


def long_values(kpi: str, regions: list[str], v: np.ndarray, first: dt.date = FIRST) -> pd.DataFrame:
    ms = months(v.shape[1], first)
    return pd.DataFrame({"kpi": kpi, "region": np.repeat(regions, len(ms)), "month": ms * len(regions),
                         "value": v.ravel()})


def test_forecast_frame_targets_direction_and_no_target():
    counties = GEO.counties[:30]
    v = seasonal_rates(30, 48, seed=4, noise=0.05)
    untargeted = next(k.code for k in CAT.kpis if not k.targets)
    vals = pd.concat([
        long_values("online_handling_rate", counties, v),
        long_values("bad_rating_rate", counties, v * 0.01),  # lower is better, target 0.3%
        long_values("zlb_dau", counties, v * 1e5),  # count target: the province's only
        long_values(untargeted, counties, v),  # no target at all: no row
    ])
    fc = forecast_frame(vals, dt.date(2024, 6, 1), CAT, levels={c: "county" for c in counties})
    assert list(fc.columns) == FORECAST_COLUMNS
    assert set(fc["kpi"]) == {"online_handling_rate", "bad_rating_rate"}  # zlb_dau: no county target
    on = fc[fc["kpi"] == "online_handling_rate"]
    assert (on["target"] == 0.95).all() and on["prob"].between(0, 1).all()
    # the stated December value is the median draw: it is on target exactly when the probability is ≥ 50 %
    assert ((on["prob"] >= 0.5) == (on["projection"] >= 0.95)).all()
    bad = fc[fc["kpi"] == "bad_rating_rate"]  # values ~0.8% against a 0.3% ceiling: almost surely missed
    assert bad["prob"].max() < 0.05 and (bad["state"] == "not_this_year").all()
    # a KPI without any target for the year gives no row; December leaves nothing to project
    no_target = parse_catalogue(CAT.model_dump() | {"kpis": [
        k.model_dump() | ({"targets": []} if k.code == "online_handling_rate" else {}) for k in CAT.kpis]})
    assert forecast_frame(vals, dt.date(2024, 6, 1), no_target, kpis=["online_handling_rate"]).empty
    dec = forecast_frame(vals, dt.date(2023, 12, 1), CAT, kpis=["online_handling_rate"])
    assert dec["projection"].isna().all() and (dec["reason"] == "complete").all()
    short = forecast_frame(vals, dt.date(2021, 9, 1), CAT, kpis=["online_handling_rate"])
    assert short["projection"].isna().all() and (short["reason"] == "history").all()


def test_a_rate_at_100_percent_stays_there():
    v = np.ones((20, 40))
    pr = forecast_arrays(v, FIRST, dt.date(2024, 3, 1), "logit", "drift", eps_for(1.0))
    assert (pr.point == 1.0).all() and (pr.hi == 1.0).all() and (pr.lo == 1.0).all()
    assert (probability(pr, to_t(np.ones(20), "logit", eps_for(1.0)), True) == 1).all()


def test_projection_probability_and_month_met_tell_one_story_at_the_cap():
    """At 100 % a rate's past errors are lopsided (it can only fall): the course alone would say
    "预计达到 100%" beside a probability under 50 %. The stated December value is the median draw."""
    rng = np.random.default_rng(3)
    v = np.ones((40, 48))
    slips = rng.random((40, 48)) < 0.5  # about every other month some case is handled offline
    v[slips] = 1 - rng.uniform(0.002, 0.01, slips.sum())
    v[:, 35] = v[:, 45] = 1.0  # last December and the cut-off month at 100 %
    eps = eps_for(1.0)
    pr = forecast_arrays(v, FIRST, dt.date(2024, 10, 1), "logit", "seasonal", eps)
    threshold = met_threshold(1.0, "percent", 1, True)  # a December shown as 100.0 % has met it
    target_t = to_t(np.full(40, threshold), "logit", eps)
    prob = probability(pr, target_t, True)
    _, state = month_met(to_t(v[:, 45], "logit", eps), pr.path_t, target_t, True, 10)
    on_target = pr.point >= threshold
    assert 0 < on_target.sum() < 40  # both stories occur in this sample
    assert ((prob >= 0.5) == on_target).all()
    assert ((state != "not_this_year") == on_target).all()


def test_cutoff_of_views():
    latest = Period.month(2026, 10)
    assert cutoff_of(Period.parse("2026-10"), latest) == dt.date(2026, 10, 1)
    assert cutoff_of(Period.parse("2026-B5"), latest) == dt.date(2026, 10, 1)
    assert cutoff_of(Period.parse("2026-11"), latest) is None  # not complete
    assert cutoff_of(Period.parse("2025"), latest) is None  # December: nothing left to project
    assert cutoff_of(Period.parse("2026-10-03"), latest) is None


# -- text, tile and the at-risk list ----------------------------------------------------------------
def fake_frame() -> pd.DataFrame:
    rows = [("online_handling_rate", PROVINCE, 0.931, 0.92, 0.94, 0.22, -1, "not_this_year"),
            ("online_handling_rate", "330102", 0.96, 0.95, 0.97, 0.9, 10, "met"),
            ("online_handling_rate", "330105", 0.94, 0.93, 0.955, 0.3, 12, "on_course"),
            ("online_handling_rate", "330106", 0.90, 0.88, 0.92, 0.01, -1, "not_this_year"),
            ("online_handling_rate", "330108", 0.949, 0.94, 0.96, 0.49, -1, "not_this_year"),
            ("mobile_handling_rate", "330106", 0.70, 0.65, 0.72, 0.02, -1, "not_this_year")]
    df = pd.DataFrame(rows, columns=["kpi", "region", "projection", "lo", "hi", "prob", "month_met", "state"])
    df = df.assign(year=2022, cutoff="2022-03", horizon=9, value_now=df["projection"] - 0.01, direction="up",
                   target=np.where(df["kpi"] == "online_handling_rate", 0.95, 0.82), n_errors=500, reason="")
    return df[FORECAST_COLUMNS]


def test_tile_sentence_and_tile_line():
    k = CAT.kpi("online_handling_rate")
    row = fake_frame().iloc[0]
    assert fcv.tile_sentence(row, k, "zh") == "按当前进度，预计年底达到 93.1%（目标 95.0%），达标概率 22%"
    assert fcv.tile_sentence(row, k, "en") == ("On the current course: 93.1% by year end (target 95.0%), "
                                               "22% chance of meeting it")
    assert "92.0%–94.0%" in fcv.tile_tip(row, k, "zh") and "年内难以达标" in fcv.tile_tip(row, k, "zh")
    assert fcv.prob_text(0.999) == "≥99%" and fcv.prob_text(0.001) == "≤1%" and fcv.prob_text(0.495) == "50%"
    assert fcv.when_text(fake_frame().iloc[2], "zh") == "按当前进度预计12月起达标"
    assert fcv.when_text(fake_frame().iloc[2], "en", short=True) == "Dec"
    tiles = headline_tiles(pd.DataFrame(), None, CAT, GEO, PROVINCE, "zh")  # no bulk row: no forecast line
    assert all(t.forecast is None for t in tiles)


def test_tile_carries_the_forecast_of_its_scope(app_db):  # noqa: F811
    from metrics.engine import MetricsEngine
    from store import Store

    eng = MetricsEngine(Store(app_db), today=dt.date(2022, 4, 1))
    bulk = eng.bulk("2022-03")
    tiles = {t.kpi: t for t in headline_tiles(bulk, None, CAT, GEO, PROVINCE, "zh", forecasts=fake_frame())}
    assert tiles["online_handling_rate"].forecast == "按当前进度，预计年底达到 93.1%（目标 95.0%），达标概率 22%"
    # no province row for this KPI: an empty line keeps the tile level with its neighbours
    assert tiles["mobile_handling_rate"].forecast == ""
    assert 'class="t-forecast"' in fcv.tile(tiles["mobile_handling_rate"], "zh")
    bare = headline_tiles(bulk, None, CAT, GEO, "330100", "zh", forecasts=fake_frame())  # no row for the city
    assert all(t.forecast is None for t in bare) and "t-forecast" not in fcv.tile(bare[0], "zh")
    html = fcv.tile(tiles["online_handling_rate"], "zh")
    assert html.count("t-forecast") == 1
    assert "达标概率 22%" in html and html.index("t-forecast") > html.index("t-foot")


def test_at_risk_list_is_the_filtered_forecast_frame():
    fc = fake_frame()
    k = CAT.kpi("online_handling_rate")
    counties = ["330102", "330105", "330106", "330108"]
    risk = at_risk(fc, k.code, counties)
    expect = fc[(fc["kpi"] == k.code) & fc["region"].isin(counties) & (fc["prob"] < 0.5)].sort_values("prob")
    assert risk["region"].tolist() == expect["region"].tolist() == ["330106", "330105", "330108"]
    view = fcv.risk_frame(fc, k, counties, {c: GEO.get(c).name_zh for c in counties}, "zh")
    assert view["region"].tolist() == risk["region"].tolist()
    assert view["达标概率"].tolist() == ["1%", "30%", "49%"] and view["预计达标"].tolist() == ["年内难达标", "12月",
                                                                                              "年内难达标"]


def test_rankings_page_lists_counties_at_risk(app_db, use_db, monkeypatch):  # noqa: F811
    import streamlit as st

    use_db(app_db)
    from metrics import access

    monkeypatch.setattr(access, "_forecasts", lambda eng, month, kpis: fake_frame())
    st.cache_data.clear()  # the overview's tile model is cached per data version: rebuild it with this frame
    at = run("pages/rankings.py", rkpi="online_handling_rate")
    md = "\n".join(m.value for m in at.markdown)
    assert "达标风险 · 3 个区县年底达标概率低于 50%" in md
    frames = [d.value for d in at.dataframe if "达标概率" in d.value.columns]
    assert frames and frames[0]["地区"].tolist() == [GEO.get(c).name_zh for c in ("330106", "330105", "330108")]
    at = run(rkpi="online_handling_rate")  # the overview's tile shows the province's sentence
    assert "按当前进度，预计年底达到 93.1%（目标 95.0%），达标概率 22%" in html_text(at)
    st.cache_data.clear()  # later tests must not see the fake frame


def test_rankings_page_without_forecast_says_why(app_db, use_db):  # noqa: F811
    use_db(app_db)  # 2021-01..2022-03: too short a history to calibrate a year-end forecast
    at = run("pages/rankings.py", rkpi="online_handling_rate", lang="en")
    assert any("No year-end forecast here" in c.value for c in at.caption)


# -- the engine path and the pack slide on a scratch store ----------------------------------------------
def small_targets_catalogue():
    return parse_catalogue({
        "version": 1,
        "default_status": {"method": "attainment", "green": 1.0, "amber": 0.95},
        "systems": [{"code": "s", "order": 0, "name_zh": "测试", "name_en": "Test", "short_zh": "测", "short_en": "T"}],
        "measures": [_measure("flow_m", "month", "sum"), _measure("base_m", "month", "sum")],
        "kpis": [_kpi("k_rate", kind="ratio", numerator="flow_m", denominator="base_m", format="percent", headline=1,
                      name_zh="测试办结率", name_en="Test rate",
                      targets=[{"year": 2026, "value": 0.9, "source": "assumed"}])],
    })


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    store = scratch_store(f"sqlite:///{tmp_path_factory.mktemp('fc') / 'fc.sqlite'}")
    eng = engine_for(store, small_targets_catalogue())
    counties = GEO.counties[:12]
    ms = months(46, dt.date(2023, 1, 1))  # 2023-01 .. 2026-10
    rate = seasonal_rates(len(counties), len(ms), seed=9, noise=0.03)
    base = np.full(rate.shape, 10_000.0)
    rows = [(c, m, "base_m", base[i, j]) for i, c in enumerate(counties) for j, m in enumerate(ms)]
    rows += [(c, m, "flow_m", round(rate[i, j] * base[i, j])) for i, c in enumerate(counties) for j, m in enumerate(ms)]
    df = pd.DataFrame(rows, columns=["region_code", "obs_date", "measure_code", "value"])
    store.write_batch(Batch(source="import", committed_at=dt.datetime(2026, 11, 16, 9)),
                      df[["region_code", "measure_code", "obs_date", "value"]])
    return {"store": store, "eng": eng, "counties": counties, "rate": rate}


def test_engine_forecast_matches_the_frame_method(scratch):
    eng, counties = scratch["eng"], scratch["counties"]
    fc = year_end_forecasts(eng, Period.parse("2026-10"))
    got = fc[fc["region"].isin(counties)].set_index("region")
    assert got["projection"].notna().all() and (got["cutoff"] == "2026-10").all()
    assert PROVINCE in set(fc.loc[fc["projection"].notna(), "region"])  # the aggregate of the 12
    hist = eng.trend(["k_rate"], counties, Period.parse("2026-10"), months=46)
    again = forecast_frame(hist, dt.date(2026, 10, 1), eng.catalogue, levels={c: "county" for c in counties})
    assert np.allclose(again.set_index("region").loc[counties, "projection"], got.loc[counties, "projection"])


def test_pack_has_the_forecast_slide_and_a_frozen_one_does_not_move(scratch):
    from pack.build import build_deck
    from pack.deck import slide_text
    from pack.freeze import freeze_period

    store, eng, counties = scratch["store"], scratch["eng"], scratch["counties"]
    fz = freeze_period(eng, "2026-10", user="测试", known_at=dt.datetime(2026, 11, 17, 9), force=True)  # some counties short
    frozen = build_deck(eng, "2026-10", "zh", fz)
    s = next(x for x in frozen.slides if x.key == "forecast")
    text = [t for x in frozen.slides if x.key.startswith("forecast") for t in slide_text(x)]  # province, counties
    assert s.title == "年度目标达标预测" and "测试办结率" in text and "达标风险最高的区县（概率低于 50%）" in text
    # a correction after the freeze: December's course drops in every county; the frozen slide keeps its figures
    low = pd.DataFrame([(c, "flow_m", dt.date(2026, 10, 1), 100.0) for c in counties],
                       columns=["region_code", "measure_code", "obs_date", "value"])
    store.write_batch(Batch(source="import", committed_at=dt.datetime(2026, 11, 18, 9)), low)
    again = [t for x in build_deck(eng, "2026-10", "zh", fz).slides if x.key.startswith("forecast") for t in slide_text(x)]
    live = [t for x in build_deck(eng, "2026-10", "zh").slides if x.key.startswith("forecast") for t in slide_text(x)]
    assert again == text and live != text
    en = next(x for x in build_deck(eng, "2026-10", "en", fz).slides if x.key == "forecast")
    assert en.title == "Year-end targets: forecast" and "Test rate" in slide_text(en)


def test_texts_match():
    from ui.texts import forecast as texts

    assert set(texts.ZH) == set(texts.EN) and all(k.startswith("forecast_") for k in texts.ZH)
    field = re.compile(r"{(\w+)}")
    for k in texts.ZH:
        assert set(field.findall(texts.ZH[k])) == set(field.findall(texts.EN[k])), k
