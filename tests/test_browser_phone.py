"""Browser tests of the phone layout (掌上驾驶舱) at 390×844 and 360×780: chosen by a phone's user agent
(浙政钉/DingTalk) or ?view=phone; no page scrolls sideways (overview, KPI detail, county profile,
批示督办); headline tiles two per row; touch targets at least 44 px; a tile opens its KPI's detail and
the back control returns; the sidebar starts closed; the heading is whole; 问数 answers on the phone.
The layout tests run in the dark and the light theme, and axe-core audits each screen they measure.
Screenshots go to COCKPIT_SHOTS (default /tmp/cockpit-shots). Marked `browser`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_helpers import (
    THEMES,
    assert_accessible,
    assert_no_exception,
    assert_only_local,
    assert_theme,
    at_gate,
    next_frame,
    recording_page,
    sign_in,
    themed_context,
    wait_finished,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("COCKPIT_SHOTS", "/tmp/cockpit-shots"))
DINGTALK_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/1 TaurusApp/1.0")
VIEWPORTS = [(390, 844), (360, 780)]
TOUCH = 44

# what sticks out sideways: the document, Streamlit's scrolling main, and any element in the page whose
# right edge passes the screen without a scrolling or clipping box of its own between it and the page
OVERFLOW_JS = """() => {
  const w = window.innerWidth, bad = [];
  const se = document.scrollingElement;
  if (se.scrollWidth > w) bad.push('document ' + se.scrollWidth + ' > ' + w);
  const main = document.querySelector('[data-testid="stMain"]');
  if (main && main.scrollWidth > main.clientWidth + 1) bad.push('main ' + main.scrollWidth);
  const root = document.querySelector('[data-testid="stMainBlockContainer"]');
  for (const el of (root ? root.querySelectorAll('*') : [])) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= w + 1) continue;
    let clipped = false;
    for (let a = el.parentElement; a && a !== root; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
    }
    if (!clipped) bad.push((el.className || el.tagName).toString().slice(0, 60) + ' right=' + Math.round(r.right));
    if (bad.length > 5) break;
  }
  return bad;
}"""


@pytest.fixture(params=VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def phone(request, browser, app_url, theme):
    """A phone in 浙政钉 in `theme`, signed in as the reform office; `phone.size` is its viewport."""
    w, h = request.param
    ctx = themed_context(browser, app_url, theme, viewport={"width": w, "height": h}, user_agent=DINGTALK_UA,
                         is_mobile=True, has_touch=True, device_scale_factor=2)
    pg = recording_page(ctx)
    pg.size = (w, h)
    pg.theme = theme
    pg.goto(app_url + "/")
    wait_finished(pg)
    if at_gate(pg):
        sign_in(pg, "office")
    assert_theme(pg, theme)
    yield pg
    ctx.close()


def _open(pg, url: str) -> None:
    pg.goto(url)
    wait_finished(pg)
    assert_no_exception(pg)


def _no_overflow(pg, what: str) -> None:
    bad = pg.evaluate(OVERFLOW_JS)
    assert not bad, f"{what} at {pg.size}: scrolls sideways: {bad}"


def _box(loc) -> dict:
    b = loc.bounding_box()
    assert b is not None
    return b


def _shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    next_frame(pg)
    pg.screenshot(path=str(SHOTS / f"phone_{name}_{pg.size[0]}_{pg.theme}.png"))


def _accessible(pg, what: str) -> None:
    assert_accessible(pg, f"{what} at {pg.size[0]}x{pg.size[1]}, {pg.theme} theme")


@pytest.mark.parametrize("theme", THEMES)
def test_phone_overview_layout(phone, app_url):
    pg = phone
    w, _ = pg.size
    pg.wait_for_selector(".ph-tile")
    _no_overflow(pg, "overview")
    # the sidebar starts closed, its control left for the menu
    sidebar = pg.locator('[data-testid="stSidebar"]')
    assert sidebar.count() == 0 or sidebar.get_attribute("aria-expanded") == "false" or _box(sidebar)["x"] + \
        _box(sidebar)["width"] <= 1
    # the heading is whole: below Streamlit's header bar, inside the screen, not cut by an ellipsis
    title = pg.locator(".ph-title")
    tb, header = _box(title), pg.locator('header[data-testid="stHeader"]')
    if header.count():
        assert tb["y"] >= _box(header)["y"] + _box(header)["height"] - 1
    assert tb["x"] >= 0 and tb["x"] + tb["width"] <= w
    assert pg.evaluate("() => { const e = document.querySelector('.ph-title'); return e.scrollWidth <= e.clientWidth }")
    assert pg.locator(".ph-chip").count() >= 2  # period and scope
    # headline tiles two per row, each a touch target
    tiles = pg.locator(".ph-tile")
    n = tiles.count()
    assert n >= 4
    boxes = [_box(tiles.nth(i)) for i in range(n)]
    for i in range(0, n - 1, 2):
        a, b = boxes[i], boxes[i + 1]
        assert abs(a["y"] - b["y"]) <= 2, f"tiles {i} and {i + 1} are not on one row"
        assert b["x"] > a["x"] + a["width"] - 1
    assert boxes[2]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1, "a third tile on the first row"
    for b in boxes:
        assert b["height"] >= TOUCH and b["width"] >= TOUCH and b["x"] >= 0 and b["x"] + b["width"] <= w + 0.5
    # the systems swipe sideways inside their own row (the page itself does not)
    row = pg.locator(".ph-sys")
    assert row.evaluate("e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'auto'")
    assert _box(row)["width"] <= w
    # the map fits the width; alerts are links of touch size
    pg.locator('[data-testid="stPlotlyChart"]').first.scroll_into_view_if_needed()
    mb = _box(pg.locator('[data-testid="stPlotlyChart"]').first)
    assert mb["x"] >= 0 and mb["x"] + mb["width"] <= w + 0.5
    links = pg.locator('[data-testid="stPageLink"] a')
    assert links.count() >= 1
    for i in range(min(links.count(), 6)):
        assert _box(links.nth(i))["height"] >= TOUCH - 0.5
    _no_overflow(pg, "overview (scrolled)")
    title.scroll_into_view_if_needed()
    _shot(pg, "overview")
    _accessible(pg, "phone overview")
    assert_only_local(pg.requests)


@pytest.mark.parametrize("theme", THEMES)
def test_tile_opens_its_detail_and_back_returns(phone, app_url):
    pg = phone
    tile = pg.locator(".ph-tile").nth(1)
    kpi = tile.get_attribute("data-kpi")
    tile.click()
    pg.wait_for_url("**/kpi?**", timeout=30_000)
    wait_finished(pg)
    assert_no_exception(pg)
    big = pg.locator(".ph-big")
    big.wait_for(state="visible")
    assert big.get_attribute("data-kpi") == kpi
    assert pg.locator('[data-testid="stPlotlyChart"]').count() >= 1  # the trend with its target
    assert pg.locator(".ph-list a").count() >= 3  # the regions ranked
    assert pg.locator(".ph-def li").count() >= 3  # the definition
    assert pg.get_by_text("写批示").count() >= 1  # office may instruct on the province's figure
    _no_overflow(pg, "kpi detail")
    _shot(pg, "kpi")
    _accessible(pg, "kpi detail")
    back = pg.locator('[data-testid="stPageLink"] a', has_text="返回总览")
    assert _box(back)["height"] >= TOUCH - 0.5 and _box(back)["width"] >= TOUCH
    back.click()
    pg.wait_for_selector(".ph-tile", timeout=30_000)
    wait_finished(pg)
    assert "/kpi" not in pg.url
    _no_overflow(pg, "overview after back")


@pytest.mark.parametrize("theme", THEMES)
def test_county_profile_and_followup_fit_the_phone(phone, app_url):
    pg = phone
    for path, name in (("/county?county=330102", "county"), ("/followup", "followup"),
                       ("/kpi?kpi=online_handling_rate&region=330102", "kpi_county")):
        _open(pg, app_url + path)
        _no_overflow(pg, path)
        _shot(pg, name)
        _accessible(pg, path)


def test_view_parameter_chooses_the_layout(browser, app_url):
    """?view=phone gives a desktop browser the phone layout; ?view=desktop takes a phone back to the desk."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    try:
        pg.goto(app_url + "/")
        wait_finished(pg)
        if at_gate(pg):
            sign_in(pg, "office")
        pg.wait_for_selector(".tile")
        assert pg.locator(".ph-tile").count() == 0  # a desktop user agent: the desktop layout
        _open(pg, app_url + "/?view=phone")
        pg.wait_for_selector(".ph-tile")
        href = pg.locator(".ph-tile").first.get_attribute("href")
        assert "view=phone" in href  # a tile's link keeps the layout chosen by hand
        _open(pg, app_url + "/?view=desktop")
        pg.wait_for_selector(".tile")
        assert pg.locator(".ph-tile").count() == 0
    finally:
        ctx.close()


def test_ask_on_the_phone_layout(phone, app_url):
    """问数 on the phone overview: a figure, and a link that opens the page showing it."""
    pg = phone
    box = pg.locator('[data-testid="stExpander"]', has_text="问数").first
    box.locator("summary").click()
    field = box.locator('input[type="text"]')
    field.wait_for(state="visible")
    field.fill("杭州一网通办率是多少")
    field.press("Enter")
    pg.wait_for_selector(".ask-figure", timeout=60_000)
    wait_finished(pg)
    assert_no_exception(pg)
    assert box.locator(".ask-figure b").first.inner_text().strip().endswith("%")
    _no_overflow(pg, "overview with an answer")
    _shot(pg, "ask")
    link = box.locator('[data-testid="stPageLink"] a', has_text="打开对应页面")
    assert link.count() == 1 and _box(link)["height"] >= TOUCH - 0.5
    link.click()
    pg.wait_for_url("**/system?**", timeout=30_000)
    wait_finished(pg)
    assert_no_exception(pg)
    assert "system=government" in pg.url and "city=330100" in pg.url
    _no_overflow(pg, "the answer's page")
