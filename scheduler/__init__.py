"""The scheduler process: drop-folder imports, rollup refresh/repair, freshness alerts,
nightly snapshots. Runs as its own process (`python -m scheduler`), never imports Streamlit.

Exactly one scheduler acts at a time: it holds a lease row (scheduler.lock) that it renews; others
wait and take over when the lease expires. Every attempt of every job is written to `job_run`
(scheduler.history); failures are retried with backoff, and a job's writes are one transaction so a
job killed halfway leaves no partial data.
"""
