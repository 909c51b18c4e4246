"""Township scale: the synthetic township register, the township demo data, the
engine's township level on SQLite and PostgreSQL, township league tables, scopes and the county
page's township section.

The demo database here is short (2021-01..2021-04) so the module stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from auth import policy
from auth.accounts import User
from ingest.demo import generate
from ingest.demo_townships import add_townships, has_townships, split_counties
from metrics.catalogue import catalogue
from metrics.engine import EngineError, MetricsEngine
from metrics.geography import PROVINCE, geography
from metrics.league import league_table
from metrics.periods import Period
from metrics.rankings import Population, RankingError
from metrics.townships import N_TOWNSHIPS, township_kpis, township_measures, visible_townships
from store import Store
from store.schema import observation, region
from tests.app_helpers import run
from tests.conftest import PG_ADMIN, _scratch_server_db

TODAY = dt.date(2021, 5, 20)  # history 2021-01..2021-04; 2021-04 is due
PERIOD = Period.month(2021, 4)
SHANGCHENG, XIHU, LISHUI = "330102", "330106", "331100"


def _build(url: str, townships: bool = True) -> Store:
    """A short demo database (figures only: no accounts or registers) with the township breakdown."""
    cat, geo = catalogue(), geography()
    store = Store(url)
    store.migrate()
    store.sync_reference(geo)
    data = generate(cat, geo, seed=2021, today=TODAY)
    store.replace_all(data.batches, data.observations, {"is_demo": "1", "demo_seed": "2021"})
    if townships:
        add_townships(store, seed=2021)
    return store


@pytest.fixture(scope="module")
def town_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('town') / 'town.sqlite'}"
    _build(url)
    return url


@pytest.fixture(scope="module")
def town_pg() -> Iterator[str]:
    for url in _scratch_server_db(PG_ADMIN, "postgresql"):
        _build(url)
        yield url


def _engine(url: str) -> MetricsEngine:
    return MetricsEngine(Store(url), today=TODAY)


# -- the register ---------------------------------------------------------------------------------
def test_register_has_about_1360_townships_under_real_counties():
    geo = geography()
    towns = geo.townships
    assert len(towns) == N_TOWNSHIPS == 1360
    assert not set(towns) & set(geo.regions)  # kept apart from the county-level regions
    for code, r in towns.items():
        assert r.level == "township" and r.parent_code in geo.counties
        assert len(code) == 9 and code.startswith(r.parent_code) and code.isdigit()
        # GB/T 10114-style numbering: 街道 0xx, 镇 1xx, 乡 2xx
        assert int(code[6]) == {"街道": 0, "镇": 1, "乡": 2}[r.type_zh]
        assert r.name_zh.endswith(r.type_zh) and r.population_source == "demo" and r.population > 0
    for county in geo.counties:
        mine = geo.townships_of(county)
        assert 5 <= len(mine) <= 40
        assert sum(towns[t].population for t in mine) == geo.get(county).population
        assert len({towns[t].name_zh for t in mine}) == len(mine)  # names unique within a county
    assert geography() is geo and geo.get("330102001").parent_code == SHANGCHENG


def test_township_kpis_are_the_grassroots_ratios():
    cat = catalogue()
    kpis = township_kpis(cat)
    assert set(kpis) == {"four_platform_ontime_rate", "event_disposal_rate", "hotline_connect_rate",
                         "hotline_ontime_rate", "hotline_satisfaction", "local_resolution_rate"}
    assert len(township_measures(cat)) == 12


def test_split_keeps_county_sums_and_subsets():
    """Unit check of the split on hand-made county rows: exact sums, numerator <= base per township."""
    cat, geo = catalogue(), geography()
    rows = pd.DataFrame({
        "batch_id": [1, 1, 2, 2], "region_code": [SHANGCHENG] * 2 + [XIHU] * 2,
        "measure_code": ["grass_events", "grass_events_disposed"] * 2,
        "obs_date": [dt.date(2021, 3, 1)] * 4, "value": [5000.0, 4700.0, 37.0, 37.0], "is_current": True,
    })
    out = split_counties(rows, cat, geo, seed=7)
    sums = out.assign(county=out["region_code"].str[:6]).groupby(["county", "measure_code"])["value"].sum()
    assert sums[(SHANGCHENG, "grass_events")] == 5000 and sums[(SHANGCHENG, "grass_events_disposed")] == 4700
    assert sums[(XIHU, "grass_events")] == 37 and sums[(XIHU, "grass_events_disposed")] == 37
    w = out.pivot_table(index="region_code", columns="measure_code", values="value")
    assert (w["grass_events_disposed"] <= w["grass_events"]).all()
    assert set(w.index) == set(geo.townships_of(SHANGCHENG)) | set(geo.townships_of(XIHU))
    again = split_counties(rows, cat, geo, seed=7)
    pd.testing.assert_frame_equal(out, again)  # deterministic


# -- the demo data ----------------------------------------------------------------------------------
def test_demo_townships_sum_to_their_county_in_every_batch(town_url):
    store = Store(town_url)
    assert has_townships(store)
    ms = township_measures(catalogue())
    with store.engine.connect() as c:
        df = pd.DataFrame(c.execute(sa.select(observation.c.batch_id, observation.c.region_code,
                                              observation.c.measure_code, observation.c.obs_date,
                                              observation.c.value).where(observation.c.measure_code.in_(ms))).all(),
                          columns=["batch_id", "region", "measure", "date", "value"])
        n_regions = c.execute(sa.select(sa.func.count()).select_from(region).where(region.c.level == "township")).scalar()
    assert n_regions == 1360
    town = df[df["region"].str.len() == 9]
    county = df[df["region"].str.len() == 6].set_index(["batch_id", "region", "measure", "date"])["value"]
    sums = town.assign(region=town["region"].str[:6]).groupby(["batch_id", "region", "measure", "date"])["value"].sum()
    assert len(sums) == len(county) > 0
    assert (sums.reindex(county.index) == county).all()
    assert town["region"].nunique() == 1360
    assert (town["value"] >= 0).all() and np.allclose(town["value"], town["value"].round())


def test_county_value_is_the_aggregation_of_its_townships(town_url):
    """Ratio: county Σnum/Σden == Σ over townships; count (the denominator's events) == Σ townships."""
    eng = _engine(town_url)
    for p in (PERIOD, Period.parse("2021-Q1")):
        b, tb = eng.bulk(p), eng.township_bulk(p)
        for kpi in eng.township_kpis():
            cty = b[(b["kpi"] == kpi) & (b["level"] == "county")].set_index("region")
            s = tb[tb["kpi"] == kpi].groupby("county")[["numerator", "denominator"]].sum()
            s = s.reindex(cty.index)
            reported = cty["value"].notna()
            assert reported.sum() >= 85
            assert np.allclose(cty.loc[reported, "denominator"], s.loc[reported, "denominator"])  # a count
            assert np.allclose(cty.loc[reported, "numerator"], s.loc[reported, "numerator"])
            assert np.allclose(cty.loc[reported, "value"], s.loc[reported, "numerator"] / s.loc[reported, "denominator"])
    # and the province equals the sum of all townships
    pr = b[(b["kpi"] == "event_disposal_rate") & (b["region"] == PROVINCE)].iloc[0]
    t = tb[tb["kpi"] == "event_disposal_rate"]
    assert pr["denominator"] == pytest.approx(t["denominator"].sum())
    assert pr["value"] == pytest.approx(t["numerator"].sum() / t["denominator"].sum())


def test_township_bulk_columns_ranks_and_coverage(town_url):
    eng = _engine(town_url)
    tb = eng.township_bulk(PERIOD)
    assert set(eng.bulk(PERIOD).columns) <= set(tb.columns)
    assert {"county", "city", "rank_county", "rank_county_of"} <= set(tb.columns)
    assert len(tb) == 1360 * len(eng.township_kpis()) and (tb["level"] == "township").all()
    one = eng.township_bulk(PERIOD, county=SHANGCHENG)
    assert set(one["region"]) == set(eng.geo.townships_of(SHANGCHENG))
    k = one[one["kpi"] == "event_disposal_rate"]
    ranked = k[k["rank_county"].notna()]
    assert (ranked["complete"] & ~ranked["small_sample"]).all()
    assert ranked["rank_county_of"].iloc[0] == len(ranked) and ranked["rank_county"].min() == 1
    best = ranked.sort_values("rank_county").iloc[0]
    assert best["value"] == ranked["value"].max()
    # province-wide ranks among all townships: the same ordering over a larger field
    allk = tb[(tb["kpi"] == "event_disposal_rate") & tb["rank"].notna()]
    assert allk["rank_of"].iloc[0] == len(allk) and allk["rank"].max() <= len(allk)
    # small samples follow the KPI's min_denominator (per month)
    small = tb[tb["small_sample"]]
    assert (small["denominator"] < small["min_denominator"]).all()
    # the two counties that have not filed 2021-04 leave their townships unreported, not zero
    overdue = Store(town_url).get_meta("demo_overdue")
    missing = tb[~tb["complete"]]
    assert set(missing["county"]) >= set(filter(None, (overdue or "").split(",")))
    assert missing["value"].isna().all() and missing["rank"].isna().all()
    # cached per data version
    assert eng.township_bulk(PERIOD) is tb
    with pytest.raises(EngineError):
        eng.township_bulk(PERIOD, county="330100")  # a city


def test_townships_are_judged_by_the_county_rules(town_url):
    """One code path judges counties and townships: a change computed on a figure short of its
    months compares a partial sum with a whole one, so it is withheld for a township as for a
    county (the township copy of the rules used to show it)."""
    eng = _engine(town_url)
    p = Period.bimonth(2021, 2)  # March and April; the overdue counties' townships filed March only
    tb = eng.township_bulk(p)
    partial = tb[~tb["complete"] & tb["value"].notna()]
    assert len(partial) > 0
    assert partial["change_prev"].isna().all() and partial["change_yoy"].isna().all()
    assert tb.loc[tb["complete"], "change_prev"].notna().any()
    county = eng.bulk(p)
    # a group short of counties compares like for like (metrics.changes); nothing else short gets a change
    plain = ~county["complete"] & county["change_prev_n"].isna()
    assert county.loc[plain, "change_prev"].isna().all()


def test_township_trend(town_url):
    eng = _engine(town_url)
    town = eng.geo.townships_of(XIHU)[0]
    tr = eng.trend(["event_disposal_rate"], [town, XIHU], PERIOD, months=4)
    assert len(tr) == 8 and tr["value"].notna().all()
    tb = eng.township_bulk(PERIOD)
    v = tb[(tb["kpi"] == "event_disposal_rate") & (tb["region"] == town)]["value"].iloc[0]
    assert tr[(tr["region"] == town) & (tr["month"] == PERIOD.start)]["value"].iloc[0] == pytest.approx(v)


def test_township_league_tables(town_url):
    eng = _engine(town_url)
    pop = Population.parse("townships:" + SHANGCHENG, eng.geo)
    assert pop.level == "township" and pop.regions(eng.geo, PERIOD.end) == eng.geo.townships_of(SHANGCHENG)
    lt = league_table(eng, "hotline_connect_rate", PERIOD, pop, trend_months=3)
    assert set(lt["region"]) == set(eng.geo.townships_of(SHANGCHENG))
    ranked = lt[lt["standing"] == "ranked"]
    vals = np.array([float(f"{v * 100:.1f}") for v in ranked["value"]])  # ranked on the figure as shown
    assert (np.diff(vals) <= 1e-12).all()  # best first
    assert (lt["parent"] == SHANGCHENG).all() and lt["name_zh"].str.endswith(("街道", "镇", "乡")).all()
    whole = league_table(eng, "hotline_connect_rate", PERIOD, "townships", trend_months=0)
    assert len(whole) == 1360 and whole["standing"].isin(["ranked", "small_sample", "overdue"]).all()
    assert (whole.loc[whole["standing"] == "overdue", "rank"].isna()).all()
    with pytest.raises(RankingError):
        league_table(eng, "online_handling_rate", PERIOD, "townships")  # not measured per township
    with pytest.raises(RankingError):
        Population.parse("townships:330100", eng.geo)  # townships are raced within a county


@pytest.mark.server
def test_township_bulk_on_postgresql_matches_sqlite(town_url, town_pg):
    lite, pg = _engine(town_url), _engine(town_pg)
    a = lite.township_bulk(PERIOD).set_index(["kpi", "region"]).sort_index()
    b = pg.township_bulk(PERIOD).set_index(["kpi", "region"]).sort_index()
    assert len(b) == 1360 * len(township_kpis(catalogue()))
    cols = ["value", "numerator", "denominator", "prev_value", "rank", "rank_county"]
    pd.testing.assert_frame_equal(a[cols], b[cols], check_dtype=False)
    assert (a["status"] == b["status"]).all()
    # county = aggregation of townships on PostgreSQL too
    bulk = pg.bulk(PERIOD)
    cty = bulk[(bulk["kpi"] == "four_platform_ontime_rate") & (bulk["level"] == "county")].set_index("region")
    s = b.xs("four_platform_ontime_rate").groupby("county")[["numerator", "denominator"]].sum().reindex(cty.index)
    ok = cty["value"].notna()
    assert np.allclose(cty.loc[ok, "value"], s.loc[ok, "numerator"] / s.loc[ok, "denominator"])
    lt = league_table(pg, "four_platform_ontime_rate", PERIOD, "townships:" + XIHU, trend_months=2)
    assert set(lt["region"]) == set(pg.geo.townships_of(XIHU))


# -- scopes ------------------------------------------------------------------------------------------
def test_scopes_see_their_own_townships_only(town_url):
    tb = _engine(town_url).township_bulk(PERIOD)
    geo = geography()
    county = visible_townships(tb, policy.scope_regions(SHANGCHENG))
    assert set(county["region"]) == set(geo.townships_of(SHANGCHENG))
    city = visible_townships(tb, policy.scope_regions(LISHUI))
    assert set(city["county"]) == set(geo.counties_of(LISHUI))
    assert set(city["region"]) == {t for c in geo.counties_of(LISHUI) for t in geo.townships_of(c)}
    assert len(visible_townships(tb, policy.scope_regions(PROVINCE))) == len(tb)


def test_the_reader_keeps_townships_in_scope(town_url):
    from metrics.access import Reader

    geo = geography()
    reader = Reader.for_code(_engine(town_url), SHANGCHENG)
    mine, other = geo.townships_of(SHANGCHENG)[0], geo.townships_of(XIHU)[0]
    assert set(reader.townships(PERIOD)["county"]) == {SHANGCHENG}
    assert len(reader.townships(PERIOD, SHANGCHENG)) > 0
    with pytest.raises(PermissionError):
        reader.townships(PERIOD, XIHU)
    kpi = township_kpis(catalogue())[0]
    assert not reader.township_trend(kpi, mine, SHANGCHENG, PERIOD).empty
    with pytest.raises(PermissionError):
        reader.township_trend(kpi, other, XIHU, PERIOD)


# -- the county page -----------------------------------------------------------------------------------
def _page_text(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.server)])
def town_db(request) -> str:
    """The township demo on SQLite and on PostgreSQL (the drill must hold at production scale)."""
    return request.getfixturevalue("town_url" if request.param == "sqlite" else "town_pg")


def test_county_page_township_section_and_drill(town_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", town_db)
    at = run("pages/county.py", county=XIHU)
    text = _page_text(at)
    assert "乡镇（街道）· 基层智治 · 西湖区" in text and "演示数据" in text
    table = at.dataframe[-1].value
    assert len(table) == len(geography().townships_of(XIHU))
    assert len(at.get("plotly_chart")) >= 2  # the county trend and the township bars
    town = geography().townships_of(XIHU)[2]
    at = run("pages/county.py", county=XIHU, township=town, twkpi="hotline_satisfaction", lang="en")
    labels = [b.label for b in at.button]
    assert any(lb.startswith("Xihu District") for lb in labels)  # breadcrumb back to the county
    assert geography().get(town).name_en in labels
    assert "last 12 months" in _page_text(at) and "Townships" in _page_text(at)
    assert len(at.get("plotly_chart")) >= 3  # + the township trend
    at = run("pages/county.py", county=XIHU, township=geography().townships_of(SHANGCHENG)[0])
    assert any("不是西湖区的乡镇" in w.value for w in at.warning)


def test_county_scope_cannot_open_another_countys_township(town_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", town_url)
    leader = User("xh_leader", "leader", XIHU)
    at = run("pages/county.py", user=leader, county=XIHU)
    assert len(at.dataframe[-1].value) == len(geography().townships_of(XIHU))
    at = run("pages/county.py", user=leader, county=XIHU, township=geography().townships_of(SHANGCHENG)[0])
    # refused by the URL guard (the township code names 上城区) or by the township view itself
    assert any("无权查看" in e.value or "无权访问" in e.value for e in at.error)


def test_county_page_without_township_figures(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'plain.sqlite'}"
    _build(url, townships=False)
    monkeypatch.setenv("DATABASE_URL", url)
    at = run("pages/county.py", county=XIHU)
    assert "乡镇（街道）· 基层智治" not in _page_text(at)


def _population_options(at) -> list[str]:
    return next(s for s in at.selectbox if s.label in ("比较范围", "Population")).options


def test_rankings_page_races_townships(town_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", town_db)
    at = run("pages/rankings.py", rkpi="online_handling_rate")  # not measured per township: not offered
    assert "乡镇（街道）（演示）" not in _population_options(at)
    at = run("pages/rankings.py", rkpi="hotline_connect_rate", pop="townships")
    assert "乡镇（街道）（演示）" in _population_options(at)
    assert "演示数据：乡镇（街道）名称" in _page_text(at)
    ranked = at.dataframe[0].value
    assert "所属县（市、区）" in ranked.columns and len(ranked) > 500
    # every township is listed once: ranked, small samples apart, non-reporters below
    assert sum(len(f.value) for f in at.dataframe) == len(geography().townships)
    links = ranked["地区"].tolist()
    assert all(u.startswith("county?") and "township=" in u for u in links)
    first = links[0].partition("?")[2].partition("#")[0]
    q = dict(kv.split("=") for kv in first.split("&"))
    assert geography().townships[q["township"]].parent_code == q["county"]
    # no 达标风险 section: forecasts are made down to counties only
    assert not any("达标风险" in m.value for m in at.markdown)


def test_rankings_township_league_in_a_county_scope(town_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", town_url)
    leader = User("xh_leader", "leader", XIHU)
    at = run("pages/rankings.py", user=leader, rkpi="hotline_connect_rate", pop="townships")
    shown = {u.partition("township=")[2][:9] for frame in at.dataframe for u in frame.value.get("地区", [])}
    assert shown and shown <= set(geography().townships_of(XIHU))


def test_rankings_page_without_township_figures(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'plain.sqlite'}"
    _build(url, townships=False)
    monkeypatch.setenv("DATABASE_URL", url)
    at = run("pages/rankings.py", rkpi="hotline_connect_rate")
    assert "乡镇（街道）（演示）" not in _population_options(at)
