"""What every table module shares: the one SQLAlchemy metadata and the common column types.

The table modules (store/schema.py and store/schema_*.py) all import this and nothing of each
other; store/schema.py gathers them, so Alembic's compare and `metadata.create_all` see every table.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

CODE = sa.String(24)  # region codes: GB/T 2260 (6 digits), townships (9-12), peer-group keys
MEASURE = sa.String(64)
