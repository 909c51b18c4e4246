"""Table definitions (SQLAlchemy Core). Migrations in store/migrations create and upgrade them.

Observations are kept at their natural grain (region x day-or-month x measure) and tied to the
batch that brought them; a correction is a new batch, and `is_current` marks the latest value per
key so the usual read path needs no window functions. `rollup_month` is the materialised
county-month aggregate the metrics engine reads; it is rebuilt for touched (measure, month) pairs.
"""

from __future__ import annotations

import sqlalchemy as sa

# Each feature keeps its tables in its own module on the shared metadata (store/tables_base.py);
# importing them here puts every table on `metadata`, which migrations and create_all read.
from store import (  # noqa: F401
    schema_api,
    schema_apps,
    schema_auth,
    schema_followup,
    schema_ingest,
    schema_jobs,
    schema_pack,
    schema_push,
)
from store.tables_base import CODE, MEASURE, metadata

region = sa.Table(
    "region",
    metadata,
    sa.Column("code", CODE, primary_key=True),
    sa.Column("level", sa.String(16), nullable=False),  # province | city | county | township | group
    sa.Column("parent_code", CODE, nullable=True),
    sa.Column("name_zh", sa.String(64), nullable=False),
    sa.Column("name_en", sa.String(96), nullable=False),
    sa.Column("type_zh", sa.String(16), nullable=True),
    sa.Column("population", sa.BigInteger, nullable=True),
    sa.Column("population_source", sa.String(16), nullable=True),  # census | estimate | sum
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_to", sa.Date, nullable=True),
)

# Which reporting regions make up a group (province, city, county itself, peer group), by date.
region_member = sa.Table(
    "region_member",
    metadata,
    sa.Column("group_code", CODE, primary_key=True),
    sa.Column("member_code", CODE, primary_key=True),
    sa.Column("valid_from", sa.Date, primary_key=True),
    sa.Column("valid_to", sa.Date, nullable=True),
    sa.Index("ix_region_member_member", "member_code"),
)

import_batch = sa.Table(
    "import_batch",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(16), nullable=False),  # demo | import | feed
    sa.Column("region_code", CODE, nullable=True),  # the reporting region, when one region reports
    sa.Column("period", sa.String(16), nullable=True),  # the reported period, e.g. 2024-06
    sa.Column("file_name", sa.String(255), nullable=True),
    sa.Column("checksum", sa.String(64), nullable=True),
    sa.Column("submitted_by", sa.String(64), nullable=True),
    sa.Column("received_at", sa.DateTime, nullable=False),  # when the report arrived
    sa.Column("committed_at", sa.DateTime, nullable=False),  # when it entered the store
    sa.Column("status", sa.String(16), nullable=False, server_default="committed"),
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("n_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("note", sa.String(500), nullable=True),
    sa.Index("ix_import_batch_region_period", "region_code", "period"),
)

observation = sa.Table(
    "observation",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batch.id"), nullable=False),
    sa.Column("region_code", CODE, nullable=False),
    sa.Column("measure_code", MEASURE, nullable=False),
    sa.Column("obs_date", sa.Date, nullable=False),  # the day, or the first day of the month
    sa.Column("month", sa.Date, nullable=False),  # first day of obs_date's month
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("is_current", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Index("ix_observation_current", "measure_code", "month", "is_current"),
    sa.Index("ix_observation_key", "region_code", "measure_code", "obs_date"),
    sa.Index("ix_observation_batch", "batch_id"),
)

rollup_month = sa.Table(
    "rollup_month",
    metadata,
    sa.Column("measure_code", MEASURE, primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("region_code", CODE, primary_key=True),
    sa.Column("value_sum", sa.Double, nullable=False),
    sa.Column("n_obs", sa.Integer, nullable=False),
    sa.Column("last_date", sa.Date, nullable=False),
    sa.Column("last_value", sa.Double, nullable=False),
    sa.Column("max_batch_id", sa.Integer, nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)
