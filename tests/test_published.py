"""The figure as published: status, ranks, lists and system scores judged on what the screen shows;
序时进度 for counts with a year-end target; plan vs working targets on the headline tiles."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from metrics.catalogue import CatalogueError, Pacing, catalogue, parse_catalogue
from metrics.evaluate import (
    competition_rank,
    pace_fraction,
    paced_target,
    publish,
    published_attainment,
    rank_within,
    status,
)
from metrics.league import competition_rank as rankings_rank
from metrics.league import standings
from store import Batch
from tests.helpers import _kpi, _measure, clear, scratch_store
from ui import fmt
from ui.tiles import system_scores, target_text

CAT = catalogue()
GAP = "online_handling_rate"  # a gap rule with a 2-point amber band, target 95% (2024 on)


def rows(kpi: str, values: list[float], target: float, region_prefix: str = "r") -> pd.DataFrame:
    k = CAT.kpi(kpi)
    df = pd.DataFrame({"kpi": kpi, "region": [f"{region_prefix}{i}" for i in range(len(values))],
                       "value": values, "target": target, "direction": k.direction, "format": k.format,
                       "decimals": k.decimals})
    df["attainment"] = published_attainment(df)
    return df


# -- one rounding rule, the screen's own ---------------------------------------------------------
def test_publish_is_exactly_what_the_screen_prints():
    k = CAT.kpi(GAP)
    vals = [0.93004, 0.92996, 0.94951, 0.9495, 0.1 + 0.2, 0.93049999]
    pub = publish(vals, k.format, k.decimals)
    for v, p in zip(vals, pub, strict=True):
        assert fmt.value(v, k) == fmt.value(p, k)  # rounding the published figure again changes nothing
    assert pub[0] == pub[1]  # both print 93.0%


def test_equal_figures_on_screen_get_equal_status():
    # 武义 and 云和 both show 93.0%, −2.0 points against 95%: both 接近 (amber), never one of each
    df = rows(GAP, [0.930049, 0.929951], 0.95)
    assert fmt.value(df.value[0], CAT.kpi(GAP)) == fmt.value(df.value[1], CAT.kpi(GAP)) == "93.0%"
    st = status(df, CAT)
    assert st[0] == st[1] == "amber"


def test_a_figure_that_shows_its_target_has_met_it():
    # 青田 shows 95.0% with target 95%: 达标, like the city at 95.0%
    df = rows(GAP, [0.94951, 0.95, 0.9549, 0.9494], 0.95)
    assert status(df, CAT).tolist() == ["green", "green", "green", "amber"]
    # attainment rule too: 2.4M daily actives shown as 2,400,000 against 2.4M is on target
    k = CAT.kpi("zlb_dau")
    d = rows("zlb_dau", [2_399_999.6, 2_399_999.4], 2_400_000)
    assert k.status is None and status(d, CAT).tolist() == ["green", "amber"]


def test_one_rank_rule_on_the_published_figure():
    # the engine's ranks (rank_within) and the rankings module's give the same answer
    assert competition_rank(pd.Series([0.1 + 0.2, 0.3, 0.2])).tolist() == [1, 1, 3]
    assert rankings_rank is competition_rank
    df = rows(GAP, [0.1 + 0.2, 0.3, 0.2], np.nan)
    df["rankable"] = True
    r, n = rank_within(df, pd.Series(True, index=df.index))
    assert r.tolist() == [1, 1, 3] and n.tolist() == [3, 3, 3]
    # two regions showing 93.0% share a rank in both places
    df = rows(GAP, [0.93004, 0.92996, 0.95], np.nan).assign(rankable=True)
    assert rank_within(df, pd.Series(True, index=df.index))[0].tolist() == [2, 2, 1]
    st = standings(df.assign(complete=True, small_sample=False, level="county"), up=True)
    assert st["rank"].tolist() == [2, 2, 1]


# -- system scores and their colour agree --------------------------------------------------------
def _bulk(statuses: list[tuple[str, float | None, float | None, str]], system_kpis: list[str]) -> pd.DataFrame:
    out = []
    for code, value, target, st in statuses:
        k = CAT.kpi(code)
        out.append({"kpi": code, "region": "330000", "value": value, "target": target, "status": st,
                    "attainment": None if value is None or target is None else value / target,
                    "format": k.format, "decimals": k.decimals, "direction": k.direction})
    return pd.DataFrame(out).astype({"value": float, "target": float, "attainment": float})


def test_system_score_reads_100_only_when_every_kpi_is_on_target():
    gov = [k.code for k in CAT.kpis_of("government")]
    # three on target, one a hair short: the old rule printed 100.0 in amber
    b = _bulk([(gov[0], 0.95, 0.95, "green"), (gov[1], 1.0, 1.0, "green"), (gov[2], 0.82, 0.82, "green"),
               (gov[3], 0.9499, 0.95, "amber")], gov)
    s = next(x for x in system_scores(b, CAT, "330000", "zh") if x.code == "government")
    assert f"{s.score * 100:.1f}" == "99.9" and s.status == "amber" and (s.n_green, s.n_target) == (3, 4)
    assert s.share == "达标 3/4"
    b = _bulk([(gov[0], 0.95, 0.95, "green"), (gov[1], 1.0, 1.0, "green")], gov)
    s = next(x for x in system_scores(b, CAT, "330000", "zh") if x.code == "government")
    assert f"{s.score * 100:.1f}" == "100.0" and s.status == "green"


def test_a_system_without_targeted_kpis_says_so():
    soc = [k.code for k in CAT.kpis_of("culture")]
    b = _bulk([(soc[0], 0.5, None, "none")], soc)
    s = next(x for x in system_scores(b, CAT, "330000", "zh") if x.code == "culture")
    assert s.score is None and s.status == "none" and "0/0" not in s.share and "无" in s.share


# -- 序时进度 ---------------------------------------------------------------------------------------
def test_pace_fraction_linear_and_profile():
    k = CAT.kpi("future_factories")
    assert k.pacing_rule is not None and k.pacing_rule.method == "linear"
    assert pace_fraction(k, dt.date(2026, 10, 31)) == pytest.approx(10 / 12)
    assert pace_fraction(k, dt.date(2026, 12, 31)) == pytest.approx(1.0)
    assert CAT.kpi(GAP).pacing_rule is None  # rates keep their annual target
    prof = k.model_copy(update={"pacing": Pacing(method="profile", profile=[0] * 5 + [0.5] * 6 + [1])})
    assert pace_fraction(prof, dt.date(2026, 5, 31)) == 0 and pace_fraction(prof, dt.date(2026, 6, 30)) == 0.5
    assert pace_fraction(prof, dt.date(2026, 12, 31)) == 1.0
    with pytest.raises(ValueError):
        Pacing(method="profile", profile=[0.5] * 12)


def test_a_rate_cannot_be_paced():
    raw = CAT.model_dump()
    for k in raw["kpis"]:
        if k["code"] == GAP:
            k["pacing"] = {"method": "linear"}
    with pytest.raises(CatalogueError, match="annual target"):
        parse_catalogue(raw)


def test_paced_target_from_the_previous_year_end():
    annual, base = pd.Series([30.0, 30.0, 30.0, 30.0]), pd.Series([18.0, 33.0, np.nan, 18.0])
    t = paced_target(annual, base, pd.Series([10 / 12, 10 / 12, 10 / 12, 1.0]), pd.Series([True] * 4))
    assert t.tolist() == pytest.approx([28.0, 30.0, 30.0, 30.0])  # met already: holds; no base: annual


PROV = "330000"


def pace_catalogue():
    return parse_catalogue({
        "version": 1,
        "default_status": {"method": "attainment", "green": 1.0, "amber": 0.95},
        "systems": [{"code": "s", "order": 0, "name_zh": "测试", "name_en": "Test", "short_zh": "测", "short_en": "T"}],
        # reported by the province itself: a complete figure (a county's alone would be a partial sum)
        "measures": [_measure("stock_m", "month", "last", "province")],
        "kpis": [_kpi("k_stock", kind="simple", measure="stock_m", decimals=0,
                      targets=[{"year": 2025, "value": 120, "source": "seed"}])],
    })


@pytest.fixture(scope="module")
def pace_store(tmp_path_factory):
    return scratch_store(f"sqlite:///{tmp_path_factory.mktemp('pace') / 'pace.sqlite'}")


def test_engine_judges_a_count_against_its_pro_rata_target(pace_store):
    from metrics.engine import MetricsEngine

    clear(pace_store)
    rows_ = [(PROV, "stock_m", dt.date(2024, 12, 1), 60.0), (PROV, "stock_m", dt.date(2025, 10, 1), 105.0),
             (PROV, "stock_m", dt.date(2025, 12, 1), 118.0)]
    pace_store.write_batch(Batch(source="import"), pd.DataFrame(rows_, columns=["region_code", "measure_code",
                                                                                "obs_date", "value"]))
    eng = MetricsEngine(pace_store, catalogue=pace_catalogue(), today=dt.date(2026, 3, 1))
    oct_ = eng.bulk("2025-10").set_index(["kpi", "region"]).loc[("k_stock", PROV)]
    # 序时目标 at the end of October: 60 + (120 − 60) × 10/12 = 110; 105 is 5 behind: amber (95.5%)
    assert oct_["target"] == pytest.approx(110) and oct_["target_annual"] == 120 and bool(oct_["paced"])
    assert oct_["pace"] == pytest.approx(10 / 12) and oct_["pace_gap"] == pytest.approx(-5)
    assert oct_["status"] == "amber"
    dec = eng.bulk("2025-12").set_index(["kpi", "region"]).loc[("k_stock", PROV)]
    # December: the year-end target itself (118 of 120: 98.3%, amber)
    assert dec["target"] == 120 and not bool(dec["paced"]) and dec["status"] == "amber"
    # the tile says so: 序时目标, and how far behind
    k = pace_catalogue().kpi("k_stock")
    assert target_text(oct_, k, "zh", short=True) == "序时目标 110个 · 落后序时 5个"
    long = target_text(oct_, k, "zh")
    assert "年度目标 120个" in long and "规划目标" in long and "序时进度 83%" in long


# -- headline tiles from the plan ----------------------------------------------------------------
def _row(kpi: str, value: float, target: float, year: int = 2026) -> pd.Series:
    k = CAT.kpi(kpi)
    hit = k.target_for(year)
    return pd.Series({"kpi": kpi, "value": value, "target": target, "target_year": hit[1].year,
                      "target_source": hit[1].source, "target_carried": hit[2], "as_of": "2026-10-31",
                      "paced": False, "target_annual": target, "n_expected": 1, "n_reported": 1})


def test_tiles_and_definitions_say_plan_or_working_target():
    from ui.system_model import definition_rows

    plan = _row("mobile_enforcement_rate", 0.96, 0.95)
    assert target_text(plan, CAT.kpi("mobile_enforcement_rate"), "zh", short=True) == "规划目标 95.0%"
    long = target_text(plan, CAT.kpi("mobile_enforcement_rate"), "zh")
    assert "规划目标·《浙江省数字化改革总体方案》" in long and "不做序时分解" in long
    work = _row("share_satisfaction", 0.96, 0.97)
    assert target_text(work, CAT.kpi("share_satisfaction"), "zh", short=True) == "工作目标 97.0%"
    assert "工作目标（假设）" in target_text(work, CAT.kpi("share_satisfaction"), "zh")
    panel = dict(definition_rows(CAT.kpi("share_satisfaction"), CAT, work, "zh"))
    assert "工作目标（假设）" in panel["目标值"] and "不做序时分解" in panel["考核方式"]
    panel = dict(definition_rows(CAT.kpi("future_factories"), CAT, None, "zh"))
    assert "规划目标" in panel["目标值"] and "序时考核" in panel["考核方式"]


# -- lists judged on the published figure ---------------------------------------------------------
def test_black_list_never_lists_a_month_that_shows_its_target(tmp_path):
    from metrics.redblack import red_black_lists
    from tests.helpers import engine_for, rank_catalogue, scheme_book

    store = scratch_store(f"sqlite:///{tmp_path / 'bl.sqlite'}")
    a, b = "330102", "330105"
    ms = [dt.date(2023, 4, 1), dt.date(2023, 5, 1), dt.date(2023, 6, 1)]
    rows_ = []
    # k_ratio's target is 50%: A shows 49.0%, 49.4%, 50.0% (49.96): the last month is on target
    for m, x, y in zip(ms, (4900, 4940, 4996), (4900, 4940, 4994), strict=True):
        rows_ += [(a, "flow_m", m, x), (a, "base_m", m, 10000), (b, "flow_m", m, y), (b, "base_m", m, 10000)]
    store.write_batch(Batch(source="import"), pd.DataFrame(rows_, columns=["region_code", "measure_code",
                                                                           "obs_date", "value"]))
    off = red_black_lists(engine_for(store, rank_catalogue()), "2023-06", ["off3"], book=scheme_book())
    assert off["region"].tolist() == [b]  # B shows 49.9% in June: still short
    assert off["reason_zh"].iloc[0] == "k_ratio连续3个月未达目标（50.0%）：49.0%、49.4%、49.9%"
    assert "50.0%、" not in "".join(off["reason_zh"]) and not off["reason_zh"].str.endswith("50.0%").any()


# -- alerts that matter first ---------------------------------------------------------------------
def test_small_sample_swings_are_grouped_last_and_the_panel_holds_a_screenful():
    from metrics.geography import geography
    from metrics.periods import Period
    from ui.alerts import SCREENFUL, build_alerts, screenful

    geo = geography()
    base = {"value": 0.9, "target": 0.9, "status": "green", "change_prev": 0.0, "direction": "up",
            "format": "percent", "complete": True, "missing": [], "as_of": "2024-06-30", "level": "county",
            "small_sample": False}
    rows = [{"kpi": "online_handling_rate", "region": "330000", "level": "province", "status": "red"}]
    small = geo.counties[:15]
    rows += [{"kpi": "mobile_handling_rate", "region": c, "change_prev": -0.5, "small_sample": True} for c in small]
    rows += [{"kpi": "mobile_handling_rate", "region": geo.counties[20], "change_prev": -0.08}]
    alerts = build_alerts(pd.DataFrame([base | r for r in rows]), CAT, geo, "330000", Period.parse("2024-06"),
                          geo.counties, "zh")
    assert alerts[0].kind == "off_target"  # the province-level warning leads
    assert [a.kind for a in alerts] == ["off_target", "drop", "small"]  # 15 small swings: one alert, last
    assert "15个小样本县" in alerts[-1].text and alerts[1].target == ("county", geo.counties[20])
    shown, more = screenful(alerts * 5)
    assert len(shown) == SCREENFUL and more == 15 - SCREENFUL


def test_many_headlines_off_target_take_four_lines_not_ten():
    from metrics.geography import geography
    from metrics.periods import Period
    from ui.alerts import OFF_SHOWN, build_alerts

    geo = geography()
    rows = [{"kpi": k.code, "region": "330000", "level": "province", "status": "red", "value": 0.5, "target": 1.0,
             "attainment": 0.5 + i / 100, "change_prev": 0.0, "direction": "up", "format": "percent",
             "complete": True, "missing": [], "as_of": "2024-06-30"} for i, k in enumerate(CAT.headline_kpis())]
    rows.append(rows[0] | {"kpi": "online_handling_rate", "region": "330000", "complete": False,
                           "missing": ["330102"], "status": "green"})
    alerts = build_alerts(pd.DataFrame(rows[1:]), CAT, geo, "330000", Period.parse("2024-06"), geo.counties, "zh")
    off = [a for a in alerts if a.kind == "off_target"]
    assert len(off) == OFF_SHOWN + 1 and off[-1].text.startswith("另有")
    assert alerts[len(off)].kind == "overdue"  # the county that did not report is still on the first screen


def test_meeting_pack_card_shows_pace_for_a_count():
    from pack.build import _cards

    rows = []
    for k in CAT.headline_kpis():
        r = {"kpi": k.code, "region": "330000", "value": 0.9, "target": 0.95, "attainment": 0.9 / 0.95,
             "status": "amber", "change_prev": 0.0, "complete": True, "n_reported": 1, "n_expected": 1,
             "paced": False, "pace_gap": np.nan, "target_annual": 0.95}
        if k.code == "future_factories":
            r |= {"value": 21.0, "target": 23.0, "target_annual": 30.0, "paced": True, "pace_gap": -2.0,
                  "attainment": 21 / 23}
        rows.append(r)
    cards = {c.label: c for c in _cards(pd.DataFrame(rows), CAT, "zh")}
    card = cards[CAT.kpi("future_factories").name_zh]
    assert "序时目标 23家（年度 30家）" in card.sub and "落后序时 2家" in card.sub


def test_a_target_met_last_year_end_is_not_a_pro_rata_target():
    from metrics.evaluate import attach_targets

    df = pd.DataFrame({"kpi": ["future_factories"] * 2, "region": ["330000", "330100"], "direction": "up",
                       "pace_base": [140.0, 18.0]})
    out = attach_targets(df, CAT, dt.date(2026, 10, 31)).set_index("region")
    assert not out.loc["330000", "paced"] and out.loc["330000", "target"] == 30  # 140 already beyond 30
    assert out.loc["330100", "paced"] and out.loc["330100", "target"] == pytest.approx(18 + 12 * 10 / 12)


def test_forecasts_call_met_what_will_show_as_met():
    from metrics.evaluate import met_threshold

    assert met_threshold(0.95, "percent", 1, True) == pytest.approx(0.9495)
    assert met_threshold(0.003, "percent", 2, False) == pytest.approx(0.00305)
    assert met_threshold(3_000_000, "integer", 0, True) == pytest.approx(2_999_999.5)


def test_averages_keep_their_annual_target_counts_are_paced():
    for k in CAT.kpis:
        if not k.targets:
            continue
        if k.format == "percent" or (k.kind == "ratio" and k.pacing is None):
            assert k.pacing_rule is None, k.code  # rates and averages (days per approval) are not pro rata
        elif k.kind == "simple":
            assert k.pacing_rule is not None, k.code  # counts and stocks with a year-end target are
