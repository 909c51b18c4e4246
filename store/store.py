"""The store: the one interface through which figures enter and the rollups are kept current.

A write is a batch: all its rows commit together with the batch record, the `is_current` flags of
the keys it supersedes and the rollup rows of the (measure, month) pairs it touched, and the data
version moves on. Nothing else writes observations.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store import migrate
from store.db import make_engine
from store.schema import import_batch, meta, observation, region, region_member, rollup_month

OBS_COLUMNS = ["region_code", "measure_code", "obs_date", "value"]


@dataclass
class Batch:
    source: str  # demo | import | feed
    received_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    region_code: str | None = None
    period: str | None = None
    file_name: str | None = None
    checksum: str | None = None
    submitted_by: str | None = None
    is_demo: bool = False
    note: str | None = None
    # Normally the commit time; set only when replaying history whose commit times are known.
    committed_at: dt.datetime | None = None


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


class Store:
    """Owns the engine; creates/upgrades the schema; writes batches; maintains rollups."""

    def __init__(self, engine: Engine | str | None = None) -> None:
        self.engine = engine if isinstance(engine, Engine) else make_engine(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- schema and reference data ------------------------------------------------------------
    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    def sync_reference(self, geo) -> None:
        """Replace regions and memberships with the reference files' content (idempotent)."""
        regions = [
            dict(code=r.code, level=r.level, parent_code=r.parent_code, name_zh=r.name_zh, name_en=r.name_en,
                 type_zh=r.type_zh, population=r.population, population_source=r.population_source,
                 valid_from=r.valid_from, valid_to=r.valid_to)
            for r in geo.regions.values()
        ]
        members = [
            dict(group_code=m.group_code, member_code=m.member_code, valid_from=m.valid_from, valid_to=m.valid_to)
            for m in geo.memberships
        ]
        with self.engine.begin() as conn:
            conn.execute(region_member.delete())
            conn.execute(region.delete())
            conn.execute(region.insert(), regions)
            conn.execute(region_member.insert(), members)

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None, conn: Connection | None = None) -> str | None:
        q = sa.select(meta.c.value).where(meta.c.key == key)
        if conn is not None:
            v = conn.execute(q).scalar()
        else:
            with self.engine.connect() as c:
                v = c.execute(q).scalar()
        return default if v is None else v

    def set_meta(self, conn: Connection, key: str, value: str) -> None:
        if conn.execute(sa.select(meta.c.key).where(meta.c.key == key)).first():
            conn.execute(meta.update().where(meta.c.key == key).values(value=value))
        else:
            conn.execute(meta.insert().values(key=key, value=value))

    def data_version(self) -> int:
        """Moves on with every committed change; caches key on it."""
        try:
            return int(self.get_meta("data_version", "0") or 0)
        except sa.exc.OperationalError:
            return 0
        except sa.exc.ProgrammingError:
            return 0

    def is_demo(self) -> bool:
        return self.get_meta("is_demo", "0") == "1"

    def _bump_version(self, conn: Connection) -> None:
        v = int(self.get_meta("data_version", "0", conn) or 0) + 1
        self.set_meta(conn, "data_version", str(v))
        self.set_meta(conn, "refreshed_at", dt.datetime.now().replace(microsecond=0).isoformat())

    def is_initialised(self) -> bool:
        return migrate.current_revision(self.engine) is not None and self.data_version() > 0

    # -- writing ------------------------------------------------------------------------------
    def write_batch(self, batch: Batch, rows: pd.DataFrame, *, conn: Connection | None = None) -> int:
        """Commit one batch atomically; returns its id. Rows: region_code, measure_code, obs_date, value."""
        rows = _clean_rows(rows)
        dup = rows.duplicated(["region_code", "measure_code", "obs_date"])
        if dup.any():
            first = rows[dup].iloc[0]
            raise ValueError(
                f"batch repeats a key: {first.region_code} {first.measure_code} {first.obs_date}"
            )
        if conn is None:
            with self.engine.begin() as c:
                return self._write_batch(c, batch, rows)
        return self._write_batch(conn, batch, rows)

    def _write_batch(self, conn: Connection, batch: Batch, rows: pd.DataFrame) -> int:
        now = batch.committed_at or dt.datetime.now().replace(microsecond=0)
        res = conn.execute(
            import_batch.insert().values(
                source=batch.source, region_code=batch.region_code, period=batch.period,
                file_name=batch.file_name, checksum=batch.checksum, submitted_by=batch.submitted_by,
                received_at=batch.received_at, committed_at=now, status="committed",
                is_demo=batch.is_demo, n_rows=len(rows), note=batch.note,
            )
        )
        batch_id = int(res.inserted_primary_key[0])
        self.insert_observations(conn, rows.assign(batch_id=batch_id))
        touched = _touched(rows)
        self._recompute_current(conn, touched, rows)
        self.refresh_rollups(conn, touched)
        if batch.is_demo:
            self.set_meta(conn, "is_demo", "1")
        self._bump_version(conn)
        return batch_id

    def insert_observations(self, conn: Connection, rows: pd.DataFrame, is_current: bool = True) -> None:
        """Bulk insert; COPY on PostgreSQL, executemany elsewhere."""
        if rows.empty:
            return
        frame = pd.DataFrame(
            {
                "batch_id": rows["batch_id"].astype(int),
                "region_code": rows["region_code"].astype(str),
                "measure_code": rows["measure_code"].astype(str),
                "obs_date": rows["obs_date"],
                "month": rows["obs_date"].map(month_start),
                "value": rows["value"].astype(float),
                "is_current": rows.get("is_current", is_current),
            }
        )
        if self.dialect == "postgresql":
            cols = list(frame.columns)
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY observation ({', '.join(cols)}) FROM STDIN") as copy:
                for rec in frame.itertuples(index=False, name=None):
                    copy.write_row(rec)
            return
        records = frame.to_dict("records")
        for i in range(0, len(records), 50_000):
            conn.execute(observation.insert(), records[i : i + 50_000])

    def _recompute_current(self, conn: Connection, touched: dict[dt.date, set[str]], rows: pd.DataFrame) -> None:
        """Mark, for every key the batch wrote, only the latest committed batch's row as current."""
        keys = rows[["region_code", "measure_code", "obs_date"]]
        regions = sorted(keys["region_code"].unique())
        for month, measures in touched.items():
            q = (
                sa.select(observation.c.id, observation.c.region_code, observation.c.measure_code,
                          observation.c.obs_date, observation.c.batch_id, observation.c.is_current)
                .join(import_batch, import_batch.c.id == observation.c.batch_id)
                .where(observation.c.month == month, observation.c.measure_code.in_(sorted(measures)),
                       import_batch.c.status == "committed")
            )
            if len(regions) <= 500:
                q = q.where(observation.c.region_code.in_(regions))
            df = pd.DataFrame(conn.execute(q).all(), columns=["id", "region_code", "measure_code", "obs_date",
                                                              "batch_id", "is_current"])
            if df.empty:
                continue
            latest = df.groupby(["region_code", "measure_code", "obs_date"])["batch_id"].transform("max")
            should = df["batch_id"] == latest
            stale = df.loc[~should & df["is_current"].astype(bool), "id"].tolist()
            fresh = df.loc[should & ~df["is_current"].astype(bool), "id"].tolist()
            for ids, flag in ((stale, False), (fresh, True)):
                for i in range(0, len(ids), 5000):
                    conn.execute(observation.update().where(observation.c.id.in_(ids[i : i + 5000])).values(is_current=flag))

    # -- rollups ------------------------------------------------------------------------------
    def refresh_rollups(self, conn: Connection, touched: dict[dt.date, set[str]] | None = None) -> None:
        """Rebuild rollup_month for the touched (month -> measures), or all of it when None."""
        if touched is None:
            conn.execute(rollup_month.delete())
            conn.execute(_rollup_insert(None, None))
            return
        for month, measures in sorted(touched.items()):
            ms = sorted(measures)
            conn.execute(rollup_month.delete().where(rollup_month.c.month == month, rollup_month.c.measure_code.in_(ms)))
            conn.execute(_rollup_insert(month, ms))

    def rebuild_all(self) -> None:
        with self.engine.begin() as conn:
            self.refresh_rollups(conn, None)
            self._bump_version(conn)

    def replace_all(self, batches: pd.DataFrame, rows: pd.DataFrame, meta_values: dict[str, str]) -> None:
        """Swap the whole content for a prepared set of batches and rows (demo (re)creation).

        One transaction: readers see the old data or the new, never a mix. The data version keeps
        counting up so caches in other processes notice.
        """
        with self.engine.begin() as conn:
            version = int(self.get_meta("data_version", "0", conn) or 0)
            for t in (rollup_month, observation, import_batch, meta):
                conn.execute(t.delete())
            # NaN is pandas' "missing"; databases want NULL (PostgreSQL would store the text 'NaN')
            clean = batches.astype(object).where(batches.notna(), None) if len(batches) else batches
            recs = clean.to_dict("records") if len(batches) else []
            for i in range(0, len(recs), 5000):
                conn.execute(import_batch.insert(), recs[i : i + 5000])
            if self.dialect == "postgresql":
                conn.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('import_batch', 'id'), "
                    "(SELECT COALESCE(MAX(id), 0) + 1 FROM import_batch), false)"
                )
            self.insert_observations(conn, rows)
            self.refresh_rollups(conn, None)
            for k, v in meta_values.items():
                self.set_meta(conn, k, v)
            self.set_meta(conn, "data_version", str(version))
            self._bump_version(conn)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0)
                for t in (observation, import_batch, rollup_month)
            }

    # -- imports: reads for validation and preview, rollback -----------------------------------
    def current_values(
        self,
        measures: Iterable[str],
        start: dt.date,
        end: dt.date,
        regions: Iterable[str] | None = None,
        dates: Iterable[dt.date] | None = None,
        conn: Connection | None = None,
    ) -> pd.DataFrame:
        """Current rows of `measures` dated start..end (optionally only `regions` / exact `dates`).

        The importer's one read of what is stored: old values for the preview, denominators and
        previous months for the checks, history and peers for the plausibility warnings.
        """
        o = observation
        q = sa.select(o.c.region_code, o.c.measure_code, o.c.obs_date, o.c.value, o.c.batch_id).where(
            o.c.is_current == sa.true(), o.c.measure_code.in_(sorted(set(measures))),
            o.c.month >= month_start(start), o.c.month <= month_start(end), o.c.obs_date >= start, o.c.obs_date <= end,
        )
        if regions is not None:
            q = q.where(o.c.region_code.in_(sorted(set(regions))))
        if dates is not None:
            q = q.where(o.c.obs_date.in_(sorted(set(dates))))
        cols = ["region_code", "measure_code", "obs_date", "value", "batch_id"]
        if conn is not None:
            df = pd.DataFrame(conn.execute(q).all(), columns=cols)
        else:
            with self.engine.connect() as c:
                df = pd.DataFrame(c.execute(q).all(), columns=cols)
        if not df.empty:
            df["obs_date"] = pd.to_datetime(df["obs_date"]).dt.date
            df["value"] = df["value"].astype(float)
        return df

    def preview_changes(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Rows (region_code, measure_code, obs_date, value) with the stored value and new/changed/unchanged."""
        rows = rows.copy()
        if rows.empty:
            return rows.assign(old_value=pd.Series(dtype=float), status=pd.Series(dtype=object))
        rows["obs_date"] = pd.to_datetime(rows["obs_date"]).dt.date
        stored = self.current_values(rows["measure_code"].unique(), min(rows["obs_date"]), max(rows["obs_date"]),
                                     regions=rows["region_code"].unique())
        key = ["region_code", "measure_code", "obs_date"]
        old = stored[key + ["value"]].rename(columns={"value": "old_value"})
        out = rows.merge(old, on=key, how="left")
        out["status"] = "changed"
        out.loc[out["old_value"].isna(), "status"] = "new"
        same = out["old_value"].notna() & ((out["value"] - out["old_value"]).abs() <= 1e-9 * out["old_value"].abs().clip(lower=1))
        out.loc[same, "status"] = "unchanged"
        return out

    def batches_with_checksum(self, checksum: str) -> list[dict]:
        """Committed batches that brought a file with this sha256 (duplicate submissions)."""
        b = import_batch
        with self.engine.connect() as conn:
            res = conn.execute(
                sa.select(b.c.id, b.c.submitted_by, b.c.committed_at, b.c.file_name)
                .where(b.c.checksum == checksum, b.c.status == "committed").order_by(b.c.id)
            ).mappings().all()
        return [dict(r) for r in res]

    def batch(self, batch_id: int) -> dict | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(import_batch).where(import_batch.c.id == batch_id)).mappings().first()
        return dict(r) if r else None

    def rollback_batch(self, batch_id: int, user: str | None = None) -> int:
        """Withdraw a committed batch: its rows stop counting and the previous values are current again.

        The batch and its rows stay (status 'rolled_back') so the history shows what was withdrawn,
        when and by whom. One transaction: flags, rollups of the touched (month, measure) pairs and
        the data version move together. Returns the number of rows the batch held.
        """
        with self.engine.begin() as conn:
            b = conn.execute(
                sa.select(import_batch.c.status, import_batch.c.note).where(import_batch.c.id == batch_id)
            ).first()
            if b is None:
                raise LookupError(f"batch {batch_id} does not exist")
            if b.status != "committed":
                raise ValueError(f"batch {batch_id} is {b.status}; only committed batches can be rolled back")
            stamp = f"rolled back by {user or 'unknown'} at {dt.datetime.now().replace(microsecond=0).isoformat()}"
            note = f"{b.note}; {stamp}" if b.note else stamp
            conn.execute(import_batch.update().where(import_batch.c.id == batch_id)
                         .values(status="rolled_back", note=note[:500]))
            rows = pd.DataFrame(
                conn.execute(sa.select(observation.c.region_code, observation.c.measure_code, observation.c.obs_date)
                             .where(observation.c.batch_id == batch_id)).all(),
                columns=["region_code", "measure_code", "obs_date"],
            )
            conn.execute(observation.update().where(observation.c.batch_id == batch_id).values(is_current=False))
            if not rows.empty:
                rows["obs_date"] = pd.to_datetime(rows["obs_date"]).dt.date
                touched = _touched(rows)
                self._recompute_current(conn, touched, rows)
                self.refresh_rollups(conn, touched)
            self._bump_version(conn)
        return len(rows)


def _clean_rows(rows: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in OBS_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack columns {missing}")
    out = rows[OBS_COLUMNS].copy()
    out["obs_date"] = pd.to_datetime(out["obs_date"]).dt.date
    out["value"] = pd.to_numeric(out["value"], errors="raise").astype(float)
    return out


def _touched(rows: pd.DataFrame) -> dict[dt.date, set[str]]:
    out: dict[dt.date, set[str]] = defaultdict(set)
    for d, m in zip(rows["obs_date"].map(month_start), rows["measure_code"], strict=False):
        out[d].add(m)
    return dict(out)


def current_observations():
    """The current value of every key (the usual read path)."""
    o = observation
    return sa.select(o.c.region_code, o.c.measure_code, o.c.obs_date, o.c.month, o.c.value, o.c.batch_id).where(
        o.c.is_current == sa.true()
    )


def observations_known_at(when: dt.datetime):
    """Each key's value as it was known at `when`: the latest batch committed by then."""
    o, b = observation, import_batch
    o2, b2 = observation.alias("o2"), import_batch.alias("b2")
    latest = (
        sa.select(sa.func.max(o2.c.batch_id))
        .join(b2, b2.c.id == o2.c.batch_id)
        .where(
            o2.c.region_code == o.c.region_code, o2.c.measure_code == o.c.measure_code,
            o2.c.obs_date == o.c.obs_date, b2.c.committed_at <= when, b2.c.status == "committed",
        )
        .scalar_subquery()
    )
    return (
        sa.select(o.c.region_code, o.c.measure_code, o.c.obs_date, o.c.month, o.c.value, o.c.batch_id)
        .join(b, b.c.id == o.c.batch_id)
        .where(b.c.committed_at <= when, b.c.status == "committed", o.c.batch_id == latest)
    )


def county_month_select(source, months: Iterable[dt.date] | None = None, measures: Iterable[str] | None = None):
    """Region-month aggregates (the shape of rollup_month) from an observation selectable."""
    src = source
    if months is not None:
        src = src.where(src.selected_columns.month.in_(list(months)))
    if measures is not None:
        src = src.where(src.selected_columns.measure_code.in_(list(measures)))
    s = src.subquery("s")
    agg = (
        sa.select(
            s.c.measure_code, s.c.month, s.c.region_code,
            sa.func.sum(s.c.value).label("value_sum"),
            sa.func.count().label("n_obs"),
            sa.func.max(s.c.obs_date).label("last_date"),
            sa.func.max(s.c.batch_id).label("max_batch_id"),
        )
        .group_by(s.c.measure_code, s.c.month, s.c.region_code)
        .subquery("a")
    )
    last = src.subquery("l")
    return sa.select(
        agg.c.measure_code, agg.c.month, agg.c.region_code, agg.c.value_sum, agg.c.n_obs,
        agg.c.last_date, last.c.value.label("last_value"), agg.c.max_batch_id,
    ).join_from(
        agg, last,
        sa.and_(
            last.c.region_code == agg.c.region_code,
            last.c.measure_code == agg.c.measure_code,
            last.c.obs_date == agg.c.last_date,
        ),
    )


def _rollup_insert(month: dt.date | None, measures: Iterable[str] | None):
    sel = county_month_select(current_observations(), None if month is None else [month], measures)
    return rollup_month.insert().from_select(
        ["measure_code", "month", "region_code", "value_sum", "n_obs", "last_date", "last_value", "max_batch_id"], sel
    )
