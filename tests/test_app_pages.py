"""AppTest tests: every page renders without exception, in both languages, at province and city
scope, in kiosk mode and on an empty database.

The demo database (short history, 2021-01..2022-03) is built once per test session and shared by
the app test modules (`app_db` in conftest.py, `tests.app_helpers.demo_db_url`).
"""

from __future__ import annotations

import pytest

from tests.app_helpers import html_text, run


def test_overview_default(app_db, use_db):
    use_db(app_db)
    at = run()
    body = html_text(at)
    assert body.count('class="tile"') == 10  # headline tiles
    assert body.count('class="sys"') == 8  # 6 systems + grassroots + data platform
    assert "演示数据" in body  # demo badge
    assert "一屏掌控" in body
    assert len(at.get("plotly_chart")) == 1  # the county map
    assert at.selectbox(key="period").value == "2022-03"  # latest month with data by default
    assert at.selectbox(key="kpi").value == "online_handling_items_rate"  # the map opens on the first headline rate
    # overdue counties appear as alerts linking to their profiles
    links = [e.proto for e in at.get("page_link")]
    assert any("逾期未报" in lk.label for lk in links)


def test_overview_english(app_db, use_db):
    use_db(app_db)
    at = run(lang="en")
    body = html_text(at)
    assert "One-screen cockpit" in body and "Demo data" in body
    assert "目标" not in body  # no Chinese UI strings on the tiles


def test_overview_city_scope(app_db, use_db):
    use_db(app_db)
    at = run(scope="330600", kpi="online_handling_rate")
    assert at.selectbox(key="scope").value == "330600"
    body = html_text(at)
    assert "全省第" in body  # a city is ranked among the 11 cities
    assert "绍兴市" in body


def test_url_carries_codes_and_leaves_defaults_out(app_db, use_db):
    # (AppTest drops sidebar widgets on a rerun, so picking in the UI is tested in the browser)
    use_db(app_db)
    at = run(scope="330100", period="2021-12", lang="en")
    assert at.selectbox(key="scope").value == "330100" and at.selectbox(key="period").value == "2021-12"
    assert "330100" in str(at.query_params["scope"]) and "2021-12" in str(at.query_params["period"])
    assert "Hangzhou" in html_text(at)
    at = run(scope="330000", period="2022-03", lang="zh")  # all defaults: removed from the link
    assert not {"scope", "period", "lang"} & set(at.query_params)
    at = run(scope="Hangzhou", period="1999-01")  # unknown values fall back to the defaults
    assert at.selectbox(key="scope").value == "330000" and at.selectbox(key="period").value == "2022-03"


def test_overview_older_period_and_value_colouring(app_db, use_db):
    use_db(app_db)
    at = run(period="2021-06", colour="value", kpi="mobile_handling_rate")
    assert at.selectbox(key="period").value == "2021-06"
    assert "2021-06" in html_text(at)


def test_overview_map_on_a_count_kpi(app_db, use_db):
    use_db(app_db)
    at = run(kpi="zlb_dau")  # no county target: coloured by value, no status legend
    assert "达标</span>" not in html_text(at).split('class="legend"', 1)[-1][:300]


def test_overview_kiosk(app_db, use_db):
    use_db(app_db)
    at = run(kiosk="1", rotate="0")
    body = html_text(at)
    assert 'data-testid="stSidebar"' in body  # kiosk CSS hides the sidebar and chrome
    assert body.count('class="tile"') == 10


def test_kiosk_rotates_to_a_system_view(app_db, use_db, monkeypatch):
    use_db(app_db)
    import time

    monkeypatch.setattr(time, "time", lambda: 30.0 * 3)  # slot 3 of overview + 8 systems
    at = run(kiosk="1", rotate="30")
    assert "轮播" in html_text(at)
    assert len(at.dataframe) >= 1


def test_empty_database(empty_db, use_db):
    use_db(empty_db)
    at = run()
    assert at.info and "没有数据" in at.info[0].value
    at = run("pages/county.py", county="330102")
    assert at.info
    at = run("pages/system.py", lang="en")
    assert at.info and "no data" in at.info[0].value


def test_county_profile(app_db, use_db):
    use_db(app_db)
    at = run("pages/county.py", county="330282")
    assert at.selectbox(key="county").value == "330282"
    assert any("逾期未报" in w.value for w in at.warning)  # the overdue county says so
    assert len(at.dataframe) == 1
    assert len(at.get("plotly_chart")) == 1


def test_county_profile_peer_group_english_city_scope(app_db, use_db):
    use_db(app_db)
    at = run("pages/county.py", county="331121", lang="en", scope="331100", tkpi="online_handling_rate")
    md = " ".join(m.value for m in at.markdown)
    assert "Peer groups" in md
    df = at.dataframe[0].value
    assert any("26" in str(c) for c in df.columns)  # 山区26县 columns for a Lishui county


@pytest.mark.parametrize("system", ["platform", "party", "government", "economy", "society", "culture",
                                    "rule_of_law", "grassroots"])
def test_system_pages(app_db, use_db, system):
    use_db(app_db)
    at = run("pages/system.py", system=system)
    assert at.selectbox(key="system").value == system
    assert len(at.dataframe) == 2  # KPI table and regions table


def test_system_page_city_scope_with_kpi(app_db, use_db):
    use_db(app_db)
    at = run("pages/system.py", system="government", skpi="mobile_handling_rate", scope="330100", lang="en")
    assert at.selectbox(key="skpi").value == "mobile_handling_rate"
    regions = at.dataframe[1].value
    assert len(regions) == 13  # Hangzhou's counties

