"""AppTest tests of the 赛马晾晒 pages (league tables, composite evaluation, red/black lists, county
comparison) on the shared short-history demo database, plus the page-shaping helpers of ui (rank_widgets,
rank_frames, compare_charts).

The ranking semantics themselves are tested in test_rankings.py; here: every view renders, in both
languages and for each kind of population, non-reporters are listed and never ranked, the links
open the county profile, and the URL reproduces a comparison.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import numpy as np
import pandas as pd

from metrics.access import apply_overrides, population_options
from metrics.geography import geography
from metrics.schemes import schemes
from tests.app_helpers import OVERDUE, run
from ui import compare_charts as cmp
from ui import fmt
from ui import rank_frames as rf
from ui import rank_widgets as rw

RANKINGS, COMPARE = "pages/rankings.py", "pages/compare.py"
GEO = geography()
CJK = re.compile(r"[\u4e00-\u9fff]")


def frames(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def link_codes(df: pd.DataFrame, col: str) -> list[str]:
    return [re.search(r"(?:county|scope)=(\d+)", u).group(1) for u in df[col]]


def charts(at) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def numbers(v) -> list[float]:
    """A plotly array from the spec: a list, or a typed array written as base64 ({dtype, bdata})."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


# -- KPI league table ---------------------------------------------------------------------------
def test_league_table_default(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS)
    assert at.selectbox(key="rkpi").value == "online_handling_items_rate"  # the first headline rate
    assert at.selectbox(key="pop").value == "counties"
    ranked, others = frames(at)
    assert len(ranked) == 88 and len(others) == 2
    assert ranked["排名"].tolist() == sorted(ranked["排名"].tolist()) and ranked["排名"].iloc[0] == 1
    values = [float(f"{v:.1f}") for v in ranked["数值"]]  # ranked on the figure as shown
    assert values == sorted(values, reverse=True)  # higher is better: best first
    # the two counties that did not report are listed as 逾期未报, never ranked
    assert set(link_codes(others, "地区")) == set(OVERDUE) and set(others["情况"]) == {"逾期未报"}
    assert not set(OVERDUE) & set(link_codes(ranked, "地区"))
    # each row links to the county profile for the same period; the name shows through the fragment
    first = ranked["地区"].iloc[0]
    assert first.startswith("county?") and "period=2022-03" in first and re.search(rf.LINK_TEXT, first)
    assert {c[0] for c in ranked["名次变化"] if c} <= {"▲", "▼", "—", "新"}
    assert all(len(x) >= 10 for x in ranked["近12月"])  # sparkline data (12 months, gaps dropped)
    assert "参与排名 88/90" in " ".join(c.value for c in at.caption)
    assert len(at.get("download_button")) == 2


def test_league_small_samples_separate_then_flagged(app_db, use_db):  # noqa: F811
    use_db(app_db)
    # data-sharing satisfaction: ratings are few in small counties, many in large ones
    at = run(RANKINGS, rkpi="share_satisfaction")
    ranked, small, others = frames(at)
    assert len(small) > 0 and len(ranked) + len(small) + len(others) == 90
    assert small["排名"].min() == 1  # ranked within the small-sample group only
    assert any("样本偏小，单列" in m.value for m in at.markdown)
    n_small = len(small)

    at = run(RANKINGS, rkpi="share_satisfaction", small="flag", lang="en")
    ranked, others = frames(at)
    assert len(ranked) + len(others) == 90 and len(others) >= 2  # the overdue, and any with no ratings
    flagged = ranked[ranked["95% interval"].str.contains("small sample")]
    assert len(flagged) == n_small
    # a small sample's interval is wide and its rank range says so: wider than the others' ranges
    def widths(frame):
        lo_hi = frame["Rank range"].astype(str).str.extract(r"(\d+)\D+(\d+)").dropna().astype(int)
        return lo_hi[1] - lo_hi[0]

    rest = ranked[~ranked.index.isin(flagged.index)]
    assert widths(flagged).median() > max(widths(rest).median(), 5)


def test_league_min_denominator_override(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, rkpi="online_handling_rate", mind="10000000")
    assert at.number_input(key="mind").value == 10000000
    assert at.info  # nobody left to rank against the others
    small, others = frames(at)
    assert len(small) == 88 and len(others) == 2
    assert str(at.query_params["mind"]) in ("10000000", "['10000000']")


def test_league_english_city_population(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, lang="en", pop="city:330100", rkpi="mobile_handling_rate")
    assert at.selectbox(key="pop").value == "city:330100"
    (ranked,) = frames(at)
    assert len(ranked) == len(GEO.counties_of("330100")) == 13
    assert set(link_codes(ranked, "Region")) == set(GEO.counties_of("330100"))
    assert all("lang=en" in u for u in ranked["Region"])
    assert not any(CJK.search(str(c)) for c in ranked.columns)
    assert not any(CJK.search(str(v)) for v in ranked["Status"].tolist() + ranked["City"].tolist())
    assert any("13 counties of Hangzhou" in m.value for m in at.markdown)


def test_league_peer_group_and_cities(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, pop="group:SHANQU26")
    ranked, others = frames(at)
    members = GEO.members("SHANQU26", dt.date(2022, 3, 31))
    assert len(ranked) + len(others) == len(members) == 26
    assert set(link_codes(others, "地区")) == set(members) & set(OVERDUE)
    assert ranked["排名"].max() <= len(ranked)  # ranked within the group, not provincially

    at = run(RANKINGS, pop="cities", rkpi="zzd_active_rate")
    df = frames(at)[0]
    assert all(u.startswith("overview?") and "scope=" in u for u in df["地区"])  # a city opens its cockpit view
    # a city with a non-reporting county is incomplete, so not ranked
    assert {"330200", "330800"} <= set(link_codes(frames(at)[-1], "地区"))


def test_peer_group_not_valid_for_the_period_falls_back(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, pop="group:SHANQU_HAIDAO25")  # defined only from 2024-08
    assert at.selectbox(key="pop").value == "counties"
    assert "group:SHANQU_HAIDAO25" not in at.selectbox(key="pop").options


def test_league_count_kpi_has_no_empty_target_columns(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, rkpi="zlb_dau", pop="city:330300")
    df = frames(at)[0]
    assert "目标" not in df.columns and "完成率" not in df.columns
    assert not at.get("number_input")  # a count has no denominator to set a minimum on


# -- composite evaluation -----------------------------------------------------------------------
def test_composite_scores_and_breakdown(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, rview="scheme", focus="330127")
    assert at.selectbox(key="scheme").value == "bimonthly_overall"
    assert at.selectbox(key="focus").value == "330127"
    weights, scores, unscored = frames(at)
    assert len(weights) == len(schemes().scheme("bimonthly_overall").kpis)
    assert len(scores) == 88 and set(link_codes(unscored, "地区")) == set(OVERDUE)
    shown = [float(f"{v:.1f}") for v in scores["得分"]]  # ranked on the score as published
    assert shown == sorted(shown, reverse=True)
    assert any("演示口径" in c.value for c in at.caption)  # our recipe says so, with the tier rule
    assert "误差" in scores.columns
    assert set(scores["梯队"]) == {"第一梯队", "第二梯队", "第三梯队"}
    (fig,) = charts(at)
    bars = fig["data"][0]
    # one bar per KPI counted this period; one left out (small samples in most counties) is named
    assert bars["type"] == "bar" and 1 <= len(bars["y"]) <= 9
    if len(bars["y"]) < 9:
        assert any("本期未计入" in c.value for c in at.caption)
    # green pulls up, red pulls down
    for x, colour in zip(numbers(bars["x"]), bars["marker"]["color"], strict=True):
        assert colour == ("#22c55e" if x > 0 else "#ef4444" if x < 0 else "#94a3b8")
    assert any("淳安县：得分" in m.value for m in at.markdown)
    assert any("county=330127" in str(e.proto) for e in at.get("page_link"))
    assert len(at.get("download_button")) == 4


def test_composite_english_city_population(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, rview="scheme", scheme="grassroots_governance", pop="city:330600", lang="en")
    scores = frames(at)[1]
    assert len(scores) == len(GEO.counties_of("330600"))
    assert set(scores["Tier"]) <= {"First tier", "Second tier", "Third tier"}
    assert "Grassroots governance evaluation" in " ".join(m.value for m in at.markdown)


# -- red and black lists ------------------------------------------------------------------------
def test_red_black_lists_with_reasons(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, rview="lists")
    dfs = frames(at)
    assert len(dfs) >= 4
    for df in dfs:
        assert df["上榜原因"].str.len().min() > 8  # every entry says why it is there
    html = " ".join(str(e.value) for e in at.get("html"))
    assert "红榜" in html and "黑榜" in html
    top = dfs[0]
    assert len(top) == 5 and top["上榜原因"].str.contains("第一梯队").all()
    overdue = next(df for df in dfs if df["上榜原因"].str.contains("逾期未报").any())
    assert set(link_codes(overdue, "地区")) == set(OVERDUE)


def test_lists_overrides_and_city_scope(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(RANKINGS, rview="lists", n="2", lang="en")
    top = frames(at)[0]
    assert len(top) == 2 and "Top 2: Bimonthly overall evaluation" in " ".join(m.value for m in at.markdown)
    at = run(RANKINGS, rview="lists", scope="331000")
    for df in frames(at):
        assert set(link_codes(df, "地区")) <= set(GEO.counties_of("331000")) | {"331000"}
    assert any("台州市" in c.value for c in at.caption)


# -- county comparison --------------------------------------------------------------------------
def test_compare_default_view(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(COMPARE)
    counties = at.multiselect(key="counties").value
    kpis = at.multiselect(key="kpis").value
    assert counties == GEO.counties_of("330100")[:3] and len(kpis) == 4
    trend, profile, dist = charts(at)
    assert {t["type"] for t in profile["data"]} == {"scatterpolar"}  # radar for 3+ KPIs
    assert any("中位数" in t.get("name", "") and t["line"]["width"] == cmp.MEDIAN_WIDTH
               for t in trend["data"])  # the peer median, thick
    (z,) = frames(at)
    assert z.shape == (3, 1 + 4 + 1)
    assert len(at.get("download_button")) == 8
    assert not {"counties", "kpis", "peers", "mode"} & set(at.query_params)  # defaults left out of the link


def test_compare_url_reproduces_the_selection(app_db, use_db):  # noqa: F811
    use_db(app_db)
    params = {"counties": "330127,331121", "kpis": "hotline_satisfaction,online_handling_rate",
              "peers": "group:SHANQU26", "mode": "value", "lang": "en"}
    at = run(COMPARE, **params)
    assert at.multiselect(key="counties").value == ["330127", "331121"]
    assert at.multiselect(key="kpis").value == ["hotline_satisfaction", "online_handling_rate"]
    assert at.selectbox(key="peers").value == "group:SHANQU26"
    for k in ("counties", "kpis", "peers", "mode"):
        assert str(at.query_params[k]).strip("[]'") == params[k]
    trend, profile, dist = charts(at)
    assert "yaxis2" in trend["layout"]  # absolute: one panel per KPI
    assert {t["type"] for t in profile["data"]} == {"scatter"}  # two KPIs: dot rows, not a radar
    z = frames(at)[0]
    assert z["Region"].tolist() == ["Chun'an County", "Qingtian County"]
    assert list(z.columns[1:3]) == ["12345 satisfaction rate", "Online handling rate (cases)"]
    # z-scores against the 26 peers are finite and direction-aware
    assert np.isfinite(z.iloc[:, 1:].to_numpy(dtype=float)).all()


def test_compare_whole_group_from_link_and_button(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(COMPARE, counties="SHANQU26", kpis="online_handling_rate")
    members = GEO.members("SHANQU26", dt.date(2022, 3, 31))
    assert at.multiselect(key="counties").value == members
    assert "330127" in str(at.query_params["counties"])  # the link now names the counties
    profile = charts(at)[1]
    assert {t["type"] for t in profile["data"]} == {"scatter"}  # many counties: dot rows
    z = frames(at)[0]
    overdue = z[z["地区"] == "柯城区"]
    assert overdue.iloc[:, 1:].isna().all(axis=None)  # not reported: no z-score imputed

    at = run(COMPARE)
    at.selectbox(key="cmp_add").set_value("city:330300")
    at.button(key="cmp_add_btn").click()
    at.run()
    assert not at.exception
    chosen = at.multiselect(key="counties").value
    assert chosen[:3] == GEO.counties_of("330100")[:3] and set(GEO.counties_of("330300")) <= set(chosen)


def test_compare_needs_a_selection(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run(COMPARE, counties="")
    assert at.info and not at.get("plotly_chart")


def test_pages_on_an_empty_database(empty_db, use_db):  # noqa: F811
    use_db(empty_db)
    for page in (RANKINGS, COMPARE):
        at = run(page)
        assert at.info and not at.dataframe


# -- the pages' ui helpers --------------------------------------------------------------------------
def test_population_options_follow_the_period():
    early = population_options(GEO, dt.date(2022, 3, 31))
    late = population_options(GEO, dt.date(2025, 1, 31), cities=False)
    assert "group:SHANQU26" in early and "group:SHANQU_HAIDAO25" not in early
    assert "group:SHANQU_HAIDAO25" in late and "group:SHANQU26" not in late and "cities" not in late
    assert rw.population_label("group:SHANQU26", GEO, "zh", dt.date(2022, 3, 31)) == "同类组：山区26县（26个）"
    assert rw.population_counties("city:330100", GEO, dt.date(2022, 3, 31)) == GEO.counties_of("330100")


def test_parse_codes_and_links():
    opts = GEO.counties
    assert rw.parse_codes("330102, 999999,330102,330106", opts) == ["330102", "330106"]
    assert rw.parse_codes("", opts) == []
    assert rw.parse_codes("330100", opts, expand=GEO.counties_of) == GEO.counties_of("330100")
    url = rf.region_link("330102", "county", "上城区", {"lang": "en", "period": "2022-03", "scope": "330100"})
    assert url.startswith("county?") and "county=330102" in url and "scope" not in url
    assert re.search(rf.LINK_TEXT, url).group(1) != "上城区"  # percent-encoded; the browser decodes it
    assert rf.region_link("330100", "city", "Hangzhou", {"period": "2022-03"}).startswith("overview?period=2022-03&scope=330100")


def test_rule_overrides_keep_the_file_rules():
    rules = schemes().lists
    out = apply_overrides(rules, 2, None, 6)
    for r, o in zip(rules, out, strict=True):
        assert o.code == r.code
        assert o.n == (2 if r.rule in ("top_n", "bottom_n") else r.n)
        assert o.m == (6 if r.rule == "off_target" else r.m) and o.k == r.k
    assert apply_overrides(rules, None, None, None) == list(rules)


def test_change_colours_and_z_table_sign():
    assert rf.change_colour("▲3") == fmt.GOOD and rf.change_colour("▼1") == fmt.BAD
    assert rf.change_colour("新") == rf.NEW and rf.change_colour("—") == fmt.FLAT
    from metrics.catalogue import catalogue

    pos = pd.DataFrame({"kpi": ["bad_rating_rate", "online_handling_rate"], "region": ["330102", "330102"],
                        "z_better": [0.7, -0.004], "percentile": [20.0, 60.0], "direction": ["down", "up"]})
    z = cmp.z_table(pos, ["330102"], ["bad_rating_rate", "online_handling_rate"], catalogue(), GEO, "zh")
    row = z.df.iloc[0]
    assert row.iloc[1] == 0.7 and str(row.iloc[2]) == "0.0"  # rounded, no negative zero
    assert z.colours[z.df.columns[1]] == [fmt.GOOD]
    assert cmp.better_percentile(pos).tolist() == [80.0, 60.0]  # lower-is-better flipped


def _many_lines(n: int, kpis: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """A comparison trend frame of n counties over 12 months (the shape metrics.comparison returns)."""
    counties = GEO.counties[:n]
    months = pd.date_range("2021-04-01", periods=12, freq="MS")
    rows = [dict(kpi=k, region=c, month=m, value=0.5 + 0.01 * i + 0.002 * j, index_100=100 + i + j,
                 base_month=months[0], peer_median=0.6 + 0.001 * j)
            for k in kpis for i, c in enumerate(counties) for j, m in enumerate(months)]
    return pd.DataFrame(rows), counties


def test_many_line_comparison_highlights_the_focus_and_the_median():
    from metrics.catalogue import catalogue

    for kpis, indexed in ((["online_handling_rate"], True), (["online_handling_rate", "hotline_satisfaction"], False)):
        tr, counties = _many_lines(25, kpis)
        focus = [counties[3], counties[10]]
        fig = cmp.trend_figure(tr, counties, kpis, catalogue(), GEO, "zh", indexed, "山区26县", focus)
        lines = [d for d in fig.data if d.x is not None and len(d.x) and d.x[0] is not None]
        median = [d for d in lines if d.name.startswith("山区26县中位数")]
        coloured = [d for d in lines if d not in median and d.line.color != cmp.OTHER_LINE]
        grey = [d for d in lines if d.line.color == cmp.OTHER_LINE]
        assert {d.name for d in coloured} == {GEO.get(c).name_zh for c in focus}
        assert len(coloured) == len(focus) * len(kpis)
        assert len(grey) == len(kpis) and all(d.line.width == cmp.OTHER_WIDTH for d in grey)  # one trace each
        assert {n for d in grey for n in d.text if n} == {GEO.get(c).name_zh for c in counties if c not in focus}
        assert all(d.line.width == cmp.FOCUS_WIDTH for d in coloured)
        assert len(median) == len(kpis) and all(d.line.width == cmp.MEDIAN_WIDTH > cmp.FOCUS_WIDTH for d in median)
        assert len({d.line.color for d in coloured}) == len(focus)  # one colour per county in focus
        assert fig.data.index(median[-1]) > max(fig.data.index(d) for d in grey)  # the median on top
        # the legend: the focus, one entry for the other 23, the median; pinned under the month labels
        shown = [d.name for d in fig.data if d.showlegend is not False]
        assert "其他23个区县" in shown and not any(GEO.get(c).name_zh in shown for c in counties if c not in focus)
        leg = fig.layout.legend
        assert leg.orientation == "h" and leg.yref == "container" and leg.y == 0 and leg.yanchor == "bottom"
        assert fig.layout.margin.b >= cmp.AXIS_PX + cmp.LEGEND_ROW_PX
        assert any(a.text.startswith("山区26县中位数") for a in fig.layout.annotations)  # named at its end
    few, counties = _many_lines(3, ["online_handling_rate"])
    fig = cmp.trend_figure(few, counties, ["online_handling_rate"], catalogue(), GEO, "zh", True, "全省")
    assert not [d for d in fig.data if d.line.color == cmp.OTHER_LINE]  # a few counties: all in colour
