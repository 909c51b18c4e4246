"""Connection set-up: one SQLAlchemy URL chooses SQLite, PostgreSQL or a MySQL-protocol server."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "var" / "cockpit.sqlite"
# A server that silently drops packets would otherwise hold a page (or a job) for the OS's TCP
# timeout, minutes, before the app can say the database is unreachable.
CONNECT_TIMEOUT_S = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))


def database_url() -> str:
    """`DATABASE_URL` when set, else the embedded SQLite file under var/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE}"


def _normalise(url: str) -> str:
    # Friendly short forms: postgresql:// -> psycopg 3, mysql:// / mariadb:// -> PyMySQL.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("mysql://") or url.startswith("mariadb://"):
        return "mysql+pymysql://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None) -> Engine:
    url = _normalise(url or database_url())
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("mysql"):
        if "charset=" not in url:
            url += ("&" if "?" in url else "?") + "charset=utf8mb4"
        return sa.create_engine(url, pool_pre_ping=True, pool_recycle=3600,
                                connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
