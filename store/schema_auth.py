"""Tables of sign-in and audit: local accounts and the append-only audit log.

They share `store.tables_base.metadata` so Alembic's compare sees them; migration 0006 creates them
(and, on SQLite and PostgreSQL, triggers that refuse UPDATE and DELETE on audit_log).
"""

from __future__ import annotations

import sqlalchemy as sa

from store.tables_base import CODE, metadata

# One row per local account. Failed sign-ins are counted here (throttle survives restarts and is
# shared by every app process); `is_demo` marks the demo accounts production refuses to run with.
app_user = sa.Table(
    "app_user",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # leader | office | analyst | officer | admin
    sa.Column("scope_code", CODE, nullable=False),  # 330000, a city or a county
    sa.Column("email", sa.String(255), nullable=True),  # matched for OpenID Connect sign-in
    sa.Column("display_name", sa.String(128), nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failed_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime, nullable=True),
    sa.Column("last_login_at", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Browser sessions that survive a page reload or a shared link: the cookie holds a random token,
# the database only its SHA-256. Ended by sign-out, by inactivity, or by disabling the account.
auth_session = sa.Table(
    "auth_session",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Index("ix_auth_session_username", "username"),
)

# Who did what, when: appended by auth.audit.record, never updated or deleted by the app.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),  # sign_in | sign_in_failed | import | rollback | ...
    sa.Column("target", sa.String(255), nullable=True),
    sa.Column("detail", sa.String(2000), nullable=True),
    sa.Index("ix_audit_log_at", "at"),
)
