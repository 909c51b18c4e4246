"""Scheduled job push: the morning brief and the event pushes (push/job.py), queued once per event and
recipient and sent with retries. The engine and the push package are loaded when the job runs, as
in pack_job, so the scheduler's start and its health check stay light.

The engine is kept between runs (one per database): its cache is keyed on the data version, so a
run after no new data reads the month's figures from memory instead of folding them again.
"""

from __future__ import annotations

import threading
from typing import Any

from scheduler.history import JobResult
from store import Store

_engines: dict[str, Any] = {}
_lock = threading.Lock()


def _engine(store: Store) -> Any:
    from metrics.engine import MetricsEngine

    key = store.engine.url.render_as_string(hide_password=True)
    with _lock:
        eng = _engines.get(key)
        if eng is None or eng.store.engine is not store.engine:
            eng = _engines[key] = MetricsEngine(store)
        return eng


def push(store: Store, instance_id: str) -> JobResult:
    from push import job

    res = job.run(_engine(store), instance_id)
    queued = sum(res.get("queued", {}).values())
    return JobResult(rows_affected=int(res.get("sent", 0)), detail={**res, "queued_total": queued})
