"""Browser test of 批示督办, the real app in headless Chromium on a private copy of the
demo database: the province leader writes an instruction from the 一网通办率 tile on 上城区's figure,
the 上城区 data officer answers it (feedback, attachment descriptions, done), the leader closes the
loop; the tile's ◆ marker follows the item, the county profile and the trend show it, and no request
leaves 127.0.0.1. Screenshots: /tmp/shots/followup/*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.app_server import free_port, start_app, stop_app
from followup import service as fs
from tests import browser_helpers as tb
from tests.app_helpers import demo_db_url
from tests.helpers import copy_sqlite

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/tmp/shots/followup")
KPI = "online_handling_rate"


@pytest.fixture(scope="module")
def fu_app(tmp_path_factory):
    """The app on its own copy of the demo database (the items written here stay here)."""
    tb.require_chromium()
    dst = tmp_path_factory.mktemp("fu_browser") / "followup.sqlite"
    copy_sqlite(demo_db_url(tmp_path_factory), dst)
    db = f"sqlite:///{dst}"
    port = free_port()
    proc = start_app("server.py", port, {"DATABASE_URL": db})
    yield f"http://127.0.0.1:{port}", db
    stop_app(proc)


@pytest.fixture
def page(browser):
    """A plain recording page: these tests sign in as several people themselves."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = tb.recording_page(ctx)
    yield pg
    ctx.close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


def open_as(pg, url: str, user: str) -> None:
    pg.context.clear_cookies()
    pg.goto(url)
    tb.wait_finished(pg)
    assert tb.at_gate(pg)
    tb.sign_in(pg, user)
    tb.assert_no_exception(pg)


def body(pg) -> str:
    return pg.locator('[data-testid="stApp"]').inner_text()


def test_leader_instructs_county_answers_leader_closes(fu_app, page):
    url, db = fu_app
    open_as(page, url + "/", "leader")
    assert page.locator(".tile").count() == 10
    page.locator(f".st-key-fu_tile_{KPI} button").first.click()
    dialog = page.locator('[data-testid="stDialog"]')
    dialog.wait_for(timeout=30_000)
    tb.wait_finished(page)
    assert "批示时的数据" in dialog.inner_text()
    dialog.locator('[data-testid="stSelectbox"]').first.click()  # the figure: 上城区's, not the province's
    page.keyboard.type("上城区")
    page.keyboard.press("Enter")
    tb.wait_finished(page)
    assert "上城区 · 2022-03" in dialog.inner_text().replace("\\", "")
    text = "请上城区分析一网通办率变化原因，两周内报送整改措施"
    dialog.locator("textarea").fill(text)
    dialog.locator("textarea").press("Control+Enter")
    tb.wait_finished(page)
    shot(page, "01_leader_dialog")
    dialog.get_by_role("button", name="签发批示").click()
    tb.wait_finished(page)
    page.get_by_text("批示已签发").first.wait_for(timeout=30_000)
    tb.assert_no_exception(page)
    (item,) = fs.list_for(_store(db), None)
    assert (item.figure.region, item.owner_code, item.text, item.status) == ("330102", "330102", text, "open")
    page.get_by_text("◆ 批示·待办理").first.wait_for(timeout=30_000)  # the tiles are drawn again after the dialog
    tb.wait_finished(page)
    assert page.get_by_text("◆ 批示·待办理").count() == 1  # under the one tile written on
    assert page.get_by_text("◆ 批示·待办理").first.is_visible()
    shot(page, "02_leader_tile_marker")

    open_as(page, url + f"/followup?item={item.id}", "officer_330102")
    assert text in body(page) and "一网通办率" in body(page)
    page.get_by_label("反馈内容").fill("已召开专题会，系统切换导致线下办件增多，整改措施见附件")
    page.get_by_label("附件说明（每行一项，如：整改方案.docx）").fill("整改措施.docx\n专题会纪要.pdf")
    shot(page, "03_officer_answer")
    page.get_by_role("button", name="标记办结").click()
    tb.wait_finished(page)
    tb.assert_no_exception(page)
    assert "报办结" in body(page) and "整改措施.docx" in body(page)
    assert fs.get(_store(db), item.id).status == "done"
    shot(page, "04_officer_done")

    open_as(page, url + f"/followup?item={item.id}", "leader")
    page.get_by_label("闭环意见（可选） / 退回理由").fill("同意，持续跟踪")
    page.get_by_role("button", name="确认闭环").click()
    tb.wait_finished(page)
    tb.assert_no_exception(page)
    assert fs.get(_store(db), item.id).status == "closed"
    assert "已闭环" in body(page) and "确认闭环" in body(page)
    shot(page, "05_leader_closed")

    page.goto(url + "/")
    tb.wait_finished(page)
    assert page.get_by_text("◆ 批示·已闭环").first.is_visible()
    shot(page, "06_tile_closed_marker")
    page.goto(url + f"/county?county=330102&tkpi={KPI}")
    tb.wait_finished(page)
    tb.assert_no_exception(page)
    assert "本地批示（1 条）" in body(page)
    assert page.locator("g.textpoint text", has_text=f"#{item.id}").count() == 1  # ◆ on the trend's recorded point
    shot(page, "07_county_profile")
    tb.assert_only_local(page.requests)


def _store(db: str):
    from store import Store

    return Store(db)
