"""Tables of the major applications and the 七张问题清单: item-level registers that the
monthly KPI observations cannot hold (which app is live in which county, which problem is open).

They share `store.tables_base.metadata`, so Alembic's compare sees them; migration 0004 creates them.
Status of a rollout or a problem *at a date* follows from the dates kept here (started/live,
found/deadline/closed), so any past period can be shown as it was; `problem.status` is the
status at the last update, kept for quick filtering.
"""

from __future__ import annotations

import sqlalchemy as sa

from store.tables_base import CODE, metadata

# The register of provincial major applications (省级重大应用).
major_app = sa.Table(
    "major_app",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name_zh", sa.String(64), nullable=False),
    sa.Column("name_en", sa.String(128), nullable=False),
    sa.Column("system_code", sa.String(32), nullable=False),  # a catalogue system code
    sa.Column("owner_zh", sa.String(64), nullable=False),  # owning provincial department
    sa.Column("owner_en", sa.String(128), nullable=False),
    sa.Column("launch_date", sa.Date, nullable=False),
    sa.Column("rollout_required", sa.Boolean, nullable=False, server_default=sa.true()),  # on the 贯通 list
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
)

# 贯通: one row per (app, county) on the rollout list; live when live_date <= the date asked about.
app_rollout = sa.Table(
    "app_rollout",
    metadata,
    sa.Column("app_code", sa.String(32), sa.ForeignKey("major_app.code"), primary_key=True),
    sa.Column("region_code", CODE, primary_key=True),
    sa.Column("started_date", sa.Date, nullable=True),  # work on the rollout began
    sa.Column("live_date", sa.Date, nullable=True),  # verified live in the county (贯通落地)
    sa.Index("ix_app_rollout_region", "region_code"),
)

# Monthly usage per app and region (the demo fills cities): stocks at month end, ratings as flows.
app_usage = sa.Table(
    "app_usage",
    metadata,
    sa.Column("app_code", sa.String(32), sa.ForeignKey("major_app.code"), primary_key=True),
    sa.Column("region_code", CODE, primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("users_authorised", sa.Integer, nullable=False),  # stock: month end
    sa.Column("users_active", sa.Integer, nullable=False),  # distinct users active in the month
    sa.Column("users_real_active", sa.Integer, nullable=False),  # distinct users with a real business action
    sa.Column("ratings", sa.Integer, nullable=False),  # flow: ratings given in the month
    sa.Column("ratings_satisfied", sa.Integer, nullable=False),
    sa.Index("ix_app_usage_month", "month"),
)

# 七张问题清单: one row per problem, in the county that owns its correction.
problem = sa.Table(
    "problem",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(32), nullable=False),  # e.g. WT-2021-330102-0007
    sa.Column("source", sa.String(16), nullable=False),  # inspection|audit|supervision|eco|safety|opinion|petition
    sa.Column("region_code", CODE, nullable=False),
    sa.Column("title_zh", sa.String(200), nullable=False),
    sa.Column("title_en", sa.String(300), nullable=False),
    sa.Column("owner_zh", sa.String(64), nullable=False),  # the unit responsible for the correction
    sa.Column("owner_en", sa.String(128), nullable=False),
    sa.Column("self_found", sa.Boolean, nullable=False, server_default=sa.false()),  # 主动发现
    sa.Column("found_date", sa.Date, nullable=False),
    sa.Column("deadline", sa.Date, nullable=False),
    sa.Column("closed_date", sa.Date, nullable=True),  # 销号
    sa.Column("status", sa.String(16), nullable=False),  # open | closed | overdue, at the last update
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("code"),
    sa.Index("ix_problem_region", "region_code"),
)

# A problem's history: found, assigned, progress reports, deadline extensions, closure.
problem_event = sa.Table(
    "problem_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("problem_id", sa.Integer, sa.ForeignKey("problem.id"), nullable=False),
    sa.Column("event_date", sa.Date, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # found|assigned|progress|extended|overdue|closed
    sa.Column("actor_zh", sa.String(64), nullable=False),
    sa.Column("actor_en", sa.String(128), nullable=False),
    sa.Column("note_zh", sa.String(300), nullable=False),
    sa.Column("note_en", sa.String(400), nullable=False),
    sa.Index("ix_problem_event_problem", "problem_id"),
)
