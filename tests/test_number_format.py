"""Compact numbers: the unit is chosen after rounding, in both languages, at every unit boundary."""

from __future__ import annotations

import pytest

from metrics.formats import compact


@pytest.mark.parametrize(("value", "zh", "en"), [
    (99_999_999, "1.00亿", "100.00M"),  # was 10000.0万
    (99_994_999, "9999.5万", "99.99M"),
    (100_000_000, "1.00亿", "100.00M"),
    (999_950, "100.0万", "1.00M"),  # was 1000.0k
    (999_949, "100.0万", "999.9k"),
    (9_999.6, "1.0万", "10.0k"),  # was 10,000
    (9_999.4, "9,999", "9,999"),
    (9_999.5, "1.0万", "10.0k"),
    (12_345, "1.2万", "12.3k"),
    (1_456_789, "145.7万", "1.46M"),
    (999_999_999.9, "10.00亿", "1.00B"),
    (-99_999_999, "-1.00亿", "-100.00M"),
    (0, "0", "0"),
])
def test_unit_chosen_after_rounding(value, zh, en):
    assert compact(value, "zh") == zh
    assert compact(value, "en") == en


def test_decimals_of_small_values_and_the_boundary():
    assert compact(9_999.94, "zh", 1) == "9,999.9"
    assert compact(9_999.96, "zh", 1) == "1.0万"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_printed_mantissa_reaches_the_next_unit(lang):
    """Whatever the value, the printed number before a unit is below that unit's step."""
    limit = {"万": 10_000, "亿": float("inf"), "k": 1_000, "M": 1_000, "B": float("inf")}
    for exp in range(3, 12):
        for mant in (0.99994, 0.99995, 0.999951, 0.9999999, 1.0, 1.00001):
            text = compact(mant * 10**exp, lang)
            unit = text[-1]
            if unit in limit:
                assert float(text[:-1]) < limit[unit], text
            else:
                assert float(text.replace(",", "")) < 10_000, text
