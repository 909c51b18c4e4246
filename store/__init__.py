"""Storage: the schema, the connection, and the one small interface that writes data.

Everything that changes stored figures (demo generator, imports, scheduled feeds) goes through
`store.Store`, so history (batches), rollups and the data version stay consistent.
"""

from store.db import database_url, make_engine
from store.store import Batch, Store

__all__ = ["Batch", "Store", "database_url", "make_engine"]
