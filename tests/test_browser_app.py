"""Browser tests: the real app in headless Chromium (Debian's, driven by Playwright).

Opens the overview, a county profile and kiosk mode; asserts no Streamlit exception on any page,
that every request goes to the app's own host, that clicking a county on the map opens its profile
and that links reproduce the view. Marked `browser`; when /usr/bin/chromium is missing they fail
under CI (CI=true or COCKPIT_REQUIRE_SERVERS=1) and skip elsewhere.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest

from bench.app_server import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app
from tests.conftest import REQUIRE_SERVERS
from tests.test_app_pages import demo_db_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]


LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)"
        if REQUIRE_SERVERS:
            pytest.fail(msg + " — browser tests are mandatory in CI", pytrace=False)
        pytest.skip(msg)


def wait_finished(page, timeout: float = 60_000) -> None:
    """Script finished, connected, no skeleton left; a short pause for charts to draw."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]',
        timeout=timeout,
    )
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    _require_chromium()
    port = free_port()
    proc = start_app("server.py", port, {"DATABASE_URL": demo_db_url(tmp_path_factory)})
    yield f"http://127.0.0.1:{port}"
    stop_app(proc)


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


ADMIN_PATHS = ("/jobs", "/admin")  # pages only an administrator sees


def sign_in(pg, user: str) -> None:
    """Sign in through the form with a demo account (the page must show the sign-in gate)."""
    from auth.accounts import DEMO_ACCOUNTS

    password = next(a[1] for a in DEMO_ACCOUNTS if a[0] == user)
    form = pg.locator('[data-testid="stForm"]')
    form.locator('input[type="text"]').first.fill(user)
    form.locator('input[type="password"]').fill(password)
    form.locator('input[type="password"]').press("Enter")  # submits the form
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stForm\"] input[type=password]')",
                         timeout=30_000)
    wait_finished(pg)
    pg.cockpit_user = user


def at_gate(pg) -> bool:
    form = pg.locator('[data-testid="stForm"]')
    return bool(form.count() and form.locator('input[type="password"]').count())


@pytest.fixture
def page(browser):
    """A 1920x1080 page that records the host of every request it makes, signed in:
    `goto` meets the sign-in gate and signs in as the reform office (the administrator for the
    admin-only pages) through the form, as a person would; the session cookie then carries over.
    Set `pg.auto_sign_in = False` to see the gate yourself."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = ctx.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.auto_sign_in, pg.cockpit_user = True, None
    plain_goto = pg.goto

    def goto(url: str, **kw):
        path = urlparse(url).path
        want = "admin" if path.startswith(ADMIN_PATHS) else "office"
        if pg.auto_sign_in and url.startswith("http") and pg.cockpit_user not in (None, want):
            ctx.clear_cookies()  # another role's session
            pg.cockpit_user = None
        resp = plain_goto(url, **kw)
        if pg.auto_sign_in and url.startswith("http"):
            wait_finished(pg)
            if at_gate(pg):
                sign_in(pg, want)
        return resp

    pg.goto = goto
    yield pg
    ctx.close()


def assert_only_local(urls: list[str]) -> None:
    foreign = [u for u in urls if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOCAL_HOSTS]
    assert not foreign, f"requests left the app: {foreign[:10]}"


def assert_no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


def test_deep_link_as_first_visit_of_a_fresh_server(tmp_path_factory, page):
    """A shared link to a county must open with the full frame even as the server's first visit
    (Streamlit would otherwise run pages/county.py as a legacy page without app.py)."""
    _require_chromium()
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
    # the fragment refreshes itself without a page reload
    nav_count = len([u for u in page.requests if u.endswith("/?kiosk=1&rotate=0&refresh=5")])
    page.wait_for_timeout(6500)
    wait_finished(page)
    assert_no_exception(page)
    assert len([u for u in page.requests if u.endswith("/?kiosk=1&rotate=0&refresh=5")]) == nav_count
    assert_only_local(page.requests)


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
