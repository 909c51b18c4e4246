"""批示督办: instructions on a figure and their follow-up history.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CODE = sa.String(24)


def upgrade() -> None:
    op.create_table(
        "followup_item",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_code", sa.String(128), nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("escalation", sa.Integer, server_default="0", nullable=False),
        sa.Column("n_returned", sa.Integer, server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.Column("is_demo", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("fig_kpi", sa.String(64), nullable=False),
        sa.Column("fig_region", CODE, nullable=False),
        sa.Column("fig_period", sa.String(16), nullable=False),
        sa.Column("fig_value", sa.Double, nullable=True),
        sa.Column("fig_target", sa.Double, nullable=True),
        sa.Column("fig_attainment", sa.Double, nullable=True),
        sa.Column("fig_status", sa.String(16), nullable=False),
        sa.Column("fig_as_of", sa.String(16), nullable=True),
        sa.Column("fig_data_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_followup_item"),
    )
    op.create_index("ix_followup_item_fig", "followup_item", ["fig_kpi", "fig_region"])
    op.create_index("ix_followup_item_owner", "followup_item", ["owner_code"])
    op.create_index("ix_followup_item_status", "followup_item", ["status"])
    op.create_table(
        "followup_event",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status_after", sa.String(16), nullable=False),
        sa.Column("text", sa.String(2000), nullable=True),
        sa.Column("attachments", sa.String(2000), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["followup_item.id"], name="fk_followup_event_item_id_followup_item"),
        sa.PrimaryKeyConstraint("id", name="pk_followup_event"),
    )
    op.create_index("ix_followup_event_item", "followup_event", ["item_id"])


def downgrade() -> None:
    # dropping a table drops its indexes (MySQL refuses to drop an index a foreign key needs first)
    op.drop_table("followup_event")
    op.drop_table("followup_item")
