"""Changes since a freeze: only what moved after it (new batches, corrections, rollbacks), each with its batch."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from ingest.bootstrap import create_demo_database
from metrics.engine import MetricsEngine
from pack import __main__ as pack_cli
from pack.freeze import BULK_COLUMNS, changed_since_freeze, freeze_period, frozen_tables
from store import Store
from store.schema import import_batch
from store.store import Batch

MONTH = "2021-04"
COUNTY = "330102"


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('changes') / 'changes.sqlite'}"
    create_demo_database(url, seed=9, today=dt.date(2021, 5, 3))
    return url


def _values(eng: MetricsEngine) -> pd.Series:
    return eng.bulk(MONTH).set_index(["kpi", "region"])["value"]


def _moved(before: pd.Series, after: pd.Series) -> set[tuple[str, str]]:
    a, b = before.align(after)
    same = (a.isna() & b.isna()) | (a.notna() & b.notna() & np.isclose(a.fillna(0), b.fillna(0), rtol=1e-9,
                                                                         atol=1e-12))
    return set(a.index[~same])


def test_changes_since_freeze(url, monkeypatch, capsys):
    store = Store(url)
    eng = MetricsEngine(store)
    fz = freeze_period(eng, MONTH, user="test", force=True)  # the two overdue counties
    # the frozen figures are the live ones as known now: every value agrees
    frozen = frozen_tables(store.engine, fz.id)["bulk"].set_index(["kpi", "region"])["value"]
    assert _moved(frozen, _values(eng)) == set()
    assert changed_since_freeze(eng, fz).empty
    monkeypatch.setenv("DATABASE_URL", url)
    assert pack_cli.main(["changes", MONTH]) == 0
    assert ": 0 figures changed" in capsys.readouterr().out

    # one correction after the freeze: exactly the figures it moved, with its batch
    k = eng.catalogue.kpi("online_handling_rate")
    before = _values(eng)
    old = store.current_values([k.numerator], dt.date(2021, 4, 1), dt.date(2021, 4, 30), [COUNTY])
    value = float(old["value"].iloc[0]) - 500
    rows = pd.DataFrame({"region_code": [COUNTY], "measure_code": [k.numerator], "obs_date": [dt.date(2021, 4, 1)],
                         "value": [value]})
    bid = store.write_batch(Batch("import", region_code=COUNTY, period=MONTH, file_name="更正.xlsx"), rows)
    moved = _moved(before, _values(eng))
    ch = changed_since_freeze(eng, fz)
    assert moved and set(zip(ch["kpi"], ch["region"], strict=True)) == moved
    assert {(k.code, COUNTY), (k.code, "330100"), (k.code, "330000")} <= moved
    assert all(b == [bid] for b in ch["batches"]) and all(r == [] for r in ch["rolled_back"])
    row = ch[(ch["kpi"] == k.code) & (ch["region"] == COUNTY)].iloc[0]
    assert row["frozen_value"] == pytest.approx(before[(k.code, COUNTY)]) and row["current_value"] != row["frozen_value"]
    assert pack_cli.main(["changes", MONTH]) == 0
    out = capsys.readouterr().out
    assert f": {len(moved)} figures changed" in out and f"#{bid}" in out

    # rolling the correction back returns every figure to its frozen value: nothing has changed
    store.rollback_batch(bid, "test")
    assert changed_since_freeze(eng, fz).empty

    # rolling back a report that was in the freeze moves that county's figures; the list names the batch
    with store.engine.connect() as c:
        first = c.execute(sa.select(sa.func.min(import_batch.c.id)).where(
            import_batch.c.region_code == "330106", import_batch.c.period == MONTH,
            import_batch.c.status == "committed")).scalar()
    before = _values(eng)
    store.rollback_batch(first, "test")
    ch = changed_since_freeze(eng, fz)
    assert set(zip(ch["kpi"], ch["region"], strict=True)) == _moved(before, _values(eng))
    assert len(ch) and all(first in r and set(r) <= {first, bid} for r in ch["rolled_back"])


def test_a_rollback_before_the_freeze_is_not_a_change(url):
    store = Store(url)
    eng = MetricsEngine(store)
    with store.engine.connect() as c:
        bid = c.execute(sa.select(sa.func.min(import_batch.c.id)).where(
            import_batch.c.region_code == "330108", import_batch.c.period == MONTH,
            import_batch.c.status == "committed")).scalar()
    store.rollback_batch(bid, "test")
    fz = freeze_period(eng, MONTH, user="test", known_at=dt.datetime.now() + dt.timedelta(seconds=2),
                       force=True)
    assert changed_since_freeze(eng, fz).empty
    assert list(frozen_tables(store.engine, fz.id)["bulk"].columns[:len(BULK_COLUMNS)]) == BULK_COLUMNS


def test_headline_figures_in_pptx_and_pdf_equal_the_cli(url, monkeypatch, capsys):
    """Right after a freeze of the latest month, every headline card of the PPTX and the PDF shows what
    `python -m metrics value KPI 330000 MONTH` answers (as known now)."""
    import json

    from metrics import cli
    from pack.build import build_deck
    from pack.cells import fmt_value
    from pack.export import render
    from tests.helpers import pdf_text, pptx_text

    store = Store(url)
    eng = MetricsEngine(store)
    month = eng.latest_month().label
    fz = freeze_period(eng, month, user="test", force=True)
    deck = build_deck(eng, month, "zh", fz)
    pptx, pdf = pptx_text(render(deck, "pptx").data)[1], pdf_text(render(deck, "pdf").data)[1]
    monkeypatch.setenv("DATABASE_URL", url)
    checked = 0
    for card, k in zip(next(s for s in deck.slides if s.key == "kpis").cards, eng.catalogue.headline_kpis(), strict=True):
        assert cli.main(["value", k.code, "330000", month, "--json"]) == 0
        said = json.loads(capsys.readouterr().out)
        shown = fmt_value(said["value"], k, "zh")
        assert card.value == shown and shown in pptx and shown.replace(" ", "") in pdf.replace(" ", ""), k.code
        assert deck.figures[k.code] == pytest.approx(said["value"]) if said["value"] is not None else True
        checked += 1
    assert checked == len(eng.catalogue.headline_kpis()) >= 10
