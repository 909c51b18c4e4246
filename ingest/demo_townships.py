"""Township-scale demo data: the grassroots KPIs' measures per township (乡镇街道) per month.

Opt-in (`python -m ingest.first_start --townships`, COCKPIT_DEMO_TOWNSHIPS=1, or
`python -m ingest.demo_townships` on an existing demo database), because it adds ~1,360
townships x 10 measures x every month (about a million rows for the six-year history) and the
default first start must stay fast.

The county figures stay what the county reported; each county's monthly value is *split* over
its townships so that the county is exactly the aggregation of its townships, measure by measure
(sums, hence Σnumerator ÷ Σdenominator for every ratio):

- a base count (events received, calls, ratings) is a multinomial split of the county's count
  with weights by township population and a persistent activity effect;
- a count that is a subset of another (events disposed ⊂ received, answered ⊂ calls) is split so
  that each township's part never exceeds its own base, with a persistent township effect on the
  rate (so township league tables mean something) and small townships noisier, as real ones are.

Township rows travel in the batch that brought the county's row (the county report carries its
townships' breakdown), so corrections, rollbacks and "as known at" work for them unchanged.
Townships and their figures are synthetic and labelled demo wherever they are shown.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import sqlalchemy as sa

from metrics.catalogue import Catalogue
from metrics.catalogue import catalogue as default_catalogue
from metrics.geography import Geography, geography
from metrics.townships import township_measures
from store import Store
from store.db import database_url
from store.schema import import_batch, observation, region

META_KEY = "demo_townships"


def _ordered(catalogue: Catalogue, measures: list[str]) -> list[tuple[str, str | None]]:
    """(measure, base) with bases first; base is the measure it is a subset of, when also split."""
    spec = {m: catalogue.measure(m).demo for m in measures}
    base = {m: (s.of if s is not None and s.kind == "share" and s.of in spec else None) for m, s in spec.items()}
    done: list[tuple[str, str | None]] = []
    pending = list(measures)
    while pending:
        nxt = [m for m in pending if base[m] is None or base[m] in {d for d, _ in done}]
        if not nxt:
            raise ValueError(f"township measures form a cycle: {pending}")
        done += [(m, base[m]) for m in nxt]
        pending = [m for m in pending if m not in nxt]
    return done


def _safe_p(w: np.ndarray) -> np.ndarray:
    """Row-normalised probabilities; a row of zeros becomes uniform (it draws nothing anyway)."""
    s = w.sum(axis=1, keepdims=True)
    return np.where(s > 0, w / np.where(s > 0, s, 1), 1.0 / w.shape[1])


def _capped_split(rng: np.random.Generator, total: np.ndarray, base: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """Split `total[g]` over townships, never above `base[g, i]`; sums exact.

    Each township's expected rate is the county's rate shifted by its persistent `effect` on the
    logit scale (so rates spread around the county's, not piled up at 100%).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.clip(total / base.sum(axis=1), 1e-6, 1 - 1e-6)
    rate = 1 / (1 + np.exp(-(np.log(rate / (1 - rate))[:, None] + effect[None, :])))
    n = rng.multinomial(total, _safe_p(base * rate))
    for _ in range(100):
        over = np.maximum(n - base, 0)
        excess = over.sum(axis=1)
        if not excess.any():
            break
        n = n - over
        n = n + rng.multinomial(excess, _safe_p((base - n).clip(min=0).astype(float)))
    return n


def split_counties(rows: pd.DataFrame, catalogue: Catalogue, geo: Geography, seed: int = 2021) -> pd.DataFrame:
    """Township rows (same columns as `rows`) whose sums per batch, date and measure equal the county's.

    `rows`: batch_id, region_code (a county), measure_code, obs_date, value, is_current, for the
    township measures. Deterministic for a seed.
    """
    cols = ["batch_id", "region_code", "measure_code", "obs_date", "value", "is_current"]
    measures = sorted(set(rows["measure_code"]))
    if rows.empty:
        return pd.DataFrame(columns=cols)
    order = _ordered(catalogue, measures)
    # one pivot for all counties: rows (county, batch, date, current) x measures, sorted by county
    wide = rows.pivot_table(index=["region_code", "batch_id", "obs_date", "is_current"], columns="measure_code",
                            values="value", aggfunc="first").sort_index()
    keys = wide.index.to_frame(index=False)
    region_of = keys["region_code"].to_numpy()
    parts: dict[str, list[np.ndarray]] = {c: [] for c in cols}
    for ci, county in enumerate(sorted(set(region_of))):
        towns = geo.townships_of(county)
        if not towns:
            continue
        lo, hi = np.searchsorted(region_of, county, "left"), np.searchsorted(region_of, county, "right")
        rng = np.random.default_rng([seed, ci])
        k = len(towns)
        pop = np.array([geo.get(t).population or 1 for t in towns], dtype=float)
        activity = pop * rng.lognormal(0.0, 0.25, size=k)
        split: dict[str, np.ndarray] = {}
        for m, base in order:
            if m not in wide:
                continue
            v = wide[m].to_numpy(dtype=float)[lo:hi]
            have = ~np.isnan(v)
            total = np.rint(np.nan_to_num(v)).astype(np.int64)
            if base is not None and base in split:
                effect = rng.normal(0.0, 0.45, size=k)
                b = split[base]
                n = _capped_split(rng, np.minimum(total, b.sum(axis=1)), b, effect)
                n[:, 0] += total - n.sum(axis=1)  # only where the county's own figures break the subset rule
            else:
                weights = activity * rng.lognormal(0.0, 0.08, size=k)
                n = rng.multinomial(total, weights / weights.sum())
            split[m] = n
            g = int(have.sum())
            sel = keys.iloc[lo:hi][have]
            parts["batch_id"].append(np.repeat(sel["batch_id"].to_numpy(), k))
            parts["region_code"].append(np.tile(np.asarray(towns, dtype=object), g))
            parts["measure_code"].append(np.full(g * k, m, dtype=object))
            parts["obs_date"].append(np.repeat(sel["obs_date"].to_numpy(), k))
            parts["value"].append(n[have].reshape(-1).astype(float))
            parts["is_current"].append(np.repeat(sel["is_current"].to_numpy(dtype=bool), k))
    if not parts["value"]:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({c: np.concatenate(parts[c]) for c in cols})


def township_records(geo: Geography) -> list[dict]:
    """Region-table rows of the township register."""
    return [
        dict(code=r.code, level="township", parent_code=r.parent_code, name_zh=r.name_zh, name_en=r.name_en,
             type_zh=r.type_zh, population=r.population, population_source=r.population_source,
             valid_from=None, valid_to=None)
        for r in (geo.townships[c] for c in sorted(geo.townships))
    ]


def has_townships(store: Store) -> bool:
    return store.get_meta(META_KEY, "0") == "1"


def add_townships(
    store: Store, seed: int = 2021, catalogue: Catalogue | None = None, geo: Geography | None = None,
) -> dict[str, float | int]:
    """Add the township breakdown of every county report to the demo database at `store`.

    One transaction: township regions, their observations (in the county batches), the rollups of
    the touched months and the data version. Running it again replaces the township rows.
    """
    cat, geo = catalogue or default_catalogue(), geo or geography()
    measures = township_measures(cat)
    t0 = time.perf_counter()
    o = observation
    with store.engine.connect() as conn:
        q = sa.select(o.c.batch_id, o.c.region_code, o.c.measure_code, o.c.obs_date, o.c.value, o.c.is_current).where(
            o.c.measure_code.in_(measures), o.c.region_code.in_(geo.counties))
        rows = pd.DataFrame(conn.execute(q).all(), columns=["batch_id", "region_code", "measure_code", "obs_date",
                                                            "value", "is_current"])
    rows["obs_date"] = pd.to_datetime(rows["obs_date"]).dt.date
    rows["is_current"] = rows["is_current"].astype(bool)
    towns = split_counties(rows, cat, geo, seed)
    t1 = time.perf_counter()
    touched = {m: set(measures) for m in {d.replace(day=1) for d in rows["obs_date"]}}
    per_batch = towns.groupby("batch_id").size() if len(towns) else pd.Series(dtype=int)
    with store.engine.begin() as conn:
        conn.execute(o.delete().where(o.c.measure_code.in_(measures),
                                      o.c.region_code.in_(sorted(geo.townships))))
        conn.execute(region.delete().where(region.c.level == "township"))
        conn.execute(region.insert(), township_records(geo))
        store.insert_observations(conn, towns)
        store.refresh_rollups(conn, touched)
        if len(per_batch):
            b = import_batch
            conn.execute(
                b.update().where(b.c.id == sa.bindparam("bid")).values(n_rows=b.c.n_rows + sa.bindparam("k")),
                [{"bid": int(i), "k": int(n)} for i, n in per_batch.items()],
            )
        store.set_meta(conn, META_KEY, "1")
        store._bump_version(conn)
    t2 = time.perf_counter()
    return {"townships": len(geo.townships), "rows": len(towns), "split_s": round(t1 - t0, 3),
            "load_s": round(t2 - t1, 3)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Add the township breakdown (demo) to the demo database")
    ap.add_argument("--seed", type=int, default=2021)
    args = ap.parse_args(argv)
    store = Store(database_url())
    if not store.is_demo():
        raise SystemExit("refusing: the township breakdown is demo data and this database is not a demo database")
    stats = add_townships(store, seed=args.seed)
    print(f"» {stats['townships']:,} townships (演示数据 / demo), {stats['rows']:,} township observations, "
          f"split {stats['split_s']} s, load {stats['load_s']} s")


if __name__ == "__main__":
    main()
