"""Import benchmark: a month of county reports (90 filled templates) and a 1-million-row daily feed.

Both go through the same core as the CLI and the app (`ingest.importer.import_bytes`): sniff,
parse, validate every row (regions, measures, periods, values, duplicates, ratio pairs, stocks,
history and peer plausibility), preview against the store, then one atomic `write_batch`.
Goal: the million rows validated and committed in under 60 s on SQLite.

The feed is three day-grain measures (zlb_active_users, zzd_active_users, credit_calls) for the
90 counties from 2016-01-01 to yesterday (about 1.07M rows); rows that the geography forbids
(余杭/临平 before the 2021 split, 苍南/龙港 before 2019) are left out, as a real feed would have
them split already. Feeds may reach back to 2016; county reports to 2021.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.importer import ImportOptions, import_bytes
from ingest.templates import fill_template, reported_measures, sample_report, template_bytes
from metrics.geography import geography
from metrics.periods import add_months
from store import Store
from store.store import Batch

FEED_MEASURES = {"zlb_active_users": 300.0, "zzd_active_users": 90.0, "credit_calls": 25.0}  # per 10k residents/day
FEED_START = dt.date(2016, 1, 1)


def _store(path: Path) -> Store:
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.sync_reference(geography())
    return store


def feed_csv(end: dt.date, seed: int = 1, corrected: float = 0.0) -> tuple[bytes, int]:
    """The long-format feed CSV (region_code,date,measure,value) and its number of rows.

    `corrected`: the share of values restated (+5 %), for a re-sent feed with corrections.
    """
    geo = geography()
    days = pd.date_range(FEED_START, end, freq="D").date
    counties = geo.counties
    pop = np.array([geo.get(c).population for c in counties], dtype=float) / 1e4
    rng = np.random.default_rng(seed)
    weekday = np.array([0.8 if d.weekday() >= 5 else 1.0 for d in days])
    parts = []
    for m, rate in FEED_MEASURES.items():
        lam = pop[:, None] * rate * weekday[None, :]
        vals = rng.poisson(lam)
        parts.append(pd.DataFrame({"region_code": np.repeat(counties, len(days)),
                                   "date": np.tile(days, len(counties)), "measure": m,
                                   "value": vals.reshape(-1)}))
    df = pd.concat(parts, ignore_index=True)
    keep = np.ones(len(df), dtype=bool)
    for ch in geo.code_changes.values():
        if ch.kind == "split":
            keep &= ~(df["region_code"].isin(ch.new_codes) & (df["date"] < ch.valid_until)).to_numpy()
    df = df[keep]
    if corrected:
        fix = np.random.default_rng(seed + 1).random(len(df)) < corrected
        df.loc[fix, "value"] = np.ceil(df.loc[fix, "value"] * 1.05 + 1).astype(int)
    return df.to_csv(index=False).encode(), len(df)


def month_of_reports(store: Store, month: str, today: dt.date) -> dict:
    """Import every county's filled template for `month`; the month before is already stored."""
    geo = geography()
    prev = f"{add_months(dt.date.fromisoformat(month + '-01'), -1):%Y-%m}"
    frames = [pd.DataFrame({"region_code": c, "measure_code": list(v), "obs_date": dt.date.fromisoformat(prev + "-01"),
                            "value": list(v.values())})
              for c in geo.counties for v in [sample_report(c, prev)]]
    store.write_batch(Batch(source="demo", note="bench: previous month"), pd.concat(frames, ignore_index=True))
    files = {c: fill_template(template_bytes(c, month), sample_report(c, month)) for c in geo.counties}
    opts = ImportOptions(today=today)
    times, rows, warnings = [], 0, 0
    t0 = time.perf_counter()
    for c, data in files.items():
        t = time.perf_counter()
        rep = import_bytes(data, f"{c}_{month}.xlsx", store, as_county=c, user="bench", options=opts)
        times.append(time.perf_counter() - t)
        if not rep.committed:
            raise RuntimeError(f"{c}: {rep.messages()[:3]}")
        rows += sum(rep.counts().values())
        warnings += len(rep.warnings)
    total = time.perf_counter() - t0
    return {"files": len(files), "rows": rows, "seconds": total, "median_file_s": statistics.median(times),
            "max_file_s": max(times), "warnings": warnings}


def daily_feed(store: Store, today: dt.date, corrected: float = 0.0) -> dict:
    data, n = feed_csv(today - dt.timedelta(days=1), corrected=corrected)
    opts = ImportOptions(today=today, feed=True, max_bytes=128 * 2**20)
    t = time.perf_counter()
    rep = import_bytes(data, "platform_feed.csv", store, user="feed", options=opts)
    total = time.perf_counter() - t
    if not rep.committed:
        raise RuntimeError(f"feed refused: {rep.messages()[:3]}")
    return {"rows": n, "mb": len(data) / 2**20, "seconds": total, **rep.timings, "warnings": len(rep.warnings),
            **rep.counts()}


def run() -> dict:
    today = dt.date.today()
    month = f"{add_months(today.replace(day=1), -1):%Y-%m}"
    with tempfile.TemporaryDirectory() as tmp:
        store = _store(Path(tmp) / "bench_import.sqlite")
        m = month_of_reports(store, month, today)
        print(f"month of reports ({month}): {m['files']} county templates x {len(reported_measures())} measures = "
              f"{m['rows']:,} values in {m['seconds']:.1f} s ({m['rows'] / m['seconds']:,.0f} rows/s; "
              f"median {m['median_file_s'] * 1000:.0f} ms per file, max {m['max_file_s'] * 1000:.0f} ms; "
              f"{m['warnings']} warnings)")
        f = daily_feed(store, today)
        print(f"daily feed: {f['rows']:,} rows ({f['mb']:.1f} MB CSV, 3 day measures x 90 counties x "
              f"{FEED_START}..yesterday) validated and committed in {f['seconds']:.1f} s "
              f"({f['rows'] / f['seconds']:,.0f} rows/s): read {f['read_s']:.1f} s, validate {f['validate_s']:.1f} s, "
              f"preview {f['preview_s']:.1f} s, commit {f['commit_s']:.1f} s; {f['warnings']} warnings; "
              f"goal < 60 s: {'met' if f['seconds'] < 60 else 'NOT met'}")
        r = daily_feed(store, today, corrected=0.01)
        print(f"the same feed re-sent with 1 % corrected: {r['rows']:,} rows checked against the full store, "
              f"{r['changed']:,} changed values committed as a new batch in {r['seconds']:.1f} s "
              f"({r['rows'] / r['seconds']:,.0f} rows/s): read {r['read_s']:.1f} s, validate {r['validate_s']:.1f} s, "
              f"preview {r['preview_s']:.1f} s, commit {r['commit_s']:.1f} s")
        store.engine.dispose()
    return {"month": m, "feed": f, "corrections": r}


if __name__ == "__main__":
    run()
