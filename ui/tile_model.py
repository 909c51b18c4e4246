"""What a tile and a system score carry, ready to draw (text already formatted, status decided).

Apart from `ui/tiles.py`, which fills them from the engine's frame, so the HTML that draws them needs
nothing of how they are filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Tile:
    kpi: str
    system: str
    name: str
    value: str
    status: str
    target: str
    attainment: str
    mom: tuple[str, str, str]  # glyph, colour, text
    yoy: tuple[str, str, str]
    spark: list[float | None]
    rank: str
    tooltip: str
    as_of: str
    reported: str | None = None
    notes: list[str] = field(default_factory=list)
    forecast: str | None = None  # '按当前进度，预计年底达到 …（目标 …），达标概率 …'
    forecast_tip: str | None = None  # its 80% interval, the month the target is met, the method
    forecast_prob: float | None = None


@dataclass
class SystemScore:
    code: str
    name: str
    score: float | None  # 0..1, published: one decimal of a point, rounded down
    status: str
    n_green: int
    n_target: int
    n_kpis: int
    share: str = ""  # '达标 3/4', or that the system has no targeted KPI here
