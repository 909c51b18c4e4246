"""Tables of the scheduler process: run history, the single-scheduler lease, freshness
alerts, nightly snapshots and a little job state. They share `store.tables_base.metadata`, so Alembic's
compare sees them; migration 0002 creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from store.tables_base import CODE, MEASURE, metadata

# One row per attempt of a job: a retried failure leaves its failed attempts beside the success.
job_run = sa.Table(
    "job_run",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # the run id
    sa.Column("job_id", sa.String(64), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.Column("status", sa.String(16), nullable=False),  # running | succeeded | failed | retrying | skipped
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("rows_affected", sa.Integer, nullable=True),
    sa.Column("detail", sa.String(1000), nullable=True),
    sa.Column("error", sa.String(2000), nullable=True),
    sa.Column("instance_id", sa.String(128), nullable=False),
    sa.Index("ix_job_run_job_started", "job_id", "started_at"),
)

# The lease that makes exactly one scheduler act: taken and renewed by an atomic conditional UPDATE.
scheduler_lease = sa.Table(
    "scheduler_lease",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=True),
    sa.Column("token", sa.Integer, nullable=False, server_default="0"),  # moves on every take/renew
    sa.Column("acquired_at", sa.DateTime, nullable=True),
    sa.Column("heartbeat_at", sa.DateTime, nullable=True),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

# "逾期未报": one row per (kind, county, period); reopened rather than duplicated.
freshness_alert = sa.Table(
    "freshness_alert",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),  # overdue_report
    sa.Column("region_code", CODE, nullable=False),
    sa.Column("period", sa.String(16), nullable=False),  # e.g. 2026-10
    sa.Column("status", sa.String(16), nullable=False),  # open | closed
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.Column("message", sa.String(500), nullable=False),
    sa.UniqueConstraint("kind", "region_code", "period"),
    sa.Index("ix_freshness_alert_status", "status"),
)

# The nightly attestation of current data: per (month, measure) counts, sums and the newest batch.
snapshot = sa.Table(
    "snapshot",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("snapshot_date", sa.Date, nullable=False),
    sa.Column("taken_at", sa.DateTime, nullable=False),
    sa.Column("data_version", sa.Integer, nullable=False),
    sa.Column("n_obs", sa.BigInteger, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # sha256 over the items
    sa.UniqueConstraint("snapshot_date"),
)

snapshot_item = sa.Table(
    "snapshot_item",
    metadata,
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshot.id"), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("measure_code", MEASURE, primary_key=True),
    sa.Column("n_regions", sa.Integer, nullable=False),
    sa.Column("n_obs", sa.Integer, nullable=False),
    sa.Column("value_sum", sa.Double, nullable=False),
    sa.Column("max_batch_id", sa.Integer, nullable=False),
)
