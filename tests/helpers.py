"""Test helpers: a small catalogue covering every aggregation kind, and scratch-store set-up."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.catalogue import Catalogue, parse_catalogue
from metrics.engine import MetricsEngine
from metrics.geography import geography
from store import Store

TODAY = dt.date(2026, 11, 23)


def _measure(code: str, grain: str, aggregation: str, level: str = "county") -> dict:
    return {
        "code": code, "name_zh": code, "name_en": code, "unit_zh": "个", "unit_en": "n", "grain": grain,
        "aggregation": aggregation, "level": level, "source_zh": "测试", "source_en": "test",
        "demo": {"kind": "flow", "start": 1.0, "end": 2.0},
    }


def _kpi(code: str, direction: str = "up", **kw) -> dict:
    base = {
        "code": code, "system": "s", "name_zh": code, "name_en": code, "unit_zh": "个", "unit_en": "n",
        "format": "integer", "direction": direction, "frequency": "monthly", "owner_zh": "测试",
        "owner_en": "test", "definition_zh": "测试", "definition_en": "test",
    }
    return base | kw


def small_catalogue() -> Catalogue:
    """Every aggregation kind once, plus ratios over flows and over a daily count ÷ stock."""
    return parse_catalogue({
        "version": 1,
        "default_status": {"method": "attainment", "green": 1.0, "amber": 0.95},
        "systems": [{"code": "s", "order": 0, "name_zh": "测试", "name_en": "Test", "short_zh": "测", "short_en": "T"}],
        "measures": [
            _measure("flow_m", "month", "sum"),
            _measure("base_m", "month", "sum"),
            _measure("stock_m", "month", "last"),
            _measure("daily_m", "day", "mean_daily"),
            _measure("dayflow_m", "day", "sum"),
            _measure("prov_m", "month", "sum", "province"),
        ],
        "kpis": [
            _kpi("k_flow", kind="simple", measure="flow_m", targets=[{"year": 2023, "value": 100, "source": "assumed"}]),
            _kpi("k_stock", kind="simple", measure="stock_m"),
            _kpi("k_daily", kind="simple", measure="daily_m", frequency="daily"),
            _kpi("k_dayflow", kind="simple", measure="dayflow_m", frequency="daily"),
            _kpi("k_ratio", kind="ratio", numerator="flow_m", denominator="base_m", format="percent",
                 targets=[{"year": 2023, "value": 0.5, "source": "assumed"}]),
            _kpi("k_daily_ratio", kind="ratio", numerator="daily_m", denominator="stock_m", format="percent"),
            _kpi("k_down", direction="down", kind="simple", measure="flow_m",
                 targets=[{"year": 2023, "value": 100, "source": "assumed"}]),
            _kpi("k_prov", kind="simple", measure="prov_m"),
        ],
    })


def scratch_store(url: str) -> Store:
    """The store at `url`, migrated, reference data loaded, all figures removed."""
    store = Store(url)
    store.migrate()
    store.sync_reference(geography())
    clear(store)
    return store


def engine_for(store: Store, catalogue: Catalogue | None = None) -> MetricsEngine:
    return MetricsEngine(store, catalogue=catalogue or small_catalogue(), today=TODAY)


def clear(store: Store) -> None:
    """Remove all figures and batches, keeping schema and reference data."""
    store.replace_all(
        pd.DataFrame(), pd.DataFrame(columns=["batch_id", "region_code", "measure_code", "obs_date", "value"]), {}
    )
