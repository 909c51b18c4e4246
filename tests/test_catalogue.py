"""Checks on the KPI catalogue (metrics/definitions/kpis.yaml) and its validation.

Fast and database-free: the real catalogue must load and be complete, and a broken entry must
fail with a message that names the entry and the field.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from metrics.catalogue import (
    CATALOGUE_PATH,
    Catalogue,
    CatalogueError,
    load_catalogue,
    parse_catalogue,
)

SYSTEMS = {
    "platform",
    "party",
    "government",
    "economy",
    "society",
    "culture",
    "rule_of_law",
    "grassroots",
}
NAMED_KPIS = (
    "zlb_dau",
    "online_handling_rate",
    "mobile_handling_rate",
    "share_satisfaction",
)


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.fixture()
def raw() -> dict:
    with open(CATALOGUE_PATH, encoding="utf-8") as fh:
        return copy.deepcopy(yaml.safe_load(fh))


def _kpi(raw: dict, code: str) -> dict:
    return next(k for k in raw["kpis"] if k["code"] == code)


# -- the real catalogue ---------------------------------------------------------------------


def test_catalogue_loads(cat: Catalogue) -> None:
    assert len(cat.kpis) >= 35
    assert {s.code for s in cat.systems} == SYSTEMS


def test_every_system_has_kpis(cat: Catalogue) -> None:
    for system in SYSTEMS:
        assert len(cat.kpis_of(system)) >= 2, system


def test_named_kpis_exist(cat: Catalogue) -> None:
    for code in NAMED_KPIS:
        assert cat.kpi(code).code == code


def test_names_and_definitions_in_both_languages(cat: Catalogue) -> None:
    for k in cat.kpis:
        for field in (
            "name_zh",
            "name_en",
            "definition_zh",
            "definition_en",
            "owner_zh",
            "owner_en",
        ):
            assert getattr(k, field).strip(), f"{k.code}: {field} empty"
    for m in cat.measures:
        for field in ("name_zh", "name_en", "source_zh", "source_en"):
            assert getattr(m, field).strip(), f"{m.code}: {field} empty"


def test_headlines(cat: Catalogue) -> None:
    numbers = [k.headline for k in cat.kpis if k.headline is not None]
    assert 8 <= len(numbers) <= 10
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert cat.kpi("zlb_dau").headline == 1
    # the tiles lead with the KPIs whose target is the plan's (seed), then the working (assumed) ones
    sources = [k.targets[-1].source for k in cat.headline_kpis()]
    assert sources == sorted(sources, key=lambda s: s != "seed") and sources.count("seed") >= 6
    for code in ("mobile_enforcement_rate", "online_handling_items_rate", "share_minute_rate", "future_factories",
                 "credit_daily_calls"):
        assert cat.kpi(code).headline is not None, code
    # 一网通办 on cases has its own working target, not the plan's 85% on items
    cases = cat.kpi("online_handling_rate")
    assert all(t.source == "assumed" for t in cases.targets) and cases.target_for(2021)[0] != 0.85
    assert all(t.source == "assumed" and t.note_zh for t in cat.kpi("share_satisfaction").targets[:1])
    for code in NAMED_KPIS:
        assert cat.kpi(code).headline is not None, code


def test_every_measure_is_used(cat: Catalogue) -> None:
    used = {m for k in cat.kpis for m in k.measures}
    used |= {m.demo.of for m in cat.measures if m.demo.of}
    unused = {m.code for m in cat.measures} - used
    assert not unused


def test_ratio_numerators_cannot_exceed_denominators_in_demo(cat: Catalogue) -> None:
    for k in cat.kpis:
        if k.kind != "ratio" or k.format != "percent":  # an average (days per request) is no share
            continue
        demo = cat.measure(k.numerator).demo
        assert demo.kind == "share" and demo.of == k.denominator, k.code


def test_frequency_follows_grain(cat: Catalogue) -> None:
    for k in cat.kpis:
        daily = any(cat.measure(m).grain == "day" for m in k.measures)
        assert k.frequency == ("daily" if daily else "monthly"), k.code


def test_yoy_growth_is_over_a_flow(cat: Catalogue) -> None:
    for k in cat.kpis:
        if k.kind == "yoy_growth":
            assert cat.measure(k.measure).aggregation == "sum", k.code


def test_rates_are_percent_and_counts_integer(cat: Catalogue) -> None:
    for k in cat.kpis:
        if k.kind == "ratio":  # a rate, or an average per unit shown in its own unit (working days)
            assert k.format == "percent" or (k.format == "decimal" and k.unit_zh != "%"), k.code
        if k.format == "integer":
            assert k.decimals == 0, k.code


def test_basis_only_on_government_rates(cat: Catalogue) -> None:
    for k in cat.kpis:
        if k.basis is not None:
            assert k.system == "government" and k.kind == "ratio", k.code
    assert cat.kpi("online_handling_rate").basis == "case"
    assert cat.kpi("online_handling_items_rate").basis == "item"


def test_lower_is_better_kpis(cat: Catalogue) -> None:
    assert cat.kpi("bad_rating_rate").direction == "down"
    assert cat.kpi("problems_overdue").direction == "down"
    down = {k.code for k in cat.kpis if k.direction == "down"}
    for code in down:
        kpi = cat.kpi(code)
        if kpi.kind == "ratio":
            demo = cat.measure(kpi.numerator).demo
            assert demo.start > (demo.end or 0), (
                f"{code}: demo should improve (fall) over time"
            )


@pytest.mark.parametrize(
    ("code", "year", "value"),
    [
        ("zlb_dau", 2021, 2_400_000),
        ("zlb_dau", 2022, 3_000_000),
        ("zzd_active_rate", 2022, 0.80),
        ("share_fulfil_rate", 2022, 0.99),
        ("share_minute_rate", 2022, 0.90),
        ("credit_daily_calls", 2022, 100_000),
        ("platform_reliability", 2022, 0.995),
        ("interface_stability", 2022, 0.999),
        ("cloud_reliability", 2022, 0.9995),
        ("component_use_rate", 2022, 0.90),
        ("online_handling_items_rate", 2021, 0.85),
        ("online_handling_items_rate", 2022, 1.00),
        ("mobile_enforcement_rate", 2021, 0.90),
        ("mobile_enforcement_rate", 2022, 0.95),
        ("event_group_rate", 2021, 0.40),
        ("event_group_rate", 2022, 0.80),
        ("future_factories", 2021, 20),
        ("future_factories", 2022, 30),
        ("smart_factories", 2021, 350),
        ("smart_factories", 2022, 500),
        ("industrial_internet_platforms", 2021, 200),
        ("industrial_internet_platforms", 2022, 300),
        ("digital_trade_share", 2025, 0.50),
        ("cbec_growth", 2021, 0.20),
        ("znm_codes", 2021, 800_000),
        ("znm_codes", 2022, 1_000_000),
        ("cross_dept_apps", 2021, 3),
        ("cross_dept_apps", 2022, 6),
        ("case_file_digitisation", 2021, 0.40),
        ("case_file_digitisation", 2022, 0.50),
        ("single_track_rate", 2021, 0.90),
        ("single_track_rate", 2022, 0.95),
        ("unified_penalty_system_rate", 2021, 0.25),
        ("unified_penalty_system_rate", 2022, 0.40),
    ],
)
def test_seed_targets(cat: Catalogue, code: str, year: int, value: float) -> None:
    found = cat.kpi(code).target_for(year)
    assert found is not None, f"{code}: no target for {year}"
    got, target, carried = found
    assert not carried
    assert got == pytest.approx(value)
    assert target.source == "seed"


def test_seed_targets_carry_a_note(cat: Catalogue) -> None:
    for k in cat.kpis:
        for t in k.targets:
            if t.source == "seed":
                assert t.note_zh and t.note_en, (
                    f"{k.code} {t.year}: seed target without a note"
                )


def test_catalogue_does_not_claim_targets_the_seeds_lack(cat: Catalogue) -> None:
    # the sources give no number for these: anything present must be marked assumed
    for code in (
        "excellent_culture_apps",
        "culture_app_rollout",
        "app_activity_rate",
        "hotline_satisfaction",
    ):
        assert all(t.source == "assumed" for t in cat.kpi(code).targets), code


# -- validation messages -------------------------------------------------------------------


def test_raw_copy_parses(raw: dict) -> None:
    assert len(parse_catalogue(raw).kpis) == len(raw["kpis"])


@pytest.mark.parametrize("field", ["numerator", "denominator"])
def test_unknown_measure_names_kpi_and_field(raw: dict, field: str) -> None:
    _kpi(raw, "mobile_handling_rate")[field] = "no_such_measure"
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    msg = str(exc.value)
    assert "mobile_handling_rate" in msg
    assert field in msg
    assert "no_such_measure" in msg


def test_unknown_measure_on_simple_kpi(raw: dict) -> None:
    _kpi(raw, "zlb_dau")["measure"] = "no_such_measure"
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    assert "zlb_dau" in str(exc.value)
    assert "measure" in str(exc.value)


def test_ratio_without_denominator(raw: dict) -> None:
    del _kpi(raw, "share_fulfil_rate")["denominator"]
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    assert "share_fulfil_rate" in str(exc.value)


def test_invalid_direction(raw: dict) -> None:
    _kpi(raw, "bad_rating_rate")["direction"] = "sideways"
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    msg = str(exc.value)
    assert "bad_rating_rate" in msg
    assert "direction" in msg


def test_duplicate_kpi_code(raw: dict) -> None:
    raw["kpis"].append(copy.deepcopy(_kpi(raw, "zero_visit_rate")))
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    assert "zero_visit_rate" in str(exc.value)
    assert "duplicate" in str(exc.value)


def test_unknown_system(raw: dict) -> None:
    _kpi(raw, "znm_codes")["system"] = "astrology"
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    msg = str(exc.value)
    assert "znm_codes" in msg
    assert "system" in msg
    assert "astrology" in msg


def test_unknown_demo_of(raw: dict) -> None:
    measure = next(m for m in raw["measures"] if m["code"] == "gov_cases_online")
    measure["demo"]["of"] = "no_such_measure"
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    assert "gov_cases_online" in str(exc.value)
    assert "demo.of" in str(exc.value)


def test_repeated_target_year(raw: dict) -> None:
    kpi = _kpi(raw, "zzd_active_rate")
    kpi["targets"].append(dict(kpi["targets"][-1]))
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    assert "zzd_active_rate" in str(exc.value)


def test_unknown_field_is_rejected(raw: dict) -> None:
    _kpi(raw, "instant_rate")["colour"] = "red"
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(raw)
    assert "instant_rate" in str(exc.value)
    assert "colour" in str(exc.value)


# -- the small-sample floor ---------------------------------------------------------------------------
def test_small_sample_floor_is_where_one_case_moves_a_rate_by_its_amber_band(cat: Catalogue) -> None:
    # gap rule, 2-point amber band: one case in 50 moves the rate by exactly 2 points
    assert cat.kpi("hotline_ontime_rate").min_denominator == 50
    assert cat.kpi("share_fulfil_rate").min_denominator == 100  # 1-point band
    assert cat.kpi("bad_rating_rate").min_denominator == 1000  # 0.1-point band
    # attainment rule: the band is 5 % of the latest target (95 % attainment): 0.95 × 0.05 = 4.75 points
    k = cat.kpi("netsec_risk_fix_rate")
    assert max(k.targets, key=lambda t: t.year).value == 0.95 and k.min_denominator == 22  # 1/0.0475 = 21.05
    # stocks are complete counts, not samples; a rate without a target has no band to protect
    assert cat.kpi("major_app_rollout_rate").min_denominator is None
    assert cat.kpi("zzd_active_rate").min_denominator is None
    assert cat.kpi("materials_cut_rate").min_denominator is None
    # a mean of durations is not a rate of cases: its floor is stated (with its reason in the YAML)
    assert cat.kpi("share_approval_time").min_denominator == 20


def test_small_sample_floor_stated_in_the_yaml_wins(raw: dict) -> None:
    for k in raw["kpis"]:
        if k["code"] == "hotline_ontime_rate":
            k["min_denominator"] = 7
    assert parse_catalogue(raw).kpi("hotline_ontime_rate").min_denominator == 7


def test_every_rate_of_cases_with_a_target_has_a_floor(cat: Catalogue) -> None:
    for k in cat.kpis:
        flow = k.kind == "ratio" and cat.measure(k.denominator).aggregation == "sum"
        if flow and k.format == "percent" and k.targets:
            assert k.min_denominator and k.min_denominator >= 20, k.code
