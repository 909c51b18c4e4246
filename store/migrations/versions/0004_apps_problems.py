"""Major applications (register, rollout, monthly usage) and the seven problem lists with their history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CODE = sa.String(24)


def upgrade() -> None:
    op.create_table(
        "major_app",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("system_code", sa.String(32), nullable=False),
        sa.Column("owner_zh", sa.String(64), nullable=False),
        sa.Column("owner_en", sa.String(128), nullable=False),
        sa.Column("launch_date", sa.Date, nullable=False),
        sa.Column("rollout_required", sa.Boolean, server_default=sa.true(), nullable=False),
        sa.Column("is_demo", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_major_app"),
    )
    op.create_table(
        "app_rollout",
        sa.Column("app_code", sa.String(32), nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("started_date", sa.Date, nullable=True),
        sa.Column("live_date", sa.Date, nullable=True),
        sa.ForeignKeyConstraint(["app_code"], ["major_app.code"], name="fk_app_rollout_app_code_major_app"),
        sa.PrimaryKeyConstraint("app_code", "region_code", name="pk_app_rollout"),
    )
    op.create_index("ix_app_rollout_region", "app_rollout", ["region_code"])
    op.create_table(
        "app_usage",
        sa.Column("app_code", sa.String(32), nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("users_authorised", sa.Integer, nullable=False),
        sa.Column("users_active", sa.Integer, nullable=False),
        sa.Column("users_real_active", sa.Integer, nullable=False),
        sa.Column("ratings", sa.Integer, nullable=False),
        sa.Column("ratings_satisfied", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["app_code"], ["major_app.code"], name="fk_app_usage_app_code_major_app"),
        sa.PrimaryKeyConstraint("app_code", "region_code", "month", name="pk_app_usage"),
    )
    op.create_index("ix_app_usage_month", "app_usage", ["month"])
    op.create_table(
        "problem",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("owner_zh", sa.String(64), nullable=False),
        sa.Column("owner_en", sa.String(128), nullable=False),
        sa.Column("self_found", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("found_date", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("closed_date", sa.Date, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_demo", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_problem"),
        sa.UniqueConstraint("code", name="uq_problem_code"),
    )
    op.create_index("ix_problem_region", "problem", ["region_code"])
    op.create_table(
        "problem_event",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("problem_id", sa.Integer, nullable=False),
        sa.Column("event_date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor_zh", sa.String(64), nullable=False),
        sa.Column("actor_en", sa.String(128), nullable=False),
        sa.Column("note_zh", sa.String(300), nullable=False),
        sa.Column("note_en", sa.String(400), nullable=False),
        sa.ForeignKeyConstraint(["problem_id"], ["problem.id"], name="fk_problem_event_problem_id_problem"),
        sa.PrimaryKeyConstraint("id", name="pk_problem_event"),
    )
    op.create_index("ix_problem_event_problem", "problem_event", ["problem_id"])


def downgrade() -> None:
    # dropping a table drops its indexes (MySQL refuses to drop an index a foreign key needs)
    for table in ("problem_event", "problem", "app_usage", "app_rollout", "major_app"):
        op.drop_table(table)
