"""Alembic migrations: empty -> head -> base -> head on every backend; head matches the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store import migrate
from store.db import make_engine
from store.schema import metadata

TABLES = {"region", "region_member", "import_batch", "observation", "rollup_month", "meta",
          "job_run", "scheduler_lease", "freshness_alert", "snapshot", "snapshot_item", "import_rejection",
          "major_app", "app_rollout", "app_usage", "problem", "problem_event", "freeze", "freeze_item", "pack_file",
          "app_user", "audit_log", "auth_session", "followup_item", "followup_event", "api_token",
          "push_recipient", "push_delivery"}


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_roundtrip(db_url):
    engine = make_engine(db_url)
    migrate.downgrade(engine, "base")  # the session database may hold other tests' schema
    assert _tables(engine) == set()
    migrate.upgrade(engine)
    assert _tables(engine) >= TABLES
    assert migrate.current_revision(engine) == migrate.head_revision() >= "0010"
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    # server defaults and type spellings differ harmlessly per dialect; tables, columns and
    # indexes must not
    structural = [d for d in diffs if d[0] in ("add_table", "remove_table", "add_column", "remove_column",
                                               "add_index", "remove_index")]
    assert structural == [], structural
    migrate.downgrade(engine, "base")
    assert _tables(engine) == set()
    migrate.upgrade(engine)
    assert _tables(engine) >= TABLES
    engine.dispose()
