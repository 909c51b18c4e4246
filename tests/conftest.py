"""Shared fixtures: one database URL per backend, each test session on its own scratch database.

SQLite always runs. PostgreSQL and MariaDB/MySQL run against the servers on 127.0.0.1 (override
with TEST_POSTGRES_URL / TEST_MYSQL_URL). When CI=true (or COCKPIT_REQUIRE_SERVERS=1) a missing
server fails the run; on a laptop without servers those tests skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from streamlit import config as streamlit_config

from store.db import make_engine

# .streamlit/config.toml hides error details from browsers; tests want the full message:
# the env var reaches `streamlit run` servers, set_option the in-process AppTest runs.
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
streamlit_config.set_option("client.showErrorDetails", os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"])

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MY_ADMIN = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRE_SERVERS = os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get(
    "COCKPIT_REQUIRE_SERVERS", ""
) in ("1", "true")


def _unavailable(name: str, exc: Exception) -> None:
    msg = f"{name} server not reachable ({exc.__class__.__name__}: {str(exc).splitlines()[0][:160]})"
    if REQUIRE_SERVERS:
        pytest.fail(msg + " — server-backed tests are mandatory in CI", pytrace=False)
    pytest.skip(msg + " — start it to run these tests (see README)")


def _scratch_server_db(admin_url: str, name: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its URL, drop it afterwards."""
    dbname = f"cockpit_t_{uuid.uuid4().hex[:10]}"
    try:
        admin = make_engine(admin_url)
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "server missing"
        _unavailable(name, exc)
    ac = admin.execution_options(isolation_level="AUTOCOMMIT")
    with ac.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {dbname}" + (" CHARACTER SET utf8mb4" if name == "mysql" else "")))
    url = sa.engine.make_url(admin_url).set(database=dbname).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with ac.connect() as conn:
            if name == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {dbname}"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _scratch_server_db(PG_ADMIN, "postgresql")


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    yield from _scratch_server_db(MY_ADMIN, "mysql")


@pytest.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.server),
        pytest.param("mysql", marks=pytest.mark.server),
    ],
)
def db_url(request, tmp_path_factory) -> str:
    """A scratch database URL per backend (session-scoped: tests reset what they need)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'cockpit.sqlite'}"
    return request.getfixturevalue(f"{request.param}_url")
