"""Tables of the pushes (push/): who receives what, and every message the scheduler queued for them.

`push_recipient` is one configured receiver: a DingTalk-style robot webhook or an e-mail address,
with the role and scope that decide which messages it gets. A robot's signing secret must be kept
as written (the signature is computed from it), so it is stored as given and never shown again.
`push_delivery` is the delivery log and the queue in one: one row per (event, recipient), made
unique by `event_key` + `recipient_id`, so a restarted or second scheduler that sees the same
event inserts nothing and nothing is sent twice. Migration 0010 creates both.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from store.tables_base import CODE, metadata

LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")

push_recipient = sa.Table(
    "push_recipient",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),  # dingtalk | email
    sa.Column("address", sa.String(500), nullable=False),  # webhook URL or e-mail address
    sa.Column("secret", sa.String(200), nullable=True),  # the robot's signing secret (never shown again)
    sa.Column("role", sa.String(16), nullable=False),  # auth.policy.ROLES: which kinds of message
    sa.Column("scope_code", CODE, nullable=False),  # 330000, a city or a county (metrics.access.Scope)
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("removed_at", sa.DateTime, nullable=True),  # kept: the delivery log names it
)

push_delivery = sa.Table(
    "push_delivery",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_key", sa.String(200), nullable=False),  # kind:region:kpi:period or kind:item:level ...
    sa.Column("recipient_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # brief | red | followup | freeze | test
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", LONG_TEXT, nullable=False),  # Markdown
    sa.Column("attachment", sa.String(500), nullable=True),  # a file sent with an e-mail (the PDF pack)
    sa.Column("status", sa.String(16), nullable=False),  # queued | sending | sent | failed | cancelled
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_at", sa.DateTime, nullable=False),  # not sent before this (the retry backoff)
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Column("claimed_by", sa.String(128), nullable=True),  # the scheduler sending it now
    sa.Column("last_error", sa.String(1000), nullable=True),
    sa.UniqueConstraint("event_key", "recipient_id"),
    sa.Index("ix_push_delivery_status", "status", "next_at"),
)
