"""Browser test of 问数: on the overview at 1920×1080 and on a phone (390×844) a typed question is
answered with a figure and a link; following the link opens the page view showing the same figure.
Marked `browser` (see tests/test_browser_app.py for the server and sign-in pattern)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_helpers import (
    assert_no_exception,
    assert_only_local,
    at_gate,
    recording_page,
    sign_in,
    wait_finished,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("COCKPIT_SHOTS", "/tmp/cockpit-shots"))
QUESTION = "杭州一网通办率是多少"


def _ask_and_follow(pg, app_url: str, name: str) -> None:
    pg.goto(app_url + "/")
    wait_finished(pg)
    if at_gate(pg):  # a fresh browser context: sign in through the form
        sign_in(pg, "office")
    box = pg.locator('[data-testid="stExpander"]', has_text="问数").first
    box.locator("summary").click()
    field = box.locator('input[type="text"]')
    field.wait_for(state="visible")
    field.fill(QUESTION)
    field.press("Enter")
    pg.wait_for_selector(".ask-figure", timeout=60_000)
    wait_finished(pg)
    assert_no_exception(pg)
    assert "指标：一网通办率（办件）" in box.inner_text() and "地区：杭州市" in box.inner_text()
    figure = box.locator(".ask-figure b").first.inner_text().strip()
    assert figure.endswith("%")
    link = box.locator('[data-testid="stPageLink"] a', has_text="打开对应页面")
    assert link.count() == 1
    box.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"ask_{name}.png"), full_page=False)
    link.click()
    pg.wait_for_url("**/system?**", timeout=30_000)
    wait_finished(pg)
    assert_no_exception(pg)
    assert "system=government" in pg.url and "city=330100" in pg.url  # defaults (KPI, period) leave the URL
    # the same figure on the page: the KPI's row of Hangzhou's table (a canvas grid; its cells are in the
    # DOM for screen readers)
    row = pg.locator('[role="row"]', has_text="一网通办率（办件）").filter(has=pg.get_by_text(figure, exact=True))
    row.first.wait_for(state="attached", timeout=30_000)
    assert pg.get_by_text("杭州市").count()
    pg.screenshot(path=str(SHOTS / f"ask_{name}_target.png"), full_page=False)
    assert_only_local(pg.requests)


def test_ask_on_the_overview_desktop(app_url, page):
    _ask_and_follow(page, app_url, "desktop")


def test_ask_on_the_phone(app_url, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                              has_touch=True)
    pg = recording_page(ctx)
    try:
        _ask_and_follow(pg, app_url, "phone")
    finally:
        ctx.close()
