"""Reference geography: province, 11 cities, 90 counties, peer groups and historical codes.

Read from the CSV files under data/regions/ (see README, "Reference data"). Group membership is
time-versioned: 山区26县 is valid 2021-01..2024-07, 山区海岛25县 from 2024-08.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REGIONS_DIR = Path(__file__).resolve().parent.parent / "data" / "regions"
PROVINCE = "330000"
EPOCH = dt.date(2000, 1, 1)  # start of validity for regions without a known start


@dataclass(frozen=True)
class Region:
    code: str
    level: str  # province | city | county | group | township
    name_zh: str
    name_en: str
    parent_code: str | None = None
    type_zh: str | None = None
    population: int | None = None
    population_source: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class Membership:
    group_code: str
    member_code: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True)
class CodeChange:
    old_code: str
    old_name_zh: str
    new_codes: tuple[str, ...]
    valid_until: dt.date
    kind: str  # merged | renamed | split
    note_zh: str
    note_en: str


@dataclass
class Geography:
    regions: dict[str, Region]
    memberships: list[Membership]
    code_changes: dict[str, CodeChange] = field(default_factory=dict)
    # townships (synthetic demo register, metrics/townships.py): kept out of `regions`, which the
    # county-level engine, importer and scopes iterate; `get` finds both
    townships: dict[str, Region] = field(default_factory=dict)

    # -- structure ------------------------------------------------------------------------
    def get(self, code: str) -> Region:
        r = self.regions.get(code)
        return r if r is not None else self.townships[code]

    def townships_of(self, county: str) -> list[str]:
        """Township codes of a county (empty for other codes)."""
        return self._township_index().get(county, [])

    def _township_index(self) -> dict[str, list[str]]:
        idx = self.__dict__.get("_tw_index")
        if idx is None:
            idx = {}
            for code in sorted(self.townships):
                idx.setdefault(self.townships[code].parent_code, []).append(code)
            self.__dict__["_tw_index"] = idx
        return idx

    def level_codes(self, level: str) -> list[str]:
        return sorted(c for c, r in self.regions.items() if r.level == level)

    @property
    def counties(self) -> list[str]:
        return self.level_codes("county")

    @property
    def cities(self) -> list[str]:
        return self.level_codes("city")

    @property
    def groups(self) -> list[str]:
        return self.level_codes("group")

    def counties_of(self, city: str) -> list[str]:
        return sorted(c for c, r in self.regions.items() if r.level == "county" and r.parent_code == city)

    def city_of(self, county: str) -> str | None:
        return self.regions[county].parent_code

    def members(self, group: str, on: dt.date, level: str = "county") -> list[str]:
        """Reporting regions of `level` that make up `group` on date `on`."""
        return sorted(
            m.member_code
            for m in self.memberships
            if m.group_code == group
            and m.valid_from <= on
            and (m.valid_to is None or m.valid_to >= on)
            and self.regions[m.member_code].level == level
        )

    def peer_groups_of(self, county: str, on: dt.date) -> list[str]:
        return sorted(
            m.group_code
            for m in self.memberships
            if m.member_code == county
            and self.regions[m.group_code].level == "group"
            and m.valid_from <= on
            and (m.valid_to is None or m.valid_to >= on)
        )

    def group_valid_on(self, code: str, on: dt.date) -> bool:
        r = self.regions[code]
        return (r.valid_from is None or r.valid_from <= on) and (r.valid_to is None or r.valid_to >= on)

    def resolve(self, text: str) -> str:
        """A region code or a Chinese/English name (peer-group names included) -> code."""
        key = text.strip()
        if key in self.regions:
            return key
        low = key.lower()
        for r in self.regions.values():
            if key in (r.name_zh,) or low == r.name_en.lower():
                return r.code
        if key in self.code_changes:
            ch = self.code_changes[key]
            raise KeyError(
                f"region code {key} ({ch.old_name_zh}) is no longer in use since {ch.valid_until}: "
                f"use {' or '.join(ch.new_codes)}"
            )
        raise KeyError(f"unknown region {text!r}: give a GB/T 2260 code (e.g. 330102) or a name")


def _date(s: str | None) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


@lru_cache(maxsize=1)
def geography(directory: Path = REGIONS_DIR) -> Geography:
    """Load and cross-check the reference files once per process."""
    regions: dict[str, Region] = {}
    members: list[Membership] = []
    with open(directory / "cities_census2020.csv", encoding="utf-8") as fh:
        census = {r["city_code"]: int(r["census2020_pop"]) for r in csv.DictReader(fh)}
    regions[PROVINCE] = Region(
        PROVINCE, "province", "浙江省", "Zhejiang", population=sum(census.values()), population_source="census"
    )
    members.append(Membership(PROVINCE, PROVINCE, EPOCH, None))
    with open(directory / "cities.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            regions[r["code"]] = Region(
                r["code"], "city", r["name_zh"], r["name_en"], PROVINCE,
                population=census[r["code"]], population_source="census",
            )
            members += [Membership(r["code"], r["code"], EPOCH, None), Membership(PROVINCE, r["code"], EPOCH, None)]
    with open(directory / "counties.csv", encoding="utf-8") as fh:
        county_rows = list(csv.DictReader(fh))
    for r in county_rows:
        regions[r["code"]] = Region(
            r["code"], "county", r["name_zh"], r["name_en"], r["city_code"], r["type_zh"],
            int(r["population"]), r["population_source"],
        )
        members += [
            Membership(r["code"], r["code"], EPOCH, None),
            Membership(r["city_code"], r["code"], EPOCH, None),
            Membership(PROVINCE, r["code"], EPOCH, None),
        ]
    with open(directory / "peer_groups.csv", encoding="utf-8") as fh:
        for g in csv.DictReader(fh):
            start, end = _date(g["valid_from"]), _date(g["valid_to"])
            picked = [r for r in county_rows if r[g["member_column"]] == "1"]
            regions[g["code"]] = Region(
                g["code"], "group", g["name_zh"], g["name_en"],
                population=sum(int(r["population"]) for r in picked), population_source="sum",
                valid_from=start, valid_to=end,
            )
            members += [Membership(g["code"], r["code"], start or EPOCH, end) for r in picked]
    changes: dict[str, CodeChange] = {}
    with open(directory / "historical_codes.csv", encoding="utf-8") as fh:
        for c in csv.DictReader(fh):
            changes[c["old_code"]] = CodeChange(
                c["old_code"], c["old_name_zh"], tuple(c["new_code"].split(";")),
                dt.date.fromisoformat(c["valid_until"]), c["kind"], c["note_zh"], c["note_en"],
            )
    from metrics.townships import SOURCE, synthetic_register

    towns = {
        t["code"]: Region(t["code"], "township", t["name_zh"], t["name_en"], t["parent_code"], t["type_zh"],
                          t["population"], SOURCE)
        for t in synthetic_register([(r["code"], r["name_zh"], r["type_zh"], int(r["population"])) for r in county_rows])
    }
    geo = Geography(regions, members, changes, towns)
    _check(geo, census)
    return geo


def _check(geo: Geography, census: dict[str, int]) -> None:
    assert len(geo.counties) == 90, f"expected 90 counties, found {len(geo.counties)}"
    assert len(geo.cities) == 11, f"expected 11 cities, found {len(geo.cities)}"
    for city in geo.cities:
        total = sum(geo.regions[c].population or 0 for c in geo.counties_of(city))
        assert total == census[city], f"county populations of {city} sum to {total}, census {census[city]}"
    for county in geo.counties:
        total = sum(geo.townships[t].population or 0 for t in geo.townships_of(county))
        assert total == geo.regions[county].population, f"township populations of {county} sum to {total}"
    for ch in geo.code_changes.values():
        for new in ch.new_codes:
            assert new in geo.regions, f"historical code {ch.old_code} maps to unknown {new}"
