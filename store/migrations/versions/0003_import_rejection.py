"""Rejected import attempts, for the data-quality view (who tried, when, which file, why refused).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CODE = sa.String(24)


def upgrade() -> None:
    op.create_table(
        "import_rejection",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("region_code", CODE, nullable=True),
        sa.Column("period", sa.String(16), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("checksum", sa.String(64), nullable=True),
        sa.Column("submitted_by", sa.String(64), nullable=True),
        sa.Column("n_errors", sa.Integer, nullable=False),
        sa.Column("n_warnings", sa.Integer, server_default="0", nullable=False),
        sa.Column("messages", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_import_rejection"),
    )
    op.create_index("ix_import_rejection_region_period", "import_rejection", ["region_code", "period"])


def downgrade() -> None:
    op.drop_index("ix_import_rejection_region_period", table_name="import_rejection")
    op.drop_table("import_rejection")
