"""The deck's county map: outlines projected and decimated to vector shapes, and labels placed so none
overlap. Shared by both renderers and presentation mode."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from metrics.geometry import read_boundaries
from pack.deck import MapData
from pack.fitting import text_width


@lru_cache(maxsize=1)
def county_shapes(tolerance: float = 0.004) -> dict[str, list[list[tuple[float, float]]]]:
    """County outlines from data/geo, projected (x = lon·cos φ0, y = lat) and decimated so a map
    draws as a few thousand vector points: crisp at any zoom, no browser or image renderer needed."""
    data = read_boundaries("counties")
    cos0 = math.cos(math.radians(29.2))
    out: dict[str, list[list[tuple[float, float]]]] = {}
    for f in data["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        rings = []
        for poly in polys:
            ring = poly[0]  # outer ring; holes are not drawn (none matter at slide scale)
            kept = [ring[0]]
            for pt in ring[1:]:
                if abs(pt[0] - kept[-1][0]) + abs(pt[1] - kept[-1][1]) >= tolerance:
                    kept.append(pt)
            if len(kept) >= 4:
                rings.append([(x * cos0, y) for x, y in kept])
        out[f["properties"]["code"]] = rings
    return out


def map_frame(width: float, height: float) -> tuple[float, float, float, float, float]:
    """Scale and offsets that fit the province into width x height (y grows downwards)."""
    pts = [p for rings in county_shapes().values() for ring in rings for p in ring]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    s = min(width / (x1 - x0), height / (y1 - y0))
    ox = (width - s * (x1 - x0)) / 2
    oy = (height - s * (y1 - y0)) / 2
    return s, x0, y1, ox, oy


def project(pt: tuple[float, float], frame: tuple[float, float, float, float, float]) -> tuple[float, float]:
    s, x0, y1, ox, oy = frame
    return ox + (pt[0] - x0) * s, oy + (y1 - pt[1]) * s


LABEL_DARK, LABEL_LIGHT = "1F2933", "FFFFFF"
AA_NORMAL = 4.5  # WCAG AA for text below 18 pt (14 pt bold): every map label is that small


def luminance(hex_: str) -> float:
    """WCAG relative luminance of a colour "RRGGBB" (a leading # allowed)."""
    h = hex_.lstrip("#")

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(int(h[i:i + 2], 16) / 255) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def label_colours(fill: str) -> tuple[str, str]:
    """(text, outline) of a label drawn straight on a county of colour `fill`: the darker or the lighter
    ink, whichever contrasts more with the fill, outlined in the other so edges and neighbours read too."""
    if contrast(LABEL_LIGHT, fill) > contrast(LABEL_DARK, fill):
        return LABEL_LIGHT, LABEL_DARK
    return LABEL_DARK, LABEL_LIGHT


def map_labels(m: MapData, frame: tuple[float, float, float, float, float], size: float, unit: float = 1.0,
               measure: Callable[[str, float], float] = text_width) -> list[tuple[str, float, float, float, float]]:
    """(label, x, y, w, h) of each map label in the frame's units (`unit` per point): centred on its county,
    moved up or down by a label's height until it overlaps no label placed before it. Renderers draw each
    on a white tag with a dark border, so it reads on any fill."""
    placed: list[tuple[str, float, float, float, float]] = []

    def clash(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
        return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]

    for code, label in m.labels.items():
        rings = county_shapes().get(code)
        if not rings:
            continue
        ring = max(rings, key=len)
        px, py = project((sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)), frame)
        w, h = (measure(label, size) + 12) * unit, size * 1.8 * unit
        box = (px - w / 2, py - h / 2, w, h)
        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            box = (px - w / 2, py - h / 2 + k * (h + 2 * unit), w, h)
            if not any(clash(box, b[1:]) for b in placed):
                break
        placed.append((label, *box))
    return placed
