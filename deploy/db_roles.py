"""The database account the app and the scheduler run as: everything they need, and no more.

Migrations and the first start run as the database owner; the replicas and the scheduler connect
as a separate account that may read and write the data tables but only INSERT and SELECT on
`audit_log`. Triggers already refuse UPDATE/DELETE/TRUNCATE on that table (migrations 0006, 0008),
but an owner can drop a trigger; an account without the privilege cannot, so the log stays
append-only even if the application is subverted.

PostgreSQL: table grants, USAGE on the sequences, nothing on audit_log beyond INSERT/SELECT.
MariaDB/MySQL: per-table grants (a database-wide grant cannot be narrowed for one table); without
DROP the account cannot TRUNCATE, which those servers do not let a trigger refuse. SQLite has no
accounts: there the file's permissions and the triggers are what protects the log.

Grants are re-applied on every `deploy up`, so tables added by a later migration are covered.
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa

from store.db import _normalise, make_engine

APPEND_ONLY = ("audit_log",)
DATA_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
LOG_PRIVILEGES = "SELECT, INSERT"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"refusing the database account name {name!r} (lower-case letters, digits, _)")
    return name


def ensure_app_role(owner_url: str, role: str = "cockpit_app", password: str | None = None) -> str | None:
    """Create or update the app account on the database of `owner_url` and return its URL (None on SQLite).

    `password` None keeps a generated one for a new account (trust or socket authentication then
    decides; set COCKPIT_APP_DB_PASSWORD in production)."""
    url = sa.engine.make_url(_normalise(owner_url))
    backend = url.get_backend_name()
    if backend == "sqlite":
        return None
    role = _checked(role)
    pw = password or secrets.token_urlsafe(18)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            tables = sorted(sa.inspect(conn).get_table_names())
            if backend == "postgresql":
                _postgres(conn, role, pw, url.database, tables)
            else:
                _mysql(conn, role, pw, url.database, tables)
    finally:
        engine.dispose()
    return url.set(username=role, password=pw).render_as_string(hide_password=False)


def _postgres(conn: sa.Connection, role: str, pw: str, database: str, tables: list[str]) -> None:
    exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    verb = "ALTER" if exists else "CREATE"
    quoted = pw.replace("'", "''")  # DDL takes no bind parameters
    conn.execute(sa.text(f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                         f"PASSWORD '{quoted}'"))
    conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO {role}'))
    conn.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    for t in tables:
        conn.execute(sa.text(f'REVOKE ALL ON TABLE "{t}" FROM {role}'))
        privileges = LOG_PRIVILEGES if t in APPEND_ONLY else DATA_PRIVILEGES
        conn.execute(sa.text(f'GRANT {privileges} ON TABLE "{t}" TO {role}'))
    conn.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))


def _mysql(conn: sa.Connection, role: str, pw: str, database: str, tables: list[str]) -> None:
    for host in ("%", "localhost"):
        account = f"'{role}'@'{host}'"
        conn.execute(sa.text(f"CREATE USER IF NOT EXISTS {account}"))
        conn.execute(sa.text(f"ALTER USER {account} IDENTIFIED BY :pw"), {"pw": pw})
        conn.execute(sa.text(f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}"))
        for t in tables:
            privileges = LOG_PRIVILEGES if t in APPEND_ONLY else DATA_PRIVILEGES
            conn.execute(sa.text(f"GRANT {privileges} ON `{database}`.`{t}` TO {account}"))
