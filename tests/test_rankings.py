"""Known-answer tests of 赛马晾晒: league tables, fairness rules, composite schemes, lists, comparison.

Fast: one scratch SQLite file for the module, a small test catalogue, hand-made figures whose
ranks, Wilson intervals, scores and z-scores are worked out by hand in the comments.
"""

from __future__ import annotations

import copy
import datetime as dt
import math

import pandas as pd
import pytest

from metrics.comparison import comparison_trends, peer_position
from metrics.composite import evaluate_scheme, score_scheme
from metrics.engine import MetricsEngine
from metrics.league import competition_rank, league_table, wilson_interval
from metrics.rankings import Population, RankingError, for_download, rank_change
from metrics.redblack import red_black_lists
from metrics.schemes import SCHEMES_PATH, SchemeError, load_schemes, parse_schemes
from store import Batch
from tests.helpers import clear, engine_for, rank_catalogue, scheme_book, scratch_store

CAT = rank_catalogue()

A, B, C, D = "330102", "330105", "330106", "330108"  # four 杭州 districts
HZ = "city:330100"
JAN, FEB, MAR = dt.date(2023, 1, 1), dt.date(2023, 2, 1), dt.date(2023, 3, 1)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return scratch_store(f"sqlite:///{tmp_path_factory.mktemp('rank') / 'rank.sqlite'}")


@pytest.fixture
def eng(store) -> MetricsEngine:
    clear(store)
    return engine_for(store, CAT)


def write(store, rows):
    df = pd.DataFrame(rows, columns=["region_code", "measure_code", "obs_date", "value"])
    return store.write_batch(Batch(source="import"), df)


def by_region(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("region")


# -- ranks: ties, direction, change --------------------------------------------------------------
def test_competition_ranks_with_ties_and_direction_on_hand_values():
    s = pd.Series([10.0, 20.0, 20.0, 30.0, float("nan")])
    assert competition_rank(s, up=True).tolist()[:4] == [4, 2, 2, 1]
    assert competition_rank(s, up=False).tolist()[:4] == [1, 2, 2, 4]
    assert pd.isna(competition_rank(s).iloc[4])
    # rates from different cases that are equal must tie despite floating-point noise
    assert competition_rank(pd.Series([0.1 + 0.2, 0.3, 0.2])).tolist() == [1, 1, 3]


def test_league_table_ties_direction_and_non_reporters(store, eng):
    write(store, [(A, "flow_m", JAN, 10), (B, "flow_m", JAN, 20), (C, "flow_m", JAN, 20), (D, "flow_m", JAN, 30)])
    up = by_region(league_table(eng, "k_flow", "2023-01", HZ))
    assert up.loc[[D, B, C, A], "rank"].tolist() == [1, 2, 2, 4]
    assert set(up.loc[[A, B, C, D], "rank_of"]) == {4}
    down = league_table(eng, "k_down", "2023-01", HZ)
    assert down["region"].tolist()[:4] == [A, B, C, D]  # lower is better: 10 first
    assert by_region(down).loc[[A, B, C, D], "rank"].tolist() == [1, 2, 2, 4]
    # the other 杭州 counties did not report: listed as 逾期未报, never ranked
    late = up[~up.index.isin([A, B, C, D])]
    assert len(late) == 9 and set(late["standing_zh"]) == {"逾期未报"} and late["rank"].isna().all()
    # gap to target is direction-aware: target 100; k_flow A=10 is 90 short, k_down A=10 is 90 better
    assert up.loc[A, "gap_to_target"] == pytest.approx(-90)
    assert by_region(down).loc[A, "gap_to_target"] == pytest.approx(90)
    assert up.loc[A, "attainment"] == pytest.approx(0.1)
    # KPI without a target: gap and attainment empty, not zero
    write(store, [(A, "stock_m", JAN, 5)])
    st = by_region(league_table(eng, "k_stock", "2023-01", HZ))
    assert pd.isna(st.loc[A, "gap_to_target"]) and pd.isna(st.loc[A, "attainment"]) and st.loc[A, "rank"] == 1


def test_rank_change_when_the_ranked_set_changes(store, eng):
    # January: C 30, B 20, A 10.  February: A 40, B 20, D 5 new, C did not report.
    write(store, [(A, "flow_m", JAN, 10), (B, "flow_m", JAN, 20), (C, "flow_m", JAN, 30),
                  (A, "flow_m", FEB, 40), (B, "flow_m", FEB, 20), (D, "flow_m", FEB, 5)])
    t = by_region(league_table(eng, "k_flow", "2023-02", HZ))
    assert t.loc[[A, B, D], "rank"].tolist() == [1, 2, 3]
    assert t.loc[[A, B, D], "prev_rank"].tolist()[:2] == [3, 2] and pd.isna(t.loc[D, "prev_rank"])
    assert t.loc[[A, B, D], "rank_change_zh"].tolist() == ["▲2", "—", "新"]
    assert t.loc[D, "rank_change_en"] == "new"
    # the dropped county keeps its previous rank for reference but is not ranked now
    assert t.loc[C, "standing"] == "overdue" and pd.isna(t.loc[C, "rank"]) and t.loc[C, "prev_rank"] == 1
    assert t.loc[C, "rank_change_zh"] == ""


def test_known_at_freezes_the_table_for_the_meeting_pack(store, eng):
    store.write_batch(Batch(source="import", committed_at=dt.datetime(2023, 2, 20, 9)),
                      pd.DataFrame([(A, "flow_m", JAN, 10), (B, "flow_m", JAN, 20)],
                                   columns=["region_code", "measure_code", "obs_date", "value"]))
    store.write_batch(Batch(source="import", committed_at=dt.datetime(2023, 3, 20, 9), note="更正"),
                      pd.DataFrame([(A, "flow_m", JAN, 30)], columns=["region_code", "measure_code", "obs_date", "value"]))
    now = by_region(league_table(eng, "k_flow", "2023-01", HZ, trend_months=0))
    then = by_region(league_table(eng, "k_flow", "2023-01", HZ, trend_months=0, known_at=dt.datetime(2023, 3, 1)))
    assert (now.loc[A, "rank"], then.loc[A, "rank"]) == (1, 2)
    assert then.loc[A, "value"] == 10


def test_rank_change_labels():
    r = rank_change(pd.Series([1.0, 5.0, 3.0, 2.0, None]), pd.Series([4.0, 4.0, 3.0, None, 1.0]))
    assert r["rank_change_zh"].tolist() == ["▲3", "▼1", "—", "新", ""]
    assert r["rank_change"].tolist()[:3] == [3, -1, 0]


def test_peer_group_population_is_by_date(store, eng):
    assert len(Population.parse("group:SHANQU26", eng.geo).regions(eng.geo, dt.date(2023, 1, 31))) == 26
    with pytest.raises(RankingError, match="2024-07-31"):
        league_table(eng, "k_flow", "2025-01", "山区26县")
    write(store, [("330305", "flow_m", dt.date(2025, 1, 1), 3)])  # 洞头 joined 山区海岛25县 in 2024-08
    t = league_table(eng, "k_flow", "2025-01", "group:SHANQU_HAIDAO25", trend_months=0)
    assert len(t) == 25 and t.iloc[0]["region"] == "330305" and t.iloc[0]["rank_of"] == 1


def test_province_level_kpi_is_not_rankable(eng):
    with pytest.raises(RankingError, match="province level only"):
        league_table(eng, "k_prov", "2023-01")


def test_trend_sparkline_holds_the_last_months(store, eng):
    write(store, [(A, "flow_m", dt.date(2022, 12, 1), 7), (A, "flow_m", JAN, 8), (A, "flow_m", FEB, 9)])
    t = by_region(league_table(eng, "k_flow", "2023-02", HZ, trend_months=3))
    assert t.loc[A, "trend"] == [7.0, 8.0, 9.0]
    assert t.loc[B, "trend"] == [None, None, None]
    csv = by_region(for_download(t.reset_index()))
    assert csv.loc[A, "trend"] == "7; 8; 9" and csv.loc[B, "trend"] == "; ; "


# -- fairness: small samples and missing reports ---------------------------------------------------
def test_wilson_interval_known_values():
    # 2 of 3: p=2/3, z²/n=1.2805; centre=(0.6667+0.6403)/2.2805=0.5731; half=0.8594*sqrt(0.07407+0.10671)=0.3654
    low, high = wilson_interval([2, 0], [3, 10])
    assert low[0] == pytest.approx(0.2077, abs=1e-4) and high[0] == pytest.approx(0.9385, abs=1e-4)
    # 0 of 10: centre = half = 0.13876 → [0, 0.2775]
    assert low[1] == pytest.approx(0.0, abs=1e-12) and high[1] == pytest.approx(0.2775, abs=1e-4)
    assert math.isnan(wilson_interval([1], [0])[0][0])


def test_small_denominator_is_ranked_separately_or_with_its_uncertainty(store, eng):
    # k_rate needs 10 cases a month. A: 2 of 3 (small), B: 50 of 100, C: 30 of 100.
    write(store, [(A, "flow_m", JAN, 2), (A, "base_m", JAN, 3), (B, "flow_m", JAN, 50), (B, "base_m", JAN, 100),
                  (C, "flow_m", JAN, 30), (C, "base_m", JAN, 100)])
    sep = by_region(league_table(eng, "k_rate", "2023-01", HZ))
    assert sep.loc[A, "standing"] == "small_sample" and pd.isna(sep.loc[A, "rank"]) and sep.loc[A, "rank_small"] == 1
    assert sep.loc[[B, C], "rank"].tolist() == [1, 2] and sep.loc[B, "rank_of"] == 2  # not crowned on 3 cases
    assert sep.loc[A, "ci_low"] == pytest.approx(0.2077, abs=1e-4)
    assert sep.loc[A, "ci_high"] == pytest.approx(0.9385, abs=1e-4)
    flag = by_region(league_table(eng, "k_rate", "2023-01", HZ, small_sample="flag"))
    assert flag.loc[[A, B, C], "rank"].tolist() == [1, 2, 3] and bool(flag.loc[A, "small_sample"])
    # its interval [20.8%, 93.9%] spans 1st place and last place (below B 50% and C 30%)
    assert (flag.loc[A, "rank_best"], flag.loc[A, "rank_worst"]) == (1, 3)
    # B: [40.4%, 59.6%] is clear of A's 66.7% and C's 30%: 2nd either way
    assert (flag.loc[B, "rank_best"], flag.loc[B, "rank_worst"]) == (2, 2)
    # a stricter minimum for this table makes B and C small too (100 < 200)
    strict = by_region(league_table(eng, "k_rate", "2023-01", HZ, min_denominator=200))
    assert set(strict.loc[[A, B, C], "standing"]) == {"small_sample"} and strict["rank"].isna().all()


def test_minimum_denominator_is_per_month_for_flows(store, eng):
    # 100 cases a month: fine against a minimum of 150 a month? No — a quarter needs 3 x 150 = 450 > 300.
    write(store, [(r, m_, m, v) for r in (A, B) for m in (JAN, FEB, MAR) for m_, v in (("flow_m", 50), ("base_m", 100))])
    q = by_region(league_table(eng, "k_rate", "2023-Q1", HZ, min_denominator=150, trend_months=0))
    assert set(q.loc[[A, B], "standing"]) == {"small_sample"}
    q = by_region(league_table(eng, "k_rate", "2023-Q1", HZ, min_denominator=90, trend_months=0))
    assert set(q.loc[[A, B], "standing"]) == {"ranked"} and q.loc[A, "rank"] == 1  # 300 >= 270; tie at 50%


def test_missing_and_partial_reports_are_never_ranked(store, eng):
    write(store, [(A, "flow_m", m, 1) for m in (JAN, FEB, MAR)] + [(B, "flow_m", JAN, 100)])
    q = by_region(league_table(eng, "k_flow", "2023-Q1", HZ, trend_months=0))
    assert q.loc[A, "rank"] == 1 and q.loc[A, "rank_of"] == 1
    # B filed January only: a larger partial sum, yet 逾期未报 for the quarter, not ranked on it
    assert q.loc[B, "standing_zh"] == "逾期未报" and pd.isna(q.loc[B, "rank"])
    cities = by_region(league_table(eng, "k_flow", "2023-01", "cities", trend_months=0))
    assert cities.loc["330100", "standing"] == "incomplete" and pd.isna(cities.loc["330100", "rank"])
    early = MetricsEngine(store, catalogue=CAT, today=dt.date(2023, 2, 10))
    e = by_region(league_table(early, "k_flow", "2023-01", HZ, trend_months=0))
    assert e.loc[C, "standing"] == "pending" and e.loc[C, "standing_zh"] == "未到报送期"


# -- composite schemes ----------------------------------------------------------------------------
def frame(values: dict[str, tuple[float, float]], complete: dict[str, bool] | None = None) -> pd.DataFrame:
    """bulk-shaped rows: k1 up with target 100, k2 down with target 10."""
    rows = []
    for region, (v1, v2) in values.items():
        for kpi, v, target, direction in (("k1", v1, 100.0, "up"), ("k2", v2, 10.0, "down")):
            att = (v / target if direction == "up" else target / v) if not math.isnan(v) else float("nan")
            rows.append({"kpi": kpi, "region": region, "level": "county", "value": v, "target": target,
                         "attainment": att, "complete": (complete or {}).get(region, True) or kpi == "k1",
                         "pending": False, "small_sample": False, "direction": direction})
    return pd.DataFrame(rows)


def scheme(normalisation: str, **kw):
    raw = {"version": 1, "schemes": [{
        "code": "t", "name_zh": "测试", "name_en": "test", "normalisation": normalisation,
        "kpis": [{"kpi": "k_flow", "weight": 3}, {"kpi": "k_down", "weight": 1}], **kw}]}
    s = parse_schemes(raw, CAT).schemes[0]
    # the hand-built frame names its KPIs k1/k2
    return s.model_copy(update={"kpis": [s.kpis[0].model_copy(update={"kpi": "k1"}),
                                         s.kpis[1].model_copy(update={"kpi": "k2"})]})


# k1 (up, target 100): A 80, B 100, C 120.  k2 (down, target 10): A 5, B 10, C 20.  Weights 3:1.
# D has k1 = 1000 but did not report k2: it must be left out of the scores *and* of the statistics.
HAND = frame({A: (80, 5), B: (100, 10), C: (120, 20), D: (1000, float("nan"))}, complete={D: False})


def scores(normalisation: str, **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    sc, comp, _ = score_scheme(HAND, scheme(normalisation, **kw), [A, B, C, D])
    return sc.set_index("region"), comp


def test_attainment_scores_by_hand():
    sc, comp = scores("attainment", cap=1.2)
    # A: 100*(0.75*0.8 + 0.25*min(10/5, 1.2)) = 90; B: 100; C: 100*(0.75*1.2 + 0.25*0.5) = 102.5
    assert sc.loc[[A, B, C], "score"].tolist() == pytest.approx([90, 100, 102.5])
    assert sc.loc[[C, B, A], "rank"].tolist() == [1, 2, 3]
    assert sc.loc[D, "standing"] == "overdue" and sc.loc[D, "missing_kpis"] == ["k2"] and pd.isna(sc.loc[D, "rank"])
    assert sc.loc[A, "rank_of"] == 3


def test_minmax_scores_by_hand():
    sc, _ = scores("minmax")
    # k1: (v-80)/40 → 0, .5, 1; k2 down: (20-v)/15 → 1, 2/3, 0 (D's 1000 is not in the min/max)
    assert sc.loc[[A, B, C], "score"].tolist() == pytest.approx([25, 100 * (0.375 + 0.25 * 2 / 3), 75])


def test_zscore_scores_by_hand():
    sc, comp = scores("zscore", scale=10, offset=50)
    # k1: mean 100, sd sqrt(800/3) → z = -sqrt(1.5), 0, sqrt(1.5)
    # k2: mean 35/3, sd sqrt(350/9); down, so the sign flips
    sd2 = math.sqrt(350 / 9)
    z2 = [-(v - 35 / 3) / sd2 for v in (5, 10, 20)]
    z1 = [-math.sqrt(1.5), 0.0, math.sqrt(1.5)]
    expect = [50 + 10 * (0.75 * a + 0.25 * b) for a, b in zip(z1, z2, strict=True)]
    assert sc.loc[[A, B, C], "score"].tolist() == pytest.approx(expect)
    assert comp[(comp.region == A) & (comp.kpi == "k2")]["normalised"].iloc[0] == pytest.approx(z2[0])


def test_breakdown_shows_what_pulled_the_score_up_or_down():
    sc, comp = scores("attainment", cap=1.2)
    from metrics.composite import CompositeResult

    res = CompositeResult(scheme("attainment"), "2023-01", "counties", sc.reset_index(), comp)
    bd = res.breakdown(A)
    # A: k1 contributes 60 vs a peer mean of 75 (-15): pulls down; k2 contributes 30 vs 20.4167: pulls up
    assert bd["kpi"].tolist() == ["k2", "k1"]
    assert bd["relative_contribution"].tolist() == pytest.approx([30 - (30 + 25 + 12.5) / 3, -15])
    assert bd["effect_zh"].tolist() == ["拉高", "拉低"]
    # relative contributions add up to the region's distance from the average score
    mean = sc.loc[[A, B, C], "score"].mean()
    assert bd["relative_contribution"].sum() == pytest.approx(sc.loc[A, "score"] - mean)
    with pytest.raises(RankingError):
        res.breakdown("330000")


def test_tiers_by_share_and_by_score():
    sc, _ = scores("attainment", cap=1.2)
    assert sc.loc[[C, B, A], "tier_zh"].tolist() == ["第一梯队", "第二梯队", "第三梯队"]
    assert pd.isna(sc.loc[D, "tier"])
    by_score, _ = scores("attainment", cap=1.2, tiers={"method": "score", "cuts": [95, 50]})
    assert by_score.loc[[C, B, A], "tier"].tolist() == [1, 1, 2]
    # ties share a tier: with equal scores nobody drops to a lower tier than its rank-mate
    tied = frame({A: (100, 10), B: (100, 10), C: (50, 10)})
    sc2, _, _ = score_scheme(tied, scheme("attainment"), [A, B, C])
    assert sc2.set_index("region").loc[[A, B, C], "rank"].tolist() == [1, 1, 3]
    assert sc2.set_index("region").loc[[A, B, C], "tier"].tolist() == [1, 1, 3]


def test_evaluate_scheme_on_the_engine_with_rank_change(store, eng):
    write(store, [(A, "flow_m", JAN, 80), (B, "flow_m", JAN, 100),
                  (A, "flow_m", FEB, 120), (B, "flow_m", FEB, 100), (C, "flow_m", FEB, 90)])
    res = evaluate_scheme(eng, "sc", "2023-02", HZ, book=scheme_book())
    s = res.scores.set_index("region")
    # k_flow and k_down read the same measure: attainment (x/100 capped at 1.2) and 100/x
    # A: 100*(0.75*1.2 + 0.25*100/120) = 110.833; B: 100; C: 100*(0.75*0.9 + 0.25*min(100/90, 1.2)) = 95.278
    assert s.loc[[A, B, C], "score"].tolist() == pytest.approx([110.8333333, 100, 95.2777778])
    assert s.loc[[A, B, C], "rank_change_zh"].tolist() == ["▲1", "▼1", "新"]
    assert s.loc[D, "standing_zh"] == "逾期未报"


# -- schemes file -------------------------------------------------------------------------------
def test_shipped_schemes_file_loads_against_the_catalogue():
    b = load_schemes(SCHEMES_PATH)
    assert {s.normalisation for s in b.schemes} == {"attainment", "minmax", "zscore"}
    assert len(b.schemes) >= 3 and b.lists
    for s in b.schemes:
        assert sum(s.weights.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r["schemes"][0]["kpis"].append({"kpi": "nope", "weight": 1}), "scheme sc: field 'kpis.2.kpi': unknown KPI 'nope'"),
    (lambda r: r["schemes"][0]["kpis"].append({"kpi": "k_prov", "weight": 1}), "province level only"),
    (lambda r: r["schemes"][0]["kpis"].append({"kpi": "k_stock", "weight": 1}), "has no target"),
    (lambda r: r["schemes"][0]["kpis"][0].update(weight=0), "scheme sc: field 'kpis.0.weight'"),
    (lambda r: r["schemes"][0].update(normalisation="rank"), "scheme sc: field 'normalisation'"),
    (lambda r: r["schemes"][0].update(tiers={"cuts": [0.5], "labels_zh": ["a", "b", "c"]}), "need 2 labels"),
    (lambda r: r["lists"][0].pop("n"), r"list rule bottom2: field '\(entry\)'.*needs 'n'"),
    (lambda r: r["lists"][1].update(scheme="nope"), "list rule top1: field 'scheme': unknown scheme"),
])
def test_invalid_schemes_are_rejected_naming_the_entry_and_field(change, message):
    raw = {
        "version": 1,
        "schemes": [{"code": "sc", "name_zh": "测", "name_en": "t", "normalisation": "attainment",
                     "kpis": [{"kpi": "k_flow", "weight": 3}, {"kpi": "k_down", "weight": 1}]}],
        "lists": [{"code": "bottom2", "board": "black", "rule": "bottom_n", "kpis": ["k_flow"], "n": 2},
                  {"code": "top1", "board": "red", "rule": "top_n", "scheme": "sc", "n": 1}],
    }
    parse_schemes(copy.deepcopy(raw), CAT)  # the base is valid
    change(raw)
    with pytest.raises(SchemeError, match=message):
        parse_schemes(raw, CAT)


# -- red and black lists --------------------------------------------------------------------------
def months(start: dt.date, n: int) -> list[dt.date]:
    return [dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1) for i in range(n)]


def test_bottom_n_includes_ties_at_the_boundary_and_explains(store, eng):
    write(store, [(A, "flow_m", JAN, 10), (B, "flow_m", JAN, 20), (C, "flow_m", JAN, 20), (D, "flow_m", JAN, 30)])
    lst = red_black_lists(eng, "2023-01", ["bottom2", "late"], book=scheme_book())
    bottom = lst[lst.rule_code == "bottom2"].set_index("region")
    assert sorted(bottom.index) == sorted([A, B, C])  # B and C tie for 2nd-last
    assert bottom.loc[A, "reason_zh"] == "k_flow10，目标100，全省县（市、区）排名第4/4（倒数第1）"
    assert "ranked 4 of 4" in bottom.loc[A, "reason_en"]
    late = lst[lst.rule_code == "late"]
    assert len(late) == 86 and not late["region"].isin([A, B, C, D]).any()
    assert set(late["reason_zh"]) == {"k_flow：2023-01逾期未报"} and set(late["board_zh"]) == {"黑榜"}


def test_top_n_on_a_scheme(store, eng):
    write(store, [(A, "flow_m", JAN, 80), (B, "flow_m", JAN, 100)])
    top = red_black_lists(eng, "2023-01", ["top1"], book=scheme_book())
    assert top["region"].tolist() == [B] and top["board"].tolist() == ["red"]
    # B: 100*(0.75*1.0 + 0.25*1.0) = 100
    assert top["reason_zh"].iloc[0].startswith("测试评价得分100.0，全省县（市、区）排名第1/2")


def test_consecutive_decline_and_off_target_with_numbers(store, eng):
    ms = months(dt.date(2023, 3, 1), 4)  # March..June 2023
    rows = []
    for m, a, b in zip(ms, (931, 924, 918, 910), (900, 910, 905, 900), strict=True):
        rows += [(A, "flow_m", m, a), (A, "base_m", m, 1000), (B, "flow_m", m, b), (B, "base_m", m, 1000)]
    # C declines but skipped May: the streak is not established
    rows += [(C, "flow_m", m, v) for m, v in zip(ms, (40, 30, 20, 10), strict=True) if m.month != 5]
    rows += [(C, "base_m", m, 100) for m in ms if m.month != 5]
    write(store, rows)
    lst = red_black_lists(eng, "2023-06", ["decline3", "off3"], book=scheme_book())
    dec = lst[lst.rule_code == "decline3"]
    assert dec[dec.subject == "k_ratio"]["region"].tolist() == [A]
    assert dec["reason_zh"].iloc[0] == "k_ratio连续3个月下降：93.1% → 92.4% → 91.8% → 91.0%"
    assert dec["reason_en"].iloc[0] == "k_ratio declined 3 months in a row: 93.1% → 92.4% → 91.8% → 91.0%"
    # k_bad (lower is better) over the same figures rose for nobody, and fell for A: not a decline
    assert dec[dec.subject == "k_bad"].empty
    clear(store)
    rows = []
    for m, a, b in zip(ms[1:], (400, 450, 300), (400, 500, 300), strict=True):
        rows += [(A, "flow_m", m, a), (A, "base_m", m, 1000), (B, "flow_m", m, b), (B, "base_m", m, 1000)]
    write(store, rows)
    off = red_black_lists(eng, "2023-06", ["off3"], book=scheme_book())
    assert off["region"].tolist() == [A]  # B met the 50% target in May (and in June its rate is 30%)
    assert off["reason_zh"].iloc[0] == "k_ratio连续3个月未达目标（50.0%）：40.0%、45.0%、30.0%"
    # a lower-is-better KPI that rises three months running is a decline in performance
    clear(store)
    write(store, [(A, "flow_m", m, v) for m, v in zip(ms, (10, 20, 30, 40), strict=True)]
          + [(A, "base_m", m, 1000) for m in ms])
    bad = red_black_lists(eng, "2023-06", ["decline3"], book=scheme_book())
    assert bad["subject"].tolist() == ["k_bad"]
    assert bad["reason_zh"].iloc[0] == "k_bad连续3个月上升（越低越好）：1.0% → 2.0% → 3.0% → 4.0%"


# -- county comparison ----------------------------------------------------------------------------
def test_comparison_trends_are_indexed_to_the_first_month_with_the_peer_median(store, eng):
    write(store, [(A, "flow_m", JAN, 50), (A, "flow_m", FEB, 75), (A, "flow_m", MAR, 100),
                  (B, "flow_m", JAN, 10), (B, "flow_m", FEB, 10), (B, "flow_m", MAR, 5),
                  (C, "flow_m", JAN, 20), (C, "flow_m", FEB, 40), (C, "flow_m", MAR, 30)])
    t = comparison_trends(eng, [A, B], ["k_flow"], "2023-03", months=3, peers=HZ)
    a = t[t.region == A]
    assert a["month"].tolist() == ["2023-01", "2023-02", "2023-03"]
    assert a["index_100"].tolist() == pytest.approx([100, 150, 200])
    assert t[t.region == B]["index_100"].tolist() == pytest.approx([100, 100, 50])
    # median over the 杭州 counties that reported: Jan (50, 10, 20) → 20; Feb → 40; Mar → 30
    assert a["peer_median"].tolist() == pytest.approx([20, 40, 30])


def test_peer_position_percentiles_and_z_scores(store, eng):
    write(store, [(A, "flow_m", JAN, 10), (B, "flow_m", JAN, 20), (C, "flow_m", JAN, 30), (D, "flow_m", JAN, 40)])
    pp = peer_position(eng, [A, D, "330109"], ["k_flow", "k_down"], "2023-01", peers=HZ)
    up, down = pp[pp.kpi == "k_flow"].set_index("region"), pp[pp.kpi == "k_down"].set_index("region")
    # peers: 10, 20, 30, 40 → mean 25, sd sqrt(125); non-reporters are not in the distribution
    assert up.loc[A, "peer_n"] == 4 and up.loc[A, "peer_median"] == 25
    assert up.loc[A, "z_score"] == pytest.approx(-15 / math.sqrt(125))
    assert up.loc[D, "z_score"] == pytest.approx(15 / math.sqrt(125))
    assert (up.loc[A, "percentile"], up.loc[D, "percentile"]) == (12.5, 87.5)
    assert down.loc[A, "z_better"] == pytest.approx(15 / math.sqrt(125))  # lower is better: A is best
    assert pd.isna(up.loc["330109", "z_score"]) and not up.loc["330109", "complete"]
    # a whole peer group expands to its members on the date
    grp = peer_position(eng, "SHANQU_HAIDAO25", ["k_flow"], "2025-01")
    assert len(grp) == 25 and "330305" in set(grp["region"])
