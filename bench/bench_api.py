"""API benchmark: one month of all KPIs x all regions pulled over /api/v1/values (JSON and CSV) next to
the engine's bulk() call for the same month, in one run on the province-scale demo.

"cold" = a fresh engine (empty caches); "warm" = the call again with no data change. The API is called
in process through its ASGI routes (token check, audit entry, ETag, serialisation: everything but the
socket), as a consuming system's repeated pull meets it. Target: the warm API pull costs at most 1.5x
the engine's bulk() call for the month.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

from api import inprocess
from bench.timing import demo_database, timed
from metrics.access import Reader
from metrics.engine import MetricsEngine
from metrics.geography import PROVINCE
from metrics.values import frame_json, to_csv, value_rows
from store import Store

DB = Path(os.environ.get("BENCH_API_DB", "/tmp/cockpit-bench-api.sqlite"))
TODAY = dt.date(2026, 11, 23)  # the demo history runs to 2026-10
TARGET = 1.5


def _get(app: Any, path: str, query: str, token: str) -> tuple[int, bytes]:
    status, _, body = inprocess.get(app, path, query, {"authorization": f"Bearer {token}"})
    return status, body


def run() -> dict:
    from starlette.routing import Router

    import api
    from api import service
    from auth import tokens

    url = demo_database(DB, TODAY)
    os.environ["DATABASE_URL"] = url
    store = Store(url)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    token = tokens.create(store, name, PROVINCE, 1, by="bench")
    service.LIMITER = service.Buckets(rate=1e6, burst=1e6)
    app = Router(routes=api.routes())

    colds, warms = [], []
    for _ in range(3):  # three fresh engines: cold is the median of three first calls
        eng = MetricsEngine(store)
        p = eng.latest_month()
        c, frame = timed(lambda eng=eng, p=p: eng.bulk(p))
        w, _ = timed(lambda eng=eng, p=p: eng.bulk(p), repeat=20)
        colds.append(c)
        warms.append(w)
    bulk_cold, bulk_warm = sorted(colds)[1], sorted(warms)[1]
    reader = Reader.for_code(eng, PROVINCE)
    rows_s, rows = timed(lambda: value_rows(reader, p), repeat=5)
    json_s, _ = timed(lambda: frame_json(rows), repeat=5)
    csv_s, _ = timed(lambda: to_csv(rows), repeat=5)

    query = f"period={p.label}"
    res: dict[str, float] = {}
    for fmt in ("json", "csv"):
        q = query + ("&format=csv" if fmt == "csv" else "")
        service.MEMO.clear()
        service.BODIES.clear()
        service._engines.clear()  # a fresh engine: the first pull computes the month
        first, (status, body) = timed(lambda q=q: _get(app, "/api/v1/values", q, token))
        assert status == 200, body[:300]
        service.BODIES.clear()  # the engine warm, the answer not yet serialised
        ser, _ = timed(lambda q=q: _get(app, "/api/v1/values", q, token))
        warm, (status, body) = timed(lambda q=q: _get(app, "/api/v1/values", q, token), repeat=20)
        res[f"{fmt}_first"], res[f"{fmt}_serialise"], res[f"{fmt}_warm"] = first, ser, warm
        res[f"{fmt}_bytes"] = len(body)
    tokens.revoke(store, name, by="bench")

    n = len(frame)
    print(f"one month ({p.label}): {n:,} rows (all KPIs x all regions)")
    print(f"{'call':<52}{'time':>12}")
    lines = [
        ("engine bulk(), cold (fresh engine)", bulk_cold),
        ("engine bulk(), warm (per-version cache)", bulk_warm),
        ("value rows (metrics bulk / API columns), warm engine", rows_s),
        ("  + JSON serialisation", json_s),
        ("  + CSV serialisation", csv_s),
        ("API JSON, first pull (fresh engine)", res["json_first"]),
        ("API JSON, engine warm, answer not cached", res["json_serialise"]),
        ("API JSON, repeated pull (answer cached)", res["json_warm"]),
        ("API CSV, first pull (fresh engine)", res["csv_first"]),
        ("API CSV, engine warm, answer not cached", res["csv_serialise"]),
        ("API CSV, repeated pull (answer cached)", res["csv_warm"]),
    ]
    for label, s in lines:
        print(f"{label:<52}{s * 1000:>9.1f} ms")
    for fmt in ("json", "csv"):
        ratio = res[f"{fmt}_warm"] / bulk_cold
        ok = "OK" if ratio <= TARGET else "OVER"
        print(f"API {fmt.upper()} repeated pull ÷ engine bulk() for the month: {ratio:.3f}× "
              f"(target ≤ {TARGET}×: {ok}); ÷ warm bulk(): {res[f'{fmt}_warm'] / bulk_warm:.1f}×; "
              f"{res[f'{fmt}_bytes'] / 1e6:.1f} MB")
    return {"bulk_cold": bulk_cold, "bulk_warm": bulk_warm, **res}


main = run

if __name__ == "__main__":
    run()
