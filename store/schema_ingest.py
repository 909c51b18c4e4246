"""Rejected import attempts (data quality): a refused file leaves no figures, but the
reform office must still see that a county tried and why it failed, so each refusal is one row
here (who, when, which file, the first error messages). Migration 0003 creates the table.
"""

from __future__ import annotations

import sqlalchemy as sa

from store.tables_base import CODE, metadata

import_rejection = sa.Table(
    "import_rejection",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # upload | drop_folder | cli
    sa.Column("region_code", CODE, nullable=True),  # the county reporting, when known
    sa.Column("period", sa.String(16), nullable=True),  # the month the attempt was for, e.g. 2026-10
    sa.Column("file_name", sa.String(255), nullable=True),
    sa.Column("checksum", sa.String(64), nullable=True),
    sa.Column("submitted_by", sa.String(64), nullable=True),
    sa.Column("n_errors", sa.Integer, nullable=False),
    sa.Column("n_warnings", sa.Integer, nullable=False, server_default="0"),
    sa.Column("messages", sa.Text, nullable=True),  # JSON: [{row, col, code, zh, en}, ...] (first errors)
    sa.Index("ix_import_rejection_region_period", "region_code", "period"),
)
