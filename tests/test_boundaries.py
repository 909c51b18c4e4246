"""Sanity checks for the committed boundary files in data/geo/.

The files are produced by scripts/build_boundaries.py (run in a separate venv
with cnmaps); these tests only use the standard library, so they run in the
project venv without shapely.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
GEO_DIR = REPO_ROOT / "data" / "geo"
COUNTIES = GEO_DIR / "zj_counties.geojson"
CITIES = GEO_DIR / "zj_cities.geojson"

MAX_TOTAL_BYTES = 1_000_000
LON_MIN, LON_MAX = 118.0, 123.5
LAT_MIN, LAT_MAX = 27.0, 31.5


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def counties() -> dict:
    return _load(COUNTIES)


@pytest.fixture(scope="module")
def cities() -> dict:
    return _load(CITIES)


@pytest.fixture(scope="module")
def regions() -> list[dict]:
    """The project's own region list (data/regions), in the shape of the shared reference CSV."""
    from metrics.geography import geography

    geo = geography()
    return [
        {"county_code": c, "county_name": geo.get(c).name_zh, "city_code": geo.city_of(c),
         "city_name": geo.get(geo.city_of(c)).name_zh}
        for c in geo.counties
    ]


def _polygons(geometry: dict) -> list:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    assert geometry["type"] == "MultiPolygon", geometry["type"]
    return geometry["coordinates"]


def _rings(geometry: dict):
    for poly in _polygons(geometry):
        for i, ring in enumerate(poly):
            yield i == 0, ring


def _signed_area(ring: list) -> float:
    return 0.5 * sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)
    )


def _bbox(geometry: dict) -> tuple[float, float, float, float]:
    xs = [x for _, ring in _rings(geometry) for x, _ in ring]
    ys = [y for _, ring in _rings(geometry) for _, y in ring]
    return min(xs), min(ys), max(xs), max(ys)


def test_files_exist_and_small():
    assert COUNTIES.is_file(), COUNTIES
    assert CITIES.is_file(), CITIES
    total = COUNTIES.stat().st_size + CITIES.stat().st_size
    assert total < MAX_TOTAL_BYTES, f"boundary files are {total} bytes"


@pytest.mark.parametrize("name", ["counties", "cities"])
def test_feature_collection_structure(name, request):
    fc = request.getfixturevalue(name)
    assert fc["type"] == "FeatureCollection"
    assert isinstance(fc["features"], list) and fc["features"]
    expected_props = (
        {"code", "name", "city_code", "city_name"}
        if name == "counties"
        else {"code", "name"}
    )
    for feat in fc["features"]:
        assert feat["type"] == "Feature"
        props = feat["properties"]
        assert set(props) == expected_props, props
        assert all(isinstance(v, str) and v for v in props.values()), props  # flat
        assert len(props["code"]) == 6 and props["code"].isdigit()
        assert feat["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_county_codes_match_region_list(counties, regions):
    codes = [f["properties"]["code"] for f in counties["features"]]
    assert len(codes) == len(set(codes)), "duplicate county codes"
    expected = {r["county_code"]: r for r in regions}
    assert len(expected) == 90
    assert set(codes) == set(expected)
    for feat in counties["features"]:
        p = feat["properties"]
        row = expected[p["code"]]
        assert (p["name"], p["city_code"], p["city_name"]) == (
            row["county_name"],
            row["city_code"],
            row["city_name"],
        )


def test_city_codes_match_region_list(cities, regions):
    codes = [f["properties"]["code"] for f in cities["features"]]
    assert len(codes) == len(set(codes)) == 11
    expected = {r["city_code"]: r["city_name"] for r in regions}
    assert {
        f["properties"]["code"]: f["properties"]["name"] for f in cities["features"]
    } == expected


@pytest.mark.parametrize("name", ["counties", "cities"])
def test_coordinates_rings_and_orientation(name, request):
    fc = request.getfixturevalue(name)
    for feat in fc["features"]:
        code = feat["properties"]["code"]
        for is_exterior, ring in _rings(feat["geometry"]):
            assert len(ring) >= 4, f"{code}: ring with {len(ring)} points"
            assert ring[0] == ring[-1], f"{code}: ring not closed"
            for lon, lat in ring:
                assert LON_MIN <= lon <= LON_MAX and LAT_MIN <= lat <= LAT_MAX, (
                    f"{code}: ({lon}, {lat}) outside Zhejiang bbox"
                )
            area = _signed_area(ring)
            # RFC 7946: exterior rings counter-clockwise, holes clockwise.
            assert (area > 0) == is_exterior, f"{code}: wrong ring orientation"


def test_county_centre_inside_its_city_bbox(counties, cities):
    city_bbox = {
        f["properties"]["code"]: _bbox(f["geometry"]) for f in cities["features"]
    }
    for feat in counties["features"]:
        x0, y0, x1, y1 = _bbox(feat["geometry"])
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        bx0, by0, bx1, by1 = city_bbox[feat["properties"]["city_code"]]
        assert bx0 <= cx <= bx1 and by0 <= cy <= by1, feat["properties"]


def test_island_counties_keep_several_islands(counties):
    parts = {
        f["properties"]["code"]: len(_polygons(f["geometry"]))
        for f in counties["features"]
    }
    for code in ("330902", "330903", "330921", "330922", "330305", "331083"):
        assert parts[code] > 1, f"{code} lost its islands"
