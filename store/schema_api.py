"""Tables of the read-only HTTP API (api/): the tokens other systems read with.

A token is shown once when it is created; the database keeps only its SHA-256, so a stolen
database copy does not hand out working tokens. Migration 0009 creates the table.
"""

from __future__ import annotations

import sqlalchemy as sa

from store.tables_base import CODE, metadata

# One row per consuming system. A revoked or expired token is kept (the audit log names it).
api_token = sa.Table(
    "api_token",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("scope_code", CODE, nullable=False),  # 330000, a city or a county (metrics.access.Scope)
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
    sa.Column("last_used_at", sa.DateTime, nullable=True),
    sa.Index("ix_api_token_token_hash", "token_hash", unique=True),
)
