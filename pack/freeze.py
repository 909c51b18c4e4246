"""Freezing a period (定版) for the leading group's meeting, and what changed since.

A freeze records `known_at` (the moment) and materialises every table the pack shows — the KPI rows
of the period, the headline league tables, the composite evaluation, the red and black lists and
the overdue problems — as computed by the metrics engine as known at that moment. A frozen pack
reads only these rows, so a later correction (a new batch) can never change what the meeting saw,
and nothing depends on the engine reproducing old numbers exactly (streak rules and sparklines
read current data). `changed_since_freeze` lists the frozen figures that batches committed (or rolled
back) after the freeze moved, with those batches.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from metrics import problems as problem_lists
from metrics.composite import evaluate_scheme
from metrics.engine import EngineError, MetricsEngine
from metrics.league import league_table
from metrics.periods import Period
from metrics.rankings import RankingError, for_download
from metrics.redblack import LIST_COLUMNS, red_black_lists
from sheets.safety import neutralise_frame
from store.schema import import_batch, observation
from store.schema_pack import freeze, freeze_item, pack_file

CHUNK = 2000  # rows per freeze_item payload
SCHEME = "bimonthly_overall"
BULK_COLUMNS = ["kpi", "region", "level", "value", "numerator", "denominator", "target", "attainment", "status",
                "rank", "rank_of", "prev_value", "change_prev", "yoy_value", "change_yoy", "complete",
                "n_reported", "n_expected", "as_of", "pending", "missing", "not_reported"]
BULK_COLUMNS += ["target_annual", "pace", "pace_gap", "paced"]  # 序时: a count's pro-rata target and its gap
LEAGUE_COLUMNS = ["region", "name_zh", "name_en", "rank", "rank_of", "prev_rank", "rank_change", "standing",
                  "value", "target", "attainment", "status"]
PROBLEM_COLUMNS = ["id", "code", "region_code", "source", "title_zh", "title_en", "owner_zh", "owner_en", "found_date",
                   "deadline", "days_overdue",
                   "status_then"]


class FreezeError(ValueError):
    """A freeze that cannot be made or found; the message is for people."""


class IncompleteFreeze(FreezeError):
    """The period is short of reports: freezing it needs a confirmation (force). Says what is missing."""

    def __init__(self, message: str, coverage: dict) -> None:
        super().__init__(message)
        self.coverage = coverage


def coverage_of(bulk: pd.DataFrame) -> dict:
    """How many counties the province's county-reported figures rest on: the least covered KPI's count,
    the counties expected, and who is not in (overdue: due and not filed; the rest not yet due)."""
    prov = bulk[(bulk["region"] == "330000") & (pd.to_numeric(bulk["n_expected"], errors="coerce") > 1)]
    if prov.empty:
        return {"n_reported": 0, "n_expected": 0, "complete": True, "not_reported": [], "overdue": [],
                "pending": False}
    worst = prov.loc[pd.to_numeric(prov["n_reported"]).idxmin()]

    def codes(col: str) -> list[str]:
        if col not in prov.columns:
            return []
        return sorted({c for v in prov[col] if isinstance(v, list | tuple | np.ndarray) for c in v})

    pending = bool(prov["pending"].astype(bool).any()) if "pending" in prov.columns else False
    n_rep, n_exp = int(worst["n_reported"]), int(worst["n_expected"])
    return {"n_reported": n_rep, "n_expected": n_exp, "complete": n_rep >= n_exp,
            "not_reported": codes("not_reported"), "overdue": codes("missing"), "pending": pending}


@dataclass
class Freeze:
    id: int
    period: str
    known_at: dt.datetime
    frozen_by: str | None
    is_demo: bool
    note: str | None


# -- the figures a pack shows -------------------------------------------------------------------
def _problems_on(engine: MetricsEngine, on: dt.date) -> pd.DataFrame:
    try:
        probs = problem_lists.load_problems(engine.store.engine)
    except sa.exc.SQLAlchemyError:
        probs = pd.DataFrame()
    if probs.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    df = problem_lists.as_of(probs, on)
    df = df[df["status_then"] == "overdue"].sort_values(["days_overdue", "id"], ascending=[False, True])
    for c in PROBLEM_COLUMNS:
        if c not in df.columns:
            df[c] = None
    out = df[PROBLEM_COLUMNS].copy()
    for c in ("found_date", "deadline"):
        out[c] = pd.to_datetime(out[c]).dt.strftime("%Y-%m-%d")
    return out.reset_index(drop=True)


def problems_day(engine: MetricsEngine, known_at: dt.datetime | None) -> dt.date:
    """The day the problem lists are read as of: the freeze day (never after the engine's today)."""
    return min(known_at.date(), engine.today) if known_at else engine.today


def pack_tables(engine: MetricsEngine, period: Period | str, known_at: dt.datetime | None) -> dict[str, pd.DataFrame]:
    """Every table the pack shows, as known at `known_at` (None: live). The freeze stores exactly these."""
    p = engine.resolve_period(period)
    bulk = engine.bulk(p, known_at)
    out: dict[str, pd.DataFrame] = {"bulk": bulk[BULK_COLUMNS].reset_index(drop=True)}
    for k in engine.catalogue.headline_kpis():
        try:
            lt = league_table(engine, k.code, p, "cities", trend_months=0, known_at=known_at)
        except (RankingError, EngineError):
            continue
        out[f"league:{k.code}"] = lt[LEAGUE_COLUMNS].reset_index(drop=True)
    try:
        ev = evaluate_scheme(engine, SCHEME, p, known_at=known_at).scores
        out["scheme"] = ev[["region", "name_zh", "name_en", "parent", "rank", "rank_of", "prev_rank", "rank_change",
                            "score", "tier", "tier_zh", "tier_en", "standing"]].reset_index(drop=True)
    except (RankingError, EngineError, KeyError):  # a catalogue without the scheme's KPIs
        pass
    try:
        lists = red_black_lists(engine, p, known_at=known_at)
        out["lists"] = lists.drop(columns=[c for c in ("period",) if c in lists.columns]).reset_index(drop=True)
    except (RankingError, EngineError, KeyError):
        out["lists"] = pd.DataFrame(columns=[*LIST_COLUMNS])
    out["problems"] = _problems_on(engine, problems_day(engine, known_at))
    return out


# -- storing -------------------------------------------------------------------------------------
def _encode(df: pd.DataFrame) -> list[str]:
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else
                              (list(v) if isinstance(v, tuple | np.ndarray) else v))
    return [df.iloc[i:i + CHUNK].to_json(orient="split", index=False, date_format="iso", force_ascii=False,
                                                double_precision=15)
            for i in range(0, max(len(df), 1), CHUNK)] or ["{}"]


def _decode(chunks: list[str]) -> pd.DataFrame:
    frames = []
    for c in chunks:
        d = json.loads(c)
        frames.append(pd.DataFrame(d.get("data", []), columns=d.get("columns", [])))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for c in df.columns:  # whole-number columns stored as floats come back as nullable ints
        if c in ("rank", "rank_of", "prev_rank", "rank_change", "n_reported", "n_expected", "days_overdue", "id"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    return df


def freeze_period(engine: MetricsEngine, period: Period | str, user: str | None = None, note: str | None = None,
                  known_at: dt.datetime | None = None, force: bool = False) -> Freeze:
    """Freeze the period now (or as known at `known_at`); returns the new freeze (a period may be refrozen).

    A period short of county reports is frozen only with `force` (the page's confirmation, the CLI's
    --force): otherwise IncompleteFreeze says how many are in and which are not."""
    p = engine.resolve_period(period)
    at = (known_at or dt.datetime.now()).replace(microsecond=0)
    tables = pack_tables(engine, p, at)
    if tables["bulk"]["value"].notna().sum() == 0:
        raise FreezeError(f"no figures for {p.label} as known at {at:%Y-%m-%d %H:%M:%S}: nothing to freeze")
    cov = coverage_of(tables["bulk"])
    if not cov["complete"] and not force:
        names = [engine.geo.get(c).name_zh for c in cov["not_reported"]]
        shown = "、".join(names[:12]) + (f" 等{len(names)}个" if len(names) > 12 else "")
        due = "未到报送截止日" if cov["pending"] else f"其中逾期未报 {len(cov['overdue'])} 个"
        raise IncompleteFreeze(
            f"{p.label} 数据未齐：{cov['n_reported']}/{cov['n_expected']} 个区县已报（{due}）；未报：{shown}。"
            f" {p.label} is incomplete: {cov['n_reported']} of {cov['n_expected']} counties reported. "
            "Confirm to freeze it anyway (--force on the command line).", cov)
    demo = engine.store.is_demo()
    with engine.store.engine.begin() as conn:
        fid = int(conn.execute(freeze.insert().values(
            period=p.label, known_at=at, frozen_by=user, data_version=engine.data_version(), is_demo=demo,
            note=note)).inserted_primary_key[0])
        rows = [{"freeze_id": fid, "kind": kind, "seq": i, "payload": chunk}
                for kind, df in tables.items() for i, chunk in enumerate(_encode(df))]
        conn.execute(freeze_item.insert(), rows)
    return Freeze(fid, p.label, at, user, demo, note)


def _row(r) -> Freeze:
    return Freeze(int(r.id), r.period, pd.Timestamp(r.known_at).to_pydatetime(), r.frozen_by, bool(r.is_demo), r.note)


def list_freezes(engine: sa.Engine, period: str | None = None) -> list[Freeze]:
    """Newest first."""
    q = sa.select(freeze).order_by(freeze.c.id.desc())
    if period:
        q = q.where(freeze.c.period == period)
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(q)]


def get_freeze(engine: sa.Engine, freeze_id: int | None = None, period: str | None = None) -> Freeze:
    """A freeze by id, or the latest freeze of a period."""
    if freeze_id is not None:
        with engine.connect() as conn:
            r = conn.execute(sa.select(freeze).where(freeze.c.id == freeze_id)).first()
        if r is None:
            raise FreezeError(f"no freeze #{freeze_id}")
        return _row(r)
    found = list_freezes(engine, period)
    if not found:
        raise FreezeError(f"period {period} has not been frozen: `python -m pack freeze {period}` freezes it")
    return found[0]


def frozen_tables(engine: sa.Engine, freeze_id: int) -> dict[str, pd.DataFrame]:
    """The materialised tables of a freeze, as they were stored."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(freeze_item.c.kind, freeze_item.c.payload)
                            .where(freeze_item.c.freeze_id == freeze_id)
                            .order_by(freeze_item.c.kind, freeze_item.c.seq)).all()
    by: dict[str, list[str]] = {}
    for kind, payload in rows:
        by.setdefault(kind, []).append(payload)
    return {k: _decode(v) for k, v in by.items()}


def unpacked_freezes(engine: sa.Engine) -> list[Freeze]:
    """Freezes without any generated pack file, newest first (the scheduler's work list)."""
    with engine.connect() as conn:
        done = {r[0] for r in conn.execute(sa.select(pack_file.c.freeze_id).where(pack_file.c.freeze_id.is_not(None)))}
    return [f for f in list_freezes(engine) if f.id not in done]


def record_pack_file(engine: sa.Engine, freeze_id: int | None, period: str, lang: str, fmt: str, path: str,
                     n_bytes: int, seconds: float, user: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(pack_file.insert().values(
            freeze_id=freeze_id, period=period, lang=lang, format=fmt, path=path, n_bytes=n_bytes,
            seconds=round(seconds, 3), generated_at=dt.datetime.now().replace(microsecond=0), generated_by=user))


def pack_files(engine: sa.Engine, freeze_id: int | None = None) -> pd.DataFrame:
    q = sa.select(pack_file).order_by(pack_file.c.id.desc())
    if freeze_id is not None:
        q = q.where(pack_file.c.freeze_id == freeze_id)
    with engine.connect() as conn:
        return pd.read_sql(q, conn)


# -- what changed since ---------------------------------------------------------------------------
CHANGE_COLUMNS = ["kpi", "region", "level", "frozen_value", "current_value", "frozen_rank", "current_rank",
                  "frozen_status", "current_status", "batches", "rolled_back"]


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    a, b = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    both = a.notna() & b.notna()
    close = np.isclose(a.fillna(0).to_numpy(float), b.fillna(0).to_numpy(float), rtol=1e-9, atol=1e-12)
    return ((both & close) | (a.isna() & b.isna())).to_numpy()


def changed_since_freeze(engine: MetricsEngine, fz: Freeze) -> pd.DataFrame:
    """The KPI figures of the frozen period that moved after the freeze, each with the batches that moved it.

    Only what happened after the freeze counts: batches committed after it (new reports, corrections)
    and rolled-back batches (a rollback before the freeze was already out of the frozen figures, so it
    moves nothing). The candidates are the figures those batches touch — their measures, the period's
    months, the reporting regions and every group holding them — and a candidate is listed when its
    live value (as known now) differs from the frozen one. Nothing else is compared: a frozen figure
    and the live one are the same computation as known at two moments, so right after a freeze the
    list is empty, and a due date passing (a report turning from pending to overdue) is not a change."""
    p = engine.resolve_period(fz.period)
    touched = _touching_batches(engine, p, fz.known_at)
    if touched.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    geo, cat = engine.geo, engine.catalogue
    holders: dict[str, set[str]] = {}  # reporting region -> itself and the groups holding it at the period's end
    for g in [c for c, r in geo.regions.items() if r.level in ("province", "city", "group")]:
        if geo.get(g).level == "group" and not geo.group_valid_on(g, p.end):
            continue
        for member in geo.members(g, p.end, "county"):
            holders.setdefault(member, {member}).add(g)
    cand: set[tuple[str, str]] = set()
    by_measure: dict[str, set[str]] = {}
    for region, measure in touched[["region_code", "measure_code"]].drop_duplicates().itertuples(index=False):
        by_measure.setdefault(measure, set()).update(holders.get(region, {region}))
    for k in cat.kpis:
        for ms in k.measures:
            cand.update((k.code, r) for r in by_measure.get(ms, ()))
    if not cand:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    keys = pd.DataFrame(sorted(cand), columns=["kpi", "region"])
    frozen = frozen_tables(engine.store.engine, fz.id)["bulk"]
    now = engine.bulk(p)[BULK_COLUMNS]
    m = keys.merge(frozen, on=["kpi", "region"], how="left").merge(now, on=["kpi", "region"], how="left",
                                                                     suffixes=("_f", "_c"))
    diff = m[~_same(m["value_f"], m["value_c"])].copy()
    if diff.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    diff["level"] = diff["level_f"].fillna(diff["level_c"])
    level_of = {ms.code: ms.level for ms in cat.measures}
    batches, rolled = [], []
    for kpi, region in zip(diff["kpi"], diff["region"], strict=True):
        k = cat.kpi(kpi)
        lv = level_of[k.measures[0]]
        members = {region} if geo.get(region).level == lv else set(geo.members(region, p.end, lv))
        hit = touched[touched["measure_code"].isin(list(k.measures)) & touched["region_code"].isin(members)]
        batches.append(sorted({int(b) for b in hit["batch_id"]}))
        rolled.append(sorted({int(b) for b in hit.loc[hit["status"] != "committed", "batch_id"]}))
    diff["batches"], diff["rolled_back"] = batches, rolled
    out = diff.rename(columns={"value_f": "frozen_value", "value_c": "current_value", "rank_f": "frozen_rank",
                               "rank_c": "current_rank", "status_f": "frozen_status", "status_c": "current_status"})
    order = {"province": 0, "city": 1, "county": 2}
    out["_o"] = out["level"].map(order).fillna(3)
    return out.sort_values(["kpi", "_o", "region"])[CHANGE_COLUMNS].reset_index(drop=True)


def _touching_batches(engine: MetricsEngine, p: Period, after: dt.datetime) -> pd.DataFrame:
    """(batch, status, region, measure) of the period's rows in batches committed after `after` and up
    to now (as known now: a batch stamped later has not arrived), or rolled back."""
    now = dt.datetime.now()
    b = import_batch
    q = (sa.select(observation.c.batch_id, b.c.status, observation.c.region_code, observation.c.measure_code)
         .distinct().join(b, b.c.id == observation.c.batch_id)
         .where(sa.or_(sa.and_(b.c.status == "committed", b.c.committed_at > after, b.c.committed_at <= now),
                       b.c.status == "rolled_back"),
                observation.c.obs_date >= p.start, observation.c.obs_date <= p.end))
    with engine.store.engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["batch_id", "status", "region_code", "measure_code"])
        ids = sorted({int(i) for i in df.loc[df["status"] == "rolled_back", "batch_id"]})
        notes = dict(conn.execute(sa.select(b.c.id, b.c.note).where(b.c.id.in_(ids))).all()) if ids else {}
    # the rollback's moment is stamped in the batch note; a rollback before the freeze moved nothing since
    before = {i for i, note in notes.items() if (at := _rolled_back_at(note)) is not None and at <= after}
    return df[~df["batch_id"].isin(before)].reset_index(drop=True)


def _rolled_back_at(note: str | None) -> dt.datetime | None:
    found = re.findall(r"rolled back by .*? at (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})", note or "")
    return dt.datetime.fromisoformat(found[-1]) if found else None


def changes_csv(changes: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel), batch lists joined, text cells neutralised against formula injection."""
    buf = io.StringIO()
    neutralise_frame(for_download(changes)).to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8-sig")
