"""The app's one Streamlit cache module: the engine, the signed-in user's reader, and `cached`.

The engine is created once per process and database URL (st.cache_resource). Every read goes
through `reader()`: the read boundary (metrics.access) for the signed-in user's scope, whose
unscoped answers are cached here. `cached` is the one decorator for anything derived from the data
(a figure, a view model): it keys on the database URL and the data version by itself, so new data
invalidates every entry even when another process (import, scheduler) wrote it. `version()` is a
real round trip that raises when the database is unreachable (the frame turns that into a banner);
a failed engine creation is not cached, and a cached engine's pool reconnects by itself, so the app
recovers without a restart. (Prefetching the overview's frames in background threads during a run
was tried and gave no gain, so it is not done; what is done is ui.warmup: one background thread fills
the first pages' caches when the server starts and when the data version moves, before anyone asks.)

The signed-in user is read from the session state (USER_KEY, written by ui.auth): this module does
not import ui.auth, which builds on it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from metrics import MetricsEngine, open_engine
from metrics.access import Reader, Scope, database_url
from metrics.periods import Period

F = TypeVar("F", bound=Callable[..., Any])
USER_KEY = "_auth"  # the session state entry holding the signed-in user (ui.auth writes it)


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
    v = int(engine().store.get_meta("data_version", "0") or 0)
    _settle_heap(v)
    return v


# -- the heap ---------------------------------------------------------------------------------------
# Streamlit runs a full garbage collection after every script run (runner.postScriptGC); it walks
# every object the process holds, the caches' frames and figure dicts (tens of thousands of GeoJSON
# lists) included, and that walk was the largest single cost of a warm page. Once the caches have
# grown, the next run after a full collection freezes the heap (gc.freeze): what is alive then moves
# to a permanent generation that collections skip. Frozen objects are still freed by reference
# counting when the last reference goes (an evicted cache entry, an ended session), but a frozen
# reference cycle is not collected until it is unfrozen: so when the data version changes (the old
# entries become garbage) and at the latest every REFREEZE_S seconds, the heap is unfrozen, the next
# full collection walks (and frees) everything once, and the run after it freezes again.
REFREEZE_S = 600.0
_heap_lock = threading.Lock()
_heap: dict[str, Any] = {"grew_at": None, "frozen_at": None, "version": None}


def _full_collections() -> int:
    return gc.get_stats()[2]["collections"]


def _cache_grew() -> None:
    """A cache entry was just filled: freeze after the next full collection."""
    with _heap_lock:
        _heap["grew_at"] = _full_collections()


def _settle_heap(data_version: int) -> None:
    """Freeze or unfreeze the heap as described above (cheap when there is nothing to do)."""
    with _heap_lock:
        now = time.monotonic()
        if _heap["frozen_at"] is not None and (
                data_version != _heap["version"] or now - _heap["frozen_at"] > REFREEZE_S):
            gc.unfreeze()
            _heap["frozen_at"], _heap["grew_at"] = None, _full_collections()
        _heap["version"] = data_version
        grew = _heap["grew_at"]
        if grew is not None and _full_collections() > grew:
            gc.freeze()
            _heap["frozen_at"], _heap["grew_at"] = now, None


def describe_error(exc: BaseException) -> str:
    """The error's class (and the driver's), never its text: that can hold the URL or user names."""
    name = type(exc).__name__
    orig = getattr(exc, "orig", None)
    if orig is not None:
        name += f" · {type(orig).__module__.split('.')[0]}.{type(orig).__name__}"
    return name


# -- the cache ----------------------------------------------------------------------------------------
def _store(fn: Callable[..., Any], shared: bool, max_entries: int) -> Callable[..., Any]:
    """A Streamlit cache around `fn` keyed on (url, version, scope, arguments); `_eng` is not hashed."""
    def keyed(url: str, version: int, scope: str | None, _eng: Any, args: tuple, kwargs: tuple) -> Any:
        _cache_grew()  # runs on a miss only
        return fn(_eng, *args, **dict(kwargs)) if _eng is not None else fn(*args, **dict(kwargs))

    # Streamlit tells caches apart by module and qualified name: give each its function's (and file, since
    # every page script runs as the same module)
    keyed.__module__ = f"{fn.__module__}:{getattr(fn, '__code__', None) and fn.__code__.co_filename}"
    keyed.__qualname__, keyed.__name__ = fn.__qualname__, fn.__name__
    deco = st.cache_resource if shared else st.cache_data
    return deco(show_spinner=False, max_entries=max_entries)(keyed)


def cached(fn: F | None = None, *, shared: bool = False, max_entries: int = 64) -> Any:
    """Cache `fn` per database URL, data version, the signed-in user's scope and the arguments
    (hashable ones: str, numbers, tuples). The scope is part of the key because `fn` reads through
    `reader()`: one scope's answer is never served to another.

    `shared`: the cached object itself is handed to every caller (st.cache_resource: no copy per hit,
    for figure dicts and frames the callers never mutate); otherwise each caller gets a copy.
    """
    def wrap(f: F) -> F:
        store = _store(f, shared, max_entries)

        @functools.wraps(f)
        def call(*args: Any, **kwargs: Any) -> Any:
            return store(database_url(), version(), scope_code(), None, args, tuple(sorted(kwargs.items())))

        call.clear = store.clear  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return wrap(fn) if fn is not None else wrap


_MEMO: dict[Callable[..., Any], Callable[..., Any]] = {}


def _memo(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The reader's memo: one cache per read function of metrics.access, with the hints it carries."""
    got = _MEMO.get(fn)
    if got is None:
        store = _store(fn, getattr(fn, "cache_shared", False), getattr(fn, "cache_entries", 64))

        def got(eng: MetricsEngine, *args: Any) -> Any:  # unscoped: shared by every scope
            return store(database_url(), version(), None, eng, args, ())

        _MEMO[fn] = got
    return got


# -- the signed-in user's reads ---------------------------------------------------------------------------
_WARMING = threading.local()  # the scope a cache warm-up thread reads as (ui.warmup); never a script thread


def scope_code() -> str | None:
    """The signed-in user's scope code (None when nobody is signed in); in a warm-up thread, its scope."""
    warming = getattr(_WARMING, "scope", None)
    if warming is not None:
        return warming
    s = st.session_state.get(USER_KEY)
    return s["scope"] if s else None


@contextlib.contextmanager
def warming_as(scope: str) -> Iterator[None]:
    """Within this block (in a background thread started by the server, which has no session) the cached
    reads are filled for `scope`, as they would be for a user of that scope: ui.warmup only."""
    _WARMING.scope = scope
    try:
        yield
    finally:
        _WARMING.scope = None


def reader() -> Reader:
    """Every read for the signed-in user's scope (nobody signed in reads nothing)."""
    eng = engine()
    return Reader(eng, Scope.of(scope_code(), eng.geo), _memo)


def latest() -> Period | None:
    """The latest month with data (the same for every scope)."""
    return reader().latest()


def has_data(df: pd.DataFrame) -> bool:
    return df is not None and not df.empty and bool(df["value"].notna().any())
