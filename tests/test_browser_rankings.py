"""Browser tests of 赛马晾晒: the league tables and the county comparison workspace in headless Chromium.

Each view loads without a Streamlit exception and without a request leaving 127.0.0.1; the charts
are drawn; the URL keeps the selection. Screenshots go to /tmp/shots/rankings/ to be checked by eye.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_helpers import assert_no_exception, assert_only_local, wait_finished

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/tmp/shots/rankings")


def open_view(pg, url: str, charts: int = 0, height: int = 1080) -> None:
    """Load, wait for the script and the charts; a taller viewport so the screenshot shows the page."""
    pg.set_viewport_size({"width": 1920, "height": height})
    pg.goto(url)
    wait_finished(pg)
    if charts:
        pg.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
                             timeout=30_000)
        wait_finished(pg)  # the charts are drawn, nothing stale from the rerun the URL sync may start
    assert_no_exception(pg)


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def frames(pg) -> int:
    return pg.locator('[data-testid="stDataFrame"]').count()


def test_league_tables(app_url, page):  # noqa: F811
    open_view(page, app_url + "/rankings?rkpi=online_handling_rate", height=2000)
    assert page.get_by_text("赛马晾晒").first.is_visible() or page.get_by_text("排行榜").first.is_visible()
    assert frames(page) == 2  # ranked counties, then the two that did not report
    assert page.get_by_text("未参与排名（2个）").is_visible()
    assert page.get_by_text("参与排名 88/90").is_visible()
    shot(page, "league_default")

    # a KPI with small samples: listed apart, then ranked with their Wilson interval
    open_view(page, app_url + "/rankings?rkpi=share_satisfaction", height=2000)
    assert page.get_by_text("样本偏小，单列").first.is_visible()
    assert frames(page) == 3
    shot(page, "league_small_separate")
    open_view(page, app_url + "/rankings?rkpi=share_satisfaction&small=flag&lang=en", height=1400)
    assert page.get_by_text("95% interval").first.is_visible() or frames(page) >= 1
    assert not page.get_by_text("Small samples, listed separately").count()
    shot(page, "league_small_flag_en")

    open_view(page, app_url + "/rankings?rkpi=mobile_handling_rate&pop=city:330100")
    assert page.get_by_text("杭州市所辖13个县（市、区）").first.is_visible()
    shot(page, "league_city")
    open_view(page, app_url + "/rankings?rkpi=online_handling_rate&pop=group:SHANQU26", height=1400)
    assert page.get_by_text("同类组：山区26县").first.is_visible()
    shot(page, "league_group")
    open_view(page, app_url + "/rankings?rkpi=zlb_dau&pop=city:330300")  # a count without county targets
    assert page.get_by_text("温州市所辖12个县（市、区）").first.is_visible()
    shot(page, "league_count")
    open_view(page, app_url + "/rankings?rkpi=zzd_active_rate&pop=cities&lang=en")
    assert page.get_by_text("The 11 cities").first.is_visible()
    shot(page, "league_cities_en")
    assert_only_local(page.requests)


def _scheme_kpis_scored(tmp_path_factory, region: str) -> int:
    """How many of the default scheme's KPIs score `region` (KPIs too thin that month are left out)."""
    from metrics import open_engine
    from metrics.composite import evaluate_scheme
    from metrics.schemes import schemes
    from tests.app_helpers import demo_db_url

    eng = open_engine(demo_db_url(tmp_path_factory))
    res = evaluate_scheme(eng, schemes().schemes[0], eng.latest_month())
    return len(res.breakdown(region))


def test_composite_and_lists(app_url, page, tmp_path_factory):  # noqa: F811
    open_view(page, app_url + "/rankings?rview=scheme&focus=330127", charts=1, height=1300)
    assert page.get_by_text("双月综合评价").first.is_visible()
    n_bars = _scheme_kpis_scored(tmp_path_factory, "330127")
    assert n_bars >= 3 and page.locator(".js-plotly-plot .bars path").count() == n_bars  # one bar per KPI
    assert page.get_by_text("淳安县：得分").first.is_visible()
    assert "focus=330127" in page.url
    shot(page, "scheme_breakdown")
    open_view(page, app_url + "/rankings?rview=scheme&scheme=grassroots_governance&lang=en", charts=1, height=1300)
    assert page.get_by_text("Grassroots governance evaluation").first.is_visible()
    shot(page, "scheme_zscore_en")

    open_view(page, app_url + "/rankings?rview=lists", height=1600)
    assert page.get_by_text("红榜").first.is_visible() and page.get_by_text("黑榜").first.is_visible()
    assert frames(page) >= 4
    shot(page, "lists")
    open_view(page, app_url + "/rankings?rview=lists&lang=en&n=3&k=2", height=1600)
    assert page.get_by_text("Top 3: Bimonthly overall evaluation").first.is_visible()
    shot(page, "lists_en_overrides")
    assert_only_local(page.requests)


def test_compare_workspace(app_url, page):  # noqa: F811
    open_view(page, app_url + "/compare", charts=3, height=1900)
    assert page.get_by_text("区县对比").first.is_visible()
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() > 6  # trend lines drawn
    shot(page, "compare_default")

    url = (app_url + "/compare?counties=330127,331121,330328&kpis=online_handling_rate,mobile_handling_rate,"
           "hotline_satisfaction,zzd_active_rate&peers=group:SHANQU26&mode=value&lang=en")
    open_view(page, url, charts=3, height=2100)
    assert page.get_by_text("Peer group: 26 mountainous counties (26)").first.is_visible()
    for part in ("counties=330127%2C331121%2C330328", "peers=group%3ASHANQU26", "mode=value"):
        assert part in page.url or part.replace("%2C", ",").replace("%3A", ":") in page.url
    assert page.locator(".js-plotly-plot .scatterpolar, .js-plotly-plot .polarlayer").count() >= 1  # radar
    shot(page, "compare_group_en")

    # a whole peer group named in the link is expanded to its counties
    open_view(page, app_url + "/compare?counties=SHANQU26&kpis=online_handling_rate,mobile_handling_rate&mode=index",
              charts=3, height=1900)
    page.wait_for_function("() => location.search.includes('330127')", timeout=30_000)
    shot(page, "compare_whole_group")
    assert_only_local(page.requests)
