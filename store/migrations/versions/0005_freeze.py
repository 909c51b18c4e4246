"""Frozen meeting packs: freeze, its materialised figures, generated pack files.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")


def upgrade() -> None:
    op.create_table(
        "freeze",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("known_at", sa.DateTime, nullable=False),
        sa.Column("frozen_by", sa.String(64), nullable=True),
        sa.Column("data_version", sa.Integer, server_default="0", nullable=False),
        sa.Column("is_demo", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_freeze"),
    )
    op.create_index("ix_freeze_period", "freeze", ["period"])
    op.create_table(
        "freeze_item",
        sa.Column("freeze_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("payload", LONG_TEXT, nullable=False),
        sa.ForeignKeyConstraint(["freeze_id"], ["freeze.id"], name="fk_freeze_item_freeze_id_freeze"),
        sa.PrimaryKeyConstraint("freeze_id", "kind", "seq", name="pk_freeze_item"),
    )
    op.create_table(
        "pack_file",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("freeze_id", sa.Integer, nullable=True),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("n_bytes", sa.Integer, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("generated_at", sa.DateTime, nullable=False),
        sa.Column("generated_by", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["freeze_id"], ["freeze.id"], name="fk_pack_file_freeze_id_freeze"),
        sa.PrimaryKeyConstraint("id", name="pk_pack_file"),
    )
    op.create_index("ix_pack_file_freeze", "pack_file", ["freeze_id"])


def downgrade() -> None:
    # dropping a table drops its indexes (MySQL refuses to drop an index a foreign key needs first)
    op.drop_table("pack_file")
    op.drop_table("freeze_item")
    op.drop_table("freeze")
