"""The shipped region outlines (data/geo/zj_<kind>.geojson): one reader for every map.

The screens' maps (ui/maps.py, which rewinds rings for d3) and the meeting pack's vector map
(pack/map_layout.py, which projects and decimates them) both start from `read_boundaries`. Each call
returns a fresh feature collection, so one caller's in-place changes never reach the other; both
callers cache what they derive. See scripts/build_boundaries.py for how the files are made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
BoundaryKind = Literal["counties", "cities"]


def boundary_file(kind: BoundaryKind = "counties") -> Path:
    """The GeoJSON file of the province's counties or cities (feature property `code` = region code)."""
    return GEO_DIR / f"zj_{kind}.geojson"


def read_boundaries(kind: BoundaryKind = "counties") -> dict:
    """The feature collection as shipped (RFC 7946 ring order), parsed anew on each call."""
    with open(boundary_file(kind), encoding="utf-8") as fh:
        return json.load(fh)
