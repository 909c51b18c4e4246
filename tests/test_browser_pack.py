"""Browser tests of the meeting pack: presentation mode advanced by the keyboard, and the pack page's
freeze and download. Screenshots go to /tmp/shots/pack/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_helpers import assert_no_exception, assert_only_local, wait_finished

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = Path("/tmp/shots/pack")


def _open(page, url: str) -> None:
    """Open `url`, signing in as the reform office when the sign-in form shows."""
    page.goto(url)
    wait_finished(page)
    form = page.locator(".st-key-auth_username input")
    if form.count():
        form.fill("office")
        page.locator(".st-key-auth_password input").fill("office-demo")
        page.get_by_role("button", name=re.compile("登录|Sign in")).first.click()
        wait_finished(page)
    path = url.split("/")[-1].split("?")[0]
    if path and f"/{path}" not in page.url:  # signed in on the start page: go on in the app
        link = page.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]').first
        link.wait_for(timeout=120_000)
        link.click()
        page.wait_for_url(f"**/{path}*", timeout=120_000)
        wait_finished(page, timeout=120_000)


def _slide(page) -> int:
    return int(page.locator('[data-testid="pack-slide"]').first.get_attribute("data-slide"))


def test_presentation_mode_keyboard(app_url, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    _open(page, f"{app_url}/present?slide=1")
    page.wait_for_selector('[data-testid="pack-slide"]', timeout=60_000)
    assert _slide(page) == 1
    assert page.locator('[data-testid="stSidebar"]').is_hidden()  # full screen: no app chrome
    page.screenshot(path=str(SHOTS / "present_01_cover.png"))
    page.locator('[data-testid="pack-slide"]').first.click()
    for key, want in (("ArrowRight", 2), ("PageDown", 3), ("ArrowRight", 4), ("PageUp", 3), ("ArrowLeft", 2)):
        page.keyboard.press(key)
        page.wait_for_function(f"() => document.querySelector('[data-testid=\"pack-slide\"]')"
                               f"?.getAttribute('data-slide') === '{want}'", timeout=30_000)
        wait_finished(page)
        assert _slide(page) == want, key
    assert "slide=2" in page.url
    page.screenshot(path=str(SHOTS / "present_02_kpis.png"))
    # deep link to a slide: the map and the league tables
    n = None
    for target in (3, 15, 19):
        _open(page, f"{app_url}/present?slide={target}")
        page.wait_for_selector('[data-testid="pack-slide"]', timeout=60_000)
        n = _slide(page)
        page.screenshot(path=str(SHOTS / f"present_{target:02d}.png"))
    assert n is not None
    assert_no_exception(page)
    assert_only_local(page.requests)


def test_pack_page_freeze_and_download(app_url, page, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    _open(page, f"{app_url}/pack")
    page.wait_for_selector(".st-key-pack_freeze button", timeout=120_000)
    page.screenshot(path=str(SHOTS / "pack_opened.png"), full_page=True)
    confirm = page.locator('[class*="st-key-pack_force_"] label')
    if confirm.count():  # a period short of reports: the freeze waits for the confirmation that names them
        assert page.locator(".st-key-pack_freeze button").is_disabled()
        assert "数据未齐" in page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
        confirm.first.click()
        wait_finished(page)
        page.wait_for_function("() => !document.querySelector('.st-key-pack_freeze button').disabled", timeout=30_000)
    page.locator(".st-key-pack_freeze button").click()
    page.wait_for_selector('[data-testid="stAlertContentSuccess"]', timeout=60_000)
    wait_finished(page)
    assert "#" in page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    page.screenshot(path=str(SHOTS / "pack_frozen.png"), full_page=True)
    page.locator(".st-key-pack_build button").click()
    page.wait_for_selector(".st-key-pack_dl_pptx button", timeout=120_000)
    wait_finished(page)
    for key, suffix in (("pack_dl_pptx", ".pptx"), ("pack_dl_pdf", ".pdf")):
        with page.expect_download() as dl:
            page.locator(f".st-key-{key} button").click()
        path = tmp_path / dl.value.suggested_filename
        dl.value.save_as(path)
        assert path.suffix == suffix and path.stat().st_size > 50_000 and "freeze" in path.name
    page.screenshot(path=str(SHOTS / "pack_built.png"), full_page=True)
    assert_no_exception(page)
    assert_only_local(page.requests)
