"""The metrics layer: KPI catalogue, geography, periods and the engine. No Streamlit here.

    >>> from metrics import open_engine
    >>> eng = open_engine()                   # DATABASE_URL, or the embedded SQLite file
    >>> eng.value("online_handling_rate", "330100", "2024-06").value
"""

from __future__ import annotations

from metrics.catalogue import Catalogue, Kpi, catalogue
from metrics.engine import EngineError, KpiResult, MetricsEngine
from metrics.periods import Period

__all__ = ["Catalogue", "EngineError", "Kpi", "KpiResult", "MetricsEngine", "Period", "catalogue", "open_engine"]


def open_engine(url: str | None = None, **kwargs) -> MetricsEngine:
    """An engine on DATABASE_URL (or `url`), schema migrated to head."""
    from store import Store

    store = Store(url)
    store.migrate()
    return MetricsEngine(store, **kwargs)
