"""Meeting packs: a freeze keeps the figures as of its moment; the PPTX and PDF show the
frozen figures (checked against the engine as known at the freeze), a correction after the freeze
changes the live pack and the changed-since-freeze list but not the frozen pack."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa

from i18n import placeholders
from metrics.engine import MetricsEngine
from metrics.formats import value as format_value
from metrics.geography import PROVINCE
from metrics.periods import Period
from pack import __main__ as cli
from pack import texts
from pack.build import build_deck
from pack.deck import slide_text
from pack.export import deck_for, render
from pack.freeze import changed_since_freeze, freeze_period, frozen_tables, get_freeze, pack_files
from scheduler.pack_job import pack_after_freeze
from store import Batch, Store
from store.schema import observation
from tests.app_helpers import DEMO_TODAY, demo_db_url, html_text, run
from tests.helpers import engine_for, pdf_text, pptx_text, scratch_store

A, B = "330102", "330105"
OCT = dt.date(2026, 10, 1)


def _write(store: Store, rows, when: dt.datetime, **kw) -> int:
    df = pd.DataFrame(rows, columns=["region_code", "measure_code", "obs_date", "value"])
    return store.write_batch(Batch(source="import", committed_at=when, **kw), df)


# -- freeze storage on every backend (small catalogue) -----------------------------------------------
def test_freeze_keeps_figures_and_lists_changes_with_batches(db_url):
    store = scratch_store(db_url)
    eng = engine_for(store)
    t1, frozen_at, t2 = dt.datetime(2026, 11, 5, 9), dt.datetime(2026, 11, 10, 9), dt.datetime(2026, 11, 12, 9)
    _write(store, [(A, "flow_m", OCT, 100), (B, "flow_m", OCT, 50), (A, "base_m", OCT, 200), (B, "base_m", OCT, 100)],
           t1)
    fz = freeze_period(eng, "2026-10", user="测试员", known_at=frozen_at, force=True)  # two counties only
    b2 = _write(store, [(A, "flow_m", OCT, 130)], t2, note="更正")

    kept = frozen_tables(store.engine, fz.id)["bulk"].set_index(["kpi", "region"])
    then = eng.bulk("2026-10", known_at=frozen_at).set_index(["kpi", "region"])
    assert kept.loc[("k_flow", A), "value"] == then.loc[("k_flow", A), "value"] == 100
    assert kept.loc[("k_ratio", A), "value"] == pytest.approx(0.5, abs=0)  # exact, no JSON rounding
    assert eng.bulk("2026-10").set_index(["kpi", "region"]).loc[("k_flow", A), "value"] == 130

    ch = changed_since_freeze(eng, fz).set_index(["kpi", "region"])
    row = ch.loc[("k_flow", A)]
    assert (row["frozen_value"], row["current_value"], row["batches"]) == (100, 130, [b2])
    assert ch.loc[("k_flow", PROVINCE), "current_value"] == 180 and ch.loc[("k_flow", PROVINCE), "batches"] == [b2]
    assert ("k_flow", B) not in ch.index  # B did not change
    assert ch.loc[("k_ratio", A), "frozen_value"] == pytest.approx(0.5)

    got = get_freeze(store.engine, period="2026-10")
    assert (got.id, got.known_at, got.frozen_by) == (fz.id, frozen_at, "测试员")
    deck = build_deck(eng, "2026-10", "zh", got)  # a catalogue without headline KPIs still builds
    assert deck.figures["k_flow"] == 150 and render(deck, "pdf").data.startswith(b"%PDF")


# -- the full pack on demo data --------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A private copy of the test session's demo database (this module writes corrections into it)."""
    src = demo_db_url(tmp_path_factory).removeprefix("sqlite:///")
    dst = tmp_path_factory.mktemp("pack") / "pack.sqlite"
    shutil.copy(src, dst)
    store = Store(f"sqlite:///{dst}")
    store.migrate()
    eng = MetricsEngine(store, today=DEMO_TODAY)
    period = eng.latest_month()
    # frozen a few minutes ago, corrected now: a correction is never stamped in the future (as known now)
    fz = freeze_period(eng, period, user="数改办", known_at=dt.datetime.now().replace(microsecond=0) - dt.timedelta(minutes=5))
    # the correction: every county's online cases for the month restated to half the cases
    p = Period.parse(period.label)
    with store.engine.connect() as conn:
        cur = pd.DataFrame(conn.execute(
            sa.select(observation.c.region_code, observation.c.obs_date, observation.c.value)
            .where(observation.c.measure_code == "gov_cases", observation.c.is_current == sa.true(),
                   observation.c.obs_date >= p.start, observation.c.obs_date <= p.end)).all(),
            columns=["region_code", "obs_date", "value"])
    rows = cur.assign(measure_code="gov_cases_online", value=(cur["value"] * 0.5).round())
    batch = store.write_batch(Batch(source="import", note="更正：网办件数"), rows[["region_code", "measure_code", "obs_date", "value"]])
    return {"store": store, "eng": eng, "period": p, "freeze": fz, "batch": batch}


def _kpi_values(d, kpi: str, region: str = PROVINCE):
    eng, p, fz = d["eng"], d["period"], d["freeze"]
    k = eng.catalogue.kpi(kpi)
    then = eng.bulk(p, known_at=fz.known_at)
    now = eng.bulk(p)
    v_then = then[(then.kpi == kpi) & (then.region == region)]["value"].iloc[0]
    v_now = now[(now.kpi == kpi) & (now.region == region)]["value"].iloc[0]
    return format_value(v_then, k, "zh"), format_value(v_now, k, "zh")


def test_frozen_pptx_and_pdf_show_the_frozen_figures(demo):
    eng, p = demo["eng"], demo["period"]
    frozen, live = _kpi_values(demo, "online_handling_rate")
    assert frozen != live  # the correction moved the province figure
    deck = deck_for(eng, p.label, "zh")
    assert deck.freeze_id == demo["freeze"].id and deck.is_demo
    pptx, pdf = render(deck, "pptx").data, render(deck, "pdf").data
    slides, pages = pptx_text(pptx), pdf_text(pdf)
    assert len(slides) == len(pages) == len(deck.slides)
    kpi_slide = next(i for i, s in enumerate(deck.slides) if s.key == "kpis")
    for text in (slides[kpi_slide], pages[kpi_slide]):
        flat = re.sub(r"\s+", "", text)
        assert "一网通办率" in flat and frozen in flat and live not in flat
    assert "演示数据" in slides[0] and "演示数据" in re.sub(r"\s+", "", pages[0])  # demo labelled on the cover
    assert f"#{demo['freeze'].id}" in slides[0]
    # every headline KPI's province figure on the slide is the engine's as known at the freeze
    then = eng.bulk(p, known_at=demo["freeze"].known_at)
    for k in eng.catalogue.headline_kpis():
        v = then[(then.kpi == k.code) & (then.region == PROVINCE)]["value"].iloc[0]
        assert format_value(v, k, "zh").replace(" ", "") in re.sub(r"\s+", "", slides[kpi_slide]), k.code
    # a city's league row: the frozen value
    c_frozen, c_live = _kpi_values(demo, "online_handling_rate", "330100")
    league = next(i for i, s in enumerate(deck.slides) if s.key.startswith("league")
                  and any(t.title == "一网通办率（办件）" for t in s.tables))
    assert c_frozen in slides[league] and c_frozen in re.sub(r"\s+", "", pages[league])


def test_live_pack_shows_the_corrected_figures(demo):
    _, live = _kpi_values(demo, "online_handling_rate")
    deck = deck_for(demo["eng"], demo["period"].label, "zh", live=True)
    assert deck.freeze_id is None
    text = re.sub(r"\s+", "", "".join(pptx_text(render(deck, "pptx").data)))
    assert live in text and "实时数据" in text


def test_changed_since_freeze_lists_the_correction(demo):
    ch = changed_since_freeze(demo["eng"], demo["freeze"]).set_index(["kpi", "region"])
    row = ch.loc[("online_handling_rate", PROVINCE)]
    assert row["batches"] == [demo["batch"]]
    assert row["frozen_value"] > row["current_value"] == pytest.approx(0.5, abs=0.01)
    assert ("zlb_dau", PROVINCE) not in ch.index  # untouched figures are not listed


def test_english_pack(demo):
    deck = deck_for(demo["eng"], demo["period"].label, "en")
    slides = pptx_text(render(deck, "pptx").data)
    pages = pdf_text(render(deck, "pdf").data)
    assert "DEMO DATA" in slides[0] and "Headline KPIs" in slides[1] and "Headline KPIs" in pages[1]
    assert "Online handling rate" in "".join(slides)


def test_slide_text_is_the_same_model_for_every_output(demo):
    deck = deck_for(demo["eng"], demo["period"].label, "zh")
    assert all(slide_text(s) for s in deck.slides)
    keys = [s.key for s in deck.slides]
    assert keys[0] == "cover" and keys[1] == "kpis" and "map" in keys and "lists" in keys and keys[-1] == "next"


def test_cli_freeze_export_changes(demo, tmp_path, monkeypatch, capsys):
    store, p = demo["store"], demo["period"].label
    monkeypatch.setenv("DATABASE_URL", str(store.engine.url))
    out = tmp_path / "p.pdf"
    assert cli.main(["export", p, "--format", "pdf", "--lang", "en", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert cli.main(["changes", p, "--csv", str(tmp_path / "c.csv")]) == 0
    said = capsys.readouterr().out
    assert "online_handling_rate\t330000" in said and f"batch #{demo['batch']}" in said
    assert "online_handling_rate" in (tmp_path / "c.csv").read_text(encoding="utf-8-sig")
    assert cli.main(["export", "2001-01", "-o", str(tmp_path / "x.pptx")]) == 2  # never frozen: a clear error
    assert "not been frozen" in capsys.readouterr().err


def test_scheduled_pack_after_freeze(demo, tmp_path):
    store = demo["store"]
    fz = freeze_period(demo["eng"], demo["period"], user="调度测试")
    res = pack_after_freeze(store, folder=tmp_path)
    assert res.detail["freeze"] == fz.id and res.rows_affected == 2
    files = pack_files(store.engine, fz.id)
    assert set(files["format"]) == {"pptx", "pdf"} and all((tmp_path / f).exists() for f in
                                                            files["path"].map(lambda s: s.split("/")[-1]))
    again = pack_after_freeze(store, folder=tmp_path)  # older freezes without packs come next, then nothing
    assert again.detail["freeze"] != fz.id


def test_texts_match():
    assert set(texts.ZH) == set(texts.EN)
    assert all(k.startswith("pack_") for k in texts.ZH if not k.startswith("data_job_"))
    for k in texts.ZH:
        assert placeholders(texts.ZH[k]) == placeholders(texts.EN[k]), k


# -- the pages' guards (AppTest; the keyboard and the downloads are in tests/test_browser_pack.py) --------------------
def test_presentation_of_a_two_month_period_and_province_only(app_db, use_db):  # noqa: F811
    from auth.accounts import User

    use_db(app_db)
    at = run("pages/present.py", period="2022-02", pack_period="2022-B1", live="1")
    assert "2022-B1" in html_text(at) and not at.error
    # a city-scoped leader may present, but the pack is the province's: the pages are not registered
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        run("pages/present.py", user=User("lishui_leader", "leader", "331100"), period="2022-02")
    # the analyst has no pack page at all; the office's page offers the two-month span
    at = run("pages/pack.py", period="2022-02")
    assert at.segmented_control(key="pack_span").value == "month"
    at.segmented_control(key="pack_span").set_value("bimonth").run()
    assert not at.exception and any("2022-B1" in str(e.value) for e in (*at.info, *at.button))
