"""AppTest tests of the data pages: reporting (template, upload, findings, preview, commit,
rollback, value history), scheduled jobs, data quality, and the database-unreachable banner with
recovery without a restart; plus the plain functions behind the jobs page and the reporting page.

Pages that write get their own copy of the demo database (the shared one stays as other tests
expect it).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest
import sqlalchemy as sa

from bench.app_server import free_port
from ingest.importer import ImportOptions, analyse
from ingest.templates import reported_measures, sample_report
from ingest.views import changes_frame, issues_frame, value_history
from metrics.catalogue import catalogue
from metrics.geography import geography
from scheduler import status
from scheduler.history import History
from scheduler.lock import Lease
from scheduler.service import Config
from store import Store
from store.schema_ingest import import_rejection
from store.schema_jobs import freshness_alert, job_run
from store.store import Batch
from tests.app_helpers import REPORT_MONTH as MONTH
from tests.app_helpers import filled_report, html_text, plausible, run, stored, upload
from tests.helpers import TcpProxy, scratch_store

OVERDUE = "330282"  # 慈溪市: no report for 2022-03 in the demo data
REPORTED = "330102"  # 上城区: reported 2022-03


def frame_text(at) -> str:
    return "\n".join(e.value.to_csv() for e in at.dataframe)


# -- reporting page ----------------------------------------------------------------------------------------
def test_data_in_page_renders(app_db, use_db):
    use_db(app_db)
    at = run("pages/data_in.py", reporter=OVERDUE, month=MONTH)
    assert at.selectbox(key="reporter").value == OVERDUE and at.selectbox(key="month").value == MONTH
    dl = [e for e in at.get("download_button") if "模板" in e.proto.label]
    assert dl and "慈溪市" in dl[0].proto.label
    assert len(at.file_uploader) == 1 and set(at.file_uploader[0].allowed_type) >= {".xlsx", ".csv"}
    assert "330282_202202.xlsx" in frame_text(at)  # the county's batch history (demo batches)
    at = run("pages/data_in.py", lang="en")
    assert at.selectbox(key="reporter").value == "office"
    assert any("Download template" in e.proto.label for e in at.get("download_button"))
    assert at.selectbox(key="reporter").label == "Reporting unit"


def test_upload_preview_commit_and_rollback(db_copy, use_db):
    use_db(db_copy)
    before = Store(db_copy).counts()
    data = filled_report(OVERDUE, plausible(db_copy, OVERDUE))
    at = run("pages/data_in.py", reporter=OVERDUE, month=MONTH)
    upload(at, "330282_2022-03.xlsx", data)
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    n = len(reported_measures())  # every measure a county reports, all new for the month
    assert metrics == {"新增": str(n), "修改": "0", "未变": "0"}
    preview = next(d.value for d in at.dataframe if "原值" in d.value.columns)
    assert len(preview) == n and set(preview["变更"]) == {"新增"} and "新值" in preview.columns
    assert Store(db_copy).counts() == before  # a preview writes nothing
    commit = at.button(key="data_commit")
    assert not commit.disabled and str(n) in commit.label
    commit.click().run()
    assert not at.exception
    assert at.success and "已导入：批次" in at.success[0].value
    s = Store(db_copy)
    b = s.engine.connect().execute(sa.text("SELECT * FROM import_batch ORDER BY id DESC LIMIT 1")).mappings().one()
    assert b["submitted_by"] == "office" and b["note"] == "代报人 on behalf of: 张三"  # the account, and for whom
    assert b["file_name"] == "330282_2022-03.xlsx" and b["region_code"] == OVERDUE
    assert b["checksum"] == hashlib.sha256(data).hexdigest() and b["n_rows"] == n and b["period"] == MONTH
    assert f"{b['id']}" in at.success[0].value
    assert len(at.file_uploader) == 1 and at.file_uploader(key="data_upload_1")  # a fresh, empty uploader
    assert "330282_2022-03.xlsx" in frame_text(at)  # the batch in the history table

    # rollback: pick (the newest batch is preselected), ask, confirm
    assert at.selectbox(key="data_rb_id").value == b["id"]
    at.button(key="data_rb").click().run()
    assert any(str(b["id"]) in w.value and "确认撤销" in w.value for w in at.warning)
    at.button(key="data_rb_yes").click().run()
    assert not at.exception
    assert any("已撤销" in x.value for x in at.success)
    assert s.batch(b["id"])["status"] == "rolled_back"
    assert stored(db_copy, OVERDUE) == {}  # back to nothing reported
    s.engine.dispose()


def test_correction_preview_shows_old_and_new_and_history_keeps_both(db_copy, use_db):
    use_db(db_copy)
    values = stored(db_copy, REPORTED)
    code = "gov_cases"
    old = values[code]
    values[code] = old + 7
    at = run("pages/data_in.py", reporter=REPORTED, month=MONTH)
    upload(at, "correction.xlsx", filled_report(REPORTED, values))
    assert {m.label: m.value for m in at.metric} == {"新增": "0", "修改": "1", "未变": str(len(reported_measures()) - 1)}
    txt = frame_text(at)
    assert "政务服务办件总量" in txt and f"{old:,.0f}" in txt and f"{old + 7:,.0f}" in txt and "+7" in txt
    at.button(key="data_commit").click().run()
    assert "修改 1 个" in at.success[0].value
    at.selectbox(key="data_hist_measure").select(code).run()
    hist = at.dataframe[-1].value
    assert len(hist) >= 2 and list(hist["现行"])[-1] == "✓" and list(hist["现行"])[-2] == ""
    assert f"{old:,.0f}" in list(hist["数值"]) and "office" in list(hist["提交人"])


def test_bad_file_is_refused_with_row_and_column_and_logged(db_copy, use_db):
    use_db(db_copy)
    before = Store(db_copy).counts()
    col = reported_measures()[2].code
    at = run("pages/data_in.py", reporter=OVERDUE, month=MONTH)
    upload(at, "330282_2022-03.xlsx", filled_report(OVERDUE, plausible(db_copy, OVERDUE), bad={col: "十二"}), user="李四")
    assert at.error and "未导入" in at.error[0].value
    findings = at.table[0].value
    assert any("第 7 行 F 列" in m and "不是数字" in m for m in findings["说明"]), list(findings["说明"])
    assert list(findings["类别"])[0] == "错误"
    assert not [b for b in at.button if b.key == "data_commit"]  # no commit while there are errors
    at.run()  # a rerun does not log the same attempt twice
    s = Store(db_copy)
    assert s.counts() == before
    with s.engine.connect() as conn:
        rej = conn.execute(sa.select(import_rejection)).mappings().all()
    assert len(rej) == 1 and rej[0]["region_code"] == OVERDUE and rej[0]["period"] == MONTH
    assert rej[0]["submitted_by"] == "office" and rej[0]["source"] == "upload" and "第 7 行" in rej[0]["messages"]
    # English: the same finding, in English
    at = run("pages/data_in.py", reporter=OVERDUE, month=MONTH, lang="en")
    upload(at, "x.csv", f"区划代码,期间,指标代码,数值\r\n{OVERDUE},{MONTH},{col},abc\r\n".encode())
    assert "not imported" in at.error[0].value
    assert any("row 2" in m for m in at.table[0].value["Message"])
    s.engine.dispose()


def test_reform_office_uploads_several_counties(db_copy, use_db):
    use_db(db_copy)
    prev = {c: stored(db_copy, c, "2022-02")["zlb_registered_users"] for c in ("330282", "330802")}
    body = "区划代码,期间,指标代码,数值\r\n" + "".join(
        f"{c},{MONTH},zlb_registered_users,{round(v * 1.01)}\r\n" for c, v in prev.items())
    at = run("pages/data_in.py", month=MONTH)
    assert at.selectbox(key="reporter").value == "office"
    assert at.selectbox(key="data_tpl_county")  # the office picks which county's template to download
    upload(at, "feed_2022-03.csv", body.encode(), user="省改革办 王五")
    assert {m.label: m.value for m in at.metric} == {"新增": "2", "修改": "0", "未变": "0"}
    at.button(key="data_commit").click().run()
    assert "已导入：批次" in at.success[0].value
    s = Store(db_copy)
    with s.engine.connect() as conn:
        b = conn.execute(sa.text("SELECT * FROM import_batch ORDER BY id DESC LIMIT 1")).mappings().one()
    assert b["region_code"] is None and b["submitted_by"] == "office" and b["n_rows"] == 2
    assert "省改革办 王五" in b["note"]
    s.engine.dispose()


def test_preview_functions():
    store = None
    data = filled_report(OVERDUE, bad={"gov_cases": -5})
    rep = analyse(data, "f.xlsx", store, as_county=OVERDUE, options=ImportOptions())
    df = issues_frame(rep, "zh")
    assert list(df.columns) == ["severity", "row", "col", "message", "code"] and df.iloc[0]["severity"] == "error"
    assert df.iloc[0]["row"] == 7 and "负数" in df.iloc[0]["message"]
    assert changes_frame(rep, catalogue(), geography()).empty  # no store: no preview


# -- jobs page -----------------------------------------------------------------------------------------------
def seed_jobs(url: str) -> None:
    s = Store(url)
    h = History(s.engine, "host-a:123:abc")
    t0 = dt.datetime.now().replace(microsecond=0) - dt.timedelta(minutes=3)
    h.finish(None, "drop_folder", 1, t0, "succeeded", 2, {"imported": 2, "rejected": 0})
    h.finish(None, "rollup_refresh", 1, t0, "retrying",
             error="OperationalError: server closed the connection unexpectedly\nTraceback (most recent call last): ...")
    h.finish(None, "rollup_refresh", 2, t0 + dt.timedelta(seconds=10), "succeeded", 0, {"pairs_checked": 4})
    h.finish(None, "freshness", 3, t0, "failed", error="OperationalError: could not connect to server")
    assert Lease(s.engine, "host-a:123:abc", ttl=600).acquire()
    with s.engine.begin() as conn:
        conn.execute(freshness_alert.insert().values(
            kind="overdue_report", region_code=OVERDUE, period=MONTH, status="open", due_date=dt.date(2022, 4, 15),
            opened_at=dt.datetime(2022, 4, 15, 8), message="慈溪市（330282）2022-03 月报逾期未报（截止 2022-04-15）"))
    s.engine.dispose()


def test_jobs_page(db_copy, use_db):
    use_db(db_copy)
    seed_jobs(db_copy)
    at = run("pages/jobs.py")
    assert at.success and "host-a:123:abc" in at.success[0].value
    jobs = at.dataframe[0].value
    assert list(jobs["任务"]) == ["文件投递目录导入", "月度汇总核对与修复", "逾期未报检查", "夜间数据快照", "定版后生成会议材料", "批示逾期升级",
                             "早报与事件推送"]
    assert list(jobs["最近结果"])[:3] == ["成功", "成功", "失败"]
    assert list(jobs["失败次数"]) == [0, 1, 1, 0, 0, 0, 0]
    assert all(x != "待调度器启动" for x in jobs["下次运行"])  # the lease is live: next runs are known
    fails = at.dataframe[1].value
    assert len(fails) == 2 and any("server closed the connection" in e for e in fails["错误"])
    assert "慈溪市 2022-03 月报逾期未报" in frame_text(at)
    at = run("pages/jobs.py", lang="en")
    assert "Scheduler running" in at.success[0].value
    assert list(at.dataframe[0].value["Job"])[0] == "Drop-folder import"


def test_jobs_page_without_scheduler(app_db, use_db):
    use_db(app_db)
    at = run("pages/jobs.py")
    assert at.warning and "没有调度器" in at.warning[0].value
    assert set(at.dataframe[0].value["下次运行"]) == {"待调度器启动 · 已逾期，启动后立即运行"}


def test_scheduler_status_functions(tmp_path):
    s = scratch_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    t0 = dt.datetime(2026, 11, 23, 10, 0, 0)
    assert status.next_interval_run(t0, 60, t0 + dt.timedelta(seconds=5)) == t0 + dt.timedelta(seconds=60)
    assert status.next_interval_run(t0, 60, t0 + dt.timedelta(seconds=150)) == t0 + dt.timedelta(seconds=180)
    assert status.next_snapshot_run(t0, 2, False) == dt.datetime(2026, 11, 23, 10, 5)
    assert status.next_snapshot_run(t0, 2, True) == dt.datetime(2026, 11, 24, 2, 5)
    assert status.next_snapshot_run(dt.datetime(2026, 11, 23, 23, 30), 2, False) == dt.datetime(2026, 11, 24, 2, 5)
    cfg = Config(drop_every=60, rollup_every=600, freshness_every=3600, instance_id="x")
    assert status.intervals(cfg) == {"drop_folder": 60, "rollup_refresh": 600, "freshness": 3600, "snapshot": 86400,
                                    "pack_after_freeze": 300, "followup_escalate": 3600, "push": 300}
    table = status.job_table(s.engine, cfg)
    assert list(table["job_id"]) == ["drop_folder", "rollup_refresh", "freshness", "snapshot", "pack_after_freeze",
                                     "followup_escalate", "push"]
    assert table["next_run"].isna().all() and table["overdue"].all()  # no lease, never ran
    lease = Lease(s.engine, "me", ttl=30)
    assert lease.acquire()
    h = History(s.engine, "me")
    h.finish(None, "drop_folder", 1, dt.datetime.now().replace(microsecond=0), "succeeded", 1, {"imported": 1})
    now = dt.datetime.now().replace(microsecond=0)
    table = status.job_table(s.engine, cfg, now).set_index("job_id")
    acquired = status.lease(s.engine, now)["acquired_at"]
    assert table.loc["drop_folder", "next_run"] == status.next_interval_run(acquired, 60, now)
    assert not table.loc["drop_folder", "overdue"] and table.loc["freshness", "overdue"]
    assert table.loc["drop_folder", "last_message"] == "imported=1"
    with s.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(job_run)).scalar() == 1
    assert status.failures(s.engine).empty and len(status.recent_runs(s.engine)) == 1
    s.engine.dispose()


def test_value_history_keeps_every_value(tmp_path):
    s = scratch_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    key = dict(region_code=REPORTED, measure_code="gov_cases", obs_date=dt.date(2026, 9, 1))
    b1 = s.write_batch(Batch(source="import", submitted_by="a"), pd.DataFrame([key | {"value": 1.0}]))
    b2 = s.write_batch(Batch(source="import", submitted_by="b"), pd.DataFrame([key | {"value": 2.0}]))
    s.rollback_batch(b2, "c")
    h = value_history(s, REPORTED, "gov_cases", dt.date(2026, 9, 1))
    assert list(h["batch_id"]) == [b1, b2] and list(h["value"]) == [1.0, 2.0]
    assert list(h["is_current"]) == [True, False] and list(h["status"]) == ["committed", "rolled_back"]
    s.engine.dispose()


# -- data quality page ---------------------------------------------------------------------------------------
def test_quality_page(app_db, use_db):
    use_db(app_db)
    at = run("pages/quality.py")
    matrix = at.dataframe[0].value
    assert len(matrix) == 90 and "2022-03" in matrix.columns and "2021-04" in matrix.columns
    row = matrix[matrix["区县"] == "慈溪市"].iloc[0]
    assert row["2022-03"].startswith("● 逾期未报")
    assert {m.label.split(" · ")[0]: m.value for m in at.metric}["逾期未报"] == "2"
    chase = at.dataframe[1].value
    assert {"慈溪市", "柯城区"} <= set(chase["区县"])  # the demo's two counties overdue in 2022-03
    assert chase.iloc[0]["逾期天数"] > 0 and chase.iloc[0]["缺报指标"] == f"全部 {len(reported_measures())} 项指标"
    assert len(at.get("download_button")) >= 4  # matrix and chase list (and details), CSV + Excel each
    at.toggle(key="q_only_problems").set_value(True).run()
    few = at.dataframe[0].value
    assert "慈溪市" in set(few["区县"]) and len(few) < 90
    at = run("pages/quality.py", city="330200", window="6", lang="en")
    matrix = at.dataframe[0].value
    assert len(matrix) == len(geography().counties_of("330200")) and len(matrix.columns) == 2 + 6
    assert "Missing" in " ".join(matrix["2022-03"])


# -- the database banner -------------------------------------------------------------------------------------
def test_unreachable_database_shows_a_banner_not_a_traceback(use_db):
    use_db(f"postgresql://cockpit:s3cret@127.0.0.1:{free_port()}/cockpit")  # nothing listens there
    for page in (None, "pages/data_in.py", "pages/quality.py", "pages/jobs.py", "pages/county.py"):
        at = run(page)
        assert at.error and "数据库暂时无法连接" in at.error[0].value, page
        assert "OperationalError" in at.error[0].value
        everything = " ".join(str(e.value) for e in (*at.error, *at.markdown, *at.caption)) + html_text(at)
        assert "s3cret" not in everything and "cockpit:" not in everything
        assert not at.dataframe and not at.get("plotly_chart")
    at = run(lang="en")
    assert "The database cannot be reached" in at.error[0].value


def test_outage_while_a_page_is_drawn_shows_the_banner(app_db, use_db, monkeypatch):
    """The frame got through, then the database went away under the page: a banner, not a traceback."""
    from metrics.access import Reader

    def down(*_a, **_k):
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    use_db(app_db)
    monkeypatch.setattr(Reader, "bulk", down)
    for page in (None, "pages/county.py"):
        at = run(page)
        assert at.error and "数据库暂时无法连接" in at.error[0].value, page
        assert "OperationalError" in at.error[0].value


def seed_month(store: Store, month: str = "2026-09") -> None:
    frames = [pd.DataFrame({"region_code": c, "measure_code": list(v), "obs_date": dt.date.fromisoformat(month + "-01"),
                            "value": list(v.values())})
              for c in geography().counties for v in [sample_report(c, month)]]
    store.write_batch(Batch(source="import", note="test"), pd.concat(frames, ignore_index=True))


@pytest.mark.server
@pytest.mark.slow
def test_app_recovers_after_a_postgresql_outage_without_restart(postgresql_url, use_db):
    store = scratch_store(postgresql_url)
    seed_month(store)
    # a production-like database: no demo accounts left by other tests on this scratch server database
    # (the app would rightly refuse to start)
    from store.schema_auth import app_user, auth_session

    with store.engine.begin() as conn:
        demo = sa.select(app_user.c.username).where(app_user.c.is_demo)
        conn.execute(auth_session.delete().where(auth_session.c.username.in_(demo)))
        conn.execute(app_user.delete().where(app_user.c.is_demo))
    real = sa.engine.make_url(postgresql_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    try:
        use_db(real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
        at = run(period="2026-09")
        assert not at.error and html_text(at).count('class="tile"') == 10
        proxy.down()
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        assert at.error and "数据库暂时无法连接" in at.error[0].value
        assert 'class="tile"' not in html_text(at)
        proxy.up()
        at.run()  # the same process, the same cached engine: data again
        assert not at.exception and not at.error
        assert html_text(at).count('class="tile"') == 10
    finally:
        proxy.down()
        store.engine.dispose()
