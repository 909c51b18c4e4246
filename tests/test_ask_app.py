"""问数 in the app: the overview's question box answers a typed question (reading, sentence, figures,
link) within the user's scope, a refusal is audited, a clarification's candidates re-ask; and for a
sample of answers the figure equals what the linked page reads for its URL parameters."""

from __future__ import annotations

import math

import pytest

from auth.accounts import User
from metrics.access import Reader
from metrics.ask import ask
from metrics.engine import MetricsEngine
from metrics.periods import Period
from store import Store
from tests.app_helpers import DEMO_TODAY, run
from ui.ask_view import refill

LISHUI = User("lishui", "leader", "331100")


def _markdown(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def _ask(at, question: str):
    at.text_input(key="ask_q").input(question).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_overview_has_a_collapsed_question_box(app_db, use_db):
    use_db(app_db)
    at = run()
    box = [e for e in at.expander if e.label == "问数"]
    assert len(box) == 1 and at.text_input(key="ask_q").value == ""
    assert "例如" in at.text_input(key="ask_q").placeholder


def test_a_typed_question_is_answered_with_reading_figures_and_link(app_db, use_db):
    use_db(app_db)
    at = _ask(run(), "丽水各县一网通办率排名前三")
    captions = "\n".join(str(c.value) for c in at.caption)
    assert "指标：一网通办率（办件）" in captions and "地区：丽水市各县（市、区）" in captions
    body = _markdown(at)
    assert "丽水市" in body
    assert body.count('class="ask-figure"') == 3
    links = [e.proto for e in at.get("page_link")]
    mine = [lk for lk in links if "排名" in lk.label and "打开对应页面" in lk.label]
    assert mine and "rkpi=online_handling_rate" in mine[0].query_string and "pop=city%3A331100" in mine[0].query_string


def test_english_question_and_clarification_candidates_reask(app_db, use_db):
    use_db(app_db)
    at = _ask(run(lang="en"), "hangzhou online handling rate")
    assert any("KPI: " in str(c.value) for c in at.caption)
    at = _ask(run(), "江北一网通办率")  # 江北: a county in Ningbo and townships elsewhere
    assert at.info and "候选" in at.info[0].value
    buttons = [b for b in at.button if b.key and b.key.startswith("ask_cand_")]
    assert buttons
    buttons[0].click().run()  # 江北区（宁波市）: asked again with the county filled in, and answered
    assert not at.exception
    assert at.text_input(key="ask_q").value == "宁波市江北区一网通办率"
    assert any("地区：江北区" in str(c.value) for c in at.caption)
    assert _markdown(at).count('class="ask-figure"') == 1


def test_refill_puts_the_candidate_in_place_of_the_unclear_word():
    assert refill("江北一网通办率", ("江北",), "江北区（宁波市）") == "宁波市江北区一网通办率"
    assert refill("本月一网通办率", ("本月",), "2026-10") == "2026-10一网通办率"
    assert refill("GDP", (), "一网通办率") == "一网通办率GDP"


def test_a_city_leader_asking_about_another_city_is_refused_and_audited(app_db, db_copy, use_db):
    from auth import audit

    use_db(db_copy)
    at = _ask(run(user=LISHUI), "杭州一网通办率是多少")
    assert at.error and "超出您的数据权限范围" in at.error[0].value
    log = audit.read(Store(db_copy).engine, user="lishui", action="denied")
    assert list(log["target"]) == ["ask=杭州一网通办率是多少"]
    at.run()  # a rerun of the same view (a widget click) does not log it again
    assert len(audit.read(Store(db_copy).engine, user="lishui", action="denied")) == 1
    own = _ask(run(user=LISHUI), "丽水哪些县一网通办率没达标")
    assert not own.error


# -- every answer's figure is the linked page's --------------------------------------------------------

SAMPLE = [
    "杭州一网通办率是多少",
    "柯城区问题按期整改率",
    "全省浙里办日活",
    "义乌掌上办理率",
    "宁波一网通办率环比",
    "丽水各县一网通办率排名前三",
    "山区26县掌上办理率排名后五",
    "全省各县跑零次率排名前五",
    "各市一网通办率排名",
    "丽水哪些县一网通办率没达标",
    "杭州和宁波的一网通办率对比",
    "柯城区和衢江区即办率对比",
    "柯城区整改率最近半年走势",
]


@pytest.fixture(scope="module")
def reader(app_db) -> Reader:
    eng = MetricsEngine(Store(app_db), today=DEMO_TODAY)
    return Reader.for_code(eng, "330000")


def _close(a: float | None, b: object) -> bool:
    if a is None:
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and abs(a - float(b)) < 1e-9


def _page_value(reader: Reader, path: str, params: dict[str, str], region: str, kpi: str, month: str) -> object:
    """The value the linked page reads for `region`, through the same reader call it makes."""
    period = params["period"]
    if path == "rankings":
        t = reader.league(params["rkpi"], period, params["pop"], "flag")
        return t.loc[t["region"] == region, "value"].iloc[0]
    if path in ("system", "compare"):
        k = params.get("skpi") or params["kpis"]
        if path == "system":  # the view's region: the county, else the city, else the province
            assert region == params.get("county") or region == params.get("city") or region == "330000"
        b = reader.bulk(period)
        return b.loc[(b["kpi"] == k) & (b["region"] == region), "value"].iloc[0]
    if path == "county":
        tr = reader.trend([params["tkpi"]], [params["county"]], Period.parse(period), 12)
        tr = tr[tr["month"].astype(str).str.startswith(month)]
        return tr["value"].iloc[0]
    raise AssertionError(f"no page rule for {path}")


@pytest.mark.parametrize("question", SAMPLE)
def test_the_figure_is_what_the_linked_page_shows(reader, question):
    a = ask(question, reader.engine)
    assert a.kind == "answer", a.sentence
    assert a.link_path and a.figures
    checked = 0
    for f in a.figures[:5]:
        if f.value is None:
            continue
        month = f.period if a.link_path == "county" else ""
        assert _close(f.value, _page_value(reader, a.link_path, a.link_params, f.region, f.kpi, month)), (question, f)
        checked += 1
    assert checked
