"""One value formatter (metrics.formats) behind the screens, the pack, the summaries, the lists'
reasons and the data page; the cases where those formatters used to disagree; one boundary reader;
one population parser."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from ingest.views import fmt_value as data_page_value
from metrics import access, formats, rankings, redblack
from metrics.catalogue import catalogue
from metrics.formats import publish_one, value
from metrics.geography import geography
from metrics.geometry import read_boundaries
from pack.cells import fmt_value as pack_value
from pack.map_layout import county_shapes
from tests.helpers import small_catalogue
from ui import fmt, maps, rank_widgets

CAT, GEO = catalogue(), geography()
PCT, COUNT, DEC = CAT.kpi("online_handling_rate"), CAT.kpi("zlb_dau"), CAT.kpi("share_approval_time")
VALUES = [0.0, 0.853, 0.99996, 3528, 9_999.6, 1_457_418, 99_999_999, -12_345, 2.25, 1e-7]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kpi", [PCT, COUNT, DEC], ids=lambda k: k.code)
def test_screen_pack_and_summary_print_the_same(kpi, lang):
    for v in VALUES:
        shown = value(v, kpi, lang)
        assert fmt.value(v, kpi, lang) == pack_value(v, kpi, lang) == shown
        assert fmt.number(v, kpi, lang) == value(v, kpi, lang, unit=False)
        assert redblack.format_value(kpi, v) == value(v, kpi, unit=False, short=False)


def test_examples_in_both_languages():
    assert value(0.853, PCT) == "85.3%"
    assert value(1_457_418, COUNT, "zh") == "145.7万人" and value(1_457_418, COUNT, "en") == "1.46M users"
    assert value(99_999_999, COUNT, "zh") == "1.00亿人"  # the unit is chosen after rounding
    assert value(1_457_418, COUNT, unit=False, short=False) == "1,457,418"
    assert value(2.25, DEC, "en") == "2.2 working days" and value(2.25, DEC, "zh") == "2.2工作日"


# -- where two formatters used to disagree --------------------------------------------------------
def test_an_infinite_value_is_missing_everywhere():
    # the screens printed "inf%", the pack "—"
    for kpi in (PCT, COUNT):
        assert fmt.value(float("inf"), kpi) == pack_value(float("inf"), kpi, "zh") == "—"
        assert fmt.number(float("-inf"), kpi) == "—"
    assert fmt.percent(float("inf")) == "—"


def test_numpy_and_decimal_figures_print_on_the_screens_too():
    # the screens printed "—" for a numpy integer or a Decimal (a NUMERIC column), the pack the number
    for v in (np.int64(3528), Decimal("3528"), np.float32(3528.0)):
        assert fmt.value(v, COUNT, "zh") == pack_value(v, COUNT, "zh") == "3,528人"
    assert fmt.is_num(np.int64(1)) and fmt.is_num(Decimal("1.5"))
    assert not fmt.is_num(Decimal("NaN")) and not fmt.is_num(np.float64("nan")) and not fmt.is_num(None)


def test_an_integer_kpi_shows_whole_units_everywhere():
    # the list reasons printed an integer KPI without decimals, the screens with the KPI's `decimals`
    cat = small_catalogue()
    k = next(k for k in cat.kpis if k.format == "integer")
    assert k.decimals == 1  # the catalogue's default, not written for this KPI
    assert fmt.value(10, k, "zh") == f"10{k.unit_zh}" and redblack.format_value(k, 10) == "10"
    assert redblack.format_value(k, 10.4, extra=1) == "10.4"  # a streak's steps may still ask for more
    assert publish_one(10.4, "integer", 1) == 10.0  # judged on the whole number it shows


def test_the_data_page_writes_stored_figures_plainly():
    assert data_page_value(120000.0) == "120,000" and data_page_value(0.12345) == "0.12345"
    assert data_page_value(None) == data_page_value(float("nan")) == "—"
    assert data_page_value(Decimal("2.50")) == "2.5"
    assert formats.plain(float("inf")) == "—"  # was "inf"


# -- one boundary reader ---------------------------------------------------------------------------
def test_screens_and_pack_draw_the_same_regions_from_one_reader():
    shipped = {f["properties"]["code"] for f in read_boundaries("counties")["features"]}
    assert shipped == {f["properties"]["code"] for f in maps.boundaries("counties")["features"]}
    assert shipped == set(county_shapes()) == set(GEO.counties)
    assert {f["properties"]["code"] for f in read_boundaries("cities")["features"]} == set(GEO.cities)
    # each read is fresh: the screens' rewinding in place never reaches the pack's outlines
    a, b = read_boundaries(), read_boundaries()
    assert a == b and a is not b and a["features"][0] is not b["features"][0]


# -- one population parser -------------------------------------------------------------------------
def test_the_screens_read_populations_with_metrics_population():
    on = dt.date(2022, 3, 31)
    for spec in access.population_options(GEO, on, townships=True):
        pop = rankings.Population.parse(spec, GEO)
        assert access.population_level(spec) == pop.level
        if pop.kind in ("counties", "city", "group"):
            assert rank_widgets.population_counties(spec, GEO, on) == pop.regions(GEO, on)
    with pytest.raises(rankings.RankingError):
        access.population_level("city:999999")
