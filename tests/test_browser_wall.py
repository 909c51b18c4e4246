"""The wall (一屏) in headless Chromium: the overview fits 1920x1080 with no vertical scroll, signed in
as the province leader with the sidebar collapsed and in kiosk mode; headline values are at least
40 px and labels 14 px; the 批示 action sits inside its tile; a 4K wall gets the same layout scaled
up; a 1366x768 laptop scrolls but never sideways; kiosk mode enters and leaves without a reload and
Back never strands the user without the sidebar. Each layout is checked in the dark and the light
theme, and axe-core audits each screen measured (no critical or serious violation).
Screenshots: /tmp/shots/wall/*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser_helpers as tb

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/tmp/shots/wall")
SIDEBAR = '[data-testid="stSidebar"]'
# the element that scrolls is Streamlit's main area; the document itself must not scroll either
METRICS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const se = document.scrollingElement;
    const px = (sel) => [...document.querySelectorAll(sel)].map(e => parseFloat(getComputedStyle(e).fontSize));
    const block = document.querySelector('[data-testid="stMainBlockContainer"]');
    const value = document.querySelector('.tile .t-value');
    return {
        innerWidth, innerHeight,
        docHeight: se.scrollHeight, docWidth: se.scrollWidth,
        mainScroll: main.scrollHeight, mainClient: main.clientHeight,
        mainScrollWidth: main.scrollWidth, mainClientWidth: main.clientWidth,
        values: px('.tile .t-value'),
        labels: px('.tile .t-name, .tile .t-status, .tile .t-target, .tile .t-changes, .tile .t-foot, .sys .s-name, '
                   + '.sys .s-sub, .panel-title, .l-title, .league td'),
        valueHeight: value.getBoundingClientRect().height,
        mapHeight: document.querySelector('.js-plotly-plot').getBoundingClientRect().height,
        blockWidth: block.getBoundingClientRect().width,
    };
}"""


@pytest.fixture
def wall(browser, app_url, theme):
    """A fresh browser context of a given size in `theme`, signed in as the province leader on the
    overview (a kiosk query names the theme: the wall is dark unless the URL says otherwise)."""
    contexts = []

    def open_at(width: int, height: int, query: str = ""):
        ctx = tb.themed_context(browser, app_url, theme, viewport={"width": width, "height": height})
        if "kiosk=1" in query and theme != "dark":
            query += f"&theme={theme}"
        contexts.append(ctx)
        pg = tb.recording_page(ctx)
        pg.goto(app_url + "/")
        tb.wait_finished(pg)
        tb.sign_in(pg, "leader")
        if query:
            pg.goto(app_url + "/" + query)
            tb.wait_finished(pg)
        if not query or query.startswith("?"):  # the overview
            pg.wait_for_selector(".tile")
        tb.assert_no_exception(pg)
        tb.assert_theme(pg, theme)
        return pg

    yield open_at
    for ctx in contexts:
        ctx.close()


def collapse_sidebar(pg) -> None:
    if pg.locator(SIDEBAR).is_visible():
        pg.locator(SIDEBAR).hover()
        pg.locator('[data-testid="stSidebarCollapseButton"] button').click()
        pg.wait_for_function("() => !document.querySelector('[data-testid=\"stSidebar\"][aria-expanded=\"true\"]')")
        tb.wait_finished(pg)


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tb.next_frame(pg)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


def measure(pg) -> dict:
    tb.next_frame(pg)
    return pg.evaluate(METRICS)


def assert_one_screen(m: dict) -> None:
    assert m["mainScroll"] <= m["mainClient"], m  # nothing below the fold
    assert m["docHeight"] <= m["innerHeight"], m
    assert m["mainScrollWidth"] <= m["mainClientWidth"] and m["docWidth"] <= m["innerWidth"], m


@pytest.mark.parametrize("theme", tb.THEMES)
def test_overview_fits_1080p_with_actions_inside_the_tiles(wall, theme):
    pg = wall(1920, 1080)
    collapse_sidebar(pg)
    shot(pg, f"1920x1080-{theme}")
    m = measure(pg)
    assert_one_screen(m)
    assert len(m["values"]) == 10 and min(m["values"]) >= 40, m["values"]  # readable across the room
    assert min(m["labels"]) >= 14, sorted(m["labels"])[:5]
    # everything of the overview is on the screen: map, best/worst, alerts
    for sel in (".choroplethlocation", ".league", ".sys"):
        box = pg.locator(sel).last.bounding_box()
        assert box and box["y"] + box["height"] <= 1080, (sel, box)
    # each 批示 button lies inside its tile (no row of lone buttons under the tiles)
    tiles = pg.locator('[class*="st-key-wall_tile_"]')
    assert tiles.count() == 10
    for i in range(tiles.count()):
        tile = tiles.nth(i).locator(".tile").bounding_box()
        btn = tiles.nth(i).locator('[class*="st-key-fu_tile_"] button').first.bounding_box()
        assert btn["width"] >= 24 and btn["height"] >= 24, btn  # a target a finger or a mouse finds
        assert tile["x"] <= btn["x"] and btn["x"] + btn["width"] <= tile["x"] + tile["width"], (tile, btn)
        assert tile["y"] <= btn["y"] and btn["y"] + btn["height"] <= tile["y"] + tile["height"], (tile, btn)
    tb.assert_accessible(pg, f"overview at 1920x1080, {theme} theme")
    # the tiles' grid is two rows of five: nothing between the rows but the gap
    ys = sorted({round(tiles.nth(i).bounding_box()["y"]) for i in range(10)})
    assert len(ys) == 2 and ys[1] - ys[0] <= tiles.first.bounding_box()["height"] + 16, ys
    # the 批示 flow still opens its dialog from the tile
    tiles.first.locator("button").first.click()
    pg.locator('[data-testid="stDialog"]').wait_for(timeout=30_000)
    tb.assert_only_local(pg.requests)


@pytest.mark.parametrize("theme", tb.THEMES)
def test_kiosk_fits_1080p_and_a_4k_wall_scales_up(wall, theme):
    pg = wall(1920, 1080, "?kiosk=1&rotate=0")
    shot(pg, f"1920x1080-kiosk-{theme}")
    small = measure(pg)
    assert_one_screen(small)
    assert min(small["values"]) >= 40 and min(small["labels"]) >= 14
    assert not pg.locator(SIDEBAR).is_visible()
    tb.assert_accessible(pg, f"kiosk at 1920x1080, {theme} theme")

    big = wall(3840, 2160, "?kiosk=1&rotate=0")
    shot(big, f"3840x2160-kiosk-{theme}")
    m = measure(big)
    assert_one_screen(m)
    assert m["valueHeight"] >= 1.6 * small["valueHeight"], (m["valueHeight"], small["valueHeight"])  # larger type
    assert min(m["labels"]) >= 1.6 * 14
    assert m["mapHeight"] >= 1.6 * small["mapHeight"], (m["mapHeight"], small["mapHeight"])  # a larger map
    assert m["blockWidth"] >= 0.9 * m["innerWidth"], m  # the page fills the wall, no island in the middle
    tb.assert_accessible(big, f"kiosk at 3840x2160, {theme} theme")
    tb.assert_only_local(big.requests)


@pytest.mark.parametrize("theme", tb.THEMES)
def test_old_laptop_scrolls_but_never_sideways(wall, theme):
    pg = wall(1366, 768)
    shot(pg, f"1366x768-{theme}")
    m = measure(pg)
    assert m["mainScrollWidth"] <= m["mainClientWidth"] and m["docWidth"] <= m["innerWidth"], m
    tiles = [pg.locator(".tile").nth(i).bounding_box() for i in range(10)]
    for a, b in zip(tiles, tiles[1:], strict=False):  # no tile drawn over its neighbour
        if abs(a["y"] - b["y"]) < 2:
            assert a["x"] + a["width"] <= b["x"] + 1, (a, b)
            assert abs(a["height"] - b["height"]) <= 1, (a, b)  # a row of tiles stays level
    assert all(t["x"] + t["width"] <= 1366 for t in tiles)
    # every KPI's name is read whole (一网通办率（事项） and （办件） must not both end in an ellipsis)
    cut = pg.evaluate("() => [...document.querySelectorAll('.tile .t-name')]"
                      ".filter(e => e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1)"
                      ".map(e => e.innerText)")
    assert not cut, cut
    tb.assert_accessible(pg, f"overview at 1366x768, {theme} theme")


def test_kiosk_enters_and_leaves_cleanly(wall, app_url):
    pg = wall(1920, 1080, "county?county=330102")
    assert pg.locator(SIDEBAR).is_visible()
    pg.locator(SIDEBAR).get_by_text("大屏模式").click()  # the sidebar link: no reload
    pg.wait_for_function("() => location.search.includes('kiosk=1')")
    tb.wait_finished(pg)
    pg.locator(SIDEBAR).wait_for(state="hidden", timeout=30_000)  # hidden at once
    exit_link = pg.locator(".st-key-kiosk_exit a")
    assert exit_link.is_visible() and "退出大屏" in exit_link.inner_text()
    box = exit_link.bounding_box()
    assert box["x"] > 1920 * 0.8 and box["y"] < 60 and box["height"] >= 24, box  # small, top right

    pg.go_back()  # Back: the county page again, with its sidebar (and sign-out)
    pg.wait_for_function("() => location.pathname.endsWith('/county') && !location.search.includes('kiosk')")
    tb.wait_finished(pg)
    pg.locator(SIDEBAR).wait_for(state="visible", timeout=30_000)
    tb.assert_no_exception(pg)

    pg.goto(app_url + "/county?county=330102&kiosk=1")  # a stale wall link to another page: not a wall
    tb.wait_finished(pg)
    pg.wait_for_function("() => !location.search.includes('kiosk')")
    pg.locator(SIDEBAR).wait_for(state="visible", timeout=30_000)

    pg.goto(app_url + "/?kiosk=1&rotate=0")
    tb.wait_finished(pg)
    assert not pg.locator(SIDEBAR).is_visible()
    pg.locator(".st-key-kiosk_exit a").click()  # the exit control
    pg.wait_for_function("() => !location.search.includes('kiosk')")
    tb.wait_finished(pg)
    pg.locator(SIDEBAR).wait_for(state="visible", timeout=30_000)
    assert pg.locator(".st-key-kiosk_exit").count() == 0
    tb.assert_only_local(pg.requests)
