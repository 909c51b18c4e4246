"""Browser tests of the data pages in headless Chromium: upload a good report, read the preview,
commit, roll back; upload a bad one and read the Chinese row/column findings with nothing changed;
the jobs and data-quality pages; and a PostgreSQL outage through a cut proxy (banner, then data
again without restarting the app). Screenshots go to /tmp/shots/data/.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from bench.app_server import free_port, start_app, stop_app
from ingest.templates import fill_template, reported_measures, sample_report, template_bytes
from metrics.geography import geography
from scheduler.history import History
from scheduler.lock import Lease
from store import Store
from store.schema_ingest import import_rejection
from store.store import Batch
from tests.app_helpers import demo_db_url
from tests.browser_helpers import assert_no_exception, assert_only_local, next_frame, require_chromium, wait_finished
from tests.helpers import TcpProxy, overwrite_cells, scratch_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/tmp/shots/data")
COUNTY, MONTH = "330282", "2022-03"  # 慈溪市 has not reported 2022-03 in the demo data


def shot(pg, name: str, at=None, block: str = "start") -> None:
    """A screenshot; `at` (a locator) is scrolled to the top (or `block`) of the view first (the
    main area scrolls inside the page, so a full-page shot would not show more)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if at is not None:
        at.first.evaluate(f"e => e.scrollIntoView({{block: '{block}', behavior: 'instant'}})")
        next_frame(pg)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def data_db(tmp_path_factory) -> str:
    """A private copy of the demo database: these tests import and roll back."""
    src = demo_db_url(tmp_path_factory).removeprefix("sqlite:///")
    dst = tmp_path_factory.mktemp("data-app") / "cockpit.sqlite"
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    with b:
        a.backup(b)
    a.close()
    b.close()
    return f"sqlite:///{dst}"


@pytest.fixture(scope="module")
def data_url(data_db):
    require_chromium()
    port = free_port()
    proc = start_app("server.py", port, {"DATABASE_URL": data_db})
    yield f"http://127.0.0.1:{port}"
    stop_app(proc)


def report_file(url: str, tmp: Path, bad: dict[str, object] | None = None) -> Path:
    """COUNTY's template for MONTH filled with last month's figures 1% up (passes every check);
    `bad` overwrites cells by measure code."""
    s = Store(url)
    prev = s.current_values([m.code for m in reported_measures()], dt.date(2022, 2, 1), dt.date(2022, 2, 1), [COUNTY])
    s.engine.dispose()
    data = fill_template(template_bytes(COUNTY, MONTH), {m: round(v * 1.01) for m, v in zip(
        prev["measure_code"], prev["value"], strict=True)})
    if bad:
        data = overwrite_cells(data, bad)
    path = tmp / f"{COUNTY}_{MONTH}.xlsx"
    path.write_bytes(data)
    return path


def counts(url: str) -> dict[str, int]:
    s = Store(url)
    out = s.counts()
    with s.engine.connect() as conn:
        out["import_rejection"] = conn.execute(sa.select(sa.func.count()).select_from(import_rejection)).scalar()
    s.engine.dispose()
    return out


def open_reporting(pg, base: str, who: str) -> None:
    pg.goto(f"{base}/data_in?reporter={COUNTY}&month={MONTH}")
    wait_finished(pg)
    assert_no_exception(pg)
    box = pg.get_by_label("代报人（可选：替他人报送时填写姓名，记入批次备注）")
    box.fill(who)
    box.press("Enter")
    wait_finished(pg)


def upload(pg, path: Path) -> None:
    pg.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    pg.get_by_text(f"文件 {path.name}").wait_for(timeout=30_000)  # the page has read it
    wait_finished(pg)
    assert_no_exception(pg)


def test_upload_preview_commit_and_rollback(data_url, data_db, page, tmp_path):
    before = counts(data_db)
    open_reporting(page, data_url, "张三")
    shot(page, "01_reporting_page")
    upload(page, report_file(data_db, tmp_path))
    page.get_by_text("③ 变更预览").wait_for(timeout=30_000)
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    n = len(reported_measures())  # every measure a county reports, all new for the month
    assert any("新增" in m and str(n) in m for m in metrics), metrics
    assert page.get_by_text(f"预览：将新增 {n} 个").is_visible()
    assert counts(data_db) == before  # the preview wrote nothing
    commit = page.get_by_role("button", name=f"确认导入（{n} 个数值）")
    shot(page, "02_preview", commit, block="end")

    commit.click()
    page.get_by_text("已导入：批次").wait_for(timeout=30_000)
    wait_finished(page)
    assert_no_exception(page)
    s = Store(data_db)
    with s.engine.connect() as conn:
        b = conn.execute(sa.text("SELECT * FROM import_batch ORDER BY id DESC LIMIT 1")).mappings().one()
    # the signed-in account is the submitter of record; the name typed is only the person reported for
    assert b["submitted_by"] != "张三" and b["note"] == "代报人 on behalf of: 张三"
    assert b["region_code"] == COUNTY and b["n_rows"] == n and len(b["checksum"]) == 64
    assert f"批次 {b['id']}" in page.get_by_text("已导入：批次").inner_text()
    shot(page, "03_committed")
    shot(page, "03b_value_history", page.get_by_text("⑤ 数值历史"))

    page.get_by_role("button", name="撤销批次").click()
    page.get_by_text(f"确认撤销批次 {b['id']}").wait_for(timeout=30_000)
    wait_finished(page)
    shot(page, "04_rollback_confirm", page.get_by_role("button", name="确认撤销"), block="center")
    page.get_by_role("button", name="确认撤销").click()
    page.get_by_text(f"批次 {b['id']} 已撤销").wait_for(timeout=30_000)
    wait_finished(page)
    assert_no_exception(page)
    assert s.batch(b["id"])["status"] == "rolled_back"
    s.engine.dispose()
    shot(page, "05_rolled_back")
    assert_only_local(page.requests)


def test_bad_file_shows_chinese_row_and_column_and_changes_nothing(data_url, data_db, page, tmp_path):
    code = reported_measures()[2].code  # column F
    path = report_file(data_db, tmp_path, bad={code: "约12个", "gov_cases": -3})
    before = counts(data_db)
    open_reporting(page, data_url, "李四")
    upload(page, path)
    page.get_by_text("未导入：发现").wait_for(timeout=30_000)
    findings = page.locator('[data-testid="stTable"]').first.inner_text()
    assert "第 7 行 F 列" in findings and "不是数字" in findings, findings
    assert "负数" in findings
    assert page.get_by_role("button", name="确认导入").count() == 0
    after = counts(data_db)
    assert {k: v for k, v in after.items() if k != "import_rejection"} == {
        k: v for k, v in before.items() if k != "import_rejection"}
    assert after["import_rejection"] == before["import_rejection"] + 1  # the attempt is logged, nothing else
    shot(page, "06_bad_file")
    assert_only_local(page.requests)


def test_jobs_page(data_url, data_db, page):
    s = Store(data_db)
    h = History(s.engine, "cockpit-host:4242:a1b2c3")
    t0 = dt.datetime.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    h.finish(None, "drop_folder", 1, t0, "succeeded", 1, {"imported": 1, "rejected": 1})
    h.finish(None, "rollup_refresh", 1, t0, "retrying", error="OperationalError: server closed the connection unexpectedly")
    h.finish(None, "rollup_refresh", 2, t0 + dt.timedelta(seconds=10), "succeeded", 0, {"pairs_checked": 12})
    h.finish(None, "freshness", 1, t0, "succeeded", 2, {"period": "2026-10", "opened": 2})
    assert Lease(s.engine, "cockpit-host:4242:a1b2c3", ttl=900).acquire()
    s.engine.dispose()
    page.goto(data_url + "/jobs")
    wait_finished(page)
    assert_no_exception(page)
    assert page.get_by_text("调度器运行中").is_visible()
    assert page.get_by_text("失败与重试记录").is_visible()
    shot(page, "07_jobs")
    page.goto(data_url + "/jobs?lang=en")
    wait_finished(page)
    assert page.get_by_text("Scheduler running").is_visible()
    shot(page, "08_jobs_en")
    assert_only_local(page.requests)


def test_quality_page(data_url, page):
    page.goto(data_url + "/quality")
    wait_finished(page)
    assert_no_exception(page)
    assert page.get_by_text("报送情况：90 个区县 × 12 个月").is_visible()
    assert page.get_by_text("催报清单").first.is_visible()
    assert page.locator('[data-testid="stDownloadButton"]').count() >= 4
    shot(page, "09_quality")
    tab = page.get_by_role("tab", name="催报清单")
    shot(page, "10_quality_chase", tab)
    page.get_by_role("tab", name="问题明细与原因").click()
    wait_finished(page)
    shot(page, "10b_quality_detail", tab)
    page.get_by_text("只看有问题的区县").click()
    wait_finished(page)
    assert_no_exception(page)
    shot(page, "10c_quality_only_problems")
    page.goto(data_url + "/quality?city=330200&window=6&lang=en")
    wait_finished(page)
    assert_no_exception(page)
    n = len(geography().counties_of("330200"))
    assert page.get_by_text(f"Reporting: {n} counties × 6 months").is_visible()
    shot(page, "11_quality_en_ningbo")
    assert_only_local(page.requests)


@pytest.mark.server
def test_postgresql_outage_banner_and_recovery_without_restart(postgresql_url, page):
    store = scratch_store(postgresql_url)
    frames = [pd.DataFrame({"region_code": c, "measure_code": list(v), "obs_date": dt.date(2026, 9, 1),
                            "value": list(v.values())})
              for c in geography().counties for v in [sample_report(c, "2026-09")]]
    store.write_batch(Batch(source="import", note="browser outage test"), pd.concat(frames, ignore_index=True))
    from auth.accounts import create_user  # not a demo database: one real account, which the page fixture uses
    from store.schema_auth import app_user

    with store.engine.begin() as conn:
        conn.execute(app_user.delete())  # other tests' (demo) accounts on the shared server database
    create_user(store, "office", "office-demo", "office", by="test")
    store.engine.dispose()
    real = sa.engine.make_url(postgresql_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    via = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    port = free_port()
    proc = start_app("server.py", port, {"DATABASE_URL": via})
    base = f"http://127.0.0.1:{port}"
    try:
        page.goto(base + "/county?county=330102&period=2026-09")
        wait_finished(page)
        assert_no_exception(page)
        page.get_by_text("上城区 区县画像").wait_for(timeout=30_000)
        shot(page, "12_before_outage")

        proxy.down()
        page.reload()
        wait_finished(page)
        banner = page.get_by_text("数据库暂时无法连接")
        banner.wait_for(timeout=30_000)
        assert_no_exception(page)
        assert "OperationalError" in banner.inner_text() and "postgres@" not in page.content()
        assert page.get_by_text("上城区 区县画像").count() == 0
        page.get_by_text("正在重试").wait_for(timeout=20_000)  # the retry fragment is alive
        shot(page, "13_outage_banner")

        proxy.up()  # no reload, no restart: the retry fragment notices and reruns the page
        page.get_by_text("上城区 区县画像").wait_for(timeout=40_000)
        wait_finished(page)
        assert_no_exception(page)
        assert page.get_by_text("数据库暂时无法连接").count() == 0
        assert "/county" in page.url and proc.poll() is None
        shot(page, "14_recovered")
        assert_only_local(page.requests)
    finally:
        stop_app(proc)
        proxy.down()
