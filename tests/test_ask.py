"""问数: the question corpus reads exactly or ends in a clarification, never in a wrong query; answers
carry the figures engine.bulk / league_table / trend give for the same KPI, region and period; scopes
refuse a question about another region; the CLI answers from a script."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import yaml

from bench import ask_corpus
from metrics.ask import Answer, Clarification, Query, ask, parse
from metrics.ask.parser import normalise
from metrics.catalogue import CATALOGUE_PATH, CatalogueError, catalogue, parse_catalogue
from metrics.engine import MetricsEngine
from metrics.league import league_table
from metrics.periods import Period
from store import Store

DEMO_TODAY = dt.date(2022, 4, 1)  # the short-history demo shared with the app tests: 2021-01..2022-03


def _corpus() -> tuple[dict, list[dict]]:
    return ask_corpus.load(ask_corpus.CORPUS)


def _read(q: str, ctx: dict) -> Query | Clarification:
    return parse(q, today=ctx["today"], latest=ctx["latest"], first=ctx["first"], newest=ctx["newest"])


# -- the corpus -------------------------------------------------------------------------------------


def test_corpus_reads_exactly_or_asks_never_wrong():
    m = ask_corpus.score(ask_corpus.CORPUS)
    assert m["n"] >= 300
    assert not m["wrong"], f"questions read into a wrong query: {m['wrong']}"
    assert len(m["exact"]) / m["n"] >= 0.95, f"exact matches {len(m['exact'])}/{m['n']}"


def test_corpus_covers_every_intent_period_form_and_kpi():
    _, qs = _corpus()
    expects = [i["expect"] for i in qs if "expect" in i]
    assert {e["intent"] for e in expects} == {"value", "change", "ranking", "status_list", "compare", "trend",
                                              "forecast", "not_reported"}
    assert {k.code for k in catalogue().kpis} <= {k for e in expects for k in e.get("kpis", [])}
    text = " ".join(i["q"] for i in qs if "expect" in i)
    for form in ("上个月", "本月", "今年以来", "去年同期", "三季度", "最近半年", "2026年10月", "10月份", "年底",
                 "上季度", "去年", "今天", "上半年", "1-10月"):
        assert form in text, form
    reasons = {i["clarify"] for i in qs if "clarify" in i}
    assert {"unknown_word", "outside_catalogue", "ambiguous_region", "ambiguous_kpi", "period_outside_data",
            "missing_kpi", "change_basis", "group_not_valid"} <= reasons
    assert {e.get("condition") for e in expects} >= {"not_met", "met", "red", "behind_pace", "overdue",
                                                     "not_reported", "at_risk"}


def test_a_name_shared_by_a_county_and_townships_is_asked_about_and_a_county_settles_it():
    ctx, _ = _corpus()
    got = _read("江北的一网通办率是多少", ctx)
    assert isinstance(got, Clarification) and got.reason == "ambiguous_region"
    assert got.candidates[0] == "江北区（宁波市）" and any("街道" in c or "镇" in c for c in got.candidates)
    assert _read("宁波江北区一网通办率", ctx).regions == ("330205",)
    assert _read("柯城区江北街道事件处置率", ctx).regions == ("330802001",)


def test_normalisation_full_width_numerals_and_typos():
    assert normalise("上个月丽水那些县一网通办率没打标？") == "上个月丽水哪些县一网通办率没达标"
    assert normalise("二〇二六年十月，排名前五") == "2026年10月排名前5"
    assert normalise("一网通办率 （办件）") == "一网通办率办件"  # 一 in a name stays


def test_query_round_trip_and_checked_input():
    q = Query("ranking", ("online_handling_rate",), (), "city:331100", "2026-10", rank="top", n=5)
    assert Query.from_dict(json.loads(json.dumps(q.as_dict()))) == q
    with pytest.raises(ValueError):
        Query.from_dict({"intent": "guess", "kpis": []})
    with pytest.raises(ValueError):
        Query.from_dict({"intent": "value", "figure": 1})


def test_parse_is_fast():
    import time

    ctx, qs = _corpus()
    _read("杭州一网通办率", ctx)  # the lexicon is built once
    t = time.perf_counter()
    for item in qs:
        _read(item["q"], ctx)
    per = (time.perf_counter() - t) / len(qs)
    assert per < 0.05, f"{per * 1000:.1f} ms per question"


def test_an_alias_naming_two_kpis_fails_the_catalogue():
    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    for k in raw["kpis"]:
        if k["code"] == "bad_rating_fix_rate":
            k["aliases_zh"] = ["整改率"]  # already problem_ontime_rate's
    with pytest.raises(CatalogueError, match="'整改率' already names kpi"):
        parse_catalogue(raw)


# -- answers on the demo database ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def eng(tmp_path_factory) -> MetricsEngine:
    from ingest.bootstrap import create_demo_database

    path = tmp_path_factory.getbasetemp() / "app-demo.sqlite"  # the app tests' demo, built once per session
    url = f"sqlite:///{path}"
    if not path.exists():
        create_demo_database(url, seed=2021, today=DEMO_TODAY)
    return MetricsEngine(Store(url), today=DEMO_TODAY)


def _row(eng: MetricsEngine, kpi: str, region: str, period: str) -> pd.Series:
    b = eng.bulk(Period.parse(period))
    return b[(b["kpi"] == kpi) & (b["region"] == region)].iloc[0]


def _same(a: float | None, b: float) -> bool:
    return a is not None and abs(a - float(b)) < 1e-12


@pytest.mark.parametrize("question, kpi, region", [
    ("杭州一网通办率是多少？", "online_handling_rate", "330100"),
    ("今年以来全省掌上办理率", "mobile_handling_rate", "330000"),
    ("柯城区问题按期整改率", "problem_ontime_rate", "330802"),
    ("浙里办日活", "zlb_dau", "330000"),
    ("2021年三季度宁波即办率", "instant_rate", "330200"),
])
def test_a_value_is_the_engines(eng, question, kpi, region):
    a = ask(question, eng)
    assert a.kind == "answer", a.sentence
    f = a.figures[0]
    row = _row(eng, kpi, region, a.query.period)
    assert (f.kpi, f.region) == (kpi, region)
    assert _same(f.value, row["value"]) and f.status == row["status"]
    assert (f.n_reported, f.n_expected) == (int(row["n_reported"]), int(row["n_expected"]))
    assert f.text in a.sentence and a.reading.startswith("指标：")
    assert a.link.startswith("/system?") and f"skpi={kpi}" in a.link


def test_a_change_is_the_engines(eng):
    a = ask("今年以来浙里办日活比去年同期增长多少？", eng)
    row = _row(eng, "zlb_dau", "330000", a.query.period)
    assert a.query.compare_to == "yoy" and _same(a.figures[0].extra["change"], row["change_yoy"])
    assert "同比" in a.sentence


def test_a_ranking_is_the_league_tables(eng):
    a = ask("丽水各县一网通办率排名前三", eng)
    assert a.kind == "answer" and a.query.population == "city:331100"
    t = league_table(eng, "online_handling_rate", Period.parse(a.query.period), "city:331100", trend_months=0)
    top = t[t["standing"] == "ranked"].sort_values("rank").head(3)
    assert [f.region for f in a.figures] == list(top["region"])
    assert [f.extra["rank"] for f in a.figures] == [int(r) for r in top["rank"]]
    assert a.link_path == "rankings" and a.link_params["rkpi"] == "online_handling_rate"
    assert a.link_params["pop"] == "city:331100" and a.link_params["period"] == a.query.period


def test_a_status_list_is_the_bulk_status(eng):
    a = ask("上个月丽水哪些县一网通办率没达标？", eng)
    p = Period.parse(a.query.period)
    b = eng.bulk(p)
    want = b[(b["kpi"] == "online_handling_rate") & b["region"].isin(eng.geo.counties_of("331100"))
             & b["status"].isin(["amber", "red"])]
    assert sorted(f.region for f in a.figures) == sorted(want["region"])
    assert f"中有{len(want)}个" in a.sentence and "未达标" in a.reading
    assert len(a.table) == len(want)


def test_who_has_not_reported_is_the_engines_missing_list(eng):
    a = ask("上个月哪些县逾期未报", eng)
    b = eng.bulk(Period.parse(a.query.period))
    prov = b[(b["region"] == "330000") & (b["kpi"] == "online_handling_rate")].iloc[0]
    assert set(prov["missing"]) <= {f.region for f in a.figures}
    assert a.link_path == "quality"


def test_a_trend_is_the_engines_trend(eng):
    a = ask("柯城区整改率最近半年走势", eng)
    end = Period.parse(a.query.period)
    tr = eng.trend(["problem_ontime_rate"], ["330802"], end, 6)
    last = tr[tr["value"].notna()].sort_values("month").iloc[-1]
    assert _same(a.figures[0].value, last["value"]) and len(a.table) == 6
    assert a.link_path == "county" and a.link_params["tkpi"] == "problem_ontime_rate"


def test_a_comparison_and_a_forecast_answer(eng):
    a = ask("杭州和宁波的一网通办率对比", eng)
    assert [f.region for f in a.figures] == ["330100", "330200"]
    for f in a.figures:
        assert _same(f.value, _row(eng, "online_handling_rate", f.region, a.query.period)["value"])
    fc = ask("全省一网通办率年底能不能完成", eng)
    assert fc.kind == "answer" and fc.figures and fc.figures[0].region == "330000"
    # the app hands over its cached forecasts (the read boundary's): same answer, no second fit
    from metrics.access import Reader

    asked: list[Period] = []
    reader = Reader.for_code(eng, "330000")

    def cached(p: Period) -> pd.DataFrame:
        asked.append(p)
        return reader.forecasts(p)

    again = ask("全省一网通办率年底能不能完成", eng, forecasts=cached)
    assert asked and again.sentence == fc.sentence and again.figures == fc.figures


def test_a_township_value_is_the_township_bulk(eng):
    a = ask("柯城区江北街道事件处置率", eng)
    tb = eng.township_bulk(Period.parse(a.query.period), "330802")
    row = tb[(tb["kpi"] == "event_disposal_rate") & (tb["region"] == "330802001")].iloc[0]
    assert a.figures[0].region == "330802001"
    assert (a.figures[0].value is None and pd.isna(row["value"])) or _same(a.figures[0].value, row["value"])


def test_a_city_scope_refuses_another_city_and_keeps_its_own(eng):
    from auth.policy import scope_regions

    lishui = scope_regions("331100", eng.geo)
    refused = ask("杭州一网通办率是多少", eng, allowed_regions=lishui)
    assert refused.kind == "refused" and "杭州市" in refused.sentence and not refused.figures
    assert ask("山区26县掌上办排名前三", eng, allowed_regions=lishui).kind == "refused"
    own = ask("丽水哪些县一网通办率没达标", eng, allowed_regions=lishui)
    assert own.kind == "answer"
    ranking = ask("各县一网通办率排名", eng, allowed_regions=lishui)  # a city leader's 各县 are their own
    assert ranking.kind == "answer" and ranking.query.population == "city:331100"
    assert {f.region for f in ranking.figures} <= lishui
    mine = ask("一网通办率是多少", eng, allowed_regions=lishui)  # no region named: their city, as the pages open
    assert mine.kind == "answer" and mine.query.regions == ("331100",)
    assert ask("全省一网通办率是多少", eng, allowed_regions=lishui).kind == "refused"


def test_clarifications_and_english(eng):
    a = ask("GDP是多少", eng)
    assert a.kind == "clarify" and a.clarification.reason == "outside_catalogue" and not a.figures
    a = ask("2030年一网通办率", eng)
    assert a.kind == "clarify" and a.clarification.reason == "period_outside_data"
    en = ask("which counties of lishui missed the online handling rate target last month", eng, lang="en")
    assert en.kind == "answer" and en.reading.startswith("KPI: ") and "below target" in en.sentence
    assert en.link_params.get("lang") == "en"
    assert isinstance(Answer("answer").as_dict(), dict)


def test_cli_ask(eng, capsys, monkeypatch):
    from metrics import cli

    monkeypatch.setenv("DATABASE_URL", str(eng.store.engine.url))
    assert cli.main(["ask", "杭州一网通办率是多少"]) == 0
    out = capsys.readouterr().out
    assert "指标：一网通办率（办件）" in out and "杭州市" in out and "/system?" in out
    assert cli.main(["ask", "GDP是多少", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["clarification"]["clarify"] == "outside_catalogue"
    assert cli.main(["ask", "杭州一网通办率", "--scope", "no-such-place"]) == 2  # no such scope: no answer
    assert cli.main(["ask", "杭州一网通办率是多少", "--scope", "丽水市"]) == 1  # another city: refused
    assert "杭州" in capsys.readouterr().out  # the refusal names what was asked for


def test_an_optional_model_rephrases_only_into_a_checked_query(eng, monkeypatch):
    """A local stub stands for the OpenAI-compatible endpoint: its query is checked and run by the same
    code; an invented code is dropped (the clarification stands); off by default."""
    import http.server
    import threading

    replies: list[str] = []
    seen: list[dict] = []

    class Stub(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"choices": [{"message": {"content": replies.pop(0)}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        question = "杭州那边网上办事的比例咋样"
        assert ask(question, eng).kind == "clarify"  # no model configured: the parser's clarification
        monkeypatch.setenv("COCKPIT_ASK_MODEL_URL", f"http://127.0.0.1:{server.server_port}/v1")
        period = ask("杭州一网通办率", eng).query.period
        replies.append(json.dumps({"intent": "value", "kpis": ["online_handling_rate"], "regions": ["330100"],
                                   "period": period}))
        a = ask(question, eng)
        assert a.kind == "answer" and a.via_model and a.reading.startswith("（由模型改写）")
        assert _same(a.figures[0].value, _row(eng, "online_handling_rate", "330100", period)["value"])
        assert seen[0]["messages"][1]["content"] == question
        replies.append(json.dumps({"intent": "value", "kpis": ["gdp"], "regions": ["330100"], "period": period}))
        assert ask(question, eng).kind == "clarify"  # an invented KPI code never reaches the engine
        replies.append(json.dumps({"intent": "value", "kpis": ["online_handling_rate"], "regions": ["330100"],
                                   "period": period, "asked_period": "not a month"}))
        assert ask(question, eng).query.asked_period is None  # the parser's note is not the model's to set
        replies.append("sorry, I cannot help")
        assert ask(question, eng).kind == "clarify"
        n = len(seen)
        assert ask("江北的一网通办率", eng).kind == "clarify" and len(seen) == n  # ambiguity is asked, not sent
    finally:
        server.shutdown()


# -- 上个月 before its reports are due -----------------------------------------------------------------


def test_last_month_not_yet_due_answers_the_latest_due_month_and_says_so():
    """On the 5th of December November's reports are not due (the 15th): 上个月 is answered with
    October, the month every page opens on, and the reading and the sentence say so; a month named
    outright that is still coming in is answered with its coverage in front, never as a verdict."""
    today, latest, newest = dt.date(2026, 12, 5), Period.parse("2026-10"), Period.parse("2026-11")
    first = dt.date(2021, 1, 1)
    q = parse("上个月丽水哪些县一网通办率没达标？", today=today, latest=latest, first=first, newest=newest)
    assert isinstance(q, Query) and q.period == "2026-10" and q.asked_period == "2026-11"
    q = parse("上个月哪些县逾期未报", today=today, latest=latest, first=first, newest=newest)
    assert (q.intent, q.condition, q.period, q.asked_period) == ("not_reported", "overdue", "2026-10", "2026-11")
    q = parse("11月哪些县逾期未报", today=today, latest=latest, first=first, newest=newest)
    assert q.period == "2026-11" and q.asked_period is None  # named outright: that month
    # once due (the 15th), 上个月 is November itself
    q = parse("上个月杭州一网通办率", today=dt.date(2026, 12, 15), latest=newest, first=first, newest=newest)
    assert q.period == "2026-11" and q.asked_period is None
    # stale data (latest month long before): the calendar month stands and is asked about
    old = Period.parse("2025-03")
    q = parse("上个月杭州一网通办率", today=today, latest=old, first=first, newest=old)
    assert isinstance(q, Clarification) and q.reason == "period_outside_data"


@pytest.fixture(scope="module")
def eng_month_in_progress(tmp_path_factory) -> MetricsEngine:
    """A demo whose newest month (2022-03) is still coming in: today 2022-04-05, reports due 04-15."""
    from ingest.bootstrap import create_demo_database

    path = tmp_path_factory.getbasetemp() / "ask-early.sqlite"
    url = f"sqlite:///{path}"
    if not path.exists():
        create_demo_database(url, seed=2021, today=dt.date(2022, 4, 1))
    return MetricsEngine(Store(url), today=dt.date(2022, 4, 5))


def test_last_month_not_yet_due_sentence_is_honest(eng_month_in_progress):
    eng = eng_month_in_progress
    assert eng.latest_month() == Period.parse("2022-02")
    a = ask("上个月丽水哪些县一网通办率没达标？", eng)
    assert a.kind == "answer" and a.query.period == "2022-02"
    assert "上个月2022-03未到报送截止日" in a.reading
    assert a.sentence.startswith("上个月（2022年3月）数据未齐（已报 ") and "4月15日截止" in a.sentence
    assert "以下为最近已截止的2022年2月：丽水市" in a.sentence  # the month is named once, not twice in a row
    assert a.sentence.count("2022年2月") == 1
    assert a.link_params["period"] == "2022-02"
    late = ask("上个月哪些县逾期未报", eng)
    assert late.query.period == "2022-02" and "数据未齐" in late.sentence and late.link_params["period"] == "2022-02"
    named = ask("2022年3月杭州一网通办率", eng)  # the month in progress, named outright: coverage first
    b = eng.bulk(Period.parse("2022-03"))
    prov = b[(b["region"] == "330000") & (b["kpi"] == "online_handling_rate")].iloc[0]
    assert named.sentence.startswith(
        f"2022年3月数据未齐（已报 {int(prov['n_reported'])}/{int(prov['n_expected'])}，4月15日截止）：")
    assert named.sentence.count("2022年3月") == 1
    en = ask("hangzhou online handling rate last month", eng, lang="en")
    assert en.sentence.startswith("Last month (2022-03) is not yet complete") and en.query.period == "2022-02"
