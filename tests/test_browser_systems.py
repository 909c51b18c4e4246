"""Browser tests of the system dashboards in headless Chromium.

Walks every system page (and the apps, rollout and problem-list sections), drills province →
city → county by clicking a bar, a map county and a table row, comes back up through the
breadcrumb, and checks that no Streamlit exception shows and no request leaves 127.0.0.1.
Screenshots go to /tmp/shots/systems/ (checked by eye).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from metrics.catalogue import catalogue
from metrics.geography import geography
from tests import browser_helpers as tb

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/tmp/shots/systems")
GEO = geography()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _params(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _open(page, url: str) -> None:
    page.goto(url)
    tb.wait_finished(page)
    tb.assert_no_exception(page)


def _crumbs(page) -> list[str]:
    return [x.strip().rstrip("›").strip() for x in page.locator("div[class*='st-key-crumb_']").all_inner_texts()]


def _click_bar(chart, i: int) -> None:
    """Click just below the top of bar i (the axis may start above zero, so a bar's centre can lie
    outside the plot)."""
    bar = chart.locator(".bars .point path").nth(i)
    bar.click(force=True, position={"x": bar.bounding_box()["width"] / 2, "y": 6})


def _wait_param(page, name: str, present: bool = True) -> None:
    cond = "" if present else "!"
    page.wait_for_function(f"() => {cond}new URLSearchParams(location.search).has('{name}')", timeout=30_000)
    tb.wait_finished(page)
    tb.assert_no_exception(page)


def test_every_system_page_and_section(app_url, page):
    cat = catalogue()
    for s in sorted(cat.systems, key=lambda s: s.order):
        _open(page, f"{app_url}/system?system={s.code}")
        page.wait_for_selector(".sd-card", timeout=30_000)
        assert page.get_by_text(s.name_zh).first.is_visible()
        assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3
        assert page.get_by_text("演示数据").first.is_visible()
        summary = page.locator('[data-testid="sys-summary"]').first.inner_text()
        assert summary.startswith(cat.kpis_of(s.code)[0].name_zh)
        _shot(page, f"system_{s.code}")
    for system, section, marker in (("platform", "apps", "重大应用赛马"), ("party", "problems", "问题清单"),
                                    ("government", "rollout", "贯通矩阵")):
        _open(page, f"{app_url}/system?system={system}&section={section}")
        page.get_by_text(marker).first.wait_for(timeout=30_000)
        tb.assert_no_exception(page)
        _shot(page, f"section_{system}_{section}")
    _open(page, f"{app_url}/system?system=government&lang=en&city=330100&county=330106")
    assert page.get_by_text("Digital government").first.is_visible()
    _shot(page, "system_government_en_county")
    page.get_by_text("Definition and data notes").click()  # the definitions panel
    page.get_by_text("Formula").first.wait_for(timeout=10_000)
    for label in ("Basis", "Unit", "Aggregation", "Source", "Owner", "Targets", "Data through"):
        assert page.locator(".sd-def").get_by_text(label, exact=True).count() == 1, label
    _shot(page, "definitions_en")
    tb.assert_only_local(page.requests)


def test_drill_province_city_county_and_back(app_url, page):
    _open(page, f"{app_url}/system?system=government&skpi=online_handling_rate")
    assert _crumbs(page) == ["全省"]
    _shot(page, "drill_1_province")
    # province -> city: click the first bar of the breakdown by city
    bars = page.locator('[data-testid="stPlotlyChart"]').nth(1)
    _click_bar(bars, 0)
    _wait_param(page, "city")
    city = _params(page)["city"]
    assert GEO.get(city).level == "city" and "county" not in _params(page)
    page.wait_for_function(f"() => document.body.innerText.includes('{GEO.get(city).name_zh}')", timeout=30_000)
    assert _crumbs(page) == ["全省", GEO.get(city).name_zh]
    _shot(page, "drill_2_city")
    # city -> county: click a county bar of the city's breakdown
    tb.wait_finished(page)
    bars = page.locator('[data-testid="stPlotlyChart"]').nth(1)
    _click_bar(bars, 1)
    _wait_param(page, "county")
    county = _params(page)["county"]
    assert GEO.city_of(county) == city and _params(page)["city"] == city
    assert _crumbs(page) == ["全省", GEO.get(city).name_zh, GEO.get(county).name_zh]
    assert page.locator('[data-testid="sys-summary"]').first.inner_text().startswith("一网通办率")
    _shot(page, "drill_3_county")
    # back up through the breadcrumb: county -> city -> province
    page.locator(f".st-key-crumb_{city} button").first.click()
    _wait_param(page, "county", present=False)
    assert _params(page).get("city") == city and _crumbs(page) == ["全省", GEO.get(city).name_zh]
    page.locator(".st-key-crumb_330000 button").first.click()
    _wait_param(page, "city", present=False)
    assert _crumbs(page) == ["全省"]
    _shot(page, "drill_4_back_to_province")
    # the link reproduces a drilled view in a new session
    _open(page, f"{app_url}/system?system=government&city={city}&county={county}")
    assert _crumbs(page)[-1] == GEO.get(county).name_zh
    tb.assert_only_local(page.requests)


def test_map_click_and_table_row_drill(app_url, page):
    _open(page, f"{app_url}/system?system=grassroots")
    page.wait_for_selector(".choroplethlocation", timeout=30_000)
    assert page.locator(".choroplethlocation").count() == 90
    page.locator(".choroplethlocation").nth(30).click(force=True)
    _wait_param(page, "county")
    county = _params(page)["county"]
    assert GEO.get(county).level == "county"
    assert _crumbs(page)[-1] == GEO.get(county).name_zh
    _shot(page, "drill_map_county")
    # a row of the cities table (the row-selection checkbox of the first city) drills to that city
    _open(page, f"{app_url}/system?system=grassroots")
    grid = page.locator('[data-testid="stDataFrame"]').nth(1)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)  # the first data row's selection cell
    _wait_param(page, "city")
    assert GEO.get(_params(page)["city"]).level == "city"
    _shot(page, "drill_table_city")
    # a row of the KPI overview table focuses that KPI (the first table, third row)
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 * 3 + 17)
    page.wait_for_function("() => new URLSearchParams(location.search).get('skpi') === 'hotline_connect_rate'",
                           timeout=30_000)
    tb.wait_finished(page)
    tb.assert_no_exception(page)
    assert page.locator('[data-testid="sys-summary"]').first.inner_text().startswith("12345接通率")
    tb.assert_only_local(page.requests)
