"""Initial schema: regions, membership, batches, observations, monthly rollup, meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CODE = sa.String(24)
MEASURE = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "region",
        sa.Column("code", CODE, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_code", CODE, nullable=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(96), nullable=False),
        sa.Column("type_zh", sa.String(16), nullable=True),
        sa.Column("population", sa.BigInteger, nullable=True),
        sa.Column("population_source", sa.String(16), nullable=True),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_region"),
    )
    op.create_table(
        "region_member",
        sa.Column("group_code", CODE, nullable=False),
        sa.Column("member_code", CODE, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.PrimaryKeyConstraint("group_code", "member_code", "valid_from", name="pk_region_member"),
    )
    op.create_index("ix_region_member_member", "region_member", ["member_code"])
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("region_code", CODE, nullable=True),
        sa.Column("period", sa.String(16), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("checksum", sa.String(64), nullable=True),
        sa.Column("submitted_by", sa.String(64), nullable=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("committed_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), server_default="committed", nullable=False),
        sa.Column("is_demo", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("n_rows", sa.Integer, server_default="0", nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_import_batch"),
    )
    op.create_index("ix_import_batch_region_period", "import_batch", ["region_code", "period"])
    op.create_table(
        "observation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Integer, nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("measure_code", MEASURE, nullable=False),
        sa.Column("obs_date", sa.Date, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("is_current", sa.Boolean, server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"], name="fk_observation_batch_id_import_batch"),
        sa.PrimaryKeyConstraint("id", name="pk_observation"),
    )
    op.create_index("ix_observation_current", "observation", ["measure_code", "month", "is_current"])
    op.create_index("ix_observation_key", "observation", ["region_code", "measure_code", "obs_date"])
    op.create_index("ix_observation_batch", "observation", ["batch_id"])
    op.create_table(
        "rollup_month",
        sa.Column("measure_code", MEASURE, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("value_sum", sa.Double, nullable=False),
        sa.Column("n_obs", sa.Integer, nullable=False),
        sa.Column("last_date", sa.Date, nullable=False),
        sa.Column("last_value", sa.Double, nullable=False),
        sa.Column("max_batch_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("measure_code", "month", "region_code", name="pk_rollup_month"),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_meta"),
    )


def downgrade() -> None:
    # dropping a table drops its indexes (MySQL refuses to drop an index a foreign key needs)
    for table in ("meta", "rollup_month", "observation", "import_batch", "region_member", "region"):
        op.drop_table(table)
