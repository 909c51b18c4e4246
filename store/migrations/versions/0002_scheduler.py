"""Scheduler: job run history, the single-scheduler lease, freshness alerts, nightly snapshots, job state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CODE = sa.String(24)
MEASURE = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, server_default="1", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("rows_affected", sa.Integer, nullable=True),
        sa.Column("detail", sa.String(1000), nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("instance_id", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_run"),
    )
    op.create_index("ix_job_run_job_started", "job_run", ["job_id", "started_at"])
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("token", sa.Integer, server_default="0", nullable=False),
        sa.Column("acquired_at", sa.DateTime, nullable=True),
        sa.Column("heartbeat_at", sa.DateTime, nullable=True),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_lease"),
    )
    op.create_table(
        "freshness_alert",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.Column("message", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_freshness_alert"),
        sa.UniqueConstraint("kind", "region_code", "period", name="uq_freshness_alert_kind_region_code_period"),
    )
    op.create_index("ix_freshness_alert_status", "freshness_alert", ["status"])
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("snapshot_date", sa.Date, nullable=False),
        sa.Column("taken_at", sa.DateTime, nullable=False),
        sa.Column("data_version", sa.Integer, nullable=False),
        sa.Column("n_obs", sa.BigInteger, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_snapshot"),
        sa.UniqueConstraint("snapshot_date", name="uq_snapshot_snapshot_date"),
    )
    op.create_table(
        "snapshot_item",
        sa.Column("snapshot_id", sa.Integer, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("measure_code", MEASURE, nullable=False),
        sa.Column("n_regions", sa.Integer, nullable=False),
        sa.Column("n_obs", sa.Integer, nullable=False),
        sa.Column("value_sum", sa.Double, nullable=False),
        sa.Column("max_batch_id", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshot.id"], name="fk_snapshot_item_snapshot_id_snapshot"),
        sa.PrimaryKeyConstraint("snapshot_id", "month", "measure_code", name="pk_snapshot_item"),
    )


def downgrade() -> None:
    for table in ("snapshot_item", "snapshot", "freshness_alert", "scheduler_lease", "job_run"):
        op.drop_table(table)
