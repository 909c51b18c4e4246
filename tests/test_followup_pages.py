"""批示督办 pages through AppTest: the tile buttons and markers on the overview, the
instruct dialog, the 督办 page for each role (the county officer sees and answers only its own
county's items, the analyst reads only), overdue items among the alerts, the county profile's list,
the trend's instruction mark. Runs on a private copy of the short demo database, so the items
written here never reach the other app tests.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa

from auth.accounts import User
from followup import service as fs
from metrics import open_engine
from store.schema_followup import followup_event, followup_item
from tests.app_helpers import demo_db_url, run
from tests.helpers import ANALYST, LEADER, LISHUI, OFFICER, copy_sqlite

KPI = "online_handling_rate"
PERIOD = "2022-03"


@pytest.fixture(scope="module")
def fu_db(tmp_path_factory) -> str:
    dst = tmp_path_factory.mktemp("followup") / "followup.sqlite"
    copy_sqlite(demo_db_url(tmp_path_factory), dst)
    return f"sqlite:///{dst}"


@pytest.fixture
def eng(fu_db):
    e = open_engine(fu_db)
    with e.store.engine.begin() as c:
        c.execute(followup_event.delete())
        c.execute(followup_item.delete())
    yield e
    e.store.engine.dispose()


def _item(eng, author: User, region: str, owner: tuple[str, str], text: str = "请分析原因", kpi: str = KPI) -> int:
    fig = fs.figure_of(eng, kpi, region, PERIOD)
    return fs.create(eng.store, author, fig, text, owner_kind=owner[0], owner_code=owner[1], source="tile")


def _labels(at) -> list[str]:
    return [e.proto.label for e in at.get("page_link")]


def test_overview_tiles_buttons_markers_and_overdue_alert(fu_db, monkeypatch, eng):
    monkeypatch.setenv("DATABASE_URL", fu_db)
    at = run(user=LEADER)
    keys = {b.key for b in at.button if b.key}
    assert sum(k.startswith("fu_tile_") for k in keys) == 10  # one 批示 button per headline tile
    assert not any(lbl.startswith("◆") for lbl in _labels(at))
    item_id = _item(eng, LEADER, "330000", ("department", fs.department_of(KPI)))
    at = run(user=LEADER)
    assert "◆ 批示·待办理" in _labels(at)
    # overdue: the item appears among the alerts, escalated and linking to itself
    with eng.store.engine.begin() as c:
        c.execute(followup_item.update().values(deadline=dt.date.today() - dt.timedelta(days=10)))
    at = run(user=LEADER)
    assert "◆ 批示·逾期10天" in _labels(at)
    alert = next(e.proto for e in at.get("page_link") if e.proto.label.startswith("批示通报"))
    assert f"item={item_id}" in alert.query_string and alert.page.endswith("followup")
    assert [e.action for e in fs.history(eng.store, item_id)] == ["create", "escalate"]
    # an analyst sees the marker but has no button; a county officer has no overview at all
    at = run(user=ANALYST)
    assert "◆ 批示·逾期10天" in _labels(at) and not any((b.key or "").startswith("fu_tile_") for b in at.button)


def test_dialog_issues_an_instruction_with_the_recorded_figure(fu_db, monkeypatch, eng):
    monkeypatch.setenv("DATABASE_URL", fu_db)
    at = run(user=LEADER)
    at.button(key=f"fu_tile_{KPI}").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "批示时的数据" in [c.value for c in at.caption]
    at.text_area(key="fu_text").input("请牵头部门分析一网通办率变化原因，两周内报送措施").run()
    at.button(key="fu_submit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    items = fs.list_for(eng.store, LEADER)
    assert len(items) == 1
    it = items[0]
    live = eng.value(KPI, "330000", PERIOD)
    assert (it.figure.kpi, it.figure.region, it.figure.period, it.owner_kind) == (KPI, "330000", PERIOD, "department")
    assert it.figure.value == pytest.approx(live.value) and it.figure.status == live.status
    assert it.owner_code == fs.department_of(KPI) and it.deadline == dt.date.today() + dt.timedelta(days=14)


def test_followup_page_per_role(fu_db, monkeypatch, eng):
    monkeypatch.setenv("DATABASE_URL", fu_db)
    own = _item(eng, LEADER, "330102", ("region", "330102"), "请上城区分析原因")
    other = _item(eng, LEADER, "330106", ("region", "330106"), "请西湖区分析原因")

    at = run("pages/followup.py", user=OFFICER, item=str(own))
    table = at.dataframe[0].value
    assert list(table["编号"]) == [own]  # only its own county's item
    assert "请西湖区分析原因" not in table.to_string()
    at.text_area[0].input("已召开专题会，原因是系统切换")
    at.text_area[1].input("会议纪要.pdf\n整改方案.docx")
    next(b for b in at.button if b.label == "提交反馈").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert fs.get(eng.store, own).status == "replied"
    assert fs.history(eng.store, own)[-1].attachments == ["会议纪要.pdf", "整改方案.docx"]

    at = run("pages/followup.py", user=OFFICER, item=str(other))  # another county's item by URL: refused
    assert any("无权" in e.value for e in at.error)
    assert "请西湖区分析原因" not in "\n".join(m.value for m in at.markdown)

    at = run("pages/followup.py", user=LEADER, item=str(own))
    md_text = "\n".join(m.value for m in at.markdown)
    assert "已召开专题会" in md_text and "附件：会议纪要\\.pdf；整改方案\\.docx" in md_text  # markdown-escaped
    at.text_area[0].input("同意")
    next(b for b in at.button if b.label == "确认闭环").click().run()
    assert fs.get(eng.store, own).status == "closed"
    assert any("已闭环" in m.value for m in at.markdown)

    at = run("pages/followup.py", user=ANALYST, item=str(other))
    assert "只读" in "\n".join(c.value for c in at.caption)
    assert not [b for b in at.button if b.label in ("提交反馈", "确认闭环")]
    at = run("pages/followup.py", user=LISHUI)
    assert not at.dataframe and any("暂无批示" in i.value for i in at.info)


def test_county_profile_lists_items_and_trend_marks_the_date(fu_db, monkeypatch, eng):
    monkeypatch.setenv("DATABASE_URL", fu_db)
    item_id = _item(eng, LEADER, "330102", ("region", "330102"), "请上城区提升一网通办率")
    fig = fs.figure_of(eng, KPI, "330102", "2022-01")  # one written back then, inside the chart's window
    then = fs.create(eng.store, LEADER, fig, "请上城区关注一网通办率", owner_kind="region", owner_code="330102",
                     now=dt.datetime(2022, 2, 20, 10, 0))
    at = run("pages/county.py", user=LEADER, county="330102", tkpi=KPI)
    assert [e.label for e in at.expander] == ["本地批示（2 条）"]
    listed = at.dataframe[0].value
    assert list(listed["编号"]) == [item_id, then]
    assert list(listed["批示内容"]) == ["请上城区提升一网通办率", "请上城区关注一网通办率"]
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = [s for s in chart["layout"].get("shapes", []) if s.get("line", {}).get("dash") == "dash"]
    notes = [a.get("text", "") for a in chart["layout"].get("annotations", [])]
    assert len(lines) == 1 and float(lines[0]["x0"]) == pd.Timestamp("2022-02-20").timestamp() * 1000
    assert f"◆ 批示 #{then}" in notes and f"◆ 批示 #{item_id}" not in notes  # today is far past the window
    (marks,) = [d for d in chart["data"] if d.get("name") == "批示"]  # ◆ at the recorded figures
    assert marks["text"] == [f"#{item_id}", f"#{then}"]
    assert marks["y"] == pytest.approx([eng.value(KPI, "330102", "2022-03").value * 100,
                                        eng.value(KPI, "330102", "2022-01").value * 100])
    with eng.store.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(followup_item)).scalar() == 2


def test_map_panel_and_league_rows_show_the_marker(fu_db, monkeypatch, eng):
    monkeypatch.setenv("DATABASE_URL", fu_db)
    _item(eng, LEADER, "330102", ("region", "330102"), "请上城区分析原因")
    at = run("pages/map.py", user=LEADER, kpi=KPI, county="330102")
    assert "◆ 批示·待办理" in _labels(at) and any(b.key == "fu_map_panel" for b in at.button)
    assert _map_marks(at) == [["330102"]]  # the ◆ on the map itself, over 上城区
    at = run("pages/rankings.py", user=LEADER, rkpi=KPI)
    league = next(d.value for d in at.dataframe if "批示" in getattr(d.value, "columns", []))
    league = getattr(league, "data", league)  # a Styler's frame
    marked = league[league["批示"] != ""]
    assert len(marked) == 1 and "county=330102" in marked.iloc[0]["地区"] and marked.iloc[0]["批示"] == "◆ 批示·待办理"
    at = run("pages/map.py", user=LISHUI, kpi=KPI, county="331102")  # 丽水: nothing of 上城区's, no button elsewhere
    assert not any(lbl.startswith("◆") for lbl in _labels(at))
    assert _map_marks(at) == []


def _map_marks(at) -> list:
    """customdata of the map's ◆ marker trace (none: [])."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return next((tr["customdata"] for tr in spec["data"] if tr.get("name") == "followup_markers"), [])


def test_hostile_instruction_text_is_shown_as_text(fu_db, monkeypatch, eng):
    monkeypatch.setenv("DATABASE_URL", fu_db)
    evil = '<img src=x onerror=alert(1)> **粗体** [点我](javascript:alert(1))'
    item_id = _item(eng, LEADER, "330102", ("region", "330102"), evil)
    fs.reply(eng.store, OFFICER, item_id, evil, ["=cmd|' /C calc'!A0", "<b>附件</b>"])
    at = run("pages/followup.py", user=LEADER, item=str(item_id))
    shown = "\n".join(m.value for m in at.markdown)
    assert not re.search(r"(?<!\\)<(img|b)", shown)  # every tag escaped
    assert "**粗体**" not in shown and "](javascript" not in shown  # no markdown emphasis, no links
    assert shown.count("\\<img src=x onerror=alert\\(1\\)\\>") == 3  # the text, shown 3 times as text


def test_demo_seed_shows_every_state_once(fu_db, eng):
    """First start on a demo database: one overdue (escalated), one answered, one closed item; never twice."""
    from followup import demo

    ids = demo.seed(eng.store)
    items = [fs.get(eng.store, i) for i in ids]
    assert [i.status for i in items] == ["open", "replied", "closed"]
    assert items[0].escalation >= 1 and items[0].overdue_days(dt.date.today()) > 0 and all(i.is_demo for i in items)
    assert items[0].figure.region == "330800" and items[1].owner_code == "330102"
    assert demo.seed(eng.store) == []


def test_county_profile_instruction_is_one_visible_click_worded_after_the_trend(fu_db, monkeypatch, eng):
    from metrics.periods import Period
    from ui.followup_view import trend_move

    monkeypatch.setenv("DATABASE_URL", fu_db)
    k = eng.catalogue.kpi(KPI)
    tr = eng.trend([KPI], list(eng.geo.counties_of("330100")), Period.parse(PERIOD))
    moves = {r: trend_move(g.sort_values("month")["value"].tolist(), k) for r, g in tr.groupby("region")}
    rose = next(r for r, m in moves.items() if m and m[0] == "up")  # a county whose figure rose
    at = run("pages/county.py", user=LEADER, county=rose, tkpi=KPI)
    assert at.expander[0].label == "本地批示（0 条）"
    (btn,) = [b for b in at.button if b.key == "fu_county"]  # beside the trend chart, not in the expander
    assert btn.label == "写批示" and not any(b.key == "fu_county" for b in at.expander[0].button)
    btn.click().run()
    ph = at.text_area(key="fu_text").placeholder
    assert "上升" in ph and "下降" not in ph and eng.geo.get(rose).name_zh in ph, ph


def test_trend_move_follows_the_kpi_direction(eng):
    up, down = eng.catalogue.kpi(KPI), next(k for k in eng.catalogue.kpis if k.direction == "down")
    assert trend_move_of([0.5, 0.6, 0.7], up) == ("up", True)
    assert trend_move_of([0.7, 0.6, 0.5], up) == ("down", False)
    assert trend_move_of([5.0, 6.0, 7.0], down) == ("up", False)
    assert trend_move_of([0.7, 0.71, 0.70001], up) == ("flat", False)  # the same printed figure
    assert trend_move_of([None, 0.5], up) is None


def trend_move_of(values, k):
    from ui.followup_view import trend_move

    return trend_move(values, k)
