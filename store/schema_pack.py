"""Frozen meeting packs: a freeze records the moment a period's figures were fixed for the
leading group's meeting, and materialises everything the pack shows (KPI rows, league tables, red
and black lists, overdue problems) as JSON chunks, so a later correction can never change a frozen
pack and the pack never recomputes from live data. `pack_file` records generated PPTX/PDF files
(the scheduler's pack_after_freeze job looks for freezes without one). Migration 0005 creates them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from store.tables_base import metadata

# MySQL's TEXT stops at 64 KB; a chunk of frozen rows may be larger
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")

freeze = sa.Table(
    "freeze",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period", sa.String(16), nullable=False),  # e.g. 2026-10
    sa.Column("known_at", sa.DateTime, nullable=False),  # figures as known at this moment
    sa.Column("frozen_by", sa.String(64), nullable=True),
    sa.Column("data_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("note", sa.String(500), nullable=True),
    sa.Index("ix_freeze_period", "period"),
)

freeze_item = sa.Table(
    "freeze_item",
    metadata,
    sa.Column("freeze_id", sa.Integer, sa.ForeignKey("freeze.id"), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),  # bulk | prev_bulk | league:<kpi> | scheme | lists | problems
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("payload", LONG_TEXT, nullable=False),  # JSON records (pandas orient="split")
)

pack_file = sa.Table(
    "pack_file",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("freeze_id", sa.Integer, sa.ForeignKey("freeze.id"), nullable=True),  # null: a live pack
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),  # pptx | pdf
    sa.Column("path", sa.String(500), nullable=False),
    sa.Column("n_bytes", sa.Integer, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("generated_at", sa.DateTime, nullable=False),
    sa.Column("generated_by", sa.String(64), nullable=True),
    sa.Index("ix_pack_file_freeze", "freeze_id"),
)
