"""The audit log: sign-ins, failed sign-ins, imports, rollbacks, freezes, exports, account changes.

Append-only from the app: this module only INSERTs and SELECTs (and on SQLite/PostgreSQL the
database itself refuses UPDATE/DELETE, migration 0006). Other features call `record(...)`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa

from store.schema_auth import audit_log

ACTIONS = ("sign_in", "sign_in_failed", "sign_out", "import", "import_refused", "rollback", "freeze",
           "export", "account_create", "account_change", "account_disable", "account_password", "denied",
           # 批示督办 (followup/): one per step of an item's life cycle
           "followup_create", "followup_reply", "followup_done", "followup_close", "followup_send_back",
           "followup_escalate",
           # the read-only HTTP API (api/): every call, and the tokens' life cycle
           "api_read", "api_token_create", "api_token_revoke",
           # pushes (push/): the recipients the administrator configures, and test messages
           "push_recipient_add", "push_recipient_remove", "push_test")


def _engine(target: Any) -> sa.Engine:
    """Accept a Store, a MetricsEngine (its .store), or a SQLAlchemy Engine."""
    if isinstance(target, sa.Engine):
        return target
    if hasattr(target, "store"):
        return target.store.engine
    return target.engine


def record(target: Any, user: str | None, action: str, what: str | None = None, detail: str | None = None,
           *, conn: sa.Connection | None = None) -> None:
    """Append one entry: who (user name, "-" when unknown), when (now), what."""
    row = {"at": dt.datetime.now().replace(microsecond=0), "username": (user or "-")[:64], "action": action[:32],
           "target": what[:255] if what else None, "detail": detail[:2000] if detail else None}
    if conn is not None:
        conn.execute(audit_log.insert().values(**row))
        return
    with _engine(target).begin() as c:
        c.execute(audit_log.insert().values(**row))


def read(target: Any, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
         user: str | None = None, action: str | None = None, limit: int = 5000) -> pd.DataFrame:
    """Entries newest first, filtered (for the admin page and `python -m auth audit`)."""
    q = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if since is not None:
        q = q.where(audit_log.c.at >= since)
    if until is not None:
        q = q.where(audit_log.c.at < until)
    if user:
        q = q.where(audit_log.c.username == user)
    if action:
        q = q.where(audit_log.c.action == action)
    with _engine(target).connect() as c:
        rows = c.execute(q).mappings().all()
    return pd.DataFrame(rows, columns=["id", "at", "username", "action", "target", "detail"])
