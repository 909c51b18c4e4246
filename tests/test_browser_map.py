"""Browser tests of the map page in headless Chromium: flat and 3D maps, offline.

Every request the page makes is recorded and must stay on 127.0.0.1 (no basemap style, tiles,
fonts or scripts from outside; in particular no Carto style for the pydeck chart). Covers a ratio
and a count KPI, hovering and clicking a county, zooming into a city, stepping and playing the
month slider, and the 3D view. Screenshots go to /tmp/shots/maps/ to be checked by eye.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from metrics import open_engine
from metrics.geography import geography
from tests.app_helpers import demo_db_url
from tests.browser_helpers import LOCAL_HOSTS, assert_no_exception, assert_only_local, wait_finished
from ui import maps

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/tmp/shots/maps")
GEO = geography()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


def params(pg) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(pg.url).query).items()}


def open_map(pg, url: str, locations: int | None = 90) -> None:
    """Open a map view (the `page` fixture signs in at the gate) and wait for its counties."""
    pg.goto(url)
    wait_finished(pg)
    assert urlparse(pg.url).path == urlparse(url).path  # a deep link lands on the page asked for
    if locations:
        pg.wait_for_function(f"() => document.querySelectorAll('.choroplethlocation').length === {locations}",
                             timeout=30_000)
        wait_finished(pg)  # drawn, and nothing stale from the rerun the URL sync may start
    assert_no_exception(pg)


def _reddish(img) -> int:
    small = img.resize((160, 90))
    return sum(1 for x in range(small.width) for y in range(small.height)
               if (px := small.getpixel((x, y)))[0] > 150 and px[1] < 110 and px[2] < 110)


def _has_shapes(img) -> bool:
    """More than the blank style's background: at least 5% of pixels differ from the commonest colour."""
    small = img.resize((160, 90))
    counts = sorted(small.getcolors(160 * 90), reverse=True)
    return sum(n for n, _ in counts[1:]) > 0.05 * 160 * 90


def deck_drawn(chart, drawn, timeout_s: float = 30.0):
    """The chart's screenshot once `drawn(image)` holds: deck.gl paints its WebGL canvas after the script
    has finished, and nothing in the DOM says when."""
    from io import BytesIO

    from PIL import Image

    deadline = time.monotonic() + timeout_s
    while True:
        img = Image.open(BytesIO(chart.screenshot())).convert("RGB")
        if drawn(img) or time.monotonic() > deadline:
            return img


def ticks(pg) -> list[str]:
    return pg.eval_on_selector_all(".colorbar .cbaxis text", "els => els.map(e => e.textContent)")


def labels(pg) -> list[str]:
    return pg.eval_on_selector_all(".trace.scattergeo text", "els => els.map(e => e.textContent)")


def fills(pg) -> list[str]:
    """The drawn fill of each county path (in the trace's order: geo.counties)."""
    return pg.eval_on_selector_all(".choroplethlocation", "els => els.map(e => getComputedStyle(e).fill)")


def rgb(hex_colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)))


def test_ratio_kpi_hover_click_and_slider(app_url, page, tmp_path_factory):  # noqa: F811
    open_map(page, app_url + "/map?kpi=online_handling_rate&peer=1")
    names = labels(page)
    assert len(names) == 90 and "上城" in names and "景宁" in names  # Chinese names on every county
    # each county is drawn in the colour of the status the engine (and so the rankings) gives it
    eng = open_engine(demo_db_url(tmp_path_factory))
    status = maps.region_rows(eng.bulk("2022-03"), "online_handling_rate", GEO.counties)["status"]
    drawn = fills(page)
    assert drawn == [rgb(maps.status_colour(s)) for s in status]
    assert len(set(drawn)) >= 3  # several status colours, not one flat fill
    assert page.locator(".trace.scattergeo path.js-line").count() >= 1  # the 山区26县 outline
    assert page.get_by_text("山区26县").first.is_visible()
    shot(page, "ratio_status_peer")

    # hover: the tooltip gives name, value, target, attainment, rank and change since last month
    target = GEO.counties.index("330781")  # 兰溪市: a mid-sized county, easy to hit
    box = page.locator(".choroplethlocation").nth(target).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".hoverlayer .hovertext", timeout=10_000)
    tip = page.locator(".hoverlayer .hovertext").text_content()
    assert "兰溪市" in tip and "目标" in tip and "完成" in tip and "排名" in tip and "较上月" in tip, tip
    shot(page, "ratio_hover")

    # click: the side panel opens on that county and links to its profile
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => location.search.includes('county=330781')", timeout=30_000)
    wait_finished(page)
    page.wait_for_selector('.map-panel[data-county="330781"]', timeout=30_000)
    assert_no_exception(page)
    assert page.get_by_role("link", name="打开区县画像").is_visible()
    shot(page, "ratio_panel")

    # step the slider one month back: the map, its caption and the link follow
    thumb = page.locator('[data-testid="stSlider"] input').first
    thumb.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => location.search.includes('month=2022-02')", timeout=30_000)
    wait_finished(page)
    page.wait_for_function("() => document.querySelectorAll('.choroplethlocation').length === 90", timeout=30_000)
    assert page.locator(".panel-title").filter(has_text="2022-02").count() >= 1
    assert_no_exception(page)
    shot(page, "ratio_month_2022-02")

    # the profile link opens the county page for the same month
    page.get_by_role("link", name="打开区县画像").click()
    page.wait_for_url("**/county?*", timeout=30_000)
    wait_finished(page)
    assert "county=330781" in page.url and "period=2022-02" in page.url
    assert_only_local(page.requests)


def test_count_kpi_value_scale(app_url, page):  # noqa: F811
    open_map(page, app_url + "/map?kpi=zlb_dau&colour=value")
    before = ticks(page)
    assert len(before) == 5 and all(t.endswith("人") for t in before), before  # legend in the KPI's unit
    assert page.get_by_text("色阶固定为").first.is_visible()
    assert len(labels(page)) == 90
    shot(page, "count_value")
    thumb = page.locator('[data-testid="stSlider"] input').first
    for _ in range(3):  # one month at a time: a key pressed during the previous step's rerun may be lost
        month = params(page).get("month", "")
        thumb.focus()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("m => new URLSearchParams(location.search).get('month') !== m && "
                               "new URLSearchParams(location.search).has('month')", arg=month, timeout=30_000)
        wait_finished(page)
    assert re.fullmatch(r"2021-1[012]", params(page)["month"]), page.url
    page.wait_for_function("() => document.querySelector('.colorbar .cbaxis text')", timeout=30_000)
    assert ticks(page) == before  # the scale is held fixed
    shot(page, "count_value_earlier_month")
    assert_only_local(page.requests)


def test_city_level_click_zooms_to_counties(app_url, page):  # noqa: F811
    open_map(page, app_url + "/map?kpi=online_handling_rate&level=city", locations=11)
    assert set(labels(page)) == {GEO.get(c).name_zh for c in GEO.cities}
    shot(page, "cities")
    wenzhou = GEO.cities.index("330300")
    box = page.locator(".choroplethlocation").nth(wenzhou).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => location.search.includes('city=330300')", timeout=30_000)
    n = len(GEO.counties_of("330300"))
    page.wait_for_function(f"() => document.querySelectorAll('.choroplethlocation').length === {n}", timeout=30_000)
    wait_finished(page)
    assert_no_exception(page)
    assert "level" not in params(page)  # back at county level (the default)
    assert "鹿城区" in labels(page)  # full names when zoomed in
    shot(page, "city_zoom_wenzhou")
    page.get_by_role("button", name="返回全省").click()
    page.wait_for_function("() => document.querySelectorAll('.choroplethlocation').length === 90", timeout=30_000)
    wait_finished(page)
    assert "city" not in params(page)
    assert_only_local(page.requests)


def test_play_steps_through_months(app_url, page):  # noqa: F811
    open_map(page, app_url + "/map?kpi=online_handling_rate&month=2021-12")
    page.get_by_role("button", name="播放").click()
    page.wait_for_function("() => location.search.includes('month=2022-01')", timeout=30_000)
    page.wait_for_function("() => !location.search.includes('month=')", timeout=30_000)  # 2022-03: default
    expect(page.get_by_role("button", name="播放")).to_be_visible(timeout=30_000)  # at the end it stops by itself
    wait_finished(page)
    assert page.locator(".choroplethlocation").count() == 90
    assert_no_exception(page)
    assert_only_local(page.requests)


def test_3d_view_is_offline(app_url, page):  # noqa: F811
    open_map(page, app_url + "/map?kpi=online_handling_rate&view=3d", locations=None)
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
    assert_no_exception(page)
    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    # the extruded counties are drawn (mostly 未达标 red in the demo data)
    img = deck_drawn(chart, lambda im: _reddish(im) > 200)
    assert _reddish(img) > 200, _reddish(img)
    shot(page, "ratio_3d")
    # hover the middle of the view: deck.gl's tooltip with the county's figures (rendered, not as tags)
    box = chart.bounding_box()
    x, y = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55
    page.mouse.move(x, y)
    page.wait_for_function("() => { const t = document.querySelector('.deck-tooltip');"
                           " return t && t.innerText.includes('目标'); }", timeout=15_000)
    tip = page.locator(".deck-tooltip").first.inner_text()
    assert "较上月" in tip and "<b>" not in tip and "<br>" not in tip, tip
    shot(page, "ratio_3d_hover")
    urls = page.requests
    style = [u for u in urls if u.endswith("/app/static/blank_map_style.json")]
    assert style and all(urlparse(u).hostname in LOCAL_HOSTS for u in style)  # the local blank style
    assert not [u for u in urls if re.search(r"cartocdn|mapbox\.com|carto\.com", u)]
    open_map(page, app_url + "/map?kpi=zlb_dau&view=3d&city=330300&lang=en", locations=None)
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
    deck_drawn(page.locator('[data-testid="stDeckGlJsonChart"]').first, _has_shapes)
    shot(page, "count_3d_wenzhou_en")
    assert_only_local(page.requests)


def test_sidebar_navigation_keeps_the_overview_kpi(app_url, page):  # noqa: F811
    """The KPI picked on the overview is the map's KPI after following the sidebar link (and back)."""
    page.goto(app_url + "/?kpi=mobile_handling_rate")
    wait_finished(page)
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="地图").click()
    page.wait_for_url("**/map*", timeout=30_000)
    wait_finished(page)
    page.wait_for_function("() => document.querySelectorAll('.choroplethlocation').length === 90", timeout=30_000)
    assert_no_exception(page)
    assert params(page).get("kpi") == "mobile_handling_rate"
    assert page.locator(".panel-title").filter(has_text="掌上办理率").count() >= 1
    assert_only_local(page.requests)
