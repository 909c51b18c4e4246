"""The audit log refuses TRUNCATE too, and MariaDB/MySQL refuse UPDATE/DELETE on it.

Row-level triggers (0006) do not fire for TRUNCATE, which empties the table in one statement;
PostgreSQL has statement-level TRUNCATE triggers for exactly that. MySQL-protocol servers have no
TRUNCATE trigger (TRUNCATE needs the DROP privilege there), so on those the production layout's
application account simply lacks it; their UPDATE/DELETE are refused by triggers like the others'.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_POSTGRES = [
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]
_MYSQL = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only'",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only'",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in _POSTGRES if dialect == "postgresql" else _MYSQL if dialect in ("mysql", "mariadb") else []:
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    elif dialect in ("mysql", "mariadb"):
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
