"""The county map: a Plotly SVG choropleth on the shipped boundary file, no tiles, no basemap.

go.Choropleth with locationmode 'geojson-id' and every geo base layer switched off needs no
topojson and no tiles, so the browser makes no request outside the app.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from metrics.catalogue import Kpi
from metrics.geography import Geography
from ui import fmt
from ui.i18n import t

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
# Plotly's geo module fetches a world topojson even with all base layers hidden: serve an empty one.
TOPOJSON_URL = "app/static/topojson/"
STATUS_Z = {"green": 0, "amber": 1, "red": 2, "none": 3, "missing": 4, "na": 5}


def _signed_area(ring: list) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:], strict=False)) / 2


def _rewind(polygon: list) -> list:
    """Exterior ring clockwise, holes counter-clockwise: the winding d3-geo (Plotly) expects.

    The shipped file follows RFC 7946 (exterior counter-clockwise); d3 would read such a ring as
    'the whole sphere except this county' and paint the map over the frame.
    """
    out = []
    for i, ring in enumerate(polygon):
        clockwise = _signed_area(ring) < 0
        want_clockwise = i == 0
        out.append(ring if clockwise == want_clockwise else ring[::-1])
    return out


@lru_cache(maxsize=2)
def boundaries(kind: str = "counties") -> dict:
    with open(GEO_DIR / f"zj_{kind}.geojson", encoding="utf-8") as fh:
        fc = json.load(fh)
    for f in fc["features"]:
        g = f["geometry"]
        if g["type"] == "Polygon":
            g["coordinates"] = _rewind(g["coordinates"])
        elif g["type"] == "MultiPolygon":
            g["coordinates"] = [_rewind(p) for p in g["coordinates"]]
    return fc


@lru_cache(maxsize=16)
def boundaries_of(codes: tuple[str, ...], kind: str = "counties") -> dict:
    """The feature collection restricted to `codes` (a city leader's map shows their counties)."""
    src = boundaries(kind)
    keep = set(codes)
    return {"type": "FeatureCollection", "features": [f for f in src["features"] if f["properties"]["code"] in keep]}


def _status_scale() -> list:
    # discrete colour bands for z = 0..5
    scale = []
    n = len(STATUS_Z)
    for st, z in STATUS_Z.items():
        c = fmt.STATUS_COLOURS[st]
        scale += [[z / n, c], [(z + 1) / n, c]]
    return scale


def effective_colour(bulk: pd.DataFrame, kpi: Kpi, counties: list[str], colour: str) -> str:
    """'status' unless no county in view has a target (e.g. a provincial total): then 'value'."""
    if colour != "status":
        return colour
    if bulk is None or bulk.empty:
        return "status"
    rows = bulk[(bulk["kpi"] == kpi.code) & bulk["region"].isin(counties)]
    return "status" if rows["target"].notna().any() else "value"


def county_map(
    bulk: pd.DataFrame, kpi: Kpi, counties: list[str], geo: Geography, lang: str, colour: str = "status",
    height: int = 420,
) -> go.Figure:
    """Counties coloured by status (discrete) or value (continuous), tooltips with value/target/rank."""
    colour = effective_colour(bulk, kpi, counties, colour)  # status of a count would be all grey
    rows = bulk[(bulk["kpi"] == kpi.code) & bulk["region"].isin(counties)].set_index("region") if not bulk.empty else None
    codes, z, text = [], [], []
    for c in counties:
        r = rows.loc[c] if rows is not None and c in rows.index else None
        st = str(r["status"]) if r is not None else "missing"
        v = r["value"] if r is not None else None
        rank = f"{int(r['rank'])}/{int(r['rank_of'])}" if r is not None and fmt.is_num(r["rank"]) else "—"
        tgt = fmt.value(r["target"], kpi, lang) if r is not None and fmt.is_num(r["target"]) else t("no_target", lang)
        codes.append(c)
        if colour == "value":
            z.append(float(v) * (100 if kpi.format == "percent" else 1) if fmt.is_num(v) else None)
        else:
            z.append(STATUS_Z.get(st, 4))
        text.append(
            f"<b>{geo.get(c).name(lang)}</b> · {geo.get(geo.city_of(c)).name(lang)}<br>"
            f"{kpi.name(lang)}: {fmt.value(v, kpi, lang)}<br>{tgt}<br>"
            f"{t('status', lang)}: {fmt.status_label(st, lang)} · {t('rank', lang)} {rank}"
        )
    feats = boundaries_of(tuple(sorted(counties)))
    common = dict(
        geojson=feats, featureidkey="properties.code", locations=codes, z=z, text=text, customdata=codes,
        hovertemplate="%{text}<extra></extra>", marker_line_color="#0b1426", marker_line_width=0.6,
    )
    if colour == "value":
        trace = go.Choropleth(
            **common, colorscale="Blues" if kpi.direction == "up" else "Blues_r", reversescale=False,
            colorbar=dict(thickness=10, len=0.6, x=0.98, tickfont=dict(color="#cbd5e1", size=11),
                          ticksuffix="%" if kpi.format == "percent" else ""),
        )
    else:
        trace = go.Choropleth(**common, colorscale=_status_scale(), zmin=0, zmax=len(STATUS_Z), showscale=False)
    fig = go.Figure(trace)
    fig.update_geos(visible=False, fitbounds="locations", bgcolor="rgba(0,0,0,0)", projection_type="mercator")
    fig.update_layout(
        height=height, margin=dict(l=0, r=0, t=0, b=0), paper_bgcolor="rgba(0,0,0,0)",
        font=dict(family=FONT, color="#e2e8f0"), dragmode=False,
        hoverlabel=dict(font=dict(family=FONT, size=13), bgcolor="#0f1d33", bordercolor="#38bdf8"),
    )
    return fig


def status_legend(lang: str) -> list[tuple[str, str]]:
    return [(fmt.status_label(s, lang), fmt.STATUS_COLOURS[s]) for s in ("green", "amber", "red", "none", "missing")]
