"""Browser tests: the real app in headless Chromium (Debian's, driven by Playwright).

Opens the overview, a county profile and kiosk mode (which must show data imported while it is open,
without a reload); asserts no Streamlit exception on any page, that every request goes to the app's
own host, that clicking a county on the map opens its profile and that links reproduce the view. Marked `browser`; when /usr/bin/chromium is missing they fail
under CI (CI=true or COCKPIT_REQUIRE_SERVERS=1) and skip elsewhere.
"""

from __future__ import annotations

import pytest

from bench.app_server import free_port, start_app, stop_app
from ingest.importer import ImportOptions, import_bytes
from store import Store
from tests.app_helpers import DEMO_TODAY, REPORT_MONTH, demo_db_url, filled_report, plausible
from tests.browser_helpers import assert_no_exception, assert_only_local, require_chromium, wait_finished
from tests.helpers import copy_sqlite

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CIXI = "330282"  # 慈溪市: no report for the demo's latest month


def test_deep_link_as_first_visit_of_a_fresh_server(tmp_path_factory, page):
    """A shared link to a county must open with the full frame even as the server's first visit
    (Streamlit would otherwise run pages/county.py as a legacy page without app.py)."""
    require_chromium()
    port = free_port()
    proc = start_app("server.py", port, {"DATABASE_URL": demo_db_url(tmp_path_factory)})
    try:
        page.goto(f"http://127.0.0.1:{port}/county?county=330282&lang=en")
        wait_finished(page)
        page.wait_for_selector('[data-testid="stSidebarNavLink"]', timeout=30_000)
        assert_no_exception(page)
        nav = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
        assert any("County profile" in x for x in nav) and not any(x.strip() == "app" for x in nav)
        assert page.get_by_text("Cixi City county profile").is_visible()
        assert page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').count() == 1  # wall-screen link
        assert_only_local(page.requests)
    finally:
        stop_app(proc)


def test_overview_county_and_kiosk(app_url, page):
    page.goto(app_url + "/")
    wait_finished(page)
    assert_no_exception(page)
    assert page.locator(".tile").count() == 10
    assert page.locator(".sys").count() == 8
    assert page.get_by_text("演示数据").first.is_visible()
    page.wait_for_selector(".choroplethlocation", timeout=30_000)  # the map is drawn
    assert page.locator(".choroplethlocation").count() == 90
    tip = page.locator(".tile").first.get_attribute("title")  # hover: definition, source, as-of
    assert "口径" in tip and "来源" in tip and "数据截至" in tip

    page.goto(app_url + "/county?county=330282")
    wait_finished(page)
    assert_no_exception(page)
    assert page.get_by_text("慈溪市 区县画像").is_visible()
    assert page.get_by_text("逾期未报").first.is_visible()

    page.goto(app_url + "/?kiosk=1&rotate=0&refresh=5")
    wait_finished(page)
    assert_no_exception(page)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert not page.locator('header[data-testid="stHeader"]').is_visible()
    assert_only_local(page.requests)


def test_kiosk_shows_new_data_without_a_reload(tmp_path_factory, page):
    """The wall screen re-reads the data on its own: a county's report imported while the page is
    open shows on the tiles (已报 88/90 -> 89/90) with no page reload. Its own server on a private
    copy of the demo database, since the import writes."""
    require_chromium()
    dst = tmp_path_factory.mktemp("kiosk") / "kiosk.sqlite"
    copy_sqlite(demo_db_url(tmp_path_factory), dst)
    url = f"sqlite:///{dst}"
    port = free_port()
    proc = start_app("server.py", port, {"DATABASE_URL": url})
    reported = "() => [...document.querySelectorAll('.tile .rep')].map(e => e.innerText.trim())"
    try:
        page.goto(f"http://127.0.0.1:{port}/?kiosk=1&rotate=0&refresh=5")
        wait_finished(page)
        assert_no_exception(page)
        before = page.evaluate(reported)
        assert before and all(r == "已报 88/90" for r in before), before  # 慈溪市 has not reported yet
        page.evaluate("() => { window.kioskMarker = 'same page'; }")  # a reload would drop it

        store = Store(url)
        rep = import_bytes(filled_report(CIXI, plausible(url, CIXI)), f"{CIXI}_{REPORT_MONTH}.xlsx", store,
                           as_county=CIXI, user="test", options=ImportOptions(today=DEMO_TODAY))
        store.engine.dispose()
        assert rep.batch_id is not None and not rep.errors, rep.messages()

        page.wait_for_function(
            "() => [...document.querySelectorAll('.tile .rep')].some(e => e.innerText.includes('已报 89/90'))",
            timeout=90_000)  # the next fragment run (every 5 s), however loaded the machine
        assert page.evaluate("() => window.kioskMarker") == "same page"  # refreshed in place
        wait_finished(page)
        assert_no_exception(page)
        assert all(r == "已报 89/90" for r in page.evaluate(reported))
        assert_only_local(page.requests)
    finally:
        stop_app(proc)


def test_kiosk_rotates_through_system_views(app_url, page):
    page.goto(app_url + "/?kiosk=1&rotate=2")
    wait_finished(page)
    page.wait_for_function("() => document.body.innerText.includes('轮播')", timeout=30_000)
    assert_no_exception(page)
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1  # a system's KPI table
    assert_only_local(page.requests)


def test_links_reproduce_the_view(app_url, page):
    page.goto(app_url + "/?lang=en&scope=330100&kpi=mobile_handling_rate")
    wait_finished(page)
    assert_no_exception(page)
    assert page.get_by_text("One-screen cockpit").first.is_visible()
    assert page.locator(".choroplethlocation").count() == len(
        __import__("metrics.geography", fromlist=["geography"]).geography().counties_of("330100")
    )
    # the URL keeps the codes (not the display names) and gains the period
    page.wait_for_function("() => location.search.includes('scope=330100')")
    assert "lang=en" in page.url and "kpi=mobile_handling_rate" in page.url
    # a system tile opens that system's page with the same view
    page.locator(".sys-grid a").nth(2).click()
    wait_finished(page)
    assert_no_exception(page)
    assert "/system" in page.url and "scope=330100" in page.url
    assert page.get_by_text("Digital government").first.is_visible()
    assert_only_local(page.requests)


def test_pickers_update_the_link(app_url, page):
    page.goto(app_url + "/")
    wait_finished(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').nth(1).click()  # scope
    page.get_by_role("option", name="杭州市").click()
    page.wait_for_function("() => location.search.includes('scope=330100')", timeout=30_000)
    wait_finished(page)
    assert_no_exception(page)
    assert page.locator(".h-meta").first.inner_text().startswith("杭州市")
    sidebar.get_by_text("English").click()
    page.wait_for_function("() => location.search.includes('lang=en')", timeout=30_000)
    wait_finished(page)
    assert page.get_by_text("One-screen cockpit").first.is_visible()
    assert sidebar.locator('[data-testid="stSelectbox"]').count() == 2  # the frame survives reruns
    # the link opens the same view in a new session
    url = page.url
    page.goto("about:blank")
    page.goto(url)
    wait_finished(page)
    assert page.locator(".h-meta").first.inner_text().startswith("Hangzhou")
    assert_only_local(page.requests)


def test_map_click_opens_county_profile(app_url, page):
    page.goto(app_url + "/?kpi=online_handling_rate")
    wait_finished(page)
    page.wait_for_selector(".choroplethlocation", timeout=30_000)
    page.locator(".choroplethlocation").nth(40).click(force=True)
    page.wait_for_url("**/county?*", timeout=30_000)
    wait_finished(page)
    assert_no_exception(page)
    assert "county=33" in page.url
    assert page.get_by_text("区县画像").first.is_visible()
    assert_only_local(page.requests)


def test_alert_link_opens_overdue_county(app_url, page):
    page.goto(app_url + "/")
    wait_finished(page)
    page.get_by_text("逾期未报").first.click()
    page.wait_for_url("**/county?*", timeout=30_000)
    wait_finished(page)
    assert_no_exception(page)
    assert "county=330282" in page.url or "county=330802" in page.url
    assert_only_local(page.requests)


FIRST_FIGURE_SLACK = 4.0  # the requirement is 3 s (bench/bench_first_figure.py measures it); this test runs
# beside other work on a shared machine, so it only catches a page that has become several times slower


def test_each_main_page_reaches_its_first_figure_on_a_warm_server(app_url, page):
    import time

    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    from bench.bench_first_figure import FIGURE, LIMIT_S, PAGES

    page.goto(app_url + "/")  # signs in (the reform office: every cockpit page)
    page.auto_sign_in = False
    for _, path in PAGES:  # the server is warm once each page has been drawn once
        page.goto(app_url + path)
        wait_finished(page)
    took = {}
    for name, path in [p for p in PAGES if p[0] != "followup"]:  # 批示督办 is a list, empty on this database
        t0 = time.perf_counter()
        page.goto(app_url + path)
        try:
            page.wait_for_selector(FIGURE, timeout=LIMIT_S * FIRST_FIGURE_SLACK * 1000)
        except PlaywrightTimeoutError:
            took[name] = float("inf")
        else:
            took[name] = round(time.perf_counter() - t0, 2)
        wait_finished(page)
        assert_no_exception(page)
    print("first figure, s:", took)
    assert all(v <= LIMIT_S * FIRST_FIGURE_SLACK for v in took.values()), took
