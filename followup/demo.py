"""Demo instructions for the demo database, so the 批示督办 pages and markers show every state at first start.

Written through the service (same checks, history and audit as a real instruction) and flagged
`is_demo`; only into a demo database that has no follow-up items yet. Dates are set back so one item is
overdue (escalated), one is answered and waiting for the author, one is closed.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from auth.accounts import User
from followup import service as fs
from metrics.engine import MetricsEngine
from store import Store
from store.schema_followup import followup_item

LEADER = User("leader", "leader", "330000")
OFFICE = User("office", "office", "330000")
OFFICER = User("officer_330102", "officer", "330102")


def seed(store: Store, today: dt.date | None = None) -> list[int]:
    """Three demo items (ids returned); nothing when the database is not a demo or already has items."""
    if not store.is_demo():
        return []
    with store.engine.connect() as c:
        if c.execute(sa.select(sa.func.count()).select_from(followup_item)).scalar_one():
            return []
    eng = MetricsEngine(store)
    latest = eng.latest_month()
    if latest is None:
        return []
    now = dt.datetime.combine(today or dt.date.today(), dt.time(9, 30))
    period = latest.label

    def at(days: int, hour: int = 0) -> dt.datetime:
        return now - dt.timedelta(days=days) + dt.timedelta(hours=hour)

    ids = []
    # 1. overdue: 衢州市 asked to explain the mobile handling rate; no answer yet (escalated by the job)
    fig = fs.figure_of(eng, "mobile_handling_rate", "330800", period)
    ids.append(fs.create(store, LEADER, fig, "请衢州市分析掌上办理率连续下降原因，两周内报送整改措施。",
                         owner_kind="region", owner_code="330800", deadline=at(26).date() + dt.timedelta(days=14),
                         source="tile", now=at(26), is_demo=True))
    # 2. answered: 上城区 replied on the online handling rate, waiting for the author to close or send back
    fig = fs.figure_of(eng, "online_handling_rate", "330102", period)
    i = fs.create(store, LEADER, fig, "请上城区说明一网通办率与目标的差距，提出提升措施。", owner_kind="region",
                  owner_code="330102", deadline=at(5).date() + dt.timedelta(days=14), source="map", now=at(5),
                  is_demo=True)
    fs.reply(store, OFFICER, i, "已梳理未网办事项清单，本月起逐项推进网办改造。", ["未网办事项清单.xlsx", "整改计划"],
             now=at(2))
    ids.append(i)
    # 3. closed: a department item on data-sharing satisfaction, answered and accepted
    fig = fs.figure_of(eng, "share_satisfaction", "330000", period)
    i = fs.create(store, OFFICE, fig, "请省大数据局对数据共享满意度较低的需求逐项回访。", owner_kind="department",
                  owner_code=fs.department_of("share_satisfaction"), deadline=at(30).date() + dt.timedelta(days=14),
                  source="alert", now=at(30), is_demo=True)
    fs.reply(store, OFFICE, i, "已完成回访并形成问题清单。", ["回访记录"], now=at(20))
    fs.mark_done(store, OFFICE, i, "问题均已整改。", now=at(18))
    fs.close(store, OFFICE, i, "同意办结。", now=at(17))
    ids.append(i)
    fs.escalate_overdue(store, now.date(), now)
    return ids
