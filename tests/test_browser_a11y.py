"""Accessibility audit, themes and chart pictures in the real app (headless Chromium).

axe-core (Deque's rule engine, the one browsers' own audits build on) runs on every page at 1920×1080
(the wall and the laptop) and 390×844 (a phone), in the dark and the light theme: no critical or
serious violation of WCAG 2.1 A/AA, colour contrast included. The layout tests run the same audit on
the screens they measure at the other sizes (tests/test_browser_wall.py: 1920×1080 kiosk, 3840×2160,
1366×768; tests/test_browser_phone.py: the phone pages at 390×844 and 360×780), in both themes too.
axe-core is a test-time tool only:
`./cockpit test` installs it into .cache/axe (setup_axe); the app never serves it. Missing, the audit
fails under CI and skips elsewhere.

Also here (they share the server): the 主题 switch is remembered across a reload and the print
stylesheet is light; the camera button on a chart downloads a PNG named after the KPI.
"""

from __future__ import annotations

import re

import pytest

from tests.browser_helpers import (
    ADMIN_PATHS,
    APP_BACKGROUND_JS,
    THEME_BACKGROUND,
    THEMES,
    assert_no_exception,
    at_gate,
    axe_report,
    axe_violations,
    require_axe,
    sign_in,
    wait_finished,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# every page of app.py's navigation; office sees the cockpit, the data desk and the meeting pages,
# the administrator the admin-only ones (last: one sign-in switch per context)
PAGES = ("overview", "map", "county?county=330282", "followup", "rankings", "compare", "system", "data_in",
         "quality", "pack", "present", "jobs", "admin")
SIZES = {"wall": (1920, 1080), "phone": (390, 844)}
# at phone size also the layout designed for it (掌上驾驶舱: the overview and a KPI's detail)
PHONE_PAGES = ("kpi?kpi=online_handling_rate&view=phone", "overview?view=phone")


def _open(pg, url: str, who: dict) -> None:
    """Go to `url`, signed in as the role that sees it (signing in through the form when needed)."""
    want = "admin" if url.split("//", 1)[-1].split("/", 1)[-1].startswith(tuple(p.strip("/") for p in ADMIN_PATHS)) \
        else "office"
    if who.get("user") not in (None, want):
        pg.context.clear_cookies()
        who["user"] = None
    pg.goto(url)
    wait_finished(pg)
    if who.get("user") is None and at_gate(pg):  # (the admin page has password fields of its own)
        sign_in(pg, want)
        who["user"] = want


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", list(SIZES))
def test_no_serious_accessibility_violation_on_any_page(app_url, browser, theme, size):
    """One browser context per theme and size (the system preference set to the theme, so Streamlit's
    own widgets and the page's colours agree without a reload); every page audited in it."""
    require_axe()
    w, h = SIZES[size]
    ctx = browser.new_context(viewport={"width": w, "height": h}, color_scheme=theme)
    pg = ctx.new_page()
    who: dict = {}
    found: dict[str, list[dict]] = {}
    try:
        for path in PAGES + (PHONE_PAGES if size == "phone" else ()):
            sep = "&" if "?" in path else "?"
            _open(pg, f"{app_url}/{path}{sep}theme={theme}", who)
            assert_no_exception(pg)
            bad = axe_violations(pg)
            if bad:
                found[path] = bad
    finally:
        ctx.close()
    assert not found, f"axe-core, {theme} theme at {w}x{h}:\n{axe_report(found)}"


def test_theme_switch_is_remembered_and_print_is_light(app_url, page):
    page.goto(app_url + "/overview")
    bg = APP_BACKGROUND_JS
    tile = "() => getComputedStyle(document.querySelector('.tile')).backgroundColor"
    page.wait_for_selector(".tile")
    assert page.evaluate(bg) == THEME_BACKGROUND["dark"]  # the dark set (the test browser prefers dark)
    page.locator('[data-testid="stSidebar"]').get_by_text("浅色", exact=True).click()
    # the choice reloads the page once so Streamlit's own widgets take the light theme too
    page.wait_for_function(f"() => ({bg})() === 'rgb(248, 250, 252)'", timeout=60_000)
    wait_finished(page)
    page.wait_for_selector(".tile")
    assert page.evaluate(tile) == "rgb(255, 255, 255)"
    assert "cockpit_theme=light" in page.evaluate("() => document.cookie")
    page.goto(app_url + "/map")  # a new visit without ?theme=: the cookie and Streamlit's setting remember
    page.wait_for_function(f"() => ({bg})() === 'rgb(248, 250, 252)'", timeout=60_000)
    wait_finished(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("深色", exact=True).click()
    page.wait_for_function(f"() => ({bg})() === 'rgb(11, 20, 38)'", timeout=60_000)
    wait_finished(page)
    page.emulate_media(media="print")
    page.goto(app_url + "/overview")
    page.wait_for_selector(".tile")
    assert page.evaluate(tile) == "rgb(255, 255, 255)"  # paper: the light set whatever the screen shows
    page.emulate_media(media="screen")


def test_camera_button_downloads_a_png_named_after_the_kpi(app_url, page):
    page.goto(app_url + "/county?county=330282")
    wait_finished(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has=page.locator(".scatterlayer")).first
    chart.hover()
    button = chart.locator('.modebar-btn[data-title]')
    assert button.count() == 1  # only the picture download, no zoom or pan tools
    with page.expect_download(timeout=60_000) as dl:
        button.click()
    name = dl.value.suggested_filename
    assert name.endswith(".png"), name
    from metrics.catalogue import catalogue

    kpi_names = {k.name("zh") for k in catalogue().kpis}
    assert name.split("_")[0] in kpi_names, name  # <KPI>_<region>_<period>.png
    assert "_慈溪市_" in name and re.search(r"_\d{4}-\d{2}\.png$", name), name
