"""Maps of counties and cities: Plotly SVG choropleths and a pydeck 3D view, on the shipped boundaries only.

Flat maps: go.Choropleth with locationmode 'geojson-id' and every geo base layer switched off needs
no tiles; Plotly's geo module still loads a world topojson, so the chart is pointed at an empty one
served from static/ (TOPOJSON_URL). 3D: a pydeck GeoJsonLayer whose map style is the blank local
style (BLANK_STYLE_URL) — Streamlit would otherwise substitute a Carto basemap style.

Colours: by status (the engine's red/amber/green, direction-aware there, so the map always agrees
with the rankings) or by value on a sequential scale whose range the caller can hold fixed across
months. Everything here is pure (no Streamlit), so tests can compare colours with the engine.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
import plotly.tools
import pydeck as pdk

from metrics.catalogue import Kpi
from metrics.geography import Geography
from metrics.geometry import read_boundaries
from ui import fmt
from ui.i18n import t

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
# Plotly's geo module fetches a world topojson even with all base layers hidden: serve an empty one.
TOPOJSON_URL = "app/static/topojson/"
# pydeck: a blank style served by the app (relative, like TOPOJSON_URL: every page sits at the root)
BLANK_STYLE_URL = "app/static/blank_map_style.json"
PLOTLY_CONFIG = {"topojsonURL": TOPOJSON_URL}  # merged into ui.chart_style.chart_config (the PNG toolbar)
STATUS_Z = {"green": 0, "amber": 1, "red": 2, "none": 3, "missing": 4, "na": 5, "nocase": 6, "partial": 7}
# value colouring: dim -> bright blues (no hue shared with the status colours); bright = better
VALUE_SCALE = [[0.0, "#1e3a8a"], [0.25, "#1d4ed8"], [0.5, "#0284c7"], [0.75, "#38bdf8"], [1.0, "#bae6fd"]]
MOUNTAIN_GROUPS = ("SHANQU26", "SHANQU_HAIDAO25")  # 山区26县 until 2024-07, 山区海岛25县 from 2024-08
OUTLINE_COLOUR, SELECTED_COLOUR, BORDER_COLOUR = "#f8fafc", "#22d3ee", "#0b1426"
LABEL_SHADOW = "0px 0px 3px #0b1426, 0px 0px 2px #0b1426, 1px 1px 1px #0b1426"
KINDS = {"county": "counties", "city": "cities"}


# -- geometry ------------------------------------------------------------------------------------
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
    """The shipped boundary file (data/geo/zj_<kind>.geojson), rings rewound for d3 (read-only)."""
    fc = read_boundaries(kind)  # type: ignore[arg-type]
    for f in fc["features"]:
        g = f["geometry"]
        if g["type"] == "Polygon":
            g["coordinates"] = _rewind(g["coordinates"])
        elif g["type"] == "MultiPolygon":
            g["coordinates"] = [_rewind(p) for p in g["coordinates"]]
    return fc


@lru_cache(maxsize=32)
def boundaries_of(codes: tuple[str, ...], kind: str = "counties") -> dict:
    """The feature collection restricted to `codes` (a city leader's map shows their counties)."""
    src = boundaries(kind)
    keep = set(codes)
    return {"type": "FeatureCollection", "features": [f for f in src["features"] if f["properties"]["code"] in keep]}


def _polygons(feature: dict) -> list[list]:
    g = feature["geometry"]
    return [g["coordinates"]] if g["type"] == "Polygon" else list(g["coordinates"])


@lru_cache(maxsize=2)
def _features_by_code(kind: str) -> dict[str, dict]:
    return {f["properties"]["code"]: f for f in boundaries(kind)["features"]}


def _label_point(polygon: list) -> tuple[float, float]:
    """A point inside the polygon for its label: middle of the widest span on the centroid's latitude.

    (A plain centroid can fall outside a crescent-shaped county or in the sea between islands.)
    """
    ring = polygon[0]
    a = _signed_area(ring) or 1e-12
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:], strict=False))
    cy /= 6 * a
    xs = []
    for r in polygon:
        for (x0, y0, *_), (x1, y1, *_) in zip(r, r[1:], strict=False):
            if (y0 <= cy < y1) or (y1 <= cy < y0):
                xs.append(x0 + (cy - y0) * (x1 - x0) / (y1 - y0))
    xs.sort()
    spans = [(xs[i + 1] - xs[i], (xs[i] + xs[i + 1]) / 2) for i in range(0, len(xs) - 1, 2)]
    if not spans:
        return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    return max(spans)[1], cy


@lru_cache(maxsize=2)
def label_points(kind: str = "counties") -> dict[str, tuple[float, float]]:
    """Label position (lon, lat) of each region: inside its largest part."""
    out = {}
    for code, f in _features_by_code(kind).items():
        largest = max(_polygons(f), key=lambda p: abs(_signed_area(p[0])))
        out[code] = _label_point(largest)
    return out


def outline_paths(codes: Iterable[str], kind: str = "counties") -> list[list[tuple[float, float]]]:
    """Outer boundary of the union of `codes` as polylines (borders shared by two members cancel).

    The boundary file is a topology-preserving simplification (neighbours share exact vertices), so
    an edge that appears twice lies inside the group and is dropped; what remains is its outline.
    """
    feats = _features_by_code(kind)
    count: dict[tuple, int] = defaultdict(int)
    for c in codes:
        for poly in _polygons(feats[c]):
            for ring in poly:
                for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:], strict=False):
                    a, b = (round(x0, 6), round(y0, 6)), (round(x1, 6), round(y1, 6))
                    if a != b:
                        count[(a, b) if a < b else (b, a)] += 1
    edges = [e for e, n in count.items() if n == 1]
    nbrs: dict[tuple, list[tuple]] = defaultdict(list)
    for a, b in edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    used: set[tuple] = set()
    paths = []
    for a, b in edges:
        if (a, b) in used:
            continue
        used.add((a, b))
        path, cur = [a, b], b
        while True:
            nxt = next((n for n in nbrs[cur] if ((cur, n) if cur < n else (n, cur)) not in used), None)
            if nxt is None:
                break
            used.add((cur, nxt) if cur < nxt else (nxt, cur))
            path.append(nxt)
            cur = nxt
        paths.append(path)
    return paths


def mountain_group(geo: Geography, on: dt.date) -> str | None:
    """The 山区 peer group valid on `on`: 山区26县 before 2024-08, 山区海岛25县 from then."""
    return next((g for g in MOUNTAIN_GROUPS if g in geo.regions and geo.group_valid_on(g, on)), None)


def short_name(name: str, lang: str) -> str:
    """上城区 -> 上城, Chun'an County -> Chun'an: province-zoom labels that fit their county."""
    if lang == "en":
        for suffix in (" She Autonomous County", " District", " County", " City"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name
    if name.endswith("自治县"):  # 景宁畲族自治县 -> 景宁
        return name[:2]
    if len(name) >= 3 and name[-1] in "区县市":
        return name[:-1]
    return name


@lru_cache(maxsize=2)
def areas(kind: str = "counties") -> dict[str, float]:
    """Planar area (square degrees) of each region: small urban districts get smaller labels."""
    return {code: sum(abs(_signed_area(p[0])) for p in _polygons(f)) for code, f in _features_by_code(kind).items()}


def label_sizes(codes: Sequence[str], kind: str, size: int) -> list[int]:
    """Font size per label: the base size, one or two points less in small districts (less overlap)."""
    a = areas(kind)
    return [size - 2 if a[c] < 0.03 else size - 1 if a[c] < 0.07 else size for c in codes]


# -- rows: what the map shows, from the engine's bulk frame ---------------------------------------
ROW_COLUMNS = ["region", "value", "target", "attainment", "status", "rank", "rank_of", "change_prev", "complete",
               "n_reported", "n_expected"]


def region_rows(bulk: pd.DataFrame | None, kpi: str, regions: Sequence[str]) -> pd.DataFrame:
    """One row per region (in the given order) with the engine's value, target, status and rank.

    Status and rank are taken as the engine gives them (the rankings use the same), so the map and
    the league table can never disagree; a region without a row is 'missing'.
    """
    base = pd.DataFrame({"region": pd.Series(list(regions), dtype=object)})  # typed even when empty
    if bulk is None or bulk.empty:
        rows = base.assign(**{c: None for c in ROW_COLUMNS[1:]})
    else:
        sel = bulk.loc[(bulk["kpi"] == kpi) & bulk["region"].isin(regions), ROW_COLUMNS]
        rows = base.merge(sel, on="region", how="left")
    rows["status"] = rows["status"].fillna("missing").astype(str)
    return rows


def status_colour(status: str) -> str:
    """The map colour of an engine status (the same colours as the tiles and league tables)."""
    return fmt.STATUS_COLOURS.get(status, fmt.STATUS_COLOURS["missing"])


def effective_colour(bulk: pd.DataFrame, kpi: Kpi, regions: Sequence[str], colour: str) -> str:
    """'status' unless no region in view has a target (a count such as daily actives): then 'value'."""
    if colour != "status":
        return colour
    if bulk is None or bulk.empty:
        return "status"
    rows = bulk[(bulk["kpi"] == kpi.code) & bulk["region"].isin(regions)]
    return "status" if rows["target"].notna().any() else "value"


def display_value(v: object, kpi: Kpi) -> float | None:
    """A value in the unit the legend shows (percent points for rates)."""
    if not fmt.is_num(v):
        return None
    return float(v) * (100 if kpi.format == "percent" else 1)


def value_range(values: Iterable[object], kpi: Kpi) -> tuple[float, float] | None:
    """(min, max) in display units over all the values given: held fixed while months change."""
    vals = [x for x in (display_value(v, kpi) for v in values) if x is not None and math.isfinite(x)]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-9:
        pad = abs(hi) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    return lo, hi


def value_scale(kpi: Kpi) -> list:
    """The sequential colour scale, turned so that brighter always means better (direction-aware)."""
    if kpi.direction == "up":
        return VALUE_SCALE
    return [[round(1 - s, 6), c] for s, c in reversed(VALUE_SCALE)]


def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def scale_colour(scale: list, frac: float) -> str:
    """Linear interpolation in a Plotly colour scale at frac (0..1), as #rrggbb."""
    frac = min(1.0, max(0.0, frac))
    for (s0, c0), (s1, c1) in zip(scale, scale[1:], strict=False):
        if s0 <= frac <= s1:
            w = 0.0 if s1 == s0 else (frac - s0) / (s1 - s0)
            a, b = _hex(c0), _hex(c1)
            return "#" + "".join(f"{round(x + (y - x) * w):02x}" for x, y in zip(a, b, strict=True))
    return scale[-1][1]


def region_colours(rows: pd.DataFrame, kpi: Kpi, colour: str, zrange: tuple[float, float] | None) -> list[str]:
    """Fill colour per row: the status colour, or the value's place on the (fixed) scale."""
    if colour == "status":
        return [status_colour(s) for s in rows["status"]]
    rng = zrange or value_range(rows["value"], kpi) or (0.0, 1.0)
    scale = value_scale(kpi)
    out = []
    for v in rows["value"]:
        d = display_value(v, kpi)
        out.append(fmt.STATUS_COLOURS["na"] if d is None else scale_colour(scale, (d - rng[0]) / (rng[1] - rng[0])))
    return out


# -- tooltips -------------------------------------------------------------------------------------
def hover_lines(r: pd.Series, kpi: Kpi, geo: Geography, lang: str, bold: bool = True) -> list[str]:
    """Name, value, target, attainment, status and rank, change since the previous period.

    bold=False gives plain text (the 3D tooltip escapes values and sets the bold in its template).
    """
    b0, b1 = ("<b>", "</b>") if bold else ("", "")
    reg = geo.get(r["region"])
    parent = geo.get(reg.parent_code).name(lang) if reg.level == "county" and reg.parent_code else ""
    tgt = (f"{t('target', lang)} {fmt.value(r['target'], kpi, lang)} · {t('attainment', lang)} "
           f"{fmt.percent(r['attainment'], 1)}" if fmt.is_num(r["target"]) else t("no_target", lang))
    rank = (t("maps_rank_of", lang, rank=int(r["rank"]), of=int(r["rank_of"])) if fmt.is_num(r["rank"])
            else t("rank_na", lang))
    lines = [
        f"{b0}{reg.name(lang)}{b1}" + (f" · {parent}" if parent else ""),
        f"{kpi.name(lang)}: {b0}{fmt.value(r['value'], kpi, lang)}{b1}",
        tgt,
        f"{t('status', lang)}: {fmt.status_label(str(r['status']), lang)} · {rank}",
        f"{t('maps_change_prev', lang)}: {fmt.change(r['change_prev'], kpi, lang)}",
    ]
    n_exp = pd.to_numeric(pd.Series([r.get("n_expected")]), errors="coerce").iloc[0]
    if pd.notna(n_exp) and int(n_exp) > 1 and r.get("complete") is not None and not bool(r.get("complete")):
        lines.append(t("reported", lang, n=int(r["n_reported"]), of=int(n_exp)))  # a partial figure says so
    return lines


def coverage_note(bulk: pd.DataFrame | None, kpi: str, regions: Sequence[str], lang: str) -> str:
    """"Incomplete: N/M reported" for a map whose regions are not all in (empty when they are): the map
    colours what has arrived, and says how much that is."""
    if bulk is None or bulk.empty:
        return ""
    rows = bulk[(bulk["kpi"] == kpi) & bulk["region"].isin(list(regions))]
    if rows.empty or bool(rows["complete"].astype(bool).all()):
        return ""
    n = int(rows["n_reported"].sum())
    of = int(rows["n_expected"].sum())
    pending = bool(rows["pending"].astype(bool).any()) if "pending" in rows else False
    return t("maps_coverage", lang, n=n, of=of, pending=t("maps_coverage_pending", lang) if pending else "")


# -- flat map (Plotly) ----------------------------------------------------------------------------
def _colorbar(kpi: Kpi, rng: tuple[float, float], lang: str) -> dict:
    """Colour bar in the KPI's unit (85.0%, 145.7万人): five ticks across the fixed range."""
    lo, hi = rng
    ticks = [lo + (hi - lo) * i / 4 for i in range(5)]
    scale = 100 if kpi.format == "percent" else 1
    better = t("maps_better_high" if kpi.direction == "up" else "maps_better_low", lang)
    return dict(
        thickness=12, len=0.7, x=0.99, xanchor="right", y=0.5, tickvals=ticks,
        ticktext=[fmt.value(v / scale, kpi, lang) for v in ticks], tickfont=dict(color="#cbd5e1", size=12),
        title=dict(text=better, font=dict(color="#cbd5e1", size=12), side="top"), ypad=14,
        bgcolor="rgba(11,20,38,0.6)", outlinewidth=0,
    )


def _status_scale() -> list:
    """Discrete colour bands: status z sits in the middle of band z (STATUS_Z[s] + 0.5)."""
    scale = []
    n = len(STATUS_Z)
    for st, z in STATUS_Z.items():
        c = fmt.STATUS_COLOURS[st]
        scale += [[z / n, c], [(z + 1) / n, c]]
    return scale


def path_trace(paths: list[list[tuple[float, float]]], colour: str, width: float, name: str = "",
               legend: bool = False) -> go.Scattergeo:
    """Polylines on the map (group outline, selected region); never hovered or clicked."""
    lon: list[float | None] = []
    lat: list[float | None] = []
    for p in paths:
        lon += [x for x, _ in p] + [None]
        lat += [y for _, y in p] + [None]
    return go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color=colour, width=width), name=name,
                         hoverinfo="skip", showlegend=legend)


def outline_trace(codes: Sequence[str], kind: str = "counties", name: str = "") -> go.Scattergeo:
    """A thick outline around a group of regions (the 山区 peer group)."""
    return path_trace(outline_paths(codes, kind), OUTLINE_COLOUR, 3.2, name=name, legend=bool(name))


def label_trace(codes: Sequence[str], geo: Geography, lang: str, kind: str = "counties", short: bool = True,
                size: int = 11) -> go.Scattergeo:
    """Region names at points inside each region, light text with a dark halo (dark theme, any fill)."""
    pts = label_points(kind)
    names = [geo.get(c).name(lang) for c in codes]
    return go.Scattergeo(
        lon=[pts[c][0] for c in codes], lat=[pts[c][1] for c in codes], mode="text",
        text=[short_name(n, lang) if short else n for n in names], hoverinfo="skip", showlegend=False,
        textfont=dict(family=FONT, size=label_sizes(codes, kind, size) if short else size, color="#f8fafc",
                      shadow=LABEL_SHADOW),
    )


def region_map(
    rows: pd.DataFrame, kpi: Kpi, geo: Geography, lang: str, kind: str = "counties", colour: str = "status",
    zrange: tuple[float, float] | None = None, height: int = 420, labels: bool = False, short_labels: bool = True,
    outline: Sequence[str] = (), outline_name: str = "", selected: str | None = None, label_size: int = 11,
) -> go.Figure:
    """The choropleth of `rows` (from region_rows): status bands or a value scale with a unit colour bar.

    `zrange` (display units) fixes the value scale, e.g. over every month of a time slider.
    """
    codes = rows["region"].tolist()
    text = ["<br>".join(hover_lines(r, kpi, geo, lang)) for _, r in rows.iterrows()]
    common = dict(
        geojson=boundaries_of(tuple(sorted(codes)), kind), featureidkey="properties.code", locations=codes,
        text=text, customdata=codes, hovertemplate="%{text}<extra></extra>", marker_line_color=BORDER_COLOUR,
        marker_line_width=0.6 if kind == "counties" else 1.2, name="",
    )
    if colour == "value":
        rng = zrange or value_range(rows["value"], kpi) or (0.0, 1.0)
        z = [display_value(v, kpi) for v in rows["value"]]
        trace = go.Choropleth(**common, z=z, zmin=rng[0], zmax=rng[1], colorscale=value_scale(kpi),
                              colorbar=_colorbar(kpi, rng, lang))
    else:
        z = [STATUS_Z.get(s, STATUS_Z["missing"]) + 0.5 for s in rows["status"]]
        trace = go.Choropleth(**common, z=z, zmin=0, zmax=len(STATUS_Z), colorscale=_status_scale(), showscale=False)
    fig = go.Figure(trace)
    if outline:
        fig.add_trace(outline_trace(outline, kind, outline_name))
    if selected and selected in codes:
        fig.add_trace(path_trace(outline_paths([selected], kind), SELECTED_COLOUR, 3.0))
    if labels:
        fig.add_trace(label_trace(codes, geo, lang, kind, short=short_labels, size=label_size))
    fig.update_geos(visible=False, fitbounds="locations", bgcolor="rgba(0,0,0,0)", projection_type="mercator")
    fig.update_layout(
        height=height, margin=dict(l=0, r=0, t=0, b=0), paper_bgcolor="rgba(0,0,0,0)",
        font=dict(family=FONT, color="#e2e8f0"), dragmode=False,
        hoverlabel=dict(font=dict(family=FONT, size=13), bgcolor="#0f1d33", bordercolor="#38bdf8", align="left"),
        legend=dict(x=0.01, y=0.99, bgcolor="rgba(11,20,38,0.7)", font=dict(size=13, color="#f8fafc")),
    )
    return fig


def county_map(
    bulk: pd.DataFrame, kpi: Kpi, counties: list[str], geo: Geography, lang: str, colour: str = "status",
    height: int = 420,
) -> go.Figure:
    """The overview's county map: status (or value when no county has a target), no labels."""
    colour = effective_colour(bulk, kpi, counties, colour)  # status of a count would be all grey
    return region_map(region_rows(bulk, kpi.code, counties), kpi, geo, lang, "counties", colour, height=height)


def fresh(fig: dict) -> dict:
    """A per-run copy of a figure dict cached across sessions (st.cache_resource): Plotly pops each
    trace's "type" while st.plotly_chart draws it, so two sessions drawing the same cached dict at once
    could see a trace without its type (found by the load test). Copies the top level and each trace."""
    return {**fig, "data": [dict(tr) for tr in fig.get("data", ())], "layout": dict(fig.get("layout", {}))}


class _Prebuilt(go.Figure):
    """A figure dict built from validated Plotly objects, handed to st.plotly_chart as it is.

    st.plotly_chart validates a plain dict by building a go.Figure from it and deep-copying that
    back to a dict: for a county map about 100 ms of server CPU per render, nearly all of it the
    GeoJSON. Given a Figure, it only asks for to_dict(), which here returns the dict unchanged, so the
    chart's JSON (and with it the element id, selection and key) is the same as for the dict.
    """

    def __init__(self, fig: dict) -> None:  # no BaseFigure.__init__: nothing to validate again
        object.__setattr__(self, "_prebuilt", fig)

    def to_dict(self) -> dict:
        return self._prebuilt


def figure_dict(fig: go.Figure) -> dict:
    """`fig` as the dict st.plotly_chart makes of it (validated, keys in Plotly's order), for a cache:
    drawn with prebuilt(), it gives the chart the same JSON as drawing the figure itself."""
    return plotly.tools.return_figure_from_figure_or_data(fig.to_dict(), validate_figure=True)


def prebuilt(fig: dict) -> go.Figure:
    """`fig` (from figure_dict, plus traces from their to_plotly_json(), never hand-written) for
    st.plotly_chart, without its validation pass (see _Prebuilt). Not copied: pass a fresh() one."""
    return _Prebuilt(fig)


def figure_colours(fig: dict | go.Figure) -> dict[str, str]:
    """Colour each region is drawn in, read back from a region_map figure (tests compare it with the engine)."""
    d = fig.to_dict() if isinstance(fig, go.Figure) else fig
    tr = next(x for x in d["data"] if x["type"] == "choropleth")
    scale, lo, hi = tr["colorscale"], tr["zmin"], tr["zmax"]
    out = {}
    for code, z in zip(tr["locations"], tr["z"], strict=True):
        if z is None:
            out[code] = None
            continue
        frac = (z - lo) / (hi - lo)
        if tr.get("showscale") is False:  # discrete bands
            band = min(int(frac * len(STATUS_Z)), len(STATUS_Z) - 1)
            out[code] = scale[2 * band][1]
        else:
            out[code] = scale_colour([list(s) for s in scale], frac)
    return out


def status_legend(lang: str) -> list[tuple[str, str]]:
    return [(fmt.status_label(s, lang), fmt.STATUS_COLOURS[s]) for s in ("green", "amber", "red", "none", "missing", "nocase")]


# -- 3D view (pydeck) -----------------------------------------------------------------------------
ELEVATION_SHARE = 0.09  # tallest block (top of the fixed range) = this share of the width shown
MIN_ELEVATION_SHARE = 0.04  # the lowest value still stands out of the ground


def _rgb(c: str, alpha: int = 235) -> list[int]:
    return [*_hex(c), alpha]


def deck_3d(
    rows: pd.DataFrame, kpi: Kpi, geo: Geography, lang: str, kind: str = "counties", colour: str = "status",
    zrange: tuple[float, float] | None = None, height: int = 640,
) -> pdk.Deck:
    """Extruded regions, height by value on the same fixed range, colour as on the flat map.

    map_provider=None with the local blank style: no basemap, and Streamlit does not substitute its
    Carto default (it does when map_style is None), so the browser requests nothing outside the app.
    """
    feats = _features_by_code(kind)
    rng = zrange or value_range(rows["value"], kpi) or (0.0, 1.0)
    fills = region_colours(rows, kpi, colour, zrange)
    pts = label_points(kind)
    coords = [xy for c in rows["region"] for poly in _polygons(feats[c]) for xy in poly[0]]
    lons, lats = [x for x, *_ in coords], [y for _, y, *_ in coords]
    span = max(max(lons) - min(lons), max(lats) - min(lats), 0.3)
    top = span * 111_000 * ELEVATION_SHARE  # the tallest block, in metres: in proportion to the area shown
    features, labels = [], []
    for (_, r), fill in zip(rows.iterrows(), fills, strict=True):
        d = display_value(r["value"], kpi)
        frac = 0.0 if d is None else min(1.0, max(0.0, (d - rng[0]) / (rng[1] - rng[0])))
        elev = top * (MIN_ELEVATION_SHARE + frac * (1 - MIN_ELEVATION_SHARE)) if d is not None else 0
        f = feats[r["region"]]
        features.append({"type": "Feature", "geometry": f["geometry"], "properties": {
            "code": r["region"], "name": geo.get(r["region"]).name(lang), "fill": _rgb(fill), "elev": elev,
            **{f"tip{i}": line for i, line in enumerate(hover_lines(r, kpi, geo, lang, bold=False))},
        }})
        name = geo.get(r["region"]).name(lang)
        text = short_name(name, lang) if kind == "counties" else name
        labels.append({"pos": [*pts[r["region"]], elev + top * 0.02], "text": text})
    layers = [
        pdk.Layer("GeoJsonLayer", {"type": "FeatureCollection", "features": features}, id="regions",
                  extruded=True, wireframe=False, filled=True, stroked=False, pickable=True, auto_highlight=True,
                  get_fill_color="properties.fill", get_elevation="properties.elev", get_line_color=[11, 20, 38],
                  highlight_color=[34, 211, 238, 200]),
        # labels drawn over the blocks (no depth test); pydeck reads a bare string as an accessor
        # expression, so literal strings go in quotes
        pdk.Layer("TextLayer", labels, id="labels", get_position="pos", get_text="text",
                  get_size=12 if span > 2.5 else 15, get_color=[248, 250, 252], font_family=f'"{FONT}"',
                  character_set='"auto"', outline_width=2, outline_color=[11, 20, 38, 255],
                  font_settings={"sdf": True}, billboard=True, get_alignment_baseline='"bottom"',
                  parameters={"depthCompare": "always", "depthWriteEnabled": False}),
    ]
    view = pdk.ViewState(longitude=(min(lons) + max(lons)) / 2, latitude=(min(lats) + max(lats)) / 2 - span * 0.12,
                         zoom=max(5.0, min(10.0, math.log2(620 / span))), pitch=48, bearing=-12)
    return pdk.Deck(
        layers=layers, initial_view_state=view, map_provider=None, map_style=BLANK_STYLE_URL,
        tooltip={"html": "<b>{tip0}</b><br>{tip1}<br>{tip2}<br>{tip3}<br>{tip4}", "style": {"backgroundColor": "#0f1d33", "color": "#e2e8f0", "fontFamily": FONT,
                                            "border": "1px solid #38bdf8", "fontSize": "13px"}},
        height=height,
    )


def deck_colours(deck: pdk.Deck) -> dict[str, list[int]]:
    """Fill colour of each region in a deck_3d view (tests compare it with the engine's status)."""
    layer = next(x for x in deck.layers if x.id == "regions")
    return {f["properties"]["code"]: f["properties"]["fill"] for f in layer.data["features"]}
