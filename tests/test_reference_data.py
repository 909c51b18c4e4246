"""Reference geography and periods."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.geography import geography
from metrics.periods import Period, PeriodError


def test_counts_and_census():
    geo = geography()
    assert len(geo.counties) == 90 and len(geo.cities) == 11
    assert geo.get("330000").population == 64_567_588
    assert sum(geo.get(c).population for c in geo.counties) == 64_567_588
    assert geo.get("330100").population == 11_936_010
    assert all(geo.get(c).population_source == "estimate" for c in geo.counties)


def test_county_types_add_up():
    types = [geography().get(c).type_zh for c in geography().counties]
    assert (types.count("区"), types.count("县级市"), types.count("县"), types.count("自治县")) == (37, 20, 32, 1)


def test_peer_groups_are_time_versioned():
    geo = geography()
    before, after = dt.date(2024, 7, 31), dt.date(2024, 8, 1)
    assert len(geo.members("SHANQU26", before)) == 26 and geo.members("SHANQU26", after) == []
    assert len(geo.members("SHANQU_HAIDAO25", after)) == 25 and geo.members("SHANQU_HAIDAO25", before) == []
    new = set(geo.members("SHANQU_HAIDAO25", after)) - set(geo.members("SHANQU26", before))
    gone = set(geo.members("SHANQU26", before)) - set(geo.members("SHANQU_HAIDAO25", after))
    assert new == {"330305", "330922"} and gone == {"330326", "330802", "331102"}


def test_names_and_historical_codes_resolve():
    geo = geography()
    assert geo.resolve("山区26县") == "SHANQU26" and geo.resolve("Hangzhou") == "330100"
    with pytest.raises(KeyError, match="330105"):
        geo.resolve("330103")
    assert geo.code_changes["330110"].kind == "split"


@pytest.mark.parametrize(
    "text, grain, start, end",
    [
        ("2024-06-03", "day", "2024-06-03", "2024-06-03"),
        ("2024-02", "month", "2024-02-01", "2024-02-29"),
        ("2024-Q2", "quarter", "2024-04-01", "2024-06-30"),
        ("2024", "year", "2024-01-01", "2024-12-31"),
        ("2024-05-ytd", "ytd", "2024-01-01", "2024-05-31"),
    ],
)
def test_period_forms(text, grain, start, end):
    p = Period.parse(text)
    assert (p.grain, p.start.isoformat(), p.end.isoformat()) == (grain, start, end)
    assert Period.parse(p.label) == p


def test_period_offsets():
    assert Period.parse("2024-01").previous().label == "2023-12"
    assert Period.parse("2024-Q1").previous().label == "2023-Q4"
    assert Period.parse("2024-03-YTD").previous().label == "2024-02-YTD"
    assert Period.parse("2024-01-YTD").previous().label == "2023-12-YTD"
    assert Period.parse("2024-02-29").year_ago().label == "2023-02-28"
    assert Period.parse("2024-Q3").year_ago().label == "2023-Q3"


@pytest.mark.parametrize("bad", ["2024-13", "2024-Q0", "24-01", "2024/01", "", "2024-02-30"])
def test_bad_periods(bad):
    with pytest.raises(PeriodError):
        Period.parse(bad)
