"""批示督办: instructions written on a figure and followed up to a closed loop.

`followup_item` is one instruction: who wrote it and when, the text, the owner (a county or city
code, or a provincial department named in the KPI catalogue), the deadline, the status and the
escalation level, plus the **recorded figure** (`fig_*` columns: KPI, region, period, value,
target, attainment, status, as-of date, data version) copied from the engine at the moment of
writing. The figure columns are written once and never recomputed, so a later data correction
leaves the instruction showing what the leader saw. `followup_event` is the item's history, one
row per step (create, reply, done, close, send_back, escalate). Migration 0007 creates both.
"""

from __future__ import annotations

import sqlalchemy as sa

from store.tables_base import CODE, metadata

followup_item = sa.Table(
    "followup_item",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("author_role", sa.String(16), nullable=False),
    sa.Column("text", sa.String(2000), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # tile | map | league | alert | county | page
    sa.Column("owner_kind", sa.String(16), nullable=False),  # region | department
    sa.Column("owner_code", sa.String(128), nullable=False),  # region code or department name (zh)
    sa.Column("deadline", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | replied | done | closed
    sa.Column("escalation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("n_returned", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    # the recorded figure, as the engine gave it when the instruction was written
    sa.Column("fig_kpi", sa.String(64), nullable=False),
    sa.Column("fig_region", CODE, nullable=False),
    sa.Column("fig_period", sa.String(16), nullable=False),
    sa.Column("fig_value", sa.Double, nullable=True),
    sa.Column("fig_target", sa.Double, nullable=True),
    sa.Column("fig_attainment", sa.Double, nullable=True),
    sa.Column("fig_status", sa.String(16), nullable=False),
    sa.Column("fig_as_of", sa.String(16), nullable=True),
    sa.Column("fig_data_version", sa.Integer, nullable=False),
    sa.Index("ix_followup_item_fig", "fig_kpi", "fig_region"),
    sa.Index("ix_followup_item_owner", "owner_code"),
    sa.Index("ix_followup_item_status", "status"),
)

followup_event = sa.Table(
    "followup_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("followup_item.id"), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # create | reply | done | close | send_back | escalate
    sa.Column("status_after", sa.String(16), nullable=False),
    sa.Column("text", sa.String(2000), nullable=True),
    sa.Column("attachments", sa.String(2000), nullable=True),  # descriptions, one per line
    sa.Index("ix_followup_event_item", "item_id"),
)
