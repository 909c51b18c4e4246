"""A database lease so that exactly one scheduler acts, however many are started.

The lease is one row in `scheduler_lease`. Taking or renewing it is a single conditional UPDATE
(`... WHERE name = :n AND (holder = :me OR holder IS NULL OR expires_at < :now)`), which every
backend (SQLite, PostgreSQL, MariaDB/MySQL) executes atomically: of two contenders exactly one sees
a matched row. The holder renews it well before it expires; a holder that dies simply stops
renewing, and a waiting scheduler takes over once `expires_at` has passed. Times are the hosts'
clocks, so schedulers on different hosts need synchronised clocks (NTP) and a TTL well above skew.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.schema_jobs import scheduler_lease

log = logging.getLogger("scheduler.lock")

LEASE_NAME = "scheduler"


def _now() -> dt.datetime:
    return dt.datetime.now()


class Lease:
    def __init__(self, engine: Engine, instance_id: str, ttl: float = 30.0, name: str = LEASE_NAME) -> None:
        self.engine, self.instance_id, self.ttl, self.name = engine, instance_id, float(ttl), name
        self.valid_until: dt.datetime | None = None  # our own view: acting after this is not allowed

    def _ensure_row(self, conn) -> None:
        if conn.execute(sa.select(scheduler_lease.c.name).where(scheduler_lease.c.name == self.name)).first():
            return
        try:
            with conn.begin_nested():
                conn.execute(scheduler_lease.insert().values(
                    name=self.name, holder=None, token=0, expires_at=dt.datetime(2000, 1, 1)))
        except sa.exc.IntegrityError:  # another process inserted it first
            pass

    def acquire(self) -> bool:
        """Take or renew the lease; True when this instance holds it afterwards."""
        now = _now()
        expires = now + dt.timedelta(seconds=self.ttl)
        t = scheduler_lease.c
        with self.engine.begin() as conn:
            self._ensure_row(conn)
        with self.engine.begin() as conn:
            res = conn.execute(
                scheduler_lease.update()
                .where(t.name == self.name,
                       sa.or_(t.holder == self.instance_id, t.holder.is_(None), t.expires_at < now))
                # acquired_at first: MySQL evaluates SET left to right with the new values
                .ordered_values(
                    (t.acquired_at, sa.case((t.holder == self.instance_id, t.acquired_at), else_=now)),
                    (t.holder, self.instance_id), (t.token, t.token + 1), (t.heartbeat_at, now),
                    (t.expires_at, expires),
                )
            )
            got = res.rowcount == 1
        if got:
            self.valid_until = expires - dt.timedelta(seconds=min(1.0, self.ttl / 10))
        else:
            self.valid_until = None
        return got

    def held(self) -> bool:
        """Locally known to be ours (renewed recently enough); no database round trip."""
        return self.valid_until is not None and _now() < self.valid_until

    def release(self) -> None:
        """Give the lease up at a clean shutdown, so a waiting scheduler need not wait for expiry."""
        t = scheduler_lease.c
        try:
            with self.engine.begin() as conn:
                conn.execute(scheduler_lease.update().where(t.name == self.name, t.holder == self.instance_id)
                             .values(holder=None, expires_at=dt.datetime(2000, 1, 1), token=t.token + 1))
        except sa.exc.SQLAlchemyError as exc:  # the lease then simply expires
            log.warning("could not release the lease: %s", exc)
        self.valid_until = None


def current_holder(engine: Engine, name: str = LEASE_NAME) -> dict | None:
    with engine.connect() as conn:
        r = conn.execute(sa.select(scheduler_lease).where(scheduler_lease.c.name == name)).mappings().first()
    return dict(r) if r else None
