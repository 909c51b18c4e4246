"""Browser tests of sign-in and scopes: the sign-in gate, scope refusals by URL, the leader's cockpit.

The real app in headless Chromium: sign in through the form as a county data officer and try to
open another county's pages by URL (refused), as a 丽水 leader ask for 杭州 by URL (refused), as the
province leader see the cockpit; a reload keeps the session (cookie), sign-out ends it.
Screenshots: /tmp/shots/auth/*.png.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests import browser_helpers as tb

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/tmp/shots/auth")


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


def body(pg) -> str:
    return pg.locator('[data-testid="stApp"]').inner_text()


def open_as(pg, url: str, user: str) -> None:
    pg.auto_sign_in = False
    pg.goto(url)
    tb.wait_finished(pg)
    assert tb.at_gate(pg), "the sign-in gate should come first"
    tb.sign_in(pg, user)


def session_cookie(pg, present: bool, timeout_s: float = 30.0) -> dict | None:
    """The browser's cockpit_session cookie once it is there (present) or gone (not present).

    The cookie is HttpOnly, set or cleared by the answer to the page's POST /_cockpit/session: check
    the jar, else wait for that answer and check again (a bounded wait, in case the answer came in
    between the check and the wait)."""
    deadline = time.monotonic() + timeout_s
    while True:
        jar = next((c for c in pg.context.cookies() if c["name"] == "cockpit_session" and c["value"]), None)
        if (jar is not None) == present:
            return jar
        left = deadline - time.monotonic()
        assert left > 0, f"session cookie {'never set' if present else 'not cleared'}"
        with contextlib.suppress(PlaywrightTimeoutError):
            pg.wait_for_event("response", predicate=lambda r: "/_cockpit/session" in r.url,
                              timeout=min(left, 2.0) * 1000)


def test_county_officer_is_refused_another_county(app_url, page):  # noqa: F811
    page.auto_sign_in = False
    page.goto(app_url + "/")
    tb.wait_finished(page)
    assert tb.at_gate(page) and "tile" not in page.content()  # nothing before sign-in
    assert page.get_by_text("officer_330102").first.is_visible()  # demo database: accounts listed
    shot(page, "01_sign_in")
    tb.sign_in(page, "officer_330102")
    tb.assert_no_exception(page)
    nav = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    assert len(nav) == 4, nav  # 首页, 数据报送, 数据质量 and 批示督办 (their county's items) only
    shot(page, "02_officer_home")

    page.goto(app_url + "/data_in?reporter=330106")  # 西湖区: another county, by URL
    tb.wait_finished(page)
    tb.assert_no_exception(page)
    assert page.url.split("?")[0].endswith("/data_in") and "Page not found" not in page.content()
    assert not tb.at_gate(page)  # the cookie kept the session across the reload
    assert page.get_by_text("不在您的权限范围").first.is_visible()
    assert "西湖区" not in body(page).replace("西湖区 不在", "")  # named only in the refusal
    assert "上城区" in body(page)
    shot(page, "03_officer_other_county_refused")

    page.goto(app_url + "/county?county=330106")  # a page the officer's role does not have
    tb.wait_finished(page)
    tb.assert_no_exception(page)
    assert page.get_by_text("Page not found").first.is_visible()  # Streamlit: not registered for this role
    assert "西湖区" not in body(page).replace("西湖区 不在", "")
    assert page.locator(".tile").count() == 0
    shot(page, "04_officer_county_page_refused")
    tb.assert_only_local(page.requests)


def test_leader_sees_the_cockpit(app_url, page):  # noqa: F811
    open_as(page, app_url + "/", "leader")
    tb.assert_no_exception(page)
    assert page.locator(".tile").count() == 10
    assert page.get_by_text("leader · 领导 · 全省").first.is_visible()
    shot(page, "05_leader_cockpit")
    # the session cookie is set by the server: HttpOnly (no page script can read it), SameSite=Strict,
    # not Secure over plain http
    jar = session_cookie(page, present=True)
    assert jar["httpOnly"] and jar["sameSite"] == "Strict" and not jar["secure"]
    assert "cockpit_session" not in page.evaluate("document.cookie")
    page.get_by_role("button", name="退出登录").click()
    tb.wait_finished(page)
    assert tb.at_gate(page) and page.get_by_text("已退出登录").first.is_visible()
    session_cookie(page, present=False)  # cleared by the server too
    page.goto(app_url + "/")
    tb.wait_finished(page)
    assert tb.at_gate(page)  # the session is gone server-side, not only in this tab
    tb.assert_only_local(page.requests)


def test_lishui_leader_gets_nothing_about_hangzhou(app_url, page):  # noqa: F811
    open_as(page, app_url + "/?scope=330100", "lishui_leader")
    tb.wait_finished(page)
    tb.assert_no_exception(page)
    page.goto(app_url + "/?scope=330100")
    tb.wait_finished(page)
    tb.assert_no_exception(page)
    assert page.get_by_text("不在您的权限范围").first.is_visible()
    text = body(page).replace("杭州市 不在", "")
    assert "丽水市" in text and "杭州市" not in text and "上城区" not in text
    shot(page, "06_lishui_leader_refused_hangzhou")
    tb.assert_only_local(page.requests)


def test_sign_out_leaves_no_view_behind(app_url, page):  # noqa: F811
    open_as(page, app_url + "/", "leader")
    page.goto(app_url + "/county?scope=331100")  # the leader looks at 丽水市
    tb.wait_finished(page)
    assert "丽水市" in page.locator(".hdr").first.inner_text()
    page.get_by_role("button", name="退出登录").click()
    tb.wait_finished(page)
    assert tb.at_gate(page)
    assert "?" not in page.url, page.url  # no scope, period or page choice left in the URL
    tb.sign_in(page, "office")  # the next person, a province account, at the same browser
    tb.assert_no_exception(page)
    assert "?" not in page.url and page.url.rstrip("/").endswith(("127.0.0.1:" + app_url.rsplit(":", 1)[1],
                                                                   "/overview")), page.url
    hdr = page.locator(".hdr").first.inner_text()
    assert "全省" in hdr and "丽水市" not in hdr, hdr
    shot(page, "07_after_sign_out_next_user_default_view")


def test_a_link_left_by_someone_else_is_dropped_quietly(app_url, page, tmp_path_factory):  # noqa: F811
    from auth import audit
    from store import Store
    from tests.app_helpers import demo_db_url

    store = Store(demo_db_url(tmp_path_factory))
    before = len(audit.read(store, user="officer_330102", action="denied"))
    # an analyst's comparison link (another city's counties, the province as peers) opened by a county
    # officer before signing in
    open_as(page, app_url + "/compare?counties=330106,330203&peers=province&mode=value", "officer_330102")
    tb.assert_no_exception(page)
    assert "无权访问" not in body(page) and "不在您的权限范围" not in body(page)
    assert "330106" not in page.url and "330203" not in page.url, page.url
    assert len(audit.read(store, user="officer_330102", action="denied")) == before  # not the officer's attempt
    shot(page, "08_officer_inherited_link_dropped")
    # the same request made deliberately, signed in, is refused and audited as before
    page.goto(app_url + "/data_in?reporter=330106")
    tb.wait_finished(page)
    assert page.get_by_text("不在您的权限范围").first.is_visible()
    assert len(audit.read(store, user="officer_330102", action="denied")) == before + 1
    store.engine.dispose()
