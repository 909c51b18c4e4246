"""System dashboards: catalogue-driven pages, the drill, chart frames vs downloads, the
automatic summary, the major-app league and rollout matrix, the problem-control index, and the
new register tables on every database backend."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from ingest.bootstrap import create_demo_database
from ingest.demo_apps import allocate, applicable, count_rows, write_registers
from metrics import apps as ma
from metrics import open_engine
from metrics import problems as mp
from metrics.catalogue import CATALOGUE_PATH, catalogue, parse_catalogue
from metrics.engine import MetricsEngine
from metrics.geography import PROVINCE, geography
from metrics.periods import Period
from metrics.summary import kpi_facts, kpi_summary, system_summary
from store import Store, migrate
from store.db import make_engine
from tests.app_helpers import demo_db_url, run
from ui import downloads
from ui import system_model as sm
from ui.i18n import t

CAT, GEO = catalogue(), geography()
COMPLETE_CITY = "330100"  # 杭州: all its counties reported in the demo's latest month
SYSTEMS = [s.code for s in CAT.systems]


@pytest.fixture
def page_db(tmp_path_factory, monkeypatch) -> str:
    """The test session's short-history demo database, as the app's DATABASE_URL."""
    url = demo_db_url(tmp_path_factory)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = demo_db_url(tmp_path_factory)
    eng = open_engine(url)
    p = eng.latest_month()
    return url, eng, p, eng.bulk(p)


@pytest.fixture
def demo_env(demo, monkeypatch):
    """The Streamlit-side helpers (ui.data) read DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", demo[0])
    return demo


# -- every catalogue KPI on exactly its system's page ---------------------------------------------
@pytest.mark.parametrize("system", SYSTEMS)
def test_every_kpi_appears_on_exactly_its_system_page(page_db, system):
    at = run("pages/system.py", system=system)
    assert at.selectbox(key="system").value == system
    shown = set(at.dataframe[0].value[t("kpi", "zh")])
    names = {k.code: k.name("zh") for k in CAT.kpis}
    assert len(set(names.values())) == len(names)  # names identify KPIs
    mine = {names[k.code] for k in CAT.kpis_of(system)}
    assert shown == mine
    assert not shown & (set(names.values()) - mine)  # no other system's KPI
    assert set(at.selectbox(key="skpi").options) == mine
    body = "\n".join(str(e.value) for e in at.get("html"))
    assert "演示数据" in body  # demo data is labelled


def test_a_kpi_added_to_the_catalogue_appears_without_page_code(demo):
    url, eng, p, _ = demo
    with open(CATALOGUE_PATH, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    extra = dict(next(k for k in raw["kpis"] if k["code"] == "mobile_handling_rate"))
    extra.update(code="mobile_share_culture_test", system="culture", name_zh="测试新增指标", name_en="Added KPI",
                 headline=None, aliases_zh=[], aliases_en=[])  # an alias names one KPI only
    raw["kpis"].append(extra)
    cat = parse_catalogue(raw)
    bulk = MetricsEngine(Store(url), catalogue=cat).bulk(p)
    drill = sm.resolve_drill(GEO, PROVINCE, None, None)
    ov = sm.overview_frame(bulk, cat, GEO, "culture", drill, "zh")
    assert "测试新增指标" in set(ov[t("kpi", "zh")])
    assert "测试新增指标" not in set(sm.overview_frame(bulk, cat, GEO, "government", drill, "zh")[t("kpi", "zh")])
    assert sm.breakdown_frame(bulk, cat.kpi("mobile_share_culture_test"), GEO, drill, "zh")["value"].notna().any()


# -- the drill --------------------------------------------------------------------------------------
def test_resolve_drill_levels_and_scope():
    d = sm.resolve_drill(GEO, PROVINCE, None, None)
    assert (d.level, d.region, d.path, d.child_level) == ("province", PROVINCE, (PROVINCE,), "city")
    d = sm.resolve_drill(GEO, PROVINCE, "330100", None)
    assert (d.level, d.region, d.path) == ("city", "330100", (PROVINCE, "330100"))
    d = sm.resolve_drill(GEO, PROVINCE, None, "330106")  # the county implies its city
    assert (d.level, d.city, d.path) == ("county", "330100", (PROVINCE, "330100", "330106"))
    assert sm.resolve_drill(GEO, PROVINCE, "330200", "330106").city == "330100"
    # a city leader's view starts at the city and cannot leave it
    d = sm.resolve_drill(GEO, "330200", "330100", "330106")
    assert (d.level, d.region, d.path) == ("city", "330200", ("330200",))
    d = sm.resolve_drill(GEO, "330200", None, "330203")
    assert d.path == ("330200", "330203")
    for bad in ("999999", "SHANQU26", "330000", "330103"):  # unknown, a group, the province, an abolished code
        assert sm.resolve_drill(GEO, PROVINCE, bad, bad).level == "province"
    assert sm.drill_params(GEO, "330106") == {"city": "330100", "county": "330106"}
    assert sm.drill_params(GEO, PROVINCE) == {"city": None, "county": None}


ADDITIVE = {"sum", "mean_daily", "last"}  # Σ over regions holds for all three rules


def _county_level_kpis():
    out = []
    for k in CAT.kpis:
        if k.kind == "yoy_growth" or sm.province_only(k, CAT):
            continue  # growth rates are not additive; province-level KPIs have no regions
        out.append(k)
    return out


@pytest.mark.parametrize("kpi", [k.code for k in _county_level_kpis()])
def test_drill_values_add_up_by_the_aggregation_rules(demo, kpi):
    """At each level the breakdown's child rows add up to the parent: Σ values for simple KPIs,
    Σ numerators and Σ denominators for ratios (and the parent's rate is Σnum ÷ Σden)."""
    _, _, p, bulk = demo
    k = CAT.kpi(kpi)
    for parent in (PROVINCE, COMPLETE_CITY):
        drill = sm.resolve_drill(GEO, PROVINCE, parent if parent != PROVINCE else None, None)
        kids = sm.breakdown_frame(bulk, k, GEO, drill, "zh")
        assert set(kids["region"]) == set(GEO.cities if parent == PROVINCE else GEO.counties_of(parent))
        # a county that did not report is left out of its city and of the province alike
        ref = bulk[(bulk["kpi"] == kpi) & (bulk["region"] == parent)].iloc[0]
        if k.kind == "ratio":
            assert kids["numerator"].sum() == pytest.approx(ref["numerator"], rel=1e-12)
            assert kids["denominator"].sum() == pytest.approx(ref["denominator"], rel=1e-12)
            assert ref["value"] == pytest.approx(kids["numerator"].sum() / kids["denominator"].sum(), rel=1e-12)
        else:
            assert CAT.measure(k.measure).aggregation in ADDITIVE
            assert kids["value"].sum() == pytest.approx(ref["value"], rel=1e-9)


def test_drill_at_county_shows_siblings_and_city_province_context(demo):
    _, _, _, bulk = demo
    drill = sm.resolve_drill(GEO, PROVINCE, None, "330106")
    k = CAT.kpi("online_handling_rate")
    sib = sm.breakdown_frame(bulk, k, GEO, drill, "zh")
    assert set(sib["region"]) == set(GEO.counties_of("330100"))
    assert sib.loc[sib["selected"], "region"].tolist() == ["330106"]
    ov = sm.overview_frame(bulk, CAT, GEO, "government", drill, "zh")
    assert {t("city_value", "zh"), t("province_value", "zh")} <= set(ov.columns)
    city = bulk[(bulk["kpi"] == k.code) & (bulk["region"] == "330100")]["value"].iloc[0]
    assert ov.loc[ov["code"] == k.code, t("city_value", "zh")].iloc[0] == f"{city * 100:.1f}%"
    dist = sm.distribution_frame(bulk, k, GEO, drill, Period.parse("2022-03"), "zh")
    assert len(dist) == 90 and dist["selected"].sum() == 1
    assert dist["peer_group"].sum() == 26  # 山区26县 in 2022


@pytest.mark.parametrize("params,rows", [({}, 11), ({"city": "330100"}, 13), ({"city": "330100", "county": "330106"}, 13),
                                         ({"scope": "330200"}, 10), ({"city": "999"}, 11)])
def test_page_drill_filters_the_region_table(page_db, params, rows):
    at = run("pages/system.py", system="government", skpi="online_handling_rate", **params)
    regions = at.dataframe[1].value
    assert len(regions) == rows
    region = params.get("county") or params.get("scope") or (params.get("city") if params.get("city") != "999" else None)
    buttons = [b.label for b in at.button if b.key and b.key.startswith("crumb_")]
    if region:
        assert GEO.get(region).name_zh in buttons[-1]
    else:
        assert buttons == ["全省"]


# -- chart frames and downloads ---------------------------------------------------------------------
def _read_back(frame: pd.DataFrame, kpi, lang: str = "zh") -> tuple[pd.DataFrame, pd.DataFrame]:
    out = sm.for_download(frame, kpi, lang)
    csv = pd.read_csv(io.BytesIO(downloads.csv_bytes(out)), encoding="utf-8-sig", dtype={t("sys_col_region", lang): str})
    xls = pd.read_excel(io.BytesIO(downloads.xlsx_bytes(out)), dtype={t("sys_col_region", lang): str})
    return csv, xls


def _trace_values(trace) -> list[float | None]:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v) for v in trace.y]


@pytest.mark.parametrize("kpi", ["online_handling_rate", "zlb_dau", "bad_rating_rate"])
def test_downloads_hold_the_numbers_the_charts_show(demo, kpi):
    _, eng, p, bulk = demo
    k = CAT.kpi(kpi)
    scale = 100.0 if k.format == "percent" else 1.0
    col = t("sys_col_value", "zh")
    drill = sm.resolve_drill(GEO, PROVINCE, COMPLETE_CITY, None)
    # breakdown bars
    bd = sm.breakdown_frame(bulk, k, GEO, drill, "zh")
    fig = sm.bar_figure(bd, k, "zh")
    csv, xls = _read_back(bd, k)
    assert list(fig.data[0].x) == csv[t("sys_col_name", "zh")].tolist() == xls[t("sys_col_name", "zh")].tolist()
    assert np.allclose(_trace_values(fig.data[0]), csv[col] * scale) and np.allclose(csv[col], xls[col])
    assert list(fig.data[0].customdata) == csv[t("sys_col_region", "zh")].tolist()
    # trend lines (+ the target step)
    regions = sm.comparison_regions(GEO, drill, k)
    tr = sm.trend_frame(eng.trend([kpi], regions, p), k, regions, GEO, "zh")
    fig = sm.trend_figure(tr, k, "zh")
    csv, xls = _read_back(tr, k)
    for i, reg in enumerate(dict.fromkeys(tr["region"])):
        sub = csv[csv[t("sys_col_region", "zh")] == reg]
        assert list(fig.data[i].x) == sub[t("sys_col_month", "zh")].tolist()
        assert np.allclose(_trace_values(fig.data[i]), sub[col] * scale, equal_nan=True)
    # distribution dots
    dist = sm.distribution_frame(bulk, k, GEO, drill, p, "zh")
    fig = sm.strip_figure(dist, k, "zh", "山区26县", "杭州市")
    csv, _ = _read_back(dist, k)
    shown = {c: x for tr_ in fig.data[1:] for c, x in zip(tr_.customdata, tr_.x, strict=True)}
    on_file = dict(zip(csv[t("sys_col_region", "zh")], csv[col] * scale, strict=True))
    assert shown.keys() == {r for r, v in on_file.items() if not np.isnan(v)}
    assert all(shown[r] == pytest.approx(on_file[r]) for r in shown)
    sel = {c for tr_ in fig.data if tr_.name == "杭州市" for c in tr_.customdata}
    assert sel == set(GEO.counties_of(COMPLETE_CITY)) - set(dist.loc[dist["value"].isna(), "region"])


def test_download_headers_follow_the_language(demo):
    _, _, _, bulk = demo
    k = CAT.kpi("online_handling_rate")
    bd = sm.breakdown_frame(bulk, k, GEO, sm.resolve_drill(GEO, PROVINCE, None, None), "en")
    out = sm.for_download(bd, k, "en")
    assert out.columns[:5].tolist() == ["KPI code", "KPI", "Unit", "Region code", "Region"]
    assert "Hangzhou" in set(out["Region"])


def test_league_and_matrix_downloads_match_their_charts(demo_env):
    from ui import apps_view

    url, eng, p, _ = demo_env
    reg = ma.load_register(eng.store.engine)
    league = ma.league_table(ma.load_usage(eng.store.engine, p.start, p.end), reg, p)
    frame = apps_view.league_frame(league, "zh")
    fig = apps_view.league_figure(frame, "zh")
    csv = pd.read_csv(io.BytesIO(downloads.csv_bytes(frame)), encoding="utf-8-sig")
    for trace, rate in zip(fig.data, ma.RATES, strict=True):
        assert np.allclose(trace.x, csv[rate] * 100)
        assert list(trace.customdata) == csv["app_code"].tolist()
    m = ma.rollout_matrix(ma.load_rollout(eng.store.engine), reg, p.end, GEO.counties)
    summ = ma.rollout_summary(m, GEO)
    mf = apps_view.matrix_frame(m, summ, GEO.counties_of("330100"), reg, "zh")
    hm = apps_view.matrix_figure(mf, reg, "zh", None).data[0]
    back = pd.read_csv(io.BytesIO(downloads.csv_bytes(mf)), encoding="utf-8-sig", dtype={"region": str})
    live = t("sys_state_live", "zh")
    for i, row in back.iterrows():
        assert (np.asarray(hm.z[i]) == 2).sum() == row["live"] == (row[list(hm.x)] == live).sum()
        assert hm.customdata[i][0] == row["region"]


# -- the automatic summary --------------------------------------------------------------------------
def _bulk_rows(kpi: str, rows: list[dict]) -> pd.DataFrame:
    base = dict(kpi=kpi, change_prev=np.nan, target=np.nan, status="none", rank=np.nan, rank_of=np.nan, missing=[],
                attainment=np.nan)
    return pd.DataFrame([base | r for r in rows])


def test_summary_sentence_wording():
    k = CAT.kpi("online_handling_rate")
    rows = [dict(region=PROVINCE, value=0.912, change_prev=0.004, target=0.92, status="amber")]
    rows += [dict(region=c, value=0.93 if i < 9 else 0.9, target=0.92, status="green" if i < 9 else "red")
             for i, c in enumerate(GEO.cities)]
    bulk = _bulk_rows(k.code, rows)
    zh = kpi_summary(bulk, k, PROVINCE, GEO, "zh")
    assert zh == "一网通办率（办件） 91.2%，较上月提升0.4个百分点，距年度目标差0.8个百分点；11个市中9个达标"
    en = kpi_summary(bulk, k, PROVINCE, GEO, "en")
    assert en == ("Online handling rate (cases) 91.2%, up 0.4 pts on the previous month, 0.8 pts short of the annual "
                  "target; 9 of 11 cities on target")
    f = kpi_facts(bulk, k, PROVINCE, GEO)
    assert (f.n_children, f.n_children_on_target) == (11, 9) and f.shortfall == pytest.approx(0.008)


def test_summary_variants():
    down = CAT.kpi("bad_rating_rate")
    b = _bulk_rows(down.code, [dict(region="330106", value=0.0021, change_prev=-0.0003, target=0.003, status="green",
                                    rank=3, rank_of=90)])
    assert kpi_summary(b, down, "330106", GEO, "zh") == \
        "差评率 0.21%，较上月下降0.03个百分点，优于年度目标0.09个百分点；全省90个区县中排第3位"
    count = CAT.kpi("zlb_dau")
    rows = [dict(region=PROVINCE, value=1_457_418, change_prev=0.073, target=3_000_000)]
    rows += [dict(region=c, value=100.0 + i) for i, c in enumerate(GEO.cities)]
    b = _bulk_rows(count.code, rows)
    zh = kpi_summary(b, count, PROVINCE, GEO, "zh")
    assert zh.startswith("浙里办日活 145.7万人，较上月增长7.3%，距年度目标差154.3万人；")
    assert zh.endswith(GEO.get(GEO.cities[-1]).name_zh + "居市首位")
    assert kpi_summary(b, count, PROVINCE, GEO, "en").startswith("Zheliban daily active users 1.46M users, up 7.3% on")
    flat = _bulk_rows("online_handling_rate", [dict(region=PROVINCE, value=0.95, change_prev=0.0001, target=0.95,
                                                    status="green", missing=["330282", "330802"])])
    k = CAT.kpi("online_handling_rate")
    assert kpi_summary(flat, k, PROVINCE, GEO, "zh") == \
        "一网通办率（办件） 95.0%，与上月持平，达到年度目标；2个区县逾期未报"
    assert kpi_summary(flat, k, "330100", GEO, "en") == "Online handling rate (cases): no data for this period"
    na = _bulk_rows("platform_reliability", [dict(region="330100", value=np.nan, status="na")])
    assert "province only" in kpi_summary(na, CAT.kpi("platform_reliability"), "330100", GEO, "en")


def test_summary_on_the_demo_matches_the_bulk_rows(demo):
    _, _, p, bulk = demo
    for k in CAT.kpis:
        for region in (PROVINCE, COMPLETE_CITY, "330106"):
            zh, en = kpi_summary(bulk, k, region, GEO, "zh"), kpi_summary(bulk, k, region, GEO, "en")
            assert zh.startswith(k.name("zh")) and en.startswith(k.name("en"))
            row = bulk[(bulk["kpi"] == k.code) & (bulk["region"] == region)].iloc[0]
            if row["status"] != "na" and not pd.isna(row["value"]) and k.format == "percent":
                assert f"{row['value'] * 100:.{k.decimals}f}%" in zh
    for s in SYSTEMS:
        text = system_summary(bulk, CAT, s, PROVINCE, GEO, "zh")
        assert text.startswith(CAT.system(s).name_zh)
        rows = bulk[(bulk["region"] == PROVINCE) & (bulk["system"] == s)]
        n_green = int(((rows["status"] == "green") & rows["target"].notna()).sum())
        assert f"{n_green}项达标" in text


# -- major apps -------------------------------------------------------------------------------------
def _register(codes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"code": codes, "name_zh": codes, "name_en": codes, "system_code": "platform",
                         "owner_zh": "o", "owner_en": "o", "launch_date": dt.date(2021, 1, 1),
                         "rollout_required": True, "is_demo": True})


def test_app_league_by_hand():
    reg = _register(["a", "b"])
    jan, feb = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    rows = [  # app, region, month, authorised, active, real, ratings, satisfied
        ("a", "330100", jan, 100, 50, 20, 10, 9), ("a", "330100", feb, 110, 66, 22, 20, 18),
        ("a", "330200", feb, 90, 30, 18, 10, 10),
        ("b", "330100", jan, 200, 180, 100, 5, 5), ("b", "330100", feb, 200, 160, 90, 5, 4),
        ("b", "330200", feb, 50, 10, 5, 0, 0),
    ]
    usage = pd.DataFrame(rows, columns=["app_code", "region_code", "month", *ma.STOCKS, *ma.FLOWS])
    feb_p = Period.parse("2024-02")
    lt = ma.league_table(usage, reg, feb_p).set_index("app_code")
    # a: (66+30)/(110+90) = 0.48, (22+18)/200 = 0.2, (18+10)/(20+10) = 0.9333
    assert lt.loc["a", "activity_rate"] == pytest.approx(96 / 200)
    assert lt.loc["a", "real_activity_rate"] == pytest.approx(40 / 200)
    assert lt.loc["a", "satisfaction_rate"] == pytest.approx(28 / 30)
    # b: 170/250 = 0.68, 95/250 = 0.38, 4/5 = 0.8
    assert lt.loc["b", "activity_rate"] == pytest.approx(170 / 250)
    assert lt.loc["b", "satisfaction_rate"] == pytest.approx(0.8)
    assert (lt.loc["b", "rank_activity_rate"], lt.loc["a", "rank_satisfaction_rate"]) == (1, 1)
    assert (lt.loc["b", "rank"], lt.loc["a", "rank"]) == (1, 2)  # mean ranks 1.33 vs 1.67
    tot = ma.league_totals(lt)
    assert tot["activity_rate"] == pytest.approx((96 + 170) / (200 + 250))  # Σnum ÷ Σden, not a mean of rates
    # a quarter: stocks at the last month, ratings summed over the months
    q = ma.league_table(usage, reg, Period.parse("2024-Q1"), ["330100"]).set_index("app_code")
    assert q.loc["a", "users_authorised"] == 110 and q.loc["a", "ratings"] == 30
    assert q.loc["a", "satisfaction_rate"] == pytest.approx(27 / 30)
    jan_only = ma.league_table(usage, reg, Period.parse("2024-01")).set_index("app_code")
    assert jan_only.loc["a", "users_authorised"] == 100


def test_rollout_matrix_by_hand():
    reg = _register(["a", "b", "c"])
    on = dt.date(2024, 6, 30)
    counties = ["330102", "330105", "330203"]
    rows = [("a", "330102", dt.date(2024, 1, 1), dt.date(2024, 3, 1)), ("b", "330102", dt.date(2024, 1, 1), dt.date(2024, 6, 30)),
            ("c", "330102", dt.date(2024, 5, 1), None),
            ("a", "330105", dt.date(2024, 1, 1), dt.date(2024, 7, 1)),  # live only after the date
            ("b", "330105", None, None), ("c", "330105", None, None),  # required, not started (no row: n/a)
            ("a", "330203", None, None), ("b", "330203", dt.date(2024, 2, 1), dt.date(2024, 2, 2)),
            ("c", "330203", None, None)]
    ro = pd.DataFrame(rows, columns=["app_code", "region_code", "started_date", "live_date"])
    m = ma.rollout_matrix(ro, reg, on, counties)
    assert m.loc["330102"].tolist() == ["live", "live", "in_progress"]
    assert m.loc["330105"].tolist() == ["in_progress", "not_started", "not_started"]
    s = ma.rollout_summary(m, GEO).set_index("region")
    assert s.loc["330102", "rate"] == pytest.approx(2 / 3) and s.loc["330102", "rank"] == 1
    assert s.loc["330203", "rate"] == pytest.approx(1 / 3) and s.loc["330203", "rank"] == 2
    assert s.loc["330105", "rank"] == 3 and s.loc["330105", "rank_of"] == 3
    assert s.loc["330100", "live"] == 2 and s.loc["330100", "required"] == 6  # Σlive ÷ Σrequired
    assert s.loc[PROVINCE, "rate"] == pytest.approx(3 / 9)


def test_demo_apps_agree_with_the_catalogue_kpis(demo):
    _, eng, p, bulk = demo
    reg = ma.load_register(eng.store.engine)
    assert len(reg) == 31 and set(reg["system_code"]) <= set(SYSTEMS)
    usage = ma.load_usage(eng.store.engine, dt.date(2021, 1, 1), p.end)
    for region in (PROVINCE, COMPLETE_CITY):
        tot = ma.league_totals(ma.league_table(usage, reg, p, None if region == PROVINCE else [region]))
        for rate, kpi in ma.RATE_KPIS.items():
            row = bulk[(bulk["kpi"] == kpi) & (bulk["region"] == region)].iloc[0]
            if region == PROVINCE and not row["complete"]:
                continue
            assert tot[rate] == pytest.approx(row["value"], rel=1e-12), (region, rate)
    m = ma.rollout_matrix(ma.load_rollout(eng.store.engine), reg, p.end, GEO.counties)
    summ = ma.rollout_summary(m, GEO).set_index("region")
    kp = bulk[(bulk["kpi"] == "major_app_rollout_rate") & (bulk["level"] == "county")].set_index("region")["value"]
    reported = kp.dropna()
    assert len(reported) == 90  # the rollout count comes from the platform, not the county reports
    assert np.allclose(summ.loc[reported.index, "rate"], reported)


def test_allocation_is_exact_and_capped():
    rng = np.random.default_rng(1)
    caps = rng.integers(0, 50, size=(20, 7))
    totals = (caps.sum(axis=1) * rng.random(20)).astype(int)
    out = allocate(totals, rng.random((20, 7)), caps)
    assert (out.sum(axis=1) == totals).all() and (out <= caps).all() and (out >= 0).all()


# -- 七张问题清单 -------------------------------------------------------------------------------------
def _problems() -> pd.DataFrame:
    d = dt.date
    rows = [  # id, county, found, deadline, closed, self_found, source
        (1, "330102", d(2024, 1, 5), d(2024, 3, 5), d(2024, 2, 20), True, "audit"),  # closed on time
        (2, "330102", d(2024, 2, 1), d(2024, 4, 1), d(2024, 5, 1), False, "eco"),  # closed late
        (3, "330102", d(2024, 5, 1), d(2024, 6, 1), None, False, "safety"),  # overdue on 06-30
        (4, "330102", d(2024, 6, 10), d(2024, 9, 10), None, True, "opinion"),  # open, in time
        (5, "330105", d(2024, 3, 1), d(2024, 4, 1), d(2024, 3, 30), False, "petition"),  # on time
        (6, "330105", d(2024, 7, 1), d(2024, 8, 1), None, False, "audit"),  # found after the date
        (7, "330102", d(2022, 1, 1), d(2022, 2, 1), d(2022, 1, 20), False, "audit"),  # due outside the window
    ]
    return pd.DataFrame([dict(id=i, code=f"P{i}", region_code=c, found_date=f, deadline=dl, closed_date=cl,
                              self_found=s, source=src, title_zh=f"问题{i}", title_en=f"Problem {i}")
                         for i, c, f, dl, cl, s, src in rows])


def test_problem_status_and_counts_by_hand():
    on = dt.date(2024, 6, 30)
    now = mp.as_of(_problems(), on).set_index("id")
    assert now["status_then"].to_dict() == {1: "closed", 2: "closed", 3: "overdue", 4: "open", 5: "closed", 7: "closed"}
    assert now.loc[3, "days_overdue"] == 29 and now.loc[2, "days_overdue"] == 30
    assert mp.status_at(dt.date(2024, 2, 1), dt.date(2024, 4, 1), dt.date(2024, 5, 1), dt.date(2024, 4, 15)) == "overdue"
    c = mp.county_counts(_problems(), on, 12, ["330102", "330105", "330106"]).set_index("region")
    assert c.loc["330102"].to_dict() == dict(found=5, closed=3, open=2, overdue=1, open_in_time=1, due_in_window=3,
                                             closed_ontime=1, found_in_window=4, self_found_in_window=2)
    assert c.loc["330106"].sum() == 0


def test_problem_control_index_by_hand():
    on = dt.date(2024, 6, 30)
    table = mp.region_table(_problems(), on, GEO, mp.config()).set_index("region")
    r = table.loc["330102"]
    # on time 1/3, close 3/5, not overdue 1/2, self-found 2/4; weights 40/30/20/10
    assert (r["ontime_rate"], r["close_rate"], r["not_overdue_share"], r["self_found_share"]) == pytest.approx(
        (1 / 3, 3 / 5, 1 / 2, 2 / 4))
    assert r["index"] == pytest.approx(100 * (40 / 3 + 30 * 0.6 + 20 * 0.5 + 10 * 0.5) / 100)
    h = table.loc["330105"]  # one problem, closed on time, not self-found: 40+30+20+0
    assert h["index"] == pytest.approx(90.0)
    assert h["rank"] == 1 and r["rank"] == 2 and r["rank_of"] == 2
    assert np.isnan(table.loc["330106", "ontime_rate"]) and table.loc["330106", "not_overdue_share"] == 1.0
    # a county with nothing on the lists has no basis for an index, and is not ranked
    assert np.isnan(table.loc["330106", "index"]) and np.isnan(table.loc["330106", "rank"])
    city = table.loc["330100"]  # Σnum ÷ Σden over the city's counties
    assert city["ontime_rate"] == pytest.approx(2 / 4) and city["overdue"] == 1
    assert (city["rank"], city["rank_of"]) == (1, 1)  # the only city with problems
    assert table.loc[PROVINCE, "found"] == 6


def test_problem_index_weights_are_configurable():
    with open(mp.CONFIG_PATH, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    for comp in raw["index"]["components"]:
        comp["weight"] = 1 if comp["code"] == "close_rate" else 0
    cfg = mp.parse_config(raw)
    table = mp.region_table(_problems(), dt.date(2024, 6, 30), GEO, cfg).set_index("region")
    assert table.loc["330102", "index"] == pytest.approx(60.0)
    raw["index"]["components"][0]["code"] = "nonsense"
    with pytest.raises(mp.ProblemConfigError, match="index.components.0.code"):
        mp.parse_config(raw)
    cfg = mp.config()
    assert {s.name_zh for s in cfg.sources} == {"巡视", "审计", "督查", "生态环保", "安全生产和自然灾害", "网络舆情", "群众信访"}  # seed 001
    assert {s.name_zh for s in cfg.statuses} == {"整改中", "已销号", "逾期"}


def test_problem_filters_and_demo_register(demo):
    _, eng, p, _ = demo
    allp = mp.load_problems(eng.store.engine)
    assert len(allp) > 500 and set(allp["source"]) == {s.code for s in mp.config().sources}
    assert allp["is_demo"].all()
    now = mp.as_of(allp, p.end)
    over = mp.filter_problems(now, overdue_only=True, regions=GEO.counties_of("330100"))
    assert len(over) and (over["status_then"] == "overdue").all() and over["region_code"].isin(GEO.counties_of("330100")).all()
    audit = mp.filter_problems(now, sources=["audit"], statuses=["closed"])
    assert (audit["source"] == "audit").all() and (audit["status_then"] == "closed").all()
    ev = mp.load_events(eng.store.engine, int(over.iloc[0]["id"]))
    assert ev["kind"].iloc[0] == "found" and "overdue" in set(ev["kind"]) and "closed" not in set(ev["kind"])
    assert (ev["event_date"].diff().dropna() >= pd.Timedelta(0)).all()


# -- the page's sections ----------------------------------------------------------------------------
@pytest.mark.parametrize("params", [
    dict(system="platform", section="apps"),
    dict(system="platform", section="apps", city="330100", county="330106", lang="en"),
    dict(system="government", section="rollout"),
    dict(system="government", section="rollout", city="330100", county="330106"),
    dict(system="party", section="problems"),
    dict(system="party", section="problems", city="330100", lang="en"),
    dict(system="government", skpi="platform_reliability"),  # an out-of-system KPI falls back
    dict(system="platform", skpi="platform_reliability", city="330100"),  # province-only KPI below the province
    dict(system="society", skpi="znm_codes", county="331127"),  # a 山区 county, a count KPI
])
def test_sections_render(page_db, params):
    at = run("pages/system.py", **params)
    assert at.get("plotly_chart")
    if params.get("section") == "apps":
        assert len(at.dataframe) == 2  # league and register
    if params.get("skpi") == "platform_reliability":
        assert at.selectbox(key="skpi").value == ("platform_reliability" if params["system"] == "platform"
                                                   else "online_handling_rate")


def test_problem_history_in_the_page(page_db, demo):
    _, eng, p, _ = demo
    allp = mp.load_problems(eng.store.engine)
    code = allp[allp["region_code"] == "330106"].iloc[0]["code"]
    at = run("pages/system.py", system="party", section="problems", county="330106", problem=code)
    body = "\n".join(str(e.value) for e in at.get("html"))
    assert code in body or any(code in m.value for m in at.markdown)
    assert "发现问题并录入清单" in body
    assert len(at.dataframe) == 2  # the county table and the problem list


# -- storage on every backend -----------------------------------------------------------------------
def test_register_tables_on_every_backend(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    assert {"major_app", "app_rollout", "app_usage", "problem", "problem_event"} <= set(sa.inspect(engine).get_table_names())
    store = Store(engine)
    from ingest.demo_apps import AppsDemo

    reg = _register(["a", "b"])
    ro = pd.DataFrame([("a", "330102", dt.date(2024, 1, 2), dt.date(2024, 2, 3)), ("b", "330102", None, None)],
                      columns=["app_code", "region_code", "started_date", "live_date"])
    usage = pd.DataFrame([("a", "330100", dt.date(2024, 1, 1), 10, 5, 2, 4, 3)],
                         columns=["app_code", "region_code", "month", *ma.STOCKS, *ma.FLOWS])
    probs = _problems().assign(title_zh="标题", title_en="title", owner_zh="单位", owner_en="unit",
                               status="open", is_demo=True)
    events = pd.DataFrame([dict(id=1, problem_id=1, event_date=dt.date(2024, 1, 5), kind="found", actor_zh="甲",
                                actor_en="A", note_zh="发现", note_en="found")])
    write_registers(store, AppsDemo(reg, ro, usage), probs, events)
    write_registers(store, AppsDemo(reg, ro, usage), probs, events)  # replaces, never duplicates
    assert count_rows(store) == {"major_app": 2, "app_rollout": 2, "app_usage": 1, "problem": 7, "problem_event": 1}
    back = ma.load_register(engine)
    assert back["launch_date"].tolist() == [dt.date(2021, 1, 1)] * 2 and back["rollout_required"].all()
    r = ma.load_rollout(engine).set_index("app_code")
    assert r.loc["a", "live_date"] == dt.date(2024, 2, 3) and r.loc["b", "live_date"] is None
    assert ma.load_usage(engine, dt.date(2024, 1, 1), dt.date(2024, 1, 31))["users_active"].tolist() == [5]
    pr = mp.load_problems(engine).set_index("id")
    assert pr.loc[3, "closed_date"] is None and bool(pr.loc[1, "self_found"]) is True
    assert mp.load_events(engine, 1)["note_zh"].tolist() == ["发现"]
    with engine.begin() as conn:  # the ids keep counting after explicit inserts (PostgreSQL sequences)
        from store.schema_apps import problem

        conn.execute(problem.insert().values(code="NEW", source="audit", region_code="330102", title_zh="x",
                                             title_en="x", owner_zh="x", owner_en="x", found_date=dt.date(2024, 1, 1),
                                             deadline=dt.date(2024, 2, 1), status="open"))
        assert conn.execute(sa.select(problem.c.id).where(problem.c.code == "NEW")).scalar() == 8
    migrate.downgrade(engine, "0003")
    assert not {"major_app", "problem"} & set(sa.inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()  # back at head
    engine.dispose()


def test_demo_registers_load_on_every_backend(db_url):
    today = dt.date(2021, 4, 2)  # three months: quick on the servers
    create_demo_database(db_url, seed=11, today=today)
    store = Store(db_url)
    n = count_rows(store)
    applies = sum(len(v) for v in applicable(GEO.counties).values())  # apps without a subject here: no row
    assert n["major_app"] == 31 and n["app_rollout"] == applies < 31 * 90 and n["app_usage"] == 31 * 11 * 3
    assert n["problem"] > 100 and n["problem_event"] > n["problem"]
    eng = MetricsEngine(store, today=dt.date(2021, 4, 20))
    p = Period.parse("2021-03")
    bulk = eng.bulk(p)
    tot = ma.league_totals(ma.league_table(ma.load_usage(store.engine, p.start, p.end), ma.load_register(store.engine), p))
    row = bulk[(bulk["kpi"] == "app_satisfaction") & (bulk["region"] == PROVINCE)].iloc[0]
    assert tot["satisfaction_rate"] == pytest.approx(row["value"], rel=1e-12)
    store.engine.dispose()


def test_a_city_leader_sees_their_city_named_as_the_population(page_db):
    from tests.helpers import LISHUI

    at = run("pages/system.py", user=LISHUI, system="government", skpi="online_handling_rate")
    body = "\n".join(str(e.value) for e in at.get("html"))
    assert "丽水市所辖9个县（市、区）分布" in body and "全省90" not in body
    specs = [json.loads(p.proto.spec) for p in at.get("plotly_chart")]
    (spec,) = [s for s in specs if s["data"] and s["data"][0].get("name") == "区县分布"]
    dots = [c for tr in spec["data"][1:] for c in tr.get("customdata", [])]
    assert len(dots) <= 9 and {d[:4] for d in dots} == {"3311"}  # the 9 counties plotted are 丽水's
    assert not any("text" in tr.get("mode", "") for tr in spec["data"])  # 9 selected: names on hover only
    at = run("pages/rankings.py", user=LISHUI, pop="counties", rkpi="online_handling_rate")
    text = "\n".join(m.value for m in at.markdown)
    assert "丽水市所辖9个县（市、区）" in text and "全省90" not in text


def test_strip_names_the_selected_dots_only_when_few(demo):
    _, eng, p, bulk = demo
    k = CAT.kpi("online_handling_rate")
    county = GEO.counties_of(COMPLETE_CITY)[0]
    for city, chosen in ((COMPLETE_CITY, None), (COMPLETE_CITY, county)):
        drill = sm.resolve_drill(GEO, PROVINCE, city, chosen)
        fig = sm.strip_figure(sm.distribution_frame(bulk, k, GEO, drill, p, "zh"), k, "zh", "山区26县", "所选")
        (sel,) = [tr for tr in fig.data if tr.name == "所选"]
        assert ("text" in sel.mode) == (len(sel.x) <= sm.STRIP_LABELS_MAX), (len(sel.x), sel.mode)
