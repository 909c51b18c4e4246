"""A demo a reform office would put its name to: one truth per figure (the problem and app KPIs equal
their registers on the tile, the register section, the league table and the meeting pack), a
believable province (county character, seed magnitudes, official calendar), a realistic mix, and
the catalogue's seed concepts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest import demo_calibration as calib
from ingest.bootstrap import create_demo_database
from ingest.demo import generate, problem_measures
from ingest.demo_apps import applicable
from metrics import apps as ma
from metrics import open_engine
from metrics import problems as mp
from metrics.catalogue import catalogue
from metrics.geography import PROVINCE, geography
from metrics.league import league_table
from metrics.periods import Period
from pack.freeze import pack_tables

CAT, GEO = catalogue(), geography()
ROOT = Path(__file__).resolve().parent.parent
TODAY, NOW = dt.date(2022, 8, 1), dt.datetime(2022, 8, 1, 12, 0)  # history 2021-01 .. 2022-07
PERIODS = ["2021-12", "2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06", "2022-Q1", "2022-Q2"]
PROBLEM_KPIS = {"problem_ontime_rate": ("closed_ontime", "due_in_window"), "problem_close_rate": ("closed", "found"),
                "problems_overdue": ("overdue", None)}
APP_KPIS = {"app_activity_rate": "activity_rate", "app_real_activity_rate": "real_activity_rate",
            "app_satisfaction": "satisfaction_rate"}


# -- one truth per figure --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('truth') / 'demo.sqlite'}"
    create_demo_database(url, seed=7, today=TODAY, now=NOW)
    eng = open_engine(url, today=TODAY)
    probs = mp.load_problems(eng.store.engine)
    reg, ro = ma.load_register(eng.store.engine), ma.load_rollout(eng.store.engine)
    return eng, probs, reg, ro


def _regions() -> list[str]:
    return [PROVINCE, *GEO.cities, *GEO.counties]


def _pair(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) < 1e-9


@pytest.mark.parametrize("period", PERIODS)
def test_problem_kpis_equal_the_register_on_tile_section_league_and_pack(truth, period):
    eng, probs, _, _ = truth
    p = Period.parse(period)
    bulk = eng.bulk(p).set_index(["kpi", "region"])
    section = mp.region_table(probs, p.end, GEO, due_from=p.start).set_index("region")
    pack = pack_tables(eng, p, None)["bulk"].set_index(["kpi", "region"])
    for kpi, (num, den) in PROBLEM_KPIS.items():
        league = league_table(eng, kpi, p, "counties", trend_months=0, small_sample="flag").set_index("region")
        for region in _regions():
            tile = float(bulk.loc[(kpi, region), "value"])
            reg = float(section.loc[region, num]) if den is None else (
                section.loc[region, num] / section.loc[region, den] if section.loc[region, den] > 0 else np.nan)
            assert _pair(tile, float(reg)), (kpi, region, period, tile, reg)
            assert _pair(tile, float(pack.loc[(kpi, region), "value"])), (kpi, region, period)
            if region in league.index and pd.notna(league.loc[region, "value"]):
                assert _pair(tile, float(league.loc[region, "value"])), (kpi, region, period)
        # the engine's own single-figure view agrees too
        one = eng.value(kpi, PROVINCE, p)
        assert _pair(float(one.value), float(bulk.loc[(kpi, PROVINCE), "value"]))


@pytest.mark.parametrize("period", PERIODS)
def test_app_kpis_equal_the_app_register(truth, period):
    eng, _, reg, ro = truth
    p = Period.parse(period)
    bulk = eng.bulk(p).set_index(["kpi", "region"])
    pack = pack_tables(eng, p, None)["bulk"].set_index(["kpi", "region"])
    usage = ma.load_usage(eng.store.engine, p.start, p.end)
    for region in [PROVINCE, *GEO.cities]:  # usage is registered by city
        tot = ma.league_totals(ma.league_table(usage, reg, p, None if region == PROVINCE else [region]))
        for kpi, rate in APP_KPIS.items():
            tile = float(bulk.loc[(kpi, region), "value"])
            assert _pair(tile, tot[rate]), (kpi, region, period, tile, tot[rate])
            assert _pair(tile, float(pack.loc[(kpi, region), "value"]))
    summary = ma.rollout_summary(ma.rollout_matrix(ro, reg, p.end, GEO.counties), GEO).set_index("region")
    league = league_table(eng, "major_app_rollout_rate", p, "counties", trend_months=0,
                          small_sample="flag").set_index("region")
    for region in _regions():
        tile = float(bulk.loc[("major_app_rollout_rate", region), "value"])
        assert _pair(tile, float(summary.loc[region, "rate"])), (region, period, tile, summary.loc[region, "rate"])
        assert _pair(tile, float(pack.loc[("major_app_rollout_rate", region), "value"]))
        if region in league.index and pd.notna(league.loc[region, "value"]):
            assert _pair(tile, float(league.loc[region, "value"]))


def test_problem_measures_count_the_register_as_the_section_does():
    probs = pd.DataFrame({
        "region_code": ["A", "A", "A", "B"],
        "found_date": [dt.date(2022, 1, 5), dt.date(2022, 1, 10), dt.date(2022, 2, 1), dt.date(2022, 1, 1)],
        "deadline": [dt.date(2022, 2, 4), dt.date(2022, 2, 28), dt.date(2022, 3, 1), dt.date(2022, 1, 31)],
        "closed_date": [dt.date(2022, 2, 1), dt.date(2022, 3, 5), None, dt.date(2022, 1, 31)],
    })
    months = [dt.date(2022, 1, 1), dt.date(2022, 2, 1), dt.date(2022, 3, 1)]
    got = problem_measures(probs, ["A", "B"], months)
    assert got["problems_due"].tolist() == [[0, 2, 1], [1, 0, 0]]
    assert got["problems_fixed_ontime"].tolist() == [[0, 1, 0], [1, 0, 0]]
    assert got["problems_found"].tolist() == [[2, 3, 3], [1, 1, 1]]
    assert got["problems_closed"].tolist() == [[0, 1, 2], [1, 1, 1]]
    assert got["problems_overdue_open"].tolist() == [[0, 0, 1], [0, 0, 0]]  # the 28 Feb deadline is not past on 28 Feb


def test_problem_and_app_figures_come_from_the_platform_feed_without_gaps(truth):
    """Systems of record: every county has the problem and app figures for every month, also the
    counties whose Excel report is overdue, so the province's figure is the register's."""
    eng, *_ = truth
    res = eng.value("problem_ontime_rate", PROVINCE, "2022-06")
    assert res.n_reported == res.n_expected == 90


# -- a believable province, a realistic mix: every calibration target ------------------------------
@pytest.fixture(scope="module")
def measured():
    data = generate(CAT, GEO, seed=7, today=calib.TODAY, now=calib.NOW)
    return calib.measure(data, CAT, GEO)


@pytest.mark.parametrize("target", calib.TARGETS, ids=lambda t: t.code)
def test_calibration_target(measured, target):
    assert target.ok(measured[target.code]), (target.text_en, measured[target.code], target.bound())


def test_character_table_documents_each_column_and_the_official_split():
    ch = pd.read_csv(ROOT / "data/regions/county_character.csv", dtype={"code": str})
    assert len(ch) == 90 and set(ch["code"]) == set(GEO.counties)
    doc = (ROOT / "data/regions/county_character.md").read_text(encoding="utf-8")
    for col in ch.columns:
        assert f"`{col}`" in doc, col
    split = ch["shanqu_class_zh"].value_counts()
    assert split["跨越发展类"] == 15 and split["生态发展类"] == 11
    assert set(ch.loc[ch["shanqu26"] == 1, "code"]) == set(GEO.members("SHANQU26", dt.date(2022, 1, 1)))
    assert ch.loc[ch["code"] == "330782", "cross_border"].item() == ch["cross_border"].max()  # 义乌


def test_monitored_minutes_follow_the_calendar():
    data = generate(CAT, GEO, seed=7, today=dt.date(2021, 4, 1), now=dt.datetime(2021, 4, 1, 12))
    obs = data.observations
    mins = obs[obs["measure_code"] == "monitored_minutes"].set_index("obs_date")["value"]
    assert mins[dt.date(2021, 1, 1)] == 31 * 1440 and mins[dt.date(2021, 2, 1)] == 28 * 1440


# -- the catalogue's seed concepts -------------------------------------------------------------------
NEW_KPIS = {
    "share_approval_time": "platform", "open_datasets": "platform", "open_data_items": "platform",
    "open_innovation_apps": "platform", "netsec_risk_fix_rate": "platform", "materials_cut_rate": "government",
    "time_cut_rate": "government", "cross_province_cases": "government", "no_application_rate": "government",
    "admin_lawsuit_loss_rate": "rule_of_law", "local_resolution_rate": "grassroots",
    "digital_core_value_added": "economy", "iiot_connected_devices": "economy", "industrial_apps": "economy",
    "major_app_rollout_rate": "government",
}


@pytest.mark.parametrize("code", sorted(NEW_KPIS))
def test_seed_concepts_are_in_the_catalogue_on_their_system_with_the_seed_named(code):
    k = CAT.kpi(code)
    assert k.system == NEW_KPIS[code]
    assert k in CAT.kpis_of(k.system)  # the catalogue-driven system page lists it
    assert "种子00" in k.definition_zh and "seed 00" in k.definition_en
    for m in k.measures:
        assert CAT.measure(m).demo is not None  # the demo draws it


def test_seed_targets_as_the_seeds_state_them():
    def target(code, year):
        return next(t for t in CAT.kpi(code).targets if t.year == year)

    t = target("share_approval_time", 2022)
    assert CAT.kpi("share_approval_time").direction == "down" and t.source == "seed" and t.value == pytest.approx(3.0)
    assert "5.0" in CAT.kpi("share_approval_time").definition_zh  # the stated baseline: −40% of 5.0 days
    assert target("local_resolution_rate", 2022).value == pytest.approx(0.90)
    assert [target(c, 2022).value for c in ("open_datasets", "open_data_items", "open_innovation_apps")] == [10000, 50000, 80]
    assert target("iiot_connected_devices", 2021).value == 6e7 and target("industrial_apps", 2021).value == 35000
    assert CAT.kpi("admin_lawsuit_loss_rate").direction == "down"
    assert all(t.source == "assumed" for t in CAT.kpi("share_satisfaction").targets)  # named in the design brief without a number


def test_minute_level_sharing_is_about_freshness():
    k = CAT.kpi("share_minute_rate")
    assert (k.numerator, k.denominator) == ("share_minute_requests_met", "share_minute_requests")
    assert "数据高铁" in k.definition_zh and "freshness" in k.definition_en


def test_problem_sources_are_named_as_in_the_seed():
    names = {s.code: s.name_zh for s in mp.config().sources}
    assert names["safety"] == "安全生产和自然灾害" and names["petition"] == "群众信访"


def test_major_apps_apply_where_their_subject_exists():
    need = applicable(GEO.counties)
    assert "hszhzz" not in need["330127"] and "hszhzz" not in need["331127"]  # 淳安, 景宁: landlocked
    assert "hszhzz" in need["330922"]  # 嵊泗
    assert max(len(v) for v in need.values()) == 31
    reg = pd.DataFrame({"code": ["hszhzz", "qzwtqd"], "rollout_required": [True, True]})
    ro = pd.DataFrame({"app_code": ["qzwtqd", "qzwtqd", "hszhzz"], "region_code": ["330127", "330922", "330922"],
                       "started_date": [dt.date(2021, 1, 1)] * 3,
                       "live_date": [dt.date(2021, 2, 1), dt.date(2021, 2, 1), None]})
    m = ma.rollout_matrix(ro, reg, dt.date(2021, 3, 1), ["330127", "330922"])
    assert m.loc["330127", "hszhzz"] == "not_applicable"
    s = ma.rollout_summary(m, GEO).set_index("region")
    assert s.loc["330127", "required"] == 1 and s.loc["330127", "rate"] == 1.0
    assert s.loc["330922", "required"] == 2 and s.loc["330922", "rate"] == 0.5
