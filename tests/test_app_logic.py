"""Unit tests of the UI's plain logic: formatting, tiles, system scores, rankings, alerts, profile,
the count-target adapter, map geometry and the string tables (no Streamlit runtime needed)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from metrics import open_engine
from metrics.catalogue import catalogue
from metrics.geography import PROVINCE, geography
from metrics.periods import Period
from tests.app_helpers import OVERDUE, demo_db_url
from ui import fmt, html, maps
from ui.alerts import build_alerts
from ui.i18n import EN, ZH, t
from ui.profile import comparison_regions, missing_count, profile_table
from ui.ranking import best_worst, county_ranking, rows_for_display
from ui.shell import month_options
from ui.tiles import capped_attainment, headline_tiles, row_of, scope_counties, system_scores, system_table

CAT, GEO = catalogue(), geography()
PCT = CAT.kpi("online_handling_rate")
COUNT = CAT.kpi("zlb_dau")
DOWN = CAT.kpi("bad_rating_rate")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    eng = open_engine(demo_db_url(tmp_path_factory))
    p = eng.latest_month()
    return eng, p, eng.bulk(p), eng.bulk(p.previous())


# -- formatting -------------------------------------------------------------------------------
def test_value_formats():
    assert fmt.value(0.853, PCT) == "85.3%"
    assert fmt.value(1457418, COUNT, "zh") == "145.7万人"
    assert fmt.value(1457418, COUNT, "en") == "1.46M users"
    assert fmt.value(3528, COUNT, "zh") == "3,528人"
    assert fmt.value(None, PCT) == "—" and fmt.value(float("nan"), PCT) == "—"


def test_changes_are_points_for_rates_and_relative_for_counts():
    assert fmt.change(0.012, PCT, "zh") == "+1.2个百分点"
    assert fmt.change(-0.012, PCT, "en") == "-1.2 pt"
    assert fmt.change(0.0727, COUNT) == "+7.3%"
    assert fmt.change(float("inf"), COUNT) == "—"


def test_arrows_respect_direction():
    assert fmt.arrow(0.01, "up") == ("▲", fmt.GOOD)
    assert fmt.arrow(-0.01, "up") == ("▼", fmt.BAD)
    assert fmt.arrow(0.01, "down") == ("▲", fmt.BAD)  # a rising complaint rate is bad
    assert fmt.arrow(-0.01, "down") == ("▼", fmt.GOOD)
    assert fmt.arrow(None, "up")[0] == "▬"


def test_rank_change():
    assert fmt.rank_change(5, 2) == ("▲3", fmt.GOOD)
    assert fmt.rank_change(2, 5) == ("▼3", fmt.BAD)
    assert fmt.rank_change(4, 4)[0] == "▬"
    assert fmt.rank_change(float("nan"), 4)[0] == "•"  # not ranked last period


# -- strings ------------------------------------------------------------------------------------
def test_both_languages_have_the_same_keys_and_placeholders():
    from i18n import AREAS, placeholders

    assert ZH.keys() == EN.keys()
    for k in ZH:
        if AREAS[k].startswith(("ui.", "pack.")):  # the app's own (all areas: tests/test_i18n.py)
            assert placeholders(ZH[k]) == placeholders(EN[k]), k
    assert t("rank_city", "zh", rank=3, of=11) == "全省第3/11"
    assert t("rank_county", "zh", rank=7, of=90) == "第7/90"


def test_month_options_newest_first_back_to_reform_start():
    opts = month_options(Period.parse("2022-03"))
    assert opts[0] == "2022-03" and opts[-1] == "2021-01" and len(opts) == 15


# -- tiles and scores -------------------------------------------------------------------------
def test_headline_tiles_province(demo):
    eng, p, bulk, _ = demo
    trend = eng.trend([k.code for k in CAT.headline_kpis()], [PROVINCE], p)
    tiles = headline_tiles(bulk, trend, CAT, GEO, PROVINCE, "zh")
    assert [x.kpi for x in tiles] == [k.code for k in CAT.headline_kpis()] and len(tiles) == 10
    for tl in tiles:
        assert tl.status in ("green", "amber", "red", "partial", "none", "missing")
        assert len(tl.spark) == 12
        assert "口径" in tl.tooltip and "来源" in tl.tooltip and "数据截至" in tl.tooltip
    rate = next(x for x in tiles if x.kpi == "online_handling_rate")
    assert rate.rank.startswith("达标区县") and rate.reported == "已报 88/90"  # two counties overdue
    dau = next(x for x in tiles if x.kpi == "zlb_dau")
    assert dau.rank.startswith("首位")


def test_headline_tiles_city_rank_and_english(demo):
    _, _, bulk, _ = demo
    tiles = headline_tiles(bulk, None, CAT, GEO, "330100", "en")
    rate = next(x for x in tiles if x.kpi == "online_handling_rate")
    # cities are ranked among the cities whose counties all reported (here 9 of 11)
    assert re.fullmatch(r"#\d+/(9|10|11) in province", rate.rank)
    assert rate.spark == []


def test_headline_tile_when_period_has_no_rows():
    tiles = headline_tiles(pd.DataFrame(), None, CAT, GEO, PROVINCE, "zh")
    assert len(tiles) == 10 and all(x.value == "—" for x in tiles)


def test_system_score_is_mean_capped_attainment():
    att = pd.Series([1.2, 0.9, np.inf, np.nan])
    assert capped_attainment(att).tolist()[:3] == [1.0, 0.9, 1.0]
    rows = []
    for k, a, st in (("online_handling_rate", 1.2, "green"), ("mobile_handling_rate", 0.9, "red")):
        rows.append({"kpi": k, "region": PROVINCE, "value": 0.5, "target": 0.5, "attainment": a, "status": st})
    rows.append({"kpi": "zero_visit_rate", "region": PROVINCE, "value": 0.5, "target": np.nan,
                 "attainment": np.nan, "status": "none"})
    scores = {s.code: s for s in system_scores(pd.DataFrame(rows), CAT, PROVINCE, "zh")}
    gov = scores["government"]
    assert gov.score == pytest.approx(0.95) and gov.status == "amber"
    assert (gov.n_green, gov.n_target) == (1, 2)
    assert scores["economy"].score is None and scores["economy"].status == "missing"


def test_system_table_lists_every_kpi_of_the_system(demo):
    _, _, bulk, _ = demo
    tab = system_table(bulk, CAT, "government", PROVINCE, "zh")
    assert list(tab["code"]) == [k.code for k in CAT.kpis_of("government")]
    assert {"数值", "目标", "口径", "来源", "数据截至"} <= set(tab.columns)


# -- count KPIs: provincial targets ---------------------------------------------------------------
def test_count_kpi_has_no_county_target_and_map_colours_by_value(demo):
    _, _, bulk, _ = demo
    c = bulk[(bulk["kpi"] == "zlb_dau") & (bulk["level"] == "county")]
    assert c["target"].isna().all() and set(c["status"]) <= {"none", "missing"}
    assert maps.effective_colour(bulk, COUNT, GEO.counties, "status") == "value"
    assert maps.effective_colour(bulk, PCT, GEO.counties, "status") == "status"
    tiles = headline_tiles(bulk, None, CAT, GEO, "330100", "zh")
    dau = next(x for x in tiles if x.kpi == "zlb_dau")
    assert dau.status == "none" and dau.target == "无目标值"


# -- rankings -------------------------------------------------------------------------------------
def test_ranking_and_rank_change(demo):
    _, _, bulk, prev = demo
    ranked = county_ranking(bulk, prev, "online_handling_rate", GEO.counties)
    assert len(ranked) == 88  # the two overdue counties are never ranked
    assert not set(OVERDUE) & set(ranked["region"])
    assert list(ranked["rank"]) == sorted(ranked["rank"])
    r = ranked.iloc[0]
    assert r["rank_change"] == r["prev_rank"] - r["rank"]
    best, worst = best_worst(ranked)
    assert len(best) == len(worst) == 5 and worst.iloc[-1]["rank"] == 88
    rows = rows_for_display(best, PCT, GEO, "zh")
    assert rows[0]["name"] == GEO.get(rows[0]["region"]).name_zh and rows[0]["value"].endswith("%")


def test_best_worst_small_city_does_not_overlap():
    ranked = pd.DataFrame({"region": list("abcdef"), "rank": range(1, 7)})
    best, worst = best_worst(ranked, 5)
    assert list(best["region"]) == list("abc") and list(worst["region"]) == list("def")


def test_ranking_without_previous_period(demo):
    _, _, bulk, _ = demo
    ranked = county_ranking(bulk, None, "online_handling_rate", GEO.counties_of("330600"))
    assert ranked["prev_rank"].isna().all() and len(ranked) <= 6


# -- alerts ---------------------------------------------------------------------------------------
def _frame(rows: list[dict]) -> pd.DataFrame:
    base = {"value": 0.9, "target": 0.9, "status": "green", "change_prev": 0.0, "direction": "up",
            "format": "percent", "complete": True, "missing": [], "as_of": "2024-06-30", "level": "county"}
    return pd.DataFrame([base | r for r in rows])


def test_alert_rules():
    p = Period.parse("2024-06")
    bulk = _frame([
        {"kpi": "online_handling_rate", "region": PROVINCE, "level": "province", "status": "red",
         "complete": False, "missing": ["330102", "330105"]},
        {"kpi": "mobile_handling_rate", "region": PROVINCE, "level": "province", "change_prev": -0.01},
        {"kpi": "zlb_dau", "region": PROVINCE, "level": "province", "format": "integer", "change_prev": -0.02,
         "as_of": "2024-06-20"},
        {"kpi": "bad_rating_rate", "region": PROVINCE, "level": "province", "direction": "down",
         "change_prev": 0.004},
        {"kpi": "online_handling_rate", "region": "330106", "change_prev": -0.08},
        {"kpi": "online_handling_rate", "region": "330108", "change_prev": +0.08},
    ])
    alerts = build_alerts(bulk, CAT, GEO, PROVINCE, p, GEO.counties, "zh")
    kinds = [(a.kind, a.target) for a in alerts]
    # the province's own warnings first, then the counties that did not report
    assert kinds[0] == ("off_target", ("system", "government"))
    over = [k for k in kinds if k[0] == "overdue"]
    assert over == [("overdue", ("county", "330102")), ("overdue", ("county", "330105"))]
    assert ("drop", ("county", "330106")) in kinds and ("drop", ("county", "330108")) not in kinds
    assert ("falling", ("system", "government")) in kinds  # -1 pt on mobile handling
    assert not any(a.kind == "falling" and a.kpi == "zlb_dau" for a in alerts)  # -2% is below 5%
    assert not any(a.kind == "falling" and a.kpi == "bad_rating_rate" for a in alerts)  # +0.4 pt < 0.5
    assert ("stale", ("system", "platform")) in kinds
    order = ["off_target", "falling", "overdue", "drop", "stale", "small"]
    assert [a.kind for a in alerts] == sorted((a.kind for a in alerts), key=order.index)


def test_alerts_city_scope_only_its_counties(demo):
    _, p, bulk, _ = demo
    alerts = build_alerts(bulk, CAT, GEO, "330200", p, GEO.counties_of("330200"), "zh")
    overdue = [a.target[1] for a in alerts if a.kind == "overdue"]
    assert overdue == ["330282"]  # 慈溪 (Ningbo) is overdue; 330802 is in Quzhou
    assert all(a.target[1] in GEO.counties_of("330200") for a in alerts if a.target[0] == "county")


def test_alerts_on_empty_frame():
    assert build_alerts(pd.DataFrame(), CAT, GEO, PROVINCE, Period.parse("2024-06"), GEO.counties, "zh") == []


# -- county profile -------------------------------------------------------------------------------
def test_profile_table(demo):
    eng, p, bulk, _ = demo
    trend = eng.trend([k.code for k in CAT.kpis], ["331121"], p)
    tab = profile_table(bulk, CAT, GEO, "331121", p, "zh", trend=trend)
    assert len(tab) == len(CAT.kpis)
    assert {"本市", "全省", "山区26县", "山区26县 组内排名", "近12月"} <= set(tab.columns)
    assert all(isinstance(x, list) for x in tab["近12月"])
    # one pass over the bulk gives what a lookup per KPI and region gives
    for k, row in zip([k for k in CAT.kpis if row_of(bulk, k.code, "331121") is not None], tab.to_dict("records"),
                      strict=True):
        assert row["code"] == k.code
        assert row["数值"] == fmt.value(row_of(bulk, k.code, "331121")["value"], k, "zh")
        assert row["本市"] == fmt.value(row_of(bulk, k.code, "331100")["value"], k, "zh")
        tr = trend[(trend["kpi"] == k.code) & (trend["region"] == "331121")].sort_values("month")
        scale = 100.0 if k.format == "percent" else 1.0
        assert row["近12月"] == [float(v) * scale for v in tr["value"] if not pd.isna(v)]
    assert comparison_regions(GEO, "331121", p) == ["331121", "331100", PROVINCE, "SHANQU26"]
    assert missing_count(bulk, "330282") > 0 and missing_count(bulk, "331121") == 0


def test_scope_counties():
    assert len(scope_counties(GEO, PROVINCE)) == 90
    assert scope_counties(GEO, "330600") == GEO.counties_of("330600")


# -- map and html ---------------------------------------------------------------------------------
def test_map_rings_wound_for_d3():
    fc = maps.boundaries()
    assert len(fc["features"]) == 90
    for f in fc["features"]:
        polys = [f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"]
        for poly in polys:
            assert maps._signed_area(poly[0]) < 0  # exterior clockwise
            assert all(maps._signed_area(h) > 0 for h in poly[1:])


def test_map_figure(demo):
    _, _, bulk, _ = demo
    fig = maps.county_map(bulk, PCT, GEO.counties_of("330600"), GEO, "zh")
    tr = fig.data[0]
    assert tr.type == "choropleth" and len(tr.locations) == len(GEO.counties_of("330600"))
    assert fig.layout.geo.visible is False
    fig2 = maps.county_map(bulk, COUNT, GEO.counties, GEO, "en", colour="status")
    assert fig2.data[0].showscale is not False  # a count has no county target: coloured by value


def test_sparkline_and_tile_html_escape():
    svg = html.sparkline_svg([1.0, None, 2.0, 3.0])
    assert svg.count("<polyline") == 2  # a gap splits the line
    assert html.sparkline([None]).startswith('<img class="spark"')
    tl = headline_tiles(pd.DataFrame(), None, CAT, GEO, PROVINCE, "zh")[0]
    tl.name = "<script>x</script>"
    assert "<script>" not in html.tile(tl, "zh")


def test_is_num():
    assert fmt.is_num(1) and fmt.is_num(1.5) and not fmt.is_num(None) and not fmt.is_num(math.nan)
    assert fmt.text(float("nan")) == "—" and fmt.text("2024-06-30") == "2024-06-30"


def test_a_change_that_prints_as_zero_is_flat():
    from metrics.catalogue import catalogue
    from ui.fmt import arrow, change

    k = catalogue().kpi("online_handling_rate")
    assert arrow(-0.0002, "up")[0] == "▬" and "-0.0" not in change(-0.0002, k)
    assert arrow(-0.002, "up")[0] == "▼" and "-0.2" in change(-0.002, k)


def test_overview_best_and_worst_five_agree_with_the_league_table_on_every_rank(demo):
    """The overview's 前五/后五 read the engine's bulk ranks, the 赛马 page the league table: for every
    rankable KPI, each county holds the same rank (and the same "of") in both, ties included."""
    from metrics.league import league_table
    from metrics.rankings import RankingError

    eng, p, bulk, prev = demo
    compared = 0
    for k in CAT.kpis:
        try:
            table = league_table(eng, k.code, p, "counties", trend_months=1)
        except RankingError:  # province-level only: neither screen ranks it
            continue
        ranked = county_ranking(bulk, prev, k.code, GEO.counties)
        league = table[table["standing"] == "ranked"].set_index("region")
        assert ranked.set_index("region")["rank"].astype(int).to_dict() == league["rank"].astype(int).to_dict(), k.code
        best, worst = best_worst(ranked, 5)
        for r in pd.concat([best, worst]).itertuples():
            assert (r.rank, r.rank_of) == (league.loc[r.region, "rank"], league.loc[r.region, "rank_of"]), k.code
        compared += len(ranked)
    assert compared > 1000  # most KPIs of the demo rank most of the 90 counties


# -- the app's heap ---------------------------------------------------------------------------------
def test_heap_is_frozen_after_caches_grow_and_unfrozen_when_the_data_changes():
    """Caches grown → frozen after the next full collection (Streamlit's post-run GC then skips them);
    a new data version unfreezes, so garbage cycles frozen with the old entries are still collected."""
    import gc
    import weakref

    from ui import data

    class Node:
        pass

    saved = dict(data._heap)
    gc.unfreeze()  # app pages run by earlier tests in this process may have frozen it
    gc.collect()
    try:
        data._heap.update(grew_at=None, frozen_at=None, version=None)
        data._cache_grew()
        data._settle_heap(1)
        assert gc.get_freeze_count() == 0  # not before a full collection swept the filling run's garbage
        cycle = Node()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        gc.collect()
        data._settle_heap(1)
        assert gc.get_freeze_count() > 0 and data._heap["frozen_at"] is not None
        del cycle
        gc.collect()
        assert gone() is not None  # a frozen cycle outlives a full collection…
        data._settle_heap(2)  # …until the data changes
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert gone() is None
        data._settle_heap(2)
        assert gc.get_freeze_count() > 0  # and the next run freezes again
    finally:
        gc.unfreeze()
        data._heap.update(saved)
