"""The one read boundary: every read a screen, the meeting pack or an API makes, seen through a scope.

A `Reader` pairs the engine with a `Scope` (the province, a city or a county: the region codes a
user may read). Scope rules are applied here and nowhere else: frames come back without rows about
regions outside the scope (bulk, trends, league tables, schemes, lists, comparisons, forecasts,
problems), and an explicit request for a region outside it (one value, a named county's townships,
a league table of another city's counties, a comparison of a county outside the scope, one
problem's history) raises PermissionError.

The unscoped answers are computed once and shared by every scope; filtering on the way out is
cheap. To share them across requests, a caller hands the reader a `memo`: a function that wraps
each of this module's read functions (`fn(engine, *args)`, arguments hashable) in a cache. The
Streamlit app's memo (ui.data) keys it on the database and the data version; without one every
read is computed afresh (the pack, the scheduler, tests). No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import pandas as pd

from metrics import apps as ma
from metrics import problems as mp
from metrics.comparison import comparison_trends, peer_position
from metrics.composite import CompositeResult, evaluate_scheme
from metrics.engine import KpiResult, MetricsEngine
from metrics.forecast import FORECAST_COLUMNS, cutoff_of, year_end_forecasts
from metrics.geography import PROVINCE, Geography, geography
from metrics.league import league_table
from metrics.periods import Period
from metrics.rankings import Population
from metrics.redblack import red_black_lists
from metrics.schemes import ListRule, schemes
from store.db import database_url as _database_url

F = TypeVar("F", bound=Callable[..., Any])
Memo = Callable[[Callable[..., Any]], Callable[..., Any]]


def database_url() -> str:
    """The database the app reads (DATABASE_URL, else the embedded SQLite file): the cache's key."""
    return _database_url()


# -- the scope --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """What a user may read: `code` (the province, a city or a county) and every region code under it.

    `full` is the province's scope (nothing to filter). A township is in scope when its county is:
    townships are not listed in `regions` (they would change what a county scope is).
    """

    code: str | None
    regions: frozenset[str]
    full: bool = False

    @classmethod
    def of(cls, code: str | None, geo: Geography) -> Scope:
        """The scope of a user given `code`; None (nobody signed in) reads nothing."""
        return _scope_of(code, geo)

    @classmethod
    def _make(cls, code: str | None, geo: Geography) -> Scope:
        if code is None:
            return cls(None, frozenset())
        if code == PROVINCE:
            return cls(code, frozenset(geo.regions), True)
        r = geo.regions.get(code)
        if r is None or r.level not in ("city", "county"):
            raise ValueError(f"a scope is the province, a city or a county, not {code!r}")
        if r.level == "city":
            return cls(code, frozenset({code, *geo.counties_of(code)}))
        return cls(code, frozenset({code}))

    @property
    def restriction(self) -> frozenset[str] | None:
        """The region codes to filter by, or None for the province (every row)."""
        return None if self.full else self.regions

    def allows(self, region: str) -> bool:
        return self.full or region in self.regions

    def check(self, regions: Iterable[str]) -> None:
        """Raise PermissionError naming the regions outside the scope (an explicit request)."""
        bad = sorted({r for r in regions if not self.allows(r)})
        if bad:
            raise PermissionError(f"outside your scope: {', '.join(bad)}")

    def keep(self, df: pd.DataFrame, column: str = "region") -> pd.DataFrame:
        """Rows of `df` whose `column` is in scope (a frame without that column is returned as is)."""
        if self.full or df is None or column not in getattr(df, "columns", ()):
            return df
        return df[df[column].isin(self.regions)]


_SCOPES: dict[tuple[str | None, int], tuple[Geography, Scope]] = {}


def _scope_of(code: str | None, geo: Geography) -> Scope:
    """Scope.of, computed once per code and geography (a reader is made on every page run)."""
    hit = _SCOPES.get((code, id(geo)))
    if hit is None or hit[0] is not geo:
        hit = _SCOPES[(code, id(geo))] = (geo, Scope._make(code, geo))
    return hit[1]


def filter_regions(df: pd.DataFrame, allowed: frozenset[str], column: str = "region") -> pd.DataFrame:
    """Rows of `df` whose region is in `allowed` (a frame without that column is returned as is)."""
    if df is None or column not in getattr(df, "columns", ()):
        return df
    return df[df[column].isin(allowed)]


# -- populations (who can be raced against whom) ---------------------------------------------------------------
def population_options(geo: Geography, on: dt.date, cities: bool = True, townships: bool = False) -> list[str]:
    """Who can be raced on `on`: all counties, the cities, a city's counties, the peer groups valid then,
    and the townships (when the KPI is measured per township and there are township figures)."""
    out = ["counties"] + (["cities"] if cities else [])
    out += [f"city:{c}" for c in geo.cities]
    out += [f"group:{g}" for g in geo.groups if geo.group_valid_on(g, on)]
    return out + (["townships"] if townships else [])


def peer_options(geo: Geography, on: dt.date, allowed: frozenset[str] | None) -> list[str]:
    """The comparison's peer populations: all of them for the province; for a scoped reader only their
    scope's own group — their city's counties (auth.policy: no province, no peer group mixing other
    cities). A county scope gets its city, whose in-scope part is the county itself (metrics.comparison)."""
    opts = population_options(geo, on, cities=False)
    if allowed is None:
        return opts
    mine = [o for o in opts if o.startswith("city:") and o.partition(":")[2] in allowed]
    counties = sorted(c for c in allowed if c in geo.regions and geo.get(c).level == "county")
    return mine or [f"city:{geo.city_of(c)}" for c in counties[:1]]


def population_level(spec: str) -> str:
    """The level of the regions a population races (city, county or township); an invalid spec is refused."""
    return Population.parse(spec, geography()).level


def apply_overrides(rules: Sequence[ListRule], n: int | None, k: int | None, m: int | None) -> list[ListRule]:
    """The configured rules with N / K / M replaced where the user overrode them."""
    out = []
    for r in rules:
        upd: dict[str, int] = {}
        if n and r.rule in ("top_n", "bottom_n"):
            upd["n"] = n
        if k and r.rule == "consecutive_decline":
            upd["k"] = k
        if m and r.rule == "off_target":
            upd["m"] = m
        out.append(r.model_copy(update=upd) if upd else r)
    return out


# -- the unscoped reads (each cached by the memo; `shared`: one object handed to every caller, never mutated) --
def _hint(shared: bool = False, max_entries: int = 64) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        fn.cache_shared, fn.cache_entries = shared, max_entries  # type: ignore[attr-defined]
        return fn
    return mark


@_hint(max_entries=256)
def _latest(eng: MetricsEngine) -> str | None:
    p = eng.latest_month()
    return p.label if p else None


@_hint()
def _reporting(eng: MetricsEngine) -> list[tuple[str, int, int]]:
    return [(p.label, n, of) for p, n, of in eng.reporting_months()]


@_hint(shared=True, max_entries=32)
def _bulk(eng: MetricsEngine, period: str) -> pd.DataFrame:
    return eng.bulk(Period.parse(period))


@_hint(max_entries=512)
def _trend(eng: MetricsEngine, kpis: tuple[str, ...], regions: tuple[str, ...], end: str,
           months: int) -> pd.DataFrame:
    return eng.trend(list(kpis), list(regions), Period.parse(end), months)


@_hint()
def _townships(eng: MetricsEngine, period: str) -> pd.DataFrame:
    return eng.township_bulk(Period.parse(period))


@_hint()
def _league(eng: MetricsEngine, kpi: str, period: str, pop: str, small: str, mind: float | None) -> pd.DataFrame:
    return league_table(eng, kpi, period, pop, small_sample=small, min_denominator=mind)  # type: ignore[arg-type]


@_hint(max_entries=32)
def _scheme(eng: MetricsEngine, scheme: str, period: str, pop: str | None) -> CompositeResult:
    return evaluate_scheme(eng, scheme, period, pop)


@_hint(max_entries=32)
def _lists(eng: MetricsEngine, period: str, n: int | None, k: int | None, m: int | None) -> pd.DataFrame:
    return red_black_lists(eng, period, apply_overrides(schemes().lists, n, k, m))


@_hint()
def _trends(eng: MetricsEngine, counties: tuple[str, ...], kpis: tuple[str, ...], period: str, months: int,
            peers: str, allowed: tuple[str, ...] | None) -> pd.DataFrame:
    ok = frozenset(allowed) if allowed is not None else None
    return comparison_trends(eng, list(counties), list(kpis), period, months, peers, allowed=ok)


@_hint()
def _position(eng: MetricsEngine, counties: tuple[str, ...], kpis: tuple[str, ...], period: str, peers: str,
              allowed: tuple[str, ...] | None) -> pd.DataFrame:
    ok = frozenset(allowed) if allowed is not None else None
    return peer_position(eng, list(counties), list(kpis), period, peers, allowed=ok)


@_hint(shared=True, max_entries=32)
def _forecasts(eng: MetricsEngine, month: str, kpis: tuple[str, ...]) -> pd.DataFrame:
    return year_end_forecasts(eng, Period.parse(month), kpis=list(kpis) or None)


@_hint(max_entries=8)
def _apps(eng: MetricsEngine) -> tuple[pd.DataFrame, pd.DataFrame]:
    return ma.load_register(eng.store.engine), ma.load_rollout(eng.store.engine)


# (a read built on another calls it directly: once per data version, when its own answer is not cached)
@_hint()
def _apps_league(eng: MetricsEngine, period: str, city: str | None) -> pd.DataFrame:
    p = Period.parse(period)
    usage = ma.load_usage(eng.store.engine, p.start, p.end)
    reg, _ = _apps(eng)
    return ma.league_table(usage, reg, p, [city] if city else None)


@_hint()
def _rollout(eng: MetricsEngine, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    reg, ro = _apps(eng)
    m = ma.rollout_matrix(ro, reg, Period.parse(period).end, eng.geo.counties)
    return m, ma.rollout_summary(m, eng.geo)


@_hint(max_entries=4)
def _problems(eng: MetricsEngine) -> pd.DataFrame:
    return mp.load_problems(eng.store.engine)


@_hint()
def _problem_regions(eng: MetricsEngine, period: str) -> pd.DataFrame:
    p = Period.parse(period)  # on-time closure over the period's due problems, as the KPI tile counts it
    return mp.region_table(_problems(eng), p.end, eng.geo, mp.config(), due_from=p.start)


@_hint(max_entries=256)
def _events(eng: MetricsEngine, problem_id: int, allowed: tuple[str, ...] | None) -> pd.DataFrame:
    return mp.load_scoped_events(eng.store.engine, problem_id, frozenset(allowed) if allowed is not None else None)


def _plain(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


# -- the reader ------------------------------------------------------------------------------------------------
class Reader:
    """Every read for one scope. `memo` caches the unscoped reads (see the module docstring)."""

    def __init__(self, engine: MetricsEngine, scope: Scope, memo: Memo | None = None) -> None:
        self.engine = engine
        self.scope = scope
        self._memo = memo or _plain

    @classmethod
    def for_code(cls, engine: MetricsEngine, code: str | None, memo: Memo | None = None) -> Reader:
        """The reader of a user whose scope is `code` (None: nobody, who reads nothing)."""
        return cls(engine, Scope.of(code, engine.geo), memo)

    def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._memo(fn)(self.engine, *args)

    # the reference data (the same for every scope)
    @property
    def geo(self) -> Geography:
        return self.engine.geo

    @property
    def catalogue(self) -> Any:
        return self.engine.catalogue

    @property
    def today(self) -> dt.date:
        return self.engine.today

    def data_version(self) -> int:
        return int(self.engine.data_version())

    # what the scope holds
    def counties(self) -> list[str]:
        """The counties in scope, in the geography's order."""
        return [c for c in self.geo.counties if self.scope.allows(c)]

    def cities(self) -> list[str]:
        """The cities in scope (a county scope has none: the city aggregate mixes other counties)."""
        return [c for c in self.geo.cities if self.scope.allows(c)]

    def zooms(self) -> list[str]:
        """The areas a map can zoom to: the province (for the province scope) and the cities in scope."""
        return ([PROVINCE] if self.scope.allows(PROVINCE) else []) + self.cities()

    def views(self) -> list[str]:
        """The global scope picker's options: the province and its cities for the province scope (and
        before sign-in, when no data is read anyway), else the user's own city or county."""
        if self.scope.full or self.scope.code is None:
            return [PROVINCE, *self.geo.cities]
        return [self.scope.code]

    def populations(self, on: dt.date, cities: bool = True, townships: bool = False) -> list[str]:
        """The league populations a user may race: all for the province; a scoped user ranks within
        their scope (all counties or townships, filtered to theirs; their own city's counties)."""
        opts = population_options(self.geo, on, cities, townships)
        if self.scope.full:
            return opts
        return [o for o in opts if o in ("counties", "townships") or o.partition(":")[2] in self.scope.regions]

    def groups(self, on: dt.date) -> list[str]:
        """The comparison's county groups in scope (cities' counties and peer groups, no "all counties")."""
        return [g for g in population_options(self.geo, on, cities=False)
                if g != "counties" and (self.scope.full or g.partition(":")[2] in self.scope.regions)]

    def peer_options(self, on: dt.date) -> list[str]:
        """The comparison's peer populations (a scoped user: their own city's counties only)."""
        return peer_options(self.geo, on, self.scope.restriction)

    def whole_province(self) -> MetricsEngine:
        """The engine itself, for the province's own documents (the meeting pack and its freezes), which
        show every region as known at a moment: the province scope only, PermissionError for any other
        (a city's leader would otherwise see every other city's figures in the pack)."""
        if not self.scope.full:
            raise PermissionError(f"the meeting pack shows the whole province, outside your scope: {self.scope.code}")
        return self.engine

    def township_allowed(self, code: str) -> bool:
        """Whether a township (or any region) code may be read: a township when its county may."""
        towns = self.geo.townships
        if code in towns:
            return self.scope.allows(towns[code].parent_code)
        return self.scope.allows(code)

    def check(self, regions: Iterable[str]) -> None:
        """Refuse (PermissionError naming them) an explicit request for regions outside the scope; a
        township is in scope when its county is."""
        bad = sorted({r for r in regions if not self.township_allowed(r)})
        if bad:
            raise PermissionError(f"outside your scope: {', '.join(bad)}")

    def _keep(self, df: pd.DataFrame) -> pd.DataFrame:
        """Rows about regions in scope, township rows included when their county is in scope."""
        if self.scope.full or df is None or "region" not in getattr(df, "columns", ()):
            return df
        towns = self.geo.townships
        if not towns or not df["region"].isin(towns.keys()).any():
            return self.scope.keep(df)
        ok = self.scope.regions | {t for c in self.scope.regions for t in self.geo.townships_of(c)}
        return df[df["region"].isin(ok)]

    def _check_population(self, pop: str | None) -> None:
        """Refuse a population naming a region outside the scope (city:<code>, or a region's code)."""
        if not pop:
            return
        city = pop.partition(":")[2] if pop.startswith("city:") else (pop if pop in self.geo.regions else None)
        if city:
            self.scope.check([city])

    # KPI values
    def latest(self) -> Period | None:
        """The latest month with data (the same for every scope: it is not about a region)."""
        s = self._read(_latest)
        return Period.parse(s) if s else None

    def reporting_months(self) -> list[tuple[str, int, int]]:
        """Coverage: months newer than the latest that hold reports, (month, counties in, expected)."""
        return self._read(_reporting)

    def bulk(self, period: Period | str) -> pd.DataFrame:
        """All KPIs x regions in scope for the period (a shared frame: never mutate it)."""
        return self.scope.keep(self._read(_bulk, _label(period)))

    def value(self, kpi: str, region: str, period: Period | str) -> KpiResult:
        """One KPI value of one region (a township when its county is in scope); refused outside."""
        code = self.engine.resolve_region(region)
        if not self.township_allowed(code):
            self.scope.check([code])
        return self.engine.value(kpi, region, period)

    def trend(self, kpis: Sequence[str], regions: Sequence[str], end: Period, months: int = 12) -> pd.DataFrame:
        """Monthly values of `kpis` for `regions` up to `end`; rows about regions outside the scope are
        left out (a page asks for the province line beside a county; a scoped user just sees no line);
        a township's rows are kept when its county is in scope."""
        return self._keep(self._read(_trend, tuple(kpis), tuple(regions), end.label, months))

    # townships
    def townships(self, period: Period | str, county: str | None = None) -> pd.DataFrame:
        """Township rows of the counties in scope (of `county` only, when named; refused outside)."""
        df = self._read(_townships, _label(period))
        if county is not None:
            self.scope.check([county])
            df = df[df["county"] == county]
        return self.scope.keep(df, "county")

    def has_townships(self, period: Period | str) -> bool:
        """Whether the database holds township figures for the period (the township demo is opt-in)."""
        if not self.geo.townships:
            return False
        return bool(self._read(_townships, _label(period))["value"].notna().any())

    def township_trend(self, kpi: str, township: str, county: str, end: Period) -> pd.DataFrame:
        """A township's 12-month trend beside its county's (refused outside the scope)."""
        if not self.township_allowed(township):
            self.scope.check([township])
        self.scope.check([county])
        return self._read(_trend, (kpi,), (township, county), end.label, 12)

    # races
    def league(self, kpi: str, period: str, pop: str = "counties", small: str = "flag",
               mind: float | None = None) -> pd.DataFrame:
        """A league table with in-scope rows only (a township row when its county is in scope); a
        city population outside the scope is refused."""
        self._check_population(pop)
        table = self._read(_league, kpi, period, pop, small, mind)
        return self.scope.keep(table, "parent" if population_level(pop) == "township" else "region")

    def scheme(self, code: str, period: str, pop: str | None = None) -> CompositeResult:
        """A composite scheme's scores and components, in-scope rows only; a city population outside the
        scope is refused (as for a league table)."""
        self._check_population(pop)
        res = self._read(_scheme, code, period, pop)
        if self.scope.full:
            return res
        return replace(res, scores=self.scope.keep(res.scores), components=self.scope.keep(res.components))

    def lists(self, period: str, n: int | None = None, k: int | None = None, m: int | None = None) -> pd.DataFrame:
        """The red and black lists (N / K / M overriding the configured rules), in-scope rows only."""
        return self.scope.keep(self._read(_lists, period, n, k, m))

    def comparison(self, counties: Sequence[str], kpis: Sequence[str], period: str, peers: str,
                   months: int = 12) -> pd.DataFrame:
        """The counties' trends beside their peers' median (over in-scope peers for a scoped user);
        a county outside the scope is refused."""
        self.scope.check(counties)
        df = self._read(_trends, tuple(counties), tuple(kpis), period, months, peers, self._allowed_key())
        return self.scope.keep(df)

    def position(self, counties: Sequence[str], kpis: Sequence[str], period: str, peers: str) -> pd.DataFrame:
        """Each county's place among its peers (statistics over in-scope peers for a scoped user)."""
        self.scope.check(counties)
        return self.scope.keep(self._read(_position, tuple(counties), tuple(kpis), period, peers,
                                          self._allowed_key()))

    def _allowed_key(self) -> tuple[str, ...] | None:
        r = self.scope.restriction
        return None if r is None else tuple(sorted(r))

    # forecasts
    def forecasts(self, period: Period, kpis: Iterable[str] | None = None) -> pd.DataFrame:
        """Year-end forecasts from the period's last complete month, for the regions in scope.

        Computed for every region (the error scale is fitted over all of them), then scoped."""
        cut = cutoff_of(period, self.latest())
        if cut is None:
            return pd.DataFrame(columns=FORECAST_COLUMNS)
        month = Period.month(cut.year, cut.month).label
        return self.scope.keep(self._read(_forecasts, month, tuple(sorted(kpis or ()))))

    # major applications (usage is kept by city; the rollout by county)
    def apps_register(self) -> pd.DataFrame:
        """The register of major applications (not about a region)."""
        return self._read(_apps)[0]

    def apps_league(self, period: Period, city: str | None = None) -> pd.DataFrame:
        """The applications' league table at `city` (None: the province, for the province scope). Usage is
        kept by city only, so a county scope reads its own city's table."""
        mine = {self.geo.city_of(r) for r in self.scope.regions if r in self.geo.regions} | self.scope.regions
        if not self.scope.full and city not in mine:
            raise PermissionError(f"outside your scope: {city or PROVINCE}")
        return self._read(_apps_league, period.label, city)

    def apps_rollout(self, period: Period) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The rollout matrix of all counties and its summary (ranks among all counties) on the period's
        last day; a page shows the rows of its drill, which the scope bounds."""
        return self._read(_rollout, period.label)

    # problems (七张问题清单)
    def problems(self) -> pd.DataFrame:
        """The problem register, rows of in-scope regions only."""
        return mp.in_scope(self._read(_problems), self.scope.restriction)

    def problem_regions(self, period: Period) -> pd.DataFrame:
        """Per-region problem figures (on-time closure over the period's due problems), in scope."""
        return self.scope.keep(self._read(_problem_regions, period.label))

    def problem(self, code: str | None) -> pd.Series | None:
        """One problem by its code (None when there is none); refused when its region is outside."""
        return mp.find_problem(self._read(_problems), code, self.scope.restriction)

    def problem_events(self, problem_id: int) -> pd.DataFrame:
        """A problem's history (refused when its region is outside the scope)."""
        return self._read(_events, problem_id, self._allowed_key())


def _label(period: Period | str) -> str:
    return period.label if isinstance(period, Period) else Period.parse(period).label
