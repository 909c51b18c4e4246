"""A MetricsEngine seen through a set of allowed regions, for callers that hold an engine (scripts, tests).

A thin face of the read boundary (metrics.access): every rule comes from its `Scope` and `Reader`.
Unlike the reader's trend (which leaves out the regions a page asks for beside the user's own), a
named region outside the scope is refused here: a direct call names exactly what it wants.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from metrics.access import Reader, Scope, filter_regions
from metrics.engine import KpiResult, MetricsEngine
from metrics.league import league_table
from metrics.periods import Period

__all__ = ["ScopedEngine", "check_regions", "filter_regions"]


def check_regions(regions: Iterable[str], allowed: frozenset[str]) -> None:
    Scope(None, frozenset(allowed)).check(regions)


class ScopedEngine:
    """Read-only view of `engine` limited to `allowed` region codes (everything else delegates)."""

    def __init__(self, engine: MetricsEngine, allowed: frozenset[str]) -> None:
        self._engine = engine
        self.allowed = frozenset(allowed)
        self._reader = Reader(engine, Scope(None, self.allowed, self.allowed >= frozenset(engine.geo.regions)))

    def __getattr__(self, name: str) -> Any:  # geo, catalogue, today, latest_month, data_version, ...
        if name == "store":  # the raw store would bypass the scope
            raise PermissionError("the scoped engine does not expose the store")
        return getattr(self._engine, name)

    def bulk(self, period: str | Period, known_at: Any = None) -> pd.DataFrame:
        if known_at is not None:
            return self._reader.scope.keep(self._engine.bulk(period, known_at))
        return self._reader.bulk(period)

    def township_bulk(self, period: str | Period, county: str | None = None) -> pd.DataFrame:
        """Townships of in-scope counties only (a named county outside the scope is refused)."""
        return self._reader.townships(period, county)

    def value(self, kpi: str, region: str, period: str | Period, known_at: Any = None) -> KpiResult:
        if known_at is None:
            return self._reader.value(kpi, region, period)
        self._reader.value(kpi, region, period)  # the scope check
        return self._engine.value(kpi, region, period, known_at)

    def trend(self, kpis: list[str], regions: list[str], end: Period, months: int = 12) -> pd.DataFrame:
        bad = [r for r in regions if not self._reader.township_allowed(r)]
        self._reader.scope.check(bad)
        return self._engine.trend(kpis, regions, end, months)

    def league_table(self, kpi: str, period: str | Period, pop: str = "counties", **kw: Any) -> pd.DataFrame:
        """A league table (population "counties", "cities" or a region code) with in-scope rows only."""
        if isinstance(pop, str) and pop in self._engine.geo.regions:
            self._reader.scope.check([pop])
        return self._reader.scope.keep(league_table(self._engine, kpi, period, pop, **kw))
