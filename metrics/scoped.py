"""The scoped data-access layer: a MetricsEngine seen through a user's scope.

Enforcement lives here, not in the widgets: frames come back without rows outside the scope
(bulk, trend, league tables), and an explicit request for a region outside it (value, trend of a
named region, a league table of another population) raises PermissionError. The unscoped engine
stays cached and shared; filtering on the way out is cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from metrics.engine import KpiResult, MetricsEngine
from metrics.periods import Period


def filter_regions(df: pd.DataFrame, allowed: frozenset[str], column: str = "region") -> pd.DataFrame:
    """Rows of `df` whose region is in `allowed` (a frame without that column is returned as is)."""
    if df is None or column not in getattr(df, "columns", ()):
        return df
    return df[df[column].isin(allowed)]


def check_regions(regions: Iterable[str], allowed: frozenset[str]) -> None:
    bad = [r for r in regions if r not in allowed]
    if bad:
        raise PermissionError(f"outside your scope: {', '.join(sorted(bad))}")


class ScopedEngine:
    """Read-only view of `engine` limited to `allowed` region codes (everything else delegates)."""

    def __init__(self, engine: MetricsEngine, allowed: frozenset[str]) -> None:
        self._engine = engine
        self.allowed = frozenset(allowed)

    def __getattr__(self, name: str) -> Any:  # geo, catalogue, today, latest_month, data_version, ...
        if name == "store":  # the raw store would bypass the scope
            raise PermissionError("the scoped engine does not expose the store")
        return getattr(self._engine, name)

    def _with_townships(self, regions: Iterable[str]) -> frozenset[str]:
        """The allowed codes plus those of `regions` that are townships of an allowed county."""
        towns = getattr(self._engine.geo, "townships", {})
        extra = {r for r in regions if r in towns and towns[r].parent_code in self.allowed}
        return self.allowed | extra

    def bulk(self, period: str | Period, known_at: Any = None) -> pd.DataFrame:
        return filter_regions(self._engine.bulk(period, known_at), self.allowed)

    def township_bulk(self, period: str | Period, county: str | None = None, **kw: Any) -> pd.DataFrame:
        """Townships of in-scope counties only (a named county outside the scope is refused)."""
        if county is not None:
            check_regions([county], self.allowed)
        return filter_regions(self._engine.township_bulk(period, county, **kw), self.allowed, "county")

    def value(self, kpi: str, region: str, period: str | Period, known_at: Any = None) -> KpiResult:
        code = self._engine.resolve_region(region)
        check_regions([code], self._with_townships([code]))
        return self._engine.value(kpi, region, period, known_at)

    def trend(self, kpis: list[str], regions: list[str], end: Period, months: int = 12,
              known_at: Any = None) -> pd.DataFrame:
        check_regions(regions, self._with_townships(regions))
        return self._engine.trend(kpis, regions, end, months, known_at)

    def league_table(self, kpi: str, period: str | Period, pop: str = "counties", **kw: Any) -> pd.DataFrame:
        """A league table (population "counties", "cities" or a region code) with in-scope rows only."""
        from metrics.rankings import league_table

        if isinstance(pop, str) and pop in self._engine.geo.regions:
            check_regions([pop], self.allowed)
        return filter_regions(league_table(self._engine, kpi, period, pop, **kw), self.allowed)
