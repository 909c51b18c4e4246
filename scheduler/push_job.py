"""Scheduled job push: the morning brief and the event pushes (push/job.py), queued once per event and
recipient and sent with retries. The engine and the push package are loaded when the job runs, as
in pack_job, so the scheduler's start and its health check stay light.
"""

from __future__ import annotations

from scheduler.history import JobResult
from store import Store


def push(store: Store, instance_id: str) -> JobResult:
    from metrics.engine import MetricsEngine
    from push import job

    res = job.run(MetricsEngine(store), instance_id)
    queued = sum(res.get("queued", {}).values())
    return JobResult(rows_affected=int(res.get("sent", 0)), detail={**res, "queued_total": queued})
