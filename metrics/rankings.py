"""赛马晾晒, what its four features share: populations, standings, rank change, the trend memo.

The features live beside it: league tables (metrics.league), composite evaluations
(metrics.composite), red/black lists (metrics.redblack) and county comparison (metrics.comparison).

Everything here composes on the engine's public API (`bulk`, `trend`, `geo`, `catalogue`) and
returns tidy pandas DataFrames with plain column names, so the pages, the meeting pack and a CSV
download all show the same numbers. No Streamlit.

Fairness rules, applied everywhere a region is ranked or listed:
- only regions with a value and complete data are ranked (competition ranking 1, 2, 2, 4, best
  first, direction-aware); a county that did not report is 逾期未报 and never ranked on imputed data;
- a county whose denominator is below the KPI's `min_denominator` (per month for flows) is a
  small sample: ranked separately (default) or ranked with its Wilson 95% interval and the range of
  ranks that interval allows — it is never crowned or shamed on three cases;
- province-level-only KPIs are not rankable below the province and are refused.

Rank change compares like with like: the previous period is ranked within the *same* set of
regions as the current table (for a peer group, its members at the current period's end), so a
change of membership does not show up as a change of rank. A region ranked now but not then is
"新" (new).
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from metrics import texts
from metrics.catalogue import Kpi
from metrics.engine import EngineError, MetricsEngine
from metrics.geography import Geography
from metrics.periods import Period

STANDINGS: dict[str, tuple[str, str]] = {  # (zh, en) of each standing, from the text table
    code: (texts.tr(f"standing_{code}", "zh"), texts.tr(f"standing_{code}", "en"))
    for code in ("ranked", "small_sample", "overdue", "incomplete", "pending", "nocase", "no_data")
}
STANDING_ORDER = {"ranked": 0, "small_sample": 1, "incomplete": 2, "overdue": 3, "pending": 4, "nocase": 5,
                  "no_data": 6}


class RankingError(ValueError):
    """A ranking question that cannot be answered (province-only KPI, group not valid then, …)."""


# -- populations --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Population:
    """Who is raced: all 90 counties, the 11 cities, a city's counties, a peer group (by date), or
    townships (all of the province's, or one county's: code = the county)."""

    kind: Literal["counties", "cities", "city", "group", "townships"]
    code: str | None = None

    @classmethod
    def parse(cls, spec: str | Population, geo: Geography) -> Population:
        """'counties' | 'cities' | 'city:330100' | 'group:SHANQU26' | a city or group code or name |
        'townships' | 'townships:330102' (a county's townships)."""
        if isinstance(spec, Population):
            return spec
        s = spec.strip()
        if s in ("counties", "cities", "townships"):
            return cls(s)  # type: ignore[arg-type]
        if s.startswith("townships:"):
            try:
                code = geo.resolve(s.partition(":")[2])
            except KeyError as exc:
                raise RankingError(exc.args[0]) from None
            if geo.get(code).level != "county":
                raise RankingError(f"{spec!r}: townships are raced within a county, not a {geo.get(code).level}")
            return cls("townships", code)
        if ":" in s:
            kind, _, code = s.partition(":")
            if kind not in ("city", "group"):
                raise RankingError(f"unknown population {spec!r}: use counties, cities, city:<code> or group:<code>")
            s = code
        try:
            code = geo.resolve(s)
        except KeyError as exc:
            raise RankingError(exc.args[0]) from None
        level = geo.get(code).level
        if level not in ("city", "group"):
            raise RankingError(f"{spec!r} is a {level}, not a city or peer group: nothing to rank inside it")
        return cls(level, code)  # type: ignore[arg-type]

    @property
    def level(self) -> str:
        return {"cities": "city", "townships": "township"}.get(self.kind, "county")

    def regions(self, geo: Geography, on: dt.date) -> list[str]:
        if self.kind == "townships":
            return geo.townships_of(self.code) if self.code else sorted(geo.townships)
        if self.kind == "counties":
            return geo.counties
        if self.kind == "cities":
            return geo.cities
        if self.kind == "city":
            return geo.counties_of(self.code or "")
        r = geo.get(self.code or "")
        if not geo.group_valid_on(r.code, on):
            raise RankingError(
                f"{r.name_zh} ({r.code}) is defined only from {r.valid_from} to {r.valid_to or 'now'}; "
                f"it does not exist on {on}"
            )
        return geo.members(r.code, on)

    def label(self, geo: Geography, lang: str = "zh") -> str:
        if self.kind in ("counties", "cities"):
            return texts.tr(f"pop_{self.kind}", lang)
        if self.kind == "townships" and self.code is None:
            return texts.tr("pop_townships_all", lang)
        name = geo.get(self.code or "").name(lang)
        if self.kind in ("townships", "city"):
            return texts.tr("pop_townships_of" if self.kind == "townships" else "pop_counties_of", lang, name=name)
        return name

    @property
    def key(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"


# -- shared by the features ---------------------------------------------------------------------
def rank_change(rank: pd.Series, prev_rank: pd.Series) -> pd.DataFrame:
    """Places gained since the previous period, with its ▲3 / ▼1 / — / 新 label."""
    change = prev_rank - rank
    zh = np.select(
        [rank.isna(), prev_rank.isna(), change > 0, change < 0],
        ["", texts.tr("rank_new", "zh"), "▲" + change.abs().fillna(0).astype(int).astype(str), "▼" + change.abs().fillna(0).astype(int).astype(str)],
        "—",
    )
    en = np.where(zh == texts.tr("rank_new", "zh"), texts.tr("rank_new", "en"), zh)
    return pd.DataFrame({"rank_change": change, "rank_change_zh": zh, "rank_change_en": en}, index=rank.index)


def rankable_kpi(engine: MetricsEngine, kpi: str) -> Kpi:
    """The KPI, or RankingError when it is unknown or measured at province level only."""
    try:
        k = engine.catalogue.kpi(engine.resolve_kpi(kpi))
    except EngineError as exc:
        raise RankingError(str(exc)) from None
    if engine.catalogue.measure(k.measures[0]).level != "county":
        raise RankingError(f"{k.code} ({k.name_zh}) is measured at province level only: it cannot be ranked below it")
    return k


def resolve_period(engine: MetricsEngine, period: str | Period) -> Period:
    """The period, or RankingError (the pages show a ranking question's error, not the engine's)."""
    try:
        return engine.resolve_period(period)
    except EngineError as exc:
        raise RankingError(str(exc)) from None


def region_names(geo: Geography, regions: pd.Series) -> pd.DataFrame:
    """name_zh, name_en and parent for each region code, aligned on `regions`' index."""
    codes = set(regions)
    return pd.DataFrame({
        "name_zh": regions.map({c: geo.get(c).name_zh for c in codes}),
        "name_en": regions.map({c: geo.get(c).name_en for c in codes}),
        "parent": regions.map({c: geo.get(c).parent_code for c in codes}),
    }, index=regions.index)


_TRENDS: weakref.WeakKeyDictionary[MetricsEngine, OrderedDict] = weakref.WeakKeyDictionary()
_TRENDS_LOCK = threading.Lock()


def memo_trend(engine: MetricsEngine, kpis: Sequence[str], regions: Sequence[str], end: Period, months: int) -> pd.DataFrame:
    """engine.trend, remembered per engine and data version (the engine caches bulk, not trend)."""
    key = (engine.data_version(), engine.today, tuple(kpis), tuple(regions), end, months)
    with _TRENDS_LOCK:
        cache = _TRENDS.setdefault(engine, OrderedDict())
        hit = cache.get(key)
    if hit is not None:
        return hit
    df = engine.trend(list(kpis), list(regions), end, months)
    with _TRENDS_LOCK:
        cache[key] = df
        while len(cache) > 32:
            cache.popitem(last=False)
    return df


def for_download(df: pd.DataFrame) -> pd.DataFrame:
    """A copy fit for CSV/Excel: list cells (trend, missing_kpis) joined into text, nothing else changed."""
    out = df.copy()
    for c in out.columns:
        if out[c].map(lambda x: isinstance(x, list | tuple)).any():
            out[c] = out[c].map(
                lambda x: "; ".join("" if v is None or v != v else f"{v:.6g}" if isinstance(v, float) else str(v) for v in x)
                if isinstance(x, list | tuple) else x
            )
    return out
