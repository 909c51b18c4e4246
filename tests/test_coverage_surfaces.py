"""Completeness travels with every figure: a month still being reported shows its coverage on each surface
(engine and CLI, tile, league table, map, meeting pack and its freeze), never a silently partial sum."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.bootstrap import create_demo_database
from metrics import cli
from metrics.engine import MetricsEngine
from metrics.league import league_table
from pack import __main__ as pack_cli
from pack.build import build_deck
from pack.deck import slide_text
from pack.freeze import IncompleteFreeze, coverage_of, freeze_period, frozen_tables
from store import Store

TODAY = dt.date(2021, 5, 6)  # March is the latest month (due 04-15); April is being reported (due 05-15)
RUN = dt.datetime(2021, 5, 6, 10, 0)
KPI = "online_handling_rate"


@pytest.fixture(scope="module")
def eng(tmp_path_factory) -> MetricsEngine:
    url = f"sqlite:///{tmp_path_factory.mktemp('coverage') / 'coverage.sqlite'}"
    create_demo_database(url, seed=2021, today=TODAY, now=RUN)
    return MetricsEngine(Store(url), today=TODAY)


def test_engine_and_cli(eng, monkeypatch, capsys):
    assert eng.latest_month().label == "2021-03"
    r = eng.value(KPI, "330000", "2021-04")
    assert not r.complete and 0 < r.n_reported < r.n_expected == 90 and r.pending
    assert r.missing == [] and len(r.not_reported) == 90 - r.n_reported  # not overdue: not yet due
    assert r.change_prev is None and r.change_yoy is None and r.rank is None  # withheld on a partial figure
    assert any("incomplete" in n for n in r.notes)
    b = eng.bulk("2021-04")
    county = b[(b["kpi"] == KPI) & (b["level"] == "county")]
    assert county["rank"].isna().all()  # nobody is ranked before the reports are due
    monkeypatch.setenv("DATABASE_URL", str(eng.store.engine.url))
    monkeypatch.setattr("metrics.open_engine", lambda *a, **k: eng)
    assert cli.main(["value", KPI, "330000", "2021-04"]) == 0
    assert f"reported {r.n_reported}/90" in capsys.readouterr().out


def test_tile(eng):
    from ui.tiles import headline_tiles

    tiles = headline_tiles(eng.bulk("2021-04"), None, eng.catalogue, eng.geo, "330000", "zh")
    n = eng.value(KPI, "330000", "2021-04").n_reported
    tile = next(x for x in tiles if x.kpi == KPI)
    assert tile.reported == f"已报 {n}/90" and tile.mom[2] == "—"


def test_league_table(eng):
    from ui.league_view import league_summary

    k = eng.catalogue.kpi(KPI)
    table = league_table(eng, KPI, "2021-04", "counties", trend_months=0)
    assert (table["standing"] != "ranked").all()
    line = league_summary(table, k, "zh")
    assert "数据未齐" in line and "/90 已报" in line and "暂不排名" in line
    assert "Incomplete" in league_summary(table, k, "en")
    done = league_table(eng, KPI, "2021-03", "counties", trend_months=0)
    assert (done["standing"] == "ranked").sum() > 80


def test_map(eng):
    from ui import maps

    b = eng.bulk("2021-04")
    note = maps.coverage_note(b, KPI, eng.geo.cities, "zh")
    assert note.startswith("数据未齐：") and "报送截止日未到" in note
    rows = maps.region_rows(b, KPI, eng.geo.cities)
    incomplete = rows[~rows["complete"].astype(bool)].iloc[0]
    assert any(line.startswith("已报 ") for line in maps.hover_lines(incomplete, eng.catalogue.kpi(KPI), eng.geo, "zh"))
    assert maps.coverage_note(eng.bulk("2021-02"), KPI, eng.geo.cities, "zh") == ""


def test_freeze_asks_and_the_pack_prints_coverage(eng, monkeypatch, capsys):
    with pytest.raises(IncompleteFreeze) as exc:
        freeze_period(eng, "2021-04", user="test", known_at=RUN)
    assert "数据未齐" in str(exc.value) and "/90" in str(exc.value) and "上城区" in str(exc.value) + "".join(
        eng.geo.get(c).name_zh for c in exc.value.coverage["not_reported"])
    fz = freeze_period(eng, "2021-04", user="test", known_at=RUN, force=True)
    cov = coverage_of(frozen_tables(eng.store.engine, fz.id)["bulk"])  # recorded as it was
    assert not cov["complete"] and cov["pending"] and cov["n_expected"] == 90
    deck = build_deck(eng, "2021-04", "zh", fz)
    assert deck.coverage["n_reported"] == cov["n_reported"]
    cover = slide_text(deck.slides[0])
    assert f"数据覆盖：{cov['n_reported']}/90 个区县已报" in cover
    kpis = next(s for s in deck.slides if s.key == "kpis")
    assert any(c.sub.endswith("/90 已报") and c.change.text == "—" for c in kpis.cards) and "数据未齐" in kpis.footnote
    assert not any(s.map for s in deck.slides)  # no ranks, no score map on the early reporters
    nxt = next(s for s in deck.slides if s.key == "next")
    assert not any("自动生成" in b or "逾期未报" in b for b in nxt.bullets)  # actions only; nothing is overdue
    en = build_deck(eng, "2021-04", "en", fz)
    assert f"Coverage: {cov['n_reported']} of 90 counties reported" in slide_text(en.slides[0])
    # the command line refuses without --force and says what is missing
    monkeypatch.setenv("DATABASE_URL", str(eng.store.engine.url))
    assert pack_cli.main(["freeze", "2021-04"]) == 2
    assert "数据未齐" in capsys.readouterr().err


def test_a_complete_month_freezes_without_asking(eng):
    fz = freeze_period(eng, "2021-02", user="test", known_at=RUN)
    deck = build_deck(eng, "2021-02", "zh", fz)
    assert deck.coverage["complete"] and "数据覆盖：90/90 个区县已报" in slide_text(deck.slides[0])


def test_overview_map_says_how_much_has_arrived(eng, monkeypatch):
    from tests.app_helpers import html_text, run

    monkeypatch.setenv("DATABASE_URL", eng.store.engine.url.render_as_string(hide_password=False))
    at = run(period="2021-04")
    assert "数据未齐：" in html_text(at) and "/90 已报" in html_text(at)
    at = run(period="2021-02")
    assert "数据未齐：" not in html_text(at)
