"""批示督办: the follow-up life cycle on every backend, the recorded figure surviving a
data correction, and the permissions (a county sees and answers only its own items).

The life cycle: create → reply → send back → overdue → escalate (level 1, then 2) → done → close;
every step is an event in the item's history and an audit-log entry.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from auth import audit
from followup import model
from followup import service as fs
from store import Batch, Store
from store.schema_followup import followup_event, followup_item
from tests.helpers import (
    ANALYST,
    LEADER,
    LEADER2,
    LISHUI,
    OFFICE,
    OFFICER,
    OTHER_OFFICER,
    engine_for,
    month_rows,
    scratch_store,
    small_catalogue,
)

CAT = small_catalogue()
DEPT = "测试"  # the small catalogue's only owner department
MONTH = dt.date(2026, 9, 1)


@pytest.fixture
def store(db_url) -> Store:
    s = scratch_store(db_url)
    with s.engine.begin() as c:
        c.execute(followup_event.delete())
        c.execute(followup_item.delete())
    s.write_batch(Batch("import", region_code=None, period="2026-09", submitted_by="test"),
                  month_rows({("330102", "flow_m"): 40.0, ("330102", "base_m"): 100.0,
                         ("330106", "flow_m"): 70.0, ("330106", "base_m"): 100.0}, MONTH))
    yield s
    s.engine.dispose()


def test_model_transitions_and_overdue():
    assert model.next_status("reply", model.OPEN) == model.REPLIED
    assert model.next_status("done", model.REPLIED) == model.DONE
    assert model.next_status("send_back", model.DONE) == model.OPEN
    assert model.next_status("close", model.REPLIED) == model.CLOSED
    for action, status in (("close", model.OPEN), ("reply", model.CLOSED), ("send_back", model.OPEN),
                           ("reply", model.DONE)):
        with pytest.raises(ValueError):
            model.next_status(action, status)
    d = dt.date(2026, 11, 1)
    assert model.overdue_days(model.OPEN, d, d) == 0
    assert model.overdue_days(model.REPLIED, d, d + dt.timedelta(days=3)) == 3
    assert model.overdue_days(model.DONE, d, d + dt.timedelta(days=30)) == 0  # waiting for the author
    assert [model.escalation_level(n) for n in (0, 1, 7, 8)] == [0, 1, 1, 2]


def test_life_cycle_and_recorded_figure(store):
    eng = engine_for(store, CAT)
    fig = fs.figure_of(eng, "k_ratio", "330102", "2026-09")
    assert fig.value == pytest.approx(0.4) and fig.target == pytest.approx(0.5)
    assert fig.status == "red" and fig.data_version == store.data_version()
    item_id = fs.create(store, LEADER, fig, "请上城区分析比率下降原因，两周内报送整改措施", owner_kind="region",
                        owner_code="330102", source="tile", cat=CAT)
    item = fs.get(store, item_id)
    assert (item.status, item.author, item.owner_code, item.source) == ("open", "leader", "330102", "tile")
    assert item.deadline == dt.date.today() + dt.timedelta(days=model.DEFAULT_DAYS)

    fs.reply(store, OFFICER, item_id, "已召开专题会分析原因", ["会议纪要.pdf", "整改方案（初稿）"])
    assert fs.get(store, item_id).status == "replied"
    back = fs.send_back(store, LEADER, item_id, "措施不具体，请补充时间表")
    assert (back.status, back.n_returned) == ("open", 1)

    # overdue: derived from the deadline; escalation recorded once per level reached
    today = item.deadline + dt.timedelta(days=3)
    assert fs.get(store, item_id).overdue_days(today) == 3
    assert [i.id for i in fs.overdue(store, LEADER, today)] == [item_id]
    assert fs.escalate_overdue(store, today) == [item_id]
    assert fs.escalate_overdue(store, today) == []  # idempotent
    later = item.deadline + dt.timedelta(days=model.ESCALATE_DAYS + 3)
    assert fs.escalate_overdue(store, later) == [item_id]
    assert fs.get(store, item_id).escalation == 2

    done = fs.mark_done(store, OFFICER, item_id, "整改措施已报送", ["整改措施.docx"])
    assert done.status == "done" and not done.is_overdue(later)  # waiting for the author now

    # a later correction of the data changes the live figure, never the recorded one
    store.write_batch(Batch("import", region_code="330102", period="2026-09", submitted_by="test", note="更正"),
                      month_rows({("330102", "flow_m"): 45.0}, MONTH))
    assert eng.value("k_ratio", "330102", "2026-09").value == pytest.approx(0.45)
    assert fs.get(store, item_id).figure == fig

    closed = fs.close(store, LEADER, item_id, "同意办结")
    assert closed.status == "closed" and closed.closed_at is not None
    with pytest.raises(fs.FollowupError) as err:
        fs.reply(store, OFFICER, item_id, "补充")
    assert err.value.reason == "bad_state"

    events = fs.history(store, item_id, LEADER)
    assert [e.action for e in events] == ["create", "reply", "send_back", "escalate", "escalate", "done", "close"]
    assert [e.status_after for e in events] == ["open", "replied", "open", "open", "open", "done", "closed"]
    assert events[1].attachments == ["会议纪要.pdf", "整改方案（初稿）"] and events[1].username == "officer_330102"
    log = audit.read(store)
    mine = log[log["target"] == f"followup:{item_id}"]
    assert sorted(mine["action"]) == sorted(["followup_create", "followup_reply", "followup_send_back",
                                             "followup_escalate", "followup_escalate", "followup_done",
                                             "followup_close"])
    marks = fs.markers(store, LEADER, kpis=["k_ratio"])
    assert marks[("k_ratio", "330102")].id == item_id
    assert fs.markers(store, LISHUI, kpis=["k_ratio"]) == {}


def test_permissions_county_sees_only_its_own(store):
    eng = engine_for(store, CAT)
    f102 = fs.figure_of(eng, "k_ratio", "330102", "2026-09")
    f106 = fs.figure_of(eng, "k_ratio", "330106", "2026-09")
    fprov = fs.figure_of(eng, "k_ratio", "330000", "2026-09")
    own = fs.create(store, LEADER, f102, "上城区的批示", owner_kind="region", owner_code="330102", cat=CAT)
    other = fs.create(store, LEADER, f106, "西湖区的批示", owner_kind="region", owner_code="330106", cat=CAT)
    city = fs.create(store, OFFICE, f102, "杭州市统筹", owner_kind="region", owner_code="330100", cat=CAT)
    dept = fs.create(store, LEADER, fprov, "请牵头部门分析", owner_kind="department", owner_code=DEPT, cat=CAT)

    # who may write, and to whom
    for u in (ANALYST, OFFICER):
        with pytest.raises(PermissionError):
            fs.create(store, u, f102, "x", owner_kind="region", owner_code="330102", cat=CAT)
    with pytest.raises(PermissionError):  # 丽水 leader: 上城区 is outside the scope
        fs.create(store, LISHUI, f102, "x", owner_kind="region", owner_code="330102", cat=CAT)
    for kind, code in (("region", "330106"), ("region", "330000"), ("department", "不存在的厅"), ("person", "x")):
        with pytest.raises(fs.FollowupError):
            fs.create(store, LEADER, f102, "x", owner_kind=kind, owner_code=code, cat=CAT)
    with pytest.raises(fs.FollowupError):  # a county never receives the province's figure
        fs.create(store, LEADER, fprov, "x", owner_kind="region", owner_code="330102", cat=CAT)
    with pytest.raises(fs.FollowupError):
        fs.create(store, LEADER, f102, "   ", owner_kind="region", owner_code="330102", cat=CAT)

    # who sees what
    assert [i.id for i in fs.list_for(store, OFFICER)] == [own]
    assert [i.id for i in fs.list_for(store, OTHER_OFFICER)] == [other]
    assert {i.id for i in fs.list_for(store, LEADER)} == {own, other, city, dept}
    assert {i.id for i in fs.list_for(store, ANALYST)} == {own, other, city, dept}
    assert fs.list_for(store, LISHUI) == []
    with pytest.raises(PermissionError):
        fs.get(store, other, OFFICER)
    with pytest.raises(PermissionError):
        fs.history(store, dept, OFFICER)

    # who answers: the county its own items; the office city and department items; nobody else
    with pytest.raises(PermissionError):
        fs.reply(store, OFFICER, other, "越权答复")
    with pytest.raises(PermissionError):
        fs.reply(store, OFFICER, dept, "越权答复")
    with pytest.raises(PermissionError):
        fs.reply(store, ANALYST, own, "只读")
    with pytest.raises(PermissionError):
        fs.reply(store, OFFICE, own, "代答")  # a county's item is answered by the county
    fs.reply(store, OFFICE, dept, "已转牵头部门，部门反馈见附件", ["部门反馈函"])
    fs.mark_done(store, OFFICE, city, "已统筹")
    fs.reply(store, OFFICER, own, "已整改")

    # who concludes: the author or the office, not another leader, not the owner
    for u in (LEADER2, OFFICER, ANALYST):
        with pytest.raises(PermissionError):
            fs.close(store, u, own)
    fs.send_back(store, OFFICE, own, "请补充数据")
    assert fs.close(store, OFFICE, city).status == "closed"  # OFFICE wrote it
    assert fs.close(store, LEADER, dept).status == "closed"
    assert {i.id for i in fs.list_for(store, LEADER, status=["closed"])} == {city, dept}
    with pytest.raises(fs.FollowupError):
        fs.send_back(store, LEADER, own, " ")


def test_refused_step_leaves_no_trace(store):
    """A step on an item that changed meanwhile (closed in another session) is refused, writes nothing."""
    eng = engine_for(store, CAT)
    item_id = fs.create(store, LEADER, fs.figure_of(eng, "k_ratio", "330102", "2026-09"), "请分析",
                        owner_kind="region", owner_code="330102", cat=CAT)
    fs.mark_done(store, OFFICER, item_id, "已办结")
    with store.engine.begin() as c:  # the author closes in another session
        c.execute(followup_item.update().where(followup_item.c.id == item_id).values(status="closed"))
    with pytest.raises(fs.FollowupError) as err:
        fs.send_back(store, LEADER, item_id, "再看看")
    assert err.value.reason == "bad_state"
    with store.engine.connect() as c:
        n = c.execute(sa.select(sa.func.count()).select_from(followup_event)
                      .where(followup_event.c.item_id == item_id)).scalar()
    assert n == 2  # create, done: the refused step left no event


def test_meeting_pack_slide_lists_overdue_items_as_they_stood(store):
    """The pack's 批示督办 slide: open items, escalated and overdue first; a frozen moment stays frozen."""
    from metrics.geography import geography
    from pack.build import _followup_slide
    from pack.deck import slide_text

    eng = engine_for(store, CAT)
    fig = fs.figure_of(eng, "k_ratio", "330102", "2026-09")
    t0 = dt.datetime(2026, 11, 1, 9, 0)
    late = fs.create(store, LEADER, fig, "请上城区两周内报送整改措施", owner_kind="region", owner_code="330102",
                     deadline=dt.date(2026, 11, 5), now=t0, cat=CAT)
    fresh = fs.create(store, LEADER, fig, "请持续跟踪", owner_kind="department", owner_code=DEPT,
                      deadline=dt.date(2026, 12, 31), now=t0, cat=CAT)
    when = dt.datetime(2026, 11, 20, 12, 0)  # 15 days past the first deadline: 通报
    slide = _followup_slide(eng, when, CAT, geography(), "zh")
    rows = [[c.text for c in r] for r in slide.tables[0].rows]
    assert slide.subtitle == "截至2026-11-20 · 在办2件 · 逾期1件（其中通报1件）"
    assert rows[0][0] == "上城区" and rows[0][5] == "通报·逾期15天" and rows[1][5] == "待办理"
    # the owner closes it afterwards: the slide of the earlier moment still shows it overdue
    fs.mark_done(store, OFFICER, late, "已整改", now=dt.datetime(2026, 11, 21, 9, 0))
    fs.close(store, LEADER, late, now=dt.datetime(2026, 11, 21, 10, 0))
    assert [[c.text for c in r] for r in _followup_slide(eng, when, CAT, geography(), "zh").tables[0].rows] == rows
    after = _followup_slide(eng, dt.datetime(2026, 11, 22), CAT, geography(), "en")
    assert "1 open · 0 overdue" in after.subtitle and "请持续跟踪" in slide_text(after)
    assert fresh in [i.id for i, s, _ in fs.state_at(store) if s == "open"]


def test_every_followup_step_is_a_known_audit_action():
    """The admin page filters the audit log by auth.audit.ACTIONS: every follow-up step must be there."""
    from auth import audit
    from followup import model

    assert {f"followup_{a}" for a in model.ACTIONS} <= set(audit.ACTIONS)


def test_scheduler_escalates_without_anyone_looking(store):
    """The scheduler's followup_escalate job records an overdue item's escalation (alerts and pack read it)."""
    from scheduler.jobs import escalate_followups

    eng = engine_for(store, CAT)
    weeks_ago = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=20)
    fig = fs.figure_of(eng, "k_ratio", "330102", "2026-09")
    item_id = fs.create(store, LEADER, fig, "请报送整改措施", owner_kind="region", owner_code="330102",
                        deadline=weeks_ago.date() + dt.timedelta(days=5), now=weeks_ago, cat=CAT)
    res = escalate_followups(store)
    assert res.rows_affected == 1 and res.detail["escalated"] == [item_id]
    assert fs.get(store, item_id).escalation == 2  # 15 days overdue: past ESCALATE_DAYS, 通报
    assert escalate_followups(store).rows_affected == 0
