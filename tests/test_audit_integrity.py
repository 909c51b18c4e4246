"""The audit log cannot be rewritten or emptied: triggers on every backend, and the production
layout's application account holds only INSERT and SELECT on it (PostgreSQL, MariaDB)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from auth import audit
from deploy.db_roles import ensure_app_role
from store import migrate
from store.db import make_engine
from store.schema_auth import audit_log


@pytest.fixture()
def migrated(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield db_url, engine
    engine.dispose()


def _refused(engine: sa.Engine, stmt) -> None:
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as c:
        c.execute(sa.text(stmt) if isinstance(stmt, str) else stmt)


def test_owner_cannot_update_delete_or_truncate(migrated):
    url, engine = migrated
    audit.record(engine, "office", "freeze", "2026-10", "integrity test")
    before = len(audit.read(engine))
    _refused(engine, audit_log.update().values(detail="forged"))
    _refused(engine, audit_log.delete())
    if engine.dialect.name == "postgresql":
        _refused(engine, "TRUNCATE audit_log")
        _refused(engine, "TRUNCATE TABLE audit_log RESTART IDENTITY CASCADE")
    assert len(audit.read(engine)) == before


@pytest.mark.server
@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
def test_app_account_may_append_but_never_rewrite(migrated):
    url, owner = migrated
    role = f"cockpit_t_{uuid.uuid4().hex[:8]}"
    app_url = ensure_app_role(url, role)
    assert app_url and role in app_url
    app = make_engine(app_url)
    try:
        audit.record(app, "office", "freeze", "2026-10", "as the app account")
        assert (audit.read(app)["detail"] == "as the app account").any()
        with app.begin() as c:  # ordinary data tables stay writable
            c.execute(sa.text("UPDATE meta SET value = value WHERE 1 = 0"))
            c.execute(sa.text("DELETE FROM meta WHERE 1 = 0"))
        _refused(app, audit_log.update().values(detail="forged"))
        _refused(app, audit_log.delete())
        _refused(app, "TRUNCATE TABLE audit_log")
        _refused(app, "DROP TRIGGER IF EXISTS audit_log_no_update")
        assert (audit.read(owner)["detail"] == "as the app account").any()
    finally:
        app.dispose()
        with owner.execution_options(isolation_level="AUTOCOMMIT").connect() as c:
            if owner.dialect.name == "postgresql":
                c.execute(sa.text(f"DROP OWNED BY {role}"))
                c.execute(sa.text(f"DROP ROLE {role}"))
            else:
                for host in ("%", "localhost"):
                    c.execute(sa.text(f"DROP USER IF EXISTS '{role}'@'{host}'"))


def test_sqlite_has_no_accounts(tmp_path):
    assert ensure_app_role(f"sqlite:///{tmp_path / 'x.sqlite'}") is None
