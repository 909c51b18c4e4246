"""The engine and its answers, cached for the Streamlit process (the only place that opens it).

The engine is created once per process and database URL (st.cache_resource). Frames are cached
keyed by the engine's data_version, so new data invalidates them even when another process
(import, scheduler) wrote it. `version()` is a real round trip that raises when the database is
unreachable (the frame turns that into a banner); a failed engine creation is not cached, and a
cached engine's pool reconnects by itself, so the app recovers without a restart. (Prefetching the overview's frames in background threads was
tried and gave no gain, so it is not done.)
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from metrics import MetricsEngine, open_engine
from metrics.periods import Period
from metrics.scoped import ScopedEngine, filter_regions
from store.db import database_url


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> MetricsEngine:
    return open_engine(url)


def engine() -> MetricsEngine:
    """The engine on DATABASE_URL (one per URL and process)."""
    return _engine(database_url())


# What "the database is not answering" looks like: driver errors (refused, reset, timed out),
# SQLAlchemy's pool timeout, and a socket error that escaped the driver.
# (Not every DBAPIError: a ProgrammingError is a bug to show, not an outage to wait out.)
DB_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, ConnectionError,
)


def version() -> int:
    """The data version, read now (no swallowed errors: an outage must surface, not look like 0)."""
    return int(engine().store.get_meta("data_version", "0") or 0)


def describe_error(exc: BaseException) -> str:
    """The error's class (and the driver's), never its text: that can hold the URL or user names."""
    name = type(exc).__name__
    orig = getattr(exc, "orig", None)
    if orig is not None:
        name += f" · {type(orig).__module__.split('.')[0]}.{type(orig).__name__}"
    return name


@st.cache_resource(show_spinner=False, max_entries=32)
def _bulk(url: str, period: str, version: int) -> pd.DataFrame:
    return engine().bulk(Period.parse(period))


def allowed() -> frozenset[str]:
    """Region codes the signed-in user may read (none when nobody is signed in)."""
    from ui import auth

    return auth.allowed_regions()


def restriction() -> frozenset[str] | None:
    """The signed-in user's region codes, or None for a province-wide scope (nothing to filter)."""
    ok = allowed()
    return None if len(ok) >= len(engine().geo.regions) else ok


def visible(df: pd.DataFrame, column: str = "region") -> pd.DataFrame:
    """`df` without rows about regions outside the signed-in user's scope (the scoped data layer)."""
    ok = allowed()
    if df is None or column not in getattr(df, "columns", ()) or len(ok) >= len(engine().geo.regions):
        return df
    return filter_regions(df, ok, column)


def scoped_engine() -> ScopedEngine:
    """The engine seen through the signed-in user's scope (for direct engine calls from pages)."""
    return ScopedEngine(engine(), allowed())


def bulk(period: Period) -> pd.DataFrame:
    """All KPIs x regions in the user's scope for the period (shared read-only frame: never mutate it)."""
    return visible(_bulk(database_url(), period.label, version()))


@st.cache_data(show_spinner=False, max_entries=256)
def _latest(url: str, version: int) -> str | None:
    p = engine().latest_month()
    return p.label if p else None


def latest() -> Period | None:
    s = _latest(database_url(), version())
    return Period.parse(s) if s else None


@st.cache_data(show_spinner=False, max_entries=512)
def _trend(
    url: str, kpis: tuple[str, ...], regions: tuple[str, ...], end: str, months: int, version: int
) -> pd.DataFrame:
    return engine().trend(list(kpis), list(regions), Period.parse(end), months)


def trend(kpis: list[str], regions: list[str], end: Period, months: int = 12) -> pd.DataFrame:
    return visible(_trend(database_url(), tuple(kpis), tuple(regions), end.label, months, version()))


def has_data(df: pd.DataFrame) -> bool:
    return df is not None and not df.empty and bool(df["value"].notna().any())
